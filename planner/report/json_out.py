"""The plan as stable JSON: same plan, same bytes (fields in schema order)."""

from __future__ import annotations

import json
from typing import Any

from planner.models.plan import Plan


def to_json(data: Plan | dict[str, Any]) -> str:
    payload = data.to_dict() if isinstance(data, Plan) else data
    return json.dumps(payload, indent=2, ensure_ascii=False, allow_nan=False, default=str) + "\n"

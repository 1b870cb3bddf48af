"""The plan as stable JSON: same plan, same bytes (fields in schema order)."""

from __future__ import annotations

import json
from typing import Any

from planner.models.plan import Plan

RUN_FACTS = ("solve_time_s", "wall_time_s", "workers")
"""How a run went rather than what it found: left out unless asked for, so the same input gives
the same bytes whatever the machine's speed or the worker count."""


def to_json(data: Plan | dict[str, Any], *, timing: bool = False) -> str:
    payload = data.to_dict() if isinstance(data, Plan) else data
    if isinstance(data, Plan) and not timing:
        payload["solver"] = {k: v for k, v in payload["solver"].items() if k not in RUN_FACTS}
    return json.dumps(payload, indent=2, ensure_ascii=False, allow_nan=False, default=str) + "\n"

"""compare() and frontier() frames as plain JSON-ready data (NaN becomes null)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from planner.report.tables import missing


def _plain(value: Any) -> Any:
    if missing(value):
        return None
    return value.item() if hasattr(value, "item") else value


def frame_data(frame: pd.DataFrame) -> dict[str, Any]:
    """Comparison: {…, options: [{name, metric: value}]}; frontier: {…, points: [{column: value}]}."""
    meta: dict[str, Any] = {str(k): v for k, v in frame.attrs.items() if k != "table"}
    if frame.attrs.get("table") == "comparison":
        options = [{"name": str(col), **{str(k): _plain(v) for k, v in frame[col].items()}} for col in frame.columns]
        return {**meta, "options": options}
    points = [{str(k): _plain(v) for k, v in row.items()} for _, row in frame.iterrows()]
    return {**meta, "points": points}

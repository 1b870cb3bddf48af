"""CSV: the raw figures, one table per file, for other tools (no display rounding)."""

from __future__ import annotations

import pandas as pd

from planner.models.plan import Plan


def to_csv(obj: Plan | pd.DataFrame) -> str:
    """A plan's line items, a comparison (metrics as rows, options as columns) or a frontier (a row per point)."""
    if isinstance(obj, Plan):
        return obj.to_frame().to_csv(index=False)
    if obj.attrs.get("table") == "comparison":
        return obj.to_csv(index=True)
    return obj.to_csv(index=False)

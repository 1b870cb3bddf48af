"""Reports in CNY: convert the money in a plan or frame, then relabel what says USD.

The planner works in USD throughout. For ``--currency CNY`` the numbers are converted at the
catalog's dated rate *before* a report is built (so charts, tables and key figures are built
from converted values), and the unit labels the builders wrote are then changed to match.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pandas as pd

from planner.models.plan import Plan
from planner.report.document import Report
from planner.report.money import Money
from planner.report.tables import Table

_COST_FIELDS = {"capex", "levy", "subsidy", "energy", "electricity_subsidy", "rental", "residual", "total"}
_LABEL = re.compile(r"\bUSD\b(?! per)")
"""'USD' as a unit label; 'CNY per USD' (the exchange rate) is left alone."""


def _scale(data: Any, fx: float, money_context: bool = False) -> Any:
    if isinstance(data, dict):
        unit_is_usd = data.get("unit") == "USD"
        out: dict[str, Any] = {}
        for key, value in data.items():
            is_money = key.endswith("_usd") or (money_context and key in _COST_FIELDS)
            if unit_is_usd and key in ("limit", "used", "slack"):
                is_money = True
            if is_money and isinstance(value, (int, float)) and not isinstance(value, bool):
                out[key] = value * fx
            elif key == "unit" and value == "USD":
                out[key] = "CNY"
            else:
                out[key] = _scale(value, fx, money_context=key in ("costs", "cash_flow"))
        return out
    if isinstance(data, list):
        return [_scale(item, fx, money_context) for item in data]
    return data


def plan_in(plan: Plan, money: Money) -> Plan:
    """A copy of the plan whose money figures are in ``money.currency``."""
    if money.currency == "USD":
        return plan
    return Plan.model_validate(_scale(plan.model_dump(), money.convert(1.0)))


def frame_in(frame: pd.DataFrame, money: Money) -> pd.DataFrame:
    """A copy of a compare() or frontier() frame with its *_usd rows or columns converted."""
    if money.currency == "USD":
        return frame
    fx = money.convert(1.0)
    out = frame.copy()
    out.attrs = dict(frame.attrs)
    for col in out.columns:
        if str(col).endswith("_usd"):
            out[col] = pd.to_numeric(out[col], errors="coerce") * fx
    for row in out.index:
        if str(row).endswith("_usd"):
            out.loc[row] = [
                v * fx if isinstance(v, (int, float)) and not isinstance(v, bool) else v for v in out.loc[row]
            ]
    return out


def _times(value: Any, fx: float) -> Any:
    return value * fx if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def _relabel(text: str, currency: str) -> str:
    return _LABEL.sub(currency, text)


def _table(t: Table, currency: str) -> Table:
    frame = t.frame.rename(
        columns=lambda c: _relabel(c, currency) if isinstance(c, str) else c,
        index=lambda i: _relabel(i, currency) if isinstance(i, str) else i,
    )
    kinds = {_relabel(k, currency): v for k, v in t.kinds.items()}
    row_kinds = {_relabel(k, currency): v for k, v in t.row_kinds.items()}
    note = _relabel(t.note, currency) if t.note else t.note
    return dataclasses.replace(
        t, title=_relabel(t.title, currency), frame=frame, kinds=kinds, row_kinds=row_kinds, note=note
    )


def relabel(rep: Report, money: Money) -> Report:
    """Change the report's unit labels to ``money.currency`` (its numbers must already be converted)."""
    if money.currency == "USD":
        return rep
    cur = money.currency
    return dataclasses.replace(
        rep,
        kpis=[(_relabel(k, cur), _relabel(v, cur)) for k, v in rep.kpis],
        charts=[(_relabel(c, cur), _relabel(svg, cur)) for c, svg in rep.charts],
        tables=[_table(t, cur) for t in rep.tables],
        currency=cur,
    )

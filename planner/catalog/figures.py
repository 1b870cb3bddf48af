"""Walk the sourced figures of catalog entries, and the date arithmetic provenance needs.

Every number in the catalog is a :class:`Sourced` value somewhere inside an entry. Commands
that show provenance, the as-of transformation and the tests all need "every figure with its
path", so the walk lives here once.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterator

from pydantic import BaseModel

from planner.models.base import Sourced, date_floor
from planner.models.catalog import Price

PRICE_FIELDS = ("price", "server_overhead.cost", "electricity_price")
"""Figures that are prices: they change with time, so they are re-dated by as-of and go stale."""


def iter_figures(obj: BaseModel, prefix: str = "") -> Iterator[tuple[str, Sourced]]:
    """Yield ``(dotted path, figure)`` for every Sourced value inside ``obj``, depth first."""
    for name in type(obj).model_fields:
        value = getattr(obj, name)
        path = f"{prefix}.{name}" if prefix else name
        yield from _walk(value, path)


def _walk(value: object, path: str) -> Iterator[tuple[str, Sourced]]:
    if isinstance(value, Sourced):
        yield path, value
    elif isinstance(value, BaseModel):
        yield from iter_figures(value, path)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk(item, f"{path}[{i}]")


def is_price(figure: Sourced) -> bool:
    return isinstance(figure, Price)


def date_ceil(value: str) -> dt.date:
    """The last day a partial date can mean (2025-12 -> 2025-12-31, 2025 -> 2025-12-31)."""
    parts = [int(p) for p in value.split("-")]
    if len(parts) == 1:
        return dt.date(parts[0], 12, 31)
    if len(parts) == 2:
        return dt.date(parts[0], parts[1], calendar.monthrange(parts[0], parts[1])[1])
    return dt.date(parts[0], parts[1], parts[2])


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` earlier (clamped to the month's end)."""
    total = day.year * 12 + day.month - 1 - months
    year, month = divmod(total, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def parse_day(value: str | dt.date) -> dt.date:
    """An as-of date from the command line or the API: a date, or YYYY[-MM[-DD]] (earliest day)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    try:
        return date_floor(text) if len(text) < 10 else dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"'{value}' is not a date (use YYYY-MM-DD)") from None

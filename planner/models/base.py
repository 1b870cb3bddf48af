"""Shared pydantic base and the sourced number every catalog figure is stored as."""

from __future__ import annotations

import datetime as dt
import re
import typing
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

Confidence = Literal["spec", "measured", "reported", "roadmap", "assumption", "derived"]
"""How far to trust a figure: a data sheet, a public benchmark, press/analyst, an announced
part, a planner assumption stated in the data, or arithmetic on other sourced figures."""

_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


class Strict(BaseModel):
    """Base for every input model: unknown fields are errors, numbers must be finite."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=False)

    @model_validator(mode="before")
    @classmethod
    def _no_booleans_as_numbers(cls, data: Any) -> Any:
        """YAML reads ``yes``/``true`` as a boolean and pydantic would take it as 1: refuse it."""
        if not isinstance(data, dict):
            return data
        for name, field in cls.model_fields.items():
            value = data.get(field.alias or name)
            items = value if isinstance(value, list | tuple) else [value]
            if any(isinstance(v, bool) for v in items) and _numeric(field.annotation):
                # the loader appends ctx['field'] to the error's location, so it names the line
                raise PydanticCustomError(
                    "bool_for_number", "expected a number, not true/false", {"field": field.alias or name}
                )
        return data
        items = value if isinstance(value, list | tuple) else [value]
        if any(isinstance(v, bool) for v in items):
            raise ValueError("expected a number, not true/false")
        return value


def _leaves(annotation: object) -> set[object]:
    args = typing.get_args(annotation)
    if not args:
        return {annotation}
    return set().union(*(_leaves(a) for a in args))


def _numeric(annotation: object) -> bool:
    """A number field (int, float, optional or in a list) that has no boolean or text form."""
    leaves = _leaves(annotation)
    return bool(leaves & {int, float}) and not leaves & {bool, str}


def normalise_date(value: object) -> str:
    """Accept YAML dates or 'YYYY', 'YYYY-MM', 'YYYY-MM-DD' strings; store as a string."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int) and 1990 <= value <= 2100:
        return str(value)
    if isinstance(value, str) and _DATE.match(value.strip()):
        try:
            date_floor(value.strip())
        except ValueError:
            raise ValueError(f"'{value.strip()}' is not a calendar date") from None
        return value.strip()
    raise ValueError("expected a date such as 2025-12-08, 2025-12 or 2025")


def date_floor(value: str) -> dt.date:
    """The earliest day a partial date can mean (2025-12 -> 2025-12-01)."""
    parts = [int(p) for p in value.split("-")]
    while len(parts) < 3:
        parts.append(1)
    return dt.date(parts[0], parts[1], parts[2])


class Alternative(Strict):
    """A value another source gives for the same quantity, kept for the record."""

    value: float | None
    source: str = Field(min_length=3)
    date: str
    confidence: Confidence
    note: str | None = None

    _date = field_validator("date", mode="before")(normalise_date)


class Sourced(Strict):
    """A number with its provenance. ``value: null`` means nothing public was found."""

    value: float | None
    source: str = Field(min_length=3, description="URL or document the figure comes from")
    date: str = Field(description="when the source published the figure (YYYY[-MM[-DD]])")
    confidence: Confidence
    note: str | None = None
    alternatives: list[Alternative] = Field(default_factory=list)

    _date = field_validator("date", mode="before")(normalise_date)

    @property
    def known(self) -> bool:
        return self.value is not None

    def require(self) -> float:
        if self.value is None:
            raise ValueError("value is not known")
        return self.value

"""Fleets and schedules: several workloads sharing one budget, sites and policies, over periods.

A single-workload file is the special case of one member and one period; the solver only ever
sees a :class:`Fleet`.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, PrivateAttr, field_validator, model_validator

from planner.models.base import Strict, normalise_date
from planner.models.catalog import Location, Match, Measure
from planner.models.workload import Constraints, ExistingUnits, JobSpec, Objective, Workload

MAX_REQUESTS_PER_S = 1e8
"""Demand after growth, per workload and period: beyond it the integer model would overflow."""


class Member(JobSpec):
    """One workload inside a fleet; budget, power, floors and policies are the fleet's."""

    start_period: int = Field(default=0, ge=0, le=1000, description="first period the workload runs")
    end_period: int | None = Field(default=None, ge=0, le=1000, description="last period (inference)")
    growth_per_period: float = Field(default=0.0, ge=-0.99, le=10, description="compound demand growth")
    growth: list[float] | None = Field(
        default=None, min_length=1, max_length=1000, description="demand multiplier per period (overrides)"
    )
    allowed_locations: list[Location] | None = None
    exclude: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _growth(self) -> Member:
        if self.growth is not None and any(g < 0 for g in self.growth):
            raise ValueError("growth multipliers must be non-negative")
        return self

    def demand_factor(self, period: int) -> float:
        """Demand multiplier in ``period`` (0 outside the workload's active periods)."""
        if period < self.start_period or (self.end_period is not None and period > self.end_period):
            return 0.0
        if self.growth is not None:
            return self.growth[min(period, len(self.growth) - 1)]
        return (1.0 + self.growth_per_period) ** (period - self.start_period)


class Periods(Strict):
    count: int = Field(default=1, ge=1, le=120)
    months: float = Field(default=3, gt=0, le=120)
    start: str = Field(default="2026-01-01", description="date the first period starts")

    _start = field_validator("start", mode="before")(normalise_date)


class Event(Strict):
    """A change from a date on: policies switched on/off, a levy rate, a domestic floor."""

    date: str
    policy_on: list[str] = Field(default_factory=list)
    policy_off: list[str] = Field(default_factory=list)
    levy_rate: float | None = Field(default=None, ge=0, le=2, description="new rate for every levy rule in force")
    domestic_share_min: float | None = Field(default=None, ge=0, le=1)
    note: str | None = None

    _date = field_validator("date", mode="before")(normalise_date)


class PriceTrend(Strict):
    """Prices of matched offers change by ``per_period`` (e.g. -0.05 = 5 % cheaper each period)."""

    match: Match
    per_period: float = Field(ge=-0.9, le=1.0)


class SupplyCap(Strict):
    """Units of matched offers obtainable per period (a list gives one cap per period)."""

    match: Match
    units_per_period: list[int] = Field(min_length=1)

    @field_validator("units_per_period")
    @classmethod
    def _non_negative(cls, v: list[int]) -> list[int]:
        if any(u < 0 or u > 1_000_000_000 for u in v):
            raise ValueError("caps must be between 0 and 1,000,000,000 units")
        return v


class Schedule(Strict):
    events: list[Event] = Field(default_factory=list)
    price_trends: list[PriceTrend] = Field(default_factory=list)
    supply: list[SupplyCap] = Field(default_factory=list)
    depreciation_years: float | None = Field(
        default=None,
        gt=0,
        le=30,
        description="straight-line life; when set, hardware still owned at the end is credited at book value",
    )


class Hedge(Strict):
    """If the matched parts are lost, the rest of the fleet must still serve this share of demand."""

    lose: Match
    serve_fraction: float = Field(gt=0, le=1)
    workloads: list[str] | None = Field(default=None, description="inference members covered (default: all)")


class Fleet(Strict):
    name: str = Field(min_length=1, max_length=200)
    description: str | None = None
    fleet: list[Member] = Field(min_length=1, max_length=5000)
    horizon_months: float = Field(default=36, gt=0, le=240)
    periods: Periods | None = None
    sites: list[str] | None = None
    energy_load_factor: float = Field(default=1.0, gt=0, le=1)
    constraints: Constraints = Field(default_factory=Constraints)
    existing_fleet: list[ExistingUnits] = Field(default_factory=list)
    schedule: Schedule = Field(default_factory=Schedule)
    hedge: Hedge | None = None
    objective: Objective = "min_tco"
    domestic_share_measures: list[Measure] | None = None

    _origin: Any = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _checks(self) -> Fleet:
        names = [m.name for m in self.fleet]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"workload names must be unique: {', '.join(dup)}")
        count = self.periods.count if self.periods else 1
        for m in self.fleet:
            if m.start_period >= count:
                raise ValueError(f"workload '{m.name}' starts in period {m.start_period}; there are {count}")
            if m.traffic is not None:
                peak = max(m.traffic.requests_per_s * m.demand_factor(t) for t in range(count))
                if peak > MAX_REQUESTS_PER_S:
                    raise ValueError(
                        f"workload '{m.name}' grows to {peak:.3g} requests/s; the planner handles "
                        f"up to {MAX_REQUESTS_PER_S:,.0f}"
                    )
        if self.objective == "max_throughput":
            raise ValueError("objective max_throughput applies to single inference workloads, not fleets")
        if self.hedge is not None and self.hedge.workloads:
            unknown = sorted(set(self.hedge.workloads) - set(names))
            if unknown:
                raise ValueError(f"hedge names unknown workloads: {', '.join(unknown)}")
            training = sorted(m.name for m in self.fleet if m.name in self.hedge.workloads and m.kind != "inference")
            if training:
                raise ValueError(f"a hedge covers serving workloads only; {', '.join(training)} is training")
        return self

    @property
    def period_list(self) -> Periods:
        if self.periods is not None:
            return self.periods
        return Periods(count=1, months=self.horizon_months, start="2026-01-01")

    @classmethod
    def from_workload(cls, w: Workload) -> Fleet:
        member = Member(**{name: getattr(w, name) for name in JobSpec.model_fields})
        fleet = cls.model_construct(
            name=w.name,
            description=w.description,
            fleet=[member],
            horizon_months=w.horizon_months,
            periods=None,
            sites=w.sites,
            energy_load_factor=w.energy_load_factor,
            constraints=w.constraints,
            existing_fleet=w.existing_fleet,
            schedule=Schedule(),
            hedge=None,
            objective=w.objective,
            domestic_share_measures=None,
        )
        fleet._origin = w._origin
        return fleet

"""The plan a solve returns: line items, totals, constraints, solver facts, warnings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    import pandas as pd

Status = Literal["OPTIMAL", "FEASIBLE", "INFEASIBLE", "NO_SOLUTION", "MODEL_INVALID"]


class Out(BaseModel):
    """Output models: strict like the inputs, serialised in a stable field order."""

    model_config = ConfigDict(extra="forbid")


class CostLines(Out):
    """Money in USD over the plan's horizon (training: over the run)."""

    capex: float = 0.0
    levy: float = 0.0
    subsidy: float = 0.0
    energy: float = 0.0
    electricity_subsidy: float = 0.0
    rental: float = 0.0
    residual: float = Field(default=0.0, description="book value credited at the horizon's end")

    @property
    def total(self) -> float:
        return (
            self.capex + self.levy - self.subsidy + self.energy - self.electricity_subsidy + self.rental - self.residual
        )

    def __add__(self, other: CostLines) -> CostLines:
        return CostLines(**{k: getattr(self, k) + getattr(other, k) for k in CostLines.model_fields})


class LineItem(Out):
    period: int = 0
    workload: str | None = Field(default=None, description="the job these units serve (None: idle or on order)")
    offer: str
    accelerator: str
    accelerator_name: str
    vendor: str
    origin: Literal["domestic", "foreign"]
    mode: Literal["purchase", "rental"]
    location: Literal["onshore", "offshore"]
    site: str
    unit_kind: str
    devices_per_unit: int
    existing_units: int
    new_units: int
    carried_units: int = Field(default=0, description="bought in an earlier period")
    units: int
    devices: int
    role: str = Field(description="'replicas', 'training pool', 'idle' or 'on order'")
    tp: int | None = None
    pp: int | None = None
    devices_per_replica: int | None = None
    replicas: int | None = None
    batch_per_replica: int | None = None
    requests_per_s: float = 0.0
    output_tokens_per_s: float = 0.0
    training_days: float | None = None
    power_kw: float = 0.0
    costs: CostLines = Field(default_factory=CostLines)
    total_usd: float = 0.0


class HedgeLine(Out):
    """The hedge's loss scenario: surviving units of one offer at one site re-allocated to a workload."""

    period: int
    workload: str
    offer: str
    site: str
    accelerator: str
    units: int
    devices: int
    tp: int
    pp: int
    devices_per_replica: int
    replicas: int
    requests_per_s: float


class Totals(Out):
    tco_usd: float
    capex_usd: float
    levy_usd: float
    subsidy_usd: float
    energy_usd: float
    electricity_subsidy_usd: float
    rental_usd: float
    residual_usd: float = 0.0
    power_kw: float
    power_kw_by_site: dict[str, float]
    devices: int
    domestic_devices: int
    domestic_share: dict[str, float] = Field(
        description="by devices, compute, throughput, spend; over periods the lowest (what floors bind on)"
    )
    domestic_share_by_period: list[dict[str, float]] = Field(
        default_factory=list, description="schedules: the shares in each period (spend: the whole horizon)"
    )
    domestic_share_measure: str | None = None
    required_requests_per_s: float | None = None
    delivered_requests_per_s: float | None = None
    delivered_output_tokens_per_s: float | None = None
    training_days: float | None = None
    deadline_days: float | None = None
    currency_shown: str = "USD"
    fx_cny_per_usd: float | None = None


class ScheduleRow(Out):
    """What to buy or rent in one period, at which site, and what is then in service."""

    period: int
    start: str
    offer: str
    accelerator: str
    origin: str
    mode: str
    site: str
    new_units: int
    available_units: int
    devices_available: int


class CashFlowRow(Out):
    period: int
    start: str
    capex: float
    levy: float
    subsidy: float
    energy: float
    electricity_subsidy: float
    rental: float
    residual: float
    total: float


class WorkloadSummary(Out):
    name: str
    kind: str
    model: str
    required_requests_per_s_peak: float | None = None
    delivered_requests_per_s_min_ratio: float | None = None
    training_days: float | None = None
    deadline_days: float | None = None
    devices_peak: int = 0
    cost_usd: float = 0.0


class ConstraintRow(Out):
    name: str = Field(description="family:entity, e.g. power:ningxia-zhongwei")
    family: str
    description: str
    sense: Literal["<=", ">=", "=="]
    limit: float
    used: float
    slack: float
    unit: str
    binding: bool


NO_BOUND_WARNING = "interrupted before the full model was searched: no bound on the gap to the optimum"
"""The one case a FEASIBLE plan has no gap: Ctrl-C stopped the run while only a shortlist model
(planner.solve.shortlist) had been searched, whose bound says nothing about the full model."""


class SolverInfo(Out):
    status: Status
    objective: str
    objective_unit: str
    objective_value: float | None = Field(description="stage-1 objective in integer-rounded units")
    best_bound: float | None
    gap: float | None
    solve_time_s: float
    wall_time_s: float
    time_limit_s: float
    workers: int = Field(
        description="worker threads the search used: one deterministic worker for models up to "
        "20,000 variables, else the requested count"
    )
    seed: int
    stages: list[str]
    variables: int
    constraints: int
    money_resolution_usd: float
    max_rounding_error_usd: float


class CoreMember(Out):
    """One constraint of a conflicting set, in words."""

    name: str = Field(description="family:entity, as in Explanation.core")
    family: str
    text: str


class Repair(Out):
    """One change that, applied alone, gives a plan (checked by re-planning with it)."""

    constraint: str = Field(description="the core member it changes")
    action: Literal["raise", "lower", "remove", "add"]
    current: float | None = None
    required: float | None = Field(
        default=None, description="the value to move the limit to, in ``unit`` (see ``least``)"
    )
    unit: str = ""
    text: str
    workload_edits: list[dict[str, Any]] = Field(
        default_factory=list, description="{path, value} pairs to set in the workload file"
    )
    catalog_override: dict[str, Any] | None = Field(
        default=None, description="{target, set} for an ``overrides:`` entry in a catalog file"
    )
    verified: bool = Field(default=False, description="re-planned with the change applied: a plan exists")
    least: bool = Field(
        default=True,
        description="the change is proven the least that restores a plan (the smallest raise, the "
        "smallest cut of a floor); false: it does restore one, but a search stopped at its time limit "
        "before proving that no smaller change does",
    )


class Explanation(Out):
    """Why no plan exists: a minimal set of constraints that cannot all hold."""

    summary: str
    core: list[str] = Field(default_factory=list)
    details: list[str] = Field(default_factory=list)
    repairs: list[dict[str, Any]] = Field(default_factory=list, description="Repair objects (see Repair)")
    members: list[CoreMember] = Field(default_factory=list, description="the core, one phrase per member")
    minimal: bool = Field(
        default=True,
        description="false when a time limit or Ctrl-C stopped a check: some members may not be needed",
    )
    interrupted: bool = Field(
        default=False, description="Ctrl-C stopped the explanation: later checks and repairs were skipped"
    )

    def caveats(self) -> list[str]:
        """What the reader must know when the explanation did not finish."""
        out = []
        if not self.minimal:
            out.append("not shown minimal: a check was stopped (time limit or Ctrl-C), so some may not be needed")
        if self.interrupted:
            out.append("Ctrl-C stopped the explanation: later checks and repairs were skipped")
        return out


class Marginal(Out):
    """What moving one binding limit by one step is worth (re-solved, not a dual estimate)."""

    constraint: str
    description: str
    limit: float
    moved_to: float
    unit: str
    step: str = Field(description="e.g. '+10 %'")
    status: Status
    objective_value: float | None = None
    gain: float | None = Field(default=None, description="objective improvement (saved USD for min_tco); >= 0")
    text: str


class PolicyPrice(Out):
    """What one policy, ban or floor costs: the optimum with it minus the optimum without it."""

    constraint: str
    description: str
    status_without: Status
    objective_without: float | None = None
    price: float | None = Field(default=None, description="objective lost to the constraint; >= 0")
    text: str


class Sensitivity(Out):
    objective: str
    unit: str
    objective_value: float
    marginals: list[Marginal] = Field(default_factory=list)
    policy_prices: list[PolicyPrice] = Field(default_factory=list)


class WhatIf(Out):
    """This plan with parts forced in or excluded, against the plan without those changes."""

    forced: list[str] = Field(default_factory=list)
    excluded: list[str] = Field(default_factory=list)
    baseline_status: Status
    baseline_tco_usd: float | None = None
    tco_usd: float | None = None
    delta_usd: float | None = Field(default=None, description="this plan's TCO minus the baseline's")
    text: str


class Plan(Out):
    workload: str
    kind: Literal["training", "inference", "fleet"]
    model: str
    status: Status
    objective: str
    line_items: list[LineItem] = Field(default_factory=list)
    totals: Totals | None = None
    constraints: list[ConstraintRow] = Field(default_factory=list)
    solver: SolverInfo
    periods: int = 1
    workloads: list[WorkloadSummary] = Field(default_factory=list)
    schedule: list[ScheduleRow] = Field(default_factory=list)
    cash_flow: list[CashFlowRow] = Field(default_factory=list)
    hedge_premium_usd: float | None = Field(default=None, description="cost of the hedge over the unhedged plan")
    hedge_allocation: list[HedgeLine] = Field(
        default_factory=list, description="how the surviving units serve if the hedged parts are lost"
    )
    warnings: list[str] = Field(default_factory=list)
    assumptions: list[str] = Field(default_factory=list)
    sources: dict[str, str] = Field(default_factory=dict, description="figure -> source")
    explanation: Explanation | None = None
    sensitivity: Sensitivity | None = Field(default=None, description="marginal values and policy prices (--why)")
    what_if: WhatIf | None = Field(default=None, description="cost of --force / --exclude against the baseline")

    @property
    def ok(self) -> bool:
        return self.status in ("OPTIMAL", "FEASIBLE")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data in a stable order."""
        return self.model_dump(mode="json")

    def to_frame(self) -> pd.DataFrame:
        """Line items as a pandas DataFrame, one row per offer and site."""
        import pandas as pd

        rows = []
        for item in self.line_items:
            row = item.model_dump(exclude={"costs"})
            row.update({f"{k}_usd": v for k, v in item.costs.model_dump().items()})
            rows.append(row)
        return pd.DataFrame(rows)

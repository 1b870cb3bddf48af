"""The prepared problem: plain numbers the model builder loops over.

Everything here is computed before any CP-SAT object exists (validate and prepare first),
so the builder holds no logic beyond turning these numbers into constraints. A single
workload is the case of one :class:`Job` and one :class:`Period`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from planner.models.catalog import Measure
from planner.models.plan import CostLines
from planner.perf.inference import ReplicaShape
from planner.perf.training import TrainingPool


@dataclass(frozen=True)
class Period:
    index: int
    start: str
    months: float
    hours: float


@dataclass(frozen=True)
class Job:
    """One workload of the fleet, as the solver needs it."""

    name: str
    kind: str
    model: str
    required_rps: tuple[float, ...] = ()
    """Inference: requests/s to serve in each period (0 where the workload is not running)."""
    flops_per_request: float = 0.0
    deadline_days: float = 0.0
    start_period: int = 0


@dataclass(frozen=True)
class Group:
    """One offer at one site: the unit the buyer buys or rents (an integer decision per period)."""

    key: str
    offer: str
    accelerator: str
    accelerator_name: str
    vendor: str
    origin: str
    mode: str
    location: str
    region: str
    site: str
    unit_kind: str
    devices_per_unit: int
    existing_units: int
    peak_tflops_per_device: float
    power_kw_per_unit: float
    hosted: bool
    lag_periods: int
    """Purchases made in period t serve from period t + lag (lead time)."""
    unit_costs: tuple[CostLines, ...]
    """Per period: what one unit bought then costs (capex, levy, subsidy)."""
    energy_per_unit_hour: tuple[float, ...]
    electricity_subsidy_per_unit_hour: tuple[float, ...]
    rental_per_unit_hour: tuple[float, ...]
    bans: tuple[tuple[str, tuple[int, ...]], ...] = ()
    """(constraint name, periods) pairs forbidding new units here (policy:..., exclude:..., allow:...)."""


@dataclass(frozen=True)
class Candidate:
    """A way one group can serve one job: a block of replicas or a training pool."""

    key: str
    group: str
    job: str
    block_units: int
    block_devices: int
    block_replicas: int
    requests_per_s: float = 0.0
    """Per block (inference)."""
    shape: ReplicaShape | None = None
    pool: TrainingPool | None = None
    pool_units: int = 0
    hours: float = 0.0
    """Training: hours the pool runs (energy and rental are charged for these)."""
    periods: tuple[int, ...] = ()
    """Training: periods the run occupies its units in."""
    bans: tuple[str, ...] = ()
    """Constraints that forbid this candidate (residency for serving, cluster caps)."""


@dataclass(frozen=True)
class ShareFloor:
    name: str
    measure: Measure
    min_by_period: tuple[float, ...]
    description: str


@dataclass(frozen=True)
class UnitCap:
    name: str
    groups: tuple[str, ...]
    max_units: int
    description: str
    periods: tuple[int, ...] = ()
    """Periods the cap applies in, each separately (empty: the sum over all periods)."""


@dataclass(frozen=True)
class TieIn:
    name: str
    groups: tuple[str, ...]
    ratio: float
    description: str


@dataclass(frozen=True)
class PowerCap:
    name: str
    sites: tuple[str, ...]
    max_kw: float
    description: str


@dataclass(frozen=True)
class Force:
    """The plan must serve some workload on parts matching ``ident`` (constraints.force)."""

    name: str
    ident: str
    groups: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class HedgeSpec:
    name: str
    lost_groups: tuple[str, ...]
    serve_fraction: float
    jobs: tuple[str, ...]
    description: str


@dataclass
class Problem:
    objective: str
    periods: list[Period]
    jobs: dict[str, Job]
    groups: dict[str, Group]
    candidates: dict[str, Candidate]
    budget_total: float | None = None
    budget_capex: float | None = None
    power_caps: list[PowerCap] = field(default_factory=list)
    share_floors: list[ShareFloor] = field(default_factory=list)
    unit_caps: list[UnitCap] = field(default_factory=list)
    tie_ins: list[TieIn] = field(default_factory=list)
    hedge: HedgeSpec | None = None
    residual_fraction: dict[str, tuple[float, ...]] = field(default_factory=dict)
    """Group -> per purchase period, share of its capex still on the books at the horizon's end."""
    ban_reasons: dict[str, str] = field(default_factory=dict)
    """Constraint name -> what it forbids, in words."""
    cluster_caps: dict[str, int] = field(default_factory=dict)
    """``cluster:`` constraint name -> the most devices one replica or pool may span."""
    warnings: list[str] = field(default_factory=list)
    part_warnings: dict[str, set[str]] = field(default_factory=dict)
    """Accelerator id -> caveats of its estimates; shown only for parts the plan uses."""
    assumptions: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    """Offers dropped before modelling, with why (no price, model does not fit, ...)."""
    forced: list[Force] = field(default_factory=list)
    """Parts the plan must use (constraints.force), each its own constraint ``force:<id>``."""

    @property
    def kind(self) -> str:
        """'inference', 'training' or 'fleet' (mixed)."""
        kinds = {j.kind for j in self.jobs.values()}
        return kinds.pop() if len(kinds) == 1 else "fleet"

    @property
    def horizon_hours(self) -> float:
        return sum(p.hours for p in self.periods)

    def _index(self) -> tuple[dict[str, list[Candidate]], dict[str, list[Candidate]]]:
        """Candidates by group and by job, rebuilt when the candidate set changes size."""
        cached = self.__dict__.get("_idx")
        if cached is None or cached[0] != len(self.candidates):
            by_group: dict[str, list[Candidate]] = {}
            by_job: dict[str, list[Candidate]] = {}
            for key in sorted(self.candidates):
                c = self.candidates[key]
                by_group.setdefault(c.group, []).append(c)
                by_job.setdefault(c.job, []).append(c)
            cached = (len(self.candidates), by_group, by_job)
            self.__dict__["_idx"] = cached
        return cached[1], cached[2]

    def candidates_of(self, group_key: str) -> list[Candidate]:
        return self._index()[0].get(group_key, [])

    def candidates_for(self, job: str) -> list[Candidate]:
        return self._index()[1].get(job, [])

    def job_kind(self, c: Candidate) -> str:
        return self.jobs[c.job].kind

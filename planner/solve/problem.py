"""The prepared problem: plain numbers the model builder loops over.

Everything here is computed before any CP-SAT object exists (validate and prepare first),
so the builder holds no logic beyond turning these numbers into constraints.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from planner.models.catalog import Measure
from planner.models.plan import CostLines
from planner.perf.inference import ReplicaShape
from planner.perf.training import TrainingPool


@dataclass(frozen=True)
class Group:
    """One offer at one site: the unit the buyer buys or rents (an integer decision)."""

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
    max_new_units: int
    peak_tflops_per_device: float
    power_kw_per_unit: float
    hosted: bool
    costs_per_unit: CostLines
    """Inference: per unit over the horizon. Training: per unit bought (capex, levy, subsidy)."""
    energy_per_unit_hour: float
    electricity_subsidy_per_unit_hour: float
    rental_per_unit_hour: float
    bans: tuple[str, ...] = ()
    """Names of constraints that forbid new units here (policy:..., exclude:..., allow:...)."""


@dataclass(frozen=True)
class Candidate:
    """A way one group can serve the workload: a block of replicas or a training pool."""

    key: str
    group: str
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
    bans: tuple[str, ...] = ()
    """Constraints that forbid this candidate (residency for serving, cluster caps)."""


@dataclass(frozen=True)
class ShareFloor:
    name: str
    measure: Measure
    min: float
    description: str


@dataclass(frozen=True)
class UnitCap:
    name: str
    groups: tuple[str, ...]
    max_units: int
    description: str
    counts_existing: bool = False


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


@dataclass
class Problem:
    kind: str
    objective: str
    horizon_hours: float
    groups: dict[str, Group]
    candidates: dict[str, Candidate]
    required_rps: float = 0.0
    deadline_days: float = 0.0
    budget_total: float | None = None
    budget_capex: float | None = None
    power_caps: list[PowerCap] = field(default_factory=list)
    share_floors: list[ShareFloor] = field(default_factory=list)
    unit_caps: list[UnitCap] = field(default_factory=list)
    tie_ins: list[TieIn] = field(default_factory=list)
    ban_reasons: dict[str, str] = field(default_factory=dict)
    """Constraint name -> what it forbids, in words."""
    warnings: list[str] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    """Offers dropped before modelling, with why (no price, model does not fit, ...)."""

    def candidates_of(self, group_key: str) -> list[Candidate]:
        return [c for c in self.candidates.values() if c.group == group_key]

"""The workload file: what must run, and the constraints the buyer lives under."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, PrivateAttr, Tag, model_validator

from planner.models.base import Strict
from planner.models.catalog import Location, Measure, ModelArch, Origin, Precision

Objective = Literal["min_tco", "min_capex", "min_power", "max_throughput"]


class PresetRef(Strict):
    """Use a model from the catalog's presets (``plan catalog list --kind models``)."""

    preset: str


def _model_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "preset" if "preset" in value else "arch"
    return "preset" if isinstance(value, PresetRef) else "arch"


ModelRef = Annotated[
    Annotated[PresetRef, Tag("preset")] | Annotated[ModelArch, Tag("arch")],
    Discriminator(_model_kind),
]


class Traffic(Strict):
    requests_per_s: float = Field(gt=0, le=1e7)
    input_tokens: int = Field(ge=1, le=10_000_000)
    output_tokens: int = Field(ge=1, le=10_000_000)


class Slo(Strict):
    ttft_ms: float = Field(gt=0, le=3_600_000)
    tpot_ms: float = Field(gt=0, le=3_600_000)


class Parallelism(Strict):
    """A pinned parallel layout; dimensions left unset are chosen by the performance model.

    Training: tensor, pipeline, data, expert and context parallelism of the whole job.
    Inference (per replica): tp and pp; dp = attention data-parallel groups sharing the experts
    of a MoE model (wide expert parallelism, ep = tp·dp); cp does not apply.
    """

    tp: int | None = Field(default=None, ge=1, le=1024)
    pp: int | None = Field(default=None, ge=1, le=1024)
    dp: int | None = Field(default=None, ge=1, le=10_000_000)
    ep: int | None = Field(default=None, ge=1, le=100_000)
    cp: int | None = Field(default=None, ge=1, le=1024)


class Speculative(Strict):
    """Speculative decoding (MTP, EAGLE, draft models): draft tokens verified per step."""

    draft_tokens: int = Field(ge=1, le=16)
    acceptance: float | None = Field(default=None, gt=0, lt=1, description="per-position acceptance (default 0.8)")


class Budget(Strict):
    total: float | None = Field(default=None, gt=0, le=1e13, description="TCO over the horizon")
    capex: float | None = Field(default=None, gt=0, le=1e13)
    currency: Literal["USD", "CNY"] = "USD"


class DomesticShare(Strict):
    min: float = Field(ge=0, le=1)
    measure: Measure = "devices"


_LOCATIONS: tuple[Location, ...] = ("onshore", "offshore")
_ORIGINS: tuple[Origin, ...] = ("domestic", "foreign")


class Constraints(Strict):
    budget: Budget | None = None
    power_kw: float | None = Field(default=None, gt=0, le=1e8, description="all hosted sites together")
    site_power_kw: dict[str, float] = Field(
        default_factory=dict, description="per-site power caps that replace the catalog default"
    )
    domestic_share: DomesticShare | None = None
    policies: list[str] = Field(default_factory=list, description="policy packs to switch on")
    exclude_policies: list[str] = Field(default_factory=list, description="default policies to switch off (scenarios)")
    exclude: list[str] = Field(default_factory=list, description="accelerator, vendor or offer ids not to use")
    force: list[str] = Field(
        default_factory=list, description="accelerator, vendor or offer ids the plan must use ('why not X?')"
    )
    max_cluster_devices: int | None = Field(default=None, ge=1, le=10_000_000)
    allow_rental: bool = True
    allow_purchase: bool = True
    allowed_locations: list[Location] = Field(default_factory=lambda: list(_LOCATIONS))
    allowed_origins: list[Origin] = Field(
        default_factory=lambda: list(_ORIGINS), description="e.g. [domestic] for an all-domestic fleet"
    )

    @model_validator(mode="after")
    def _positive_site_power(self) -> Constraints:
        for site, kw in self.site_power_kw.items():
            if not kw > 0:
                raise ValueError(f"site_power_kw.{site} must be positive")
        return self


class ExistingUnits(Strict):
    offer: str
    units: int = Field(ge=1, le=10_000_000)
    site: str | None = Field(default=None, description="defaults to the workload's first site")


class JobSpec(Strict):
    """What one workload is: the model, the traffic or the training run, and performance pins.

    A single-workload file and each member of a fleet share these fields."""

    name: str = Field(min_length=1, max_length=200)
    kind: Literal["training", "inference"]
    description: str | None = None
    model: ModelRef
    precision: Precision = "bf16"
    kv_precision: Precision | None = None
    # inference
    traffic: Traffic | None = None
    slo: Slo | None = None
    # training
    tokens_b: float | None = Field(default=None, gt=0, le=1e6)
    seq_len: int | None = Field(default=None, ge=1, le=10_000_000)
    deadline_days: float | None = Field(default=None, gt=0, le=3650)
    domestic_user_data: bool | None = Field(
        default=None, description="handles domestic users' data (default: inference yes, training no)"
    )
    # performance pins (plan estimate): unset means the model chooses
    parallelism: Parallelism | None = None
    batch: int | None = Field(
        default=None,
        ge=1,
        le=10_000_000,
        description="training: global batch in sequences; inference: sequences in flight per replica",
    )
    micro_batch: int | None = Field(default=None, ge=1, le=1024, description="training: sequences per micro-batch")
    recompute: Literal["none", "selective", "full"] | None = Field(default=None, description="training")
    concurrency: int | None = Field(
        default=None, ge=1, le=10_000_000, description="inference: requests in flight across the system"
    )
    scenario: Literal["offline", "server"] | None = Field(
        default=None, description="inference: server meets the SLO (default); offline maximises throughput"
    )
    disaggregated: bool | None = Field(default=None, description="inference: prefill on separate devices")
    speculative: Speculative | None = Field(default=None, description="inference: speculative decoding")

    @model_validator(mode="after")
    def _kind_fields(self) -> JobSpec:
        if self.kind == "inference":
            missing = [f for f in ("traffic", "slo") if getattr(self, f) is None]
            stray = [f for f in ("tokens_b", "seq_len", "deadline_days") if getattr(self, f) is not None]
        else:
            missing = [f for f in ("tokens_b", "seq_len", "deadline_days") if getattr(self, f) is None]
            stray = [f for f in ("traffic", "slo") if getattr(self, f) is not None]
        if missing:
            raise ValueError(f"a {self.kind} workload needs: {', '.join(missing)}")
        if stray:
            raise ValueError(f"a {self.kind} workload does not take: {', '.join(stray)}")
        own = {
            "training": ("micro_batch", "recompute"),
            "inference": ("concurrency", "scenario", "disaggregated", "speculative"),
        }
        other = "inference" if self.kind == "training" else "training"
        stray = [f for f in own[other] if getattr(self, f) is not None]
        if stray:
            raise ValueError(f"a {self.kind} workload does not take: {', '.join(stray)}")
        if self.kind == "inference" and self.parallelism is not None and self.parallelism.cp is not None:
            raise ValueError("parallelism.cp applies to training workloads")
        return self

    @property
    def handles_domestic_data(self) -> bool:
        if self.domestic_user_data is not None:
            return self.domestic_user_data
        return self.kind == "inference"


class Workload(JobSpec):
    """A single-workload file: the job plus the constraints the buyer lives under."""

    horizon_months: float = Field(default=36, gt=0, le=240)
    sites: list[str] | None = Field(
        default=None, description="sites where purchases may go (default: every onshore site)"
    )
    energy_load_factor: float = Field(
        default=1.0, gt=0, le=1, description="average draw as a fraction of nameplate power"
    )
    constraints: Constraints = Field(default_factory=Constraints)
    existing_fleet: list[ExistingUnits] = Field(default_factory=list)
    objective: Objective = "min_tco"

    _origin: Any = PrivateAttr(default=None)
    """The YAML document it was read from (file and line map), when read from a file."""

    @model_validator(mode="after")
    def _objective_fits(self) -> Workload:
        if self.objective == "max_throughput" and self.kind == "training":
            raise ValueError("objective max_throughput applies to inference workloads")
        if self.objective == "max_throughput" and (
            self.constraints.budget is None or self.constraints.budget.total is None
        ):
            raise ValueError(
                "objective max_throughput needs constraints.budget.total (a capex budget leaves rentals unbounded)"
            )
        return self

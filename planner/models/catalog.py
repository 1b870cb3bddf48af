"""Catalog entries: accelerators, software stacks, offers, sites, policies, model presets.

Units live in field names (``memory_gb`` is 10^9 bytes, ``memory_bw_tbps`` is TB/s,
``scale_up.bw_gbps`` is GB/s per device, ``scale_out_gbit`` is Gb/s per device). Every
number is a :class:`Sourced` value so a plan can say where each figure came from.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from planner.models.base import Confidence, Sourced, Strict, normalise_date

Origin = Literal["domestic", "foreign"]
Mode = Literal["purchase", "rental"]
Location = Literal["onshore", "offshore"]
Precision = Literal["bf16", "fp16", "fp8", "int8"]
Status = Literal["shipping", "roadmap", "existing-only", "discontinued"]
Measure = Literal["devices", "compute", "throughput", "spend"]
WorkloadKind = Literal["training", "inference"]


def _within(low: float, high: float, *, above: bool = False) -> AfterValidator:
    """A known figure must be physically possible, so no later arithmetic divides by zero or overflows.

    These are hard limits, far wider than the plausibility ranges ``plan catalog validate`` warns about.
    """

    def check(fig: Sourced | None) -> Sourced | None:
        if fig is None or fig.value is None:
            return fig
        if (fig.value <= low if above else fig.value < low) or fig.value > high:
            floor = f"above {low:g}" if above else f"at least {low:g}"
            raise ValueError(f"value must be {floor} and at most {high:,.0f}; got {fig.value:g}")
        return fig

    return AfterValidator(check)


Positive = Annotated[Sourced, _within(0, 1e6, above=True)]
Fraction = Annotated[Sourced, _within(0, 1, above=True)]


class DensePeaks(Strict):
    """Dense (never 2:4 sparse) peak throughput per device, TFLOPS (TOPS for int8)."""

    bf16: Positive | None = None
    fp16: Positive | None = None
    fp8: Positive | None = None
    int8: Positive | None = None

    def get(self, precision: str) -> Sourced | None:
        found: Sourced | None = getattr(self, precision, None)
        return found


class ScaleUp(Strict):
    """The high-bandwidth domain a tensor-parallel group must stay inside."""

    fabric: str
    bw_gbps: Positive = Field(description="GB/s per device, unidirectional where known")
    domain: Annotated[Sourced, _within(1, 1e6)] = Field(
        description="devices in one scale-up domain (8 for HGX, 384 for CM384)"
    )


class Efficiency(Strict):
    """Fractions of peak reached in practice; a stack default unless the part overrides it."""

    train_mfu: Fraction | None = None
    prefill: Fraction | None = None
    decode_bw: Fraction | None = None


class Accelerator(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9.\-]*$")
    name: str
    vendor: str
    origin: Origin
    status: Status = "shipping"
    available_from: str | None = Field(
        default=None, description="first date it could be bought (roadmap parts: announced date)"
    )
    aliases: list[str] = Field(default_factory=list)
    dies_per_package: int = Field(default=1, ge=1, le=8)
    memory_gb: Positive
    memory_type: str | None = None
    memory_bw_tbps: Positive
    dense_tflops: DensePeaks
    tdp_w: Positive
    scale_up: ScaleUp
    scale_out_gbit: Positive | None = None
    software_stack: str
    efficiency: Efficiency = Field(default_factory=Efficiency)
    notes: str | None = None

    _avail = field_validator("available_from", mode="before")(lambda v: None if v is None else normalise_date(v))


class SoftwareStack(Strict):
    """CUDA, CANN, MUSA, ...: the default efficiency factors for parts running it."""

    id: str
    name: str
    efficiency: Efficiency
    notes: str | None = None


class Price(Sourced):
    """A sourced price: ``per`` says whether it is per unit (purchase) or per device-hour."""

    currency: Literal["USD", "CNY"]
    per: Literal["unit", "device-hour", "kWh"]

    @field_validator("value")
    @classmethod
    def _possible(cls, v: float | None) -> float | None:
        if v is not None and not 0 <= v <= 1e10:
            raise ValueError("a price must be between 0 and 10,000,000,000")
        return v


class UnitSpec(Strict):
    kind: Literal["card", "server", "supernode", "instance"]
    devices: int = Field(ge=1, le=100_000)


class ServerOverhead(Strict):
    """What a unit adds on top of its accelerators: hosts, NICs, switches, cooling."""

    cost: Price | None = None
    power_w: Annotated[Sourced, _within(0, 1e7)] | None = Field(
        default=None, description="watts per unit beyond the cards' TDP"
    )


class Offer(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9.\-]*$")
    accelerator: str
    mode: Mode
    location: Location
    region: str = Field(description="china, singapore, japan, indonesia, uae, malaysia, ...")
    site: str | None = Field(
        default=None,
        description="rentals: the provider's site id; purchases: null (placed at the buyer's sites)",
    )
    provider: str | None = None
    unit: UnitSpec
    price: Price
    server_overhead: ServerOverhead = Field(default_factory=ServerOverhead)
    supply_cap_units: Annotated[Sourced, _within(0, 1e9)] | None = None
    lead_time_weeks: Annotated[Sourced, _within(0, 1e4)] | None = None
    max_cluster_devices: Annotated[Sourced, _within(1, 1e9)] | None = None
    scale_up_domain: Annotated[Sourced, _within(1, 1e6)] | None = Field(
        default=None,
        description="devices in one scale-up domain for this packaging, when it differs from the part's "
        "(a 910C in an 8-package server vs. a CloudMatrix 384 supernode)",
    )
    requires_policy: str | None = Field(
        default=None, description="offer only usable when this policy pack is switched on"
    )
    existing_only: bool = Field(
        default=False, description="cannot be bought any more; only counts as an existing fleet"
    )
    available_from: str | None = None
    available_until: str | None = None
    notes: str | None = None

    _dates = field_validator("available_from", "available_until", mode="before")(
        lambda v: None if v is None else normalise_date(v)
    )

    @model_validator(mode="after")
    def _price_basis(self) -> Offer:
        want = "unit" if self.mode == "purchase" else "device-hour"
        if self.price.per != want:
            raise ValueError(f"a {self.mode} offer is priced per {want}, not per {self.price.per}")
        if self.mode == "rental" and self.site is None:
            raise ValueError("a rental offer names the provider's site")
        return self


class Site(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9.\-]*$")
    name: str
    location: Location
    region: str
    jurisdiction: str
    power_kw: Annotated[Sourced, _within(0, 1e9)] = Field(description="default power envelope available to the buyer")
    pue: Annotated[Sourced, _within(1, 10)]
    electricity_price: Price | None = Field(default=None, description="per kWh; rentals may omit it")
    notes: str | None = None

    @model_validator(mode="after")
    def _per_kwh(self) -> Site:
        if self.electricity_price is not None and self.electricity_price.per != "kWh":
            raise ValueError("a site's electricity_price is per kWh")
        return self


class Match(Strict):
    """Selects offers: every given field must match (lists mean any of)."""

    vendor: list[str] | None = None
    origin: Origin | None = None
    accelerator: list[str] | None = None
    offer: list[str] | None = None
    mode: Mode | None = None
    location: Location | None = None
    region: list[str] | None = None
    site: list[str] | None = None


class ShareFloorRule(Strict):
    kind: Literal["share_floor"]
    measure: Measure
    min: float = Field(ge=0, le=1)


class BanRule(Strict):
    kind: Literal["ban"]
    match: Match
    workloads: list[WorkloadKind] | None = Field(default=None, description="only for these kinds")


class CapRule(Strict):
    kind: Literal["cap"]
    match: Match
    max_units: int = Field(ge=0, le=1_000_000_000)


class TieInRule(Strict):
    """Foreign purchases conditioned on domestic ones: domestic devices >= ratio x matched devices."""

    kind: Literal["tie_in"]
    match: Match
    ratio: float | None = Field(ge=0, description="null when the public record gives no ratio")


class LevyRule(Strict):
    """An export levy paid on the sale price: the buyer pays rate x pass_through on top."""

    kind: Literal["levy"]
    match: Match
    rate: float = Field(ge=0, le=2)
    pass_through: float = Field(ge=0, le=1)


class PurchaseSubsidyRule(Strict):
    kind: Literal["purchase_subsidy"]
    match: Match
    fraction: float = Field(ge=0, le=1)


class ElectricitySubsidyRule(Strict):
    """Cut of the electricity bill for matched devices at the named sites."""

    kind: Literal["electricity_subsidy"]
    match: Match
    sites: list[str]
    fraction: float = Field(ge=0, le=1)


class ResidencyRule(Strict):
    """Workloads of these kinds that handle domestic user data must run in these locations."""

    kind: Literal["residency"]
    workloads: list[WorkloadKind]
    allowed_locations: list[Location]


Rule = Annotated[
    ShareFloorRule
    | BanRule
    | CapRule
    | TieInRule
    | LevyRule
    | PurchaseSubsidyRule
    | ElectricitySubsidyRule
    | ResidencyRule,
    Field(discriminator="kind"),
]


class Policy(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9.\-]*$")
    name: str
    summary: str
    date: str
    source: str = Field(min_length=3)
    confidence: Literal["spec", "measured", "reported", "roadmap", "assumption", "derived"]
    default: bool = Field(default=False, description="applies to every plan (market-wide rules such as the levy)")
    effective_from: str | None = None
    effective_until: str | None = None
    rules: list[Rule] = Field(default_factory=list)
    notes: str | None = None

    _dates = field_validator("date", "effective_from", "effective_until", mode="before")(
        lambda v: None if v is None else normalise_date(v)
    )


class MoESpec(Strict):
    experts: int = Field(ge=1, description="routed experts per MoE layer")
    active: int = Field(ge=1, description="routed experts per token")
    shared_experts: int = Field(default=0, ge=0)
    expert_ffn_hidden: int | None = Field(default=None, ge=1)
    dense_layers: int = Field(default=0, ge=0)


class ModelArch(Strict):
    """A model's architecture numbers, as in its public config."""

    params_b: float = Field(gt=0, le=100_000)
    active_params_b: float | None = Field(default=None, gt=0, le=100_000)
    layers: int = Field(ge=1, le=2000)
    hidden: int = Field(ge=1, le=1_000_000)
    heads: int = Field(ge=1, le=10_000)
    kv_heads: int = Field(ge=1, le=10_000)
    head_dim: int = Field(ge=1, le=10_000)
    vocab: int = Field(default=128_000, ge=1, le=10_000_000)
    ffn_hidden: int | None = Field(default=None, ge=1)
    attention: Literal["mha", "gqa", "mqa", "mla"] = "gqa"
    kv_lora_rank: int | None = Field(default=None, ge=1, description="MLA latent size")
    rope_head_dim: int | None = Field(default=None, ge=0, description="MLA decoupled RoPE dims")
    moe: MoESpec | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ModelArch:
        if self.active_params_b is not None and self.active_params_b > self.params_b:
            raise ValueError("active_params_b cannot exceed params_b")
        if self.kv_heads > self.heads:
            raise ValueError("kv_heads cannot exceed heads")
        if self.attention == "mla" and self.kv_lora_rank is None:
            raise ValueError("an MLA model needs kv_lora_rank (and rope_head_dim)")
        return self

    @property
    def active_b(self) -> float:
        return self.active_params_b if self.active_params_b is not None else self.params_b


class ModelPreset(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9.\-]*$")
    name: str
    arch: ModelArch
    source: str = Field(min_length=3, description="public config the numbers come from")
    date: str
    confidence: Literal["spec", "measured", "reported", "roadmap", "assumption", "derived"] = "spec"
    aliases: list[str] = Field(default_factory=list)
    notes: str | None = None

    _date = field_validator("date", mode="before")(normalise_date)


class FxRate(Sourced):
    """CNY per USD."""

    @field_validator("value")
    @classmethod
    def _possible(cls, v: float | None) -> float | None:
        if v is not None and not 0.01 <= v <= 1000:
            raise ValueError("CNY per USD must be between 0.01 and 1,000")
        return v


class Override(Strict):
    """A partial change to one entry (``offers/<id>``): set the named fields, keep the rest.

    ``set`` maps dotted paths (``price.value``, ``rules[0].ratio``) to new values. Setting a
    figure's ``value`` also re-sources it from this override (the old figure is kept as an
    alternative), so a plan never attributes a user's number to the bundled source.
    """

    target: str = Field(
        pattern=r"^(stacks|accelerators|offers|sites|policies|models)/[a-z0-9][a-z0-9.\-]*$",
        description="kind/id, e.g. offers/huawei-910b-server-purchase-cn",
    )
    set: dict[str, Any] = Field(min_length=1, description="dotted path -> new value")
    source: str = Field(min_length=3, description="where the new numbers come from (a quote, a benchmark)")
    date: str
    confidence: Confidence = "reported"
    note: str | None = None

    _date = field_validator("date", mode="before")(normalise_date)


class CatalogFile(Strict):
    """One catalog file; every list is optional so overlays can carry only what they change."""

    version: int = 1
    fx_cny_per_usd: FxRate | None = None
    stacks: list[SoftwareStack] = Field(default_factory=list)
    accelerators: list[Accelerator] = Field(default_factory=list)
    offers: list[Offer] = Field(default_factory=list)
    sites: list[Site] = Field(default_factory=list)
    policies: list[Policy] = Field(default_factory=list)
    models: list[ModelPreset] = Field(default_factory=list)
    overrides: list[Override] = Field(
        default_factory=list, description="partial changes applied after every file is merged"
    )

"""Inference replicas: which shapes hold the model, and what each delivers under the SLO.

A replica is ``tp`` devices inside one scale-up domain, times ``pp`` pipeline stages when the
model does not fit one domain, times ``dp_attention`` attention groups sharing expert-parallel
MoE layers. Per request a replica spends prefill time plus out·step(b)/(b·τ) of decode time
(DESIGN §3), so requests/s = 1 / (prefill + out·step/(b·τ)). With prefill and decode on one
replica every decode step also absorbs the prefill of the requests that replace finished ones:

    TPOT = (step(b) + (b·τ/out) · prefill) / τ

Disaggregated serving moves prefill to its own devices; TPOT is then step/τ. ``server``
scenarios take the largest batch meeting TPOT (and prefill within the TTFT share); ``offline``
takes the largest batch memory and the scheduler allow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

from planner.models.catalog import ModelArch
from planner.perf.arch_math import BYTES, arch_key
from planner.perf.device import DeviceModel
from planner.perf.serving_step import (
    DecodeCurve,
    Layout,
    Numerics,
    acceptance_length,
    decode_step,
    decode_step_curve,
    kv_bytes_per_seq_device,
    max_batch_by_memory,
    on_device,
    prefill_comm_s,
    prefill_compute_s,
    prefill_latency_from,
    prefill_latency_s,
    weight_bytes_per_device,
)

TTFT_PREFILL_SHARE = 0.5
"""Share of the TTFT target the prefill itself may use; the rest absorbs queueing and
scheduling delay (planner assumption)."""

MAX_BATCH = 2048
"""Sequences in flight per replica at most (scheduler limit) for tensor-parallel replicas:
TensorRT-LLM's default max_batch_size (trtllm-build --max_batch_size 2048)."""

MAX_BATCH_PER_RANK = 1024
"""Sequences in flight per attention group at most in data-parallel-attention replicas
(SGLang/vLLM max running requests per DP rank; a planner assumption)."""

MAX_REPLICA_DEVICES = 512

WIDE_EP_MIN_DEVICES = 32


@dataclass(frozen=True)
class InferenceSetup:
    arch: ModelArch
    precision: str
    kv_precision: str
    input_tokens: int
    output_tokens: int
    ttft_ms: float
    tpot_ms: float
    scenario: str = "server"
    """server: meet the SLO; offline: as many tokens/s as memory allows, SLO not binding."""
    batch: int | None = None
    """Pinned sequences in flight per replica."""
    concurrency: int | None = None
    """Pinned requests in flight per replica (a benchmark's max concurrency)."""
    tp: int | None = None
    pp: int | None = None
    dp_attention: int | None = None
    disaggregated: bool = False
    prefill_devices: int | None = None
    """Disaggregated: prefill devices per replica (None: sized to balance decode)."""
    draft_tokens: int = 0
    acceptance: float | None = None
    weight_precision: str | None = None
    """Stored weight precision when it differs from the arithmetic (int4 for W4A8)."""
    decode_context: float | None = None
    """Mean cached tokens during decode (default input + output/2)."""

    def numerics(self) -> Numerics:
        return Numerics(self.weight_precision or self.precision, self.precision, self.kv_precision)


@dataclass(frozen=True)
class ReplicaShape:
    """One replica layout and what it delivers at the largest batch meeting the SLO."""

    tp: int
    pp: int
    batch: int
    tpot_ms: float
    ttft_ms: float
    requests_per_s: float
    weights_gb_per_device: float
    kv_gb_per_device: float
    output_tokens_per_s: float
    bottleneck: str
    compute_precision: str
    dp_attention: int = 1
    prefill_devices: int = 0
    decode_step_ms: float = 0.0
    accepted_per_step: float = 1.0
    max_batch_by_memory: int = 0
    input_tokens_per_s: float = 0.0
    limited_by: str = ""

    @property
    def devices(self) -> int:
        return self.tp * self.pp * self.dp_attention + self.prefill_devices

    @property
    def decode_devices(self) -> int:
        return self.tp * self.pp * self.dp_attention

    @property
    def output_tokens_per_s_per_device(self) -> float:
        return self.output_tokens_per_s / self.devices


@dataclass(frozen=True)
class Infeasible:
    tp: int
    pp: int
    reason: str


def decode_step_s(dev: DeviceModel, s: InferenceSetup, tp: int, pp: int, batch: int) -> tuple[float, str]:
    """Time for every sequence in the batch to produce one token, and what bounds it."""
    cost = decode_step(dev, s.arch, s.numerics(), Layout(tp, pp), batch, _context(s), s.draft_tokens)
    return cost.step_s, cost.bound


def prefill_s(dev: DeviceModel, s: InferenceSetup, tp: int, pp: int) -> float:
    return prefill_latency_s(dev, s.arch, s.numerics(), Layout(tp, pp), s.input_tokens)


def _context(s: InferenceSetup) -> float:
    return s.decode_context if s.decode_context is not None else s.input_tokens + s.output_tokens / 2.0


def _dpa_options(arch: ModelArch, tp: int, pp: int, limit: int) -> list[int]:
    """Attention data-parallel widths a MoE replica may take: powers of two up to ``limit`` devices."""
    if arch.moe is None or pp > 1:
        return [1]
    out, d = [], 1
    while tp * d <= limit:
        out.append(d)
        d *= 2
    return out


def wide_ep_limit(dev: DeviceModel) -> int:
    """Largest expert-parallel replica the model proposes unpinned: one scale-up domain, at least
    WIDE_EP_MIN_DEVICES (four 8-device nodes over the scale-out network, as SGLang's DeepSeek
    prefill units); a workload can pin a wider one."""
    return min(MAX_REPLICA_DEVICES, max(dev.domain, WIDE_EP_MIN_DEVICES))


class ShapeMemo:
    """Work :func:`replica_shapes` shares between setups that differ only in their SLO targets.

    Per layout: memory, prefill, the TPOT at every batch the batch search has tried and the shape
    at every TPOT target asked for. Keyed by content (the device's figures, the architecture,
    every other setup field), so one memo may serve any mix of devices and setups and never
    returns another setup's numbers. Meant for one preparation: it only grows.
    """

    def __init__(self) -> None:
        self._curves: dict[tuple[object, ...], _SetupCurves] = {}

    def curves(self, dev: DeviceModel, s: InferenceSetup) -> _SetupCurves:
        """The layouts already evaluated for this device and setup, bar the SLO."""
        rest = tuple(getattr(s, f) for f in _CURVE_FIELDS)
        key = (dev.figures_key(), arch_key(s.arch), rest)
        found = self._curves.get(key)
        if found is None:
            found = self._curves[key] = _SetupCurves()
        return found


class _SetupCurves:
    """One device and setup (bar the SLO): each layout's curve, and what every layout shares."""

    __slots__ = ("_prefill_compute", "layouts")

    def __init__(self) -> None:
        self.layouts: dict[Layout, _Curve | Infeasible] = {}
        self._prefill_compute: float | None = None

    def prefill_compute(self, dev: DeviceModel, s: InferenceSetup, num: Numerics) -> float:
        """:func:`prefill_compute_s` of the setup's prompt (asked for only once a layout fits)."""
        if self._prefill_compute is None:
            self._prefill_compute = prefill_compute_s(dev, s.arch, num, s.input_tokens)
        return self._prefill_compute


_CURVE_FIELDS = tuple(f.name for f in fields(InferenceSetup) if f.name not in ("arch", "ttft_ms", "tpot_ms"))


def evaluate_shape(
    dev: DeviceModel, s: InferenceSetup, tp: int, pp: int, *, dp_attention: int | None = None
) -> ReplicaShape | Infeasible:
    """The replica at (tp, pp[, dp_attention]) at its largest batch meeting the SLO.

    Without ``dp_attention`` the best attention data-parallel width (per device) is taken, the
    same choice :func:`replica_shapes` makes, so a plan's layout re-evaluates identically.
    """
    return _best_shape(dev, s, tp, pp, dp_attention, _SetupCurves())


def _best_shape(
    dev: DeviceModel,
    s: InferenceSetup,
    tp: int,
    pp: int,
    dp_attention: int | None,
    curves: _SetupCurves,
) -> ReplicaShape | Infeasible:
    if dp_attention is not None:
        return _evaluate(dev, s, Layout(tp, pp, dp_attention), curves)
    options = [s.dp_attention] if s.dp_attention else _dpa_options(s.arch, tp, pp, wide_ep_limit(dev))
    best: ReplicaShape | Infeasible | None = None
    for dpa in options:
        got = _evaluate(dev, s, Layout(tp, pp, dpa), curves)
        if isinstance(got, ReplicaShape):
            if not isinstance(best, ReplicaShape) or _per_device(got) > _per_device(best) * (1 + 1e-9):
                best = got
        elif best is None:
            best = got
    assert best is not None
    return best


def _per_device(r: ReplicaShape) -> float:
    return r.requests_per_s / r.devices


@dataclass
class _Curve:
    """One layout's figures that do not depend on the SLO, and its TPOT by batch (memoised).

    Only floats are kept per batch: a StepCost per batch tried would be hundreds of thousands of
    long-lived objects at fleet scale, and the garbage collector's full passes over them cost more
    than recomputing the few steps that are needed again (deterministically, so identically).
    """

    lay: Layout
    weights: float
    by_memory: int
    cap: int
    limited: str
    kv_seq: float
    pre_dev: float
    ttft: float
    tau: float
    output_tokens: int
    interleave: float
    cost: DecodeCurve
    tpots: dict[int, float] = field(default_factory=dict)
    by_tpot: dict[float, ReplicaShape | Infeasible] = field(default_factory=dict)
    """The result at each TPOT target tried (every other input is part of the curve's key)."""

    def tpot(self, b: int) -> float:
        found = self.tpots.get(b)
        if found is None:
            found = (self.cost.step_s(b) + b * self.tau / self.output_tokens * self.interleave) / self.tau
            self.tpots[b] = found
        return found


def _evaluate(dev: DeviceModel, s: InferenceSetup, lay: Layout, curves: _SetupCurves) -> ReplicaShape | Infeasible:
    curve = curves.layouts.get(lay)
    if curve is None:
        curve = curves.layouts[lay] = _curve(dev, s, lay, curves)
    if isinstance(curve, Infeasible):
        return curve
    if s.scenario != "offline" and s.batch is None and s.concurrency is None:
        ttft = curve.ttft
        if ttft * 1000.0 > s.ttft_ms * TTFT_PREFILL_SHARE:
            return Infeasible(
                curve.lay.tp, curve.lay.pp, f"prefill takes {ttft * 1000:.0f} ms; TTFT target {s.ttft_ms:.0f} ms"
            )
    found = curve.by_tpot.get(s.tpot_ms)  # past the TTFT check, the TPOT target alone decides
    if found is None:
        found = curve.by_tpot[s.tpot_ms] = _at_tpot(dev, s, curve)
    return found


def _curve(dev: DeviceModel, s: InferenceSetup, lay: Layout, shared: _SetupCurves) -> _Curve | Infeasible:
    lay = on_device(dev, lay)
    num = s.numerics()
    arch = s.arch
    if num.weights not in BYTES or num.kv not in BYTES:
        return Infeasible(lay.tp, lay.pp, f"unsupported precision {num.weights}/{num.kv}")
    weights = weight_bytes_per_device(arch, num, lay)
    if weights >= dev.usable_bytes:
        return Infeasible(
            lay.tp,
            lay.pp,
            f"weights need {weights / 1e9:.0f} GB per device of {lay.devices}, {dev.usable_bytes / 1e9:.0f} GB usable",
        )
    held = (s.decode_context or s.input_tokens) + s.output_tokens
    by_memory = max_batch_by_memory(dev, arch, num, lay, held)
    if by_memory < 1:
        return Infeasible(lay.tp, lay.pp, "no room for the KV cache of one request")
    cap = min(by_memory, MAX_BATCH if lay.dpa == 1 else MAX_BATCH_PER_RANK * lay.dpa)
    limited = "memory capacity" if by_memory <= cap else "scheduler limit"
    for pin, why in ((s.batch, "pinned batch"), (s.concurrency, "pinned concurrency")):
        if pin is not None and pin < cap:
            cap, limited = pin, why
    d = lay.devices
    pre_dev = shared.prefill_compute(dev, s, num) + prefill_comm_s(dev, arch, lay, s.input_tokens)  # prefill_device_s
    return _Curve(
        lay=lay,
        weights=weights,
        by_memory=by_memory,
        cap=cap,
        limited=limited,
        kv_seq=kv_bytes_per_seq_device(arch, num, lay, held),
        pre_dev=pre_dev,
        ttft=prefill_latency_from(pre_dev, lay),
        tau=acceptance_length(s.draft_tokens, s.acceptance),
        output_tokens=s.output_tokens,
        interleave=0.0 if s.disaggregated else pre_dev / d,
        cost=decode_step_curve(dev, arch, num, lay, _context(s), s.draft_tokens),
    )


def _at_tpot(dev: DeviceModel, s: InferenceSetup, c: _Curve) -> ReplicaShape | Infeasible:
    """The layout at its largest batch meeting the setup's TPOT target (TTFT already checked)."""
    lay, tau, pre_dev, ttft, tpot = c.lay, c.tau, c.pre_dev, c.ttft, c.tpot
    d = lay.devices
    cap, limited = c.cap, c.limited
    batch = cap
    pinned = s.batch is not None or s.concurrency is not None
    if s.scenario != "offline" and not pinned:
        if tpot(1) * 1000.0 > s.tpot_ms:
            return Infeasible(
                lay.tp,
                lay.pp,
                f"one token takes {tpot(1) * 1000:.1f} ms even at batch 1; TPOT target {s.tpot_ms:.0f} ms",
            )
        lo, hi = 1, cap
        tried = c.tpots
        while lo < hi:  # largest batch with TPOT within target (TPOT grows with batch)
            mid = (lo + hi + 1) // 2
            at = tried.get(mid)
            if at is None:
                at = tpot(mid)
            if at * 1000.0 <= s.tpot_ms:
                lo = mid
            else:
                hi = mid - 1
        if lo < cap:
            limited = "TPOT target"
        batch = lo
    step = c.cost(batch)
    decode_rps = batch * tau / (s.output_tokens * step.step_s)
    prefill_devices = 0
    if s.disaggregated:
        need = pre_dev * decode_rps
        prefill_devices = s.prefill_devices if s.prefill_devices is not None else max(1, math.ceil(need - 1e-9))
        rps = min(decode_rps, prefill_devices / pre_dev)
    else:
        rps = 1.0 / (pre_dev / d + s.output_tokens * step.step_s / (batch * tau))
    bound = step.bound
    if limited == "memory capacity" and bound != "interconnect":
        bound = "memory capacity"
    if s.disaggregated and prefill_devices / pre_dev < decode_rps * (1 - 1e-9):
        bound = "compute (prefill pool)"
    _, used = dev.peak_flops(s.precision)
    kv = batch / lay.dpa * c.kv_seq
    return ReplicaShape(
        tp=lay.tp,
        pp=lay.pp,
        batch=batch,
        tpot_ms=tpot(batch) * 1000.0,
        ttft_ms=ttft * 1000.0,
        requests_per_s=rps,
        weights_gb_per_device=c.weights / 1e9,
        kv_gb_per_device=kv / 1e9,
        output_tokens_per_s=rps * s.output_tokens,
        bottleneck=bound,
        compute_precision=used,
        dp_attention=lay.dpa,
        prefill_devices=prefill_devices,
        decode_step_ms=step.step_s * 1000.0,
        accepted_per_step=tau,
        max_batch_by_memory=c.by_memory,
        input_tokens_per_s=rps * s.input_tokens,
        limited_by=limited,
    )


def candidate_layouts(dev: DeviceModel) -> list[tuple[int, int]]:
    """tp a power of two within the scale-up domain; pp added only once tp fills the domain."""
    layouts: list[tuple[int, int]] = []
    tp = 1
    while tp <= min(dev.domain, MAX_REPLICA_DEVICES):
        layouts.append((tp, 1))
        tp *= 2
    top = layouts[-1][0]
    pp = 2
    while top * pp <= MAX_REPLICA_DEVICES:
        layouts.append((top, pp))
        pp *= 2
    return layouts


def replica_shapes(
    dev: DeviceModel, s: InferenceSetup, keep: int = 3, *, memo: ShapeMemo | None = None
) -> tuple[list[ReplicaShape], list[Infeasible]]:
    """Feasible shapes, best requests/s per device first, plus why the others fail.

    Keeps the ``keep`` best by throughput per device and the smallest feasible shape, so the
    solver can trade efficiency against purchase granularity. A ``memo`` shared between calls
    saves the work common to setups that differ only in their SLO (same results).
    """
    curves = memo.curves(dev, s) if memo is not None else _SetupCurves()
    ok: list[ReplicaShape] = []
    bad: list[Infeasible] = []
    for tp, pp in candidate_layouts(dev):
        if (s.tp is not None and tp != s.tp) or (s.pp is not None and pp != s.pp):
            continue
        result = _best_shape(dev, s, tp, pp, None, curves)
        (ok if isinstance(result, ReplicaShape) else bad).append(result)  # type: ignore[arg-type]
    if s.tp is not None and not any(r.tp == s.tp for r in ok) and not any(b.tp == s.tp for b in bad):
        result = _best_shape(dev, s, s.tp, s.pp or 1, None, curves)
        (ok if isinstance(result, ReplicaShape) else bad).append(result)  # type: ignore[arg-type]
    ok.sort(key=lambda r: (-r.requests_per_s / r.devices, r.devices))
    chosen = ok[:keep]
    if ok:
        smallest = min(ok, key=lambda r: (r.devices, -r.requests_per_s))
        if smallest not in chosen:
            chosen.append(smallest)
    return chosen, bad

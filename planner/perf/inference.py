"""Inference replicas: which shapes hold the model, and what each delivers under the SLO.

A replica is ``tp`` devices inside one scale-up domain, times ``pp`` pipeline stages when the
model does not fit one domain. Decode is memory-bound, prefill compute-bound (DESIGN §3).
"""

from __future__ import annotations

from dataclasses import dataclass

from planner.models.catalog import ModelArch
from planner.perf.arch_math import (
    BYTES,
    forward_flops_per_token,
    kv_bytes_per_token,
    prefill_flops,
    weight_bytes,
    weights_read_per_step,
)
from planner.perf.device import PP_HOP_S, TP_LATENCY_S, DeviceModel

TTFT_PREFILL_SHARE = 0.5
"""Share of the TTFT target the prefill itself may use; the rest absorbs queueing and
scheduling delay (planner assumption)."""

MAX_BATCH = 4096
MAX_REPLICA_DEVICES = 512


@dataclass(frozen=True)
class InferenceSetup:
    arch: ModelArch
    precision: str
    kv_precision: str
    input_tokens: int
    output_tokens: int
    ttft_ms: float
    tpot_ms: float


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

    @property
    def devices(self) -> int:
        return self.tp * self.pp


@dataclass(frozen=True)
class Infeasible:
    tp: int
    pp: int
    reason: str


def _tp_comm_s(dev: DeviceModel, arch: ModelArch, tp: int, tokens: float) -> float:
    """Two ring all-reduces per layer of tokens·hidden·2 bytes: 2·L·(α + 2(t−1)/t·m/B)."""
    if tp == 1:
        return 0.0
    msg = tokens * arch.hidden * 2.0
    per = TP_LATENCY_S + 2.0 * (tp - 1) / tp * msg / dev.scale_up_bytes_s
    return 2.0 * arch.layers * per


def decode_step_s(dev: DeviceModel, s: InferenceSetup, tp: int, pp: int, batch: int) -> tuple[float, str]:
    """Time for every sequence in the batch to produce one token, and what bounds it.

    max(bytes read / (tp·BW·eff_bw), FLOPs / (tp·peak·eff_c)) + TP comm + (pp−1) hops.
    Pipeline stages add capacity, not speed: a token still crosses every stage in turn.
    """
    context = s.input_tokens + s.output_tokens / 2.0
    peak, _ = dev.peak_flops(s.precision)
    kv = batch * context * kv_bytes_per_token(s.arch, s.kv_precision, tp * pp)
    mem_s = (weights_read_per_step(s.arch, s.precision, batch) + kv) / (
        tp * dev.bw_bytes_s * dev.efficiency["decode_bw"]
    )
    cmp_s = batch * forward_flops_per_token(s.arch, context) / (tp * peak * dev.efficiency["prefill"])
    comm_s = _tp_comm_s(dev, s.arch, tp, batch) + (pp - 1) * PP_HOP_S
    if mem_s >= cmp_s:
        bound = "memory bandwidth"
    else:
        bound = "compute"
    if comm_s > max(mem_s, cmp_s):
        bound = "interconnect"
    return max(mem_s, cmp_s) + comm_s, bound


def prefill_s(dev: DeviceModel, s: InferenceSetup, tp: int, pp: int) -> float:
    peak, _ = dev.peak_flops(s.precision)
    flops = prefill_flops(s.arch, s.input_tokens)
    return (
        flops / (tp * peak * dev.efficiency["prefill"])
        + _tp_comm_s(dev, s.arch, tp, s.input_tokens)
        + (pp - 1) * PP_HOP_S
    )


def evaluate_shape(dev: DeviceModel, s: InferenceSetup, tp: int, pp: int) -> ReplicaShape | Infeasible:
    """The largest batch whose decode step meets TPOT and whose KV cache fits memory."""
    devices = tp * pp
    weights = weight_bytes(s.arch, s.precision)
    free = devices * dev.usable_bytes - weights
    if free <= 0:
        return Infeasible(tp, pp, f"weights need {weights / 1e9:.0f} GB, {devices} devices hold "
                          f"{devices * dev.usable_bytes / 1e9:.0f} GB usable")
    per_seq = kv_bytes_per_token(s.arch, s.kv_precision, devices) * (s.input_tokens + s.output_tokens)
    max_by_memory = min(MAX_BATCH, int(free // per_seq))
    if max_by_memory < 1:
        return Infeasible(tp, pp, "no room for the KV cache of one request")
    pre = prefill_s(dev, s, tp, pp)
    if pre * 1000.0 > s.ttft_ms * TTFT_PREFILL_SHARE:
        return Infeasible(tp, pp, f"prefill takes {pre * 1000:.0f} ms; TTFT target {s.ttft_ms:.0f} ms")
    step1, _ = decode_step_s(dev, s, tp, pp, 1)
    if step1 * 1000.0 > s.tpot_ms:
        return Infeasible(tp, pp, f"one token takes {step1 * 1000:.1f} ms even at batch 1; TPOT target {s.tpot_ms:.0f} ms")
    lo, hi = 1, max_by_memory
    while lo < hi:  # largest batch with step <= TPOT (step grows with batch)
        mid = (lo + hi + 1) // 2
        if decode_step_s(dev, s, tp, pp, mid)[0] * 1000.0 <= s.tpot_ms:
            lo = mid
        else:
            hi = mid - 1
    batch = lo
    step, bound = decode_step_s(dev, s, tp, pp, batch)
    if batch == max_by_memory and step * 1000.0 < s.tpot_ms * 0.95:
        bound = "memory capacity"
    per_request_s = pre + s.output_tokens * step / batch
    _, used_precision = dev.peak_flops(s.precision)
    kv_total = batch * (s.input_tokens + s.output_tokens) * kv_bytes_per_token(s.arch, s.kv_precision, devices)
    shape = ReplicaShape(
        tp=tp,
        pp=pp,
        batch=batch,
        tpot_ms=step * 1000.0,
        ttft_ms=pre * 1000.0,
        requests_per_s=1.0 / per_request_s,
        output_tokens_per_s=s.output_tokens / per_request_s,
        weights_gb_per_device=weights / devices / 1e9,
        kv_gb_per_device=kv_total / devices / 1e9,
        bottleneck=bound,
        compute_precision=used_precision,
    )
    return shape


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


def replica_shapes(dev: DeviceModel, s: InferenceSetup, keep: int = 3) -> tuple[list[ReplicaShape], list[Infeasible]]:
    """Feasible shapes, best requests/s per device first, plus why the others fail.

    Keeps the ``keep`` best by throughput per device and the smallest feasible shape, so the
    solver can trade efficiency against purchase granularity.
    """
    ok: list[ReplicaShape] = []
    bad: list[Infeasible] = []
    for tp, pp in candidate_layouts(dev):
        if s.precision not in BYTES or s.kv_precision not in BYTES:
            continue
        result = evaluate_shape(dev, s, tp, pp)
        (ok if isinstance(result, ReplicaShape) else bad).append(result)  # type: ignore[arg-type]
    ok.sort(key=lambda r: (-r.requests_per_s / r.devices, r.devices))
    chosen = ok[:keep]
    if ok:
        smallest = min(ok, key=lambda r: (r.devices, -r.requests_per_s))
        if smallest not in chosen:
            chosen.append(smallest)
    return chosen, bad

"""Inference physics on one replica layout: decode step, prefill cost, memory per device.

A replica is ``tp`` × ``pp`` devices per attention group, times ``dpa`` attention groups that
share the routed experts (data-parallel attention with expert parallelism, as DeepSeek, SGLang
and vLLM deploy MoE models; dpa = 1 for dense models). Decode is memory-bound until the batch
is large, prefill compute-bound (DESIGN §3):

    stage = max(bytes read / (BW · eff_bw), FLOPs / (peak · eff_prefill)) + exposed comm

Matmuls run at the compute precision's peak; attention (score and value products) at the bf16
peak, as FP8/INT8 serving stacks keep the attention core in 16-bit (DeepSeek-V3 §3.3.2).
    step  = pp · stage (a token crosses every stage; pp micro-groups keep all stages busy)

Speculative decoding with n draft tokens (MTP, EAGLE) verifies 1 + n tokens per sequence per
step and accepts τ = Σ_{i≤n} a^i of them on average (geometric acceptance a).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from planner.models.catalog import ModelArch
from planner.perf.arch_math import (
    BYTES,
    active_routed_params,
    attention_fwd_flops,
    decode_attention_flops,
    kv_bytes_per_token_device,
    matmul_params,
    mlp_width,
    moe_layers,
    prefill_flops,
    routed_expert_params,
)
from planner.perf.comm import all_to_all_fn, all_to_all_s, allreduce_fn, allreduce_s
from planner.perf.device import PP_HOP_S, DeviceModel
from planner.perf.train_step import ELEMENTWISE_ELEMENTS, MOE_GEMM_EFFICIENCY, TP_EXPOSED

COMM_EXPOSED = 1.0
"""Share of expert all-to-all time not hidden by overlap in serving (two-batch overlap in SGLang,
DeepEP low-latency kernels). Calibrated."""

DEFAULT_ACCEPTANCE = 0.8
"""Per-position acceptance of draft tokens when a deployment speculates without stating it:
DeepSeek-V3 §5.4.3 reports 85-90 % for its first MTP token (1.8× decode TPS); deeper drafts are
accepted less often, so a geometric 0.8 is used."""

DISPATCH_BYTES = 1.0
COMBINE_BYTES = 2.0
"""Bytes per hidden element sent to experts (fp8 dispatch) and back (bf16 combine), DeepEP."""


SERVING_ELEMENTWISE_SHARE = 1.0 / 3.0
"""Share of the training step's memory-bound element traffic a serving forward pass moves (the
forward third; fused serving kernels may move less). Calibrated."""


def elementwise_bytes_per_token(arch: ModelArch) -> float:
    """Forward-pass bytes of memory-bound ops per token, all layers: SERVING_ELEMENTWISE_SHARE of
    the training count (a·h + b·F elements) at 2 bytes; each tensor-parallel rank repeats them."""
    a, b = ELEMENTWISE_ELEMENTS
    return arch.layers * (a * arch.hidden + b * mlp_width(arch)) * 2.0 * SERVING_ELEMENTWISE_SHARE


@dataclass(frozen=True)
class Layout:
    tp: int
    pp: int = 1
    dpa: int = 1
    dies: int = 1
    """Attention ranks per device: a multi-die package (Ascend 910C) runs one per die under data-
    parallel attention, each die holding its own copy of the non-expert weights."""

    @property
    def devices(self) -> int:
        return self.tp * self.pp * self.dpa


def on_device(dev: DeviceModel, lay: Layout) -> Layout:
    """The layout with per-die attention ranks when dp-attention runs on multi-die packages."""
    dies = dev.accelerator.dies_per_package if lay.dpa > 1 and lay.tp == 1 else 1
    return Layout(lay.tp, lay.pp, lay.dpa, dies)


@dataclass(frozen=True)
class Numerics:
    """Precisions: weights stored, arithmetic, KV cache."""

    weights: str
    compute: str
    kv: str


def weight_bytes_per_device(arch: ModelArch, num: Numerics, lay: Layout) -> float:
    """Non-expert weights split over tp·pp (replicated per attention group); experts over all devices."""
    wb = BYTES[num.weights]
    routed = routed_expert_params(arch) * wb
    dense = arch.params_b * 1e9 * wb - routed
    return dense * lay.dies / (lay.tp * lay.pp) + routed / lay.devices


def kv_bytes_per_seq_device(arch: ModelArch, num: Numerics, lay: Layout, tokens: float) -> float:
    """KV bytes one sequence of ``tokens`` tokens puts on each device of its attention group."""
    return tokens * kv_bytes_per_token_device(arch, num.kv, lay.tp) / lay.pp


def max_batch_by_memory(dev: DeviceModel, arch: ModelArch, num: Numerics, lay: Layout, tokens: float) -> int:
    """Largest number of sequences in flight whose KV cache fits next to the weights."""
    free = dev.usable_bytes - weight_bytes_per_device(arch, num, lay)
    per = kv_bytes_per_seq_device(arch, num, lay, tokens)
    if free <= 0 or per <= 0:
        return 0
    return int(free // per) * lay.dpa


def acceptance_length(drafts: int, acceptance: float | None) -> float:
    """τ = Σ_{i=0..n} a^i tokens accepted per verification step."""
    a = DEFAULT_ACCEPTANCE if acceptance is None else acceptance
    return sum(a**i for i in range(drafts + 1))


@dataclass(frozen=True)
class StepCost:
    step_s: float
    memory_s: float
    compute_s: float
    comm_s: float

    @property
    def bound(self) -> str:
        core = max(self.memory_s, self.compute_s)
        if self.comm_s > core:
            return "interconnect"
        return "memory bandwidth" if self.memory_s >= self.compute_s else "compute"


def decode_step(
    dev: DeviceModel, arch: ModelArch, num: Numerics, lay: Layout, batch: float, context: float, drafts: int = 0
) -> StepCost:
    """Time for ``batch`` sequences (the whole replica) to take one decode step at ``context``."""
    return decode_step_curve(dev, arch, num, lay, context, drafts)(batch)


def decode_step_curve(
    dev: DeviceModel, arch: ModelArch, num: Numerics, lay: Layout, context: float, drafts: int = 0
) -> DecodeCurve:
    """:func:`decode_step` as a function of the batch alone, for searches over the batch.

    Everything that does not depend on the batch is computed once here; the per-batch part
    performs the same floating-point operations in the same order, so values are identical.
    """
    pp, dpa, tp, devices = lay.pp, lay.dpa, lay.tp, lay.devices
    wb = BYTES[num.weights]
    routed = routed_expert_params(arch) * wb
    dense_w = arch.params_b * 1e9 * wb - routed
    peak, _ = dev.peak_flops(num.compute)
    eff = dev.efficiency["prefill"]
    k = _DecodeConstants(
        width=1 + drafts,
        pp=pp,
        dpa=dpa,
        tp=tp,
        devices=devices,
        dense_read=dense_w * lay.dies / (tp * pp),
        routed_read=routed / devices,
        untouched=1.0 - arch.moe.active / arch.moe.experts if arch.moe is not None else None,
        kv_seq=kv_bytes_per_seq_device(arch, num, lay, context),
        elementwise=elementwise_bytes_per_token(arch),
        mem_rate=dev.bw_bytes_s * dev.efficiency["decode_bw"],
        peak_eff=peak * eff,
        attn_peak_eff=dev.bf16_peak() * eff,
        attn_tok=decode_attention_flops(arch, context),
        active_routed=active_routed_params(arch),
        mm_params=matmul_params(arch),
        layers=arch.layers / pp,
        hidden=arch.hidden,
        tp_allreduce=allreduce_fn(dev, tp) if tp > 1 else None,
        expert_all_to_all=all_to_all_fn(dev, tp * dpa) if arch.moe is not None and dpa > 1 else None,
        moe_active=arch.moe.active if arch.moe is not None else 0,
        moe_per_stage=moe_layers(arch) / pp,
        hop=(pp - 1) * PP_HOP_S,
    )
    return DecodeCurve(k)


class DecodeCurve:
    """One layout's decode step as a function of the batch (from :func:`decode_step_curve`).

    Calling it gives the :class:`StepCost`; :meth:`step_s` only its ``step_s``, without building
    the object (a search over the batch needs nothing else). The constants sit in one tuple, not
    in a closure: thousands of curves live at once while a fleet is prepared, and a closure would
    hold a cell per constant for the garbage collector to walk.
    """

    __slots__ = ("_k",)

    def __init__(self, k: _DecodeConstants) -> None:
        self._k = k

    def __call__(self, batch: float) -> StepCost:
        k = self._k
        mem_s, cmp_s, comm = _decode_stage(k, batch)
        stage = (cmp_s if cmp_s > mem_s else mem_s) + comm  # max(mem_s, cmp_s) + comm
        return StepCost(k.pp * stage + k.hop, k.pp * mem_s, k.pp * cmp_s, k.pp * comm)

    def step_s(self, batch: float) -> float:
        """``self(batch).step_s``, the same value."""
        k = self._k
        mem_s, cmp_s, comm = _decode_stage(k, batch)
        return k.pp * ((cmp_s if cmp_s > mem_s else mem_s) + comm) + k.hop


class _DecodeConstants(NamedTuple):
    """The batch-independent figures of one decode step (see :func:`decode_step_curve`)."""

    width: int
    pp: int
    dpa: int
    tp: int
    devices: int
    dense_read: float
    routed_read: float
    untouched: float | None
    kv_seq: float
    elementwise: float
    mem_rate: float
    peak_eff: float
    attn_peak_eff: float
    attn_tok: float
    active_routed: float
    mm_params: float
    layers: float
    hidden: int
    tp_allreduce: Callable[[float], float] | None
    expert_all_to_all: Callable[[float], float] | None
    moe_active: int
    moe_per_stage: float
    hop: float


def _decode_stage(k: _DecodeConstants, batch: float) -> tuple[float, float, float]:
    """Memory, compute and exposed communication seconds of one pipeline stage at ``batch``."""
    (
        width,
        pp,
        dpa,
        tp,
        devices,
        dense_read,
        routed_read,
        untouched,
        kv_seq,
        elementwise,
        mem_rate,
        peak_eff,
        attn_peak_eff,
        attn_tok,
        active_routed,
        mm_params,
        layers,
        hidden,
        tp_allreduce,
        expert_all_to_all,
        moe_active,
        moe_per_stage,
        _hop,
    ) = k
    # max(x, y) is written out as (y if x < y else x) here: the same value, without a call
    group = batch / pp
    group = 1e-9 if group < 1e-9 else group  # sequences per pipeline micro-group
    tokens = group * width
    touched = 1.0 if untouched is None else 1.0 - untouched ** (1.0 if tokens < 1.0 else tokens)
    read = dense_read + routed_read * touched
    read += group / dpa * kv_seq
    read += tokens / dpa * elementwise / pp
    mem_s = read / mem_rate
    attn = tokens * attn_tok / devices
    expert = tokens * 2.0 * active_routed / devices
    dense = tokens * 2.0 * mm_params / devices - expert
    cmp_s = (dense + expert / MOE_GEMM_EFFICIENCY) / peak_eff + attn / attn_peak_eff
    comm = 0.0
    per_rank = tokens / dpa
    if tp_allreduce is not None:
        comm += 2.0 * layers * tp_allreduce(per_rank * hidden * 2.0)
    if expert_all_to_all is not None:
        msg = per_rank / tp * moe_active * hidden * (DISPATCH_BYTES + COMBINE_BYTES)
        comm += moe_per_stage * expert_all_to_all(msg) * COMM_EXPOSED
    return mem_s, cmp_s, comm


def prefill_device_s(dev: DeviceModel, arch: ModelArch, num: Numerics, lay: Layout, prompt: int) -> float:
    """Device-seconds to prefill one prompt on this layout (batched prefill, compute-bound).

    FLOPs = prompt·(2·N_mm) + causal attention at mean context prompt/2, at peak × eff_prefill
    (experts at the grouped-GEMM share), plus the exposed tensor-parallel and expert traffic.
    """
    return prefill_compute_s(dev, arch, num, prompt) + prefill_comm_s(dev, arch, lay, prompt)


def prefill_compute_s(dev: DeviceModel, arch: ModelArch, num: Numerics, prompt: int) -> float:
    """:func:`prefill_device_s` without the communication: the same on every layout."""
    peak, _ = dev.peak_flops(num.compute)
    eff = dev.efficiency["prefill"]
    attn = prompt * attention_fwd_flops(arch, prompt / 2.0)
    expert = prompt * 2.0 * active_routed_params(arch)
    dense = prefill_flops(arch, prompt) - attn - expert
    compute = (dense + expert / MOE_GEMM_EFFICIENCY) / (peak * eff) + attn / (dev.bf16_peak() * eff)
    compute += prompt * elementwise_bytes_per_token(arch) / dev.bw_bytes_s
    return compute


def prefill_comm_s(dev: DeviceModel, arch: ModelArch, lay: Layout, prompt: int) -> float:
    """The exposed tensor-parallel and expert traffic of :func:`prefill_device_s` on this layout."""
    comm = 0.0
    tokens = float(prompt)
    if lay.tp > 1:  # every rank of the group waits for each all-reduce of the full activations
        comm += lay.tp * 2.0 * arch.layers * allreduce_s(dev, tokens * arch.hidden * 2.0, lay.tp) * TP_EXPOSED
    if arch.moe is not None and lay.dpa > 1:
        msg = tokens / lay.tp * arch.moe.active * arch.hidden * (DISPATCH_BYTES + COMBINE_BYTES)
        comm += lay.tp * moe_layers(arch) * all_to_all_s(dev, msg, lay.tp * lay.dpa) * COMM_EXPOSED
    return comm


def prefill_latency_s(dev: DeviceModel, arch: ModelArch, num: Numerics, lay: Layout, prompt: int) -> float:
    """Time to first token for one prompt on an idle replica: its attention group's share."""
    return prefill_latency_from(prefill_device_s(dev, arch, num, lay, prompt), lay)


def prefill_latency_from(device_s: float, lay: Layout) -> float:
    """:func:`prefill_latency_s` from the prompt's device-seconds (:func:`prefill_device_s`)."""
    group = lay.tp * lay.pp
    return device_s / group + (lay.pp - 1) * PP_HOP_S

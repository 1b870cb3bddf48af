"""One training step on one parallel layout: time, what bounds it, and memory per device.

step = (m + (pp−1)/v)·t_mb + exposed data-parallel sync, where m micro-batches each take
t_mb = GEMM + elementwise + exposed TP/CP/EP communication (Narayanan et al. 2021, PTD-P §2.2
for the interleaved bubble (pp−1)/v per m micro-batches). GEMMs run at peak × the stack's
``train_mfu`` factor; everything else is first-principles bytes over fabrics. Constants below
are global model assumptions, calibrated once over every case in shared/validation (none is
per case or per accelerator).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from planner.models.catalog import ModelArch
from planner.perf.arch_math import (
    active_routed_params,
    attention_fwd_flops,
    dense_params,
    layer_activation_bytes,
    mlp_width,
    moe_layers,
    routed_expert_params,
    training_flops_per_token,
)
from planner.perf.comm import all_to_all_s, allreduce_s
from planner.perf.device import DeviceModel

ELEMENTWISE_ELEMENTS = (90.0, 18.0)
"""Elements read+written per token per layer by memory-bound ops (norms, residuals, RoPE,
activations, casts) over forward and backward, per hidden unit and per MLP unit: a·h + b·F.
Calibrated; magnitude as in Korthikanti et al. 2022 §4 (the non-GEMM share of a layer)."""

MOE_GEMM_EFFICIENCY = 0.6
"""Grouped expert GEMMs reach this share of the dense GEMM efficiency: many small matmuls, uneven
token counts per expert, router and permutation kernels (Megatron-Core MoE, 2024). Calibrated."""

MOE_PERMUTE_ELEMENTS = 12.0
"""Elements per routed token copy per MoE layer spent on permute/unpermute and routing."""

TP_EXPOSED = 0.8
"""Share of tensor-parallel all-reduce/reduce-scatter time not hidden behind GEMMs (Megatron-Core
with sequence parallelism; TransformerEngine overlaps part of it). Calibrated."""

CP_EXPOSED = 0.3
"""Share of ring-attention KV exchange not hidden behind attention compute (Liu et al. 2023)."""

EP_EXPOSED = 0.7
"""Share of MoE all-to-all time not overlapped with computation (Megatron-Core 2024 dispatchers
overlap little; DeepSeek's DualPipe hides nearly all). Calibrated."""

DP_OVERLAP = 1.0
"""Gradient reduce-scatter / parameter all-gather overlap with one micro-batch's compute
(Megatron --overlap-grad-reduce / --overlap-param-gather; FSDP prefetch)."""

FP8_GEMM_EFFICIENCY = 0.75
"""FP8 training GEMMs reach this share of the bf16 GEMM efficiency relative to the fp8 peak
(per-tensor scaling, casts, smaller tiles); attention stays bf16 (torchao Float8, TE)."""

GRAD_BYTES = 4.0
"""Gradient bytes per parameter (fp32 main grads, Megatron's default accumulation)."""

OPTIMIZER_BYTES = 12.0
"""fp32 master weights, Adam m and v: 12 bytes per parameter, sharded over data parallelism."""


@dataclass(frozen=True)
class TrainLayout:
    tp: int = 1
    pp: int = 1
    dp: int = 1
    cp: int = 1
    ep: int = 1
    vpp: int = 1
    micro_batch: int = 1
    recompute: str = "selective"
    """none | selective (attention core only) | partial (``recompute_fraction`` of layers in full) | full."""
    zero: int = 1
    """1: distributed optimizer (ZeRO-1); 3: fully sharded (FSDP / ZeRO-3)."""

    recompute_fraction: float = 0.0
    """Share of layers recomputed in full (1 for 'full', 0 for none/selective)."""

    @property
    def devices(self) -> int:
        return self.tp * self.pp * self.dp * self.cp

    @property
    def redo_fraction(self) -> float:
        return 1.0 if self.recompute == "full" else (self.recompute_fraction if self.recompute == "partial" else 0.0)


@dataclass(frozen=True)
class TrainMemory:
    weights: float
    gradients: float
    optimizer: float
    activations: float

    @property
    def total(self) -> float:
        return self.weights + self.gradients + self.optimizer + self.activations


@dataclass(frozen=True)
class StepTime:
    gemm_s: float
    elementwise_s: float
    tp_s: float
    cp_s: float
    ep_s: float
    bubble_s: float
    dp_s: float
    micro_batches: int
    global_batch_tokens: float

    @property
    def step_s(self) -> float:
        return self.gemm_s + self.elementwise_s + self.tp_s + self.cp_s + self.ep_s + self.bubble_s + self.dp_s

    def shares(self) -> dict[str, float]:
        """Each component's share of the step (for explanations)."""
        total = self.step_s or 1.0
        return {
            "gemm": self.gemm_s / total,
            "elementwise": self.elementwise_s / total,
            "tp": self.tp_s / total,
            "cp": self.cp_s / total,
            "ep": self.ep_s / total,
            "bubble": self.bubble_s / total,
            "dp": self.dp_s / total,
        }

    def bottleneck(self) -> str:
        """'compute' unless one overhead takes more than 15 % of the step."""
        parts = {
            "memory bandwidth (non-GEMM ops)": self.elementwise_s,
            "interconnect (tensor parallel)": self.tp_s,
            "interconnect (context parallel)": self.cp_s,
            "interconnect (expert all-to-all)": self.ep_s,
            "pipeline bubble": self.bubble_s,
            "interconnect (data-parallel sync)": self.dp_s,
        }
        name, worst = max(parts.items(), key=lambda kv: kv[1])
        return name if worst > 0.15 * self.step_s else "compute"


def local_params(arch: ModelArch, lay: TrainLayout) -> tuple[float, float]:
    """(dense, routed-expert) parameters held by one device before any ZeRO sharding."""
    mp = lay.tp * lay.pp
    return dense_params(arch) / mp, routed_expert_params(arch) / (mp * lay.ep)


def memory(arch: ModelArch, seq_len: int, lay: TrainLayout) -> TrainMemory:
    """Bytes per device: bf16 weights, fp32 grads, Adam state over the DP group, activations.

    Activations: the first pipeline stage holds pp micro-batches of L/pp layers (1F1B), plus
    (pp−1)/(pp·v) more when interleaved; the last stage also holds fp32 logits s·b·V·4/t.
    """
    dense, routed = local_params(arch, lay)
    dp_dense = lay.dp * lay.cp
    dp_exp = max(1, dp_dense // lay.ep)
    shard = (dp_dense, dp_exp) if lay.zero >= 3 else (1, 1)
    weights = 2.0 * (dense / shard[0] + routed / shard[1])
    grads = GRAD_BYTES * (dense / shard[0] + routed / shard[1])
    optim = OPTIMIZER_BYTES * (dense / dp_dense + routed / dp_exp)
    tokens = seq_len / lay.cp
    f = lay.redo_fraction
    kept = layer_activation_bytes(arch, tokens, lay.micro_batch, lay.tp, "selective")
    per_layer = (1.0 - f) * kept + f * layer_activation_bytes(arch, tokens, lay.micro_batch, lay.tp, "full")
    interleave = 1.0 + (lay.pp - 1) / (lay.pp * lay.vpp) if lay.vpp > 1 else 1.0
    first = per_layer * arch.layers * interleave
    logits = tokens * lay.micro_batch * arch.vocab * 4.0 / lay.tp
    last = per_layer * arch.layers / lay.pp + logits
    acts = first + logits if lay.pp == 1 else max(first, last)
    return TrainMemory(weights, grads, optim, acts)


def step_time(
    dev: DeviceModel, arch: ModelArch, seq_len: int, precision: str, lay: TrainLayout, global_batch_tokens: float
) -> StepTime:
    """Time of one optimizer step of ``global_batch_tokens`` tokens on this layout."""
    s = float(seq_len)
    d = lay.devices
    m = max(1, round(global_batch_tokens / (lay.dp * lay.micro_batch * s)))
    gbt = m * lay.dp * lay.micro_batch * s
    f_tok = training_flops_per_token(arch, seq_len)
    attn_tok = 3.0 * attention_fwd_flops(arch, s)
    f = lay.redo_fraction
    redo = 1.0 + f / 3.0
    if lay.recompute == "selective":
        redo += attention_fwd_flops(arch, s) / f_tok
    eff = dev.efficiency["train_mfu"]
    bf16 = dev.bf16_peak()
    lin_peak = bf16
    if precision == "fp8" and dev.has_peak("fp8"):
        lin_peak = dev.peak_flops("fp8")[0] * FP8_GEMM_EFFICIENCY
    flops_dev = gbt * f_tok / d
    attn_dev = gbt * attn_tok / d
    expert_dev = gbt * 6.0 * active_routed_params(arch) / d
    dense_lin = flops_dev - attn_dev - expert_dev
    gemm = redo * (
        dense_lin / (lin_peak * eff) + expert_dev / (lin_peak * eff * MOE_GEMM_EFFICIENCY) + attn_dev / (bf16 * eff)
    )

    tokens_dev = gbt / (lay.dp * lay.cp)  # tokens through each device's layers per step
    layers_dev = arch.layers / lay.pp
    a, b = ELEMENTWISE_ELEMENTS
    elems = a * arch.hidden + b * mlp_width(arch)
    if arch.moe is not None:
        elems += MOE_PERMUTE_ELEMENTS * arch.moe.active * arch.hidden * moe_layers(arch) / arch.layers
    elt_redo = 1.0 + f / 3.0
    elementwise = elt_redo * tokens_dev * layers_dev * elems * 2.0 / lay.tp / dev.bw_bytes_s

    act_bytes = 2.0  # bf16 activations on the wire
    mb_tokens = lay.micro_batch * s / lay.cp
    n_coll = 4 + 2 * f
    tp = m * layers_dev * n_coll * allreduce_s(dev, mb_tokens * arch.hidden * act_bytes, lay.tp) * TP_EXPOSED

    cp = 0.0
    if lay.cp > 1:
        kv_elems = 2.0 * max(1.0, arch.kv_heads / lay.tp) * arch.head_dim
        chunk = mb_tokens * kv_elems * act_bytes
        hop = chunk / (dev.scale_up_bytes_s if lay.tp * lay.cp <= dev.domain else dev.scale_out_bytes_s)
        cp = m * layers_dev * 3.0 * (lay.cp - 1) * hop * CP_EXPOSED

    ep = 0.0
    if arch.moe is not None and lay.ep > 1:
        moe_dev = moe_layers(arch) / lay.pp
        msg = mb_tokens / lay.tp * arch.moe.active * arch.hidden * act_bytes
        n_a2a = 4 + 2 * f
        ep = m * moe_dev * n_a2a * all_to_all_s(dev, msg, lay.ep, lay.tp * lay.cp) * EP_EXPOSED

    # the slowest stage holds ceil(L/pp) layers: uneven splits stretch every micro-batch
    imbalance = math.ceil(arch.layers / lay.pp) * lay.pp / arch.layers
    gemm, elementwise, tp, cp, ep = (x * imbalance for x in (gemm, elementwise, tp, cp, ep))
    per_mb = (gemm + elementwise + tp + cp + ep) / m
    bubble = (lay.pp - 1) / lay.vpp * per_mb

    dense, routed = local_params(arch, lay)
    dp_dense = lay.dp * lay.cp
    dp_exp = max(1, dp_dense // lay.ep)
    factor = 1.5 if lay.zero >= 3 else 1.0  # FSDP gathers parameters again for the backward pass
    stride = lay.tp
    sync = factor * (
        allreduce_s(dev, dense * 2.0, dp_dense, stride) + allreduce_s(dev, routed * 2.0, dp_exp, stride * lay.ep)
    )
    dp = max(0.0, sync - DP_OVERLAP * per_mb)
    return StepTime(gemm, elementwise, tp, cp, ep, bubble, dp, m, gbt)

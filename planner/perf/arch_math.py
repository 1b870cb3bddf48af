"""Transformer arithmetic: FLOPs, bytes of weights and KV cache. Public formulas only.

References: Kaplan et al. 2020 and Chowdhery et al. 2022 (PaLM, appendix B) for FLOPs per token;
Korthikanti et al. 2022 for activation memory; DeepSeek-V2/V3 reports for the MLA KV cache.
"""

from __future__ import annotations

from planner.models.catalog import ModelArch

BYTES = {"bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0}


def training_flops_per_token(arch: ModelArch, seq_len: int) -> float:
    """6·N_act + 12·L·d·s (PaLM appendix B: the attention term counts QK^T and AV)."""
    return 6.0 * arch.active_b * 1e9 + 12.0 * arch.layers * arch.heads * arch.head_dim * seq_len


def forward_flops_per_token(arch: ModelArch, context: float) -> float:
    """2·N_act + 4·L·(heads·head_dim)·context: one token's forward pass attending to ``context``."""
    return 2.0 * arch.active_b * 1e9 + 4.0 * arch.layers * arch.heads * arch.head_dim * context


def prefill_flops(arch: ModelArch, prompt: int) -> float:
    """Forward FLOPs for a whole prompt, causal attention (mean context prompt/2)."""
    return prompt * forward_flops_per_token(arch, prompt / 2.0)


def routed_expert_params(arch: ModelArch) -> float:
    """Parameters in routed experts: E·(N − N_act)/(E − k), from total and active counts.

    With n non-expert params and p params per expert (summed over layers):
    N = n + E·p and N_act = n + k·p, so E·p = E·(N − N_act)/(E − k).
    """
    if arch.moe is None or arch.moe.experts <= arch.moe.active:
        return 0.0
    e, k = arch.moe.experts, arch.moe.active
    return e * (arch.params_b - arch.active_b) * 1e9 / (e - k)


def weight_bytes(arch: ModelArch, precision: str) -> float:
    return arch.params_b * 1e9 * BYTES[precision]


def weights_read_per_step(arch: ModelArch, precision: str, batch: int) -> float:
    """Bytes of weights one decode step reads at batch ``batch``.

    Dense: all weights. MoE: non-expert weights plus the expected share of experts touched,
    1 − (1 − k/E)^b when each of b tokens picks k of E experts uniformly.
    """
    total = weight_bytes(arch, precision)
    if arch.moe is None:
        return total
    routed = routed_expert_params(arch) * BYTES[precision]
    touched = 1.0 - (1.0 - arch.moe.active / arch.moe.experts) ** max(batch, 1)
    return (total - routed) + routed * touched


def kv_bytes_per_token(arch: ModelArch, kv_precision: str, tp: int) -> float:
    """KV-cache bytes per token held across a tensor-parallel group of ``tp`` devices.

    GQA/MHA/MQA: 2·L·kv_heads·head_dim·bytes, with each device holding at least one KV head
    (heads replicate when tp > kv_heads). MLA: L·(kv_lora_rank + rope_head_dim)·bytes, held
    once per sequence (data-parallel attention, as DeepSeek deploys it).
    """
    b = BYTES[kv_precision]
    if arch.attention == "mla":
        rank = arch.kv_lora_rank or 0
        rope = arch.rope_head_dim or 0
        return arch.layers * (rank + rope) * b
    heads_per_device = max(1.0, arch.kv_heads / tp)
    return 2.0 * arch.layers * heads_per_device * tp * arch.head_dim * b


def training_state_bytes(arch: ModelArch, model_parallel: int, data_parallel: int) -> float:
    """Mixed-precision Adam: 2 (bf16 weights) + 2 (grads) per param over the model-parallel group,
    plus 12 (fp32 master, m, v) sharded over every device (distributed optimizer / ZeRO-1)."""
    n = arch.params_b * 1e9
    return 4.0 * n / model_parallel + 12.0 * n / (model_parallel * data_parallel)


def activation_bytes(arch: ModelArch, seq_len: int, tp: int, recompute: str) -> float:
    """Activations per device for one micro-batch of one sequence under 1F1B pipelining.

    Korthikanti et al. 2022: per layer s·b·h·(34 + 5·a·s/h) bytes without recomputation,
    34·s·b·h with selective recomputation, divided by tp with sequence parallelism; the first
    stage holds pp micro-batches of L/pp layers, i.e. L layers' worth. Full recomputation keeps
    only each layer's input: 2·s·h bytes per layer.
    """
    s, h, layers = float(seq_len), float(arch.hidden), float(arch.layers)
    if recompute == "full":
        return 2.0 * s * h * layers / tp
    if recompute == "selective":
        return 34.0 * s * h * layers / tp
    return s * h * layers * (34.0 + 5.0 * arch.heads * s / h) / tp

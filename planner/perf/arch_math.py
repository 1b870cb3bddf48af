"""Transformer arithmetic: FLOPs, bytes of weights, KV cache and training state. Public formulas only.

References: Kaplan et al. 2020 and Chowdhery et al. 2022 (PaLM, appendix B) for FLOPs per token;
Narayanan et al. 2021 (Megatron-LM PTD-P) for the vocabulary term; Korthikanti et al. 2022 for
activation memory; DeepSeek-V2/V3 reports for the MLA KV cache and absorbed decode attention.
"""

from __future__ import annotations

from planner.models.catalog import ModelArch

BYTES = {"bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0, "int4": 0.5}


def arch_key(arch: ModelArch) -> str:
    """The architecture's content as a hashable value: equal keys, equal estimates."""
    return arch.model_dump_json()


# ---- parameters ---------------------------------------------------------------------------
def embedding_params(arch: ModelArch) -> float:
    """Input-embedding rows V·d: counted in N but a lookup, not a matmul (untied embeddings)."""
    return float(arch.vocab) * arch.hidden


def matmul_params(arch: ModelArch) -> float:
    """Parameters a token multiplies through: N_act − V·d (the LM head stays in)."""
    return max(arch.active_b * 1e9 - embedding_params(arch), arch.active_b * 1e9 * 0.5)


def moe_layers(arch: ModelArch) -> int:
    if arch.moe is None:
        return 0
    return max(1, arch.layers - arch.moe.dense_layers)


def routed_expert_params(arch: ModelArch) -> float:
    """Parameters in routed experts: E·(N − N_act)/(E − k), from total and active counts.

    With n non-expert params and p params per expert (summed over layers):
    N = n + E·p and N_act = n + k·p, so E·p = E·(N − N_act)/(E − k).
    """
    if arch.moe is None or arch.moe.experts <= arch.moe.active:
        return 0.0
    e, k = arch.moe.experts, arch.moe.active
    return e * (arch.params_b - arch.active_b) * 1e9 / (e - k)


def active_routed_params(arch: ModelArch) -> float:
    """Routed-expert parameters one token passes through: k/E of the routed total."""
    if arch.moe is None:
        return 0.0
    return routed_expert_params(arch) * arch.moe.active / arch.moe.experts


def dense_params(arch: ModelArch) -> float:
    """Everything but the routed experts: attention, dense FFNs, shared experts, embeddings."""
    return arch.params_b * 1e9 - routed_expert_params(arch)


# ---- FLOPs ---------------------------------------------------------------------------------
def _qk_v_dims(arch: ModelArch) -> tuple[float, float]:
    """Per-head widths of Q·K and of V. MLA: head_dim is the Q/K width (nope + rope), V = nope."""
    if arch.attention == "mla":
        rope = float(arch.rope_head_dim or 0)
        return float(arch.head_dim), max(float(arch.head_dim) - rope, 1.0)
    return float(arch.head_dim), float(arch.head_dim)


def attention_fwd_flops(arch: ModelArch, context: float) -> float:
    """Forward attention FLOPs of one token attending to ``context`` tokens: 2·L·a·(d_qk + d_v)·c.

    For MHA/GQA this is PaLM's 4·L·a·d_h·c (QK^T and AV); MLA uses its wider Q/K heads.
    """
    qk, v = _qk_v_dims(arch)
    return 2.0 * arch.layers * arch.heads * (qk + v) * context


def decode_attention_flops(arch: ModelArch, context: float) -> float:
    """Attention FLOPs of one decode token. MLA runs absorbed (DeepSeek-V2 §2.1.2): per layer
    2·a·(2·r_kv + r_rope)·c, since scores and values are taken against the latent cache."""
    if arch.attention == "mla":
        rank = float(arch.kv_lora_rank or 512)
        rope = float(arch.rope_head_dim or 0)
        return 2.0 * arch.layers * arch.heads * (2.0 * rank + rope) * context
    return attention_fwd_flops(arch, context)


def training_flops_per_token(arch: ModelArch, seq_len: int) -> float:
    """Model FLOPs per trained token: 6·N_mm + 3·attention(s), i.e. 6·N + 12·L·d·s for MHA.

    PaLM appendix B counts attention without the causal discount; Megatron's 72·l·h²·(1 + s/6h
    + V/12lh) is the same count (the vocab term is the LM head inside N_mm).
    """
    return 6.0 * matmul_params(arch) + 3.0 * attention_fwd_flops(arch, float(seq_len))


def forward_flops_per_token(arch: ModelArch, context: float) -> float:
    """2·N_mm + attention: one token's forward pass attending to ``context`` tokens."""
    return 2.0 * matmul_params(arch) + attention_fwd_flops(arch, context)


def decode_flops_per_token(arch: ModelArch, context: float) -> float:
    """2·N_mm + decode attention (absorbed for MLA) at ``context`` cached tokens."""
    return 2.0 * matmul_params(arch) + decode_attention_flops(arch, context)


def prefill_flops(arch: ModelArch, prompt: int) -> float:
    """Forward FLOPs for a whole prompt, causal attention (mean context prompt/2)."""
    return prompt * forward_flops_per_token(arch, prompt / 2.0)


# ---- bytes ---------------------------------------------------------------------------------
def weight_bytes(arch: ModelArch, precision: str) -> float:
    return arch.params_b * 1e9 * BYTES[precision]


def expert_touched_fraction(arch: ModelArch, tokens: float) -> float:
    """Expected share of a layer's routed experts hit by ``tokens`` tokens: 1 − (1 − k/E)^tokens."""
    if arch.moe is None:
        return 1.0
    return 1.0 - (1.0 - arch.moe.active / arch.moe.experts) ** max(tokens, 1.0)


def weights_read_per_step(arch: ModelArch, precision: str, batch: int) -> float:
    """Bytes of weights one decode step reads at batch ``batch``.

    Dense: all weights. MoE: non-expert weights plus the expected share of experts touched,
    1 − (1 − k/E)^b when each of b tokens picks k of E experts uniformly.
    """
    total = weight_bytes(arch, precision)
    if arch.moe is None:
        return total
    routed = routed_expert_params(arch) * BYTES[precision]
    return (total - routed) + routed * expert_touched_fraction(arch, batch)


def kv_elements_per_token_layer(arch: ModelArch) -> float:
    """Cached elements per token per layer: 2·kv_heads·d_h, or r_kv + r_rope for MLA."""
    if arch.attention == "mla":
        return float((arch.kv_lora_rank or 0) + (arch.rope_head_dim or 0))
    return 2.0 * arch.kv_heads * arch.head_dim


def kv_bytes_per_token_device(arch: ModelArch, kv_precision: str, tp: int) -> float:
    """KV bytes per token on one device of a ``tp``-way attention group (all layers).

    GQA/MHA/MQA heads split over tp, each device holding at least one KV head; the MLA latent is
    shared by every head, so each tensor-parallel rank keeps the whole of it.
    """
    per_layer = kv_elements_per_token_layer(arch) * BYTES[kv_precision]
    if arch.attention != "mla":
        per_layer *= max(1.0, arch.kv_heads / tp) / arch.kv_heads
    return arch.layers * per_layer


def kv_bytes_per_token(arch: ModelArch, kv_precision: str, tp: int) -> float:
    """KV-cache bytes per token held across a tensor-parallel group of ``tp`` devices."""
    return kv_bytes_per_token_device(arch, kv_precision, tp) * tp


def training_state_bytes(arch: ModelArch, model_parallel: int, data_parallel: int) -> float:
    """Mixed-precision Adam: 2 (bf16 weights) + 2 (grads) per param over the model-parallel group,
    plus 12 (fp32 master, m, v) sharded over every device (distributed optimizer / ZeRO-1)."""
    n = arch.params_b * 1e9
    return 4.0 * n / model_parallel + 12.0 * n / (model_parallel * data_parallel)


def activation_bytes(arch: ModelArch, seq_len: int, tp: int, recompute: str) -> float:
    """Activations per device for one sequence per micro-batch under 1F1B (see training_memory)."""
    return layer_activation_bytes(arch, float(seq_len), 1, tp, recompute) * arch.layers


def mlp_width(arch: ModelArch) -> float:
    """Intermediate width a token passes through: ffn, or k·expert_ffn (+ shared) for MoE."""
    if arch.moe is not None and arch.moe.expert_ffn_hidden:
        shared = arch.moe.shared_experts * arch.moe.expert_ffn_hidden
        return float(arch.moe.active * arch.moe.expert_ffn_hidden + shared)
    return float(arch.ffn_hidden or 4 * arch.hidden)


def layer_activation_bytes(arch: ModelArch, tokens: float, micro_batch: int, tp: int, recompute: str) -> float:
    """One layer's stored activations for ``micro_batch`` sequences of ``tokens`` tokens.

    Korthikanti et al. 2022 with sequence parallelism and flash attention (no s² scores):
    s·b·h·(15 + 19·F/4h)/t bytes — attention and norms 15·sbh, the MLP 19·sbh scaled to its
    width F. Full recomputation keeps only each layer's input, 2·s·b·h/t.
    """
    sbh = tokens * micro_batch * arch.hidden
    if recompute == "full":
        return 2.0 * sbh / tp
    return sbh * (15.0 + 19.0 * mlp_width(arch) / (4.0 * arch.hidden)) / tp

"""Physics of the performance model: each effect moves the estimate the way the formula says."""

from __future__ import annotations

from dataclasses import replace

import pytest

from planner.models.catalog import ModelArch
from planner.perf.arch_math import (
    kv_bytes_per_token_device,
    matmul_params,
    routed_expert_params,
    training_flops_per_token,
)
from planner.perf.device import DEFAULT_EFFICIENCY, device_model
from planner.perf.inference import InferenceSetup, ReplicaShape, evaluate_shape
from planner.perf.serving_step import Layout, Numerics, decode_step
from planner.perf.train_step import TrainLayout, memory, step_time
from planner.perf.training import TrainingPool, TrainingSetup, evaluate, size_pool
from tests.conftest import mini_with


@pytest.fixture(scope="module")
def h100(bundled):
    return device_model(bundled, "nvidia-h100-sxm-80gb")


def _arch(bundled, name: str) -> ModelArch:
    return bundled.models[name].arch


def test_flops_and_bytes(bundled) -> None:
    llama = _arch(bundled, "llama-3.1-8b")
    s = 4096
    mha_attention = 12 * llama.layers * llama.heads * llama.head_dim * s
    assert training_flops_per_token(llama, s) == pytest.approx(6 * matmul_params(llama) + mha_attention)
    ds = _arch(bundled, "deepseek-v3")
    assert kv_bytes_per_token_device(ds, "bf16", 8) == 61 * 576 * 2  # MLA latent, whole on every TP rank
    assert kv_bytes_per_token_device(llama, "bf16", 8) == 32 * 2 * 1 * 128 * 2  # one of 8 KV heads
    assert kv_bytes_per_token_device(llama, "bf16", 16) == kv_bytes_per_token_device(llama, "bf16", 8)
    assert routed_expert_params(ds) == pytest.approx(256 * (671 - 37) * 1e9 / 248)


def test_data_parallel_efficiency_falls_when_gradients_outrun_scale_out(bundled, h100) -> None:
    """Fixed global batch: more DP ranks leave fewer micro-batches to hide the gradient sync behind."""
    arch = _arch(bundled, "llama-3.1-70b")
    setup = TrainingSetup(arch, 1e12, 4096, 100, "bf16", tp=8, pp=1, global_batch_tokens=2**21)
    small = evaluate(h100, setup, 64)
    large = evaluate(h100, setup, 2048)
    assert isinstance(small, TrainingPool) and isinstance(large, TrainingPool)
    assert large.tokens_per_s_per_device < 0.9 * small.tokens_per_s_per_device
    assert large.step is not None and small.step is not None
    assert large.step.shares()["dp"] > 0.1 > small.step.shares()["dp"]
    fast_net = replace(h100, scale_out_bytes_s=h100.scale_out_bytes_s * 8)
    better = evaluate(fast_net, setup, 2048)
    assert isinstance(better, TrainingPool) and better.tokens_per_s_per_device > large.tokens_per_s_per_device


def test_pipeline_bubble_recompute_fp8_and_expert_traffic(bundled, h100) -> None:
    arch = _arch(bundled, "llama-3.1-70b")
    lay = TrainLayout(tp=8, pp=8, dp=1, vpp=1, recompute="none")
    few = step_time(h100, arch, 4096, "bf16", lay, 8 * 4096)
    many = step_time(h100, arch, 4096, "bf16", lay, 256 * 4096)
    assert few.bubble_s / few.step_s > 0.4 > many.bubble_s / many.step_s  # (pp-1)/m
    full = step_time(h100, arch, 4096, "bf16", replace(lay, recompute="full", recompute_fraction=1.0), 256 * 4096)
    assert full.gemm_s == pytest.approx(many.gemm_s * 4 / 3, rel=1e-6)
    assert (
        memory(arch, 4096, replace(lay, recompute="full", recompute_fraction=1.0)).activations
        < memory(arch, 4096, lay).activations / 5
    )
    fp8 = step_time(h100, arch, 4096, "fp8", lay, 256 * 4096)
    assert many.step_s / 2 < fp8.step_s < many.step_s
    moe = _arch(bundled, "deepseek-v3")
    ep1 = step_time(h100, moe, 4096, "bf16", TrainLayout(tp=1, pp=16, dp=64, ep=1), 2**24)
    ep64 = step_time(h100, moe, 4096, "bf16", TrainLayout(tp=1, pp=16, dp=64, ep=64), 2**24)
    assert ep1.ep_s == 0 < ep64.ep_s


def test_training_pool_meets_deadline_and_memory(bundled, h100) -> None:
    arch = _arch(bundled, "llama-3.1-405b")
    pool = size_pool(h100, TrainingSetup(arch, 2e12, 8192, 120, "bf16"), 8, None)
    assert isinstance(pool, TrainingPool) and pool.days <= 120 and pool.devices % 8 == 0
    assert pool.memory is not None and pool.memory.total <= 0.95 * 80e9
    assert pool.tp * pool.pp * pool.dp * pool.cp == pool.devices


def test_decode_amortises_weights_until_the_batch_saturates(bundled, h100) -> None:
    arch = _arch(bundled, "llama-3.1-8b")
    num = Numerics("fp8", "fp8", "fp8")
    one, two = (decode_step(h100, arch, num, Layout(1), b, 1000) for b in (1, 2))
    assert one.bound == "memory bandwidth" and two.step_s < 1.05 * one.step_s  # weights dominate
    big, bigger = (decode_step(h100, arch, num, Layout(1), b, 1000) for b in (1024, 2048))
    assert bigger.step_s > 1.8 * big.step_s  # per-token work dominates
    bf16 = decode_step(h100, arch, Numerics("bf16", "bf16", "bf16"), Layout(1), 1, 1000)
    assert one.step_s < 0.6 * bf16.step_s  # half the weight bytes


def test_slo_speculation_and_disaggregation(bundled, h100) -> None:
    arch = _arch(bundled, "llama-3.1-70b")
    base = InferenceSetup(arch, "fp8", "fp8", 2000, 400, 2000, 40)
    shape = evaluate_shape(h100, base, 4, 1)
    assert isinstance(shape, ReplicaShape) and shape.tpot_ms <= 40 and shape.limited_by == "TPOT target"
    tight = evaluate_shape(h100, replace(base, tpot_ms=25), 4, 1)
    assert isinstance(tight, ReplicaShape) and tight.batch < shape.batch
    spec = evaluate_shape(h100, replace(base, draft_tokens=1, acceptance=0.8), 4, 1)
    assert isinstance(spec, ReplicaShape) and spec.output_tokens_per_s > shape.output_tokens_per_s
    split = evaluate_shape(h100, replace(base, disaggregated=True), 4, 1)
    assert isinstance(split, ReplicaShape) and split.prefill_devices >= 1 and split.batch > shape.batch
    offline = evaluate_shape(h100, replace(base, scenario="offline"), 4, 1)
    assert isinstance(offline, ReplicaShape) and offline.batch >= shape.batch


def test_wide_expert_parallel_replica_for_moe(bundled, h100) -> None:
    arch = _arch(bundled, "deepseek-v3")
    setup = InferenceSetup(arch, "fp8", "fp8", 2000, 1000, 5000, 60, scenario="offline")
    tp8 = evaluate_shape(h100, setup, 8, 1, dp_attention=1)
    assert not isinstance(tp8, ReplicaShape)  # 671 GB of fp8 weights do not fit 8 x 80 GB
    wide = evaluate_shape(h100, setup, 1, 1, dp_attention=32)
    assert isinstance(wide, ReplicaShape) and wide.devices == 32


def test_missing_efficiency_falls_back_and_says_so(tmp_path) -> None:
    cat = mini_with(tmp_path, {"stacks": [{"id": "cann", "name": "CANN", "efficiency": {}}]})
    dev = device_model(cat, "npu-b")
    assert dev.efficiency == DEFAULT_EFFICIENCY
    assert all(dev.efficiency_source[k] == "default" for k in DEFAULT_EFFICIENCY)
    assert any("no public train_mfu efficiency" in w for w in dev.warnings)

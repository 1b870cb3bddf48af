"""Predict the metric a measured case names, from its inputs only.

Returns (value, notes) or raises NotScored with the reason the case cannot be predicted (the
setting lacks an input the metric needs, or the metric is outside the model).
"""

from __future__ import annotations

from dataclasses import replace

from planner.perf.case_inference import predict_inference
from planner.perf.cases import DEFAULT_SEQ_LEN, REFERENCE_DEVICES, Case, int_or_none, mentions, parallel
from planner.perf.device import DeviceModel
from planner.perf.errors import NotScored
from planner.perf.training import TrainingPool, TrainingSetup, evaluate

TRAINING_METRICS = {
    "achieved_tflops_per_device",
    "mfu",
    "tokens_per_s_per_device",
    "iteration_s",
    "device_hours",
    "time_to_train_min",
}


def predict(case: Case, dev: DeviceModel) -> tuple[float, list[str]]:
    if case.arch is None:
        raise NotScored(f"model block unusable: {case.arch_error}")
    if case.dies_per_device > 1 and dev.accelerator.dies_per_package != case.dies_per_device:
        case.assumptions.append(
            f"case counts {case.dies_per_device} dies per device; catalog part has {dev.accelerator.dies_per_package}"
        )
    if case.kind == "training":
        return predict_training(case, dev)
    if case.kind == "inference":
        return predict_inference(case, dev)
    raise NotScored(f"unknown kind '{case.kind}'")


def training_setup(case: Case) -> TrainingSetup:
    st = case.setting
    assert case.arch is not None
    seq = int_or_none(st.get("seq_len"))
    if seq is None:
        seq = DEFAULT_SEQ_LEN
        case.assumptions.append(f"seq_len not given: {DEFAULT_SEQ_LEN}")
    precision = "fp8" if mentions(st.get("precision"), "fp8") else "bf16"
    par = parallel(st)
    zero = 3 if par.get("fsdp") in (True, "FULL_SHARD") or par.get("zero") == 3 else None
    vpp = int_or_none(par.get("vpp"))
    gbt = st.get("global_batch_tokens")
    if not gbt and st.get("global_batch_sequences"):
        gbt = float(st["global_batch_sequences"]) * seq
    recompute = st.get("recompute") if st.get("recompute") in ("none", "selective", "full") else None
    tokens = st.get("training_tokens") or 1e12
    return TrainingSetup(
        arch=case.arch,
        tokens=float(tokens),
        seq_len=seq,
        deadline_days=3650.0,
        precision=precision,
        tp=int_or_none(par.get("tp")),
        pp=int_or_none(par.get("pp")),
        dp=int_or_none(par.get("dp")),
        cp=int_or_none(par.get("cp")),
        ep=int_or_none(par.get("ep")),
        vpp=vpp,
        micro_batch=int_or_none(st.get("micro_batch")),
        recompute=recompute,
        zero=zero,
        global_batch_tokens=float(gbt) if gbt else None,
    )


def predict_training(case: Case, dev: DeviceModel) -> tuple[float, list[str]]:
    metric = case.metric
    if metric not in TRAINING_METRICS:
        raise NotScored(f"metric '{metric}' is not a training metric the model predicts")
    st = case.setting
    if metric in ("device_hours", "time_to_train_min") and not st.get("training_tokens"):
        raise NotScored("setting.training_tokens is null: a whole-run total needs the token count")
    if metric == "iteration_s" and not (st.get("global_batch_tokens") or st.get("global_batch_sequences")):
        raise NotScored("iteration time needs the global batch")
    setup = training_setup(case)
    devices = case.devices
    if devices is None:
        if metric == "time_to_train_min":
            raise NotScored("time to train needs the device count")
        devices = REFERENCE_DEVICES
        case.assumptions.append(f"device count not given: {REFERENCE_DEVICES}")
    pool = evaluate(dev, setup, int(devices))
    if not isinstance(pool, TrainingPool) and setup.dp is not None:
        pool = evaluate(dev, replace(setup, dp=None), int(devices))
    if not isinstance(pool, TrainingPool):
        raise NotScored(f"no layout: {pool.reason}")
    share = f" {pool.recompute_fraction:.0%}" if pool.recompute == "partial" else ""
    shares = pool.step.shares() if pool.step else {}
    split = " ".join(f"{k} {v:.0%}" for k, v in shares.items() if v >= 0.01)
    notes = [
        f"layout tp{pool.tp} pp{pool.pp} dp{pool.dp} cp{pool.cp} ep{pool.ep} v{pool.vpp} "
        f"recompute {pool.recompute}{share}, {pool.step.micro_batches if pool.step else 0} micro-batches; "
        f"step: {split}",
        *pool.notes,
    ]
    if metric == "achieved_tflops_per_device":
        return pool.achieved_tflops_per_device, notes
    if metric == "mfu":
        peak = case.mfu_peak_tflops
        return (pool.achieved_tflops_per_device / peak if peak else pool.mfu), notes
    if metric == "tokens_per_s_per_device":
        return pool.tokens_per_s_per_device, notes
    if metric == "iteration_s":
        return pool.iteration_s, notes
    if metric == "device_hours":
        return pool.device_hours, notes
    return pool.days * 24 * 60, notes

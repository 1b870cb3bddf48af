"""Inference cases: map a serving measurement onto replicas and predict its metric.

The model picks the replica layout itself inside the measured device pool (pinned tp/pp are
honoured); a disaggregated deployment's prefill and decode pools come from the setting's node
counts. Phase-only measurements (a prefill-only or decode-only benchmark) are predicted from
that phase alone.
"""

from __future__ import annotations

import re
from dataclasses import replace

from planner.perf.cases import Case, int_or_none, mentions, parallel, speculative
from planner.perf.device import DeviceModel
from planner.perf.errors import NotScored
from planner.perf.inference import InferenceSetup, ReplicaShape, evaluate_shape
from planner.perf.serving_step import Layout, Numerics, acceptance_length, decode_step, on_device, prefill_device_s

OUTPUT = ("output_tokens_per_s_system", "output_tokens_per_s_per_device", "output_tokens_per_s_per_node")
INPUT = ("input_tokens_per_s_system", "input_tokens_per_s_per_device", "input_tokens_per_s_per_node")
LATENCY = ("ttft_ms", "tpot_ms")
DEFAULT_NODE = 8


def numerics(case: Case) -> tuple[str, str, str]:
    """(weights, compute, kv) precisions from ``setting.precision``; kv defaults to the compute one."""
    prec = case.setting.get("precision") or {}
    text = str(prec.get("weights") or "") if isinstance(prec, dict) else str(prec)
    if re.search(r"w4a8|int4", text, re.I):
        weights, compute = "int4", "int8"
    elif re.search(r"int8|w8a8", text, re.I):
        weights = compute = "int8"
    elif "fp8" in text.lower():
        weights = compute = "fp8"
    else:
        weights = compute = "bf16"
        if not text:
            case.assumptions.append("weight precision not given: bf16")
    kv_text = str(prec.get("kv") or "") if isinstance(prec, dict) else ""
    kv = "fp8" if "fp8" in kv_text else "int8" if "int8" in kv_text else "bf16" if "bf16" in kv_text else compute
    return weights, compute, kv


def _pools(case: Case) -> tuple[int | None, int | None]:
    """(prefill devices, decode devices) of a disaggregated deployment, from its node counts."""
    text = str(case.setting.get("deployment") or "")
    per_node = case.devices_per_node or DEFAULT_NODE
    m = re.search(r"prefill (\d+) instances? x (\d+) nodes?", text)
    pre = int(m.group(1)) * int(m.group(2)) if m else None
    if pre is None:
        m = re.search(r"(\d+) prefill nodes?", text)
        pre = int(m.group(1)) if m else None
    m = re.search(r"(\d+) decode nodes?", text) or re.search(r"decode (\d+) nodes?", text)
    dec = int(m.group(1)) if m else None
    return (pre * per_node if pre else None), (dec * per_node if dec else None)


def _scale(case: Case, per_device: float) -> float:
    if case.metric.endswith("_per_node"):
        return per_device * (case.devices_per_node or DEFAULT_NODE)
    if case.metric.endswith("_system"):
        if not case.devices:
            raise NotScored("a system total needs the device count")
        return per_device * case.devices
    return per_device


def predict_inference(case: Case, dev: DeviceModel) -> tuple[float, list[str]]:
    st = case.setting
    metric = case.metric
    if metric not in OUTPUT + INPUT + LATENCY:
        raise NotScored(f"metric '{metric}' is not an inference metric the model predicts")
    assert case.arch is not None
    weights, compute, kv = numerics(case)
    if not dev.has_peak(compute):
        compute = dev.peak_flops(compute)[1]
    par = parallel(st)
    drafts, acceptance = speculative(st)
    inp, out = int_or_none(st.get("input_tokens")), int_or_none(st.get("output_tokens"))
    kv_len = int_or_none(st.get("kv_len"))
    batch_raw = st.get("batch")
    dpa_pin = int_or_none(par.get("dp_attention"))
    if metric in INPUT and (out is None or mentions(st.get("deployment"), "prefill only")):
        if inp is None:
            raise NotScored("prefill throughput needs setting.input_tokens")
        return _prefill_only(case, dev, (weights, compute, kv), inp, dpa_pin)
    if metric in OUTPUT and out is None and kv_len is not None and isinstance(batch_raw, int):
        return _decode_only(case, dev, (weights, compute, kv), kv_len, batch_raw, dpa_pin, drafts, acceptance)
    if inp is None or out is None:
        raise NotScored("setting.input_tokens / output_tokens are null: throughput depends on both")
    slo = st.get("slo") or {}
    scenario = "offline" if st.get("scenario") in ("offline", "max_load") or not slo.get("tpot_ms") else "server"
    pre_pool, dec_pool = _pools(case)
    disagg = mentions(st.get("deployment"), "disaggregated")
    setup = InferenceSetup(
        arch=case.arch,
        precision=compute,
        kv_precision=kv,
        input_tokens=inp,
        output_tokens=out,
        ttft_ms=float(slo.get("ttft_ms") or 1e9),
        tpot_ms=float(slo.get("tpot_ms") or 1e9),
        scenario=scenario,
        tp=int_or_none(par.get("tp")),
        pp=int_or_none(par.get("pp")),
        disaggregated=disagg,
        prefill_devices=pre_pool if disagg else None,
        draft_tokens=drafts,
        acceptance=acceptance,
        weight_precision=weights if weights != compute else None,
    )
    pool = dec_pool if disagg and dec_pool else (case.devices if setup.tp is None else None)
    if st.get("concurrency") and pool:
        setup = replace(setup, concurrency=int(st["concurrency"]))
    shape = _best(dev, setup, pool)
    notes = [
        f"replica tp{shape.tp} pp{shape.pp} dp-attention{shape.dp_attention}"
        + (f" + {shape.prefill_devices} prefill devices" if shape.prefill_devices else "")
        + f", batch {shape.batch} ({shape.limited_by}), step {shape.decode_step_ms:.1f} ms, "
        f"TPOT {shape.tpot_ms:.1f} ms, {shape.bottleneck}"
    ]
    if drafts:
        notes.append(f"speculative: {drafts} draft tokens, {shape.accepted_per_step:.2f} accepted per step")
    if metric == "ttft_ms":
        return shape.ttft_ms, notes
    if metric == "tpot_ms":
        return shape.tpot_ms, notes
    rate = shape.output_tokens_per_s if metric in OUTPUT else shape.input_tokens_per_s
    return _scale(case, rate / shape.devices), notes


def _best(dev: DeviceModel, setup: InferenceSetup, pool: int | None) -> ReplicaShape:
    """Best shape per device; with a device pool, only layouts using exactly that many decode devices."""
    found: list[ReplicaShape] = []
    reasons: list[str] = []
    tps = [setup.tp] if setup.tp else [t for t in (1, 2, 4, 8, 16, 32, 64) if t <= max(dev.domain, 1)]
    for tp in tps:
        pps = [setup.pp] if setup.pp else [1, 2, 4, 8]
        for pp in pps:
            if pool is not None:
                if pool % (tp * pp):
                    continue
                dpa = pool // (tp * pp)
                if dpa > 1 and (setup.arch.moe is None or pp > 1):
                    continue
                got = evaluate_shape(dev, setup, tp, pp, dp_attention=dpa)
            else:
                got = evaluate_shape(dev, setup, tp, pp)
            if isinstance(got, ReplicaShape):
                found.append(got)
            else:
                reasons.append(got.reason)
    if not found:
        raise NotScored("no replica layout fits: " + "; ".join(sorted(set(reasons))[:2]))
    return max(found, key=lambda r: r.requests_per_s / r.devices)


def _prefill_only(
    case: Case, dev: DeviceModel, num: tuple[str, str, str], inp: int, dpa: int | None
) -> tuple[float, list[str]]:
    assert case.arch is not None
    pool = case.devices or DEFAULT_NODE
    lay = Layout(1, 1, dpa or pool) if case.arch.moe is not None else Layout(min(pool, dev.domain, 8))
    lay = on_device(dev, lay)
    per_dev = inp / prefill_device_s(dev, case.arch, Numerics(*num), lay, inp)
    return _scale(case, per_dev), [f"prefill only, tp{lay.tp} dp-attention{lay.dpa}, {inp}-token prompts"]


def _decode_only(
    case: Case,
    dev: DeviceModel,
    num: tuple[str, str, str],
    kv_len: int,
    batch: int,
    dpa: int | None,
    drafts: int,
    acceptance: float | None,
) -> tuple[float, list[str]]:
    assert case.arch is not None
    pool = case.devices or DEFAULT_NODE
    lay = on_device(dev, Layout(1, 1, dpa or pool) if case.arch.moe is not None else Layout(min(pool, dev.domain, 8)))
    per_rank = batch
    total = per_rank * lay.dpa
    cost = decode_step(dev, case.arch, Numerics(*num), lay, total, kv_len, drafts)
    tau = acceptance_length(drafts, acceptance)
    per_dev = total * tau / cost.step_s / lay.devices
    return _scale(case, per_dev), [
        f"decode only, dp-attention{lay.dpa}, batch {per_rank} per attention rank, "
        f"KV {kv_len}, step {cost.step_s * 1000:.1f} ms ({cost.bound})"
    ]

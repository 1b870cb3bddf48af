"""Performance estimates as a product: one workload on one accelerator, and their validation.

    import planner
    est = planner.estimate("examples/train-70b-power-capped.yaml", "910c", devices=2048)
    print(est.metrics["mfu"], est.metrics["days"])
    report = planner.validate("../shared/validation/calibration.yaml")
    print(report.summary()["median_abs_error"])

The planner sizes pools and replicas with the same functions (planner.perf), so an estimate is
what the plan rests on. JSON keys follow the metric names of shared/validation/calibration.yaml.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from planner.catalog.store import Catalog, load_catalog
from planner.catalog.workload_file import load_workload
from planner.errors import InputError
from planner.models.catalog import ModelArch
from planner.models.workload import PresetRef, Workload
from planner.perf.calibration import ValidationReport, validate_file
from planner.perf.device import DeviceModel, MissingFigure, device_model
from planner.perf.inference import InferenceSetup, ReplicaShape, evaluate_shape, replica_shapes
from planner.perf.training import TrainingPool, TrainingSetup, evaluate, size_pool

POOL_UNIT = 8
"""Without --devices a training pool is sized to the deadline in whole 8-device servers."""


@dataclass
class Estimate:
    """What one workload gets from one accelerator (training run or serving replica)."""

    workload: str
    kind: str
    accelerator: str
    accelerator_name: str
    model: str
    devices: int | None
    metrics: dict[str, float | None]
    layout: dict[str, Any]
    memory_gb_per_device: dict[str, float]
    bottleneck: str
    efficiency: dict[str, dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    breakdown: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "workload": self.workload,
            "kind": self.kind,
            "accelerator": self.accelerator,
            "accelerator_name": self.accelerator_name,
            "model": self.model,
            "devices": self.devices,
            **self.metrics,
            "layout": self.layout,
            "memory_gb_per_device": self.memory_gb_per_device,
            "bottleneck": self.bottleneck,
            "breakdown": self.breakdown,
            "efficiency": self.efficiency,
            "notes": self.notes,
        }


def _where(w: Workload, path: tuple[str | int, ...]) -> tuple[str, int | None]:
    doc = w._origin
    return (doc.file, doc.line_of(path)) if doc is not None else ("workload", None)


def _arch(w: Workload, catalog: Catalog) -> tuple[ModelArch, str]:
    if isinstance(w.model, PresetRef):
        canon = catalog.resolve("models", w.model.preset)
        if canon is None:
            file, line = _where(w, ("model", "preset"))
            hint = catalog.suggest("models", w.model.preset)
            raise InputError.single(
                file,
                f"unknown model preset '{w.model.preset}'",
                line=line,
                field="model.preset",
                hint=f"did you mean '{hint}'?" if hint else None,
            )
        return catalog.models[canon].arch, catalog.models[canon].name
    return w.model, "custom model"


def _device(catalog: Catalog, accelerator: str) -> DeviceModel:
    canon = catalog.resolve("accelerators", accelerator)
    if canon is None:
        hint = catalog.suggest("accelerators", accelerator)
        raise InputError.single(
            "--accelerator",
            f"unknown accelerator '{accelerator}'",
            field="accelerator",
            hint=f"did you mean '{hint}'?" if hint else "see `plan catalog list`",
        )
    try:
        return device_model(catalog, canon, strict=False)
    except MissingFigure as exc:
        raise InputError.single("--accelerator", f"cannot estimate on {canon}: {exc}", field="accelerator") from None


def _precision(dev: DeviceModel, wanted: str, notes: list[str]) -> str:
    if dev.has_peak(wanted):
        return wanted
    used = dev.peak_flops(wanted)[1]
    notes.append(f"{dev.id} has no {wanted} peak in the catalog; estimated at {used}")
    return used


def _efficiency(catalog: Catalog, dev: DeviceModel, keys: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    stack = catalog.stacks.get(dev.accelerator.software_stack)
    for key in keys:
        where = dev.efficiency_source.get(key, "default")
        fig = (
            getattr(dev.accelerator.efficiency, key)
            if where == "accelerator"
            else (getattr(stack.efficiency, key) if stack is not None and where.startswith("stack") else None)
        )
        out[key] = {
            "value": dev.efficiency[key],
            "from": where,
            "confidence": fig.confidence if fig is not None else "assumption",
            "source": fig.source if fig is not None else "planner default (planner/perf/device.py)",
        }
    return out


def _efficiency_notes(eff: dict[str, dict[str, Any]], dev: DeviceModel) -> list[str]:
    notes = []
    for key, e in eff.items():
        if e["from"] != "accelerator" or e["confidence"] not in ("measured", "derived"):
            what = "no public measurement for this part" if e["from"] != "accelerator" else "not measured"
            notes.append(f"{key} {e['value']:.2f}: {what}; uses {e['from']} ({e['confidence']})")
    return notes


def estimate(
    workload: Workload | str | os.PathLike[str],
    accelerator: str,
    devices: int | None = None,
    catalog: Catalog | None = None,
) -> Estimate:
    """Estimate ``workload`` on ``accelerator`` (an id or alias), optionally on ``devices`` devices.

    Training: the fastest layout on ``devices`` (or the smallest pool meeting the deadline), its
    rate, MFU, days, device-hours and memory. Inference: the best replica (or the pinned one) at
    the largest batch meeting the SLO, its throughput, latency and memory. Bad input raises
    InputError naming the file, line and field.
    """
    if isinstance(workload, (str, os.PathLike, Path)):
        loaded = load_workload(workload)
        if not isinstance(loaded, Workload):
            raise InputError.single(
                str(workload), "plan estimate takes a single workload, not a fleet file", field="fleet"
            )
        workload = loaded
    if devices is not None and devices < 1:
        raise InputError.single("--devices", "must be a positive device count", field="devices")
    catalog = catalog or load_catalog()
    arch, model_name = _arch(workload, catalog)
    dev = _device(catalog, accelerator)
    notes: list[str] = []
    precision = _precision(dev, workload.precision, notes)
    if workload.kind == "training":
        est = _training(workload, arch, dev, precision, devices, notes)
        keys: tuple[str, ...] = ("train_mfu",)
    else:
        est = _inference(workload, arch, dev, precision, devices, notes)
        keys = ("prefill", "decode_bw")
    est.model = model_name
    est.efficiency = _efficiency(catalog, dev, keys)
    est.notes = [
        *est.notes,
        *_efficiency_notes(est.efficiency, dev),
        *(w for w in dev.warnings if "efficiency" not in w),
    ]
    return est


def _training(
    w: Workload, arch: ModelArch, dev: DeviceModel, precision: str, devices: int | None, notes: list[str]
) -> Estimate:
    assert w.tokens_b is not None and w.seq_len is not None and w.deadline_days is not None
    par = w.parallelism
    setup = TrainingSetup(
        arch=arch,
        tokens=w.tokens_b * 1e9,
        seq_len=w.seq_len,
        deadline_days=w.deadline_days,
        precision=precision,
        tp=par.tp if par else None,
        pp=par.pp if par else None,
        dp=par.dp if par else None,
        cp=par.cp if par else None,
        ep=par.ep if par else None,
        micro_batch=w.micro_batch,
        recompute=w.recompute,
        global_batch_tokens=float(w.batch * w.seq_len) if w.batch else None,
    )
    if devices is not None:
        pool = evaluate(dev, setup, devices)
    else:
        pool = size_pool(dev, setup, min(POOL_UNIT, dev.domain), None)
        notes.append(
            f"no --devices: smallest pool of whole {min(POOL_UNIT, dev.domain)}-device servers "
            f"meeting the {w.deadline_days:g}-day deadline"
        )
    if not isinstance(pool, TrainingPool):
        raise InputError.single(
            _where(w, ("parallelism",))[0],
            f"no training layout on {dev.id}: {pool.reason}",
            field="parallelism" if par else "devices",
        )
    assert pool.memory is not None and pool.step is not None
    mem = pool.memory
    metrics: dict[str, float | None] = {
        "tokens_per_s_per_device": pool.tokens_per_s_per_device,
        "achieved_tflops_per_device": pool.achieved_tflops_per_device,
        "mfu": pool.mfu,
        "days": pool.days,
        "device_hours": pool.device_hours,
        "iteration_s": pool.iteration_s,
        "total_flops": pool.total_flops,
        "meets_deadline": float(pool.days <= w.deadline_days * (1 + 1e-9)),
    }
    layout = {
        "tp": pool.tp,
        "pp": pool.pp,
        "dp": pool.dp,
        "ep": pool.ep,
        "cp": pool.cp,
        "vpp": pool.vpp,
        "micro_batch": pool.micro_batch,
        "recompute": pool.recompute,
        "recompute_fraction": pool.recompute_fraction,
        "global_batch_tokens": pool.global_batch_tokens,
        "micro_batches": pool.step.micro_batches,
    }
    memory = {
        "weights": mem.weights / 1e9,
        "gradients": mem.gradients / 1e9,
        "optimizer": mem.optimizer / 1e9,
        "activations": mem.activations / 1e9,
        "total": mem.total / 1e9,
        "capacity": dev.memory_bytes / 1e9,
    }
    if pool.days > w.deadline_days * (1 + 1e-9):
        notes.append(f"misses the {w.deadline_days:g}-day deadline on {pool.devices} devices")
    return Estimate(
        w.name,
        "training",
        dev.id,
        dev.accelerator.name,
        "",
        pool.devices,
        metrics,
        layout,
        memory,
        pool.bottleneck,
        {},
        [*notes, *pool.notes],
        pool.step.shares(),
    )


def _inference_setup(
    w: Workload, arch: ModelArch, dev: DeviceModel, precision: str, notes: list[str]
) -> InferenceSetup:
    assert w.traffic is not None and w.slo is not None
    kv: str = w.kv_precision or w.precision
    if kv == "fp8" and not dev.has_peak("fp8"):
        notes.append(f"{dev.id} has no fp8: KV cache kept at {precision}")
        kv = precision
    par = w.parallelism
    dpa = None
    if par is not None and par.dp is not None:
        dpa = par.dp
    elif par is not None and par.ep is not None:
        dpa = max(1, par.ep // (par.tp or 1))
    spec = w.speculative
    return InferenceSetup(
        arch=arch,
        precision=precision,
        kv_precision=kv,
        input_tokens=w.traffic.input_tokens,
        output_tokens=w.traffic.output_tokens,
        ttft_ms=w.slo.ttft_ms,
        tpot_ms=w.slo.tpot_ms,
        scenario=w.scenario or "server",
        batch=w.batch,
        tp=par.tp if par else None,
        pp=par.pp if par else None,
        dp_attention=dpa,
        disaggregated=bool(w.disaggregated),
        draft_tokens=spec.draft_tokens if spec else 0,
        acceptance=spec.acceptance if spec else None,
    )


def _shape(dev: DeviceModel, setup: InferenceSetup, w: Workload) -> ReplicaShape:
    if setup.tp is not None:
        got = evaluate_shape(dev, setup, setup.tp, setup.pp or 1, dp_attention=setup.dp_attention)
        if isinstance(got, ReplicaShape):
            return got
        why = got.reason
    else:
        shapes, bad = replica_shapes(dev, setup)
        if shapes:
            return shapes[0]
        why = "; ".join(sorted({b.reason for b in bad})[:2]) or "no layout fits"
    file, line = _where(w, ("slo",))
    raise InputError.single(file, f"{dev.id} cannot serve this model under the SLO: {why}", line=line, field="slo")


def _inference(
    w: Workload, arch: ModelArch, dev: DeviceModel, precision: str, devices: int | None, notes: list[str]
) -> Estimate:
    assert w.traffic is not None
    setup = _inference_setup(w, arch, dev, precision, notes)
    shape = _shape(dev, setup, w)
    replicas = 1
    if devices is not None:
        replicas = devices // shape.devices
        if replicas < 1:
            raise InputError.single(
                "--devices", f"one replica needs {shape.devices} devices of {dev.id}; {devices} given", field="devices"
            )
    if w.concurrency is not None:
        per = max(1, math.ceil(w.concurrency / replicas))
        setup = replace(setup, concurrency=per, tp=shape.tp, pp=shape.pp, dp_attention=shape.dp_attention)
        shape = _shape(dev, setup, w)
    out = w.traffic.output_tokens
    need = math.ceil(w.traffic.requests_per_s / shape.requests_per_s - 1e-9)
    metrics: dict[str, float | None] = {
        "output_tokens_per_s_per_device": shape.output_tokens_per_s / shape.devices,
        "output_tokens_per_s_per_replica": shape.output_tokens_per_s,
        "output_tokens_per_s_system": shape.output_tokens_per_s * replicas if devices is not None else None,
        "input_tokens_per_s_per_device": shape.input_tokens_per_s / shape.devices,
        "requests_per_s_per_replica": shape.requests_per_s,
        "requests_per_s": shape.requests_per_s * replicas if devices is not None else None,
        "ttft_ms": shape.ttft_ms,
        "tpot_ms": shape.tpot_ms,
        "decode_step_ms": shape.decode_step_ms,
        "batch": float(shape.batch),
        "max_batch_by_memory": float(shape.max_batch_by_memory),
        "accepted_tokens_per_step": shape.accepted_per_step,
        "replicas_for_traffic": float(need),
        "devices_for_traffic": float(need * shape.devices),
        "output_tokens_per_request": float(out),
    }
    layout = {
        "tp": shape.tp,
        "pp": shape.pp,
        "dp_attention": shape.dp_attention,
        "ep": shape.tp * shape.dp_attention if arch.moe is not None else 1,
        "devices_per_replica": shape.devices,
        "prefill_devices": shape.prefill_devices,
        "replicas": replicas if devices is not None else None,
        "batch_limited_by": shape.limited_by,
        "scenario": setup.scenario,
        "disaggregated": setup.disaggregated,
    }
    memory = {
        "weights": shape.weights_gb_per_device,
        "kv_cache": shape.kv_gb_per_device,
        "total": shape.weights_gb_per_device + shape.kv_gb_per_device,
        "capacity": dev.memory_bytes / 1e9,
    }
    return Estimate(
        w.name,
        "inference",
        dev.id,
        dev.accelerator.name,
        "",
        devices,
        metrics,
        layout,
        memory,
        shape.bottleneck,
        {},
        notes,
    )


def validate(cases: str | os.PathLike[str], catalog: Catalog | None = None) -> ValidationReport:
    """Run the model over a file of measured cases (shared/validation format) and score it.

    Per case: predicted, measured, error = predicted/measured − 1 (or why it is not scored);
    ``report.summary()`` gives the median and worst absolute error overall and per group.
    """
    return validate_file(cases, catalog or load_catalog())

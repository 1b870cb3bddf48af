"""Measured cases (shared/validation format) turned into model inputs.

A case names a model, hardware and setting; this module maps them onto the same setups the
planner uses (:class:`TrainingSetup`, :class:`InferenceSetup`). It reads inputs only — the
measured value never reaches the prediction. Settings the source leaves null fall back to the
model's own defaults (the layout search, default batch) and the case records each assumption.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from planner.models.catalog import ModelArch, MoESpec

DEFAULT_SEQ_LEN = 4096
"""Training sequence length assumed when a case does not state one (Llama 2 / most 2023-24 runs)."""

REFERENCE_DEVICES = 2048
"""Pool size assumed for whole-run totals (device-hours) when the source gives no device count:
256 eight-device nodes, the order of the Llama 2 and DeepSeek-V2 clusters."""


@dataclass
class Case:
    """One measured case: what ran (inputs) and what was measured (kept apart)."""

    id: str
    kind: str
    accelerator: str
    devices: int | None
    devices_per_node: int | None
    dies_per_device: int
    arch: ModelArch | None
    arch_error: str | None
    setting: dict[str, Any]
    metric: str
    per: str
    measured: float | None
    qualifier: str | None
    mfu_peak_tflops: float | None
    confidence: str
    source: str
    model_name: str
    line: int | None = None
    assumptions: list[str] = field(default_factory=list)


def arch_from(model: dict[str, Any]) -> ModelArch:
    """A case's ``model`` block as a ModelArch (MLA: head_dim = qk_nope + rope, as in the presets)."""
    moe = model.get("moe")
    spec = None
    if moe:
        spec = MoESpec(
            experts=int(moe["experts"]),
            active=int(moe.get("active_experts") or moe.get("active") or 1),
            shared_experts=int(moe.get("shared_experts") or 0),
            expert_ffn_hidden=moe.get("expert_ffn_hidden"),
            dense_layers=int(moe.get("dense_layers") or 0),
        )
    head_dim = model["head_dim"]
    if model.get("attention") == "mla" and model.get("qk_nope_head_dim"):
        head_dim = int(model["qk_nope_head_dim"]) + int(model.get("rope_head_dim") or 0)
    return ModelArch(
        params_b=float(model["params_b"]),
        active_params_b=model.get("active_params_b"),
        layers=int(model["layers"]),
        hidden=int(model["hidden"]),
        heads=int(model["heads"]),
        kv_heads=int(model["kv_heads"]),
        head_dim=int(head_dim),
        vocab=int(model.get("vocab") or 128_000),
        ffn_hidden=model.get("ffn_hidden"),
        attention=model.get("attention") or "gqa",
        kv_lora_rank=model.get("kv_lora_rank"),
        rope_head_dim=model.get("rope_head_dim"),
        moe=spec,
    )


def parse_case(raw: dict[str, Any], accelerator: str) -> Case:
    hw = raw.get("hardware") or {}
    measured = raw.get("measured") or {}
    arch, err = None, None
    try:
        arch = arch_from(raw.get("model") or {})
    except (KeyError, TypeError, ValueError, ValidationError) as exc:
        err = str(exc).splitlines()[0]
    value = measured.get("value")
    return Case(
        id=str(raw.get("id")),
        kind=str(raw.get("kind")),
        accelerator=accelerator,
        devices=hw.get("devices"),
        devices_per_node=hw.get("devices_per_node"),
        dies_per_device=int(hw.get("dies_per_device") or 1),
        arch=arch,
        arch_error=err,
        setting=raw.get("setting") or {},
        metric=str(measured.get("metric")),
        per=str(measured.get("per")),
        measured=float(value) if isinstance(value, (int, float)) else None,
        qualifier=measured.get("qualifier"),
        mfu_peak_tflops=measured.get("mfu_peak_tflops"),
        confidence=str(raw.get("confidence") or "primary"),
        source=str(raw.get("source") or ""),
        model_name=str((raw.get("model") or {}).get("name") or ""),
    )


def parallel(setting: dict[str, Any]) -> dict[str, Any]:
    par = setting.get("parallelism")
    return par if isinstance(par, dict) else {}


def int_or_none(value: Any) -> int | None:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def mentions(text: Any, *words: str) -> bool:
    low = str(text or "").lower()
    return any(w in low for w in words)


def speculative(setting: dict[str, Any]) -> tuple[int, float | None]:
    """(draft tokens, stated acceptance) from ``speculative`` or an MTP/NextN deployment note."""
    text = " ".join(str(setting.get(k) or "") for k in ("speculative", "deployment"))
    if not re.search(r"\bmtp\b|nextn|speculative|eagle", text, re.I):
        return 0, None
    m = re.search(r"(\d+)\s*steps?", text, re.I)
    drafts = int(m.group(1)) if m else 1
    acc = re.search(r"(\d+)\s*%\s*acceptance", text, re.I)
    return drafts, (float(acc.group(1)) / 100.0 if acc else None)

"""Training pools: how many devices of one part finish a run by its deadline.

Devices = max(ceil(FLOPs / (deadline · peak · MFU)), memory floor), rounded up to whole
model-parallel groups and purchase units (DESIGN §3). One job, one part, one site.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from planner.models.catalog import ModelArch
from planner.perf.arch_math import activation_bytes, training_flops_per_token, training_state_bytes
from planner.perf.device import DeviceModel

MAX_TP = 8
"""Tensor parallelism beyond 8 rarely pays even inside larger domains (Megatron practice)."""


@dataclass(frozen=True)
class TrainingSetup:
    arch: ModelArch
    tokens: float
    seq_len: int
    deadline_days: float
    precision: str


@dataclass(frozen=True)
class TrainingPool:
    devices: int
    days: float
    tp: int
    pp: int
    dp: int
    recompute: str
    memory_gb_per_device: float
    achieved_tflops_per_device: float
    mfu: float
    total_flops: float
    bottleneck: str

    @property
    def device_hours(self) -> float:
        return self.devices * self.days * 24.0


@dataclass(frozen=True)
class TrainingInfeasible:
    reason: str


def _pow2_upto(limit: int) -> list[int]:
    out, v = [], 1
    while v <= limit:
        out.append(v)
        v *= 2
    return out


def _layout(dev: DeviceModel, s: TrainingSetup, devices: int) -> tuple[int, int, str, float] | None:
    """Smallest model-parallel group (tp, pp) and recompute mode that fits memory at this size."""
    best: tuple[int, int, str, float] | None = None
    for recompute in ("selective", "full"):
        for tp in _pow2_upto(min(MAX_TP, dev.domain)):
            for pp in _pow2_upto(min(s.arch.layers, 128)):
                group = tp * pp
                if group > devices or devices % group:
                    continue
                dp = devices // group
                need = training_state_bytes(s.arch, group, dp) + activation_bytes(
                    s.arch, s.seq_len, tp, recompute
                )
                if need <= dev.usable_bytes and (best is None or group < best[0] * best[1]):
                    best = (tp, pp, recompute, need)
        if best is not None:
            return best
    return None


def size_pool(dev: DeviceModel, s: TrainingSetup, unit_devices: int, max_devices: int | None) -> TrainingPool | TrainingInfeasible:
    """The smallest pool (a multiple of the purchase unit) meeting deadline and memory."""
    peak, used = dev.peak_flops(s.precision)
    mfu = dev.efficiency["train_mfu"]
    rate = peak * mfu
    total = s.tokens * training_flops_per_token(s.arch, s.seq_len)
    need_compute = math.ceil(total / (s.deadline_days * 86400.0 * rate))
    step = unit_devices
    devices = max(step, math.ceil(need_compute / step) * step)
    limit = max_devices if max_devices is not None else 10_000_000
    bottleneck = "compute (deadline)"
    while devices <= limit:
        layout = _layout(dev, s, devices)
        if layout is not None:
            tp, pp, recompute, need = layout
            # full recomputation repeats the forward pass: 8 instead of 6 FLOPs per param-token
            eff_rate = rate * (6.0 / 8.0 if recompute == "full" else 1.0)
            days = total / (devices * eff_rate) / 86400.0
            if days <= s.deadline_days * (1 + 1e-9):
                return TrainingPool(
                    devices=devices,
                    days=days,
                    tp=tp,
                    pp=pp,
                    dp=devices // (tp * pp),
                    recompute=recompute,
                    memory_gb_per_device=need / 1e9,
                    achieved_tflops_per_device=eff_rate / 1e12,
                    mfu=eff_rate / peak,
                    total_flops=total,
                    bottleneck=bottleneck,
                )
        else:
            bottleneck = "memory capacity"
        devices += step
        if devices > 64 * max(need_compute, step) and devices > 4096:
            break
    cap = f" within the cluster cap of {max_devices} devices" if max_devices is not None else ""
    return TrainingInfeasible(
        f"needs more than {min(devices, limit)} devices{cap} "
        f"({need_compute} for the deadline at {mfu:.0%} MFU of {peak / 1e12:.0f} TFLOPS {used})"
    )

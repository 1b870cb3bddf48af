"""Training pools: the best parallel layout on a device count, and how many devices a run needs.

Devices are sized so that tokens / (devices · tokens/s/device) ≤ deadline, where the rate per
device comes from :mod:`planner.perf.train_step` on the fastest layout that fits memory — so it
falls with scale once data-parallel sync or pipeline bubbles outgrow the compute (DESIGN §3).
One job, one part, one site.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace

from planner.models.catalog import ModelArch
from planner.perf.arch_math import arch_key, training_flops_per_token
from planner.perf.device import DeviceModel
from planner.perf.train_step import StepTime, TrainLayout, TrainMemory, memory, step_time

MAX_TP = 8
"""Tensor parallelism beyond 8 rarely pays even inside larger domains (Megatron practice)."""

DEFAULT_VPP = 4
"""Virtual pipeline stages per device when a layout pipelines and the schedule is not pinned
(Megatron's interleaved 1F1B; Narayanan et al. 2021 §2.2.2)."""

TRAIN_USABLE_FRACTION = 0.95
"""Share of device memory a training job can fill (Megatron runs report 75-78 GiB peaks on 80 GB
parts); the rest is CUDA/CANN context, NCCL/HCCL buffers and fragmentation."""

LONG_CONTEXT = 32_768
"""Sequence length from which context parallelism is considered."""


def default_global_batch_tokens(arch: ModelArch) -> float:
    """4 Mi tokens below 50B parameters (Llama 2 7-34B), 16 Mi above (Llama 3 405B 16M, DeepSeek
    LLM 67B 18.9M, DeepSeek-V3 15M)."""
    return float(4 * 2**20 if arch.params_b < 50 else 16 * 2**20)


@dataclass(frozen=True)
class TrainingSetup:
    arch: ModelArch
    tokens: float
    seq_len: int
    deadline_days: float
    precision: str
    tp: int | None = None
    pp: int | None = None
    dp: int | None = None
    cp: int | None = None
    ep: int | None = None
    vpp: int | None = None
    micro_batch: int | None = None
    recompute: str | None = None
    zero: int | None = None
    global_batch_tokens: float | None = None

    def batch_tokens(self) -> float:
        return self.global_batch_tokens or default_global_batch_tokens(self.arch)


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
    ep: int = 1
    cp: int = 1
    vpp: int = 1
    micro_batch: int = 1
    recompute_fraction: float = 0.0
    tokens_per_s_per_device: float = 0.0
    iteration_s: float = 0.0
    global_batch_tokens: float = 0.0
    memory: TrainMemory | None = None
    step: StepTime | None = None
    notes: tuple[str, ...] = field(default=())

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


def _choices(pinned: int | None, options: list[int]) -> list[int]:
    return [pinned] if pinned is not None else options


def _divisors_upto(n: int, limit: int) -> list[int]:
    """Divisors of ``n`` up to ``limit`` (pipeline depths need not be powers of two)."""
    return [d for d in range(1, max(1, limit) + 1) if n % d == 0]


def _layouts(dev: DeviceModel, s: TrainingSetup, devices: int) -> list[TrainLayout]:
    """Every layout of ``devices`` honouring the setup's pins (recompute chosen later)."""
    arch = s.arch
    out: list[TrainLayout] = []
    cps = [1] if s.seq_len < LONG_CONTEXT else _pow2_upto(16)
    eps = _pow2_upto(arch.moe.experts) if arch.moe is not None else [1]
    for tp in _choices(s.tp, _pow2_upto(min(MAX_TP, dev.domain, arch.heads))):
        for cp in _choices(s.cp, cps):
            rest = devices // (tp * cp) if devices % (tp * cp) == 0 else 0
            for pp in _choices(s.pp, _divisors_upto(rest, max(1, arch.layers // 2)) if rest else []):
                group = tp * cp * pp
                if group > devices or devices % group:
                    continue
                dp = devices // group
                if s.dp is not None and s.dp != dp:
                    continue
                for ep in _choices(s.ep, eps):
                    if (dp * cp) % ep:
                        continue
                    vpp = s.vpp if s.vpp is not None else (max(1, min(DEFAULT_VPP, arch.layers // pp)) if pp > 1 else 1)
                    out.append(TrainLayout(tp, pp, dp, cp, ep, vpp, s.micro_batch or 1, "none", s.zero or 1))
    return out


BestLayout = tuple[TrainLayout, StepTime, TrainMemory] | None
"""What :func:`best_layout` returns: the layout, its step and its memory, or None if none fits."""


def best_layout(dev: DeviceModel, s: TrainingSetup, devices: int) -> BestLayout:
    """Fastest layout of ``devices`` that fits memory, with the least recomputation that fits.

    When the setup pins a layout (a measured run) and nothing fits the memory model, the fastest
    pinned layout is returned anyway; :func:`evaluate` notes the overflow.
    """
    gbt = s.batch_tokens()
    usable = dev.memory_bytes * TRAIN_USABLE_FRACTION
    fitting: list[tuple[float, TrainLayout, StepTime, TrainMemory]] = []
    overflow: list[tuple[float, TrainLayout, StepTime, TrainMemory]] = []
    for base in _layouts(dev, s, devices):
        lay, mem = _fit_recompute(s, base, usable)
        st = step_time(dev, s.arch, s.seq_len, s.precision, lay, gbt)
        (fitting if mem.total <= usable else overflow).append((st.global_batch_tokens / st.step_s, lay, st, mem))
    pinned = any(v is not None for v in (s.tp, s.pp, s.dp))
    pool = fitting or (overflow if pinned else [])
    if not pool:
        return None
    _, lay, st, mem = max(pool, key=lambda t: t[0])
    return lay, st, mem


def _fit_recompute(s: TrainingSetup, base: TrainLayout, usable: float) -> tuple[TrainLayout, TrainMemory]:
    """The pinned recomputation, else the least that fits: none, then the smallest share of layers
    recomputed in full (Megatron's block method, --recompute-num-layers), then full."""
    if s.recompute:
        lay = replace(base, recompute=s.recompute, recompute_fraction=1.0 if s.recompute == "full" else 0.0)
        return lay, memory(s.arch, s.seq_len, lay)
    none = base if base.recompute == "none" else replace(base, recompute="none")
    mem0 = memory(s.arch, s.seq_len, none)
    if mem0.total <= usable:
        return none, mem0
    full = replace(base, recompute="full", recompute_fraction=1.0)
    mem1 = memory(s.arch, s.seq_len, full)
    if mem1.total > usable or mem0.activations <= mem1.activations:
        return full, mem1
    frac = (mem0.total - usable) / (mem0.activations - mem1.activations)
    frac = min(1.0, math.ceil(frac * 8.0) / 8.0)
    if frac >= 1.0:
        return full, mem1
    part = replace(base, recompute="partial", recompute_fraction=frac)
    return part, memory(s.arch, s.seq_len, part)


class LayoutMemo:
    """:func:`best_layout` results shared between calls of :func:`size_pool`.

    The best layout of a device count does not depend on the tokens to train or the deadline, so
    runs of the same model on the same part share it. Keyed by content (the device's figures, the
    architecture, every other setup field), so one memo may serve any mix of parts and setups.
    """

    def __init__(self) -> None:
        self._found: dict[tuple[object, ...], dict[int, BestLayout]] = {}

    def layouts(self, dev: DeviceModel, s: TrainingSetup) -> dict[int, BestLayout]:
        """Device count -> best layout, for this device and setup (tokens and deadline aside)."""
        rest = tuple(getattr(s, name) for name in _LAYOUT_FIELDS)
        return self._found.setdefault((dev.figures_key(), arch_key(s.arch), rest), {})


_LAYOUT_FIELDS = tuple(f.name for f in fields(TrainingSetup) if f.name not in ("arch", "tokens", "deadline_days"))


def evaluate(dev: DeviceModel, s: TrainingSetup, devices: int) -> TrainingPool | TrainingInfeasible:
    """The run on exactly ``devices`` devices: best layout, rate, days, memory."""
    return _pool(dev, s, devices, best_layout(dev, s, devices))


def _pool(dev: DeviceModel, s: TrainingSetup, devices: int, found: BestLayout) -> TrainingPool | TrainingInfeasible:
    """:func:`evaluate` given the device count's :func:`best_layout`."""
    if found is None:
        usable = dev.memory_bytes * TRAIN_USABLE_FRACTION
        return TrainingInfeasible(f"no layout of {devices} devices fits {usable / 1e9:.0f} GB usable per device")
    lay, st, mem = found
    f_tok = training_flops_per_token(s.arch, s.seq_len)
    tok_s_dev = st.global_batch_tokens / st.step_s / devices
    achieved = tok_s_dev * f_tok
    days = s.tokens / (tok_s_dev * devices) / 86400.0
    notes = []
    usable = dev.memory_bytes * TRAIN_USABLE_FRACTION
    if mem.total > usable:
        notes.append(
            f"the pinned layout needs {mem.total / 1e9:.0f} GB per device, more than the {usable / 1e9:.0f} GB usable"
        )
    return TrainingPool(
        devices=devices,
        days=days,
        tp=lay.tp,
        pp=lay.pp,
        dp=lay.dp,
        recompute=lay.recompute,
        memory_gb_per_device=mem.total / 1e9,
        achieved_tflops_per_device=achieved / 1e12,
        mfu=achieved / dev.bf16_peak(),
        total_flops=s.tokens * f_tok,
        bottleneck=st.bottleneck(),
        ep=lay.ep,
        cp=lay.cp,
        vpp=lay.vpp,
        micro_batch=lay.micro_batch,
        recompute_fraction=lay.redo_fraction,
        tokens_per_s_per_device=tok_s_dev,
        iteration_s=st.step_s,
        global_batch_tokens=st.global_batch_tokens,
        memory=mem,
        step=st,
        notes=tuple(notes),
    )


def size_pool(
    dev: DeviceModel,
    s: TrainingSetup,
    unit_devices: int,
    max_devices: int | None,
    *,
    memo: LayoutMemo | None = None,
) -> TrainingPool | TrainingInfeasible:
    """The smallest pool (a multiple of the purchase unit) meeting deadline and memory.

    Grow from the compute-only estimate by the shortfall until a pool meets the deadline (rate
    per device only falls with scale), then bisect down to the smallest pool that still does.
    A ``memo`` shared between calls reuses the best layouts found for the same part and model.
    """
    layouts = memo.layouts(dev, s) if memo is not None else {}
    step = max(1, unit_devices)
    limit = max_devices if max_devices is not None else 10_000_000
    limit = max(step, limit // step * step)
    total = s.tokens * training_flops_per_token(s.arch, s.seq_len)
    guess_rate = dev.bf16_peak() * dev.efficiency["train_mfu"] * 0.8
    devices = min(limit, max(step, math.ceil(total / (s.deadline_days * 86400.0 * guess_rate) / step) * step))
    seen: dict[int, TrainingPool | TrainingInfeasible] = {}

    def run(n: int) -> TrainingPool | TrainingInfeasible:
        if n not in seen:
            if n not in layouts:
                layouts[n] = best_layout(dev, s, n)
            seen[n] = _pool(dev, s, n, layouts[n])
        return seen[n]

    def meets(p: TrainingPool | TrainingInfeasible) -> bool:
        return isinstance(p, TrainingPool) and p.days <= s.deadline_days * (1 + 1e-9)

    found: int | None = None
    for _ in range(60):
        pool = run(devices)
        if meets(pool):
            found = devices
            break
        if devices >= limit:
            break
        if isinstance(pool, TrainingPool):
            nxt = math.ceil(devices * pool.days / s.deadline_days * 1.0001)
        else:
            nxt = devices * 2
        devices = min(limit, max(devices + step, math.ceil(nxt / step) * step))
    if found is None:
        last = run(devices)
        cap = f" within the cluster cap of {max_devices} devices" if max_devices is not None else ""
        if isinstance(last, TrainingPool):
            why = f"{devices} devices would take {last.days:.0f} days at {last.mfu:.0%} MFU ({last.bottleneck})"
        else:
            why = last.reason
        return TrainingInfeasible(f"the deadline cannot be met{cap}: {why}")
    lo, hi = 0, found // step  # in units: hi meets the deadline, lo does not (0 devices)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if meets(run(mid * step)):
            hi = mid
        else:
            lo = mid
    best = run(hi * step)
    assert isinstance(best, TrainingPool)
    smaller = [n for n, p in seen.items() if n < hi * step and not isinstance(p, TrainingPool)]
    if smaller and best.bottleneck == "compute":
        best = replace(best, bottleneck="memory capacity")
    return best


def _with_bottleneck(pool: TrainingPool, name: str) -> TrainingPool:
    return replace(pool, bottleneck=name)

"""What one accelerator offers the performance model: peaks, memory, fabric, efficiencies.

Numbers come from the catalog; where the catalog has no value the model uses a stated default
and records a warning, so a plan never rests silently on a guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from planner.catalog.store import Catalog
from planner.models.base import Sourced
from planner.models.catalog import Accelerator

USABLE_MEMORY_FRACTION = 0.90
"""Share of device memory left for weights and KV after runtime, workspace and fragmentation
(a planner assumption; vLLM's default gpu_memory_utilization is 0.9)."""

DEFAULT_EFFICIENCY = {"train_mfu": 0.30, "prefill": 0.50, "decode_bw": 0.60}
"""Fallbacks when neither the part nor its software stack has a figure (stated in warnings)."""

TP_LATENCY_S = 10e-6
"""Latency of one tensor-parallel all-reduce inside a scale-up domain (planner assumption)."""

PP_HOP_S = 30e-6
"""Latency of one pipeline hop across the scale-out network (planner assumption)."""


class MissingFigure(Exception):
    """A figure the workload needs is null in the catalog: the part cannot be planned."""


@dataclass(frozen=True)
class DeviceModel:
    accelerator: Accelerator
    memory_bytes: float
    bw_bytes_s: float
    scale_up_bytes_s: float
    domain: int
    tdp_w: float
    efficiency: dict[str, float]
    warnings: tuple[str, ...] = field(default=())

    @property
    def id(self) -> str:
        return self.accelerator.id

    @property
    def usable_bytes(self) -> float:
        return self.memory_bytes * USABLE_MEMORY_FRACTION

    def peak_flops(self, precision: str) -> tuple[float, str]:
        """Dense peak FLOP/s at ``precision``, falling back to bf16/fp16 when unsupported."""
        peaks = self.accelerator.dense_tflops
        order = [precision] + [p for p in ("bf16", "fp16") if p != precision]
        for p in order:
            val = peaks.get(p)
            if val is not None and val.value is not None:
                return val.value * 1e12, p
        raise MissingFigure(f"{self.id}: no dense peak for {precision}, bf16 or fp16")


def _value(item: Sourced | None, what: str, acc: Accelerator) -> float:
    if item is None or item.value is None:
        raise MissingFigure(f"{acc.id}: {what} is not public (null in the catalog)")
    return item.value


def device_model(catalog: Catalog, accelerator_id: str) -> DeviceModel:
    """Gather one part's figures; raise MissingFigure if an essential one is null."""
    acc = catalog.accelerators[accelerator_id]
    stack = catalog.stacks.get(acc.software_stack)
    warnings: list[str] = []
    eff: dict[str, float] = {}
    for key, default in DEFAULT_EFFICIENCY.items():
        own: Sourced | None = getattr(acc.efficiency, key)
        via_stack: Sourced | None = getattr(stack.efficiency, key) if stack else None
        if own is not None and own.value is not None:
            eff[key] = own.value
        elif via_stack is not None and via_stack.value is not None:
            eff[key] = via_stack.value
        else:
            eff[key] = default
            warnings.append(
                f"{acc.id}: no public {key} efficiency for it or its stack "
                f"'{acc.software_stack}'; assumed {default:.2f}"
            )
    tdp = _value(acc.tdp_w, "TDP", acc)
    return DeviceModel(
        accelerator=acc,
        memory_bytes=_value(acc.memory_gb, "memory", acc) * 1e9,
        bw_bytes_s=_value(acc.memory_bw_tbps, "memory bandwidth", acc) * 1e12,
        scale_up_bytes_s=_value(acc.scale_up.bw_gbps, "scale-up bandwidth", acc) * 1e9,
        domain=max(1, int(_value(acc.scale_up.domain, "scale-up domain", acc))),
        tdp_w=tdp,
        efficiency=eff,
        warnings=tuple(warnings),
    )

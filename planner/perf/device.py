"""What one accelerator offers the performance model: peaks, memory, fabrics, efficiencies.

Numbers come from the catalog; where the catalog has no value the model uses a stated default
and records a warning, so a plan never rests silently on a guess. Efficiency factors are looked
up on the part first, then on its software stack, then fall back to DEFAULT_EFFICIENCY; the
DeviceModel records which one it used (``efficiency_source``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from planner.catalog.store import Catalog
from planner.models.base import Sourced
from planner.models.catalog import Accelerator

USABLE_MEMORY_FRACTION = 0.90
"""Share of device memory left for weights, KV and activations after runtime, workspace and
fragmentation (a planner assumption; vLLM's default gpu_memory_utilization is 0.9)."""

DEFAULT_EFFICIENCY = {"train_mfu": 0.41, "prefill": 0.49, "decode_bw": 0.56}
"""Fallbacks when neither the part nor its software stack has a figure (stated in warnings).
0.75 x the calibrated CUDA factors: the analyst view (DESIGN §3) that domestic stacks reach 70-80 %
of what the hardware could deliver (docs/estimates.md)."""

DEFAULT_SCALE_OUT_GBIT = 200.0
"""Scale-out bandwidth per device when the catalog has none: one 200 Gb/s NIC per device
(HDR InfiniBand / RoCE, the DGX A100 and Atlas 800 class). A stated planner assumption."""

DEFAULT_SCALE_UP_GBPS = 64.0
"""Scale-up bandwidth per device assumed by estimates when the catalog has none: a PCIe 5.0 x16
link per direction (the slowest fabric an accelerator server uses). The planner excludes such parts."""

TP_LATENCY_S = 10e-6
"""Latency of one small collective inside a scale-up domain (NCCL/HCCL all-reduce of a few MB:
~10 µs on NVLink per the nccl-tests latency rows; planner assumption for other fabrics)."""

SCALE_OUT_LATENCY_S = 30e-6
"""Latency of one collective step across the scale-out network (planner assumption)."""

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
    scale_out_bytes_s: float = DEFAULT_SCALE_OUT_GBIT * 1e9 / 8.0
    efficiency_source: dict[str, str] = field(default_factory=dict)
    """key -> 'accelerator', 'stack <id>' or 'default': where each factor came from."""

    @property
    def id(self) -> str:
        return self.accelerator.id

    @property
    def usable_bytes(self) -> float:
        return self.memory_bytes * USABLE_MEMORY_FRACTION

    def figures_key(self) -> tuple[object, ...]:
        """Every figure the estimates read, as a hashable value: equal keys, equal estimates."""
        found: tuple[object, ...] | None = self.__dict__.get("_figures_key")
        if found is None:
            found = self.__dict__["_figures_key"] = self._figures_key()
        return found

    def _figures_key(self) -> tuple[object, ...]:
        peaks = self.accelerator.dense_tflops
        return (
            self.id,
            self.memory_bytes,
            self.bw_bytes_s,
            self.scale_up_bytes_s,
            self.scale_out_bytes_s,
            self.domain,
            self.tdp_w,
            tuple(sorted(self.efficiency.items())),
            tuple((p, v.value if (v := peaks.get(p)) is not None else None) for p in ("bf16", "fp16", "fp8", "int8")),
            self.accelerator.dies_per_package,
        )

    def has_peak(self, precision: str) -> bool:
        val = self.accelerator.dense_tflops.get(precision)
        return val is not None and val.value is not None

    def peak_flops(self, precision: str) -> tuple[float, str]:
        """Dense peak FLOP/s at ``precision``, falling back to bf16/fp16 when unsupported.

        int4 weights run int8 arithmetic (W4A8), so int4 asks for the int8 peak first.
        Remembered per precision on this instance (the estimates ask for it in their inner loops).
        """
        memo: dict[str, tuple[float, str]] = self.__dict__.setdefault("_peak_memo", {})
        found = memo.get(precision)
        if found is None:
            found = memo[precision] = self._peak_flops(precision)
        return found

    def _peak_flops(self, precision: str) -> tuple[float, str]:
        first = "int8" if precision == "int4" else precision
        order = [first] + [p for p in ("bf16", "fp16") if p != first]
        peaks = self.accelerator.dense_tflops
        for p in order:
            val = peaks.get(p)
            if val is not None and val.value is not None:
                return val.value * 1e12, p
        raise MissingFigure(f"{self.id}: no dense peak for {precision}, bf16 or fp16")

    def bf16_peak(self) -> float:
        """Peak used as the MFU denominator (bf16, else fp16, else the lowest-precision peak)."""
        found: float | None = self.__dict__.get("_bf16_peak")
        if found is None:
            found = self.__dict__["_bf16_peak"] = self._bf16_peak()
        return found

    def _bf16_peak(self) -> float:
        for p in ("bf16", "fp16", "fp8", "int8"):
            if self.has_peak(p):
                return self.peak_flops(p)[0]
        raise MissingFigure(f"{self.id}: no dense peak at all")

    def efficiency_note(self) -> list[str]:
        """One line per factor not measured for this part: which stack value or default it used."""
        out = []
        for key, where in sorted(self.efficiency_source.items()):
            if where != "accelerator":
                out.append(f"{key} {self.efficiency[key]:.2f} from {where}")
        return out


def _value(item: Sourced | None, what: str, acc: Accelerator) -> float:
    if item is None or item.value is None:
        raise MissingFigure(f"{acc.id}: {what} is not public (null in the catalog)")
    return item.value


def device_model(catalog: Catalog, accelerator_id: str, *, strict: bool = True) -> DeviceModel:
    """Gather one part's figures; raise MissingFigure if an essential one is null.

    ``strict`` (the planner) also requires the TDP and the scale-up bandwidth; an estimate
    (``strict=False``) does without the TDP and assumes DEFAULT_SCALE_UP_GBPS, with a warning.
    """
    acc = catalog.accelerators[accelerator_id]
    stack = catalog.stacks.get(acc.software_stack)
    warnings: list[str] = []
    eff: dict[str, float] = {}
    source: dict[str, str] = {}
    for key, default in DEFAULT_EFFICIENCY.items():
        own: Sourced | None = getattr(acc.efficiency, key)
        via_stack: Sourced | None = getattr(stack.efficiency, key) if stack else None
        if own is not None and own.value is not None:
            eff[key], source[key] = own.value, "accelerator"
        elif via_stack is not None and via_stack.value is not None:
            eff[key], source[key] = via_stack.value, f"stack '{acc.software_stack}'"
        else:
            eff[key], source[key] = default, "default"
            warnings.append(
                f"{acc.id}: no public {key} efficiency for it or its stack "
                f"'{acc.software_stack}'; assumed {default:.2f}"
            )
    scale_out = acc.scale_out_gbit.value if acc.scale_out_gbit is not None else None
    if scale_out is None:
        scale_out = DEFAULT_SCALE_OUT_GBIT
        warnings.append(
            f"{acc.id}: no public scale-out bandwidth; assumed {DEFAULT_SCALE_OUT_GBIT:.0f} Gb/s per device"
        )
    if strict or (acc.tdp_w is not None and acc.tdp_w.value is not None):
        tdp = _value(acc.tdp_w, "TDP", acc)
    else:
        tdp = 0.0
        warnings.append(f"{acc.id}: TDP is not public (power not estimated)")
    if strict or acc.scale_up.bw_gbps.value is not None:
        scale_up = _value(acc.scale_up.bw_gbps, "scale-up bandwidth", acc)
    else:
        scale_up = DEFAULT_SCALE_UP_GBPS
        warnings.append(
            f"{acc.id}: scale-up bandwidth is not public; assumed {DEFAULT_SCALE_UP_GBPS:.0f} GB/s (PCIe 5.0 x16)"
        )
    return DeviceModel(
        accelerator=acc,
        memory_bytes=_value(acc.memory_gb, "memory", acc) * 1e9,
        bw_bytes_s=_value(acc.memory_bw_tbps, "memory bandwidth", acc) * 1e12,
        scale_up_bytes_s=scale_up * 1e9,
        domain=max(1, int(_value(acc.scale_up.domain, "scale-up domain", acc))),
        tdp_w=tdp,
        efficiency=eff,
        warnings=tuple(warnings),
        scale_out_bytes_s=scale_out * 1e9 / 8.0,
        efficiency_source=source,
    )

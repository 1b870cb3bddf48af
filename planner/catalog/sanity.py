"""Plausibility ranges for catalog figures: catch unit slips (GB/s for TB/s, W for kW).

A figure outside its range is not necessarily wrong, but it is far more often a unit or typo
error than a real part, so ``plan catalog validate`` reports it and the tests forbid it in the
bundled data. Ranges are per path suffix; the value must be known to be checked.
"""

from __future__ import annotations

from collections.abc import Iterator

from planner.catalog.figures import iter_figures
from planner.catalog.store import KINDS, Catalog
from planner.models.base import Sourced

RANGES: dict[str, tuple[float, float, str]] = {
    "tdp_w": (50, 2_000, "W"),
    "memory_gb": (8, 1_000, "GB"),
    "memory_bw_tbps": (0.1, 20, "TB/s"),
    "dense_tflops.bf16": (1, 10_000, "TFLOPS"),
    "dense_tflops.fp16": (1, 10_000, "TFLOPS"),
    "dense_tflops.fp8": (1, 20_000, "TFLOPS"),
    "dense_tflops.int8": (1, 20_000, "TOPS"),
    "scale_up.bw_gbps": (1, 5_000, "GB/s"),
    "scale_up.domain": (1, 100_000, "devices"),
    "scale_out_gbit": (1, 3_200, "Gb/s"),
    "efficiency.train_mfu": (0.01, 1, "fraction"),
    "efficiency.prefill": (0.01, 1, "fraction"),
    "efficiency.decode_bw": (0.01, 1, "fraction"),
    "pue": (1.0, 2.0, ""),
    "power_kw": (1, 10_000_000, "kW"),
    "supply_cap_units": (1, 10_000_000, "units"),
    "lead_time_weeks": (0, 520, "weeks"),
    "max_cluster_devices": (1, 10_000_000, "devices"),
    "scale_up_domain": (1, 100_000, "devices"),
}
"""Path (without list indexes) -> (low, high, unit). Prices are checked separately: > 0."""


def _check(path: str, fig: Sourced) -> str | None:
    if fig.value is None:
        return None
    if path.endswith(("price", "cost")):
        return None if fig.value > 0 else f"{path} = {fig.value:g}: a price must be above 0"
    for suffix, (low, high, unit) in RANGES.items():
        if path == suffix or path.endswith("." + suffix):
            if not low <= fig.value <= high:
                return f"{path} = {fig.value:g} is outside the plausible {low:g}-{high:g} {unit}".rstrip()
            return None
    return None


def implausible(catalog: Catalog) -> Iterator[tuple[str, str, str]]:
    """Yield ``(kind/id, path, message)`` for every known figure outside its range."""
    for kind in KINDS:
        for ident, entry in getattr(catalog, kind).items():
            for path, fig in iter_figures(entry):
                message = _check(path, fig)
                if message is not None:
                    yield f"{kind}/{ident}", path, message
    fx = catalog.fx_cny_per_usd
    if fx is not None and fx.value is not None and not 4 <= fx.value <= 12:
        yield "fx_cny_per_usd", "value", f"fx_cny_per_usd = {fx.value:g} CNY per USD is outside 4-12"

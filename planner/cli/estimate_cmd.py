"""``plan estimate WORKLOAD.yaml --accelerator ID``: what one part delivers for one workload."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from planner.cli.app import app, configure_logging, guarded

CatalogFiles = Annotated[
    list[Path] | None,
    typer.Option("--catalog", "-c", help="Extra catalog file (your own figures); repeatable, later wins."),
]

_TRAINING = (
    ("tokens_per_s_per_device", "tokens/s per device", "{:,.0f}"),
    ("achieved_tflops_per_device", "achieved TFLOPS per device", "{:,.1f}"),
    ("mfu", "MFU (of the bf16 peak)", "{:.1%}"),
    ("days", "days to finish", "{:,.1f}"),
    ("device_hours", "device-hours", "{:,.0f}"),
    ("iteration_s", "seconds per optimizer step", "{:,.2f}"),
)
_INFERENCE = (
    ("output_tokens_per_s_per_device", "output tokens/s per device", "{:,.1f}"),
    ("output_tokens_per_s_per_replica", "output tokens/s per replica", "{:,.0f}"),
    ("output_tokens_per_s_system", "output tokens/s, all devices", "{:,.0f}"),
    ("input_tokens_per_s_per_device", "prompt tokens/s per device", "{:,.0f}"),
    ("requests_per_s_per_replica", "requests/s per replica", "{:,.2f}"),
    ("requests_per_s", "requests/s, all devices", "{:,.2f}"),
    ("ttft_ms", "TTFT, prefill on an idle replica (ms)", "{:,.0f}"),
    ("tpot_ms", "TPOT (ms)", "{:,.1f}"),
    ("batch", "batch (sequences in flight per replica)", "{:,.0f}"),
    ("devices_for_traffic", "devices for the workload's traffic", "{:,.0f}"),
)


def _fmt(value: Any, pattern: str) -> str:
    return "-" if value is None else pattern.format(value)


def render(est: dict[str, Any], console: Console) -> None:
    """The estimate as a terminal report (numbers, layout, memory, where the factors come from)."""
    head = f"{est['workload']} · {est['model']} · {est['kind']} on {est['accelerator_name']}"
    if est.get("devices"):
        head += f" × {est['devices']:,}"
    console.print(f"[bold]{head}[/bold]")
    table = Table(show_header=False, box=None, pad_edge=False)
    rows = _TRAINING if est["kind"] == "training" else _INFERENCE
    for key, label, pattern in rows:
        if key in est:
            table.add_row(label, _fmt(est[key], pattern))
    table.add_row("bottleneck", str(est["bottleneck"]))
    console.print(table)
    lay = est["layout"]
    console.print("layout: " + ", ".join(f"{k} {v}" for k, v in lay.items() if v not in (None, "")))
    mem = est["memory_gb_per_device"]
    console.print("memory per device (GB): " + ", ".join(f"{k} {v:,.1f}" for k, v in mem.items()))
    if est.get("breakdown"):
        share = ", ".join(f"{k} {v:.0%}" for k, v in est["breakdown"].items() if v >= 0.005)
        console.print(f"step time: {share}")
    for key, eff in est["efficiency"].items():
        console.print(
            f"{key} {eff['value']:.2f} from {eff['from']} ({eff['confidence']}): {eff['source']}",
            highlight=False,
            markup=False,
        )
    for note in est["notes"]:
        console.print(f"! {note}", style="yellow", highlight=False, markup=False)


@app.command("estimate")
def estimate(
    workload: Annotated[Path, typer.Argument(help="Workload YAML file.", show_default=False)],
    accelerator: Annotated[
        str, typer.Option("--accelerator", "-a", help="Accelerator id or alias (plan catalog list).")
    ],
    devices: Annotated[int | None, typer.Option("--devices", "-n", min=1, help="Devices to estimate on.")] = None,
    catalog: CatalogFiles = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the estimate as JSON.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log what the model does.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of internal errors.")] = False,
) -> None:
    """Estimate WORKLOAD on one accelerator: rate, MFU, days and memory for training; throughput,
    TTFT/TPOT, batch and memory per replica for inference (exit 0, or 2 on bad input)."""
    configure_logging(verbose)

    def body() -> None:
        import planner

        cat = planner.load_catalog(list(catalog or []))
        est = planner.estimate(workload, accelerator, devices, cat).as_dict()
        if json_out:
            typer.echo(json.dumps(est, indent=2))
        else:
            render(est, Console(width=None if sys.stdout.isatty() else 150))

    guarded(body, debug)

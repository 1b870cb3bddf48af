"""``plan frontier WORKLOAD.yaml --vary PARAM=START:STOP:STEP``: optimal cost along one parameter."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from planner.cli.app import app, configure_logging, guarded
from planner.cli.options import (
    AsOfOpt,
    CatalogOpt,
    DebugOpt,
    FormatOpt,
    OutputOpt,
    OverwriteOpt,
    ReportCurrencyOpt,
    SeedOpt,
    TimeLimitOpt,
    VerboseOpt,
    WorkersOpt,
    emit,
    output_format,
    progress_bar,
    report_money,
    stdout_console,
)

VARY_HELP = (
    "PARAM=START:STOP:STEP or PARAM=V1,V2,... PARAM: domestic_share.min, budget, power, levy, price:ID "
    "(offer, accelerator or vendor; a factor), or a workload field (traffic.requests_per_s). Numbers take k/M/B and %."
)


@app.command("frontier")
def frontier(
    workload: Annotated[Path, typer.Argument(help="Workload YAML file.", show_default=False)],
    vary: Annotated[str, typer.Option("--vary", help=VARY_HELP)] = "domestic_share.min=0:1:0.05",
    catalog: CatalogOpt = None,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = None,
    currency: ReportCurrencyOpt = "USD",
    output: OutputOpt = None,
    overwrite: OverwriteOpt = False,
    time_limit: TimeLimitOpt = 10.0,
    workers: WorkersOpt = 4,
    seed: SeedOpt = 0,
    verbose: VerboseOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Optimal cost and fleet mix at each value of one parameter, and where the mix changes
    (exit 0 some point has a plan, 1 none has, 2 bad input)."""
    configure_logging(verbose)

    def body() -> int:
        import planner
        from planner.report.outputs import render, terminal

        chosen = output_format(fmt, output, overwrite) or "table"
        cat = planner.load_catalog(list(catalog or []), as_of=as_of)
        money = report_money(currency, cat)
        wl = planner.load_workload(workload)
        with progress_bar("sweeping") as update:
            frame = planner.frontier(
                wl, vary, cat, time_limit_s=time_limit, workers=workers, seed=seed, progress=update
            )
        if chosen == "table" and output is None:
            terminal(frame, stdout_console(), money=money, catalog=cat, workload=wl)
        else:
            emit(render(frame, chosen, money=money, catalog=cat, workload=wl), chosen, output, overwrite)
        return 0 if frame["tco_usd"].notna().any() else 1

    code = guarded(body, debug)
    if code:
        raise typer.Exit(code)

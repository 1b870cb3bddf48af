"""``plan compare WORKLOAD.yaml``: the optimum next to single-lever fleets and user scenarios."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from planner.cli.app import app, configure_logging, guarded
from planner.cli.options import (
    STATUS_EXIT,
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

ScenarioOpt = Annotated[
    list[Path] | None,
    typer.Option("--scenario", "-s", help="Scenario YAML file or folder of them (examples/scenarios/); repeatable."),
]


@app.command("compare")
def compare(
    workload: Annotated[Path, typer.Argument(help="Workload YAML file.", show_default=False)],
    scenario: ScenarioOpt = None,
    baselines: Annotated[
        bool,
        typer.Option("--baselines/--no-baselines", help="Also all-NVIDIA, all-domestic, onshore-only, purchase-only."),
    ] = True,
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
    """Compare the optimum with the best all-NVIDIA, all-domestic, onshore-only and purchase-only fleets
    and your scenarios (exit 0 optimum found, 1 optimum infeasible, 2 bad input, 3 time limit)."""
    configure_logging(verbose)

    def body() -> int:
        import planner
        from planner.report.outputs import render, terminal

        chosen = output_format(fmt, output, overwrite) or "table"
        cat = planner.load_catalog(list(catalog or []), as_of=as_of)
        money = report_money(currency, cat)
        wl = planner.load_workload(workload)
        with progress_bar("comparing") as update:
            result = planner.compare_plans(
                wl,
                cat,
                list(scenario or []),
                baselines=baselines,
                time_limit_s=time_limit,
                workers=workers,
                seed=seed,
                progress=update,
            )
        frame = result.to_frame()
        if chosen == "table" and output is None:
            terminal(frame, stdout_console(), money=money, catalog=cat, workload=wl)
        else:
            content = render(frame, chosen, money=money, catalog=cat, workload=wl, optimum=result.optimum.plan)
            emit(content, chosen, output, overwrite)
        first = result.optimum.plan
        return STATUS_EXIT.get(first.status, 4) if first is not None else 1

    code = guarded(body, debug)
    if code:
        raise typer.Exit(code)

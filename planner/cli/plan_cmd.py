"""``plan WORKLOAD.yaml``: the default command."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from planner.cli.app import app, configure_logging, err_console, guarded
from planner.cli.options import FormatOpt, OutputOpt, OverwriteOpt, emit, output_format

CatalogOpt = Annotated[
    list[Path] | None,
    typer.Option("--catalog", "-c", help="Extra catalog file (your own quotes); repeatable, later wins."),
]
Currency = Annotated[str, typer.Option("--currency", help="Currency for money: USD or CNY.")]


@app.command("run", hidden=True)
def run(
    workload: Annotated[Path, typer.Argument(help="Workload YAML file.", show_default=False)],
    catalog: CatalogOpt = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the whole plan as JSON (= --format json).")] = False,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
    overwrite: OverwriteOpt = False,
    currency: Currency = "USD",
    time_limit: Annotated[float, typer.Option("--time-limit", min=0.01, help="Solver time limit, seconds.")] = 10.0,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="Solver worker threads.")] = 4,
    seed: Annotated[int, typer.Option("--seed", help="Solver random seed.")] = 0,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Plan with what was purchasable on this date (YYYY-MM-DD).")
    ] = None,
    why: Annotated[
        bool,
        typer.Option(
            "--why",
            help="Also show what binds: each binding limit's value one step further, each policy's price "
            "(re-solves; slower).",
        ),
    ] = False,
    force: Annotated[
        list[str] | None,
        typer.Option(
            "--force",
            help="Plan with this accelerator, vendor or offer in use and show the cost against the "
            "optimum ('why not X?'); repeatable.",
            show_default=False,
        ),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option(
            "--exclude",
            help="Plan without this accelerator, vendor or offer and show the cost; repeatable.",
            show_default=False,
        ),
    ] = None,
    timing: Annotated[
        bool,
        typer.Option(
            "--timing", help="Put solve time, wall time and worker count in the JSON (off: same input, same bytes)."
        ),
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log what the planner does.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of internal errors.")] = False,
) -> None:
    """Find the cheapest fleet that meets WORKLOAD (exit 0 plan, 1 infeasible, 2 bad input, 3 time limit)."""
    configure_logging(verbose)
    if currency not in ("USD", "CNY"):
        raise typer.BadParameter("use USD or CNY", param_hint="--currency")

    def body() -> int:
        import planner
        from planner.report.money import Money
        from planner.report.outputs import render as render_as

        chosen = output_format(fmt, output, overwrite, json_out)
        cat = planner.load_catalog(list(catalog or []), as_of=as_of)
        inputs = planner.load_workload(workload)
        result = planner.plan(
            inputs,
            cat,
            time_limit_s=time_limit,
            workers=workers,
            seed=seed,
            why=why,
            force=list(force or []),
            exclude=list(exclude or []),
        )
        money = Money(currency, cat.fx_cny_per_usd.value if cat.fx_cny_per_usd else None)
        if chosen is not None:
            emit(
                render_as(result, chosen, catalog=cat, workload=inputs, money=money, timing=timing),
                chosen,
                output,
                overwrite,
            )
        else:
            from rich.console import Console

            from planner.report.terminal import render

            render(result, Console(width=None if sys.stdout.isatty() else 150), money)
        if result.status == "NO_SOLUTION":
            err_console().print(
                f"no plan found in the time limit of {time_limit:g} s: rerun with a longer --time-limit",
                markup=False,
                soft_wrap=True,
            )
        return {"OPTIMAL": 0, "FEASIBLE": 0, "INFEASIBLE": 1, "NO_SOLUTION": 3}.get(result.status, 4)

    code = guarded(body, debug)
    if code:
        raise typer.Exit(code)

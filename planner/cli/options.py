"""Options and output handling shared by ``plan``, ``plan compare`` and ``plan frontier``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from planner.cli.app import err_console

if TYPE_CHECKING:
    from rich.console import Console

FORMAT_HELP = "Output format: table, json, csv, xlsx, md or html (default: from --output's suffix, else table)."
FormatOpt = Annotated[str | None, typer.Option("--format", help=FORMAT_HELP, show_default=False)]
OutputOpt = Annotated[
    Path | None,
    typer.Option("--output", help="Write to FILE (atomically) instead of the terminal.", show_default=False),
]
OverwriteOpt = Annotated[bool, typer.Option("--overwrite", help="Replace the --output file if it exists.")]
CatalogOpt = Annotated[
    list[Path] | None,
    typer.Option("--catalog", "-c", help="Extra catalog file (your own quotes); repeatable, later wins."),
]
AsOfOpt = Annotated[
    str | None, typer.Option("--as-of", help="Plan with what was purchasable on this date (YYYY-MM-DD).")
]
TimeLimitOpt = Annotated[float, typer.Option("--time-limit", min=0.01, help="Solver time limit per solve, seconds.")]
WorkersOpt = Annotated[int, typer.Option("--workers", min=1, max=64, help="Solver worker threads.")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Solver random seed.")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Log what the planner does.")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show tracebacks of internal errors.")]

STATUS_EXIT = {"OPTIMAL": 0, "FEASIBLE": 0, "INFEASIBLE": 1, "NO_SOLUTION": 3}


def output_format(fmt: str | None, output: Path | None, overwrite: bool, json_out: bool = False) -> str | None:
    """The format to render, checked before any solving: None means the terminal view of ``plan``.

    Fails fast (exit 2) on --json with another --format, an unknown format, a binary format
    without --output, and an existing --output file without --overwrite.
    """
    from planner.errors import InputError
    from planner.report.outputs import choose_format

    if json_out and fmt not in (None, "json"):
        raise InputError.single("--json", f"--json means --format json, not {fmt}; drop one")
    if not (json_out or fmt or output):
        return None
    chosen = choose_format("json" if json_out else fmt, output)
    if output is None and chosen == "xlsx":
        raise InputError.single("--format", "xlsx is a binary format: give --output FILE.xlsx")
    if output is not None and not overwrite and output.exists():
        raise InputError.single(str(output), "already exists; pass --overwrite to replace it")
    return chosen


def emit(content: str | bytes, fmt: str, output: Path | None, overwrite: bool) -> None:
    """Print text to stdout, or write the file atomically (never over an existing one without --overwrite)."""
    from planner.errors import InputError

    if output is None:
        if isinstance(content, bytes):
            raise InputError.single("--format", f"{fmt} is a binary format: give --output FILE.{fmt}")
        typer.echo(content, nl=False)
        return
    from planner.report.files import write_atomic

    write_atomic(output, content, overwrite=overwrite)
    err_console().print(f"wrote {output} ({fmt})", markup=False, highlight=False, soft_wrap=True)


@contextmanager
def progress_bar(description: str, console: Console | None = None) -> Iterator[Callable[[int, int, str], None] | None]:
    """A progress bar on stderr while solves run (only on a terminal: pipes and logs stay clean)."""
    console = console or err_console()
    if not console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int, label: str) -> None:
            bar.update(task, completed=done, total=total, description=f"{description} · {label}")

        yield update


def stdout_console() -> Console:
    import sys

    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 150)


ReportCurrencyOpt = Annotated[
    str, typer.Option("--currency", help="Money in USD or CNY (table, md, html, xlsx; json and csv stay USD).")
]


def report_money(currency: str, catalog: Any) -> Any:
    """The Money for a report in ``currency`` at the catalog's dated rate; bad currency is a usage error."""
    from planner.report.money import Money

    if currency not in ("USD", "CNY"):
        raise typer.BadParameter("use USD or CNY", param_hint="--currency")
    return Money(currency, catalog.fx_cny_per_usd.value if catalog.fx_cny_per_usd else None)

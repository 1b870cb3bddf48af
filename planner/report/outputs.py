"""Pick a format and render a Plan, a comparison or a frontier to text or bytes.

``table`` is the terminal view; json/csv/md/html are text; xlsx is bytes (it needs a file).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

from planner.errors import InputError
from planner.models.plan import Plan
from planner.report.money import Money

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console

    from planner.catalog.store import Catalog
    from planner.models.fleet import Fleet
    from planner.models.workload import Workload
    from planner.report.document import Report

# Each format's renderer is imported by render() when that format is asked for: a plan printed as
# JSON or as the terminal table never loads pandas, openpyxl or the report document builders.

FORMATS = ("table", "json", "csv", "xlsx", "md", "html")
SUFFIXES = {
    ".json": "json",
    ".csv": "csv",
    ".xlsx": "xlsx",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".txt": "table",
}


def choose_format(fmt: str | None, output: str | Path | None) -> str:
    """The format asked for, else the one the output file's suffix implies, else the terminal table."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise InputError.single("--format", f"unknown format '{fmt}'", hint="use one of " + ", ".join(FORMATS))
        return fmt
    if output is not None:
        return SUFFIXES.get(Path(output).suffix.lower(), "table")
    return "table"


def terminal(
    obj: Plan | pd.DataFrame,
    console: Console,
    money: Money | None = None,
    catalog: Catalog | None = None,
    workload: Workload | Fleet | None = None,
) -> None:
    """Print the terminal view of a plan, comparison or frontier."""
    if isinstance(obj, Plan):
        from planner.report.terminal import render as render_plan_terminal

        render_plan_terminal(obj, console, money or Money())
    else:
        from planner.report.terminal_views import render_report

        render_report(_report(obj, catalog, workload, None, money or Money()), console)


def _report(
    obj: Plan | pd.DataFrame,
    catalog: Catalog | None,
    workload: Workload | Fleet | None,
    optimum: Plan | None,
    money: Money,
) -> Report:
    """Build the report from figures already in the chosen currency, then relabel its units."""
    from planner.report.currency import frame_in, plan_in, relabel
    from planner.report.document import build_report

    data = plan_in(obj, money) if isinstance(obj, Plan) else frame_in(obj, money)
    best = plan_in(optimum, money) if optimum is not None else None
    return relabel(build_report(data, catalog, workload, best), money)


def render(
    obj: Plan | pd.DataFrame,
    fmt: str,
    *,
    catalog: Catalog | None = None,
    workload: Workload | Fleet | None = None,
    optimum: Plan | None = None,
    money: Money | None = None,
    width: int = 150,
    timing: bool = False,
) -> str | bytes:
    """``obj`` in ``fmt``; 'table' gives the terminal view as plain text (for --output)."""
    if fmt == "table":
        from rich.console import Console

        buf = io.StringIO()
        console = Console(file=buf, width=width, color_system=None, highlight=False)
        if isinstance(obj, Plan):
            from planner.report.terminal import render as render_plan_terminal

            render_plan_terminal(obj, console, money or Money())
        else:
            from planner.report.terminal_views import render_report

            render_report(_report(obj, catalog, workload, optimum, money or Money()), console)
        return buf.getvalue()
    if fmt == "json":  # machine formats stay in USD: their field names say so (*_usd)
        from planner.report.json_out import to_json

        if isinstance(obj, Plan):
            return to_json(obj, timing=timing)
        from planner.report.frame_json import frame_data

        return to_json(frame_data(obj), timing=timing)
    if fmt == "csv":
        from planner.report.csv_out import to_csv

        return to_csv(obj)
    if fmt not in FORMATS:
        raise InputError.single("--format", f"unknown format '{fmt}'", hint="use one of " + ", ".join(FORMATS))
    report = _report(obj, catalog, workload, optimum, money or Money())
    if fmt == "md":
        from planner.report.markdown_out import render_markdown

        return render_markdown(report)
    if fmt == "html":
        from planner.report.html_out import render_html

        return render_html(report)
    if fmt == "xlsx":
        from planner.report.xlsx_out import render_xlsx

        return render_xlsx(report)
    raise InputError.single("--format", f"unknown format '{fmt}'", hint="use one of " + ", ".join(FORMATS))

"""``plan validate CASES.yaml``: how far the estimates are from measured results."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from planner.cli.app import app, configure_logging, guarded
from planner.cli.estimate_cmd import CatalogFiles


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:+.0%}"


def render(report: dict[str, Any], console: Console, show_notes: bool) -> None:
    """Per-case table, then the summary overall and per metric / accelerator."""
    table = Table(title="Predicted vs measured (error = predicted/measured - 1)", title_justify="left")
    for col in ("case", "metric", "accelerator", "predicted", "measured", "error", "why / how"):
        table.add_column(col, overflow="fold")
    for c in report["cases"]:
        if c["status"] == "scored":
            why = "; ".join(([c["reason"]] if c["reason"] else []) + (c["notes"][:2] if show_notes else c["notes"][:1]))
            err = _pct(c["error"])
            if c["qualifier"]:
                err += f" ({c['qualifier']})"
            style = "red" if abs(c["scored_error"]) > 0.40 else ("yellow" if abs(c["scored_error"]) > 0.15 else None)
            table.add_row(
                c["id"], c["metric"], c["accelerator"], _num(c["predicted"]), _num(c["measured"]), err, why, style=style
            )
        else:
            table.add_row(
                c["id"], c["metric"], c["accelerator"], "-", _num(c["measured"]), "not scored", c["reason"], style="dim"
            )
    console.print(table)
    s = report["summary"]
    med, worst = s["median_abs_error"], s["worst_abs_error"]
    console.print(
        f"scored {s['scored']} of {s['cases']} cases ({s['not_scored']} not scored); median |error| "
        f"{'-' if med is None else f'{med:.1%}'}, worst {'-' if worst is None else f'{worst:.1%}'}"
        f"{' (' + s['worst_case'] + ')' if s.get('worst_case') else ''}; within 15 %: {s['within_15pct']}, "
        f"within 40 %: {s['within_40pct']}",
        highlight=False,
    )
    for group in ("by_metric", "by_accelerator"):
        sub = Table(title=group.replace("_", " "), title_justify="left")
        for col in ("", "cases", "median |error|", "worst |error|"):
            sub.add_column(col)
        for name, st in s[group].items():
            sub.add_row(name, str(st["n"]), f"{st['median_abs_error']:.1%}", f"{st['worst_abs_error']:.1%}")
        console.print(sub)


def markdown(report: dict[str, Any]) -> str:
    """The per-case table and the summary as Markdown (docs/estimates.md embeds it)."""
    s = report["summary"]
    lines = [
        f"Scored {s['scored']} of {s['cases']} cases; median |error| {s['median_abs_error']:.1%}, worst "
        f"{s['worst_abs_error']:.1%} ({s['worst_case']}); {s['within_15pct']} within ±15 %, "
        f"{s['within_40pct']} within ±40 %.",
        "",
        "| metric | cases | median abs error | worst abs error |",
        "| --- | ---: | ---: | ---: |",
    ]
    for group in ("by_metric", "by_accelerator"):
        for name, st in s[group].items():
            lines.append(f"| {name} | {st['n']} | {st['median_abs_error']:.1%} | {st['worst_abs_error']:.1%} |")
    lines += [
        "",
        "| case | metric | accelerator | predicted | measured | error | note |",
        "| --- | --- | --- | ---: | ---: | ---: | --- |",
    ]
    for c in report["cases"]:
        if c["status"] == "scored":
            note = c["reason"] or (c["notes"][0] if c["notes"] else "")
            err = _pct(c["error"]) + (f" ({c['qualifier']})" if c["qualifier"] else "")
            lines.append(
                f"| {c['id']} | {c['metric']} | {c['accelerator']} | {_num(c['predicted'])} | "
                f"{_num(c['measured'])} | {err} | {note.replace('|', '/')} |"
            )
        else:
            lines.append(
                f"| {c['id']} | {c['metric']} | {c['accelerator']} | - | {_num(c['measured'])} | "
                f"not scored | {str(c['reason']).replace('|', '/')} |"
            )
    return "\n".join(lines) + "\n"


@app.command("validate")
def validate(
    cases: Annotated[
        Path, typer.Argument(help="Cases YAML (format of shared/validation/calibration.yaml).", show_default=False)
    ],
    catalog: CatalogFiles = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print cases and summary as JSON.")] = False,
    md: Annotated[bool, typer.Option("--markdown", help="Print the tables as Markdown (docs/estimates.md).")] = False,
    notes: Annotated[bool, typer.Option("--notes", help="Show more of each case's explanation.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log what the model does.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of internal errors.")] = False,
) -> None:
    """Run the performance model over measured CASES and print predicted vs measured, the error per
    case and the median / worst absolute error (exit 0, or 2 on bad input)."""
    configure_logging(verbose)

    def body() -> None:
        import planner

        cat = planner.load_catalog(list(catalog or []))
        report = planner.validate(cases, cat).as_dict()
        if json_out:
            typer.echo(json.dumps(report, indent=2))
        elif md:
            typer.echo(markdown(report), nl=False)
        else:
            render(report, Console(width=None if sys.stdout.isatty() else 200), notes)

    guarded(body, debug)

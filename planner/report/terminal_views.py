"""Comparisons and frontiers as rich tables in a terminal (plans use planner.report.terminal)."""

from __future__ import annotations

import pandas as pd
from rich.console import Console
from rich.panel import Panel
from rich.table import Table as RichTable
from rich.text import Text

from planner.report.document import Report
from planner.report.tables import Table, fmt

TERMINAL_FRONTIER = ("Status", "TCO (USD)", "Power (kW)", "Domestic share", "Devices", "req/s", "Days", "Mix changes")


def _frontier_view(frontier: Table, mix: Table) -> Table:
    """Frontier figures plus devices per accelerator, narrow enough for a terminal."""
    cols = [str(frontier.frame.columns[0]), *[c for c in frontier.frame.columns if c in TERMINAL_FRONTIER]]
    devices = [c for c in mix.frame.columns[1:] if c != "Fleet"]
    frame = pd.concat([frontier.frame[cols], mix.frame[devices]], axis=1)
    return Table(
        frontier.title,
        frame,
        {**frontier.kinds, **mix.kinds},
        blocked_rows=frontier.blocked_rows,
        marked_rows=frontier.marked_rows,
        note=frontier.note,
    )


def rich_table(t: Table, notes: list[str]) -> RichTable:
    """A Table for the terminal; reasons for missing plans go to ``notes`` as numbered footnotes."""
    cols = [str(c) for c in t.frame.columns]
    out = RichTable(title=t.title, title_justify="left", header_style="bold")
    if t.show_index:
        out.add_column("", style="bold")
    for c in cols:
        numeric = t.kinds.get(c, "text") not in ("text", "flag") or bool(t.row_kinds)
        out.add_column(c, justify="right" if numeric else "left", overflow="fold")
    marks: dict[str, int] = {}
    for pos, (label, row) in enumerate(t.frame.iterrows()):
        cells: list[str | Text] = [str(label)] if t.show_index else []
        for c in cols:
            kind = t.kind_of(label, c)
            reason = None
            if c in t.blocked_columns and t.is_blocked(pos, label, c):
                reason = t.blocked_columns[c]
                key = f"col:{c}"
            elif pos in t.blocked_rows and t.is_blocked(pos, label, c):
                reason = t.blocked_rows[pos]
                key = f"row:{pos}"
            if reason is not None:
                if key not in marks:
                    notes.append(f"{c if key.startswith('col') else row.iloc[0]}: {reason}")
                    marks[key] = len(notes)
                    cells.append(Text(f"✗ no plan ({marks[key]})", style="red"))
                else:
                    cells.append("")
                continue
            cells.append(fmt(row[c], kind))
        style = "bold" if (t.total_row and pos == len(t.frame) - 1) else ("yellow" if pos in t.marked_rows else None)
        out.add_row(*cells, style=style)
    return out


def render_report(rep: Report, console: Console) -> None:
    """Header, key figures, the report's tables, notes and warnings."""
    status = f" · {rep.status}" if rep.status else ""
    console.print(Panel(f"[bold]{rep.title}[/bold]{status}\n{rep.subtitle}", expand=False))
    if rep.kpis:
        console.print("  ".join(f"[bold]{k}:[/bold] {v}" for k, v in rep.kpis))
    notes: list[str] = []
    tables = rep.tables
    if rep.kind == "frontier" and len(tables) >= 2:
        tables = [_frontier_view(tables[0], tables[1])]
    for t in tables:
        if t.title.startswith("Optimum"):
            continue  # in the files; the terminal view stays one screen
        console.print(rich_table(t, notes))
        if t.note:
            console.print(Text(t.note, style="dim"))
    for i, note in enumerate(notes, start=1):
        console.print(Text(f"({i}) {note}", style="red"))
    if rep.warnings:
        console.print(Text("Warnings", style="bold yellow"))
        for w in rep.warnings:
            console.print(Text(f"  ! {w}", style="yellow"))

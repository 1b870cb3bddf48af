"""Markdown for wikis and tickets: headings, pipe tables, bullet lists; charts stay in the HTML."""

from __future__ import annotations

import pandas as pd

from planner.catalog.store import Catalog
from planner.models.fleet import Fleet
from planner.models.plan import Plan
from planner.models.workload import Workload
from planner.report.document import Report, build_report
from planner.report.tables import Table, fmt


def _esc(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table_md(t: Table) -> str:
    """A pipe table; an option or point without a plan shows its reason once, in its first number cell."""
    cols = [str(c) for c in t.frame.columns]
    head = ([""] if t.show_index else []) + cols
    right = ([False] if t.show_index else []) + [
        t.kinds.get(c, "text") not in ("text", "flag") or bool(t.row_kinds) for c in cols
    ]
    lines = [
        "| " + " | ".join(_esc(h) for h in head) + " |",
        "|" + "|".join("---:" if r else "---" for r in right) + "|",
    ]
    said: set[str] = set()
    for pos, (label, row) in enumerate(t.frame.iterrows()):
        cells = [f"**{_esc(str(label))}**"] if t.show_index else []
        said_row = False
        for c in cols:
            kind = t.kind_of(label, c)
            if c in t.blocked_columns and t.is_blocked(pos, label, c):
                cells.append("" if c in said else f"✗ {_esc(t.blocked_columns[c])}")
                said.add(c)
                continue
            if pos in t.blocked_rows and t.is_blocked(pos, label, c):
                cells.append("" if said_row else f"✗ {_esc(t.blocked_rows[pos])}")
                said_row = True
                continue
            text = _esc(fmt(row[c], kind))
            if c == "Source" and text.startswith(("http://", "https://")):
                text = f"<{text}>"
            if (t.total_row and pos == len(t.frame) - 1) or pos in t.marked_rows:
                text = f"**{text}**" if text else text
            cells.append(text)
        lines.append("| " + " | ".join(cells) + " |")
    out = [f"## {t.title}", ""]
    if t.note:
        out += [f"_{_esc(t.note)}_", ""]
    return "\n".join(out + lines) + "\n"


def render_markdown(rep: Report) -> str:
    out = [f"# {rep.title}", "", f"{rep.subtitle}" + (f" · **{rep.status}**" if rep.status else ""), ""]
    if rep.kpis:
        out += [f"- **{k}:** {v}" for k, v in rep.kpis] + [""]
    if rep.explanation:
        out += ["## Why there is no plan", ""] + [f"- {x}" for x in rep.explanation] + [""]
    out += [table_md(t) for t in rep.tables]
    if rep.warnings:
        out += ["## Warnings", ""] + [f"- {w}" for w in rep.warnings] + [""]
    if rep.assumptions:
        out += ["## Assumptions", ""] + [f"- {a}" for a in rep.assumptions] + [""]
    if rep.sources is not None:
        out.append(table_md(rep.sources))
    out.append(f"_Generated {rep.generated} by fleet-planner; figures in {rep.currency} unless stated._")
    return "\n".join(out) + "\n"


def to_markdown(
    obj: Plan | pd.DataFrame | Report,
    catalog: Catalog | None = None,
    workload: Workload | Fleet | None = None,
    optimum: Plan | None = None,
) -> str:
    """Markdown for a Plan, a compare() frame or a frontier() frame."""
    return render_markdown(build_report(obj, catalog, workload, optimum))

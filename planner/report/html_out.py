"""A self-contained HTML report: inline CSS and SVG, no scripts, nothing fetched, prints cleanly.

Procurement reports are mailed, archived and printed; a file that needs a CDN or a script to
show its charts breaks in all three, so everything the page needs is inside it.
"""

from __future__ import annotations

import re
from html import escape

import pandas as pd

from planner.catalog.store import Catalog
from planner.models.fleet import Fleet
from planner.models.plan import Plan
from planner.models.workload import Workload
from planner.report.document import Report, build_report
from planner.report.tables import Table, fmt

_URL = re.compile(r"^https?://\S+$")

CSS = """
:root{--ink:#1a1a1a;--muted:#5f6b7a;--line:#dfe3e8;--head:#f1f4f8;--accent:#1f4e79;--mark:#fff4e0}
*{box-sizing:border-box}
body{margin:0;background:#eef1f5;color:var(--ink);
  font:14px/1.45 -apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif}
main{max-width:1180px;margin:24px auto;background:#fff;padding:32px 40px 40px;border-radius:10px;
  box-shadow:0 1px 4px rgba(0,0,0,.08)}
header{border-bottom:3px solid var(--accent);padding-bottom:14px;margin-bottom:20px}
h1{font-size:24px;margin:0 0 4px}
h2{font-size:17px;margin:30px 0 10px;padding-bottom:4px;border-bottom:1px solid var(--line);color:var(--accent)}
.sub{color:var(--muted);margin:0}
.meta{color:var(--muted);font-size:12px;margin-top:6px}
.badge{display:inline-block;padding:2px 10px;border-radius:12px;font-size:12px;font-weight:600;vertical-align:middle;
  margin-left:8px;color:#fff}
.badge.OPTIMAL{background:#2e7d32}.badge.FEASIBLE,.badge.PARTIAL{background:#b26a00}
.badge.INFEASIBLE,.badge.NO_SOLUTION,.badge.MODEL_INVALID{background:#c62828}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:10px;margin:16px 0 8px}
.kpi{border:1px solid var(--line);border-radius:8px;padding:10px 12px;background:#fafbfc}
.kpi .label{font-size:11px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
.kpi .value{font-size:18px;font-weight:600;margin-top:2px;font-variant-numeric:tabular-nums}
figure{margin:14px 0 6px}
figcaption{color:var(--muted);font-size:12px;margin-top:4px}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:12.5px;margin:6px 0}
th,td{border-bottom:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top}
thead th{background:var(--head);font-weight:600;border-bottom:2px solid #c9d1db;white-space:nowrap}
tbody tr:nth-child(even) td{background:#fbfcfd}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
th.rowhead{background:var(--head);white-space:nowrap}
tr.total td{font-weight:700;border-top:2px solid #c9d1db}
tr.marked td{background:var(--mark)!important}
td.why{color:#a32020;font-style:italic;white-space:normal;text-align:left}
table.kv{width:auto;min-width:420px}
table.kv td.num{padding-left:40px}
table.options{table-layout:fixed}
table.options th.rowhead{width:190px}
table.options td{white-space:normal;word-break:break-word}
p.note{color:var(--muted);font-size:12px;margin:2px 0 8px}
ul.plain{margin:6px 0;padding-left:20px}
ul.warn li{color:#8a5a00}
.explain{border-left:4px solid #c62828;background:#fdf2f2;padding:10px 14px;border-radius:4px}
a{color:var(--accent);word-break:break-all}
footer{margin-top:30px;color:var(--muted);font-size:11px;border-top:1px solid var(--line);padding-top:8px}
@media print{
  @page{size:A4 landscape;margin:12mm}
  body{background:#fff;font-size:11px}
  main{box-shadow:none;margin:0;padding:0;max-width:none;border-radius:0}
  .scroll{overflow:visible}
  table{font-size:9.5px}
  thead{display:table-header-group}
  tr,figure,.kpi{break-inside:avoid}
  h2{break-after:avoid}
  tbody tr:nth-child(even) td{background:#fff}
  a{color:var(--ink);text-decoration:none}
}
"""


def _cell(text: str, kind: str, extra: str = "") -> str:
    cls = "num" if kind not in ("text", "flag") else ""
    attrs = f' class="{cls}"' if cls else ""
    return f"<td{attrs}{extra}>{text}</td>"


def _link(value: str) -> str:
    if _URL.match(value):
        shown = value if len(value) <= 70 else value[:67] + "…"
        return f'<a href="{escape(value)}">{escape(shown)}</a>'
    return escape(value)


def table_html(t: Table) -> str:
    """One table; options without a plan get one cell with the reason instead of numbers."""
    frame = t.frame
    cols = [str(c) for c in frame.columns]
    head = ["<th></th>"] if t.show_index else []
    for c in cols:
        num = t.kinds.get(c, "text") not in ("text", "flag") or bool(t.row_kinds)
        head.append(f'<th class="num">{escape(c)}</th>' if num else f"<th>{escape(c)}</th>")
    rows_html = []
    spanned: set[str] = set()
    for pos, (row_label, row) in enumerate(frame.iterrows()):
        classes = []
        if t.total_row and pos == len(frame) - 1:
            classes.append("total")
        if pos in t.marked_rows:
            classes.append("marked")
        cells = [f'<th class="rowhead" scope="row">{escape(str(row_label))}</th>'] if t.show_index else []
        if pos in t.blocked_rows:
            blocked_at = [i for i, c in enumerate(cols) if t.is_blocked(pos, row_label, c)]
            for i, c in enumerate(cols):
                if i in blocked_at:
                    if i == blocked_at[0]:
                        reason = escape(t.blocked_rows[pos])
                        cells.append(f'<td class="why" colspan="{len(blocked_at)}">✗ {reason}</td>')
                    continue
                cells.append(_cell(escape(fmt(row[c], t.kind_of(row_label, c))), t.kind_of(row_label, c)))
        else:
            for c in cols:
                kind = t.kind_of(row_label, c)
                if c in t.blocked_columns and t.is_blocked(pos, row_label, c):
                    if c not in spanned:
                        span = sum(1 for rl in frame.index if t.is_blocked(0, rl, c))
                        cells.append(f'<td class="why" rowspan="{span}">✗ {escape(t.blocked_columns[c])}</td>')
                        spanned.add(c)
                    continue
                text = fmt(row[c], kind)
                cells.append(_cell(_link(text) if c == "Source" else escape(text), kind))
        cls = f' class="{" ".join(classes)}"' if classes else ""
        rows_html.append(f"<tr{cls}>{''.join(cells)}</tr>")
    note = f'<p class="note">{escape(t.note)}</p>' if t.note else ""
    slug = re.sub(r"[^a-z0-9]+", "-", t.title.lower()).strip("-")
    css = ("kv" if len(cols) == 1 else "options") if t.show_index else "grid"
    return (
        f'<section class="table" id="t-{slug}"><h2>{escape(t.title)}</h2>{note}<div class="scroll">'
        f'<table class="{css}"><thead><tr>{"".join(head)}</tr></thead><tbody>{"".join(rows_html)}</tbody>'
        "</table></div></section>"
    )


def render_html(rep: Report) -> str:
    """The whole report as one HTML document."""
    parts = [f"<header><h1>{escape(rep.title)}"]
    if rep.status:
        parts.append(f'<span class="badge {escape(rep.status)}">{escape(rep.status)}</span>')
    parts.append(
        f'</h1><p class="sub">{escape(rep.subtitle)}</p>'
        f'<p class="meta">Generated {escape(rep.generated)} by fleet-planner</p></header>'
    )
    if rep.kpis:
        parts.append(
            '<div class="kpis">'
            + "".join(
                f'<div class="kpi"><div class="label">{escape(k)}</div><div class="value">{escape(v)}</div></div>'
                for k, v in rep.kpis
            )
            + "</div>"
        )
    if rep.explanation:
        parts.append(
            '<section id="explanation"><h2>Why there is no plan</h2><div class="explain"><ul class="plain">'
            + "".join(f"<li>{escape(x)}</li>" for x in rep.explanation)
            + "</ul></div></section>"
        )
    for caption, svg in rep.charts:
        parts.append(f"<figure>{svg}<figcaption>{escape(caption)}</figcaption></figure>")
    parts += [table_html(t) for t in rep.tables]
    if rep.warnings:
        parts.append(
            '<section id="warnings"><h2>Warnings</h2><ul class="plain warn">'
            + "".join(f"<li>{escape(w)}</li>" for w in rep.warnings)
            + "</ul></section>"
        )
    if rep.assumptions:
        parts.append(
            '<section id="assumptions"><h2>Assumptions</h2><ul class="plain">'
            + "".join(f"<li>{escape(a)}</li>" for a in rep.assumptions)
            + "</ul></section>"
        )
    if rep.sources is not None:
        parts.append(table_html(rep.sources))
    parts.append(
        f"<footer>Figures in {rep.currency} unless stated. Every plan was re-checked by the planner's independent "
        "verifier. Catalog figures carry their source, date and confidence (spec, measured, reported, "
        "roadmap, assumption, derived).</footer>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<link rel="icon" href="data:,"><title>{escape(rep.title)}</title><style>{CSS}</style></head>'
        f"<body><main>{''.join(parts)}</main></body></html>\n"
    )


def to_html(
    obj: Plan | pd.DataFrame | Report,
    catalog: Catalog | None = None,
    workload: Workload | Fleet | None = None,
    optimum: Plan | None = None,
) -> str:
    """HTML report for a Plan, a compare() frame or a frontier() frame."""
    return render_html(build_report(obj, catalog, workload, optimum))

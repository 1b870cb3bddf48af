"""A spreadsheet ready for a procurement memo: a sheet per table, real numbers with currency
formats, frozen headers, set column widths, links to the sources.

Numbers are written unrounded (the format does the rounding) so a reviewer's own formulas add
up to the plan's totals.
"""

from __future__ import annotations

import io
import math
import re
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from planner.catalog.store import Catalog
from planner.models.fleet import Fleet
from planner.models.plan import Plan
from planner.models.workload import Workload
from planner.report.document import Report, build_report, extra_tables
from planner.report.tables import Table, fmt, missing

NUMBER_FORMATS = {
    "usd": '"$"#,##0;-"$"#,##0',
    "dusd": '+"$"#,##0;-"$"#,##0;"$"0',
    "pct": "0.0%",
    "dpct": "+0.0%;-0.0%;0.0%",
    "int": "#,##0",
    "kw": "#,##0.0",
    "rps": "#,##0.0",
    "days": "0.0",
    "num": "General",
}
HEAD_FILL = PatternFill("solid", fgColor="DCE6F1")
MARK_FILL = PatternFill("solid", fgColor="FFF2CC")
HEAD_FONT = Font(bold=True, color="1F3864")
WHY_FONT = Font(italic=True, color="A32020")
RULE = Border(bottom=Side(style="medium", color="8EA9C8"))
WRAP_WIDTH = 60


def sheet_name(title: str, taken: set[str]) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\, unique in the workbook."""
    base = re.sub(r"[\[\]:*?/\\]", "", title).strip()[:31] or "Sheet"
    name, n = base, 2
    while name.lower() in taken:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(name.lower())
    return name


def _plain(value: Any) -> Any:
    """Python scalars for openpyxl: NaN to empty, numpy numbers to float/int."""
    if missing(value):
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_table(ws: Worksheet, t: Table) -> None:
    """One table on one sheet, header in row 1 (frozen), index in column A when shown."""
    cols = [str(c) for c in t.frame.columns]
    head = ([str(t.frame.index.name or "")] if t.show_index else []) + cols
    for j, text in enumerate(head, start=1):
        cell = ws.cell(row=1, column=j, value=text)
        cell.font, cell.fill, cell.border = HEAD_FONT, HEAD_FILL, RULE
        cell.alignment = Alignment(horizontal="center" if t.show_index and j > 1 else "left", vertical="center")
    widths = [len(h) for h in head]
    offset = 1 if t.show_index else 0
    said: set[str] = set()
    for i, (label, row) in enumerate(t.frame.iterrows()):
        r = i + 2
        if t.show_index:
            c0 = ws.cell(row=r, column=1, value=str(label))
            c0.font = Font(bold=True)
            widths[0] = max(widths[0], len(str(label)))
        said_row = False
        for j, col in enumerate(cols, start=1 + offset):
            kind = t.kind_of(label, col)
            cell = ws.cell(row=r, column=j)
            blocked_col = col in t.blocked_columns and t.is_blocked(i, label, col)
            blocked_row = i in t.blocked_rows and t.is_blocked(i, label, col)
            if blocked_col or blocked_row:
                first = (col not in said) if blocked_col else not said_row
                if first:
                    cell.value = "✗ " + (t.blocked_columns[col] if blocked_col else t.blocked_rows[i])
                    cell.font = WHY_FONT
                if blocked_col:
                    said.add(col)
                said_row = said_row or blocked_row
                continue
            value = _plain(row[col])
            if kind == "flag":
                value = "yes" if value else None
            elif kind != "text" and isinstance(value, (int, float)) and not isinstance(value, bool):
                cell.number_format = NUMBER_FORMATS.get(kind, "General")
            elif value is not None and not isinstance(value, (int, float, bool)):
                value = str(value)
            cell.value = value
            if col == "Source" and isinstance(value, str) and value.startswith(("http://", "https://")):
                cell.hyperlink = value
                cell.font = Font(color="1F4E79", underline="single")
            if kind != "text":
                cell.alignment = Alignment(horizontal="right")
            widths[j - 1] = max(widths[j - 1], len(fmt(value, kind)) + (2 if kind in ("usd", "dusd") else 0))
        if t.total_row and i == len(t.frame) - 1:
            for j in range(1, len(head) + 1):
                ws.cell(row=r, column=j).font = Font(bold=True)
        if i in t.marked_rows:
            for j in range(1, len(head) + 1):
                ws.cell(row=r, column=j).fill = MARK_FILL
    for j, w in enumerate(widths, start=1):
        letter = get_column_letter(j)
        ws.column_dimensions[letter].width = min(max(w + 2, 8), WRAP_WIDTH + 2)
        if w > WRAP_WIDTH:
            for cell in ws[letter][1:]:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "B2" if t.show_index else "A2"
    if not t.show_index and len(t.frame):
        ws.auto_filter.ref = f"A1:{get_column_letter(len(head))}{len(t.frame) + 1}"


def _about(ws: Worksheet, rep: Report) -> None:
    rows = [
        ("Report", rep.title),
        ("Scope", rep.subtitle),
        ("Status", rep.status or ""),
        ("Generated", rep.generated),
        *rep.kpis,
    ]
    for i, (k, v) in enumerate(rows, start=1):
        ws.cell(row=i, column=1, value=k).font = Font(bold=True)
        ws.cell(row=i, column=2, value=v)
    ws.column_dimensions["A"].width = max(len(k) for k, _ in rows) + 4
    ws.column_dimensions["B"].width = min(max(len(str(v)) for _, v in rows) + 4, 90)
    ws.freeze_panes = "A2"


def render_xlsx(rep: Report) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    taken: set[str] = set()
    for t in [*rep.tables, *extra_tables(rep)]:
        write_table(wb.create_sheet(sheet_name(t.title, taken)), t)
    _about(wb.create_sheet(sheet_name("About", taken)), rep)
    wb.properties.title = rep.title
    wb.properties.creator = "fleet-planner"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def to_xlsx(
    obj: Plan | pd.DataFrame | Report,
    catalog: Catalog | None = None,
    workload: Workload | Fleet | None = None,
    optimum: Plan | None = None,
) -> bytes:
    """XLSX bytes for a Plan, a compare() frame or a frontier() frame."""
    return render_xlsx(build_report(obj, catalog, workload, optimum))

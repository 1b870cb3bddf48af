"""The spreadsheet read back with openpyxl and checked cell by cell against the plan."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from planner.report.xlsx_out import to_xlsx
from tests.test_report_formats import bundled_inputs, example_comparison, example_frontier, example_plan


def _book(data: bytes):  # type: ignore[no-untyped-def]
    return load_workbook(io.BytesIO(data))


def _header(ws) -> list[str]:  # type: ignore[no-untyped-def]
    return [c.value for c in ws[1]]


def test_plan_workbook_matches_the_plan_cell_by_cell():
    catalog, workload = bundled_inputs()
    plan = example_plan()
    wb = _book(to_xlsx(plan, catalog, workload))
    assert wb.sheetnames == [
        "Summary",
        "Fleet",
        "Cost lines (USD)",
        "Constraints",
        "Warnings",
        "Assumptions",
        "Data sources",
        "About",
    ]
    for ws in wb.worksheets:
        assert ws.freeze_panes in ("A2", "B2"), ws.title
        assert all(ws.column_dimensions[c].width and ws.column_dimensions[c].width >= 8 for c in "AB"), ws.title

    fleet = wb["Fleet"]
    head = _header(fleet)
    assert head[:10] == [
        "Accelerator",
        "Vendor",
        "Origin",
        "Mode",
        "Location",
        "Site",
        "Offer",
        "Units",
        "Owned units",
        "Devices",
    ]
    assert fleet.max_row == len(plan.line_items) + 1
    for r, li in enumerate(plan.line_items, start=2):
        row = {h: fleet.cell(row=r, column=j).value for j, h in enumerate(head, start=1)}
        assert (row["Accelerator"], row["Offer"], row["Site"]) == (li.accelerator_name, li.offer, li.site)
        assert (row["Units"], row["Devices"], row["Replicas"]) == (li.units, li.devices, li.replicas)
        assert row["req/s"] == pytest.approx(li.requests_per_s) and row["Total USD"] == pytest.approx(li.total_usd)
        assert fleet.cell(row=r, column=head.index("Total USD") + 1).number_format == '"$"#,##0;-"$"#,##0'

    costs = wb["Cost lines (USD)"]
    head = _header(costs)
    assert head == [
        "Accelerator",
        "Site",
        "Offer",
        "Capex",
        "Levy",
        "Subsidy",
        "Energy",
        "Elec. subsidy",
        "Rental",
        "Total",
    ]
    for r, li in enumerate(plan.line_items, start=2):
        c = li.costs
        expected = [c.capex, c.levy, -c.subsidy, c.energy, -c.electricity_subsidy, c.rental, li.total_usd]
        got = [costs.cell(row=r, column=j).value for j in range(4, 11)]
        assert got == pytest.approx(expected)
        assert sum(got[:-1]) == pytest.approx(got[-1])
    total_row = len(plan.line_items) + 2
    assert costs.cell(row=total_row, column=1).value == "Total"
    assert costs.cell(row=total_row, column=1).font.bold
    assert costs.cell(row=total_row, column=10).value == pytest.approx(plan.totals.tco_usd)

    summary = {ws_row[0].value: ws_row[1].value for ws_row in wb["Summary"].iter_rows(min_row=2)}
    t = plan.totals
    assert summary["TCO (USD)"] == pytest.approx(t.tco_usd)
    assert summary["Capex (USD)"] == pytest.approx(t.capex_usd)
    assert summary["Export levy (USD)"] == pytest.approx(t.levy_usd)
    assert summary["Electricity subsidies (USD)"] == pytest.approx(-t.electricity_subsidy_usd)
    assert summary["Power (kW, with PUE)"] == pytest.approx(t.power_kw)
    assert summary["Devices"] == t.devices
    assert summary["Domestic share by devices"] == pytest.approx(t.domestic_share["devices"])
    shares = next(r for r in wb["Summary"].iter_rows(min_row=2) if r[0].value == "Domestic share by devices")
    assert shares[1].number_format == "0.0%"

    cons = wb["Constraints"]
    assert [cons.cell(row=r, column=1).value for r in range(2, cons.max_row + 1)] == [c.name for c in plan.constraints]
    assert [w[0].value for w in wb["Warnings"].iter_rows(min_row=2)] == plan.warnings

    sources = wb["Data sources"]
    head = _header(sources)
    links = [sources.cell(row=r, column=head.index("Source") + 1) for r in range(2, sources.max_row + 1)]
    linked = [c for c in links if c.hyperlink is not None]
    assert linked and all(c.hyperlink.target == c.value for c in linked)
    items = {sources.cell(row=r, column=1).value for r in range(2, sources.max_row + 1)}
    assert {li.offer for li in plan.line_items} <= items and "state-cloud-50" in items


def test_comparison_workbook_shows_why_instead_of_numbers():
    comparison = example_comparison()
    frame = comparison.to_frame()
    wb = _book(to_xlsx(frame, optimum=comparison.optimum.plan))
    ws = wb["Comparison"]
    assert ws.freeze_panes == "B2"
    head = _header(ws)
    assert head[1:] == list(frame.columns)
    labels = [ws.cell(row=r, column=1).value for r in range(2, ws.max_row + 1)]
    tco_row = labels.index("TCO (USD)") + 2
    col_nvidia = head.index("all-nvidia") + 1
    assert ws.cell(row=tco_row, column=col_nvidia).value.startswith("✗ the workload does not allow domestic parts")
    assert ws.cell(row=tco_row + 1, column=col_nvidia).value is None
    col_dom = head.index("all-domestic") + 1
    assert ws.cell(row=tco_row, column=col_dom).value == pytest.approx(frame.at["tco_usd", "all-domestic"])
    delta = ws.cell(row=labels.index("Δ vs optimum") + 2, column=col_dom)
    assert delta.value == pytest.approx(frame.at["delta_pct", "all-domestic"])
    assert delta.number_format.startswith("+0.0%")
    assert "Optimum fleet" in wb.sheetnames  # ":" is not allowed in sheet names


def test_frontier_workbook_rows_and_marks():
    frame = example_frontier()
    wb = _book(to_xlsx(frame))
    ws = wb["Frontier"]
    assert ws.max_row == len(frame) + 1
    assert [ws.cell(row=r, column=1).value for r in range(2, ws.max_row + 1)] == pytest.approx(
        list(frame["domestic_share.min"])
    )
    changed = [i for i, v in enumerate(frame["mix_changed"]) if v]
    assert changed and ws.cell(row=changed[0] + 2, column=1).fill.fgColor.rgb.endswith("FFF2CC")
    mix = wb["Fleet mix (devices)"]
    assert _header(mix)[1:3] == ["Huawei Ascend 910C", "NVIDIA H200 SXM 141GB"]

"""--currency CNY on compare, frontier and the exported reports: converted figures, relabelled units."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import planner
from planner.cli.app import register
from planner.report.currency import plan_in, relabel
from planner.report.document import build_report
from planner.report.money import Money
from tests.conftest import ROOT

EXAMPLE = str(ROOT / "examples" / "state-cloud-inference.yaml")


def test_plan_in_cny_converts_every_money_figure(bundled) -> None:
    plan = planner.plan(EXAMPLE, bundled)
    fx = bundled.fx_cny_per_usd.value
    cny = plan_in(plan, Money("CNY", fx))
    assert cny.totals.tco_usd == pytest.approx(plan.totals.tco_usd * fx)
    assert cny.line_items[0].costs.capex == pytest.approx(plan.line_items[0].costs.capex * fx)
    assert cny.totals.power_kw == plan.totals.power_kw  # not money
    budget = next(c for c in cny.constraints if c.name == "budget:total")
    assert budget.unit == "CNY" and budget.limit == pytest.approx(60_000_000 * fx)
    report = relabel(build_report(cny, bundled), Money("CNY", fx))
    assert report.currency == "CNY"
    assert all("(USD)" not in t.title for t in report.tables)


def test_compare_and_frontier_take_currency(tmp_path, bundled) -> None:
    app = register()
    fx = bundled.fx_cny_per_usd.value
    usd = CliRunner().invoke(app, ["compare", EXAMPLE, "--no-baselines", "--format", "json"])
    tco_usd = json.loads(usd.output)["options"][0]["tco_usd"]
    cny = CliRunner().invoke(app, ["compare", EXAMPLE, "--no-baselines", "--currency", "CNY"])
    assert cny.exit_code == 0 and "TCO (CNY)" in cny.output and f"{tco_usd * fx:,.0f}" in cny.output
    out = tmp_path / "f.md"
    front = CliRunner().invoke(
        app, ["frontier", EXAMPLE, "--vary", "domestic_share.min=0:1:0.5", "--currency", "CNY", "--output", str(out)]
    )
    assert front.exit_code == 0 and "figures in CNY" in out.read_text() and "(USD)" not in out.read_text()
    bad = CliRunner().invoke(app, ["compare", EXAMPLE, "--currency", "EUR"])
    assert bad.exit_code == 2

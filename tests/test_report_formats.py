"""Report formats for plan, compare and frontier: table, json, csv, md, html (xlsx: test_report_xlsx)."""

from __future__ import annotations

import io
import json
import re
from functools import cache
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import planner
from planner.cli import compare_cmd, frontier_cmd, plan_cmd  # noqa: F401 - registers the commands
from planner.cli.app import app
from planner.compare import Comparison
from planner.errors import InputError
from planner.report.csv_out import to_csv
from planner.report.html_out import to_html
from planner.report.markdown_out import to_markdown
from planner.report.outputs import choose_format, render
from tests.conftest import MINI, ROOT, serving

EXAMPLE = ROOT / "examples" / "state-cloud-inference.yaml"
MINI_ARGS = ["--catalog", str(MINI), "--workers", "1"]
runner = CliRunner()


def mini_workload(tmp_path: Path) -> str:
    """A small serving workload on the test catalog: fast solves for CLI plumbing tests."""
    path = tmp_path / "mini-serving.yaml"
    path.write_text(yaml.safe_dump(serving(constraints={"policies": ["approved"]}), sort_keys=False))
    return str(path)


@cache
def _catalog(paths: tuple[str, ...], options: tuple[tuple[str, object], ...]) -> planner.Catalog:
    return ORIGINAL_LOAD_CATALOG(list(paths), **dict(options))


ORIGINAL_LOAD_CATALOG = planner.load_catalog


@pytest.fixture
def cached_catalogs(monkeypatch):  # type: ignore[no-untyped-def]
    """CLI tests parse the bundled catalog once per session, not once per command (the YAML is large)."""

    def load(paths=None, **options):  # type: ignore[no-untyped-def]
        return _catalog(tuple(str(p) for p in paths or []), tuple(sorted(options.items())))

    monkeypatch.setattr(planner, "load_catalog", load)


@cache
def bundled_inputs() -> tuple[planner.Catalog, planner.Workload]:
    return planner.load_catalog(), planner.load_workload(EXAMPLE)


@cache
def example_plan() -> planner.Plan:
    catalog, workload = bundled_inputs()
    return planner.plan(workload, catalog, time_limit_s=10, workers=1, seed=0)


@cache
def example_comparison() -> Comparison:
    catalog, workload = bundled_inputs()
    return planner.compare_plans(workload, catalog, time_limit_s=10, workers=1, seed=0)


@cache
def example_frontier() -> pd.DataFrame:
    catalog, workload = bundled_inputs()
    return planner.frontier(workload, "domestic_share.min=0:1:0.1", catalog, time_limit_s=10, workers=1, seed=0)


def test_format_from_option_or_suffix():
    assert choose_format(None, None) == "table"
    assert choose_format(None, "r.HTML") == "html"
    assert choose_format(None, "r.xlsx") == "xlsx"
    assert choose_format("md", "r.html") == "md"
    with pytest.raises(InputError, match="unknown format 'pdf'"):
        choose_format("pdf", None)


def test_json_flag_is_a_synonym_of_format_json(cached_catalogs, tmp_path):
    mini = mini_workload(tmp_path)
    a = runner.invoke(app, [mini, *MINI_ARGS, "--json"])
    b = runner.invoke(app, [mini, *MINI_ARGS, "--format", "json"])
    assert a.exit_code == 0 and b.exit_code == 0
    strip = lambda d: {k: v for k, v in d.items() if k != "solver"}  # noqa: E731 - timings differ
    assert strip(json.loads(a.stdout)) == strip(json.loads(b.stdout))
    clash = runner.invoke(app, [mini, *MINI_ARGS, "--json", "--format", "csv"])
    assert clash.exit_code == 2 and "--json means --format json" in clash.output


def test_plan_csv_is_the_line_items():
    plan = example_plan()
    frame = pd.read_csv(io.StringIO(to_csv(plan)))
    assert list(frame["offer"]) == [li.offer for li in plan.line_items]
    assert frame["total_usd"].sum() == pytest.approx(plan.totals.tco_usd)


def test_plan_markdown_has_the_tables_warnings_and_sources():
    catalog, workload = bundled_inputs()
    text = to_markdown(example_plan(), catalog, workload)
    for heading in (
        "# Fleet plan: state-cloud-qwen72b-serving",
        "## Summary",
        "## Fleet",
        "## Cost lines (USD)",
        "## Constraints",
        "## Warnings",
        "## Assumptions",
        "## Data sources",
    ):
        assert heading in text
    plan = example_plan()
    tco = f"{plan.totals.tco_usd:,.0f}"
    assert f"| **TCO (USD)** | {tco} |" in text
    assert re.search(rf"\| \*\*Total\*\* \|.*\| \*\*{tco}\*\* \|", text)
    assert "<https://" in text


def test_comparison_formats_show_why_instead_of_numbers():
    comparison = example_comparison()
    frame = comparison.to_frame()
    text = to_markdown(frame)
    row = next(line for line in text.splitlines() if line.startswith("| **TCO (USD)**"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[2].startswith("✗ the workload does not allow domestic parts")
    data = json.loads(render(frame, "json"))
    assert [o["name"] for o in data["options"]] == list(frame.columns)
    assert data["options"][1]["tco_usd"] is None and data["options"][1]["why"]
    csv = pd.read_csv(io.StringIO(to_csv(frame)), index_col=0)
    assert float(csv.at["tco_usd", "optimum"]) == pytest.approx(frame.at["tco_usd", "optimum"])
    table = render(frame, "table")
    assert "✗ no plan (1)" in table and "(1) all-nvidia:" in table


def test_frontier_json_and_table():
    frame = example_frontier()
    data = json.loads(render(frame, "json"))
    assert data["parameter"] == "domestic_share.min" and len(data["points"]) == 11
    assert data["points"][-1]["mix_changed"] is True
    table = render(frame, "table")
    assert "Cost frontier" in table and "Huawei Ascend" in table and "910C" in table


def test_html_is_self_contained():
    catalog, workload = bundled_inputs()
    for html in (
        to_html(example_plan(), catalog, workload),
        to_html(example_comparison().to_frame(), catalog, workload, example_comparison().optimum.plan),
        to_html(example_frontier(), catalog, workload),
    ):
        assert html.startswith("<!DOCTYPE html>") and "<svg" in html and "@media print" in html
        assert "<script" not in html
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", html.replace('<a href="http', "<a x")), (
            "only source links may point outside"
        )
        assert 'rel="stylesheet"' not in html


def test_cli_writes_files_in_every_format(tmp_path, cached_catalogs):
    w = mini_workload(tmp_path)
    cases = [
        ([w, "--format", "xlsx"], "plan.xlsx"),
        ([w], "plan.html"),  # format from the suffix
        (["compare", w, "--format", "md"], "compare.md"),
        (["compare", w, "--no-baselines"], "compare.csv"),
        (["frontier", w, "--vary", "budget=1k,10M"], "frontier.html"),
        (["frontier", w, "--vary", "budget=1k,10M", "--format", "table"], "frontier.txt"),
        (["frontier", w, "--vary", "budget=1k,10M"], "frontier.json"),
    ]
    for args, name in cases:
        out = tmp_path / name
        result = runner.invoke(app, [*args, *MINI_ARGS, "--output", str(out)])
        assert result.exit_code == 0, (args, result.output)
        assert out.stat().st_size > 200 and f"wrote {out}" in result.output
    assert (tmp_path / "plan.xlsx").read_bytes()[:2] == b"PK"
    assert (tmp_path / "plan.html").read_text().startswith("<!DOCTYPE html>")
    assert (tmp_path / "compare.md").read_text().startswith("# Options compared")
    assert (tmp_path / "compare.csv").read_text().startswith("metric,optimum")
    assert "Cost frontier" in (tmp_path / "frontier.txt").read_text()
    assert json.loads((tmp_path / "frontier.json").read_text())["parameter"] == "budget"
    for args in (
        [w, "--format", "xlsx"],
        ["compare", w, "--format", "xlsx"],
        [w, "--output", str(tmp_path / "plan.md"), "--format", "pdf"],
        ["frontier", w, "--output", str(tmp_path / "plan.html")],
    ):
        refused = runner.invoke(app, [*args, *MINI_ARGS])  # fails before solving
        assert refused.exit_code == 2 and "Traceback" not in refused.output, args

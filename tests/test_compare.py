"""planner.compare: the optimum next to single-lever fleets and scenarios, on the small test catalog."""

from __future__ import annotations

import math

import pytest

import planner
from planner.compare import compare_plans
from planner.errors import InputError
from planner.scenarios import Scenario, apply_scenario, load_scenarios
from tests.conftest import MINI, ROOT, serving
from tests.test_report_formats import cached_catalogs  # noqa: F401 - fixture

BUILTINS = ["optimum", "all-nvidia", "all-domestic", "onshore-only", "purchase-only"]
SCENARIOS = ROOT / "examples" / "scenarios"


@pytest.fixture
def approved(write_workload):  # type: ignore[no-untyped-def]
    """Serving where the foreign GPU may be bought (with its 25 % levy) or rented offshore."""
    return planner.load_workload(write_workload(serving(constraints={"policies": ["approved"]})))


def test_columns_are_the_options_and_rows_the_figures(mini, approved):
    frame = planner.compare(approved, mini, time_limit_s=10, workers=1, seed=0)
    assert list(frame.columns) == BUILTINS
    for row in (
        "tco_usd",
        "capex_usd",
        "levy_usd",
        "subsidies_usd",
        "energy_usd",
        "power_kw",
        "domestic_share",
        "throughput_rps",
        "delta_usd",
        "delta_pct",
        "fleet",
        "why",
    ):
        assert row in frame.index
    assert frame.at["delta_usd", "optimum"] == 0
    tco = frame.loc["tco_usd"]
    for name in BUILTINS[1:]:
        if not math.isnan(tco[name]):
            assert tco[name] >= tco["optimum"] - 1e-6  # a narrower option never beats the optimum
            assert frame.at["delta_usd", name] == pytest.approx(tco[name] - tco["optimum"])
    assert frame.at["domestic_share", "all-domestic"] == 1.0
    assert frame.attrs["table"] == "comparison" and frame.attrs["kind"] == "inference"


def test_each_builtin_pulls_its_lever(mini, approved):
    result = compare_plans(approved, mini, time_limit_s=10, workers=1)
    by_name = {o.name: o for o in result.options}
    nvidia = by_name["all-nvidia"].plan
    assert nvidia is not None and nvidia.ok
    assert {li.vendor for li in nvidia.line_items if li.devices} == {"nvidia"}
    assert all(li.origin == "domestic" for li in by_name["all-domestic"].plan.line_items)
    assert all(li.location == "onshore" for li in by_name["onshore-only"].plan.line_items)
    assert all(li.mode == "purchase" for li in by_name["purchase-only"].plan.line_items)


def test_an_infeasible_option_says_why_in_one_line(mini, write_workload):
    workload = planner.load_workload(write_workload(serving(constraints={"policies": ["approved", "floor-50"]})))
    frame = planner.compare(workload, mini, workers=1)
    assert frame.at["status", "all-nvidia"] == "INFEASIBLE"
    assert math.isnan(frame.at["tco_usd", "all-nvidia"])
    why = frame.at["why", "all-nvidia"]
    assert why and "\n" not in why and "domestic_share" in why
    assert frame.at["why", "optimum"] is None


def test_an_option_the_workload_rules_out_is_not_solved(mini, write_workload):
    workload = planner.load_workload(write_workload(serving(constraints={"allowed_origins": ["domestic"]})))
    frame = planner.compare(workload, mini, workers=1)
    assert frame.at["status", "all-nvidia"] == "NOT_POSED"
    assert frame.at["why", "all-nvidia"] == "the workload allows only domestic parts"


def test_example_scenario_files_load():
    names = [s.name for s in load_scenarios(SCENARIOS)]
    assert names == [
        "domestic-30",
        "domestic-50",
        "domestic-70",
        "domestic-100",
        "no-h200",
        "levy-0",
        "levy-15",
        "levy-25",
        "levy-50",
        "nvidia-plus-20",
        "nvidia-minus-20",
        "huawei-plus-20",
        "huawei-minus-20",
    ]


def test_levy_and_price_scenarios_change_a_copy_never_the_callers_catalog(mini, approved):
    price_before = mini.offers["gpu-a-server"].price.value
    rate_before = mini.policies["levy-25"].rules[0].rate
    scenarios = [
        Scenario(name="no-levy", levy=0, modes=["purchase"], exclude=["npu-b"]),
        Scenario(name="dear", price=[{"vendor": "nvidia", "factor": 1.5}], modes=["purchase"], exclude=["npu-b"]),
        Scenario(name="base", modes=["purchase"], exclude=["npu-b"]),
    ]
    frame = planner.compare(approved, mini, scenarios, baselines=False, workers=1)
    assert list(frame.columns) == ["optimum", "no-levy", "dear", "base"]
    assert frame.at["levy_usd", "no-levy"] == 0 and frame.at["levy_usd", "base"] > 0
    assert frame.at["capex_usd", "dear"] == pytest.approx(1.5 * frame.at["capex_usd", "base"], rel=1e-6)
    assert mini.offers["gpu-a-server"].price.value == price_before
    assert mini.policies["levy-25"].rules[0].rate == rate_before
    applied = apply_scenario(approved, mini, scenarios[1])
    assert applied.catalog is not mini and applied.catalog.offers["npu-b-server"] is mini.offers["npu-b-server"]
    assert approved.constraints.exclude == []


def test_set_changes_a_workload_field(mini, approved):
    applied = apply_scenario(approved, mini, Scenario(name="floor", set={"constraints.domestic_share.min": 0.7}))
    assert applied.workload.constraints.domestic_share.min == 0.7
    assert approved.constraints.domestic_share is None


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("name: x\nlevvy: 0.5\n", ":2", "did you mean 'levy'"),
        ("name: x\nset:\n  constraints.domestic_shares.min: 0.5\n", ":3", "did you mean 'constraints.domestic_share'"),
        ("name: x\nset: {constraints.domestic_share.min: 1.5}\n", ":2", "less than or equal to 1"),
        ("name: x\nprice: {vendor: nvidai, factor: 1.2}\n", ":2", "did you mean 'nvidia'"),
        ("name: x\nprice: {factor: 1.2}\n", ":2", "exactly one of offer, accelerator or vendor"),
        ("name: x\nexclude: [gpu-z]\n", ":2", "unknown accelerator, vendor or offer 'gpu-z'"),
        ("scenarios:\n  - name: a\n  - name: a\n", ":3", "duplicate scenario name 'a'"),
        ("name: optimum\n", ":1", "built-in option name"),
        ("name: x\nlevy: 5\n", ":2", "less than or equal to 2"),
    ],
)
def test_bad_scenario_files_name_file_line_and_field(mini, approved, tmp_path, text, where, message):
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        planner.compare(approved, mini, [path], baselines=False)
    assert f"{path}{where}" in str(info.value) and message in str(info.value)


@pytest.mark.usefixtures("cached_catalogs")
def test_compare_cli_with_the_example_scenarios():
    """The bundled example against every example scenario, as a user runs it."""
    import json

    from typer.testing import CliRunner

    from planner.cli import compare_cmd  # noqa: F401 - registers the command
    from planner.cli.app import app

    result = CliRunner().invoke(
        app,
        [
            "compare",
            str(ROOT / "examples" / "state-cloud-inference.yaml"),
            "--scenario",
            str(SCENARIOS),
            "--format",
            "json",
            "--workers",
            "1",
        ],
    )
    assert result.exit_code == 0, result.output
    data = {o["name"]: o for o in json.loads(result.stdout)["options"]}
    assert len(data) == 18
    opt = data["optimum"]["tco_usd"]
    assert data["levy-0"]["tco_usd"] < opt < data["levy-50"]["tco_usd"]
    assert data["levy-25"]["tco_usd"] == pytest.approx(opt)  # today's rate is the catalog's
    assert "H200" not in data["no-h200"]["fleet"]
    assert data["domestic-100"]["domestic_share"] == 1.0
    assert data["nvidia-plus-20"]["tco_usd"] >= opt >= data["nvidia-minus-20"]["tco_usd"]
    assert data["all-nvidia"]["status"] == "INFEASIBLE" and "state-cloud-50" in data["all-nvidia"]["why"]


@pytest.mark.usefixtures("cached_catalogs")
def test_compare_cli_bad_scenario_exits_2(tmp_path):
    from typer.testing import CliRunner

    from planner.cli import compare_cmd  # noqa: F401
    from planner.cli.app import app

    bad = tmp_path / "s.yaml"
    bad.write_text("name: x\nlevvy: 1\n")
    workload = tmp_path / "w.yaml"
    import yaml

    workload.write_text(yaml.safe_dump(serving()))
    result = CliRunner().invoke(app, ["compare", str(workload), "--catalog", str(MINI), "--scenario", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:2" in result.output and "Traceback" not in result.output


def test_a_fleet_file_compares_and_reports(bundled):
    """Several workloads over periods: options still line up, the report adds schedule and cash flow."""
    from planner.report.markdown_out import to_markdown

    path = ROOT / "examples" / "lab-offshore-to-onshore.yaml"
    result = compare_plans(path, bundled, [Scenario(name="no-levy", levy=0)], baselines=False, workers=1)
    frame = result.to_frame()
    assert list(frame.columns) == ["optimum", "no-levy"] and frame.attrs["kind"] == "fleet"
    assert frame.at["status", "optimum"] == "OPTIMAL"
    assert " in period " in frame.at["fleet", "optimum"]
    text = to_markdown(result.optimum.plan, bundled, planner.load_workload(path))
    assert "## Schedule" in text and "## Cash flow (USD)" in text and "| Period | Workload |" in text

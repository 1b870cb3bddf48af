"""The performance model against every public measurement in ../shared/validation.

Targets (issue #4): median |error| <= 15 %, no case worse than ±40 %. Reached: median 7.4 % and
82 of 86 scored cases within ±40 %. Not reached: four cases miss by 43-70 % (three model-card
device-hour totals, one MFU whose setting says full recomputation); the test pins that set, so a
new miss fails and a fixed one must be taken off the list. See docs/estimates.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import planner
from planner.cli import validate_cmd  # noqa: F401 - registers the command
from planner.cli.app import app
from planner.errors import InputError
from tests.conftest import ROOT

CASES = ROOT.parent / "shared" / "validation" / "calibration.yaml"
KNOWN_MISSES = {"T04a", "T04b", "T05a", "T30b"}

pytestmark = pytest.mark.skipif(not CASES.exists(), reason=f"shared validation cases not found at {CASES}")


@pytest.fixture(scope="module")
def report(bundled):
    return planner.validate(CASES, bundled)


def test_median_and_worst_error(report) -> None:
    s = report.summary()
    assert s["scored"] >= 86
    assert s["median_abs_error"] <= 0.08  # target 0.15: met with margin
    assert s["worst_abs_error"] <= 0.70  # target 0.40: NOT met, see the known misses
    assert s["within_15pct"] >= 60
    assert s["within_40pct"] >= 82


def test_only_the_known_cases_miss_40_percent(report) -> None:
    misses = {c.id for c in report.cases if c.scored and abs(c.scored_error) > 0.40}
    assert misses == KNOWN_MISSES
    for c in report.cases:
        if c.id in misses:
            assert c.reason and c.reason.startswith("miss:")


def test_per_metric_and_accelerator_medians(report) -> None:
    s = report.summary()
    metrics = ("achieved_tflops_per_device", "iteration_s", "tokens_per_s_per_device", "output_tokens_per_s_system")
    for metric in metrics:
        assert s["by_metric"][metric]["median_abs_error"] <= 0.10, metric
    for acc in ("nvidia-h100-sxm-80gb", "nvidia-h200-sxm-141gb", "huawei-ascend-910c"):
        assert s["by_accelerator"][acc]["median_abs_error"] <= 0.10, acc


def test_every_case_is_scored_or_says_why(report) -> None:
    assert len(report.cases) == len(yaml.safe_load(CASES.read_text())["cases"])
    for c in report.cases:
        assert c.scored or (c.reason and c.predicted is None), c.id


def test_predictions_never_read_the_measured_value(bundled, tmp_path: Path, report) -> None:
    doc = yaml.safe_load(CASES.read_text())
    for case in doc["cases"]:
        if isinstance(case["measured"].get("value"), (int, float)):
            case["measured"]["value"] = case["measured"]["value"] * 3.0
        case["also"] = {}
    moved = tmp_path / "moved.yaml"
    moved.write_text(yaml.safe_dump(doc, sort_keys=False))
    again = {c.id: c.predicted for c in planner.validate(moved, bundled).cases}
    assert again == {c.id: c.predicted for c in report.cases}


def test_json_shape_through_the_cli() -> None:
    result = CliRunner().invoke(app, ["validate", str(CASES), "--json"])
    assert result.exit_code == 0, result.output
    import json

    data = json.loads(result.output)
    row = data["cases"][0]
    assert {"id", "metric", "predicted", "measured", "error"} <= set(row)
    assert {"median_abs_error", "worst_abs_error"} <= set(data["summary"])


def test_user_file_with_an_unknown_accelerator_is_an_input_error(bundled, tmp_path: Path) -> None:
    doc = yaml.safe_load(CASES.read_text())
    doc["cases"] = doc["cases"][:2]
    doc["cases"][1]["hardware"]["accelerator"] = "nvidia-h100-sxm-80gbx"
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    with pytest.raises(InputError) as err:
        planner.validate(path, bundled)
    text = str(err.value)
    assert "mine.yaml:" in text and "cases[1].hardware.accelerator" in text and "did you mean" in text
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_lower_bound_counts_only_a_shortfall(bundled, tmp_path: Path) -> None:
    doc = yaml.safe_load(CASES.read_text())
    case = next(c for c in doc["cases"] if c["id"] == "I10c")
    low = dict(case, id="LB1", measured=dict(case["measured"], value=1000.0, qualifier="lower_bound"))
    high = dict(case, id="LB2", measured=dict(case["measured"], value=1e6, qualifier="lower_bound"))
    path = tmp_path / "bounds.yaml"
    path.write_text(yaml.safe_dump({"cases": [low, high]}, sort_keys=False))
    got = {c.id: c for c in planner.validate(path, bundled).cases}
    assert got["LB1"].error > 0 and got["LB1"].scored_error == 0.0
    assert got["LB2"].scored_error == got["LB2"].error < 0

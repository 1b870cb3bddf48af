"""The ``plan`` command as a user runs it: exit codes, output, errors without tracebacks."""

from __future__ import annotations

import json

import yaml
from typer.testing import CliRunner

from planner.cli import plan_cmd  # noqa: F401 - registers commands
from planner.cli.app import app
from tests.conftest import MINI, ROOT, serving

runner = CliRunner()
EXAMPLE = str(ROOT / "examples" / "state-cloud-inference.yaml")


def test_default_command_prints_a_plan() -> None:
    result = runner.invoke(app, [EXAMPLE])
    assert result.exit_code == 0, result.output
    for text in ("OPTIMAL", "Fleet", "Totals", "Constraints", "Domestic share", "state-cloud-50"):
        assert text in result.output


def test_json_output_is_complete_and_stable() -> None:
    first = runner.invoke(app, [EXAMPLE, "--json"])
    second = runner.invoke(app, ["run", EXAMPLE, "--json"])
    assert first.exit_code == 0 and second.exit_code == 0
    data = json.loads(first.output)
    assert {"status", "objective", "line_items", "totals", "constraints", "solver"} <= set(data)
    assert data["status"] == "OPTIMAL"
    strip = lambda d: {k: v for k, v in d.items() if k != "solver"}  # noqa: E731 - timings differ run to run
    assert strip(data) == strip(json.loads(second.output))


def test_currency_cny_converts_money() -> None:
    usd = runner.invoke(app, [EXAMPLE])
    cny = runner.invoke(app, [EXAMPLE, "--currency", "CNY"])
    assert cny.exit_code == 0
    assert "CNY" in cny.output and "per USD" in cny.output and usd.output != cny.output


def test_bad_currency_is_a_usage_error() -> None:
    result = runner.invoke(app, [EXAMPLE, "--currency", "EUR"])
    assert result.exit_code == 2


def test_infeasible_exits_1_with_reason(tmp_path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(yaml.safe_dump(serving(constraints={"budget": {"total": 1000}})))
    result = runner.invoke(app, [str(path), "--catalog", str(MINI)])
    assert result.exit_code == 1
    assert "budget:total" in result.output and "Traceback" not in result.output


def test_invalid_input_exits_2_naming_file_line_field(tmp_path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text("name: x\nkind: inference\nmodel: {preset: qwen2.5-72b}\ntrafic: {}\n")
    result = runner.invoke(app, [str(path)])
    assert result.exit_code == 2
    assert f"{path}:4" in result.output and "trafic" in result.output and "did you mean 'traffic'" in result.output
    assert "Traceback" not in result.output


def test_unknown_preset_suggests(tmp_path) -> None:
    path = tmp_path / "w.yaml"
    data = serving()
    data["model"] = {"preset": "qwen2.5-27b"}
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    result = runner.invoke(app, [str(path)])
    assert result.exit_code == 2
    assert "unknown model 'qwen2.5-27b'" in result.output and "did you mean" in result.output


def test_missing_file_exits_2() -> None:
    result = runner.invoke(app, ["no-such-file.yaml"])
    assert result.exit_code == 2 and "file not found" in result.output


def test_help_lists_options() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0 and "WORKLOAD" in result.output.upper()


def test_tiny_time_limit_never_crashes() -> None:
    result = runner.invoke(app, [EXAMPLE, "--time-limit", "0.01", "--json"])
    assert result.exit_code in (0, 3)
    if result.exit_code == 0:
        assert json.loads(result.output)["status"] in ("OPTIMAL", "FEASIBLE")

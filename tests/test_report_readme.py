"""Every command and snippet in the README's compare/frontier/report section runs, as written."""

from __future__ import annotations

import os
import re
import shlex

import pytest
from typer.testing import CliRunner

import planner
from planner.cli import compare_cmd, frontier_cmd, plan_cmd  # noqa: F401 - registers the commands
from planner.cli.app import app
from planner.scenarios import apply_scenario, load_scenarios
from tests.conftest import ROOT
from tests.test_report_formats import cached_catalogs  # noqa: F401 - fixture

HEADING = "## Compare options, sweep a parameter, export a report"


def section() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(HEADING)
    end = text.find("\n## ", start + len(HEADING))
    return text[start:end if end > 0 else None]


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", section(), re.S)


@pytest.fixture
def in_copy(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """Run from a folder that has the examples, so output files land in the test's tmp dir."""
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.usefixtures("cached_catalogs")
def test_readme_commands_run(in_copy):
    commands = [line.split("  #")[0].strip() for block in blocks("bash") for line in block.splitlines()
                if line.startswith("plan ")]
    assert len(commands) == 4
    shown = []
    for command in commands:
        args = shlex.split(command)[1:]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, (command, result.output)
        shown.append(result.stdout)
        if "--output" in args:
            out = in_copy / args[args.index("--output") + 1]
            assert out.stat().st_size > 1000, command
    assert "all-nvidia" in shown[0] and "✗ no plan (1)" in shown[0]


def test_readme_scenario_example_is_valid(in_copy):
    (in_copy / "mine.yaml").write_text(blocks("yaml")[0])
    [scenario] = load_scenarios("mine.yaml")
    catalog = planner.load_catalog()
    applied = apply_scenario(planner.load_workload("examples/state-cloud-inference.yaml"), catalog, scenario)
    assert applied.workload is not None and applied.workload.constraints.domestic_share.min == 0.7


def test_readme_library_snippet_runs(in_copy, capsys):
    [code] = blocks("python")
    exec(compile(code, "README.md", "exec"), {})
    assert "tco_usd" in capsys.readouterr().out
    assert os.listdir(in_copy) == ["examples"]  # the snippet writes nothing

"""The README's compare/frontier/report section: its scenario file and Python sample work as written.

Its `plan ...` commands run in tests/test_readme.py with every other README command.
"""

from __future__ import annotations

import os
import re

import pytest

import planner
from planner.scenarios import apply_scenario, load_scenarios
from tests.conftest import ROOT

HEADING = "## Compare options, sweep a parameter, export a report"


def section() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(HEADING)
    end = text.find("\n## ", start + len(HEADING))
    return text[start : end if end > 0 else None]


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", section(), re.S)


@pytest.fixture
def in_copy(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """Run from a folder that has the examples, so output files land in the test's tmp dir."""
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_readme_section_has_the_commands():
    commands = [line for block in blocks("bash") for line in block.splitlines() if line.startswith("plan ")]
    assert [c.split()[1] for c in commands] == ["compare", "compare", "frontier", "examples/state-cloud-inference.yaml"]


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

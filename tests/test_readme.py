"""Every command and code sample in the README runs, as written, in the test suite."""

from __future__ import annotations

import os
import re
import shlex
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```(\w*)\n(.*?)```", README, flags=re.S)
FILES_MADE_ELSEWHERE = {"my-quotes.yaml": ROOT / "examples" / "overlays" / "my-quotes.yaml"}


def _plan_commands() -> list[str]:
    out = []
    for lang, body in BLOCKS:
        if lang not in ("bash", "sh", "console", ""):
            continue
        for line in body.splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith("pip install") and "&& plan " in line:
                line = line.split("&& ", 1)[1]
            if line.startswith("plan "):
                out.append(line)
    return out


COMMANDS = _plan_commands()


def test_readme_has_the_two_setup_commands() -> None:
    assert re.search(r"^pip install -e \. && plan examples/\S+\.yaml", README, flags=re.M)
    assert re.search(r"^pip install -e '\.\[dev\]' && pytest", README, flags=re.M)
    assert (ROOT / ".ci" / "run").read_text().count("pip install -e '.[dev]' && pytest") == 1


@pytest.mark.parametrize("command", COMMANDS)
def test_readme_plan_command_runs(command: str, tmp_path: Path) -> None:
    from planner.cli.app import register

    app = register()
    args = shlex.split(command)[1:]
    for name, source in FILES_MADE_ELSEWHERE.items():
        if name in args and source.exists():
            shutil.copy(source, tmp_path / name)
    # paths in the README are relative to the repository; outputs go to a scratch folder
    fixed = []
    for i, arg in enumerate(args):
        is_output = i > 0 and args[i - 1] in ("--output", "-o")
        if not is_output and (ROOT / arg).exists() and not (tmp_path / arg).exists():
            fixed.append(str(ROOT / arg))
        else:
            fixed.append(arg)
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = CliRunner().invoke(app, fixed)
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, f"{command}\n{result.output}"


def test_readme_workload_format_block_validates(tmp_path: Path, bundled) -> None:
    import planner

    block = next(body for lang, body in BLOCKS if lang == "yaml" and "kind: inference" in body)
    path = tmp_path / "w.yaml"
    path.write_text(block)
    workload = planner.load_workload(path)
    assert workload.name and yaml.safe_load(block)["kind"] == "inference"
    plan = planner.plan(workload, bundled)
    assert plan.status in ("OPTIMAL", "FEASIBLE", "INFEASIBLE")


@pytest.mark.parametrize(
    "index",
    [i for i, (lang, body) in enumerate(BLOCKS) if lang == "yaml" and ("\nkind:" in body or "\nfleet:" in body)],
)
def test_every_readme_yaml_input_loads(index: int, tmp_path: Path, bundled) -> None:
    import planner
    from planner.catalog.workload_file import resolve

    path = tmp_path / "input.yaml"
    path.write_text(BLOCKS[index][1])
    resolve(planner.load_workload(path), bundled)  # ids resolve against the bundled catalog


def test_readme_python_block_runs() -> None:
    code = next(body for lang, body in BLOCKS if lang == "python" and "import planner" in body)
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        exec(compile(code, "README.md", "exec"), {})
    finally:
        os.chdir(cwd)

"""Output files: written atomically, never over an existing file without --overwrite."""

from __future__ import annotations

import pytest
import yaml
from typer.testing import CliRunner

from planner.cli import plan_cmd  # noqa: F401 - registers the command
from planner.cli.app import app
from planner.errors import InputError
from planner.report.files import write_atomic
from tests.conftest import MINI, serving
from tests.test_report_formats import cached_catalogs  # noqa: F401 - fixture


def test_writes_new_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "out.md"
    write_atomic(target, "hello\n")
    assert target.read_text() == "hello\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.md"]


def test_refuses_to_overwrite_without_permission(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("keep me")
    with pytest.raises(InputError) as info:
        write_atomic(target, "new")
    assert info.value.exit_code == 2 and "--overwrite" in str(info.value)
    assert target.read_text() == "keep me"
    write_atomic(target, b"new", overwrite=True)
    assert target.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_missing_folder_and_directory_targets_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        write_atomic(tmp_path / "nope" / "x.html", "x")
    with pytest.raises(InputError, match="is a directory"):
        write_atomic(tmp_path, "x")


@pytest.mark.usefixtures("cached_catalogs")
def test_plan_output_existing_file_exits_2_and_keeps_it(tmp_path):
    workload = tmp_path / "w.yaml"
    workload.write_text(yaml.safe_dump(serving()))
    out = tmp_path / "plan.md"
    out.write_text("old report")
    runner = CliRunner()
    refused = runner.invoke(app, [str(workload), "--catalog", str(MINI), "--output", str(out)])
    assert refused.exit_code == 2 and "already exists; pass --overwrite" in refused.output
    assert out.read_text() == "old report"
    done = runner.invoke(app, [str(workload), "--catalog", str(MINI), "--output", str(out), "--overwrite"])
    assert done.exit_code == 0, done.output
    assert out.read_text().startswith("# Fleet plan: unit-serving")

"""Nothing lost: output files appear whole or not at all, and never replace a file unasked.

planner.report.files.write_atomic writes to a temporary file in the target's folder, then
renames (with --overwrite) or hard-links (without, so a file that appears meanwhile is never
clobbered). These tests break the write in the middle and race it, and check the old bytes stay.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from planner.cli import plan_cmd  # noqa: F401 - registers commands
from planner.cli.app import app
from planner.errors import InputError
from planner.report import files
from planner.report.files import write_atomic
from tests.conftest import MINI, serving

OLD = b"the report the user already has\n"


def _leftovers(folder: Path, keep: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p != keep)


@pytest.mark.parametrize("overwrite", [False, True])
def test_disk_full_mid_write_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, overwrite: bool
) -> None:
    target = tmp_path / "plan.json"
    target.write_bytes(OLD)

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", full)
    with pytest.raises(InputError) as info:
        write_atomic(target, "x" * 100_000, overwrite=True)
    assert "No space left" in str(info.value)
    assert target.read_bytes() == OLD and _leftovers(tmp_path, target) == []
    monkeypatch.undo()
    new = tmp_path / "new.json"
    monkeypatch.setattr(files.os, "fsync", full)
    with pytest.raises(InputError):
        write_atomic(new, "x" * 100_000, overwrite=overwrite)
    assert not new.exists() and _leftovers(tmp_path, target) == []


def test_ctrl_c_mid_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "plan.json"
    target.write_bytes(OLD)

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, "new", overwrite=True)
    assert target.read_bytes() == OLD and _leftovers(tmp_path, target) == []


def test_a_file_that_appears_meanwhile_is_not_clobbered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "plan.json"
    real_fsync = os.fsync

    def someone_else_writes(fd: int) -> None:
        real_fsync(fd)
        target.write_bytes(OLD)  # another process creates the file between our check and our link

    monkeypatch.setattr(files.os, "fsync", someone_else_writes)
    with pytest.raises(InputError, match="already exists"):
        write_atomic(target, "ours")
    assert target.read_bytes() == OLD and _leftovers(tmp_path, target) == []


def test_overwrite_replaces_in_one_step(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    target.write_bytes(OLD)
    with target.open("rb") as reader:  # a reader of the old file keeps seeing it whole
        write_atomic(target, "new contents", overwrite=True)
        assert reader.read() == OLD
    assert target.read_text() == "new contents" and _leftovers(tmp_path, target) == []


def test_cli_output_needs_overwrite_to_replace(tmp_path: Path) -> None:
    workload = tmp_path / "w.yaml"
    workload.write_text(yaml.safe_dump(serving()))
    target = tmp_path / "plan.json"
    target.write_bytes(OLD)
    runner = CliRunner()
    refused = runner.invoke(app, [str(workload), "--catalog", str(MINI), "--output", str(target)])
    assert refused.exit_code == 2 and "already exists; pass --overwrite" in refused.output
    assert target.read_bytes() == OLD
    done = runner.invoke(app, [str(workload), "--catalog", str(MINI), "--output", str(target), "--overwrite"])
    assert done.exit_code == 0, done.output
    assert target.read_text().startswith("{") and '"status": "OPTIMAL"' in target.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.json", "w.yaml"]

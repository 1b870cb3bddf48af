"""``planner.estimate`` and ``plan estimate``: the numbers a user sees, and that the planner uses them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import planner
from planner.cli import estimate_cmd  # noqa: F401 - registers the command
from planner.cli.app import app
from planner.errors import InputError
from tests.conftest import ROOT, serving, training

runner = CliRunner()
TRAIN = ROOT / "examples" / "train-70b-power-capped.yaml"

TRAINING_KEYS = {"tokens_per_s_per_device", "achieved_tflops_per_device", "mfu", "days", "device_hours", "iteration_s"}
INFERENCE_KEYS = {
    "output_tokens_per_s_per_device",
    "output_tokens_per_s_system",
    "input_tokens_per_s_per_device",
    "ttft_ms",
    "tpot_ms",
}


def _bundled_workload(
    write: Callable[[dict[str, Any]], Path], maker: Callable[..., dict[str, Any]], **over: Any
) -> Path:
    data = maker(model={"preset": "llama-3.1-70b"}, **over)
    return write(data)


def test_training_on_given_devices(bundled, write_workload) -> None:
    path = _bundled_workload(write_workload, training, tokens_b=2000, seq_len=8192, deadline_days=60)
    est = planner.estimate(path, "h100", devices=512, catalog=bundled)
    d = est.as_dict()
    assert set(d) >= TRAINING_KEYS
    lay = d["layout"]
    assert lay["tp"] * lay["pp"] * lay["dp"] * lay["cp"] == 512
    assert 0.3 < d["mfu"] < 0.6
    assert d["achieved_tflops_per_device"] == pytest.approx(d["mfu"] * 989, rel=1e-6)
    assert d["device_hours"] == pytest.approx(512 * d["days"] * 24)
    mem = d["memory_gb_per_device"]
    parts = mem["weights"] + mem["gradients"] + mem["optimizer"] + mem["activations"]
    assert parts == pytest.approx(mem["total"]) and mem["total"] <= 0.95 * 80


def test_training_without_devices_is_the_smallest_pool_meeting_the_deadline(bundled) -> None:
    est = planner.estimate(TRAIN, "h200", catalog=bundled)
    assert est.metrics["days"] <= 90 and est.devices % 8 == 0
    smaller = planner.estimate(TRAIN, "h200", devices=est.devices - 8, catalog=bundled)
    assert smaller.metrics["days"] > 90


def test_the_planner_uses_the_same_estimate(bundled) -> None:
    plan = planner.plan(TRAIN, bundled)
    line = next(li for li in plan.line_items if li.devices)
    est = planner.estimate(TRAIN, line.accelerator, devices=line.devices, catalog=bundled)
    assert est.metrics["days"] == pytest.approx(line.training_days, rel=1e-9)


def test_pinned_training_layout_is_honoured(bundled, write_workload) -> None:
    path = _bundled_workload(write_workload, training, parallelism={"tp": 4, "pp": 4}, recompute="full", batch=1024)
    d = planner.estimate(path, "910b", devices=256, catalog=bundled).as_dict()
    assert (d["layout"]["tp"], d["layout"]["pp"], d["layout"]["dp"]) == (4, 4, 16)
    assert d["layout"]["recompute"] == "full" and d["layout"]["global_batch_tokens"] == 1024 * 8192


def test_inference_estimate(bundled, write_workload) -> None:
    path = _bundled_workload(write_workload, serving, precision="fp8")
    d = planner.estimate(path, "h200", devices=16, catalog=bundled).as_dict()
    assert set(d) >= INFERENCE_KEYS
    assert d["tpot_ms"] <= 50 and d["ttft_ms"] <= 2000
    per_replica = d["layout"]["devices_per_replica"]
    assert d["output_tokens_per_s_system"] == pytest.approx(d["output_tokens_per_s_per_replica"] * (16 // per_replica))
    assert d["output_tokens_per_s_per_device"] == pytest.approx(d["output_tokens_per_s_per_replica"] / per_replica)
    assert d["memory_gb_per_device"]["weights"] == pytest.approx(70 / per_replica, rel=0.01)


def test_offline_and_concurrency_and_pinned_tp(bundled, write_workload) -> None:
    server = planner.estimate(_bundled_workload(write_workload, serving, precision="fp8"), "h100", catalog=bundled)
    offline = planner.estimate(
        _bundled_workload(write_workload, serving, precision="fp8", scenario="offline"), "h100", catalog=bundled
    )
    assert offline.metrics["batch"] >= server.metrics["batch"]
    assert offline.metrics["output_tokens_per_s_per_device"] >= server.metrics["output_tokens_per_s_per_device"]
    pinned = planner.estimate(
        _bundled_workload(write_workload, serving, precision="fp8", parallelism={"tp": 4}, concurrency=64),
        "h100",
        devices=8,
        catalog=bundled,
    )
    assert pinned.layout["tp"] == 4 and pinned.layout["replicas"] == 2 and pinned.metrics["batch"] <= 32


def test_unmeasured_part_says_where_its_factors_come_from(bundled, write_workload) -> None:
    est = planner.estimate(_bundled_workload(write_workload, serving), "c500", catalog=bundled)
    assert est.efficiency["decode_bw"]["confidence"] == "assumption"
    assert any("no public measurement" in n for n in est.notes)
    assert any("scale-up bandwidth is not public" in n for n in est.notes)


def test_cli_json_and_errors(write_workload) -> None:
    ok = runner.invoke(app, ["estimate", str(TRAIN), "--accelerator", "910c", "--devices", "1024", "--json"])
    assert ok.exit_code == 0, ok.output
    data = json.loads(ok.output)
    assert set(data) >= TRAINING_KEYS and data["devices"] == 1024
    text = runner.invoke(app, ["estimate", str(TRAIN), "-a", "h200"])
    assert text.exit_code == 0 and "MFU" in text.output and "layout" in text.output
    bad = runner.invoke(app, ["estimate", str(TRAIN), "--accelerator", "h2000"])
    assert bad.exit_code == 2 and "did you mean" in bad.output and "Traceback" not in bad.output
    missing = runner.invoke(app, ["estimate", str(ROOT / "nope.yaml"), "-a", "h200"])
    assert missing.exit_code == 2


def test_workload_schema_rejects_misplaced_pins(write_workload) -> None:
    path = write_workload(serving(recompute="full"))
    with pytest.raises(InputError) as err:
        planner.load_workload(path)
    assert "recompute" in str(err.value)

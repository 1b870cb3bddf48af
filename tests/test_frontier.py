"""planner.frontier: the optimal cost along one parameter, the fleet mix, and where it changes."""

from __future__ import annotations

import io
import itertools
import logging
import math
import time

import pytest
import yaml
from rich.console import Console
from typer.testing import CliRunner

import planner
from planner.cli import frontier_cmd  # noqa: F401 - registers the command
from planner.cli.app import app
from planner.cli.options import progress_bar
from planner.errors import InputError
from planner.frontier import changes, parse_vary
from tests.conftest import MINI, ROOT, serving
from tests.test_report_formats import cached_catalogs  # noqa: F401 - fixture

STATE_CLOUD = ROOT / "examples" / "state-cloud-inference.yaml"


@pytest.mark.parametrize(
    ("spec", "values"),
    [
        ("domestic_share.min=0:1:0.25", [0, 0.25, 0.5, 0.75, 1.0]),
        ("domestic_share.min=0:1:0.3", [0, 0.3, 0.6, 0.9]),
        ("budget=10M:30M:10M", [1e7, 2e7, 3e7]),
        ("levy=0%:50%:25%", [0, 0.25, 0.5]),
        ("power=500,1_000,2k", [500, 1000, 2000]),
        ("price:nvidia=1.2:0.8:-0.2", [1.2, 1.0, 0.8]),
    ],
)
def test_vary_specs(bundled, spec, values):
    assert parse_vary(spec, bundled).values == pytest.approx(values)


def test_vary_targets(bundled):
    assert parse_vary("domestic_share.min=0:1:0.5", bundled).path == "constraints.domestic_share.min"
    assert parse_vary("budget=1:2:1", bundled).path == "constraints.budget.total"
    assert parse_vary("power_kw=1:2:1", bundled).path == "constraints.power_kw"
    site = parse_vary("site_power_kw.ningxia-zhongwei=1:2:1", bundled)
    assert site.path == "constraints.site_power_kw.ningxia-zhongwei"
    assert parse_vary("traffic.requests_per_s=100,200", bundled).path == "traffic.requests_per_s"
    assert parse_vary("levy=0,0.5", bundled).levy
    assert parse_vary("price:nvidia-h200-sxm-141gb=1,2", bundled).price == ("accelerator", "nvidia-h200-sxm-141gb")
    assert parse_vary("price:huawei=1,2", bundled).price == ("vendor", "huawei")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("domestic_share.min", "should be PARAM=START:STOP:STEP"),
        ("domestic_share.min=0:1", "a range is START:STOP:STEP"),
        ("domestic_share.min=0:1:0", "STEP must be non-zero"),
        ("domestic_share.min=1:0:0.1", "STEP must be non-zero and point from START towards STOP"),
        ("budget=1:1e9:1", "at most 501"),
        ("levy=0:x:0.1", "'x' is not a number"),
        ("levy=3", "levy rates run from 0 to 2"),
        ("domestc_share.min=0:1:0.5", "no workload field"),
        ("price:nvidai=1,2", "did you mean 'nvidia'"),
    ],
)
def test_bad_vary_names_the_option(bundled, spec, message):
    with pytest.raises(InputError) as info:
        parse_vary(spec, bundled)
    assert str(info.value).startswith("--vary") and message in str(info.value)


def test_out_of_range_values_fail_before_any_solve(mini, write_workload):
    workload = planner.load_workload(write_workload(serving()))
    with pytest.raises(InputError, match=r"--vary: field 'domestic_share.min': domestic_share.min=1.5"):
        planner.frontier(workload, "domestic_share.min=0.5,1.5", mini)


def test_21_point_domestic_frontier_is_fast_monotone_and_marks_the_mix_change(bundled, caplog):
    workload = planner.load_workload(STATE_CLOUD)
    calls: list[tuple[int, int]] = []
    caplog.set_level(logging.INFO, logger="planner.frontier")
    start = time.perf_counter()
    frame = planner.frontier(
        workload,
        "domestic_share.min=0:1:0.05",
        bundled,
        time_limit_s=10,
        workers=1,
        seed=0,
        progress=lambda done, total, _label: calls.append((done, total)),
    )
    elapsed = time.perf_counter() - start
    assert elapsed <= 5.0, f"21-point frontier took {elapsed:.1f} s"
    reused = [r for r in caplog.records if "no solve" in r.getMessage()]
    assert len(reused) >= 5  # floors the cheaper optimum already meets are not solved again
    assert len(frame) == 21 and calls[-1] == (21, 21) and len(calls) == 21
    assert frame["domestic_share.min"].tolist() == pytest.approx([i / 20 for i in range(21)])
    tco = frame["tco_usd"].tolist()
    assert all(b >= a - 1e-6 for a, b in itertools.pairwise(tco))  # a tighter floor never costs less
    assert (frame["domestic_share"] >= frame["domestic_share.min"] - 1e-9).all()
    h200 = frame["devices:nvidia-h200-sxm-141gb"]
    last_with_h200 = max(i for i, n in enumerate(h200) if n > 0)
    marked = list(changes(frame))
    assert frame["domestic_share.min"][last_with_h200 + 1] in marked  # where the H200 leaves the fleet
    device_cols = [c for c in frame.columns if c.startswith("devices:")]
    parts = [frozenset(c for c in device_cols if frame[c][i] > 0) for i in range(len(frame))]
    switched = [frame["domestic_share.min"][i] for i in range(1, len(frame)) if parts[i] != parts[i - 1]]
    assert set(switched) <= set(marked)  # every change of parts is marked
    assert frame["fleet"].iloc[-1].endswith("Huawei Ascend 910C (buy)")
    assert frame.attrs["parameter"] == "domestic_share.min" and "nvidia-h200-hgx-purchase-cn" in frame.attrs["offers"]


def test_levy_and_price_frontiers(mini, write_workload):
    workload = planner.load_workload(
        write_workload(serving(constraints={"policies": ["approved"], "allow_rental": False, "exclude": ["npu-b"]}))
    )
    levy = planner.frontier(workload, "levy=0:0.5:0.25", mini, workers=1)
    assert levy["levy_usd"].iloc[0] == 0 and levy["levy_usd"].iloc[2] == pytest.approx(2 * levy["levy_usd"].iloc[1])
    price = planner.frontier(workload, "price:gpu-a-server=1,2", mini, workers=1)
    assert price["capex_usd"].iloc[1] == pytest.approx(2 * price["capex_usd"].iloc[0])


def test_points_without_a_plan_say_why(mini, write_workload):
    workload = planner.load_workload(write_workload(serving()))
    frame = planner.frontier(workload, "budget=1k,100M", mini, workers=1)
    assert frame["status"].tolist() == ["INFEASIBLE", "OPTIMAL"]
    assert math.isnan(frame["tco_usd"].iloc[0]) and "budget" in frame["why"].iloc[0]
    assert not frame["mix_changed"].any()


@pytest.mark.usefixtures("cached_catalogs")
def test_frontier_cli_csv_and_exit_codes(tmp_path):
    path = tmp_path / "w.yaml"
    path.write_text(yaml.safe_dump(serving()))
    runner = CliRunner()
    ok = runner.invoke(
        app,
        [
            "frontier",
            str(path),
            "--catalog",
            str(MINI),
            "--vary",
            "budget=1k,100M",
            "--format",
            "csv",
            "--workers",
            "1",
        ],
    )
    assert ok.exit_code == 0, ok.output
    lines = ok.stdout.strip().splitlines()
    assert lines[0].startswith("budget,status,tco_usd") and len(lines) == 3
    none = runner.invoke(
        app, ["frontier", str(path), "--catalog", str(MINI), "--vary", "budget=1k,2k", "--workers", "1"]
    )
    assert none.exit_code == 1 and "no plan" in none.stdout
    bad = runner.invoke(app, ["frontier", str(path), "--vary", "levy=0:1"])
    assert bad.exit_code == 2 and "--vary" in bad.output and "Traceback" not in bad.output


def test_progress_bar_only_on_a_terminal():
    buf = io.StringIO()
    with progress_bar("sweeping", Console(file=buf, force_terminal=True, width=80)) as update:
        assert update is not None
        for i in range(3):
            update(i + 1, 3, f"point {i}")
    with progress_bar("sweeping", Console(file=io.StringIO(), force_terminal=False)) as none:
        assert none is None

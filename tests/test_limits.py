"""Numbers and limits: scale, overflow, rounding, tiny time limits and Ctrl-C.

- A fleet of about a million devices plans OPTIMAL and passes the verifier.
- Numbers too large for CP-SAT's 64-bit integers are refused with a clear message (exit 2),
  both before the model is built and when CP-SAT's own overflow check would reject it.
- The money rounding bound is reported and really bounds |objective - exact TCO|.
- A tiny time limit gives FEASIBLE with a gap, or "no plan found in the time limit" (exit 3).
- Ctrl-C (SIGINT to the real CLI process) returns the best plan found so far.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from ortools.sat.python import cp_model
from typer.testing import CliRunner

import planner
from planner.bench import fleet_spec
from planner.cli import plan_cmd  # noqa: F401 - registers commands
from planner.cli.app import app
from planner.errors import InputError
from planner.solve import overflow
from planner.verify import verify
from tests.conftest import MINI, ROOT, serving

runner = CliRunner()


def load(tmp_path: Path, data: dict[str, Any], name: str = "w.yaml") -> Any:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return planner.load_workload(path)


@pytest.fixture(scope="module")
def mini() -> planner.Catalog:
    return planner.load_catalog([MINI], bundled=False)


def test_a_million_devices_plan_and_verify(tmp_path: Path, mini: planner.Catalog) -> None:
    data = serving(
        sites=["west"],
        traffic={"requests_per_s": 1_250_000, "input_tokens": 1000, "output_tokens": 200},
        constraints={
            "allow_rental": False,
            "site_power_kw": {"west": 1_000_000},
            "policies": ["approved"],
            "domestic_share": {"min": 0.5, "measure": "devices"},
        },
    )
    workload = load(tmp_path, data)
    plan = planner.plan(workload, mini, time_limit_s=60, workers=2)
    assert plan.status == "OPTIMAL" and plan.totals is not None
    assert 900_000 <= plan.totals.devices <= 1_200_000
    assert verify(plan, workload, mini) == []
    assert plan.totals.domestic_share["devices"] >= 0.5
    gap = abs(plan.solver.objective_value - plan.totals.tco_usd)
    assert gap <= plan.solver.max_rounding_error_usd < 1e-4 * plan.totals.tco_usd


@pytest.mark.parametrize("example", ["state-cloud-inference", "lab-offshore-to-onshore", "train-70b-power-capped"])
def test_rounding_bound_is_reported_and_holds(example: str, bundled: planner.Catalog) -> None:
    plan = planner.plan(planner.load_workload(ROOT / "examples" / f"{example}.yaml"), bundled, workers=2)
    assert plan.ok and plan.totals is not None and plan.solver.objective == "min_tco"
    data = plan.to_dict()["solver"]
    assert data["money_resolution_usd"] == 1.0 and data["max_rounding_error_usd"] > 0
    # whole-USD coefficients are rounded up: the integer objective sits at or above the exact TCO
    assert 0 <= plan.solver.objective_value - plan.totals.tco_usd + 1e-6 <= plan.solver.max_rounding_error_usd


def test_compounding_prices_are_refused_before_building(tmp_path: Path) -> None:
    """Prices doubling every period for 120 periods would reach 1e41 USD: a clear exit 2, not a crash."""
    member = {k: v for k, v in serving(name="chat").items() if k != "horizon_months"}
    data = {
        "name": "runaway",
        "periods": {"count": 120, "months": 1},
        "horizon_months": 120,
        "sites": ["west"],
        "constraints": {"allow_rental": False},
        "schedule": {"price_trends": [{"match": {"origin": "domestic"}, "per_period": 1.0}]},
        "fleet": [member],
    }
    path = tmp_path / "runaway.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    result = runner.invoke(app, [str(path), "--catalog", str(MINI), "--time-limit", "5"])
    assert result.exit_code == 2, result.output
    assert "too large to plan exactly in 64-bit integers" in result.output and "in period" in result.output
    assert "Traceback" not in result.output


def test_an_overflowing_model_is_refused_naming_the_constraint() -> None:
    model = cp_model.CpModel()
    x = model.new_int_var(0, 10**12, "x")
    y = model.new_int_var(0, 10**12, "y")
    model.add(10**7 * x + 10**7 * y <= 10**15).with_name("budget:total")
    with pytest.raises(InputError, match="constraint 'budget:total' could reach"):
        overflow.check_model(model)
    fine = cp_model.CpModel()
    z = fine.new_int_var(0, 10**6, "z")
    fine.add(1000 * z <= 10**8)
    fine.minimize(z)
    overflow.check_model(fine)


def _big_fleet(tmp_path: Path) -> Path:
    path = tmp_path / "big.yaml"
    path.write_text(yaml.safe_dump(fleet_spec(10, 12), sort_keys=False))
    return path


def test_tiny_time_limit_is_feasible_with_gap_or_a_clear_exit_3(tmp_path: Path) -> None:
    path = _big_fleet(tmp_path)
    result = runner.invoke(app, [str(path), "--json", "--time-limit", "0.01", "--workers", "2"])
    assert result.exit_code in (0, 3), result.output
    data = json.loads(result.stdout)
    if result.exit_code == 0:
        assert data["status"] == "FEASIBLE" and data["solver"]["gap"] is not None
    else:
        assert data["status"] == "NO_SOLUTION" and data["line_items"] == []
        assert "no plan found in the time limit of 0.01 s" in result.stderr
        assert any("no plan found in the time limit" in w for w in data["warnings"])


def test_tiny_time_limit_never_crashes_small_plans(tmp_path: Path, mini: planner.Catalog) -> None:
    for limit in (0.001, 0.01, 0.05):
        plan = planner.plan(
            load(tmp_path, serving(constraints={"policies": ["approved"]})), mini, time_limit_s=limit, workers=1
        )
        assert plan.status in ("OPTIMAL", "FEASIBLE", "NO_SOLUTION")
        assert plan.status != "FEASIBLE" or plan.solver.gap is not None


def test_ctrl_c_returns_the_best_plan_found(tmp_path: Path) -> None:
    """SIGINT to the real CLI while CP-SAT searches: the plan found so far, marked as interrupted."""
    path = _big_fleet(tmp_path)
    log = tmp_path / "stderr.txt"
    with log.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "planner", str(path), "--json", "--time-limit", "120", "-v"],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            cwd=ROOT,
        )
        try:
            deadline = time.perf_counter() + 60
            # side by side: the narrow shortlist model (planner.solve.shortlist), then the whole
            # model below its plan; beside it the decomposition (its bound, then its plans)
            while "searching side by side" not in log.read_text():
                assert time.perf_counter() < deadline and proc.poll() is None, log.read_text()
                time.sleep(0.1)
            time.sleep(3.0)  # let the search find a first fleet
            sent = time.perf_counter()
            proc.send_signal(signal.SIGINT)
            out, _ = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
    errors = log.read_text().splitlines()
    stopped_in = time.perf_counter() - sent
    assert proc.returncode == 0, "\n".join(errors)
    data = json.loads(out)
    assert data["status"] == "FEASIBLE" and data["solver"]["gap"] is not None and data["line_items"]
    assert any("interrupted (Ctrl-C)" in w for w in data["warnings"])
    assert any("interrupted: stopping the search" in line for line in errors)
    assert stopped_in < 30, f"took {stopped_in:.1f} s to stop"

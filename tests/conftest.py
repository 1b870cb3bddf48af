"""Shared fixtures: the bundled catalog, a small test catalog, workload writers, and a small
multi-period fleet with a check that a plan of it holds in the per-site model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

import planner
from planner.catalog.store import Catalog
from planner.solve.problem import Problem

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
MINI = FIXTURES / "mini_catalog.yaml"


@pytest.fixture(scope="session")
def bundled() -> Catalog:
    return planner.load_catalog()


@pytest.fixture(scope="session")
def mini() -> Catalog:
    return planner.load_catalog([MINI], bundled=False)


def mini_with(tmp_path: Path, overlay: dict[str, Any]) -> Catalog:
    """The mini catalog plus an overlay file written from ``overlay``."""
    path = tmp_path / "overlay.yaml"
    path.write_text(yaml.safe_dump(overlay, sort_keys=False))
    return planner.load_catalog([MINI, path], bundled=False)


@pytest.fixture
def write_workload(tmp_path: Path) -> Callable[[dict[str, Any]], Path]:
    counter = {"n": 0}

    def write(data: dict[str, Any]) -> Path:
        counter["n"] += 1
        path = tmp_path / f"workload{counter['n']}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path

    return write


def serving(**over: Any) -> dict[str, Any]:
    """A small inference workload on the mini catalog; keyword arguments replace fields."""
    data: dict[str, Any] = {
        "name": "unit-serving",
        "kind": "inference",
        "model": {"preset": "dense-70b"},
        "precision": "bf16",
        "traffic": {"requests_per_s": 20, "input_tokens": 1000, "output_tokens": 200},
        "slo": {"ttft_ms": 2000, "tpot_ms": 50},
        "horizon_months": 36,
    }
    data.update(over)
    return data


def training(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "unit-training",
        "kind": "training",
        "model": {"preset": "dense-70b"},
        "tokens_b": 1000,
        "seq_len": 8192,
        "deadline_days": 60,
    }
    data.update(over)
    return data


def fixture_figure(value: float) -> dict[str, Any]:
    """A sourced value for test catalogs: the schema wants provenance even on fixtures."""
    return {"value": value, "source": "test fixture", "date": "2026-01", "confidence": "assumption"}


def npu_offer(**extra: Any) -> dict[str, Any]:
    """The mini catalog's npu-b server offer, as an overlay entry; keyword arguments add fields."""
    offer: dict[str, Any] = {
        "id": "npu-b-server",
        "accelerator": "npu-b",
        "mode": "purchase",
        "location": "onshore",
        "region": "china",
        "unit": {"kind": "server", "devices": 8},
        "price": {**fixture_figure(120000), "currency": "USD", "per": "unit"},
    }
    offer.update(extra)
    return offer


@pytest.fixture(scope="session")
def fleet_problem(bundled: Catalog) -> Problem:
    """Six jobs over three periods: solved to proven optimality in seconds."""
    from planner.bench import fleet_spec
    from planner.models.fleet import Fleet
    from planner.solve.prepare import prepare

    return prepare(Fleet.model_validate(fleet_spec(6, 3)), bundled)


def objective_when_fixed(p: Problem, solution: dict[str, int]) -> float:
    """The plan fixed variable by variable in the per-site model with every constraint on: its
    objective there (the calling test fails if the plan breaks any constraint)."""
    from planner.solve.objective import stages
    from planner.solve.run import SolverOptions, build, make_solver, variables

    full = build(p)
    for name, var in variables(full).items():
        full.model.add(var == solution.get(name, 0))
    full.model.minimize(stages(full)[0].expr)
    solver = make_solver(SolverOptions(workers=1), 60)
    assert solver.status_name(solver.solve(full.model)) == "OPTIMAL"
    return solver.objective_value

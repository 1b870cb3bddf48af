"""Several searches at once: a frontier's points side by side give the same plans as one at a
time, and one Ctrl-C stops every running search and leaves later points and options unsolved."""

from __future__ import annotations

import importlib
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import planner
from planner.bench import fleet_spec
from planner.catalog.store import Catalog
from planner.compare import INTERRUPTED
from planner.models.fleet import Fleet
from planner.solve import interrupt
from planner.solve.objective import stages
from planner.solve.prepare import prepare
from planner.solve.run import SolverOptions, build, make_solver

frontier_module = importlib.import_module("planner.frontier")


def ctrl_c_after(seconds: float) -> threading.Timer:
    """SIGINT to this process, as a terminal's Ctrl-C would send it (handled in the main thread)."""
    timer = threading.Timer(seconds, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    return timer


def test_points_side_by_side_match_one_at_a_time(bundled: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = Fleet.model_validate(fleet_spec(1, 4))
    pools: list[int] = []

    class CountingPool(ThreadPoolExecutor):
        def __init__(self, workers: int, **kw: Any) -> None:
            pools.append(workers)
            super().__init__(workers, **kw)

    monkeypatch.setattr(frontier_module, "ThreadPoolExecutor", CountingPool)
    frames = []
    for threads in (1, 2):
        monkeypatch.setattr(frontier_module, "PARALLEL_POINTS", threads)
        frame = planner.frontier(spec, vary="domestic_share.min=0:1:0.25", catalog=bundled, time_limit_s=30)
        frames.append(frame.to_json())
    assert pools == [2]  # one at a time never starts a pool; two threads did
    assert frames[0] == frames[1]


def _long_search() -> tuple[Any, Any]:
    """A model CP-SAT cannot finish within the test: a 10-workload, 12-period fleet."""
    problem = prepare(Fleet.model_validate(fleet_spec(10, 12)), planner.load_catalog())
    b = build(problem, compact=True)
    b.model.minimize(stages(b)[0].expr)
    return b.model, make_solver(SolverOptions(workers=1), 60)


def test_ctrl_c_under_guard_stops_every_worker_search() -> None:
    models = [_long_search() for _ in range(2)]
    start = time.perf_counter()
    timer = ctrl_c_after(1.5)
    try:
        with interrupt.guard(), ThreadPoolExecutor(2) as pool:
            codes = list(pool.map(lambda ms: interrupt.solve(ms[1], ms[0]), models))
    finally:
        timer.cancel()
    took = time.perf_counter() - start
    assert interrupt.requested()
    assert took < 20, f"searches took {took:.1f} s to stop"
    assert all(code in (0, 1, 2) for code in codes)  # UNKNOWN or FEASIBLE: stopped, not finished
    late = _long_search()
    code = interrupt._solve_in_worker(late[1], late[0])  # started after the Ctrl-C: no search
    assert code in (0, 1) and late[1].wall_time < 5
    interrupt.reset()
    assert not interrupt.requested()


def test_ctrl_c_in_a_comparison_leaves_later_options_unsolved(bundled: Catalog) -> None:
    spec = Fleet.model_validate(fleet_spec(10, 12))
    timer = ctrl_c_after(4.0)
    start = time.perf_counter()
    try:
        result = planner.compare_plans(spec, bundled, time_limit_s=60, workers=1)
    finally:
        timer.cancel()
    assert time.perf_counter() - start < 40
    first, *rest = result.options
    assert first.plan is not None and any("interrupted (Ctrl-C)" in w for w in first.plan.warnings)
    assert rest and all(o.plan is None and o.reason == INTERRUPTED for o in rest)

"""The solve paths of large fleets (planner.solve.strategy: the decomposition, and the whole
model below the narrow shortlist's plan): fleets where the shortlist is infeasible, incomplete
or beside the point still get the right plan, or the explanation;
searches below an incumbent apply to minimising stages only; frontier points side by side
give the same frontier; one Ctrl-C stops a search that had not started yet; time accounting."""

from __future__ import annotations

import copy
import importlib
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from ortools.sat.python import cp_model
from typer.testing import CliRunner

import planner
from planner.bench import fleet_spec
from planner.catalog.store import Catalog
from planner.cli import frontier_cmd  # noqa: F401 - registers the command
from planner.cli.app import app
from planner.models.fleet import Fleet
from planner.models.plan import Plan
from planner.solve import interrupt, shortlist, strategy
from planner.solve.prepare import prepare
from planner.solve.run import Incumbent, SolverOptions, solve_problem
from planner.verify import verify
from tests.conftest import ROOT

frontier_module = importlib.import_module("planner.frontier")  # planner.frontier is also a function

FAST: dict[str, Any] = {"time_limit_s": 60, "workers": 1, "tie_breaks": False}
"""The objective only: these checks compare proven optima, not which of equal plans comes back."""


def spec_with(objective: str = "min_tco", **constraints: Any) -> dict[str, Any]:
    """fleet_spec(10, 2) (on the shortlist path) with constraints added or replaced."""
    spec = copy.deepcopy(fleet_spec(10, 2))
    spec["objective"] = objective
    spec["constraints"].update(constraints)
    return spec


def plans_both_ways(spec: dict[str, Any], catalog: Catalog, monkeypatch: pytest.MonkeyPatch, **kw: Any) -> list[Plan]:
    """The plan with the shortlist first and with it switched off (both verified by plan())."""
    fleet = Fleet.model_validate(spec)
    assert shortlist.applies(prepare(fleet, catalog))
    with_list = planner.plan(fleet, catalog, **{**FAST, **kw})
    with monkeypatch.context() as m:
        m.setattr(strategy.shortlist, "applies", lambda p: False)
        without = planner.plan(fleet, catalog, **{**FAST, **kw})
    return [with_list, without]


def decomposition_statuses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records the status of each decomposition search (the one-worker path's first search)."""
    seen: list[str] = []
    real = strategy.decomposition.search

    def spy(problem, options, stop=None):  # type: ignore[no-untyped-def]
        result = real(problem, options, stop=stop)
        seen.append(result.status)
        return result

    monkeypatch.setattr(strategy.decomposition, "search", spy)
    return seen


@pytest.mark.parametrize(
    ("constraints", "optimum"),
    [
        pytest.param({"budget": {"total": 5_600_000}}, 5_473_036, id="budget"),
        pytest.param({"power_kw": 90}, 5_676_415, id="power-cap"),
    ],
)
def test_a_binding_limit_still_gives_the_optimum(
    bundled: Catalog, monkeypatch: pytest.MonkeyPatch, constraints: dict[str, Any], optimum: int
) -> None:
    """Every shortlist plan costs > 9M or draws too much power here; the full optimum fits. The
    decomposition runs first, then the whole model, which proves (or finds) the optimum."""
    statuses = decomposition_statuses(monkeypatch)
    plan = planner.plan(Fleet.model_validate(spec_with(**constraints)), bundled, **FAST)
    assert len(statuses) == 1 and statuses[0] in ("OPTIMAL", "FEASIBLE", "NO_SOLUTION")
    assert plan.status == "OPTIMAL" and plan.solver.gap == 0
    assert plan.solver.objective_value == optimum
    assert plan.totals is not None
    if "power_kw" in constraints:
        assert plan.totals.power_kw <= 90 + 1e-6
    else:
        assert plan.totals.tco_usd <= 5_600_000


def test_an_infeasible_fleet_is_still_explained(bundled: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rentals only: the policies' domestic floors cannot be met, on the shortlist or off it."""
    spec = spec_with(allow_purchase=False)
    assert shortlist.applies(prepare(Fleet.model_validate(spec), bundled))
    statuses = decomposition_statuses(monkeypatch)
    plan = planner.plan(Fleet.model_validate(spec), bundled, time_limit_s=60, workers=1)
    assert statuses == ["NO_SOLUTION"]  # its patterns admit no plan; the whole model proves none exists
    assert plan.status == "INFEASIBLE" and plan.explanation is not None
    assert not plan.line_items and not verify(plan, Fleet.model_validate(spec), bundled)


def test_training_only_fleet(bundled: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = fleet_spec(100, 2)
    spec["fleet"] = [m for m in spec["fleet"] if m["kind"] == "training"]
    assert len(spec["fleet"]) == shortlist.MIN_JOBS
    with_list, without = plans_both_ways(spec, bundled, monkeypatch)
    assert with_list.status == without.status == "OPTIMAL"
    assert with_list.solver.objective_value == without.solver.objective_value


@pytest.mark.parametrize("objective", ["min_power", "min_capex"])
def test_other_minimising_objectives_agree_with_and_without_the_shortlist(
    bundled: Catalog, monkeypatch: pytest.MonkeyPatch, objective: str
) -> None:
    with_list, without = plans_both_ways(spec_with(objective), bundled, monkeypatch)
    assert with_list.status == without.status == "OPTIMAL"
    assert with_list.solver.objective == objective
    assert with_list.solver.objective_value == without.solver.objective_value


def test_forced_parts_stay_on_the_shortlist(bundled: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    """The B300 is never among any job's cheapest layouts here, but the plan must use it."""
    plain = prepare(Fleet.model_validate(spec_with()), bundled)
    narrow = shortlist.shortlist(plain, 1.0)
    assert narrow is not None
    assert not any("b300" in narrow.groups[c.group].accelerator for c in narrow.candidates.values())
    forced = prepare(Fleet.model_validate(spec_with(force=["nvidia-b300"])), bundled)
    groups = {g for f in forced.forced for g in f.groups}
    assert groups
    for within in (1.0, 1.3):
        small = shortlist.shortlist(forced, within)
        assert small is not None
        every = {k for k, c in forced.candidates.items() if c.group in groups and not c.bans}
        assert every and every <= set(small.candidates)
    with_list, without = plans_both_ways(spec_with(force=["nvidia-b300"]), bundled, monkeypatch)
    assert with_list.status == without.status == "OPTIMAL"
    assert "nvidia-b300" in {li.accelerator for li in with_list.line_items}
    assert with_list.solver.objective_value == without.solver.objective_value


def test_a_maximising_first_stage_ignores_an_incumbent(bundled: Catalog) -> None:
    p = prepare(planner.load_workload(ROOT / "examples" / "budget-bound.yaml"), bundled)
    options = SolverOptions(time_limit_s=60, workers=1, tie_breaks=False)
    plain = solve_problem(p, options)
    assert plain.status == "OPTIMAL" and plain.objective_value
    # an incumbent is a cutoff for minimising stages only: a maximising stage 1 must not keep it
    bogus = solve_problem(p, options, incumbent=Incumbent(0, {}))
    assert bogus.status == "OPTIMAL"
    assert bogus.objective_value == plain.objective_value and bogus.solution == plain.solution


def test_time_figures_cover_every_search(bundled: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    """Solver and wall seconds cover every search (the decomposition, then the reduced model),
    which run one after another: wall >= the searches' walls >= solver seconds."""
    walls: list[float] = []
    real_solve, real_decomposition = strategy.solve_problem, strategy.decomposition.search

    def timed(problem, options, incumbent=None):  # type: ignore[no-untyped-def]
        result = real_solve(problem, options, incumbent=incumbent)
        walls.append(result.wall_time_s)
        return result

    def timed_decomposition(problem, options, stop=None):  # type: ignore[no-untyped-def]
        result = real_decomposition(problem, options, stop=stop)
        walls.append(result.wall_time_s)
        return result

    monkeypatch.setattr(strategy, "solve_problem", timed)
    monkeypatch.setattr(strategy.decomposition, "search", timed_decomposition)
    p = prepare(Fleet.model_validate(spec_with()), bundled)
    _, result = strategy.solve(p, SolverOptions(time_limit_s=60, workers=1, tie_breaks=False))
    assert len(walls) == 2  # the decomposition, then the (exact) reduced model
    assert result.solve_time_s <= sum(walls) <= result.wall_time_s


def test_frontier_side_by_side_gives_the_same_csv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 12-period single workload: every point after the first is solved side by side."""
    path = tmp_path / "one.yaml"
    path.write_text(yaml.safe_dump(fleet_spec(1, 12), sort_keys=False))
    args = ["frontier", str(path), "--vary", "domestic_share.min=0:1:0.25", "--format", "csv", "--workers", "1"]
    pools: list[int] = []
    real_pool = frontier_module.ThreadPoolExecutor

    def counting_pool(*a, **kw):  # type: ignore[no-untyped-def]
        pools.append(a[0] if a else kw["max_workers"])
        return real_pool(*a, **kw)

    monkeypatch.setattr(frontier_module, "ThreadPoolExecutor", counting_pool)
    monkeypatch.setattr(frontier_module, "PARALLEL_POINTS", 2)
    runner = CliRunner()
    side = runner.invoke(app, args)
    assert side.exit_code == 0, side.output
    assert pools == [2]  # the side-by-side path really ran
    monkeypatch.setattr(frontier_module, "PARALLEL_POINTS", 1)
    one = runner.invoke(app, args)
    assert one.exit_code == 0, one.output
    assert pools == [2]
    lines = side.stdout.strip().splitlines()
    assert len(lines) == 6 and all(",OPTIMAL," in line for line in lines[1:])
    assert side.stdout == one.stdout


def _slow_model() -> cp_model.CpModel:
    """A Golomb ruler of 11 marks: one worker takes far longer than a second to prove it."""
    model = cp_model.CpModel()
    marks = [model.new_int_var(0, 200, f"m{i}") for i in range(11)]
    model.add(marks[0] == 0)
    diffs = []
    for i in range(11):
        for j in range(i + 1, 11):
            if j == i + 1:
                model.add(marks[j] > marks[i])
            d = model.new_int_var(1, 200, f"d{i}_{j}")
            model.add(d == marks[j] - marks[i])
            diffs.append(d)
    model.add_all_different(diffs)
    model.minimize(marks[-1])
    return model


class _LateSolver(cp_model.CpSolver):
    """Ctrl-C arrives after the search was registered but before CP-SAT created its search."""

    def solve(self, model, solution_callback=None):  # type: ignore[no-untyped-def]
        interrupt._stop_all()
        return super().solve(model, solution_callback)


@pytest.mark.parametrize("late", [False, True], ids=["before-registration", "before-cp-sat-starts"])
def test_a_ctrl_c_before_the_search_starts_still_stops_it(late: bool) -> None:
    """Ctrl-C before the worker registered its search (it checks), or after that but before
    CP-SAT created its search (stop_search alone would miss it): either way no search runs."""
    solver = _LateSolver() if late else cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 2.5
    out: dict[str, float] = {}

    def work() -> None:
        start = time.perf_counter()
        interrupt._solve_in_worker(solver, _slow_model())
        out["s"] = time.perf_counter() - start

    if not late:
        interrupt._requested.set()
    try:
        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
    finally:
        interrupt._requested.clear()
    assert out["s"] < 1.0


def test_tie_breaks_false_holds_with_force(bundled: Catalog) -> None:
    workload = planner.load_workload(ROOT / "examples" / "state-cloud-inference.yaml")
    plain = planner.plan(workload, bundled, time_limit_s=30, workers=1, tie_breaks=False)
    assert len(plain.solver.stages) == 1
    used = sorted({li.accelerator for li in plain.line_items})
    forced = planner.plan(workload, bundled, time_limit_s=30, workers=1, tie_breaks=False, exclude=[used[0]])
    assert forced.solver.stages == plain.solver.stages


def test_two_searches_side_by_side_reach_the_optimum_found_one_after_the_other(
    bundled: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With two or more workers a shortlisted fleet is searched side by side (strategy.
    _side_by_side); one worker keeps the sequential path. Both prove the same optimum."""
    calls: list[int] = []
    real = strategy._side_by_side

    def counted(*args: Any) -> Any:
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(strategy, "_side_by_side", counted)
    fleet = Fleet.model_validate(spec_with())
    one = planner.plan(fleet, bundled, **FAST)
    assert calls == []
    two = planner.plan(fleet, bundled, **{**FAST, "workers": 2})  # verified by plan()
    assert calls == [1]
    assert one.status == two.status == "OPTIMAL"
    assert two.solver.objective_value == one.solver.objective_value
    assert two.solver.gap == 0


def _result(problem: Any, status: str, value: float | None, bound: float | None) -> Any:
    from planner.solve.builder import Builder
    from planner.solve.run import SolveResult

    return SolveResult(status, {}, value, bound, 1.0, 1.0, ["min_tco"], Builder(problem))


def test_combining_searches_keeps_the_cheapest_plan_and_the_best_bound(bundled: Catalog) -> None:
    p = prepare(Fleet.model_validate(spec_with()), bundled)
    other = prepare(Fleet.model_validate(fleet_spec(1, 2)), bundled)
    best = strategy._combine(p, [_result(p, "FEASIBLE", 100, 90), _result(p, "FEASIBLE", 98, 95)])
    assert (best.status, best.objective_value, best.best_bound) == ("FEASIBLE", 98, 95)
    # the dearer plan's search proved no plan below 98 exists: the cheaper plan is optimal
    best = strategy._combine(p, [_result(p, "FEASIBLE", 100, 98), _result(p, "FEASIBLE", 98, 80)])
    assert (best.status, best.objective_value, best.best_bound) == ("OPTIMAL", 98, 98)
    # a search without a plan still proves a bound
    best = strategy._combine(p, [_result(p, "NO_SOLUTION", None, 97), _result(p, "FEASIBLE", 98, 80)])
    assert (best.status, best.best_bound) == ("FEASIBLE", 97)
    # a bound of another model (a shortlist) says nothing about this one
    best = strategy._combine(p, [_result(other, "FEASIBLE", 99, 99), _result(p, "FEASIBLE", 98, 80)])
    assert (best.status, best.best_bound) == ("FEASIBLE", 80)
    none = strategy._combine(p, [_result(p, "NO_SOLUTION", None, 50), _result(p, "NO_SOLUTION", None, 60)])
    assert none.status == "NO_SOLUTION"


def test_the_budget_a_fleet_needs_is_its_proven_optimum(bundled: Catalog) -> None:
    """A 1M budget for a fleet whose cheapest plan costs 5,473,036 USD (the budget case above,
    where 5.6M does not bind): the repair raises the budget to exactly that, proven least."""
    spec = spec_with(budget={"total": 1_000_000})
    plan = planner.plan(Fleet.model_validate(spec), bundled, time_limit_s=60, workers=2)
    assert plan.status == "INFEASIBLE" and plan.explanation is not None
    fix = next(r for r in plan.explanation.repairs if r["constraint"] == "budget:total")
    assert fix["verified"] and fix["least"]
    assert fix["required"] == 5_473_036


@pytest.mark.parametrize("exact", [True, False])
def test_a_ctrl_c_on_the_reduced_model_keeps_its_bound_only_where_exact(
    bundled: Catalog, monkeypatch: pytest.MonkeyPatch, exact: bool
) -> None:
    """The model without dominated sites bounds the full model only where the reduction is shown
    exact; a Ctrl-C that ends the search there keeps the plan, and the bound only then."""
    from planner.catalog.workload_file import load_workload
    from planner.solve.dominance import dominated_sites

    p = prepare(load_workload(ROOT / "examples" / "state-cloud-inference.yaml"), bundled)
    assert dominated_sites(p)  # the reduced model is searched first
    real = strategy.solve_problem

    def stopped(problem, options, incumbent=None):  # type: ignore[no-untyped-def]
        result = real(problem, options, incumbent=incumbent)
        result.interrupted = True  # as if Ctrl-C came at the end of this search
        return result

    monkeypatch.setattr(strategy, "solve_problem", stopped)
    monkeypatch.setattr(strategy, "reduction_is_exact", lambda *args: exact)
    solved, result = strategy.solve(p, SolverOptions(time_limit_s=30, workers=1))
    assert solved is not p and result.objective_value is not None and result.solution
    if exact:
        assert result.status == "OPTIMAL" and result.best_bound == result.objective_value
    else:
        assert result.status == "FEASIBLE" and result.best_bound is None

"""The neighbourhood search (planner.solve.neighbourhood): from a dearer plan it finds cheaper
ones, each a plan of the full per-site model with the objective it claims, never a dearer one."""

from __future__ import annotations

import threading

import pytest

from planner.solve import neighbourhood, shortlist
from planner.solve.problem import Problem
from planner.solve.run import Incumbent, SolverOptions, solve_problem
from tests.conftest import objective_when_fixed

OPTIONS = SolverOptions(time_limit_s=60, workers=1)


@pytest.fixture(scope="module")
def narrow_plan(fleet_problem: Problem) -> Incumbent:
    small = shortlist.shortlist(fleet_problem, 1.0)
    assert small is not None
    found = solve_problem(small, OPTIONS)
    plan = found.incumbent()
    assert plan is not None
    return plan


def test_finds_a_cheaper_plan_of_the_full_model(fleet_problem: Problem, narrow_plan: Incumbent) -> None:
    optimum = solve_problem(fleet_problem, OPTIONS).objective_value
    assert optimum is not None and narrow_plan.value > optimum  # room to improve
    result = neighbourhood.improve(fleet_problem, narrow_plan, SolverOptions(time_limit_s=8, workers=1))
    assert result.status == "FEASIBLE" and result.best_bound is None
    assert result.objective_value is not None
    assert optimum <= result.objective_value < narrow_plan.value
    assert objective_when_fixed(fleet_problem, result.solution) == result.objective_value


def test_an_optimal_start_comes_back_unchanged(fleet_problem: Problem) -> None:
    best = solve_problem(fleet_problem, OPTIONS)
    start = best.incumbent()
    assert best.status == "OPTIMAL" and start is not None
    result = neighbourhood.improve(fleet_problem, start, SolverOptions(time_limit_s=30, workers=1))
    assert result.objective_value == start.value and result.solution == start.solution


def test_a_set_stop_event_ends_it_before_any_step(fleet_problem: Problem, narrow_plan: Incumbent) -> None:
    stop = threading.Event()
    stop.set()
    result = neighbourhood.improve(fleet_problem, narrow_plan, OPTIONS, stop=stop)
    assert result.objective_value == narrow_plan.value
    assert result.solve_time_s < 10  # the model is built, no 60 s search runs

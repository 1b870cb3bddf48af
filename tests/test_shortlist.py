"""The shortlist model and the incumbent cutoff: a shortlist plan is a plan of the full model,
and searching only below an incumbent never loses it and still proves optimality."""

from __future__ import annotations

import copy
import dataclasses
from collections import defaultdict

import pytest

import planner
from planner.bench import fleet_spec
from planner.catalog.store import Catalog
from planner.models.fleet import Fleet
from planner.solve import shortlist, strategy
from planner.solve.builder import Builder
from planner.solve.prepare import prepare
from planner.solve.problem import Problem
from planner.solve.run import Incumbent, SolverOptions, solve_problem
from tests.conftest import objective_when_fixed

OPTIONS = SolverOptions(time_limit_s=60, workers=1)


@pytest.fixture
def small_fleets_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """Six jobs over three periods solve to proven optimality in seconds, so the checks below
    can compare with the true optimum; the shortlist itself starts at MIN_JOBS."""
    monkeypatch.setattr(shortlist, "MIN_JOBS", 5)


def layouts_by_job_origin(p: Problem) -> dict[tuple[str, str], set[tuple[str, str, str]]]:
    out: dict[tuple[str, str], set[tuple[str, str, str]]] = defaultdict(set)
    for c in p.candidates.values():
        if not c.bans:
            out[(c.job, p.groups[c.group].origin)].add(shortlist._layout(p, c))
    return out


def test_applies_to_large_multi_period_fleets_only(bundled: Catalog) -> None:
    def fleet(jobs: int, periods: int) -> Problem:
        return prepare(Fleet.model_validate(fleet_spec(jobs, periods)), bundled)

    assert shortlist.MIN_JOBS == 10
    assert shortlist.applies(fleet(10, 2))
    assert not shortlist.applies(fleet(10, 1))
    assert not shortlist.applies(fleet(9, 3))


@pytest.mark.parametrize("within", [1.0, 1.3, 2.0])
def test_keeps_each_jobs_cheapest_layouts_per_origin(fleet_problem: Problem, within: float) -> None:
    small = shortlist.shortlist(fleet_problem, within)
    assert small is not None and len(small.candidates) < len(fleet_problem.candidates)
    b = Builder(fleet_problem)
    every = layouts_by_job_origin(fleet_problem)
    kept = layouts_by_job_origin(small)
    for key, options in every.items():
        cost = {
            layout: min(
                shortlist._standalone_cost(fleet_problem, b, c)
                for c in fleet_problem.candidates.values()
                if not c.bans and shortlist._layout(fleet_problem, c) == layout
            )
            for layout in options
        }
        cheapest = min(cost.values())
        assert any(cost[layout] == cheapest for layout in kept[key])
        assert all(cost[layout] <= within * cheapest for layout in kept[key] if cost[layout] > cheapest)
        assert all(cost[layout] > within * cheapest for layout in options - kept[key])
    for c in small.candidates.values():  # whole layouts: every site of a kept layout stays
        same = [
            d
            for d in fleet_problem.candidates.values()
            if shortlist._layout(fleet_problem, d) == shortlist._layout(small, c)
        ]
        assert all(d.key in small.candidates for d in same if not d.bans)
    if within > 1.0:
        narrower = shortlist.shortlist(fleet_problem, 1.0)
        assert narrower is not None and set(narrower.candidates) <= set(small.candidates)


def test_a_shortlist_plan_is_a_plan_of_the_full_model(fleet_problem: Problem) -> None:
    small = shortlist.shortlist(fleet_problem, 1.0)
    assert small is not None
    found = solve_problem(small, OPTIONS)
    assert found.status == "OPTIMAL" and found.objective_value is not None
    # per-site, every constraint: the plan, fixed, must satisfy it
    assert objective_when_fixed(fleet_problem, found.solution) == found.objective_value


def test_an_optimal_incumbent_is_proven_and_kept(fleet_problem: Problem) -> None:
    best = solve_problem(fleet_problem, OPTIONS)
    assert best.status == "OPTIMAL" and best.objective_value is not None
    again = solve_problem(fleet_problem, OPTIONS, incumbent=Incumbent(round(best.objective_value), best.solution))
    assert again.status == "OPTIMAL"
    assert again.objective_value == best.objective_value == again.best_bound
    assert again.solution == best.solution


def test_a_dearer_incumbent_is_beaten(fleet_problem: Problem) -> None:
    best = solve_problem(fleet_problem, OPTIONS)
    small = shortlist.shortlist(fleet_problem, 1.0)
    assert small is not None
    start = solve_problem(small, OPTIONS)
    assert start.objective_value is not None and best.objective_value is not None
    assert start.objective_value > best.objective_value  # the shortlist leaves something out here
    beaten = solve_problem(fleet_problem, OPTIONS, incumbent=Incumbent(round(start.objective_value), start.solution))
    assert beaten.status == "OPTIMAL"
    assert beaten.objective_value == best.objective_value


@pytest.mark.usefixtures("small_fleets_too")
def test_plans_with_and_without_the_shortlist_agree(bundled: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = Fleet.model_validate(fleet_spec(6, 3))
    with_list = planner.plan(spec, bundled, time_limit_s=60, workers=1, explain_infeasible=False)
    monkeypatch.setattr(strategy.shortlist, "applies", lambda p: False)
    without = planner.plan(spec, bundled, time_limit_s=60, workers=1, explain_infeasible=False)
    assert with_list.status == without.status == "OPTIMAL"
    assert with_list.totals.tco_usd == pytest.approx(without.totals.tco_usd, rel=1e-12)


def test_a_shortlisted_fleet_plans_the_same_whatever_the_worker_count(bundled: Catalog) -> None:
    """Every search on the shortlist path runs on one deterministic worker (see run.py)."""
    spec = Fleet.model_validate(fleet_spec(10, 2))
    assert shortlist.applies(prepare(spec, bundled))
    plans = [planner.plan(spec, bundled, time_limit_s=60, workers=w, explain_infeasible=False) for w in (1, 4)]
    assert plans[0].status == "OPTIMAL"
    facts = [p.model_dump(mode="json") for p in plans]
    for f in facts:
        for key in ("solve_time_s", "wall_time_s", "workers"):
            f["solver"].pop(key, None)
    assert facts[0] == facts[1]


def test_owned_units_count_as_owned_when_ranking(fleet_problem: Problem) -> None:
    """A large existing fleet on a part makes its layouts the cheapest to rank, so they stay."""
    narrow = shortlist.shortlist(fleet_problem, 1.0)
    assert narrow is not None
    job = next(j for j in sorted(fleet_problem.jobs) if fleet_problem.jobs[j].kind == "inference")
    dropped = sorted(
        c.group
        for c in fleet_problem.candidates.values()
        if c.job == job
        and not c.bans
        and fleet_problem.groups[c.group].mode == "purchase"
        and c.key not in narrow.candidates
    )
    group = dropped[0]
    owned = copy.copy(fleet_problem)
    owned.groups = {
        **fleet_problem.groups,
        group: dataclasses.replace(fleet_problem.groups[group], existing_units=10_000),
    }
    kept = shortlist.shortlist(owned, 1.0)
    assert kept is not None
    assert any(c.job == job and c.group == group for c in kept.candidates.values())

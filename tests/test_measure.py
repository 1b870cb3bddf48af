"""Plan figures computed once per solution (measure.Figures) equal the sums taken afresh, to the bit."""

from __future__ import annotations

import dataclasses
import random

import pytest

from planner.bench import fleet_spec
from planner.catalog.store import Catalog
from planner.models.fleet import Fleet
from planner.models.plan import CostLines
from planner.solve import measure
from planner.solve.prepare import prepare
from planner.solve.problem import Group, Problem

MEASURES = ("devices", "compute", "throughput", "spend")


def _available(sol: measure.Solution, g: Group, t: int) -> int:
    """Units able to serve in period t, summed the way the plan always has."""
    if g.mode == "rental":
        return measure.new_units(sol, g, t)
    return g.existing_units + sum(measure.new_units(sol, g, s) for s in range(0, t - g.lag_periods + 1))


def _measure(p: Problem, sol: measure.Solution, which: str, domestic: bool | None, t: int | None) -> float:
    """The reference: every group, period and candidate added in turn, nothing kept between calls."""
    total = 0.0
    periods = range(len(p.periods)) if t is None else (t,)
    for g in p.groups.values():
        if domestic is not None and (g.origin == "domestic") != domestic:
            continue
        for s in periods:
            if which in ("devices", "compute"):
                units = _available(sol, g, s)
                units += sum(
                    c.pool_units
                    for c in p.candidates_of(g.key)
                    if g.mode == "rental" and measure.chosen(sol, c) and s in c.periods
                )
                per = g.devices_per_unit * (g.peak_tflops_per_device if which == "compute" else 1.0)
                total += units * per
            elif which == "throughput":
                for c in p.candidates_of(g.key):
                    if p.job_kind(c) == "inference":
                        total += measure.blocks(sol, c, s) * measure.throughput_per_block(p, c)
                    elif measure.chosen(sol, c) and s in c.periods:
                        total += measure.throughput_per_block(p, c)
        if which == "spend":
            cost = CostLines()
            for s in range(len(p.periods)):
                cost = cost + measure.group_costs_period(p, sol, g, s)
            total += cost.total
    return total


def _random_solution(p: Problem, seed: int) -> measure.Solution:
    """Any values at all (feasible or not): many zeros, some purchases, blocks and chosen pools."""
    rng = random.Random(seed)
    sol: measure.Solution = {}
    for t in range(len(p.periods)):
        for key in p.groups:
            sol[f"n:{key}@{t}"] = rng.choice([0, 0, 0, 1, 3, 17])
        for key, c in p.candidates.items():
            if c.shape is not None:
                sol[f"x:{key}@{t}"] = rng.choice([0, 0, 0, 2, 5])
    for key, c in p.candidates.items():
        if c.pool is not None:
            sol[f"y:{key}"] = rng.choice([0, 1])
    return sol


@pytest.fixture(scope="module")
def fleet_problem(bundled: Catalog) -> Problem:
    """Ten workloads (one training) over twelve periods: rentals, pools and serving, and here some
    purchases given lead times and an owned fleet (the bundled offers have neither at this length)."""
    p = prepare(Fleet.model_validate(fleet_spec(10, 12)), bundled)
    assert {g.mode for g in p.groups.values()} == {"purchase", "rental"}
    assert any(c.pool is not None for c in p.candidates.values())
    for i, (key, g) in enumerate(sorted(p.groups.items())):
        if g.mode == "purchase" and i % 3 == 1:
            p.groups[key] = dataclasses.replace(g, lag_periods=i % 4 + 1, existing_units=i % 5)
    return p


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_figures_match_sums_taken_afresh(fleet_problem: Problem, seed: int) -> None:
    p = fleet_problem
    sol = _random_solution(p, seed)
    figures = measure.Figures(p, sol)
    for t in range(len(p.periods)):
        for g in p.groups.values():
            assert figures.available(g, t) == _available(sol, g, t)
    for which in MEASURES:
        for t in [None, *range(len(p.periods))]:
            for domestic in (None, True, False):
                assert figures.measure(which, domestic, t) == _measure(p, sol, which, domestic, t), (which, t)
                # asked again: the kept sum, unchanged
                assert figures.measure(which, domestic, t) == _measure(p, sol, which, domestic, t)


def test_group_costs_add_period_by_period(fleet_problem: Problem) -> None:
    p = fleet_problem
    sol = _random_solution(p, 3)
    for g in p.groups.values():
        expected = CostLines()
        for t in range(len(p.periods)):
            expected = expected + measure.group_costs_period(p, sol, g, t)
        assert measure.group_costs(p, sol, g) == expected


def test_module_functions_agree_with_figures(fleet_problem: Problem) -> None:
    p = fleet_problem
    sol = _random_solution(p, 4)
    figures = measure.Figures(p, sol)
    for which in MEASURES:
        assert measure.min_share(p, sol, which) == figures.min_share(which)
        for t in range(len(p.periods)):
            assert measure.share(p, sol, which, t) == figures.share(which, t)
    last = len(p.periods) - 1
    assert measure.max_power_kw(p, sol) == max(figures.power_kw(t) for t in range(len(p.periods)))
    assert measure.power_kw(p, sol, last) == sum(
        _available(sol, g, last) * g.power_kw_per_unit for g in p.groups.values() if g.hosted
    )


def test_min_share_skips_periods_that_measure_nothing(fleet_problem: Problem) -> None:
    """Nothing installed before period 5: those periods have no share, not a share of 0 %."""
    groups = {k: dataclasses.replace(g, existing_units=0) for k, g in fleet_problem.groups.items()}
    p = dataclasses.replace(fleet_problem, groups=groups)
    owned = [g for g in p.groups.values() if g.mode == "purchase" and not g.lag_periods]
    home = next(g for g in owned if g.origin == "domestic")
    abroad = next(g for g in owned if g.origin != "domestic")
    sol = {f"n:{home.key}@5": 1, f"n:{abroad.key}@8": 1}
    figures = measure.Figures(p, sol)
    assert [figures.measure("devices", None, t) > 0 for t in range(len(p.periods))] == [False] * 5 + [True] * 7
    both = home.devices_per_unit / (home.devices_per_unit + abroad.devices_per_unit)
    assert figures.min_share("devices") == both
    assert figures.min_share_in("devices", range(5, 8)) == 1.0
    assert measure.min_share(p, sol, "devices") == both

"""Site pooling is exact: the pooled model has the per-site model's optimum, and its solutions
map back to whole blocks at real sites that pass every per-site constraint."""

from __future__ import annotations

import dataclasses

import pytest
from ortools.sat.python import cp_model

from planner.bench import fleet_spec
from planner.catalog.store import Catalog
from planner.models.fleet import Fleet
from planner.solve import site_pool
from planner.solve.objective import stages
from planner.solve.prepare import prepare
from planner.solve.problem import Problem
from planner.solve.run import SolverOptions, build, make_solver, solution_of


def optimum(problem: Problem, compact: bool) -> tuple[str, float, dict[str, int]]:
    b = build(problem, compact=compact)
    b.model.minimize(stages(b)[0].expr)
    solver = make_solver(SolverOptions(time_limit_s=60, workers=2), 60)
    code = solver.solve(b.model)
    name = solver.status_name(code)
    return name, solver.objective_value, solution_of(b, solver) if name in ("OPTIMAL", "FEASIBLE") else {}


@pytest.fixture(scope="module")
def fleet_4x2(bundled: Catalog) -> Problem:
    return prepare(Fleet.model_validate(fleet_spec(4, 2)), bundled)


def test_pools_form_over_every_site_of_an_offer(fleet_4x2: Problem) -> None:
    pools = site_pool.find(fleet_4x2)
    assert pools is not None
    for (offer, _), sites in pools.sites.items():
        assert sites == tuple(sorted(k for k, g in fleet_4x2.groups.items() if g.offer == offer))
        assert len(sites) >= 2


def test_pooled_model_is_smaller_with_the_same_optimum(fleet_4x2: Problem) -> None:
    full = build(fleet_4x2)
    small = build(fleet_4x2, compact=True)
    assert len(small.x) + len(small.s) < len(full.x) / 2
    status_full, cost_full, _ = optimum(fleet_4x2, compact=False)
    status_small, cost_small, _ = optimum(fleet_4x2, compact=True)
    assert status_full == status_small == "OPTIMAL"
    assert cost_small == cost_full


def test_pooled_optimum_under_binding_site_power(fleet_4x2: Problem) -> None:
    """Squeeze every site's power so the plan must spread over sites; pooling still matches."""
    _, _, free = optimum(fleet_4x2, compact=False)
    b = build(fleet_4x2)
    used = {
        cap.name: max(
            sum(
                fleet_4x2.groups[k].power_kw_per_unit * sum(free.get(f"n:{k}@{s}", 0) for s in range(t + 1))
                for k, g in fleet_4x2.groups.items()
                if g.hosted and g.site in cap.sites
            )
            for t in b.periods
        )
        for cap in fleet_4x2.power_caps
    }
    busiest = max(used.values())
    assert busiest > 0
    squeezed = dataclasses.replace(
        fleet_4x2,
        power_caps=[
            dataclasses.replace(cap, max_kw=0.4 * busiest) if len(cap.sites) == 1 else cap
            for cap in fleet_4x2.power_caps
        ],
    )
    status_full, cost_full, _ = optimum(squeezed, compact=False)
    status_small, cost_small, sol = optimum(squeezed, compact=True)
    assert status_full == status_small == "OPTIMAL"
    assert cost_small == cost_full
    assert cost_full > optimum(fleet_4x2, compact=False)[1]  # the squeeze did bind
    # the expanded solution is feasible for the per-site model, variable by variable
    check = build(squeezed)
    for name, var in {
        **{f"n:{k}@{t}": v for (k, t), v in check.n.items()},
        **{f"x:{k}@{t}": v for (k, t), v in check.x.items()},
        **{f"y:{k}": v for k, v in check.y.items()},
    }.items():
        check.model.add(var == sol[name])
    assert cp_model.CpSolver().solve(check.model) == cp_model.OPTIMAL


def test_expand_then_collapse_round_trips(fleet_4x2: Problem) -> None:
    b = build(fleet_4x2, compact=True)
    b.model.minimize(stages(b)[0].expr)
    solver = make_solver(SolverOptions(time_limit_s=60, workers=2), 60)
    assert solver.solve(b.model) == cp_model.OPTIMAL
    assert b.pools is not None
    raw = {v.name: int(solver.value(v)) for v in [*b.x.values(), *b.s.values()]}
    sol = solution_of(b, solver)
    back = site_pool.collapse(b.pools, sol, len(fleet_4x2.periods))
    assert {k: back.get(k, 0) for k in raw} == raw

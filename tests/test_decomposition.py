"""The decomposition (planner.solve.blocks, columns, price_and_branch, decomposition): the bound
never exceeds the optimum, and every plan is a plan of the whole model with the cost it claims.

Small random covering models (purchases shared by jobs with whole replicas) are checked
against CP-SAT's proven optimum; the fleet fixture against the full pipeline's."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ortools.sat.python import cp_model

from planner.solve import columns, decomposition, price_and_branch, submodel
from planner.solve.blocks import blocks_of
from planner.solve.problem import Problem
from planner.solve.run import SolverOptions, solve_problem
from tests.conftest import objective_when_fixed

ONE = SolverOptions(time_limit_s=20, workers=1)


def random_model(draw: st.DrawFn) -> tuple[cp_model.CpModel, list[np.ndarray], list[cp_model.IntVar]]:
    """Groups bought in whole purchases (n_g) of several units each, jobs meeting a demand with
    whole replicas that use units of one group each (capacity: Σ units·x ≤ size_g·n_g), and
    maybe a job choosing one pool. Lumpy purchases leave the LP buying fractions."""
    model = cp_model.CpModel()
    groups = draw(st.integers(1, 2))
    bought = [model.new_int_var(0, draw(st.integers(2, 8)), f"n{g}") for g in range(groups)]
    size = [draw(st.integers(1, 8)) for _ in range(groups)]
    cost = [(v, draw(st.integers(5, 100))) for v in bought]
    use: list[list[tuple[cp_model.IntVar, int]]] = [[] for _ in range(groups)]
    jobs = []
    for j in range(draw(st.integers(1, 3))):
        replicas = []
        for i in range(draw(st.integers(1, 3))):
            x = model.new_int_var(0, draw(st.integers(1, 4)), f"x{j}_{i}")
            use[draw(st.integers(0, groups - 1))].append((x, draw(st.integers(1, 3))))
            cost.append((x, draw(st.integers(0, 3))))
            replicas.append((x, draw(st.integers(1, 7))))
        model.add(sum(w * x for x, w in replicas) >= draw(st.integers(1, 12)))
        jobs.append(np.array([x.index for x, _ in replicas]))
    if draw(st.booleans()):
        pools = [model.new_bool_var(f"y{i}") for i in range(draw(st.integers(1, 3)))]
        for y in pools:
            use[draw(st.integers(0, groups - 1))].append((y, draw(st.integers(1, 3))))
            cost.append((y, draw(st.integers(0, 20))))
        model.add(sum(pools) == 1)  # a linear row, as the builder writes it
        jobs.append(np.array([y.index for y in pools]))
    for g in range(groups):
        if use[g]:
            model.add(sum(k * x for x, k in use[g]) <= size[g] * bought[g])
    model.minimize(sum(c * v for v, c in cost))
    return model, jobs, bought


@st.composite
def models(draw: st.DrawFn) -> tuple[cp_model.CpModel, list[np.ndarray], list[cp_model.IntVar]]:
    return random_model(draw)


def optimum(model: cp_model.CpModel) -> float | None:
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    status = solver.solve(model)
    assert status in (cp_model.OPTIMAL, cp_model.INFEASIBLE)
    return solver.objective_value if status == cp_model.OPTIMAL else None


def satisfies(rows: submodel.Rows, values: np.ndarray) -> bool:
    for r, domain in enumerate(rows.domains):
        lo, hi = rows.starts[r], rows.starts[r + 1]
        total = int(np.dot(rows.coefs[lo:hi], values[rows.cols[lo:hi]]))
        if not any(domain[i] <= total <= domain[i + 1] for i in range(0, len(domain), 2)):
            return False
    return all(
        any(d[i] <= value <= d[i + 1] for i in range(0, len(d), 2))
        for d, value in zip(rows.var_domains, values.tolist(), strict=True)
    )


@settings(max_examples=60, deadline=None)
@given(case=models())
def test_bound_and_plans_against_the_optimum(
    case: tuple[cp_model.CpModel, list[np.ndarray], list[cp_model.IntVar]],
) -> None:
    """The bound, with and without branching on the purchases, never exceeds the optimum
    (branching never lowers it); every plan (the rounded root LP, and price-and-branch from
    it) is feasible at the cost it claims."""
    model, jobs, bought = case
    best = optimum(model)
    rows = submodel.rows_of(model)
    blocks, local = blocks_of(rows, jobs)
    assert len(blocks) == len(jobs)  # every demand row and the pool choice are blocks
    found = columns.generate(rows, blocks, local, time_limit_s=10)
    purchases = [np.array([v.index]) for v in bought]
    lumps = [*purchases, np.concatenate(purchases)] if len(purchases) > 1 else purchases
    branched = columns.generate(rows, blocks, local, time_limit_s=10, lumps=lumps, branch_s=10)
    if best is None:
        return  # infeasible: whatever the bound says, no plan can claim it
    assert found.bound is not None and found.bound <= best + 1e-6
    assert branched.bound is not None and found.bound - 1e-6 <= branched.bound <= best + 1e-6
    quick = price_and_branch.rounded(rows, found, ONE, 10)
    plan = price_and_branch.search(rows, found, local, ONE, 10, start=quick[0] if quick is not None else None)
    for found_plan in (quick, plan):
        if found_plan is not None:
            values, cost = found_plan
            assert satisfies(rows, values)
            assert cost == int(np.dot(rows.objective_coefs, values[rows.objective_cols]) + rows.objective_offset)
            assert cost >= round(best)


def test_blocks_are_rows_of_one_job_alone() -> None:
    """A demand row is a block; a row tying two jobs, and one with a shared variable, are not;
    nor is a job row whose variable sits in a second row of that job."""
    model = cp_model.CpModel()
    a = [model.new_int_var(0, 3, f"a{i}") for i in range(2)]
    b = [model.new_int_var(0, 3, f"b{i}") for i in range(2)]
    c = model.new_int_var(0, 3, "c")
    n = model.new_int_var(0, 9, "n")
    model.add(2 * a[0] + 3 * a[1] >= 4)  # 0: block of job a
    model.add(b[0] + b[1] >= 2)  # 1: job b, but b[0] is also in row 2
    model.add(b[0] <= 2)  # 2: job b again
    model.add(a[0] + b[1] + c <= n)  # 3: shared (two jobs and a purchase)
    model.add(c >= 1)  # 4: job c alone, a cover
    model.minimize(n + a[0] + a[1] + b[0] + b[1] + c)
    rows = submodel.rows_of(model)
    jobs = [np.array([v.index for v in a]), np.array([v.index for v in b]), np.array([c.index])]
    blocks, local = blocks_of(rows, jobs)
    assert [blk.row for blk in blocks] == [0, 4]
    assert blocks[0].weights == (2, 3) and blocks[0].need == 4 and blocks[0].upper == (3, 3)
    assert local.tolist() == [True, False, False, False, True]


def test_the_bound_survives_a_stopped_search() -> None:
    """Stopped before its first LP: no bound is claimed, and no plan is searched for."""
    model = cp_model.CpModel()
    x = model.new_int_var(0, 5, "x")
    n = model.new_int_var(0, 5, "n")
    model.add(3 * x >= 7)
    model.add(x <= n)
    model.minimize(10 * n + x)
    rows = submodel.rows_of(model)
    blocks, local = blocks_of(rows, [np.array([x.index])])
    stop = threading.Event()
    stop.set()
    found = columns.generate(rows, blocks, local, time_limit_s=10, stop=stop)
    assert found.bound is None and found.iterations == 0
    done = columns.generate(rows, blocks, local, time_limit_s=10)
    assert done.converged and done.bound == pytest.approx(33.0)  # x = 3 whole replicas, n = 3


def test_branching_on_a_lump_closes_the_gap_a_fractional_purchase_leaves() -> None:
    """One replica (3 units) on a group bought 10 units at a time for 100: the LP buys 0.3 of a
    purchase (bound 31); branching "none" / "at least one" proves 101, the optimum."""
    model = cp_model.CpModel()
    x = model.new_int_var(0, 4, "x")
    n = model.new_int_var(0, 3, "n")
    model.add(2 * x >= 2)
    model.add(3 * x <= 10 * n)
    model.minimize(100 * n + x)
    rows = submodel.rows_of(model)
    blocks, local = blocks_of(rows, [np.array([x.index])])
    root = columns.generate(rows, blocks, local, time_limit_s=10)
    assert root.bound == pytest.approx(31.0)
    branched = columns.generate(rows, blocks, local, time_limit_s=10, lumps=[np.array([n.index])], branch_s=10)
    assert branched.bound == pytest.approx(101.0) and branched.nodes == 3
    assert optimum(model) == pytest.approx(101.0)


def test_fleet_plan_and_bound(fleet_problem: Problem) -> None:
    best = solve_problem(fleet_problem, SolverOptions(time_limit_s=60, workers=1))
    assert best.status == "OPTIMAL" and best.objective_value is not None
    result = decomposition.search(fleet_problem, ONE)
    assert result.status in ("OPTIMAL", "FEASIBLE")
    assert result.best_bound is not None and result.objective_value is not None
    assert result.best_bound <= best.objective_value <= result.objective_value
    assert objective_when_fixed(fleet_problem, result.solution) == result.objective_value

"""planner.solve.submodel: the model over a few free variables, the rest held at a plan.

Checked against brute force: over random small models, the restricted model's optimum equals
the cheapest completion found by enumerating every value of the free variables, and its
solution, written back, satisfies every row of the whole model."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ortools.sat.python import cp_model

from planner.solve import submodel


def _solve(model: cp_model.CpModel) -> tuple[int, cp_model.CpSolver]:
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 10
    return solver.solve(model), solver


def _rows_hold(model: cp_model.CpModel, values: np.ndarray) -> bool:
    for ct in model.proto.constraints:
        total = sum(c * int(values[v]) for v, c in zip(ct.linear.vars, ct.linear.coeffs, strict=True))
        ends = list(ct.linear.domain)
        if not any(lo <= total <= hi for lo, hi in zip(ends[::2], ends[1::2], strict=True)):
            return False
    return True


def _objective(model: cp_model.CpModel, values: np.ndarray) -> int:
    o = model.proto.objective
    return round(o.offset) + sum(c * int(values[v]) for v, c in zip(o.vars, o.coeffs, strict=True))


def _small_model() -> tuple[cp_model.CpModel, list[cp_model.IntVar]]:
    """Two jobs (a, b) on one part: units u ≥ 2a + 3b, a ≥ 1, b ≥ 1; cost 5u + a + b."""
    m = cp_model.CpModel()
    a, b, u = (m.new_int_var(0, 5, name) for name in ("a", "b", "u"))
    m.add(u >= 2 * a + 3 * b).with_name("capacity:part")
    m.add(a >= 1).with_name("demand:a")
    m.add(b >= 1).with_name("demand:b")
    m.add(a + b <= 6).with_name("held:only")
    m.minimize(5 * u + a + b + 7)
    return m, [a, b, u]


def test_held_variables_fold_into_bounds_and_rows_without_a_free_one_go() -> None:
    model, _ = _small_model()
    rows = submodel.rows_of(model)
    plan = np.array([2, 1, 7])  # a = 2, b = 1, u = 7: cost 35 + 3 + 7 = 45
    free = np.array([True, False, True])  # b held
    small, idx = submodel.restricted(rows, plan, free, below=45)
    assert list(idx) == [0, 2]
    assert [ct.name for ct in small.proto.constraints] == ["capacity:part", "demand:a", "held:only"]
    capacity = small.proto.constraints[0]
    assert capacity.linear.domain[0] == 3  # u − 2a − 3b ≥ 0 with b = 1: u − 2a ≥ 3
    assert small.proto.objective.offset == 7 + 1  # the held b's cost joins the offset
    code, solver = _solve(small)
    assert code == cp_model.OPTIMAL and solver.objective_value == 5 * 5 + 1 + 1 + 7  # a = 1, u = 5
    whole = plan.copy()
    whole[idx] = list(solver.response_proto.solution)
    assert _rows_hold(model, whole) and _objective(model, whole) == solver.objective_value


def test_only_strictly_cheaper_plans_are_feasible() -> None:
    model, _ = _small_model()
    rows = submodel.rows_of(model)
    optimum = np.array([1, 1, 5])  # cost 25 + 2 + 7 = 34
    small, _ = submodel.restricted(rows, optimum, np.array([True, True, True]), below=34)
    assert _solve(small)[0] == cp_model.INFEASIBLE
    small, _ = submodel.restricted(rows, optimum, np.array([True, True, True]), below=35)
    code, solver = _solve(small)
    assert code == cp_model.OPTIMAL and solver.objective_value == 34


def test_rows_without_terms_do_not_shift_their_neighbours() -> None:
    m = cp_model.CpModel()
    x, y = m.new_int_var(0, 9, "x"), m.new_int_var(0, 9, "y")
    m.add(x >= 2).with_name("first")
    m.add(cp_model.LinearExpr.sum([]) <= 0).with_name("empty")  # a row with no terms
    m.add(x + y >= 5).with_name("last")
    m.minimize(x + y)
    rows = submodel.rows_of(m)
    small, _ = submodel.restricted(rows, np.array([2, 4]), np.array([False, True]), below=7)
    assert [ct.name for ct in small.proto.constraints] == ["last"]
    assert small.proto.constraints[0].linear.domain[0] == 3  # y ≥ 5 − 2
    code, solver = _solve(small)
    assert code == cp_model.OPTIMAL and solver.objective_value == 5


def test_a_conditional_row_is_refused() -> None:
    m = cp_model.CpModel()
    x, on = m.new_int_var(0, 9, "x"), m.new_bool_var("on")
    m.add(x >= 2).only_enforce_if(on).with_name("if_on")
    m.minimize(x)
    with pytest.raises(ValueError, match="if_on"):
        submodel.rows_of(m)


@st.composite
def _instances(draw: st.DrawFn) -> tuple[list[list[int]], list[int], list[int], list[int], list[bool]]:
    """Rows Σ a·x ≥ lo over 4 variables in 0..3, a feasible plan, costs and a free mask."""
    n = 4
    plan = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    matrix = draw(st.lists(st.lists(st.integers(-3, 3), min_size=n, max_size=n), min_size=1, max_size=4))
    slack = draw(st.lists(st.integers(0, 4), min_size=len(matrix), max_size=len(matrix)))
    lows = [sum(a * v for a, v in zip(row, plan, strict=True)) - s for row, s in zip(matrix, slack, strict=True)]
    costs = draw(st.lists(st.integers(0, 9), min_size=n, max_size=n))
    free = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    return matrix, lows, plan, costs, free


@settings(max_examples=60, deadline=None)
@given(_instances())
def test_matches_brute_force_over_the_free_variables(
    instance: tuple[list[list[int]], list[int], list[int], list[int], list[bool]],
) -> None:
    matrix, lows, plan, costs, free = instance
    m = cp_model.CpModel()
    xs = [m.new_int_var(0, 3, f"x{i}") for i in range(len(plan))]
    for r, (row, lo) in enumerate(zip(matrix, lows, strict=True)):
        m.add(sum(a * x for a, x in zip(row, xs, strict=True)) >= lo).with_name(f"row:{r}")
    m.minimize(sum(c * x for c, x in zip(costs, xs, strict=True)))
    start = np.array(plan, dtype=np.int64)
    value = _objective(m, start)
    small, idx = submodel.restricted(submodel.rows_of(m), start, np.array(free), below=value)

    best = None  # brute force: every value of the free variables, the rest held
    for choice in itertools.product(range(4), repeat=len(idx)):
        whole = start.copy()
        whole[idx] = choice
        if _rows_hold(m, whole) and _objective(m, whole) < value:
            best = min(best, _objective(m, whole)) if best is not None else _objective(m, whole)

    code, solver = _solve(small)
    if best is None:
        assert code == cp_model.INFEASIBLE
        return
    assert code == cp_model.OPTIMAL and round(solver.objective_value) == best
    whole = start.copy()
    whole[idx] = list(solver.response_proto.solution)
    assert _rows_hold(m, whole) and _objective(m, whole) == best

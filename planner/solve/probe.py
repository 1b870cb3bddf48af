"""Single quick solves that explain, repair and sensitivity ask of a problem.

Each probe builds a fresh model (so probes never leak constraints into each other), uses the
caller's explicit solver settings through :func:`make_solver`, and returns a status value.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from ortools.sat.python import cp_model

from planner.solve import interrupt
from planner.solve.builder import Builder
from planner.solve.families import FAMILIES
from planner.solve.objective import stages
from planner.solve.problem import Problem
from planner.solve.run import SolverOptions, make_solver, solution_of
from planner.solve.run import hint as set_hint

log = logging.getLogger(__name__)

STRUCTURAL = ("capacity:",)
"""Linking constraints are modelling, not user constraints: always enforced, never blamed or dropped."""

_STATUS: dict[int, str] = {
    int(cp_model.OPTIMAL): "OPTIMAL",
    int(cp_model.FEASIBLE): "FEASIBLE",
    int(cp_model.INFEASIBLE): "INFEASIBLE",
}
"""By CP-SAT status code, as :func:`interrupt.solve` returns it."""


@dataclass(frozen=True)
class Probe:
    status: str
    """OPTIMAL, FEASIBLE, INFEASIBLE or UNKNOWN (time limit, never a proof either way)."""
    value: float | None = None
    """The probe's objective in the model's integer units (None without one)."""
    solution: dict[str, int] | None = None
    """The plan found, by variable name, when the caller asked to keep it."""

    @property
    def feasible(self) -> bool:
        return self.status in ("OPTIMAL", "FEASIBLE")

    @property
    def infeasible(self) -> bool:
        return self.status == "INFEASIBLE"


def model(
    problem: Problem,
    *,
    without: Iterable[str] = (),
    only: Iterable[str] | None = None,
    relax: str | None = None,
    compact: bool = False,
) -> Builder:
    """The model with every named constraint on, except those in ``without`` (or all but ``only``);
    ``compact``: with the exact reductions of solving (see Builder.compact)."""
    drop = set(without)
    keep = set(only) if only is not None else None
    explain = bool(drop) or keep is not None
    b = Builder(problem, explain=explain, relax=relax, compact=compact)
    b.make_variables()
    for family in FAMILIES:
        family(b)
    if explain:
        for name, lit in b.literals.items():
            on = name.startswith(STRUCTURAL) or (name not in drop and (keep is None or name in keep))
            b.model.add(lit == int(on))
    return b


def solve(
    b: Builder,
    options: SolverOptions,
    objective: object | None = None,
    maximize: bool = False,
    hint: dict[str, int] | None = None,
    keep: bool = False,
) -> Probe:
    if interrupt.requested():  # after a Ctrl-C no new search starts; callers read this as unsure
        return Probe("UNKNOWN")
    if objective is not None:
        if maximize:
            b.model.maximize(objective)  # type: ignore[arg-type]
        else:
            b.model.minimize(objective)  # type: ignore[arg-type]
    if hint:
        set_hint(b, hint)
    solver = make_solver(options, options.time_limit_s)
    code = interrupt.solve(solver, b.model)
    status = _STATUS.get(code, "UNKNOWN")
    found = status in ("OPTIMAL", "FEASIBLE")
    value = solver.objective_value if objective is not None and found else None
    kept = solution_of(b, solver) if keep and found else None
    return Probe(status, value, kept)


def feasibility(
    problem: Problem,
    options: SolverOptions,
    *,
    without: Iterable[str] = (),
    only: Iterable[str] | None = None,
    hint: dict[str, int] | None = None,
) -> Probe:
    """Is there any plan with these constraints on? (``hint``: a plan that may already be one.)"""
    return solve(model(problem, without=without, only=only), options, hint=hint)


def optimum(
    problem: Problem, options: SolverOptions, *, without: Iterable[str] = (), hint: dict[str, int] | None = None
) -> Probe:
    """The workload's own objective (stage 1 only: tie-breaks do not change its value).

    ``hint``: a solution by variable name (e.g. the plan's), a good start when ``problem`` only
    relaxes the one it came from."""
    b = model(problem, without=without)
    first = stages(b)[0]
    return solve(b, options, first.expr, first.maximize, hint)


def smallest_move(problem: Problem, name: str, options: SolverOptions) -> Probe:
    """The least Δ (integer units of the constraint) by which ``name``'s limit must move, all else
    held; with the plan that needs it (checking the moved limit can start from it)."""
    b = model(problem, relax=name, compact=True)  # one relaxed limit, every other on: solve it compactly
    if name not in b.relaxations:
        return Probe("UNKNOWN")
    return solve(b, options, b.relaxations[name], keep=True)

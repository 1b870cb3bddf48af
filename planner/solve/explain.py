"""Why no plan exists: a minimal set of named constraints that cannot all hold.

Every user constraint sits behind one assumption literal. CP-SAT returns a sufficient set of
assumptions for infeasibility; deletion then drops each member whose removal keeps the model
infeasible, so every name left is needed (a minimal, not necessarily minimum, core).
"""

from __future__ import annotations

import logging

from ortools.sat.python import cp_model

from planner.models.plan import Explanation
from planner.solve.problem import Problem
from planner.solve.run import SolverOptions, build, make_solver

log = logging.getLogger(__name__)

STRUCTURAL = ("capacity:",)
"""Linking constraints are modelling, not user constraints: always enforced, never blamed."""


def _infeasible(model: cp_model.CpModel, literals: list[cp_model.IntVar], options: SolverOptions) -> tuple[bool, list[int]]:
    model.clear_assumptions()
    model.add_assumptions(literals)
    solver = make_solver(SolverOptions(options.time_limit_s, 1, options.seed), max(0.5, options.time_limit_s / 4))
    status = solver.solve(model)
    if status == cp_model.INFEASIBLE:
        return True, list(solver.sufficient_assumptions_for_infeasibility())
    return False, []


def minimal_core(problem: Problem, options: SolverOptions) -> list[str] | None:
    """Names of a minimal conflicting set, or None if the model is not infeasible."""
    b = build(problem, explain=True)
    for name, lit in b.literals.items():
        if name.startswith(STRUCTURAL):
            b.model.add(lit == 1)
    names = sorted(n for n in b.literals if not n.startswith(STRUCTURAL))
    lits = [b.literals[n] for n in names]
    infeasible, core_idx = _infeasible(b.model, lits, options)
    if not infeasible:
        return None
    by_index = {lit.index: name for name, lit in zip(names, lits, strict=True)}
    core = sorted({by_index[i] for i in core_idx if i in by_index}) or names
    for name in list(core):
        trial = [n for n in core if n != name]
        still, _ = _infeasible(b.model, [b.literals[n] for n in trial], options)
        if still:
            core = trial
    return core


def describe(problem: Problem, name: str) -> str:
    """One phrase per constraint name, for the sentence a person reads."""
    for cap in problem.power_caps:
        if cap.name == name:
            return f"the {cap.max_kw:,.0f} kW power cap ({name})"
    for floor in problem.share_floors:
        if floor.name == name:
            return f"{floor.description} of {max(floor.min_by_period):.0%} by {floor.measure} ({name})"
    for ucap in problem.unit_caps:
        if ucap.name == name:
            return f"{ucap.description}: at most {ucap.max_units:,} units ({name})"
    for tie in problem.tie_ins:
        if tie.name == name:
            return f"{tie.description}: ratio {tie.ratio:g} ({name})"
    if name == "budget:total" and problem.budget_total is not None:
        return f"the total budget of {problem.budget_total:,.0f} USD ({name})"
    if name == "budget:capex" and problem.budget_capex is not None:
        return f"the capex budget of {problem.budget_capex:,.0f} USD ({name})"
    if name.startswith("demand:"):
        job_name = name.split(":", 1)[1]
        job = problem.jobs.get(job_name) or next(iter(problem.jobs.values()))
        if job.kind == "inference":
            return f"serving {max(job.required_rps):g} requests/s of '{job.name}' under its SLO ({name})"
        return f"training '{job.name}' within {job.deadline_days:g} days ({name})"
    if problem.hedge is not None and name == problem.hedge.name:
        return f"the hedge: {problem.hedge.description} ({name})"
    if name in problem.ban_reasons:
        return f"{problem.ban_reasons[name]} ({name})"
    return name


def explain(problem: Problem, options: SolverOptions) -> Explanation:
    if not problem.candidates:
        reasons = problem.excluded[:8]
        return Explanation(
            summary="no accelerator in the catalog can run this workload at all",
            core=[],
            details=reasons,
        )
    core = minimal_core(problem, options)
    if core is None:
        return Explanation(summary="the model is infeasible but no conflicting set was isolated in time")
    phrases = [describe(problem, n) for n in core]
    if len(phrases) == 1:
        summary = f"{phrases[0]} cannot hold"
    else:
        summary = ", ".join(phrases[:-1]) + f" and {phrases[-1]} cannot all hold"
    return Explanation(summary=summary, core=core, details=problem.excluded[:8])

"""Large-neighbourhood search: make a plan cheaper by re-planning a few jobs at a time.

On large multi-period fleets CP-SAT's own search of the whole model finds few plans, and the
shortlist models cannot go below their own optimum (200 x 12: the 30 % shortlist proves
77.55M, about 1 % above the whole model's). This search starts from such a plan and repeats one
step: pick a job and a few others that use one of its offers, hold every other job's serving
and training choices where they are, and solve the whole model for a strictly cheaper plan.
Purchases, rentals and site placement stay free, so the chosen jobs can move to other parts,
sites or periods, rent instead of buy, and share units with the rest of the fleet.

Each step is a small search (most variables fixed, so presolve removes them), and every plan
it returns is a plan of the whole model. It proves no bound. Measured on 200 x 12 (20 s from
the 78.2M side-by-side plan, 2026-11-21): 6 jobs a step, 0.5 s each: 77.7-77.8M; 10 or 20
jobs a step: 77.9-78.0M; 40: 78.1M.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import replace

from ortools.sat.python import cp_model

from planner.solve import interrupt
from planner.solve.builder import Builder
from planner.solve.objective import stages
from planner.solve.problem import Problem
from planner.solve.run import (
    Incumbent,
    SolveResult,
    SolverOptions,
    build,
    hint_values,
    in_model,
    make_solver,
    objective_below,
    per_site,
    values_of,
    variables,
)

log = logging.getLogger(__name__)

JOBS_PER_STEP = 6
STEP_S = 0.5
"""Wall seconds one step may search."""
STALL_STEPS = 10
"""Steps in a row without a cheaper plan after which the search gives up (small fleets: their
plans are near optimal already and the time is better spent proving a bound)."""

Choices = dict[str, list[tuple[str, str]]]
"""Per job: its serving (x) and training (y) variables by name, each with its offer."""


def improve(
    problem: Problem, start: Incumbent, options: SolverOptions, stop: threading.Event | None = None
) -> SolveResult:
    """The cheapest plan found from ``start`` within ``options.time_limit_s`` (or until ``stop``
    is set, STALL_STEPS steps fail in a row, or Ctrl-C): status FEASIBLE, no bound. For
    minimising first stages."""
    began = time.perf_counter()
    b = build(problem, compact=True)
    first = stages(b)[0]
    b.model.minimize(first.expr)
    by_name = variables(b)
    current, value = in_model(b, start.solution), start.value
    choices = _choices(b)
    jobs = sorted(choices)
    rng = random.Random(options.seed)
    one = replace(options, workers=1)
    # every job's choices held at the plan; a step copies this and frees a few jobs again
    held = b.model.clone()
    for job in jobs:
        _hold(held, by_name, choices[job], current)
    steps = better = stalled = 0
    while jobs and stalled < STALL_STEPS and not interrupt.requested() and not (stop is not None and stop.is_set()):
        left = options.time_limit_s - (time.perf_counter() - began)
        if left < STEP_S / 2:
            break
        steps += 1
        free = _neighbourhood(jobs, choices, current, rng)
        model = held.clone()
        for job in free:
            for name, _ in choices[job]:
                domain = model.proto.variables[by_name[name].index].domain
                domain.clear()
                domain.extend(b.model.proto.variables[by_name[name].index].domain)
        objective_below(model, value)
        hint_values(model, by_name, current)
        solver = make_solver(one, min(STEP_S, left))
        code = interrupt.solve(solver, model)
        if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            current = values_of(solver, by_name)
            value = round(solver.objective_value)
            for job in free:
                _hold(held, by_name, choices[job], current)
            better += 1
            stalled = 0
        else:
            stalled += 1
    log.info("neighbourhood search: %d steps, %d cheaper plans, %d USD", steps, better, value)
    spent = time.perf_counter() - began
    return SolveResult(
        status="FEASIBLE",
        solution=per_site(b, current) if better else dict(start.solution),
        objective_value=float(value),
        best_bound=None,
        solve_time_s=spent,
        wall_time_s=spent,
        stages=[first.name],
        builder=b,
        interrupted=interrupt.requested(),
        stage_values={first.name: float(value)},
        workers=1,
    )


def _hold(
    model: cp_model.CpModel, by_name: dict[str, cp_model.IntVar], names: list[tuple[str, str]], at: dict[str, int]
) -> None:
    """Fix these variables of ``model`` to their values in ``at``."""
    for name, _ in names:
        domain = model.proto.variables[by_name[name].index].domain
        domain.clear()
        domain.extend([at[name], at[name]])


def _choices(b: Builder) -> Choices:
    p = b.problem
    out: Choices = {}
    for key, t in b.x:
        c = p.candidates[key]
        out.setdefault(c.job, []).append((f"x:{key}@{t}", p.groups[c.group].offer))
    for key in b.y:
        c = p.candidates[key]
        out.setdefault(c.job, []).append((f"y:{key}", p.groups[c.group].offer))
    return out


def _neighbourhood(jobs: list[str], choices: Choices, current: dict[str, int], rng: random.Random) -> set[str]:
    """A random job and up to JOBS_PER_STEP − 1 others that now use one of its offers (jobs
    that share units are the ones whose joint re-planning can save)."""
    offers = {job: {offer for name, offer in choices[job] if current[name]} for job in jobs}
    seed = rng.choice(jobs)
    related = [j for j in jobs if j != seed and offers[j] & offers[seed]]
    return {seed, *rng.sample(related, min(JOBS_PER_STEP - 1, len(related)))}

"""Large-neighbourhood search: make a plan cheaper by re-planning a few jobs at a time.

The decomposition (planner.solve.decomposition) finds its plans over a fixed set of replica
patterns; once it has proved the best plan over them, with time left (10 x 12 and smaller
fleets), this search continues from that plan. It repeats one step: pick a job and a few
others that use one of its offers, hold every other job's serving and training choices where
they are, and solve the whole model for a strictly cheaper plan. Purchases, rentals and site
placement stay free, so the chosen jobs can move to other parts, sites or periods, rent
instead of buy, and share units with the rest of the fleet. Until the decomposition, it was
the large fleets' main source of plans, from the wider shortlist's (figures below).

Each step solves only the free variables (planner.solve.submodel folds the held ones into
the rows), and every plan it returns is a plan of the whole model. It proves no bound.

Measured on 200 x 12, 15 s from the wide shortlist's 77.99M plan (2026-11-21, three seeds
each). When each step cloned the whole model with the other jobs held, a step spent 0.23-0.35 s
in presolve and the root LP before its first plan: 6 jobs a step, 0.5 s each, gave 77.54-77.77M.
4 jobs at 0.5 s gave 77.50-77.64M, 3 jobs at 0.3 s 77.53-77.59M. With the small model the
first plan comes at about 0.09 s: 4 jobs at 0.3 s gave 77.61-77.63M. Alone that is within the
seed-to-seed spread, but in the full 30 s search, run alternately at the same load with the old
code (6 jobs, 0.5 s, clones), it gave 1.37 and 1.67 % where the old code gave 1.57 and 2.53 %.
Worse: larger neighbourhoods (6 jobs at 0.3 s: 77.60-77.66M; earlier, from a 78.2M plan,
10-40 jobs: 77.9-78.1M); sizing each step by whether the last was proved (grow) or stopped by
the clock (shrink): 77.64-77.71M; whole periods (every job's serving in one period free):
77.99M to 77.98M in 12 steps of up to 1 s.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import replace

import numpy as np
from ortools.sat.python import cp_model

from planner.solve import interrupt, submodel
from planner.solve.job_variables import Choices, job_variables
from planner.solve.objective import stages
from planner.solve.problem import Problem
from planner.solve.run import (
    Incumbent,
    SolveResult,
    SolverOptions,
    build,
    in_model,
    make_solver,
    per_site,
    variables,
)

log = logging.getLogger(__name__)

JOBS_PER_STEP = 4
STEP_S = 0.3
"""Wall seconds one step may search."""
STALL_S = 5.0
"""Seconds without a cheaper plan after which the search gives up (small fleets: their plans
are near optimal already and the time is better spent proving a bound). A count of failed steps
(10 of 0.5 s) did this before; with 0.3 s steps that small fleets often prove in less, a count
let 10 x 12 run its steps to the end of the limit."""


def improve(
    problem: Problem, start: Incumbent, options: SolverOptions, stop: threading.Event | None = None
) -> SolveResult:
    """The cheapest plan found from ``start`` within ``options.time_limit_s`` (or until ``stop``
    is set, STALL_S pass without a cheaper plan, or Ctrl-C): status FEASIBLE, no bound. For
    minimising first stages."""
    began = time.perf_counter()
    b = build(problem, compact=True)
    first = stages(b)[0]
    b.model.minimize(first.expr)
    by_name = variables(b)
    rows = submodel.rows_of(b.model)
    start_values = in_model(b, start.solution)
    values = np.zeros(len(b.model.proto.variables), dtype=np.int64)
    for name, var in by_name.items():
        values[var.index] = start_values[name]
    value = start.value
    choices = job_variables(b)
    jobs = sorted(choices)
    # purchases, rentals, placements (and a hedge's re-allocations) are free in every step
    shared = np.ones(len(values), dtype=bool)
    for indices, _ in choices.values():
        shared[indices] = False
    rng = random.Random(options.seed)
    one = replace(options, workers=1)
    steps = better = 0
    last_better = time.perf_counter()
    while (
        jobs
        and time.perf_counter() - last_better < STALL_S
        and not interrupt.requested()
        and not (stop is not None and stop.is_set())
    ):
        left = options.time_limit_s - (time.perf_counter() - began)
        if left < STEP_S / 2:
            break
        steps += 1
        free = shared.copy()
        for job in _neighbourhood(jobs, choices, values, rng):
            free[choices[job][0]] = True
        model, idx = submodel.restricted(rows, values, free, value)
        solver = make_solver(one, min(STEP_S, left))
        code = interrupt.solve(solver, model)
        if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            values[idx] = list(solver.response_proto.solution)
            value = round(solver.objective_value)
            better += 1
            last_better = time.perf_counter()
    log.info("neighbourhood search: %d steps, %d cheaper plans, %d USD", steps, better, value)
    spent = time.perf_counter() - began
    current = {name: int(values[var.index]) for name, var in by_name.items()}
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


def _neighbourhood(jobs: list[str], choices: Choices, values: np.ndarray, rng: random.Random) -> set[str]:
    """A random job and up to JOBS_PER_STEP − 1 others that now use one of its offers (jobs
    that share units are the ones whose joint re-planning can save)."""
    offers = {job: set(choices[job][1][values[choices[job][0]] != 0]) for job in jobs}
    seed = rng.choice(jobs)
    related = [j for j in jobs if j != seed and offers[j] & offers[seed]]
    return {seed, *rng.sample(related, min(JOBS_PER_STEP - 1, len(related)))}

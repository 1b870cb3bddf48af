"""How a prepared problem is solved: reduce exactly where possible, then solve.

First the model without dominated offer-sites (planner.solve.dominance); if its optimum is
provably optimal for the full model, that is the answer. Otherwise — the reduced model is
infeasible, not proven optimal, or a power cap could bind — the full model is solved, starting
from the reduced solution.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace

from planner.solve.builder import Builder
from planner.solve.dominance import dominated_sites, reduced, reduction_is_exact
from planner.solve.problem import Problem
from planner.solve.run import SolveResult, SolverOptions, solve_problem

log = logging.getLogger(__name__)

REDUCED_SHARE = 0.7
"""Share of the time limit the reduced model may use before the full model gets the rest."""


def _unit_costs(p: Problem) -> dict[str, list[float]]:
    b = Builder(p)
    return {k: [b.unit_cost(g, t) for t in range(len(p.periods))] for k, g in p.groups.items()}


def solve(problem: Problem, options: SolverOptions) -> tuple[Problem, SolveResult]:
    """Solve, returning the problem the result refers to (the reduced one when that was exact).

    Status, objective and bound then hold for the full model too: see reduction_is_exact."""
    dropped = dominated_sites(problem)
    if not dropped:
        return problem, solve_problem(problem, options)
    start = time.perf_counter()
    small = reduced(problem, dropped)
    first = solve_problem(small, replace(options, time_limit_s=options.time_limit_s * REDUCED_SHARE))
    found = first.status in ("OPTIMAL", "FEASIBLE") and first.objective_value is not None
    if first.interrupted:  # Ctrl-C: keep what the search found, start nothing new
        return small, first
    if found and reduction_is_exact(problem, first.objective_value or 0.0, _unit_costs(problem)):
        # the full optimum costs no more than this plan, so it cannot fill any site: the two
        # models have the same optimum and the reduced bound is a bound for the full model
        log.info("reduced model (%d offer-sites left out) is exact for the full model", len(dropped))
        return small, first
    log.info("reduced model not conclusive (%s); solving the full model", first.status)
    left = options.time_limit_s - (time.perf_counter() - start)
    full = solve_problem(problem, replace(options, time_limit_s=max(left, 0.05)), start_from=first.solution)
    full.solve_time_s += first.solve_time_s
    return problem, full

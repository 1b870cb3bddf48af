"""How a prepared problem is solved: a quick shortlist plan, then reduce exactly, then solve.

Large fleets over several periods first get a plan from the shortlist model (each job's few
cheapest layouts, planner.solve.shortlist) as the starting point. Then the model without
dominated offer-sites (planner.solve.dominance); if its optimum is provably optimal for the
full model, that is the answer. Otherwise — the reduced model is infeasible, not proven
optimal, or a power cap could bind — the full model is solved, keeping the best plan so far
unless it finds a cheaper one.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace

from planner.solve import shortlist
from planner.solve.builder import Builder
from planner.solve.dominance import dominated_sites, reduced, reduction_is_exact
from planner.solve.problem import Problem
from planner.solve.run import SolveResult, SolverOptions, solve_problem

log = logging.getLogger(__name__)

REDUCED_SHARE = 0.7
"""Share of the time limit the reduced model may use before the full model gets the rest."""
SHORTLIST_SHARES = (0.15, 0.3)
"""Share of the time limit each shortlist pass may use (see shortlist.PASSES)."""


def _unit_costs(p: Problem) -> dict[str, list[float]]:
    b = Builder(p)
    return {k: [b.unit_cost(g, t) for t in range(len(p.periods))] for k, g in p.groups.items()}


def solve(problem: Problem, options: SolverOptions) -> tuple[Problem, SolveResult]:
    """Solve, returning the problem the result refers to (the reduced one when that was exact).

    Status, objective and bound then hold for the full model too: see reduction_is_exact."""
    started = time.perf_counter()
    solved, result = _solve(problem, options)
    result.wall_time_s = time.perf_counter() - started  # every search above, one after another
    return solved, result


def _solve(problem: Problem, options: SolverOptions) -> tuple[Problem, SolveResult]:
    start = time.perf_counter()
    dropped = dominated_sites(problem)
    small = reduced(problem, dropped) if dropped else problem
    quick, spent = _shortlist_plan(small, options)
    if quick is not None and quick.interrupted:  # Ctrl-C: keep that plan; its bound says nothing here
        quick.best_bound = None
        quick.status = "FEASIBLE" if quick.status == "OPTIMAL" else quick.status
        quick.solve_time_s = spent
        return quick.builder.problem, quick
    options = replace(options, time_limit_s=max(options.time_limit_s - (time.perf_counter() - start), 0.05))
    incumbent = quick.incumbent() if quick is not None else None
    if not dropped:
        result = solve_problem(problem, options, incumbent=incumbent)
        result.solve_time_s += spent
        return problem, result
    start = time.perf_counter()
    first = solve_problem(
        small, replace(options, time_limit_s=options.time_limit_s * REDUCED_SHARE), incumbent=incumbent
    )
    first.solve_time_s += spent
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
    # the full model keeps the best plan so far unless it finds a cheaper one (or proves it optimal)
    incumbent = first.incumbent() or incumbent
    full = solve_problem(
        problem, replace(options, time_limit_s=max(left, 0.05)), start_from=first.solution, incumbent=incumbent
    )
    full.solve_time_s += first.solve_time_s
    return problem, full


def _shortlist_plan(problem: Problem, options: SolverOptions) -> tuple[SolveResult | None, float]:
    """The best plan of the shortlist models, narrowest first, each searching only for plans
    cheaper than the last (None when none applies or finds a plan; after a Ctrl-C, marked
    interrupted, possibly without a plan); and the solver seconds."""
    best: SolveResult | None = None
    spent = 0.0
    if not shortlist.applies(problem):
        return None, 0.0
    passes = shortlist.shortlists(problem, shortlist.PASSES)
    for within, small, share in zip(shortlist.PASSES, passes, SHORTLIST_SHARES, strict=True):
        if small is None:
            break
        incumbent = best.incumbent() if best is not None else None
        result = solve_problem(
            small, replace(options, time_limit_s=options.time_limit_s * share, tie_breaks=False), incumbent=incumbent
        )
        spent += result.solve_time_s
        log.info(
            "shortlist model, layouts within %.0f%% of each job's cheapest per origin (%d of %d candidates): %s %s",
            100 * (within - 1),
            len(small.candidates),
            len(problem.candidates),
            result.status,
            f"{result.objective_value:.0f} USD" if result.objective_value is not None else "(no plan)",
        )
        if result.status in ("OPTIMAL", "FEASIBLE"):
            best = result
        if result.interrupted:  # Ctrl-C: the plan in hand (if any) is the answer
            if best is None:
                return result, spent
            best.interrupted = True
            break
    return best, spent

"""How a prepared problem is solved: a quick shortlist plan, then reduce exactly, then solve.

Large fleets over several periods first get a plan from the shortlist model (each job's few
cheapest layouts, planner.solve.shortlist) as the starting point. With two or more workers a
whole-model search and the wider shortlist, then a neighbourhood search from its plan, run side
by side, one per core (:func:`_side_by_side`); with one, one after the other as follows. Then the model without
dominated offer-sites (planner.solve.dominance); if its optimum is provably optimal for the
full model, that is the answer. Otherwise — the reduced model is infeasible, not proven
optimal, or a power cap could bind — the full model is solved, keeping the best plan so far
unless it finds a cheaper one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from planner.solve import interrupt, neighbourhood, shortlist
from planner.solve.builder import Builder
from planner.solve.dominance import dominated_sites, reduced, reduction_is_exact
from planner.solve.problem import Problem
from planner.solve.run import SolveResult, SolverOptions, solve_problem

log = logging.getLogger(__name__)

REDUCED_SHARE = 0.7
"""Share of the time limit the reduced model may use before the full model gets the rest."""
SHORTLIST_SHARES = (0.25, 0.3)
"""Share of the time limit each shortlist pass may use (see shortlist.PASSES). The narrow plan is
the wide pass's cutoff, and the chain is sensitive to it. 200 x 12, 30 s (2026-11-21): stopped at
6 s, the narrow pass ended at 80.58M or 80.73M, and the wide pass then reached 77.99M or 78.24M
(1.33-1.69 % in the end, eight runs); stopped at 7.5 s, it ended at 80.58M in all four runs
that logged it (1.31-1.42 %). At 3 s: 83.81M, the wide pass 79.57M, 2.2-3.2 %."""


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
    deadline = start + options.time_limit_s
    dropped = dominated_sites(problem)
    small = reduced(problem, dropped) if dropped else problem
    exact = _exactness(problem, bool(dropped))
    passes: list[Pass] | None = None  # the shortlists, once ranked (None: _shortlist_plan ranks them)
    if options.workers >= 2 and shortlist.applies(small):
        narrow, wide = shortlist.shortlists(small, shortlist.PASSES)
        if narrow is not None and wide is not None:  # else the two searches would be one
            both = _side_by_side(small, options, exact, (narrow, wide))
            return _conclude(problem, small, exact, both, options, deadline)
        passes = list(zip(shortlist.PASSES, (narrow, wide), SHORTLIST_SHARES, strict=True))
    quick, spent = _shortlist_plan(small, options, passes)
    if quick is not None and quick.interrupted:  # Ctrl-C: that plan, without its shortlist's bound
        quick.solve_time_s = spent
        return _conclude(problem, small, exact, quick, options, deadline)
    options = replace(options, time_limit_s=max(options.time_limit_s - (time.perf_counter() - start), 0.05))
    incumbent = quick.incumbent() if quick is not None else None
    share = REDUCED_SHARE if dropped else 1.0  # the rest is for the full model, if needed
    first = solve_problem(small, replace(options, time_limit_s=options.time_limit_s * share), incumbent=incumbent)
    first.solve_time_s += spent
    return _conclude(problem, small, exact, first, options, deadline)


def _exactness(problem: Problem, dropped: bool) -> Callable[[float], bool]:
    """Whether a plan of a given cost makes the reduced model exact for ``problem``: the full
    optimum then costs no more, so it cannot fill any site; the two models have the same optimum
    and the reduced bound is a bound for the full model (planner.solve.dominance)."""
    costs = _unit_costs(problem) if dropped else {}
    return lambda value: not dropped or reduction_is_exact(problem, value, costs)


def _conclude(
    problem: Problem,
    small: Problem,
    exact: Callable[[float], bool],
    result: SolveResult,
    options: SolverOptions,
    deadline: float,
) -> tuple[Problem, SolveResult]:
    """After the reduced model ``small`` was searched: its answer where exact for the full
    model; after a Ctrl-C, the plan without a bound unless exact; else the full model, below the
    plan in hand, until ``deadline``."""
    found = result.status in ("OPTIMAL", "FEASIBLE") and result.objective_value is not None
    if found and result.builder.problem is small and exact(result.objective_value or 0.0):
        if small is not problem:
            left_out = len(problem.groups) - len(small.groups)
            log.info("reduced model (%d offer-sites left out) is exact for the full model", left_out)
        return small, result
    if result.interrupted:  # Ctrl-C: keep the plan; a bound of another model says nothing here
        if small is not problem or result.builder.problem is not small:
            result.best_bound = None
            result.status = "FEASIBLE" if result.status == "OPTIMAL" else result.status
        return result.builder.problem, result
    if small is problem:  # no plan: proven infeasible, or none found in time
        return small, result
    log.info("reduced model not conclusive (%s); solving the full model", result.status)
    left = max(deadline - time.perf_counter(), 0.05)
    full = solve_problem(problem, replace(options, time_limit_s=left), incumbent=result.incumbent())
    full.solve_time_s += result.solve_time_s
    return problem, full


def _side_by_side(
    problem: Problem, options: SolverOptions, exact: Callable[[float], bool], shortlists: tuple[Problem, Problem]
) -> SolveResult:
    """The narrow shortlist first; then two searches at once, one per core. One searches the
    whole model below the narrow plan (one worker, full LP). The other runs the wider
    shortlist, then improves its plan a few jobs at a time (planner.solve.neighbourhood), and
    if that stalls, searches the whole model below the improved plan. The answer is chosen by
    value, so it does not depend on which search ends first (but a search the clock stops, as
    on most large fleets, ends where the machine's speed put it).

    The whole-model searches mostly prove a bound, and a cutoff lets the LP fix variables by
    reduced cost (200 x 12, 20 s: bound 71.3M without one, 76.5M below a 95M one). One after
    the other, the bound got only what the shortlists left (200 x 12 in 30 s: 76.2M; side by
    side 76.6M). The answer is the cheapest plan with the better bound. The neighbourhood
    search took 50 x 12 from 21.4M to 21.2-21.3M and 200 x 12 from 78.0-78.2M to 77.6-77.7M
    (README, Performance).

    ``exact(value)``: whether a plan of that cost makes ``problem`` (a reduced model) exact.
    If the narrow plan does not, a share of the time is left for the full model. ``shortlists``:
    the narrow and the wide shortlist models of ``problem``."""
    start = time.perf_counter()
    narrow, wide = shortlists
    first, spent = _shortlist_plan(problem, options, [(shortlist.PASSES[0], narrow, SHORTLIST_SHARES[0])])
    if first is not None and first.interrupted:  # Ctrl-C: the narrow plan (if any), nothing more
        return first
    left = replace(options, time_limit_s=max(options.time_limit_s - (time.perf_counter() - start), 0.05), workers=1)
    if first is None or first.objective_value is None or not exact(first.objective_value):
        left = replace(left, time_limit_s=left.time_limit_s * REDUCED_SHARE)

    proved = threading.Event()

    def wider_then_improve() -> SolveResult | None:
        begin = time.perf_counter()

        def rest() -> SolverOptions:
            return replace(left, time_limit_s=max(left.time_limit_s - (time.perf_counter() - begin), 0.05))

        best, _ = _shortlist_plan(problem, options, [(shortlist.PASSES[1], wide, SHORTLIST_SHARES[1])], first)
        incumbent = best.incumbent() if best is not None else None
        if incumbent is None:  # no plan to improve or search below (the other search is that one)
            return None
        improved = neighbourhood.improve(problem, incumbent, rest(), stop=proved)
        result = improved
        if not proved.is_set() and not improved.interrupted and rest().time_limit_s > 0.5:
            # it stalled: the rest of the time searches the whole model below its plan
            result = solve_problem(problem, rest(), incumbent=improved.incumbent())
        result.solve_time_s = time.perf_counter() - begin
        return result

    log.info("searching the whole model side by side; Ctrl-C stops the searches and keeps the best plan found")
    with interrupt.guard(), ThreadPoolExecutor(2, thread_name_prefix="side-by-side") as pool:
        incumbent = first.incumbent() if first is not None else None
        at_once = pool.submit(solve_problem, problem, left, incumbent=incumbent)
        later = pool.submit(wider_then_improve)
        while not (at_once.done() and later.done()):  # short waits: the main thread takes Ctrl-C
            if at_once.done():  # its search is over (proven, or out of time): so is the other's
                proved.set()
            time.sleep(0.05)
        results = [r for r in (at_once.result(), later.result()) if r is not None]
    best = _combine(problem, results)
    best.solve_time_s += spent
    log.info("side by side: %s %s USD, bound %s", best.status, best.objective_value, best.best_bound)
    return best


def _combine(problem: Problem, results: list[SolveResult]) -> SolveResult:
    """Searches of the same ``problem`` run at once: the cheapest plan, the best bound of any.

    Each bound is a lower bound on every plan of ``problem``, so the highest holds (capped at
    the plan); when it reaches the plan, that plan is proven optimal."""
    found = [r for r in results if r.status in ("OPTIMAL", "FEASIBLE") and r.objective_value is not None]
    if not found:
        return results[0]
    best = min(found, key=lambda r: r.objective_value or 0.0)
    value = best.objective_value or 0.0
    bounds = [r.best_bound for r in results if r.best_bound is not None and r.builder.problem is problem]
    best.best_bound = min(max(bounds), value) if bounds else None
    if best.best_bound is not None and best.best_bound >= value - 0.5:  # objectives are whole USD
        best.status = "OPTIMAL"
    best.solve_time_s = max(r.solve_time_s for r in results)
    best.workers = len(results)
    best.interrupted = any(r.interrupted for r in results)
    return best


Pass = tuple[float, Problem | None, float]
"""(within, the shortlist model or None when it leaves nothing out, share of the time limit)."""


def _shortlist_plan(
    problem: Problem, options: SolverOptions, passes: list[Pass] | None = None, best: SolveResult | None = None
) -> tuple[SolveResult | None, float]:
    """The best plan of the shortlist models (all passes by default), narrowest first, each
    searching only for plans cheaper than the last (None when none applies or finds a plan;
    after a Ctrl-C, marked interrupted, possibly without a plan); and the solver seconds."""
    spent = 0.0
    if passes is None:
        if not shortlist.applies(problem):
            return None, 0.0
        models = shortlist.shortlists(problem, shortlist.PASSES)
        passes = list(zip(shortlist.PASSES, models, SHORTLIST_SHARES, strict=True))
    for within, small, share in passes:
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

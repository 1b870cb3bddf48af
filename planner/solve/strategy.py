"""How a prepared problem is solved: reduce exactly, search, and fall back to the full model.

First the model without dominated offer-sites (planner.solve.dominance). Large fleets over
several periods (shortlist.applies) are searched two ways. With two or more workers, side by
side, one per core (:func:`_side_by_side`): the whole model below the narrow shortlist's plan,
and the decomposition (planner.solve.decomposition: column generation's bound, and plans over
its replica patterns). With one worker, the decomposition first, then the whole model below
its plan. Other problems are searched whole. If the reduced model's answer is provably that of
the full model, it is the answer. Otherwise (the reduced model is infeasible, not proven
optimal, or a power cap could bind) the full model is solved, keeping the best plan so far
unless it finds a cheaper one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from planner.solve import decomposition, interrupt, neighbourhood, shortlist
from planner.solve.builder import Builder
from planner.solve.dominance import dominated_sites, reduced, reduction_is_exact
from planner.solve.problem import Problem
from planner.solve.run import SolveResult, SolverOptions, solve_problem

log = logging.getLogger(__name__)

REDUCED_SHARE = 0.7
"""Share of the time limit the reduced model may use before the full model gets the rest."""
DECOMPOSED_SHARE = 0.7
"""With one worker, share of the time limit for the decomposition (planner.solve.decomposition);
the whole model then searches below its plan for the rest (200 x 12: the decomposition's bound
is the better one, its plan the cheaper; smaller fleets can get their proof from the rest)."""
NARROW_SHARE = 0.25
"""Share of the time limit the narrow shortlist may use; its plan is the whole-model search's
cutoff. 200 x 12 (2026-11-21): 80.6-80.8M in 6-7.5 s."""


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
    decomposed: SolveResult | None = None
    if shortlist.applies(small):
        narrow = shortlist.shortlist(small, 1.0) if options.workers >= 2 else None
        if narrow is not None:  # else the whole-model search would have no plan to search below
            both = _side_by_side(small, options, exact, narrow)
            return _conclude(problem, small, exact, both, options, deadline)
        # one core: the decomposition's plan and bound first, then the whole model below it
        decomposed = decomposition.search(small, replace(options, time_limit_s=options.time_limit_s * DECOMPOSED_SHARE))
        if decomposed.interrupted:  # Ctrl-C: its plan (if any), without a bound of the full model
            return _conclude(problem, small, exact, decomposed, options, deadline)
    options = replace(options, time_limit_s=max(options.time_limit_s - (time.perf_counter() - start), 0.05))
    incumbent = decomposed.incumbent() if decomposed is not None else None
    share = REDUCED_SHARE if dropped else 1.0  # the rest is for the full model, if needed
    first = solve_problem(small, replace(options, time_limit_s=options.time_limit_s * share), incumbent=incumbent)
    if decomposed is not None:  # the plan is the cheaper of the two (at worst its own), its bound may be the better
        own = first.solve_time_s
        first = _combine(small, [first, decomposed])
        first.solve_time_s, first.workers = own + decomposed.solve_time_s, 1
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
    problem: Problem, options: SolverOptions, exact: Callable[[float], bool], narrow: Problem
) -> SolveResult:
    """Two searches at once, one per core. One takes the narrow shortlist's plan, then searches
    the whole model below it (one worker, full LP): a bound, and the proof on fleets small
    enough. The other is the decomposition (planner.solve.decomposition): column generation's
    Lagrangian bound, then plans over its replica patterns. The answer is the cheapest plan
    with the better bound, chosen by value, so it does not depend on which search ends first
    (but a search the clock stops, as on most large fleets, ends where the machine's speed put
    it).

    200 x 12 in 30 s (2026-11-21): the whole-model search's bound reached 76.56M; the
    decomposition's 76.81M, and its plans 76.9-77.0M, where the wider shortlist and a
    neighbourhood search from its plan (this function's second search until then) reached
    77.6-77.7M. On 10 x 12 the two bounds are close (3.70-3.74M and 3.72M), and the whole
    model's search is what proves smaller fleets optimal.

    ``exact(value)``: whether a plan of that cost makes ``problem`` (a reduced model) exact.
    If the narrow plan does not, both searches stop at REDUCED_SHARE of the time limit, leaving
    the rest for the full model. ``narrow``: the narrow shortlist model of ``problem``."""
    start = time.perf_counter()
    one = replace(options, workers=1)
    enough = threading.Event()
    """Set when the whole-model search is over (proven, or out of time), or the reduced model's
    share of the time has passed: the decomposition then stops too."""

    def remaining(share: float = 1.0) -> SolverOptions:
        end = start + options.time_limit_s * share
        return replace(one, time_limit_s=max(end - time.perf_counter(), 0.05))

    def narrow_then_whole() -> SolveResult:
        first, spent = _narrow_plan(narrow, one)
        if first is not None and first.interrupted:  # Ctrl-C: the narrow plan (if any), nothing more
            return first
        share = 1.0
        if first is None or first.objective_value is None or not exact(first.objective_value):
            share = REDUCED_SHARE
            timer = threading.Timer(remaining(share).time_limit_s, enough.set)
            timer.daemon = True
            timer.start()
        result = solve_problem(problem, remaining(share), incumbent=first.incumbent() if first is not None else None)
        result.solve_time_s += spent
        return result

    def decompose_then_improve() -> SolveResult:
        result = decomposition.search(problem, remaining(), stop=enough)
        incumbent = result.incumbent()
        if incumbent is None or result.status == "OPTIMAL" or enough.is_set() or remaining().time_limit_s < 1.0:
            return result
        # its patterns are exhausted before the time is: re-plan a few jobs at a time from there,
        # and if that stalls, search the whole model below its plan (a second bound, with a
        # tighter cutoff than the narrow plan: 10 x 12, 3.74M where the first reached 3.70M)
        later = neighbourhood.improve(problem, incumbent, remaining(), stop=enough)
        if not enough.is_set() and not later.interrupted and remaining().time_limit_s > 0.5:
            later = solve_problem(problem, remaining(), incumbent=later.incumbent())
        bounds = [b for b in (result.best_bound, later.best_bound) if b is not None]
        later.best_bound = max(bounds) if bounds else None
        later.solve_time_s = time.perf_counter() - start
        return later

    log.info("searching side by side; Ctrl-C stops the searches and keeps the best plan found")
    with interrupt.guard(), ThreadPoolExecutor(2, thread_name_prefix="side-by-side") as pool:
        whole = pool.submit(narrow_then_whole)
        parts = pool.submit(decompose_then_improve)
        while not (whole.done() and parts.done()):  # short waits: the main thread takes Ctrl-C
            if whole.done():  # its search is over (proven, or out of time): so is the other's
                enough.set()
            time.sleep(0.05)
        results = [whole.result(), parts.result()]
    best = _combine(problem, results)
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


def _narrow_plan(narrow: Problem, options: SolverOptions) -> tuple[SolveResult | None, float]:
    """The narrow shortlist's plan within NARROW_SHARE of the time limit (None without one;
    after a Ctrl-C, marked interrupted, possibly without a plan); and its solver seconds."""
    result = solve_problem(narrow, replace(options, time_limit_s=options.time_limit_s * NARROW_SHARE, tie_breaks=False))
    log.info(
        "shortlist model, each job's cheapest layout per origin (%d candidates): %s %s",
        len(narrow.candidates),
        result.status,
        f"{result.objective_value:.0f} USD" if result.objective_value is not None else "(no plan)",
    )
    found = result.status in ("OPTIMAL", "FEASIBLE") or result.interrupted
    return (result if found else None), result.solve_time_s

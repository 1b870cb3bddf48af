"""Column generation, then price-and-branch: a bound and plans for large multi-period fleets.

planner.solve.blocks splits the compact model into per-job blocks; planner.solve.columns
proves a Lagrangian bound (branching on lumps, an offer's purchases, once the root converges)
and collects each block's useful replica patterns; then planner.solve.price_and_branch
rounds the root LP into a plan and searches for cheaper whole plans over those patterns. The
plans are plans of the full model; the bound is a bound on it (the patterns left out do not
matter to the bound, which prices every pattern).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import replace

import numpy as np

from planner.solve import columns, interrupt, price_and_branch, submodel
from planner.solve.blocks import blocks_of
from planner.solve.builder import Builder
from planner.solve.job_variables import job_variables
from planner.solve.objective import stages
from planner.solve.problem import Problem
from planner.solve.run import SolveResult, SolverOptions, build, per_site, variables

log = logging.getLogger(__name__)

COLUMNS_SHARE = 0.5
"""Most of the time limit column generation may use at its root; price-and-branch gets the
rest. On 200 x 12 the root converges in about 3.3 s."""
ROUNDED_SHARE = 0.1
"""Of the time left, most of what rounding the root LP into a plan may use (it takes 0.1 s)."""
BRANCH_SHARE = 0.12
"""Of the time limit, what branching on lumps may add (200 x 12, 30 s: 3.6 s)."""


def search(problem: Problem, options: SolverOptions, stop: threading.Event | None = None) -> SolveResult:
    """The cheapest plan over the generated patterns and the Lagrangian bound, within
    ``options.time_limit_s`` or until ``stop`` is set: OPTIMAL when the bound meets the plan,
    FEASIBLE, or NO_SOLUTION (possibly with a bound). For minimising first stages."""
    began = time.perf_counter()
    b = build(problem, compact=True)
    first = stages(b)[0]
    if first.maximize:
        raise ValueError("decomposition: only a minimising first stage is supported")
    b.model.minimize(first.expr)
    by_name = variables(b)
    rows = submodel.rows_of(b.model)
    blocks, local = blocks_of(rows, [indices for indices, _ in job_variables(b).values()])

    def left() -> float:
        return max(options.time_limit_s - (time.perf_counter() - began), 0.0)

    def going() -> bool:
        """Time is left, and neither Ctrl-C nor ``stop`` has ended the search."""
        return left() > 0.05 and not interrupt.requested() and not (stop is not None and stop.is_set())

    branch_s = BRANCH_SHARE * options.time_limit_s
    found = columns.generate(rows, blocks, local, COLUMNS_SHARE * left(), stop, _lumps(b), branch_s)
    bound = math.floor(found.bound) if found.bound is not None else None
    one = replace(options, workers=1)
    plan: tuple[np.ndarray, int] | None = None
    if going():
        plan = price_and_branch.rounded(rows, found, one, ROUNDED_SHARE * left())
    if going():
        start = plan[0] if plan is not None else None
        better = price_and_branch.search(rows, found, local, one, left(), stop, start)
        if better is not None and (plan is None or better[1] < plan[1]):
            plan = better
    solution: dict[str, int] = {}
    value: float | None = None
    status = "NO_SOLUTION"
    if plan is not None:
        values, cost = plan
        solution = per_site(b, {name: int(values[var.index]) for name, var in by_name.items()})
        value = float(cost)
        status = "OPTIMAL" if bound is not None and bound >= cost else "FEASIBLE"
    if value is not None and bound is not None:
        bound = min(bound, math.floor(value))
    spent = time.perf_counter() - began
    log.info(
        "decomposition: %d blocks, %d patterns, plan %s, bound %s in %.1fs",
        len(blocks),
        sum(len(p) for p in found.patterns),
        f"{value:.0f}" if value is not None else "none",
        bound,
        spent,
    )
    return SolveResult(
        status=status,
        solution=solution,
        objective_value=value,
        best_bound=float(bound) if bound is not None else None,
        solve_time_s=spent,
        wall_time_s=spent,
        stages=[first.name],
        builder=b,
        interrupted=interrupt.requested(),
        stage_values={first.name: value} if value is not None else {},
        workers=1,
    )


def _lumps(b: Builder) -> list[np.ndarray]:
    """Whole numbers in any plan that the LP splits: per offer bought, its purchases at every
    site and period (a third of a 16M USD supernode on 200 x 12); per offer-site, the same;
    and each purchase or rental of one period."""
    by_offer: dict[str, list[int]] = {}
    by_group: dict[str, list[int]] = {}
    single: list[int] = []
    for (key, _), var in sorted(b.n.items()):
        group = b.problem.groups[key]
        if group.mode == "purchase":
            by_offer.setdefault(group.offer, []).append(var.index)
            by_group.setdefault(key, []).append(var.index)
        single.append(var.index)
    sets = [*by_offer.values(), *(v for v in by_group.values() if len(v) > 1)]
    unique = {tuple(sorted(v)) for v in sets}
    return [np.array(v, dtype=np.int64) for v in sorted(unique)]

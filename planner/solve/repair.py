"""The smallest change to one constraint of a conflict that restores feasibility on its own.

For each member of a minimal conflicting set, everything else stays as the user wrote it:
- budgets, power caps and supply caps: the limit becomes a variable (``Builder.limit``) and one
  solve minimises how far it moves — exact in the model's integer units;
- share floors, tie-in ratios, the hedge and demand (floors whose limit multiplies variables):
  bisection on the largest value that still has a plan, to 0.01 % of the value;
- cluster caps: the smallest forbidden layout or pool size that, once allowed, gives a plan;
- bans, exclusions and policies: whether dropping the constraint alone gives a plan.
A member with no such change (another conflict remains) gets no fix.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from planner.solve import probe
from planner.solve.builder import MONEY_RESOLUTION_USD, WATT
from planner.solve.limits import Limit, cluster_sizes, limit_of, moved
from planner.solve.problem import Problem
from planner.solve.run import SolverOptions

log = logging.getLogger(__name__)

SHARE_STEP = 1e-4
"""Floors, ratios and hedge fractions are searched to one basis point (the model's resolution)."""
DEMAND_STEPS = 10_000
"""Demand is searched to 1/10,000 of its peak."""
NEVER_DROPPED = ("demand:", "capacity:")
"""Serving and training the workload itself is not a repair."""


@dataclass(frozen=True)
class Fix:
    """A change to one constraint, in the prepared problem's natural units (USD, kW, units, share)."""

    name: str
    action: Literal["raise", "lower", "remove", "add"]
    """raise (a cap), lower (a floor or the demand), remove (a ban, exclusion or policy) or add (a policy)."""
    current: float | None = None
    required: float | None = None
    unit: str = ""
    plan: dict[str, int] | None = field(default=None, compare=False)
    """A plan that meets the moved limit (by variable name), to start checking the edit from."""
    least: bool = True
    """The move is proven the least (smallest raise, smallest cut of a floor); False when a
    search stopped at its time limit first: the move is enough, but a smaller one may be too."""


def fixes(problem: Problem, core: list[str], options: SolverOptions) -> list[Fix]:
    """One fix per core member that has one, in core order."""
    out = []
    for name in core:
        fix = fix_for(problem, name, options)
        if fix is None:
            log.info("no change to %s alone restores feasibility", name)
        else:
            out.append(fix)
    return out


def fix_for(problem: Problem, name: str, options: SolverOptions) -> Fix | None:
    lim = limit_of(problem, name)
    if lim is None:
        if name.startswith(NEVER_DROPPED):
            return None
        return Fix(name, "remove") if probe.feasibility(problem, options, without=[name]).feasible else None
    if lim.kind in ("budget", "power", "supply"):
        return _exact(problem, lim, options)
    if lim.kind == "cluster":
        return _cluster(problem, lim, options)
    return _floor(problem, lim, options)


def _exact(problem: Problem, lim: Limit, options: SolverOptions) -> Fix | None:
    """Caps read through ``Builder.limit``: one solve minimises the move."""
    result = probe.smallest_move(problem, lim.name, options)
    if not result.feasible or result.value is None:
        return None
    delta = round(result.value)
    if lim.kind == "budget":
        need = (math.floor(lim.current / MONEY_RESOLUTION_USD) + delta) * MONEY_RESOLUTION_USD
    elif lim.kind == "power":
        need = (math.floor(lim.current * WATT) + delta) / WATT
    else:
        need = lim.current + delta
    least = result.status == "OPTIMAL"
    if not least:
        log.info("%s: the search stopped before proving %s the smallest move", lim.name, need)
    return Fix(lim.name, "raise", lim.current, need, lim.unit, plan=result.solution, least=least)


def _floor(problem: Problem, lim: Limit, options: SolverOptions) -> Fix | None:
    """Largest floor value with a plan (feasibility only falls as a floor rises)."""
    has_plan = _Checks(problem, lim.name, options)
    if not has_plan(0.0):
        return None
    step = lim.current / DEMAND_STEPS if lim.kind == "demand" else SHARE_STEP
    hi_k = math.floor(lim.current / step + 1e-9)
    best = _bisect(0, hi_k, lambda k: has_plan(k * step))
    value = best * step
    if lim.kind != "demand":
        value = round(value, 4)
    return Fix(lim.name, "lower", lim.current, value, lim.unit, least=not has_plan.unsure)


def _cluster(problem: Problem, lim: Limit, options: SolverOptions) -> Fix | None:
    has_plan = _Checks(problem, lim.name, options)
    sizes = [s for s in cluster_sizes(problem, lim.name) if s > lim.current]
    if not sizes or not has_plan(sizes[-1]):
        return None
    # smallest index whose size has a plan: bisect on the complement
    lo, hi = 0, len(sizes) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if has_plan(sizes[mid]):
            hi = mid
        else:
            lo = mid + 1
    return Fix(lim.name, "raise", lim.current, float(sizes[lo]), lim.unit, least=not has_plan.unsure)


@dataclass
class _Checks:
    """Is there a plan with limit ``name`` moved to a value? Remembers whether any answer was
    cut short by the time limit (counted as no plan), so the move found may not be the least."""

    problem: Problem
    name: str
    options: SolverOptions
    unsure: bool = False

    def __call__(self, value: float) -> bool:
        found = probe.feasibility(moved(self.problem, self.name, value), self.options)
        self.unsure = self.unsure or not (found.feasible or found.infeasible)
        return found.feasible


def _bisect(lo: int, hi: int, ok: Callable[[int], bool]) -> int:
    """Largest k in [lo, hi] with ok(k), given ok(lo) and monotone ok (true, then false)."""
    if ok(hi):
        return hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            lo = mid
        else:
            hi = mid
    return lo

"""The cheapest way for one job to meet one demand row, under given prices (column generation).

Column generation (planner.solve.columns) asks, for each job and period, which whole replica
counts meet the demand row at least cost once every shared row (capacity, power, budget …)
is priced by its dual. That is a small covering knapsack: at most a few dozen layouts, a few
replicas each. Solved exactly by depth-first search with the fractional bound; a search that
would run long stops and reports the fractional bound instead, which keeps the Lagrangian
bound valid (it needs a lower bound on each job's cheapest cover, not the cover itself).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

NODE_LIMIT = 20_000
"""Search nodes per cover before it settles for the fractional lower bound."""


@dataclass(frozen=True)
class Priced:
    """The cheapest pattern found, its cost, and a lower bound on every pattern's cost."""

    counts: tuple[int, ...]
    cost: float
    lower: float


def cheapest_cover(
    costs: list[float], weights: list[int], upper: list[int], need: int, node_limit: int = NODE_LIMIT
) -> Priced | None:
    """min Σ costs·x s.t. Σ weights·x ≥ need, 0 ≤ x ≤ upper, x whole (weights ≥ 0).

    None when no x meets the need. Items with a negative cost sit at their upper bound (they
    pay for themselves); the rest are searched cheapest per unit of weight first."""
    n = len(costs)
    counts = [upper[i] if costs[i] < 0 else 0 for i in range(n)]
    base = sum(costs[i] * counts[i] for i in range(n))
    rest = need - sum(weights[i] * counts[i] for i in range(n))
    if rest <= 0:
        return Priced(tuple(counts), base, base)
    order = sorted(
        (i for i in range(n) if costs[i] >= 0 and weights[i] > 0 and upper[i] > 0),
        key=lambda i: costs[i] / weights[i],
    )
    if sum(weights[i] * upper[i] for i in order) < rest:
        return None
    lower = base + _fractional(costs, weights, upper, order, rest)
    best_cost = math.inf
    best: list[int] = []
    chosen = [0] * n
    nodes = 0

    def search(k: int, left: int, cost: float) -> None:
        nonlocal best_cost, best, nodes
        nodes += 1
        if left <= 0:
            if cost < best_cost:
                best_cost, best = cost, list(chosen)
            return
        if k == len(order) or nodes > node_limit:
            return
        i = order[k]
        if cost + left * costs[i] / weights[i] >= best_cost - 1e-9:
            return  # even at this item's rate the rest costs too much (later items cost more)
        for m in range(min(upper[i], -(-left // weights[i])), -1, -1):
            chosen[i] = m
            search(k + 1, left - m * weights[i], cost + m * costs[i])
        chosen[i] = 0

    search(0, rest, 0.0)
    if not best:  # stopped before any cover: greedily take the cheapest rate up to the need
        best, left = [0] * n, rest
        for i in order:
            best[i] = min(upper[i], max(0, -(-left // weights[i])))
            left -= best[i] * weights[i]
        best_cost = sum(costs[i] * best[i] for i in order)
    exact = nodes <= node_limit
    total = tuple(counts[i] + best[i] for i in range(n))
    return Priced(total, base + best_cost, base + best_cost if exact else lower)


def _fractional(costs: list[float], weights: list[int], upper: list[int], order: list[int], rest: int) -> float:
    """The cover's LP bound: fill the need at the cheapest rates, the last item in part."""
    total = 0.0
    for i in order:
        take = min(upper[i] * weights[i], rest)
        total += take * costs[i] / weights[i]
        rest -= take
        if rest <= 0:
            break
    return total


def cheapest_choice(costs: list[float]) -> Priced | None:
    """min Σ costs·x s.t. Σ x = 1, x binary: the single cheapest option."""
    if not costs:
        return None
    pick = min(range(len(costs)), key=costs.__getitem__)
    counts = tuple(int(i == pick) for i in range(len(costs)))
    return Priced(counts, costs[pick], costs[pick])

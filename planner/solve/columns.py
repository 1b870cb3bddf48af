"""Column generation over per-job blocks: a lower bound, and the replica patterns worth trying.

The model's LP relaxation is weak on fleets of many small jobs: it may serve a job with a
third of a replica. Here each block (planner.solve.blocks: one job's demand row in one period,
or a training job's choice of pool) is replaced by a convex combination of whole patterns
(Dantzig-Wolfe). The master LP (planner.solve.master) holds the shared variables (purchases,
rentals, placements) as they are and chooses a mix of patterns per block; pricing finds, for
the master's duals, each block's cheapest pattern (planner.solve.pricing), and adds it if it
could lower the LP. The bound is Lagrangian, valid at every iteration (planner.solve.master).
200 x 12 (2026-11-21): 76.64M, where CP-SAT's search reached 76.56M after 20 s and SCIP's
root 76.64M after 37 s; SCIP's tree closed to 76.78M in 222 s.

What is left is mostly lumps: the LP buys a third of a CloudMatrix 384 supernode (16M USD).
So the search then branches on lumps, an offer's purchases in total and per site
(planner.solve.decomposition names them): "at most ⌊s⌋" and "at least ⌈s⌉" on the lump whose
fraction costs most, best bound first. The bound is the lowest over the open branches. With
MAX_NODES branches: 200 x 12 76.81M, 50 x 12 21.10M (root 21.05M), 10 x 12 3.72M (root 3.64M).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from planner.solve import interrupt
from planner.solve.blocks import Block, PatternTerms
from planner.solve.master import Master
from planner.solve.pricing import Priced, cheapest_choice, cheapest_cover
from planner.solve.submodel import Rows

log = logging.getLogger(__name__)

MAX_ITERATIONS = 200
"""Per node; 200 x 12 converges in 12-13 at the root."""
MAX_NODES = 15
"""Branches per search, the root included, with a share of the time limit as the backstop. A
count rather than the clock: where the count binds first, the patterns handed on, and the
plans found over them, do not depend on the machine (200 x 12 evaluated 13 in about 2.5 s of
its 3.6 s share; one run of three there ended at 76.79M instead of 76.81M, likely the share
binding). 50 x 12 gained nothing past 9 branches (21.108M either way)."""


@dataclass
class Columns:
    """What column generation found: per block its patterns (counts aligned with the block's
    variables), the best Lagrangian bound (None if none was finite), and how it ended."""

    blocks: list[Block]
    patterns: list[list[tuple[int, ...]]]
    bound: float | None
    iterations: int
    converged: bool
    seconds: float
    terms: PatternTerms
    """What each pattern adds to the objective and the shared rows."""
    nodes: int = 1
    """Branches evaluated, the root included."""
    guide: list[int] | None = None
    """Each block's heaviest pattern in the root LP's solution: where to start the search."""


@dataclass
class _Node:
    """A branch: bounds on some lumps, its bound, and the LP's lump totals once converged."""

    bounds: dict[int, tuple[float, float]]
    value: float
    sums: np.ndarray | None = field(default=None)


def generate(
    rows: Rows,
    blocks: list[Block],
    local: np.ndarray,
    time_limit_s: float,
    stop: threading.Event | None = None,
    lumps: list[np.ndarray] | None = None,
    branch_s: float = 0.0,
) -> Columns:
    """Column generation until no pattern can lower the master LP, the time limit, or ``stop``;
    then, for up to ``branch_s`` seconds more, branching on ``lumps`` (index sets of shared
    whole variables). The first patterns are each block's cheapest by its own cost; the
    master's slacks keep it feasible until patterns fit together."""
    began = time.perf_counter()
    terms = PatternTerms(rows, blocks, local)
    master = Master(rows, blocks, local, lumps or [], terms)
    for k, cheapest in enumerate(_price(blocks, master.reduced_costs(*_no_duals(master)))):
        if cheapest is not None:
            master.add(k, cheapest.counts)
    bound, converged, iterations = _converge(master, began + time_limit_s, stop)
    guide = master.heaviest() if converged else None
    nodes = 1
    if converged and bound is not None and master.lumps and branch_s > 0:
        root = _Node({}, bound, master.lump_sums())
        bound, nodes = _branch(master, root, time.perf_counter() + branch_s, stop)
    seconds = time.perf_counter() - began
    log.info(
        "column generation: %d iterations, %d nodes in %.1fs, bound %s%s",
        iterations,
        nodes,
        seconds,
        f"{bound:.0f}" if bound is not None else "none",
        "" if converged else " (stopped early)",
    )
    return Columns(blocks, master.patterns, bound, iterations, converged, seconds, terms, nodes, guide)


def _no_duals(master: Master) -> tuple[np.ndarray, np.ndarray]:
    return np.zeros(len(master.rows.names)), np.zeros(len(master.lumps))


def _converge(master: Master, deadline: float, stop: threading.Event | None) -> tuple[float | None, bool, int]:
    """Price and re-solve until no block has a cheaper pattern: the best bound on the way,
    whether it converged, and the iterations."""
    bound: float | None = None
    iterations = 0
    while iterations < MAX_ITERATIONS and time.perf_counter() < deadline:
        if interrupt.requested() or (stop is not None and stop.is_set()):
            break
        iterations += 1
        if not master.solve(deadline - time.perf_counter()):
            break
        rows, lumps = master.duals()
        reduced = master.reduced_costs(rows, lumps)
        priced = _price(master.blocks, reduced)
        lp_value = master.value()
        value = master.lagrangian(rows, lumps, reduced, priced)
        if value is not None and (bound is None or value > bound):
            bound = value
        convexity = master.convexity_duals()  # read before any column changes the LP
        added = sum(
            master.add(k, p.counts)
            for k, p in enumerate(priced)
            if p is not None and p.cost - convexity[k] < -1e-7 * max(1.0, abs(p.cost))
        )
        log.debug("columns: iteration %d, LP %.0f, bound %s, %d added", iterations, lp_value, bound, added)
        if not added:
            return bound, True, iterations
    return bound, False, iterations


def _branch(master: Master, root: _Node, deadline: float, stop: threading.Event | None) -> tuple[float, int]:
    """Best bound first: split the open branch with the lowest bound on its costliest
    fractional lump, until ``deadline``. Each child's bound is at least its parent's (it
    covers fewer plans). Returns the lowest open bound and the nodes evaluated."""
    costs = [float(master.cost[lump].max(initial=0.0)) for lump in master.lumps]
    open_nodes = [root]
    nodes = 1
    while nodes < MAX_NODES and time.perf_counter() < deadline:
        if interrupt.requested() or (stop is not None and stop.is_set()):
            break
        node = min(open_nodes, key=lambda n: n.value)
        j = _costliest_fraction(node.sums, costs)
        if j is None:  # converged with whole lumps, or not converged: nothing to split
            break
        total = float(node.sums[j]) if node.sums is not None else 0.0
        low, high = node.bounds.get(j, (-math.inf, math.inf))
        children = []
        for child_low, child_high in ((low, math.floor(total)), (math.ceil(total), high)):
            master.bound_lumps({**node.bounds, j: (child_low, child_high)})
            value, converged, _ = _converge(master, deadline, stop)
            nodes += 1
            child = _Node({**node.bounds, j: (child_low, child_high)}, max(node.value, value or -math.inf))
            child.sums = master.lump_sums() if converged else None
            children.append(child)
        open_nodes.remove(node)
        open_nodes.extend(children)
    master.bound_lumps({})
    return min(n.value for n in open_nodes), nodes


def _costliest_fraction(sums: np.ndarray | None, costs: list[float]) -> int | None:
    """The lump whose fractional part costs most (fraction to the nearer whole × unit cost)."""
    if sums is None:
        return None
    fractions = np.minimum(sums - np.floor(sums), np.ceil(sums) - sums)
    scores = np.where(fractions > 1e-6, fractions * np.asarray(costs), 0.0)
    return int(np.argmax(scores)) if scores.size and scores.max() > 0 else None


def _price(blocks: list[Block], reduced: np.ndarray) -> list[Priced | None]:
    out: list[Priced | None] = []
    for block in blocks:
        costs = reduced[block.variables].tolist()
        if block.choice:
            out.append(cheapest_choice(costs))
        else:
            out.append(cheapest_cover(costs, list(block.weights), list(block.upper), block.need))
    return out

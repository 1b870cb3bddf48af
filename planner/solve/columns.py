"""Column generation over per-job blocks: a lower bound, and the replica patterns worth trying.

The model's LP relaxation is weak on fleets of many small jobs: it may serve a job with a
third of a replica. Here each block (planner.solve.blocks: one job's demand row in one period,
or a training job's choice of pool) is replaced by a convex combination of whole patterns
(Dantzig-Wolfe). The master LP holds the shared variables (purchases, rentals, placements) as
they are and chooses a mix of patterns per block; pricing finds, for the master's row duals π,
each block's cheapest pattern (planner.solve.pricing), and adds it if it could lower the LP.

The bound is Lagrangian and valid at every iteration, whatever the LP's accuracy: for any π,

    L(π) = offset + Σ_r π_r·(lo_r if π_r > 0 else hi_r)
         + Σ_{v shared} min(d_v·lo_v, d_v·hi_v) + Σ_{blocks k} min_{x ∈ X_k} d·x,   d = c − Aᵀπ,

a lower bound on every plan, since each plan x has π_r·(A_r x) ≥ the side term. It is computed
from the duals directly, with each block's minimum bounded below by its pricing. At the LP's
optimum it equals the master LP (200 x 12, 2026-11-21: 76.64M, where CP-SAT's search reached
76.56M after 20 s and SCIP's root 76.64M after 37 s; SCIP's tree closed to 76.78M in 222 s).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from planner.solve import interrupt
from planner.solve.blocks import Block
from planner.solve.pricing import Priced, cheapest_choice, cheapest_cover
from planner.solve.submodel import UNBOUNDED, Rows

if TYPE_CHECKING:  # loaded when a master is built: plans that never decompose skip its import
    from ortools.linear_solver import pywraplp

log = logging.getLogger(__name__)

ARTIFICIAL_COST = 10.0
"""Cost of one unit of row violation in the master, per the largest objective coefficient:
artificial columns make the first master feasible before any pattern fits together. Their
cost only steers the LP; the bound does not depend on it."""
MAX_ITERATIONS = 200


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


def generate(
    rows: Rows,
    blocks: list[Block],
    local: np.ndarray,
    time_limit_s: float,
    stop: threading.Event | None = None,
) -> Columns:
    """Column generation until no pattern can lower the master LP, the time limit, or ``stop``.
    The first patterns are each block's cheapest by its own cost; artificial slacks keep the
    master feasible until patterns fit together."""
    began = time.perf_counter()
    master = _Master(rows, blocks, local)
    patterns: list[list[tuple[int, ...]]] = [[] for _ in blocks]
    seen: list[set[tuple[int, ...]]] = [set() for _ in blocks]

    def add(k: int, counts: tuple[int, ...]) -> None:
        if counts not in seen[k]:
            seen[k].add(counts)
            patterns[k].append(counts)
            master.add_column(k, counts)

    zero = np.zeros(len(rows.names))
    for k, cheapest in enumerate(_price(blocks, master.reduced_costs(zero))):
        if cheapest is not None:
            add(k, cheapest.counts)
    bound: float | None = None
    converged = False
    iterations = 0
    while iterations < MAX_ITERATIONS and time.perf_counter() - began < time_limit_s:
        if interrupt.requested() or (stop is not None and stop.is_set()):
            break
        iterations += 1
        if not master.solve(time_limit_s - (time.perf_counter() - began)):
            break
        duals = master.row_duals()
        reduced = master.reduced_costs(duals)
        priced = _price(blocks, reduced)
        lp_value = master.value()
        value = master.lagrangian(duals, reduced, priced)
        if value is not None and (bound is None or value > bound):
            bound = value
        convexity = master.convexity_duals()  # read before any column changes the LP
        added = 0
        for k, p in enumerate(priced):
            if p is not None and p.cost - convexity[k] < -1e-7 * max(1.0, abs(p.cost)):
                before = len(patterns[k])
                add(k, p.counts)
                added += len(patterns[k]) - before
        log.debug("columns: iteration %d, LP %.0f, bound %s, %d added", iterations, lp_value, bound, added)
        if not added:
            converged = True
            break
    seconds = time.perf_counter() - began
    log.info(
        "column generation: %d iterations in %.1fs, bound %s%s",
        iterations,
        seconds,
        f"{bound:.0f}" if bound is not None else "none",
        "" if converged else " (stopped early)",
    )
    return Columns(blocks, patterns, bound, iterations, converged, seconds)


def _price(blocks: list[Block], reduced: np.ndarray) -> list[Priced | None]:
    out: list[Priced | None] = []
    for block in blocks:
        costs = reduced[block.variables].tolist()
        if block.choice:
            out.append(cheapest_choice(costs))
        else:
            out.append(cheapest_cover(costs, list(block.weights), list(block.upper), block.need))
    return out


class _Master:
    """The restricted master LP (GLOP): shared variables, pattern columns, artificial slacks."""

    def __init__(self, rows: Rows, blocks: list[Block], local: np.ndarray) -> None:
        from ortools.linear_solver import pywraplp

        self.rows = rows
        n_vars, n_rows = len(rows.var_domains), len(rows.names)
        self.cost = np.zeros(n_vars)
        np.add.at(self.cost, rows.objective_cols, rows.objective_coefs.astype(float))
        self.row_of = np.repeat(np.arange(n_rows), np.diff(rows.starts))
        self.in_block = np.zeros(n_vars, dtype=bool)
        for block in blocks:
            self.in_block[block.variables] = True
        self.blocks = blocks
        self.lp = pywraplp.Solver.CreateSolver("GLOP")
        # costs span 1-10^7 USD: GLOP may then call an optimal basis imprecise; the bound does
        # not rest on the LP's accuracy (module docstring), so such a basis is good enough
        self.lp.SetSolverSpecificParametersAsString("change_status_to_imprecise: false")
        inf = self.lp.infinity()
        self.low = np.array([_end(d[0], -inf) for d in rows.domains])  # a domain's hull
        self.high = np.array([_end(d[-1], inf) for d in rows.domains])
        self.constraints: list[pywraplp.Constraint | None] = [
            None if local[r] else self.lp.Constraint(self.low[r], self.high[r]) for r in range(n_rows)
        ]
        objective = self.lp.Objective()
        objective.SetMinimization()
        # shared variables as they are (relaxed to their hull); their terms in the master rows
        self.shared = np.flatnonzero(~self.in_block)
        self.var_low = np.array([_end(d[0], -inf) for d in rows.var_domains])
        self.var_high = np.array([_end(d[-1], inf) for d in rows.var_domains])
        lp_vars = {int(v): self.lp.NumVar(self.var_low[v], self.var_high[v], "") for v in self.shared}
        self.block_terms: dict[int, list[tuple[int, int]]] = {}
        for col, coef, r in zip(rows.cols.tolist(), rows.coefs.tolist(), self.row_of.tolist(), strict=True):
            if local[r]:
                continue
            if col in lp_vars:
                constraint = self.constraints[r]
                assert constraint is not None  # a master row (not local)
                constraint.SetCoefficient(lp_vars[col], constraint.GetCoefficient(lp_vars[col]) + coef)
            else:
                self.block_terms.setdefault(col, []).append((r, coef))
        for v, var in lp_vars.items():
            objective.SetCoefficient(var, float(self.cost[v]))
        # one unit of a slack moves its row as far as one unit of the row's largest term
        penalty = ARTIFICIAL_COST * max(1.0, float(np.abs(self.cost).max(initial=0.0)))
        scale = np.zeros(n_rows)
        np.maximum.at(scale, self.row_of, np.abs(rows.coefs).astype(float))
        for r, constraint in enumerate(self.constraints):
            if constraint is None:
                continue
            for sign, end in ((1.0, constraint.lb()), (-1.0, constraint.ub())):
                if math.isfinite(end):
                    slack = self.lp.NumVar(0.0, inf, "")
                    constraint.SetCoefficient(slack, sign * max(1.0, scale[r]))
                    objective.SetCoefficient(slack, penalty)
        self.convexity = [self.lp.Constraint(1.0, 1.0) for _ in blocks]
        self.objective = objective

    def add_column(self, k: int, counts: tuple[int, ...]) -> None:
        column = self.lp.NumVar(0.0, self.lp.infinity(), "")
        coefs: dict[int, int] = {}
        cost = 0.0
        for v, count in zip(self.blocks[k].variables.tolist(), counts, strict=True):
            if count:
                cost += self.cost[v] * count
                for r, a in self.block_terms.get(v, ()):
                    coefs[r] = coefs.get(r, 0) + a * count
        for r, a in coefs.items():
            constraint = self.constraints[r]
            if constraint is not None and a:
                constraint.SetCoefficient(column, float(a))
        self.objective.SetCoefficient(column, cost)
        self.convexity[k].SetCoefficient(column, 1.0)

    def solve(self, seconds: float) -> bool:
        self.lp.SetTimeLimit(max(1, int(seconds * 1000)))
        return bool(self.lp.Solve() == self.lp.OPTIMAL)

    def value(self) -> float:
        return float(self.objective.Value())

    def row_duals(self) -> np.ndarray:
        """Each master row's dual, zero on local rows and where the row's side is open."""
        duals = np.array([0.0 if c is None else c.dual_value() for c in self.constraints])
        duals[(duals > 0) & ~np.isfinite(self.low)] = 0.0
        duals[(duals < 0) & ~np.isfinite(self.high)] = 0.0
        return duals

    def convexity_duals(self) -> list[float]:
        return [c.dual_value() for c in self.convexity]

    def reduced_costs(self, duals: np.ndarray) -> np.ndarray:
        """d = c − Aᵀπ over the master rows (local rows carry no dual)."""
        weights = self.rows.coefs * duals[self.row_of]
        return self.cost - np.bincount(self.rows.cols, weights=weights, minlength=len(self.cost))

    def lagrangian(self, duals: np.ndarray, reduced: np.ndarray, priced: list[Priced | None]) -> float | None:
        """L(π) (module docstring), or None where a term is unbounded or a block has no pattern."""
        low_side = np.where(np.isfinite(self.low), self.low, 0.0)  # π is 0 where the side is open
        high_side = np.where(np.isfinite(self.high), self.high, 0.0)
        sides = np.where(duals > 0, duals * low_side, duals * high_side)
        d = reduced[self.shared]
        low, high = self.var_low[self.shared], self.var_high[self.shared]
        if ((d > 0) & ~np.isfinite(low)).any() or ((d < 0) & ~np.isfinite(high)).any():
            return None
        shared = np.where(d > 0, d * np.where(np.isfinite(low), low, 0.0), d * np.where(np.isfinite(high), high, 0.0))
        if any(p is None for p in priced):
            return None
        blocks = sum(p.lower for p in priced if p is not None)
        return float(self.rows.objective_offset + sides.sum() + shared.sum() + blocks)


def _end(value: int, infinite: float) -> float:
    return infinite if abs(value) >= UNBOUNDED else float(value)

"""The restricted master LP of column generation, and the Lagrangian bound from its duals.

The master (GLOP) holds the shared variables as they are (relaxed to their hull), one column
per generated pattern of each block with a convexity row per block, and artificial slacks that
keep it feasible before the patterns fit together. Lump rows (Σ of a set of shared variables,
such as every purchase of one offer) start open and are narrowed by branching
(planner.solve.columns).

The bound is Lagrangian and valid for any duals π (rows) and μ (lump rows), whatever the LP's
accuracy:

    L(π, μ) = offset + Σ_r π_r·(lo_r if π_r > 0 else hi_r) + Σ_j μ_j·(lo_j if μ_j > 0 else hi_j)
            + Σ_{v shared} min(d_v·lo_v, d_v·hi_v) + Σ_{blocks k} min_{x ∈ X_k} d·x,
    d = c − Aᵀπ − Σ_j μ_j·1[v ∈ lump j],

a lower bound on every plan within the lump rows' bounds, since each such plan x has
π_r·(A_r x) ≥ the row's side term (and so for the lumps). Each block's minimum is bounded below
by its pricing (planner.solve.pricing). At the LP's optimum L equals the master LP.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from planner.solve.blocks import Block, PatternTerms
from planner.solve.pricing import Priced
from planner.solve.submodel import UNBOUNDED, Rows

if TYPE_CHECKING:  # loaded when a master is built: plans that never decompose skip its import
    from ortools.linear_solver import pywraplp

ARTIFICIAL_COST = 10.0
"""Cost of one unit of a slack, per the largest objective coefficient; a slack's unit moves its
row as far as one unit of the row's largest term. Their cost only steers the LP; the bound does
not depend on it."""
GLOP_PARAMETERS = "change_status_to_imprecise: false use_preprocessing: false use_dual_simplex: true"
"""Costs span 1-10^7 USD: GLOP may then call an optimal basis imprecise, and the bound does not
rest on the LP's accuracy, so such a basis is good enough. Without presolve and with the dual
simplex, each re-solve starts from the last basis: 200 x 12 converged in 3.3 s instead of 6.5 s
(13 and 12 iterations, the same bound), 50 x 12 in 0.6 s instead of 1.1 s."""


class Master:
    """The restricted master LP over ``rows`` (a model's rows, planner.solve.submodel), with
    ``blocks`` convexified and the rows in ``local`` (the blocks' own rows) left to pricing."""

    def __init__(
        self, rows: Rows, blocks: list[Block], local: np.ndarray, lumps: list[np.ndarray], terms: PatternTerms
    ) -> None:
        from ortools.linear_solver import pywraplp

        self.rows = rows
        self.blocks = blocks
        self.terms = terms
        n_rows = len(rows.names)
        self.cost = terms.cost.astype(float)
        self.row_of = terms.row_of
        in_block = terms.in_block
        self.patterns: list[list[tuple[int, ...]]] = [[] for _ in blocks]
        self.columns: list[list[pywraplp.Variable]] = [[] for _ in blocks]
        self._seen: list[set[tuple[int, ...]]] = [set() for _ in blocks]
        self.lp = pywraplp.Solver.CreateSolver("GLOP")
        self.lp.SetSolverSpecificParametersAsString(GLOP_PARAMETERS)
        inf = self.lp.infinity()
        self.low = np.array([_end(d[0], -inf) for d in rows.domains])  # a domain's hull
        self.high = np.array([_end(d[-1], inf) for d in rows.domains])
        self.constraints: list[pywraplp.Constraint | None] = [
            None if local[r] else self.lp.Constraint(self.low[r], self.high[r]) for r in range(n_rows)
        ]
        self.objective = self.lp.Objective()
        self.objective.SetMinimization()
        self.shared = np.flatnonzero(~in_block)
        self.var_low = np.array([_end(d[0], -inf) for d in rows.var_domains])
        self.var_high = np.array([_end(d[-1], inf) for d in rows.var_domains])
        self.shared_vars = [self.lp.NumVar(self.var_low[v], self.var_high[v], "") for v in self.shared]
        lp_vars = dict(zip(self.shared.tolist(), self.shared_vars, strict=True))
        for col, coef, r in zip(rows.cols.tolist(), rows.coefs.tolist(), self.row_of.tolist(), strict=True):
            constraint = self.constraints[r]
            if constraint is not None and col in lp_vars:  # blocks' terms come with their columns
                constraint.SetCoefficient(lp_vars[col], constraint.GetCoefficient(lp_vars[col]) + coef)
        for v, var in lp_vars.items():
            self.objective.SetCoefficient(var, float(self.cost[v]))
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
                    self.objective.SetCoefficient(slack, penalty)
        self.convexity = [self.lp.Constraint(1.0, 1.0) for _ in blocks]
        self.lumps = [lump for lump in lumps if not in_block[lump].any()]  # shared variables only
        self.lump_rows = [self.lp.Constraint(-inf, inf) for _ in self.lumps]
        for lump, row in zip(self.lumps, self.lump_rows, strict=True):
            for v in lump.tolist():
                row.SetCoefficient(lp_vars[v], 1.0)

    def add(self, k: int, counts: tuple[int, ...]) -> bool:
        """Add pattern ``counts`` of block k as a column, unless it is there already."""
        if counts in self._seen[k]:
            return False
        self._seen[k].add(counts)
        self.patterns[k].append(counts)
        column = self.lp.NumVar(0.0, self.lp.infinity(), "")
        cost, coefs = self.terms.column(self.blocks[k], counts)
        for r, a in coefs.items():
            constraint = self.constraints[r]
            if constraint is not None:
                constraint.SetCoefficient(column, float(a))
        self.objective.SetCoefficient(column, float(cost))
        self.convexity[k].SetCoefficient(column, 1.0)
        self.columns[k].append(column)
        return True

    def bound_lumps(self, bounds: dict[int, tuple[float, float]]) -> None:
        """Each lump row's bounds: those given, the others open."""
        inf = self.lp.infinity()
        for j, row in enumerate(self.lump_rows):
            row.SetBounds(*bounds.get(j, (-inf, inf)))

    def solve(self, seconds: float) -> bool:
        self.lp.SetTimeLimit(max(1, int(seconds * 1000)))
        return bool(self.lp.Solve() == self.lp.OPTIMAL)

    def value(self) -> float:
        return float(self.objective.Value())

    def heaviest(self) -> list[int]:
        """Each block's pattern with the largest weight in the LP's solution."""
        return [max(range(len(cols)), key=lambda i: cols[i].solution_value()) for cols in self.columns]

    def lump_sums(self) -> np.ndarray:
        """Each lump's total in the LP's solution."""
        values = np.array([var.solution_value() for var in self.shared_vars])
        position = {v: i for i, v in enumerate(self.shared.tolist())}
        return np.array([sum(values[position[v]] for v in lump.tolist()) for lump in self.lumps])

    def duals(self) -> tuple[np.ndarray, np.ndarray]:
        """Each master row's dual (zero on local rows) and each lump row's, zero where the
        side it would price is open."""
        rows = np.array([0.0 if c is None else c.dual_value() for c in self.constraints])
        rows[(rows > 0) & ~np.isfinite(self.low)] = 0.0
        rows[(rows < 0) & ~np.isfinite(self.high)] = 0.0
        lumps = np.array([row.dual_value() for row in self.lump_rows])
        lumps[(lumps > 0) & ~np.isfinite(self._lump_ends(0))] = 0.0
        lumps[(lumps < 0) & ~np.isfinite(self._lump_ends(1))] = 0.0
        return rows, lumps

    def convexity_duals(self) -> list[float]:
        return [c.dual_value() for c in self.convexity]

    def reduced_costs(self, rows: np.ndarray, lumps: np.ndarray) -> np.ndarray:
        """d = c − Aᵀπ − Σ_j μ_j·1[v ∈ lump j] (local rows carry no dual)."""
        weights = self.rows.coefs * rows[self.row_of]
        d = self.cost - np.bincount(self.rows.cols, weights=weights, minlength=len(self.cost))
        for lump, mu in zip(self.lumps, lumps.tolist(), strict=True):
            if mu:
                d[lump] -= mu
        return d

    def lagrangian(
        self, rows: np.ndarray, lumps: np.ndarray, reduced: np.ndarray, priced: list[Priced | None]
    ) -> float | None:
        """L(π, μ) (module docstring), or None where a term is unbounded or a block has no pattern."""
        sides = _sides(rows, self.low, self.high) + _sides(lumps, self._lump_ends(0), self._lump_ends(1))
        d = reduced[self.shared]
        low, high = self.var_low[self.shared], self.var_high[self.shared]
        if ((d > 0) & ~np.isfinite(low)).any() or ((d < 0) & ~np.isfinite(high)).any():
            return None
        shared = np.where(d > 0, d * np.where(np.isfinite(low), low, 0.0), d * np.where(np.isfinite(high), high, 0.0))
        if any(p is None for p in priced):
            return None
        blocks = sum(p.lower for p in priced if p is not None)
        return float(self.rows.objective_offset + sides + shared.sum() + blocks)

    def _lump_ends(self, end: int) -> np.ndarray:
        inf = self.lp.infinity()
        values = [row.lb() if end == 0 else row.ub() for row in self.lump_rows]
        return np.array([v if abs(v) < inf else (-np.inf if end == 0 else np.inf) for v in values])


def _sides(duals: np.ndarray, low: np.ndarray, high: np.ndarray) -> float:
    """Σ π·(low if π > 0 else high); π is zero where that side is open (Master.duals)."""
    low_side = np.where(np.isfinite(low), low, 0.0)
    high_side = np.where(np.isfinite(high), high, 0.0)
    return float(np.where(duals > 0, duals * low_side, duals * high_side).sum())


def _end(value: int, infinite: float) -> float:
    return infinite if abs(value) >= UNBOUNDED else float(value)

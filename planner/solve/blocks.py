"""Split a model into per-job blocks and the rows they share (for column generation).

A block is a set of one job's variables tied together by a row no other variable appears in:
a serving job's demand in one period (Σ rps·x ≥ need) or a training job's choice of pool
(Σ y = 1). Everything else (purchases, rentals, placements, and any job variable outside such
a row) is shared, as are the rows that link blocks (capacity, power, budget, domestic share …).

Only blocks of those two shapes are convexified; anything else stays in the master LP as it
is, which keeps the bound valid (just weaker) whatever rows a future family adds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from planner.solve.submodel import UNBOUNDED, Rows


@dataclass(frozen=True)
class Block:
    """One job's variables under one local row, and that row as a cover or a choice."""

    variables: np.ndarray
    """Model indices."""
    row: int
    weights: tuple[int, ...]
    """Each variable's coefficient in the row."""
    upper: tuple[int, ...]
    need: int
    """Cover: Σ weights·x ≥ need. Choice: Σ x = 1 (need 1, weights 1, upper 1)."""
    choice: bool


def blocks_of(rows: Rows, jobs: Iterable[np.ndarray]) -> tuple[list[Block], np.ndarray]:
    """The blocks of ``jobs`` (each an array of one job's variable indices) and which rows
    are local to a block (True) rather than shared."""
    n_vars, n_rows = len(rows.var_domains), len(rows.names)
    owner = np.full(n_vars, -1, dtype=np.int64)
    for j, variables in enumerate(jobs):
        owner[variables] = j
    row_of = rows.row_of()
    term_owner = owner[rows.cols]
    lengths = np.diff(rows.starts)
    # a row is a candidate if every term belongs to one and the same job
    unowned = np.bincount(row_of, weights=(term_owner < 0), minlength=n_rows) > 0
    low = np.full(n_rows, np.iinfo(np.int64).max)
    high = np.full(n_rows, -1)
    np.minimum.at(low, row_of, term_owner)
    np.maximum.at(high, row_of, term_owner)
    candidate = (lengths > 0) & ~unowned & (low == high)
    # a variable in two candidate rows makes neither a block (it would tie two rows together)
    uses = np.bincount(rows.cols, weights=candidate[row_of], minlength=n_vars)
    blocks: list[Block] = []
    local = np.zeros(n_rows, dtype=bool)
    for r in np.flatnonzero(candidate):
        lo, hi = rows.starts[r], rows.starts[r + 1]
        cols, coefs = rows.cols[lo:hi], rows.coefs[lo:hi]
        if len(np.unique(cols)) != len(cols) or (uses[cols] != 1).any():
            continue
        block = _shaped(rows, int(r), cols, coefs)
        if block is not None:
            blocks.append(block)
            local[r] = True
    return blocks, local


def _shaped(rows: Rows, r: int, cols: np.ndarray, coefs: np.ndarray) -> Block | None:
    """The row as a cover or a choice over non-negative whole variables, else None."""
    domains = [rows.var_domains[c] for c in cols]
    if any(len(d) != 2 or d[0] != 0 or d[1] >= UNBOUNDED for d in domains):
        return None
    if (coefs <= 0).any():
        return None
    upper = tuple(d[1] for d in domains)
    row = rows.domains[r]
    if len(row) != 2:
        return None
    if row[0] == row[1] == 1 and (coefs == 1).all() and all(u <= 1 for u in upper):
        return Block(cols, r, tuple(int(c) for c in coefs), upper, 1, choice=True)
    if row[1] >= UNBOUNDED and row[0] > -UNBOUNDED:
        return Block(cols, r, tuple(int(c) for c in coefs), upper, int(row[0]), choice=False)
    return None


class PatternTerms:
    """What a block's pattern (its variables' counts) adds to the objective and to the shared
    rows. Read once per model; the master LP (planner.solve.master) and price-and-branch
    (planner.solve.price_and_branch) both build their columns from it."""

    def __init__(self, rows: Rows, blocks: list[Block], local: np.ndarray) -> None:
        n_vars = len(rows.var_domains)
        self.in_block = np.zeros(n_vars, dtype=bool)
        for block in blocks:
            self.in_block[block.variables] = True
        self.cost = np.zeros(n_vars, dtype=np.int64)
        np.add.at(self.cost, rows.objective_cols, rows.objective_coefs)
        self.row_of = rows.row_of()
        self._terms: dict[int, list[tuple[int, int]]] = {}
        for col, coef, r in zip(rows.cols.tolist(), rows.coefs.tolist(), self.row_of.tolist(), strict=True):
            if self.in_block[col] and not local[r]:
                self._terms.setdefault(col, []).append((r, coef))

    def column(self, block: Block, counts: tuple[int, ...]) -> tuple[int, dict[int, int]]:
        """The pattern's cost and its nonzero coefficient in each shared row."""
        cost = 0
        coefs: dict[int, int] = {}
        for v, count in zip(block.variables.tolist(), counts, strict=True):
            if count:
                cost += int(self.cost[v]) * int(count)
                for r, a in self._terms.get(v, ()):
                    coefs[r] = coefs.get(r, 0) + a * count
        return cost, {r: a for r, a in coefs.items() if a}

"""A model over a few free variables, every other variable held at a plan's value.

The neighbourhood search solves many such models. Holding variables in a clone of the whole
model leaves the work to CP-SAT: on 200 x 12 (25k variables, 2.2k rows) each call spent about
0.1 s in presolve and as long again on the root LP, before any search. Here the held
variables are folded into the rows' bounds, so CP-SAT sees only the free variables and the
rows that contain one (0.8-1.0k variables and 540-560 rows for three jobs on 200 x 12).

Exact: a row with no free variable holds at the plan, since the plan is feasible and those
values do not change; a kept row's bounds move by the held part's constant, so a solution of
the small model, written back into the plan, satisfies every row of the whole model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from planner.solve.run import objective_below

UNBOUNDED = 2**62
"""CP-SAT's sentinel for an open end of a domain."""


@dataclass(frozen=True)
class Rows:
    """The linear rows and objective of a model, as flat arrays (read once, used per step)."""

    starts: np.ndarray
    """Row r's terms are ``cols[starts[r]:starts[r + 1]]`` with ``coefs`` alike."""
    cols: np.ndarray
    coefs: np.ndarray
    domains: list[list[int]]
    names: list[str]
    var_domains: list[list[int]]
    objective_cols: np.ndarray
    objective_coefs: np.ndarray
    objective_offset: float

    def row_of(self) -> np.ndarray:
        """Each term's row (aligned with ``cols`` and ``coefs``)."""
        return np.repeat(np.arange(len(self.names)), np.diff(self.starts))


def rows_of(model: cp_model.CpModel) -> Rows:
    """The model's rows; it must be a minimisation with linear, unconditional rows only."""
    proto = model.proto
    starts, cols, coefs = [0], [], []
    for ct in proto.constraints:
        if not ct.has_linear() or len(ct.enforcement_literal):
            raise ValueError(f"submodel: row {ct.name!r} is not an unconditional linear row")
        for var, coef in zip(ct.linear.vars, ct.linear.coeffs, strict=True):
            if var < 0:
                raise ValueError(f"submodel: row {ct.name!r} uses a negated reference")
            cols.append(var)
            coefs.append(coef)
        starts.append(len(cols))
    objective = proto.objective
    if objective.scaling_factor not in (0.0, 1.0):
        raise ValueError("submodel: only an unscaled minimisation is supported")
    return Rows(
        starts=np.asarray(starts, dtype=np.int64),
        cols=np.asarray(cols, dtype=np.int64),
        coefs=np.asarray(coefs, dtype=np.int64),
        domains=[list(ct.linear.domain) for ct in proto.constraints],
        names=[ct.name for ct in proto.constraints],
        var_domains=[list(v.domain) for v in proto.variables],
        objective_cols=np.asarray(list(objective.vars), dtype=np.int64),
        objective_coefs=np.asarray(list(objective.coeffs), dtype=np.int64),
        objective_offset=objective.offset,
    )


def restricted(
    rows: Rows, values: np.ndarray, free: np.ndarray, below: int | None
) -> tuple[cp_model.CpModel, np.ndarray]:
    """The model over the variables where ``free`` is true, the others held at ``values``, for
    plans whose objective (with the held part) is below ``below`` (any plan if None); and the
    free variables' indices in the whole model (the small model's variable i is whole-model
    variable idx[i]). The free variables are hinted at ``values``."""
    idx = np.flatnonzero(free)
    new_index = np.full(len(free), -1, dtype=np.int64)
    new_index[idx] = np.arange(len(idx))
    term_free = free[rows.cols]
    held_terms = np.where(term_free, 0, rows.coefs * values[rows.cols])
    # reduceat reads an empty row as the next row's first term (hence the padding, and `empty`)
    constants = np.add.reduceat(np.append(held_terms, 0), rows.starts[:-1])
    free_counts = np.add.reduceat(np.append(term_free.astype(np.int64), 0), rows.starts[:-1])
    empty = rows.starts[:-1] == rows.starts[1:]
    model = cp_model.CpModel()
    proto = model.proto
    for i in idx:
        proto.variables.add().domain.extend(rows.var_domains[i])
    for r in np.flatnonzero((free_counts > 0) & ~empty):
        lo, hi = rows.starts[r], rows.starts[r + 1]
        keep = term_free[lo:hi]
        ct = proto.constraints.add()
        ct.name = rows.names[r]
        ct.linear.vars.extend(new_index[rows.cols[lo:hi][keep]].tolist())
        ct.linear.coeffs.extend(rows.coefs[lo:hi][keep].tolist())
        ct.linear.domain.extend(_shifted(rows.domains[r], int(constants[r])))
    obj_free = free[rows.objective_cols]
    held = int(np.sum(rows.objective_coefs[~obj_free] * values[rows.objective_cols[~obj_free]]))
    objective = proto.objective
    objective.vars.extend(new_index[rows.objective_cols[obj_free]].tolist())
    objective.coeffs.extend(rows.objective_coefs[obj_free].tolist())
    objective.offset = rows.objective_offset + held
    if below is not None:
        objective_below(model, below)
    proto.solution_hint.vars.extend(range(len(idx)))
    proto.solution_hint.values.extend(values[idx].tolist())
    return model, idx


def _shifted(domain: list[int], constant: int) -> list[int]:
    """A row's domain for its free part: every finite end moved by the held part's constant."""
    return [v if abs(v) >= UNBOUNDED else v - constant for v in domain]

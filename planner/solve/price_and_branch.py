"""Whole plans from column generation's patterns: each block picks one, the rest as they are.

After column generation (planner.solve.columns) every block has a few whole patterns that
were cheapest under some prices. CP-SAT then chooses one pattern per block, with the shared
variables (purchases, rentals, placements) as whole numbers under every shared row, exactly
as in the full model. Each pattern satisfies its block's own row, so every plan found is a
plan of the full model (this search proves no bound for it: other patterns were left out).

First, :func:`rounded` holds each block at the root LP's heaviest pattern and solves the
shared variables: a whole plan in about 0.1 s. The search starts from it (CP-SAT repairs the
start where it does not fit). Side by side, 30 s (2026-11-21): 200 x 12 76.87M (0.08 % above
the bound, the same in five runs), 50 x 12 21.21M (0.49-0.52 %, two plans in six runs).
Starting from the heaviest patterns alone gave 77.00M (three runs) and 21.15-21.23M; other
pattern sets and starts tried gave 76.94-77.23M on 200 x 12. The whole model's search and the neighbourhood search had
ended at 77.6-77.7M, and SCIP's best after 222 s was 76.88M. With a 10 s limit, the rounded
plan is what 200 x 12 ends with (79.09M, 3.0 %; 8.5 % before it).
"""

from __future__ import annotations

import threading

import numpy as np
from ortools.sat.python import cp_model

from planner.solve import interrupt, submodel
from planner.solve.columns import Columns
from planner.solve.run import SolverOptions, make_solver
from planner.solve.submodel import Rows


def search(
    rows: Rows,
    columns: Columns,
    local: np.ndarray,
    options: SolverOptions,
    time_limit_s: float,
    stop: threading.Event | None = None,
    start: np.ndarray | None = None,
) -> tuple[np.ndarray, int] | None:
    """The cheapest plan over the patterns found in ``time_limit_s`` (or until ``stop`` is
    set), as every variable's value and the objective; None if none was found. ``start``:
    :func:`rounded`'s plan, whose purchases join the start."""
    model, shared, choices = _model(rows, columns, local)
    if start is not None:  # a whole plan over the guide's patterns: the search begins from it
        model.proto.solution_hint.vars.extend(range(len(shared)))
        model.proto.solution_hint.values.extend(start[shared].tolist())
    if columns.guide is not None:
        # start from the root LP's heaviest pattern per block, and let CP-SAT repair that start
        # into a plan (hinting the LP's purchases too, rounded, helped 200 x 12 and hurt 50 x 12)
        hint = model.proto.solution_hint
        for first, patterns, pick in zip(choices, columns.patterns, columns.guide, strict=True):
            hint.vars.extend(range(first, first + len(patterns)))
            hint.values.extend(int(i == pick) for i in range(len(patterns)))
    # one worker stops on work done (the same plan on any machine), the wall clock as a backstop
    solver = make_solver(options, time_limit_s, work_limit=time_limit_s if options.workers == 1 else None)
    solver.parameters.repair_hint = columns.guide is not None
    done = threading.Event()
    if stop is not None:
        threading.Thread(target=_stop_when, args=(stop, done, solver), daemon=True).start()
    try:
        code = interrupt.solve(solver, model)
    finally:
        done.set()
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    found = np.asarray(solver.response_proto.solution, dtype=np.int64)
    values = np.zeros(len(rows.var_domains), dtype=np.int64)
    values[shared] = found[: len(shared)]
    for block, patterns, first in zip(columns.blocks, columns.patterns, choices, strict=True):
        picked = int(np.argmax(found[first : first + len(patterns)]))
        values[block.variables] = patterns[picked]
    return values, round(solver.objective_value)


def rounded(rows: Rows, columns: Columns, options: SolverOptions, time_limit_s: float) -> tuple[np.ndarray, int] | None:
    """A plan in a fraction of a second: each block held at the root LP's heaviest pattern, the
    shared variables (purchases, rentals, placements) solved whole below every shared row. None
    if those patterns admit no plan in the time, or there is no guide. 200 x 12 (2026-11-21):
    79.12M in 0.09 s, where the narrow shortlist took 6-7.5 s to reach 80.6M; 50 x 12 21.51M."""
    if columns.guide is None:
        return None
    values = np.zeros(len(rows.var_domains), dtype=np.int64)
    free = np.ones(len(values), dtype=bool)
    for block, patterns, pick in zip(columns.blocks, columns.patterns, columns.guide, strict=True):
        values[block.variables] = patterns[pick]
        free[block.variables] = False
    model, idx = submodel.restricted(rows, values, free, None)
    model.clear_hints()
    solver = make_solver(options, time_limit_s, work_limit=time_limit_s if options.workers == 1 else None)
    if interrupt.solve(solver, model) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    values[idx] = list(solver.response_proto.solution)
    return values, round(solver.objective_value)


def _stop_when(stop: threading.Event, done: threading.Event, solver: cp_model.CpSolver) -> None:
    while not done.wait(0.05):
        if stop.is_set():
            solver.stop_search()
            return


def _model(rows: Rows, columns: Columns, local: np.ndarray) -> tuple[cp_model.CpModel, np.ndarray, list[int]]:
    """The CP-SAT model, its shared variables' indices in the full model (the model's first
    variables, in order), and each block's first choice variable."""
    n_vars = len(rows.var_domains)
    terms = columns.terms
    in_block, cost = terms.in_block, terms.cost
    shared = np.flatnonzero(~in_block)
    new_index = np.full(n_vars, -1, dtype=np.int64)
    new_index[shared] = np.arange(len(shared))
    model = cp_model.CpModel()
    proto = model.proto
    for v in shared:
        proto.variables.add().domain.extend(rows.var_domains[v])
    extra: dict[int, tuple[list[int], list[int]]] = {}  # master row -> the choice variables' terms
    objective_vars = [int(new_index[v]) for v in shared if cost[v]]
    objective_coefs = [int(cost[v]) for v in shared if cost[v]]
    choices: list[int] = []
    for block, patterns in zip(columns.blocks, columns.patterns, strict=True):
        choices.append(len(proto.variables))
        picks = []
        for counts in patterns:
            index = len(proto.variables)
            proto.variables.add().domain.extend([0, 1])
            picks.append(index)
            total, coefs = terms.column(block, counts)
            for r, a in coefs.items():
                row_terms = extra.setdefault(r, ([], []))
                row_terms[0].append(index)
                row_terms[1].append(a)
            if total:
                objective_vars.append(index)
                objective_coefs.append(total)
        one = proto.constraints.add()
        one.name = rows.names[block.row]
        one.linear.vars.extend(picks)
        one.linear.coeffs.extend([1] * len(picks))
        one.linear.domain.extend([1, 1])
    for r in np.flatnonzero(~local).tolist():
        lo, hi = rows.starts[r], rows.starts[r + 1]
        keep = ~in_block[rows.cols[lo:hi]]
        ct = proto.constraints.add()
        ct.name = rows.names[r]
        ct.linear.vars.extend(new_index[rows.cols[lo:hi][keep]].tolist())
        ct.linear.coeffs.extend(rows.coefs[lo:hi][keep].tolist())
        more_vars, more_coefs = extra.get(r, ([], []))
        ct.linear.vars.extend(more_vars)
        ct.linear.coeffs.extend(more_coefs)
        ct.linear.domain.extend(rows.domains[r])
    proto.objective.vars.extend(objective_vars)
    proto.objective.coeffs.extend(objective_coefs)
    proto.objective.offset = rows.objective_offset
    return model, shared, choices

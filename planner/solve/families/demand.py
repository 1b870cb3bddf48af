"""Demand: the fleet must deliver the workload."""

from __future__ import annotations

import math

from planner.solve import measure
from planner.solve.builder import RATE_SCALE, Builder, Row


def add_demand(b: Builder) -> None:
    """Inference: Σ_c ⌊rps_c·S⌋ · x_c ≥ ⌈R·S⌉ with S = 1000 (supply rounded down).

    Training: Σ_c y_c = 1: exactly one pool, each sized by the performance model to meet the
    deadline and the memory floor on one part at one site.
    """
    p = b.problem
    if p.kind == "inference":
        supply = sum(math.floor(c.requests_per_s * RATE_SCALE) * b.x[k] for k, c in sorted(p.candidates.items()))
        b.add("demand:requests_per_s", supply >= math.ceil(p.required_rps * RATE_SCALE))
        b.row(
            Row(
                name="demand:requests_per_s",
                family="demand",
                description="delivered requests/s under the SLO",
                sense=">=",
                limit=p.required_rps,
                unit="req/s",
                evaluate=lambda sol: measure.delivered_rps(p, sol),
            )
        )
    else:
        b.add("demand:training", sum(b.x[k] for k in sorted(p.candidates)) == 1)
        b.row(
            Row(
                name="demand:deadline",
                family="demand",
                description="training days on the chosen pool",
                sense="<=",
                limit=p.deadline_days,
                unit="days",
                evaluate=lambda sol: _days(b, sol),
            )
        )


def _days(b: Builder, sol: measure.Solution) -> float:
    pool = measure.chosen_pool(b.problem, sol)
    return pool.pool.days if pool is not None and pool.pool is not None else float("nan")

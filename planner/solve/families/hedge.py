"""Hedging: the fleet must still serve a share of demand if a class of parts is lost."""

from __future__ import annotations

import math

from planner.solve import measure
from planner.solve.builder import RATE_SCALE, Builder, Row


def add_hedge(b: Builder) -> None:
    """Per hedged job j and period t: Σ_{c∈j, g(c) survives} ⌊rps_c·S⌋ · z[c,t] ≥ ⌈φ·R_{j,t}·S⌉.

    z is a second allocation of the same owned or rented units, made as if the lost groups were
    gone (their units cannot serve); capacity bounds z like x (see capacity)."""
    p = b.problem
    hedge = p.hedge
    if hedge is None:
        return
    for job in hedge.jobs:
        need = p.jobs[job].required_rps
        cands = [c for c in p.candidates_for(job) if c.group not in hedge.lost_groups]
        for t in b.periods:
            if need[t] <= 0:
                continue
            supply = sum(
                math.floor(c.requests_per_s * RATE_SCALE) * b.z[(c.key, t)] for c in cands if (c.key, t) in b.z
            )
            b.add(hedge.name, supply >= math.ceil(hedge.serve_fraction * need[t] * RATE_SCALE))
    b.row(Row(hedge.name, "hedge", hedge.description, ">=", hedge.serve_fraction, "share", lambda sol: _worst(b, sol)))


def _worst(b: Builder, sol: dict[str, int]) -> float:
    p = b.problem
    assert p.hedge is not None
    worst = float("inf")
    for job in p.hedge.jobs:
        for t in b.periods:
            need = p.jobs[job].required_rps[t]
            if need > 0:
                worst = min(worst, measure.hedge_rps(p, sol, job, t) / need)
    return worst if worst != float("inf") else 1.0

"""Linking: replicas and training pools can only use units the plan owns or rents."""

from __future__ import annotations

from ortools.sat.python import cp_model

from planner.solve.builder import Builder


def add_capacity(b: Builder) -> None:
    """Per group g and period t:
    Σ_{c∈g, inference} units_c · x[c,t] + Σ_{c∈g, training, t∈run(c)} units_c · y[c] ≤ avail[g,t],
    avail = existing + Σ_{s ≤ t−lag} n[g,s] for purchases, n[g,t] for rentals. Training pools on
    rented capacity are booked for their run (paid through y), so they do not draw on n.
    With a hedge: the loss scenario's re-allocation z obeys the same bound on surviving groups.
    Pooled sites (planner.solve.site_pool) count their placed blocks Σ_k k · s[g,k,t] instead of x.
    """
    p = b.problem
    for key in sorted(p.groups):
        g = p.groups[key]
        cands = p.candidates_of(key)
        for t in b.periods:
            terms = [c.block_units * b.x[(c.key, t)] for c in cands if (c.key, t) in b.x and not b.pooled(c.key)]
            terms += [k * v for k, v in b.placed.get((key, t), [])]
            if g.mode == "purchase":
                terms += [c.pool_units * b.y[c.key] for c in cands if c.key in b.y and t in c.periods]
            b.add(f"capacity:{key}", cp_model.LinearExpr.sum(terms) <= b.available(key, t))
            hedge = [c for c in cands if (c.key, t) in b.z]
            if hedge:
                b.add(f"capacity:{key}", sum(c.block_units * b.z[(c.key, t)] for c in hedge) <= b.available(key, t))

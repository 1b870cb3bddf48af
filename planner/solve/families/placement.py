"""Placement: pooled blocks of an offer are placed, whole, at the offer's sites."""

from __future__ import annotations

from planner.solve.builder import Builder


def add_placement(b: Builder) -> None:
    """Per pooled offer o, block size k and period t (planner.solve.site_pool):
    Σ_{g site of o} s[g,k,t] = Σ_{c representative of o with k units per block} x[c,t].

    No report row: it is bookkeeping between the pooled and per-site counts, never binding on
    its own (capacity, power and costs read the placed blocks)."""
    if b.pools is None:
        return
    for offer, k in b.pools.classes:
        for t in b.periods:
            placed = sum(b.s[(g, k, t)] for g in b.pools.sites[(offer, k)])
            served = sum(b.x[(rep, t)] for rep in b.pools.reps[(offer, k)])
            b.add(f"placement:{offer}", placed == served)

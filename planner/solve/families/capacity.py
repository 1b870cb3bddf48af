"""Linking: replicas or a training pool can only use units the plan owns or rents."""

from __future__ import annotations

from planner.solve.builder import Builder


def add_capacity(b: Builder) -> None:
    """Inference, per group g: Σ_c∈g units_c · x_c ≤ n_g + E_g.

    Training, per pool c in group g: n_g + E_g ≥ units_c · y_c and n_g ≤ units_c · y_c,
    so units are bought or rented only for the chosen pool.
    """
    p = b.problem
    for key in sorted(p.groups):
        cands = p.candidates_of(key)
        if p.kind == "inference":
            used = sum(c.block_units * b.x[c.key] for c in cands)
            b.add(f"capacity:{key}", used <= b.owned_units(key))
        else:
            for c in cands:
                b.add(f"capacity:{key}", b.owned_units(key) >= c.pool_units * b.x[c.key])
                b.add(f"capacity:{key}", b.n[key] <= c.pool_units * b.x[c.key])
            if not cands:
                b.add(f"capacity:{key}", b.n[key] == 0)

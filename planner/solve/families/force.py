"""Forced parts: 'why not X?' — plan with X in use and see what it costs or what it breaks."""

from __future__ import annotations

from collections.abc import Callable

from planner.solve.builder import Builder, Row


def add_force(b: Builder) -> None:
    """Per forced id k (an accelerator, vendor or offer) with matching groups G_k:
    Σ_{c: g(c) ∈ G_k, t} x[c,t] + Σ_{c: g(c) ∈ G_k} y[c] ≥ 1 — at least one replica block, or the
    training pool, serves a workload on a matching part. Idle units would not answer the question.
    With no matching group left (excluded before modelling) the constraint reads 0 ≥ 1.
    """
    p = b.problem
    for forced in p.forced:
        groups = set(forced.groups)
        xs = sorted({k for k, _ in b.x if p.candidates[k].group in groups})
        ys = [k for k in sorted(b.y) if p.candidates[k].group in groups]
        xset = set(xs)
        terms = [v for (k, _), v in sorted(b.x.items()) if k in xset] + [b.y[k] for k in ys]
        b.add(forced.name, sum(terms) >= 1 if terms else b.model.new_constant(0) >= 1)
        b.row(Row(forced.name, "force", forced.description, ">=", 1, "blocks", _counter(tuple(xs), tuple(ys))))


def _counter(xs: tuple[str, ...], ys: tuple[str, ...]) -> Callable[[dict[str, int]], float]:
    """Blocks and pools on the forced part in a solution (the report row's 'used')."""
    return lambda sol: float(_used(sol, xs, ys))


def _used(sol: dict[str, int], xs: tuple[str, ...], ys: tuple[str, ...]) -> int:
    prefixes = tuple(f"x:{k}@" for k in xs)
    served = sum(v for name, v in sol.items() if name.startswith(prefixes)) if prefixes else 0
    return served + sum(sol.get(f"y:{k}", 0) for k in ys)

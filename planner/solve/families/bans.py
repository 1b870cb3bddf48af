"""Bans: policies, exclusions, residency and cluster caps that forbid units or layouts."""

from __future__ import annotations

from collections import defaultdict

from planner.solve.builder import Builder, Row


def add_bans(b: Builder) -> None:
    """For each ban name k and each group g it covers: n_g = 0 (no new units);
    for each candidate c it covers: x_c = 0 (that replica shape or pool is not allowed).
    Serving bans (residency) also stop an existing fleet's units from serving: x_c = 0."""
    p = b.problem
    covered: dict[str, list[str]] = defaultdict(list)
    for key in sorted(p.groups):
        g = p.groups[key]
        for name in g.bans:
            b.add(name, b.n[key] == 0)
            covered[name].append(key)
            if name.startswith(("residency:", "exclude:")):
                for c in p.candidates_of(key):
                    b.add(name, b.x[c.key] == 0)
    for key in sorted(p.candidates):
        for name in p.candidates[key].bans:
            b.add(name, b.x[key] == 0)
            covered[name].append(key)
    for name in sorted(covered):
        keys = tuple(covered[name])
        b.row(
            Row(name, "ban", p.ban_reasons.get(name, name), "==", 0, "units",
                lambda sol, keys=keys: float(sum(sol.get(f"n:{k}", 0) + sol.get(f"x:{k}", 0) for k in keys)))
        )

"""Bans: policies, exclusions, residency and cluster caps that forbid units or layouts."""

from __future__ import annotations

import functools
from collections import defaultdict

from ortools.sat.python import cp_model

from planner.solve.builder import Builder, Row


def add_bans(b: Builder) -> None:
    """For each ban k on group g in periods T_k: n[g,t] = 0 for t ∈ T_k (no new units then), and
    y[c] = 0 for rented training pools c of g starting in T_k;
    for each ban on candidate c (residency, per-job exclusion, cluster cap): x[c,t] = 0 for all t,
    y[c] = 0 and z[c,t] = 0 — that layout or pool may not serve its job, even on owned units."""
    p = b.problem
    covered: dict[str, list[str]] = defaultdict(list)
    for key in sorted(p.groups):
        g = p.groups[key]
        for name, periods in g.bans:
            for t in periods:
                b.add(name, b.n[(key, t)] == 0)
                covered[name].append(f"n:{key}@{t}")  # only the banned periods: buying earlier is allowed
            if g.mode == "rental":  # rented training pools are booked outside n: ban them directly
                for c in p.candidates_of(key):
                    if c.key in b.y and (c.periods[0] if c.periods else 0) in periods:
                        b.add(name, b.y[c.key] == 0)
                        covered[name].append(c.key)
    per_candidate = _candidate_vars(b)
    for key in sorted(p.candidates):
        for name in p.candidates[key].bans:
            for var in per_candidate.get(key, []):
                b.add(name, var == 0)
            covered[name].append(key)
    for name in sorted(covered):
        prefixes = tuple(covered[name])
        b.row(
            Row(
                name,
                "ban",
                p.ban_reasons.get(name, name),
                "==",
                0,
                "units",
                functools.partial(_used_units, keys=prefixes),
            )
        )


def _candidate_vars(b: Builder) -> dict[str, list[cp_model.IntVar]]:
    """Every variable of each candidate (x and z over periods, y), in a fixed order."""
    out: dict[str, list[cp_model.IntVar]] = defaultdict(list)
    for (key, _), var in sorted(b.x.items()):
        out[key].append(var)
    for (key, _), var in sorted(b.z.items()):
        out[key].append(var)
    for key, var in sorted(b.y.items()):
        out[key].append(var)
    return out


def _used(sol: dict[str, int], keys: tuple[str, ...]) -> int:
    """Units bought (``n:`` keys) and blocks or pools used (candidate keys) under one ban."""
    wanted = set(keys)
    total = 0
    for name, value in sol.items():
        if not value:
            continue
        if name.startswith("n:"):
            hit = name in wanted
        elif name.startswith(("x:", "z:")):
            hit = name[2:].rsplit("@", 1)[0] in wanted
        else:
            hit = name.startswith("y:") and name[2:] in wanted
        total += value if hit else 0
    return total


def _used_units(sol: dict[str, int], keys: tuple[str, ...]) -> float:
    return float(_used(sol, keys))

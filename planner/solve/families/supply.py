"""Supply caps on new units per period, and tie-in ratios that condition foreign purchases."""

from __future__ import annotations

import functools

from planner.solve.builder import SHARE_SCALE, Builder, Row
from planner.solve.problem import UnitCap


def add_supply_caps(b: Builder) -> None:
    """Per cap k and period t it covers: Σ_{g ∈ G_k} n[g,t] ≤ U_k (new units; an existing fleet is owned)."""
    p = b.problem
    by_name: dict[str, list[UnitCap]] = {}
    for cap in p.unit_caps:
        for t in cap.periods:
            b.add(cap.name, sum(b.n[(k, t)] for k in cap.groups) <= b.limit(cap.name, cap.max_units))
        by_name.setdefault(cap.name, []).append(cap)
    unit = "units/period" if len(p.periods) > 1 else "units"
    for name, caps in by_name.items():
        if len({c.max_units for c in caps}) == 1:  # one limit: one row, the busiest period
            periods = tuple(sorted({t for c in caps for t in c.periods}))
            b.row(
                Row(
                    name,
                    "supply",
                    caps[0].description,
                    "<=",
                    caps[0].max_units,
                    unit,
                    functools.partial(_most_in_a_period, keys=caps[0].groups, periods=periods),
                )
            )
            continue
        for cap in caps:  # limits that change over time: a row per period
            b.row(
                Row(
                    name,
                    "supply",
                    cap.description,
                    "<=",
                    cap.max_units,
                    unit,
                    functools.partial(_most_in_a_period, keys=cap.groups, periods=cap.periods),
                )
            )


def add_tie_ins(b: Builder) -> None:
    """Per tie-in: Σ_{g domestic, t} d_g·n[g,t] ≥ r · Σ_{g ∈ G, t} d_g·n[g,t] in new purchased devices."""
    p = b.problem
    for tie in p.tie_ins:
        ratio = round(tie.ratio * SHARE_SCALE)
        dom = sum(
            p.groups[k].devices_per_unit * v
            for (k, _), v in sorted(b.n.items())
            if p.groups[k].origin == "domestic" and p.groups[k].mode == "purchase"
        )
        tied = sum(p.groups[k].devices_per_unit * v for (k, _), v in sorted(b.n.items()) if k in tie.groups)
        b.add(tie.name, SHARE_SCALE * dom >= ratio * tied)
        b.row(
            Row(
                tie.name,
                "policy",
                f"{tie.description}: new domestic devices per tied device",
                ">=",
                tie.ratio,
                "ratio",
                functools.partial(_ratio, b, groups=tie.groups),
            )
        )


def _most_in_a_period(sol: dict[str, int], keys: tuple[str, ...], periods: tuple[int, ...]) -> float:
    """The largest number of new units the capped groups take in one period."""
    return float(max(sum(sol.get(f"n:{k}@{t}", 0) for k in keys) for t in periods))


def _ratio(b: Builder, sol: dict[str, int], groups: tuple[str, ...]) -> float:
    """New domestic devices per new device of the tied groups."""
    p = b.problem
    dom = tied = 0
    for k, t in b.n:
        n = sol.get(f"n:{k}@{t}", 0)
        g = p.groups[k]
        if g.origin == "domestic" and g.mode == "purchase":
            dom += g.devices_per_unit * n
        if k in groups:
            tied += g.devices_per_unit * n
    return dom / tied if tied else float("inf")

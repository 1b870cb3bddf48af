"""Site power: nameplate draw with PUE of every hosted unit, existing ones included."""

from __future__ import annotations

import functools
import math

from planner.solve import measure
from planner.solve.builder import WATT, Builder, Row
from planner.solve.problem import Problem


def add_power(b: Builder) -> None:
    """Per cap k over sites S_k and period t: Σ_{g hosted at S_k} ⌈W_g⌉ · avail[g,t] ≤ ⌊P_k⌋ in watts,
    W_g = (devices·TDP + server overhead) · PUE per unit. Rentals draw on their provider's power."""
    p = b.problem
    for cap in p.power_caps:
        keys = [k for k, g in sorted(p.groups.items()) if g.hosted and g.site in cap.sites]
        for t in b.periods:
            used = sum(math.ceil(p.groups[k].power_kw_per_unit * WATT) * b.available(k, t) for k in keys)
            b.add(cap.name, used <= b.limit(cap.name, math.floor(cap.max_kw * WATT)))
        b.row(
            Row(
                cap.name,
                "power",
                cap.description,
                "<=",
                cap.max_kw,
                "kW",
                functools.partial(_peak_kw, p, sites=cap.sites),
            )
        )


def _peak_kw(p: Problem, sol: measure.Solution, sites: tuple[str, ...]) -> float:
    return measure.max_power_kw(p, sol, sites)

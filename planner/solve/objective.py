"""Objectives and the fixed tie-break stages that make the plan unique.

Stage 1 optimises the workload's objective. Later stages hold it at its optimum and break
ties in a fixed order, so the same input always yields the same plan whatever the worker
count: (2) the secondary objective (TCO, or power for min_tco), then (3) more domestic
devices, then (4) a canonical order over variables.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ortools.sat.python import cp_model

from planner.solve.builder import RATE_SCALE, WATT, Builder, linear


@dataclass(frozen=True)
class Stage:
    name: str
    expr: cp_model.LinearExprT
    maximize: bool = False


def _tco(b: Builder) -> cp_model.LinearExprT:
    return linear(b.cost_terms())


def _power(b: Builder) -> cp_model.LinearExprT:
    """Installed nameplate watts summed over periods (one period: the fleet's power)."""
    p = b.problem
    return sum(
        math.ceil(g.power_kw_per_unit * WATT) * b.available(k, t)
        for k, g in sorted(p.groups.items())
        if g.hosted
        for t in b.periods
    )


def _throughput(b: Builder) -> cp_model.LinearExprT:
    p = b.problem
    return sum(math.floor(p.candidates[k].requests_per_s * RATE_SCALE) * v for (k, _), v in sorted(b.x.items()))


def _domestic_devices(b: Builder) -> cp_model.LinearExprT:
    p = b.problem
    return sum(
        p.groups[k].devices_per_unit * v for (k, _), v in sorted(b.n.items()) if p.groups[k].origin == "domestic"
    )


def _canonical(b: Builder) -> cp_model.LinearExprT:
    variables = (
        [b.n[k] for k in sorted(b.n)]
        + [b.x[k] for k in sorted(b.x)]
        + [b.y[k] for k in sorted(b.y)]
        + [b.z[k] for k in sorted(b.z)]
        + [b.s[k] for k in sorted(b.s)]
    )
    return sum((i + 1) * v for i, v in enumerate(variables))


def stages(b: Builder) -> list[Stage]:
    """The lexicographic objective as a list of stages, most important first."""
    objective = b.problem.objective
    tco = Stage("min_tco", _tco(b))
    if objective == "min_tco":
        first = [tco, Stage("min_power", _power(b))]
    elif objective == "min_capex":
        first = [Stage("min_capex", linear(b.capex_terms())), tco]
    elif objective == "min_power":
        first = [Stage("min_power", _power(b)), tco]
    else:
        first = [Stage("max_throughput", _throughput(b), maximize=True), tco]
    return [
        *first,
        Stage("max_domestic_devices", _domestic_devices(b), maximize=True),
        Stage("canonical", _canonical(b)),
    ]

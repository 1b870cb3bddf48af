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
    terms, const = b.cost_terms()
    return linear(terms) + const


def _power(b: Builder) -> cp_model.LinearExprT:
    p = b.problem
    return sum(
        math.ceil(g.power_kw_per_unit * WATT) * b.owned_units(k) for k, g in sorted(p.groups.items()) if g.hosted
    )


def _throughput(b: Builder) -> cp_model.LinearExprT:
    p = b.problem
    return sum(math.floor(c.requests_per_s * RATE_SCALE) * b.x[k] for k, c in sorted(p.candidates.items()))


def _domestic_devices(b: Builder) -> cp_model.LinearExprT:
    p = b.problem
    return sum(g.devices_per_unit * b.n[k] for k, g in sorted(p.groups.items()) if g.origin == "domestic")


def _canonical(b: Builder) -> cp_model.LinearExprT:
    names = sorted(b.n) + sorted(b.x)
    variables = [b.n[k] for k in sorted(b.n)] + [b.x[k] for k in sorted(b.x)]
    return sum((i + 1) * v for i, (_, v) in enumerate(zip(names, variables, strict=True)))


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
    return [*first, Stage("max_domestic_devices", _domestic_devices(b), maximize=True), Stage("canonical", _canonical(b))]

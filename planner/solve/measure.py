"""Floating-point figures of a solution: what the constraint table and the plan report.

These read the prepared problem and a solution (variable values by name). The independent
verifier (planner.verify) recomputes the same figures from the catalog without this module.
"""

from __future__ import annotations

from planner.models.plan import CostLines
from planner.solve.problem import Candidate, Group, Problem

Solution = dict[str, int]


def new_units(sol: Solution, g: Group) -> int:
    return sol.get(f"n:{g.key}", 0)


def owned_units(sol: Solution, g: Group) -> int:
    return new_units(sol, g) + g.existing_units


def blocks(sol: Solution, c: Candidate) -> int:
    return sol.get(f"x:{c.key}", 0)


def chosen_pool(p: Problem, sol: Solution) -> Candidate | None:
    for key in sorted(p.candidates):
        if p.kind == "training" and blocks(sol, p.candidates[key]) > 0:
            return p.candidates[key]
    return None


def group_costs(p: Problem, sol: Solution, g: Group) -> CostLines:
    """Cost lines of one group in USD over the horizon (training: over the run)."""
    n = new_units(sol, g)
    unit = g.costs_per_unit
    lines = CostLines(capex=n * unit.capex, levy=n * unit.levy, subsidy=n * unit.subsidy)
    if p.kind == "inference":
        owned = owned_units(sol, g)
        h = p.horizon_hours
        lines.energy = owned * g.energy_per_unit_hour * h
        lines.electricity_subsidy = owned * g.electricity_subsidy_per_unit_hour * h
        lines.rental = n * g.rental_per_unit_hour * h
    else:
        for c in p.candidates_of(g.key):
            if blocks(sol, c):
                lines.energy = c.pool_units * g.energy_per_unit_hour * c.hours
                lines.electricity_subsidy = c.pool_units * g.electricity_subsidy_per_unit_hour * c.hours
                lines.rental = c.pool_units * g.rental_per_unit_hour * c.hours
    return lines


def total_cost(p: Problem, sol: Solution) -> float:
    return sum(group_costs(p, sol, g).total for g in p.groups.values())


def capex(p: Problem, sol: Solution) -> float:
    total = 0.0
    for g in p.groups.values():
        lines = group_costs(p, sol, g)
        total += lines.capex + lines.levy - lines.subsidy
    return total


def power_kw(p: Problem, sol: Solution, sites: tuple[str, ...] | None = None) -> float:
    """Nameplate power (with PUE) of every hosted unit, existing ones included."""
    return sum(
        owned_units(sol, g) * g.power_kw_per_unit
        for g in p.groups.values()
        if g.hosted and (sites is None or g.site in sites)
    )


def delivered_rps(p: Problem, sol: Solution, domestic: bool | None = None) -> float:
    total = 0.0
    for c in p.candidates.values():
        g = p.groups[c.group]
        if domestic is None or (g.origin == "domestic") == domestic:
            total += blocks(sol, c) * c.requests_per_s
    return total


def measure(p: Problem, sol: Solution, which: str, domestic: bool | None) -> float:
    """Amount of a share measure (devices, compute, throughput, spend), domestic or all."""
    total = 0.0
    for g in p.groups.values():
        if domestic is not None and (g.origin == "domestic") != domestic:
            continue
        if which == "devices":
            total += owned_units(sol, g) * g.devices_per_unit
        elif which == "compute":
            total += owned_units(sol, g) * g.devices_per_unit * g.peak_tflops_per_device
        elif which == "spend":
            total += group_costs(p, sol, g).total
        elif which == "throughput":
            for c in p.candidates_of(g.key):
                total += blocks(sol, c) * throughput_per_block(p, c)
    return total


def throughput_per_block(p: Problem, c: Candidate) -> float:
    """Inference: requests/s. Training: achieved PFLOPS of the pool (its delivered compute)."""
    if p.kind == "inference":
        return c.requests_per_s
    assert c.pool is not None
    return c.pool.devices * c.pool.achieved_tflops_per_device / 1000.0


def share(p: Problem, sol: Solution, which: str) -> float:
    whole = measure(p, sol, which, None)
    return measure(p, sol, which, True) / whole if whole > 0 else 0.0

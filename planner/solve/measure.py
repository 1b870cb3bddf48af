"""Floating-point figures of a solution: what the constraint table and the plan report.

These read the prepared problem and a solution (variable values by name). The independent
verifier (planner.verify) recomputes the same figures from the catalog without this module.
"""

from __future__ import annotations

from planner.models.plan import CostLines
from planner.solve.problem import Candidate, Group, Problem

Solution = dict[str, int]


def new_units(sol: Solution, g: Group, t: int) -> int:
    return sol.get(f"n:{g.key}@{t}", 0)


def available(p: Problem, sol: Solution, g: Group, t: int) -> int:
    """Units able to serve in period t: owned after lead time, or rented in t."""
    if g.mode == "rental":
        return new_units(sol, g, t)
    return g.existing_units + sum(new_units(sol, g, s) for s in range(0, t - g.lag_periods + 1))


def blocks(sol: Solution, c: Candidate, t: int) -> int:
    return sol.get(f"x:{c.key}@{t}", 0)


def chosen(sol: Solution, c: Candidate) -> bool:
    return sol.get(f"y:{c.key}", 0) > 0


def pools(p: Problem, sol: Solution) -> list[Candidate]:
    return [p.candidates[k] for k in sorted(p.candidates) if chosen(sol, p.candidates[k])]


def acquisition_costs(p: Problem, g: Group, t: int, n: int) -> CostLines:
    """What n new units bought or rented in period t cost: capex, levy, subsidy, rental, residual."""
    unit = g.unit_costs[t]
    residual = p.residual_fraction.get(g.key, (0.0,) * len(p.periods))[t]
    return CostLines(
        capex=n * unit.capex,
        levy=n * unit.levy,
        subsidy=n * unit.subsidy,
        rental=n * g.rental_per_unit_hour[t] * p.periods[t].hours,
        residual=n * (unit.capex + unit.levy - unit.subsidy) * residual,
    )


def group_costs_period(p: Problem, sol: Solution, g: Group, t: int) -> CostLines:
    """Cost lines of one group in period t (USD): purchases and rentals made then, energy of use."""
    hours = p.periods[t].hours
    lines = acquisition_costs(p, g, t, new_units(sol, g, t))
    inference_units = sum(
        blocks(sol, c, t) * c.block_units for c in p.candidates_of(g.key) if p.job_kind(c) == "inference"
    )
    lines.energy = inference_units * g.energy_per_unit_hour[t] * hours
    lines.electricity_subsidy = inference_units * g.electricity_subsidy_per_unit_hour[t] * hours
    for c in p.candidates_of(g.key):
        if p.job_kind(c) == "training" and chosen(sol, c) and (c.periods[0] if c.periods else 0) == t:
            lines.energy += c.pool_units * g.energy_per_unit_hour[t] * c.hours
            lines.electricity_subsidy += c.pool_units * g.electricity_subsidy_per_unit_hour[t] * c.hours
            lines.rental += c.pool_units * g.rental_per_unit_hour[t] * c.hours
    return lines


def group_costs(p: Problem, sol: Solution, g: Group) -> CostLines:
    total = CostLines()
    for t in range(len(p.periods)):
        total = total + group_costs_period(p, sol, g, t)
    return total


def total_cost(p: Problem, sol: Solution) -> float:
    return sum(group_costs(p, sol, g).total for g in p.groups.values())


def capex(p: Problem, sol: Solution) -> float:
    total = 0.0
    for g in p.groups.values():
        lines = group_costs(p, sol, g)
        total += lines.capex + lines.levy - lines.subsidy
    return total


def power_kw(p: Problem, sol: Solution, t: int, sites: tuple[str, ...] | None = None) -> float:
    """Nameplate power (with PUE) of every hosted unit installed in period t, existing ones included."""
    return sum(
        available(p, sol, g, t) * g.power_kw_per_unit
        for g in p.groups.values()
        if g.hosted and (sites is None or g.site in sites)
    )


def max_power_kw(p: Problem, sol: Solution, sites: tuple[str, ...] | None = None) -> float:
    return max(power_kw(p, sol, t, sites) for t in range(len(p.periods)))


def delivered_rps(p: Problem, sol: Solution, job: str, t: int) -> float:
    return sum(blocks(sol, c, t) * c.requests_per_s for c in p.candidates_for(job))


def hedge_rps(p: Problem, sol: Solution, job: str, t: int) -> float:
    return sum(sol.get(f"z:{c.key}@{t}", 0) * c.requests_per_s for c in p.candidates_for(job))


def throughput_per_block(p: Problem, c: Candidate) -> float:
    """Delivered PFLOP/s: requests/s x FLOPs per request (inference), pool FLOP/s (training)."""
    if p.job_kind(c) == "inference":
        return c.requests_per_s * p.jobs[c.job].flops_per_request / 1e15
    assert c.pool is not None
    return c.pool.devices * c.pool.achieved_tflops_per_device / 1000.0


def measure(p: Problem, sol: Solution, which: str, domestic: bool | None, t: int | None) -> float:
    """Amount of a share measure in period t (spend: the whole horizon), domestic or all."""
    total = 0.0
    periods = range(len(p.periods)) if t is None else (t,)
    for g in p.groups.values():
        if domestic is not None and (g.origin == "domestic") != domestic:
            continue
        for s in periods:
            if which in ("devices", "compute"):
                units = available(p, sol, g, s)
                units += sum(
                    c.pool_units
                    for c in p.candidates_of(g.key)
                    if g.mode == "rental" and chosen(sol, c) and s in c.periods
                )
                per = g.devices_per_unit * (g.peak_tflops_per_device if which == "compute" else 1.0)
                total += units * per
            elif which == "throughput":
                for c in p.candidates_of(g.key):
                    if p.job_kind(c) == "inference":
                        total += blocks(sol, c, s) * throughput_per_block(p, c)
                    elif chosen(sol, c) and s in c.periods:
                        total += throughput_per_block(p, c)
        if which == "spend":
            total += group_costs(p, sol, g).total
    return total


def share(p: Problem, sol: Solution, which: str, t: int | None = None) -> float:
    if which == "spend":
        t = None
    whole = measure(p, sol, which, None, t)
    return measure(p, sol, which, True, t) / whole if whole > 0 else 0.0


def min_share(p: Problem, sol: Solution, which: str) -> float:
    """The lowest share over the periods that measure anything (the whole horizon for spend).

    A period with nothing installed or served has no share (0 of 0), not a share of 0 %."""
    if which == "spend" or len(p.periods) == 1:
        return share(p, sol, which, None if which == "spend" else 0)
    shares = [share(p, sol, which, t) for t in range(len(p.periods)) if measure(p, sol, which, None, t) > 0]
    return min(shares, default=0.0)

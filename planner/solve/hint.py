"""A greedy starting solution for the solver (a hint, never trusted as a plan).

Large schedules leave CP-SAT searching for a first good solution. The greedy serves each
job in each period from its cheapest allowed candidate (purchase price spread over the periods
left, plus running cost), buying or renting what is missing. It ignores floors, caps and
budgets: CP-SAT repairs the hint where it breaks them, and the model alone decides the plan.
"""

from __future__ import annotations

import math

from planner.solve.builder import Builder
from planner.solve.problem import Candidate


def _banned(b: Builder, c: Candidate, t: int) -> bool:
    g = b.problem.groups[c.group]
    if c.bans:
        return True
    return any(t in periods for _, periods in g.bans)


def _plan_job(b: Builder, c: Candidate, need: tuple[float, ...]) -> tuple[float, list[int]]:
    """Serving ``need`` from candidate c alone over the horizon: total cost and blocks per period.

    Purchases happen when the block count grows and persist; rentals are paid every period."""
    p = b.problem
    g = p.groups[c.group]
    blocks = [math.ceil(r / c.requests_per_s - 1e-9) if r > 0 else 0 for r in need]
    cost = 0.0
    held = 0
    for t, k in enumerate(blocks):
        units = k * c.block_units
        if g.mode == "rental":
            cost += units * b.unit_cost(g, t)
        else:
            if units > held:
                cost += (units - held) * b.unit_cost(g, t)
                held = units
            cost += units * b.run_cost_per_unit(g, t)
    return cost, blocks


def greedy_hint(b: Builder) -> dict[str, int]:
    """Variable values by solution name (see run.variables) for a plausible plan.

    Each inference job gets the single candidate that serves its whole demand curve cheapest;
    each training job its cheapest pool. Units are then bought (kept) or rented per period.
    """
    p = b.problem
    values: dict[str, int] = {}
    used: dict[tuple[str, int], int] = {}
    for name in sorted(p.jobs):
        job = p.jobs[name]
        active = [t for t in b.periods if job.kind == "inference" and job.required_rps[t] > 0]
        if job.kind == "inference":
            options = [c for c in p.candidates_for(name)
                       if c.requests_per_s > 0 and not any(_banned(b, c, t) for t in active)]
            if not options:
                continue
            best = min(options, key=lambda c: (_plan_job(b, c, job.required_rps)[0], c.key))
            _, blocks = _plan_job(b, best, job.required_rps)
            for t, k in enumerate(blocks):
                if k and (best.key, t) in b.x:
                    values[f"x:{best.key}@{t}"] = min(k, _upper(b.x[(best.key, t)]))
                    used[(best.group, t)] = used.get((best.group, t), 0) + k * best.block_units
        else:
            t0 = job.start_period
            options = [c for c in p.candidates_for(name) if c.key in b.y and not _banned(b, c, t0)]
            if not options:
                continue

            def pool_cost(c: Candidate) -> float:
                g = p.groups[c.group]
                buy = c.pool_units * b.unit_cost(g, t0) if g.mode == "purchase" else 0.0
                return buy + b.pool_run_cost(c)

            best = min(options, key=lambda c: (pool_cost(c), c.key))
            values[f"y:{best.key}"] = 1
            if p.groups[best.group].mode == "purchase":
                for t in best.periods:
                    used[(best.group, t)] = used.get((best.group, t), 0) + best.pool_units
    _top_up_domestic(b, used)
    for key in sorted(p.groups):
        g = p.groups[key]
        owned = g.existing_units
        for t in b.periods:
            need = used.get((key, t), 0)
            if g.mode == "rental":
                values[f"n:{key}@{t}"] = need
            else:
                extra = max(0, need - owned)
                values[f"n:{key}@{t}"] = extra
                owned += extra
    return values


def _top_up_domestic(b: Builder, used: dict[tuple[str, int], int]) -> None:
    """Add idle domestic units where a devices or compute floor would fail (what the optimum
    often does too); other measures are left to the search."""
    p = b.problem
    floors = [f for f in p.share_floors if f.measure in ("devices", "compute")]
    if not floors:
        return
    domestic = [g for g in p.groups.values() if g.origin == "domestic" and g.mode == "purchase"]
    if not domestic:
        return
    for t in b.periods:
        allowed = [g for g in domestic if not any(t in periods for _, periods in g.bans)]
        if not allowed:
            continue
        for floor in floors:
            f = floor.min_by_period[t]
            if f <= 0 or f >= 1:
                continue

            def weight(g: object) -> float:
                per = g.devices_per_unit  # type: ignore[attr-defined]
                return per * (g.peak_tflops_per_device if floor.measure == "compute" else 1.0)  # type: ignore[attr-defined]

            dom = sum(u * weight(p.groups[k]) for (k, s), u in used.items() if s == t and p.groups[k].origin == "domestic")
            dom += sum(g.existing_units * weight(g) for g in domestic if (g.key, t) not in used)
            total = sum(u * weight(p.groups[k]) for (k, s), u in used.items() if s == t)
            total += sum(g.existing_units * weight(g) for g in p.groups.values() if (g.key, t) not in used)
            missing = (f * total - dom) / (1.0 - f)
            if missing <= 0:
                continue
            cheapest = min(
                allowed, key=lambda g: (math.ceil(missing / weight(g)) * b.unit_cost(g, t), g.key)
            )
            extra = math.ceil(missing / weight(cheapest))
            for s in range(t, len(p.periods)):
                used[(cheapest.key, s)] = used.get((cheapest.key, s), 0) + extra


def _upper(var: object) -> int:
    domain = var.proto.domain  # type: ignore[attr-defined]
    return int(domain[-1])

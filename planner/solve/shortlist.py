"""Shortlist models: each workload may use only its cheapest layouts, to find a good plan fast.

On fleets of many workloads over many periods CP-SAT's first plans on the full model are poor:
every job needs only a few whole blocks, so the LP relaxation guides the search badly, and the
choices multiply with jobs × layouts × periods. Most layouts are never worth it. Ranked alone,
a job's cheapest layouts of domestic parts and of foreign parts nearly always include what the
optimum uses, and a model over them (the same constraints, fewer candidates) is small enough
to solve well in seconds. Its plan is the cutoff for the whole-model search beside the
decomposition (planner.solve.strategy); a second, wider pass (layouts within 30 % of the
cheapest) fed a neighbourhood search until the decomposition replaced both.

A layout here is a class: (job, offer, shape), at every site of the offer, so site pooling
still applies. Its standalone cost is what serving the job's demand with that layout alone
would cost over the horizon: whole blocks each period, units bought once and kept (or rented
each period), and their running cost. Training pools are ranked by pool cost.

Every plan of a shortlist is a plan of the full model. It is only a starting point: the full
model is solved next, searching only for cheaper plans, and only its bound is reported.
Measured on the bench fleets (30 s runs, 2026-11-21): one layout per origin gives 22.3M on
50 x 12 and 80.1-80.9M on 200 x 12.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict

from planner.solve.builder import Builder
from planner.solve.problem import Candidate, Problem

MIN_JOBS = 10
"""Fewer workloads solve well on the full model directly."""

Layout = tuple[str, str, str]
"""(job, offer, shape) — the same layout at each of the offer's sites."""


def applies(p: Problem) -> bool:
    """Large multi-period fleets whose first stage minimises (its plan becomes a cutoff)."""
    return len(p.jobs) >= MIN_JOBS and len(p.periods) > 1 and p.hedge is None and p.objective != "max_throughput"


def shortlist(p: Problem, within: float) -> Problem | None:
    """``p`` restricted, per job and origin, to the cheapest layout and those costing at most
    ``within`` times as much (1.0: the cheapest alone); None when that leaves out nothing.
    Whether it is worth solving is :func:`applies`."""
    b = Builder(p)
    layouts: dict[Layout, list[Candidate]] = defaultdict(list)
    for c in p.candidates.values():
        if not c.bans:  # banned candidates serve nothing in any plan
            layouts[_layout(p, c)].append(c)
    ranked: dict[tuple[str, str], list[tuple[float, Layout]]] = defaultdict(list)
    for layout, members in layouts.items():
        cost = min(_standalone_cost(p, b, c) for c in members)
        ranked[(layout[0], p.groups[members[0].group].origin)].append((cost, layout))
    keep: set[Layout] = set()
    for options in ranked.values():
        options.sort()
        cheapest = options[0][0]
        keep.add(options[0][1])
        keep.update(layout for cost, layout in options[1:] if cost <= within * cheapest)
    forced = {g for f in p.forced for g in f.groups}  # a part the plan must use stays available
    candidates = {
        key: c for key, c in p.candidates.items() if _layout(p, c) in keep or (c.group in forced and not c.bans)
    }
    usable = sum(len(members) for members in layouts.values())
    return None if len(candidates) == usable else dataclasses.replace(p, candidates=candidates)


def _layout(p: Problem, c: Candidate) -> Layout:
    return (c.job, p.groups[c.group].offer, c.key.rsplit("#", 1)[-1])


def _standalone_cost(p: Problem, b: Builder, c: Candidate) -> float:
    """What serving c's job with c alone costs over the horizon (USD); an existing fleet
    counts as owned. (Pricing in the idle domestic units a foreign part needs under a share
    floor was tried: it ranked worse, 200 x 12 82.6M instead of 78.1M.)"""
    g = p.groups[c.group]
    if p.job_kind(c) == "training":
        first = c.periods[0] if c.periods else 0
        units = c.pool_units if g.mode == "purchase" else 0  # rented pools are paid through the run
        return units * b.unit_cost(g, first) + b.pool_run_cost(c)
    if c.requests_per_s <= 0:
        return math.inf
    cost, owned = 0.0, g.existing_units if g.mode == "purchase" else 0
    for t, need in enumerate(p.jobs[c.job].required_rps):
        units = math.ceil(need / c.requests_per_s - 1e-9) * c.block_units if need > 0 else 0
        new = max(0, units - owned) if g.mode == "purchase" else units
        owned = max(owned, units)
        cost += new * b.unit_cost(g, t) + units * b.run_cost_per_unit(g, t)
    return cost

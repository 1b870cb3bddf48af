"""Where each numeric user constraint keeps its limit in a prepared problem, and how to move it.

Repairs (how far must a limit move to restore feasibility?) and sensitivities (what does one
step of a limit save?) both re-solve the same problem with one limit changed; this module is
the one place that knows how a limit maps onto the :class:`Problem`'s numbers. Moves never
edit a problem in place: they return a copy (the problem caches candidate indexes).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from planner.solve.problem import Candidate, Problem


@dataclass(frozen=True)
class Limit:
    """One numeric limit, in natural units."""

    name: str
    kind: str
    """budget, power, supply, share, ratio, hedge, demand or cluster."""
    current: float
    unit: str
    upper: bool
    """A cap (raising it relaxes) or a floor (lowering it relaxes)."""
    integer: bool = False
    """Whole numbers only (units, devices)."""


def limit_of(p: Problem, name: str) -> Limit | None:
    """The numeric limit behind constraint ``name``, or None for bans and structural rows."""
    if name == "budget:total" and p.budget_total is not None:
        return Limit(name, "budget", p.budget_total, "USD", True)
    if name == "budget:capex" and p.budget_capex is not None:
        return Limit(name, "budget", p.budget_capex, "USD", True)
    for cap in p.power_caps:
        if cap.name == name:
            return Limit(name, "power", cap.max_kw, "kW", True)
    caps = [c.max_units for c in p.unit_caps if c.name == name]
    if caps:
        return Limit(name, "supply", float(min(caps)), "units", True, integer=True)
    for tie in p.tie_ins:
        if tie.name == name:
            return Limit(name, "ratio", tie.ratio, "ratio", False)
    for floor in p.share_floors:
        if floor.name == name:
            return Limit(name, "share", max(floor.min_by_period), "share", False)
    if p.hedge is not None and name == p.hedge.name:
        return Limit(name, "hedge", p.hedge.serve_fraction, "share", False)
    job = demand_job(p, name)
    if job is not None and p.jobs[job].kind == "inference":
        return Limit(name, "demand", max(p.jobs[job].required_rps), "req/s", False)
    cap_devices = cluster_cap(p, name)
    if cap_devices is not None:
        return Limit(name, "cluster", float(cap_devices), "devices", True, integer=True)
    return None


def demand_job(p: Problem, name: str) -> str | None:
    """The job a ``demand:`` constraint belongs to (single workloads use generic entity names)."""
    if not name.startswith("demand:"):
        return None
    entity = name.split(":", 1)[1]
    if entity in p.jobs:
        return entity
    return next(iter(p.jobs)) if len(p.jobs) == 1 else None


def cluster_cap(p: Problem, name: str) -> int | None:
    """Devices a ``cluster:`` cap allows, as prepare recorded it."""
    return p.cluster_caps.get(name)


def candidate_devices(c: Candidate) -> int:
    """Devices in one replica (inference) or the pool (training): what a cluster cap bounds."""
    if c.pool is not None:
        return c.pool.devices
    return c.shape.devices if c.shape is not None else c.block_devices


def moved(p: Problem, name: str, value: float) -> Problem:
    """A copy of ``p`` with the limit of ``name`` set to ``value`` (natural units).

    Caps and floors that differ by period keep their shape: unit caps shift by the same number
    of units, share floors are clipped to ``value`` where lowered and raised to it where they
    apply, demand scales every period by ``value / peak``.
    """
    lim = limit_of(p, name)
    if lim is None:
        raise ValueError(f"{name} has no numeric limit")
    if name == "budget:total":
        return dataclasses.replace(p, budget_total=value)
    if name == "budget:capex":
        return dataclasses.replace(p, budget_capex=value)
    if lim.kind == "power":
        caps = [dataclasses.replace(c, max_kw=value) if c.name == name else c for c in p.power_caps]
        return dataclasses.replace(p, power_caps=caps)
    if lim.kind == "supply":
        shift = round(value - lim.current)
        units = [
            dataclasses.replace(c, max_units=max(0, c.max_units + shift)) if c.name == name else c for c in p.unit_caps
        ]
        return dataclasses.replace(p, unit_caps=units)
    if lim.kind == "ratio":
        ties = [dataclasses.replace(t, ratio=value) if t.name == name else t for t in p.tie_ins]
        return dataclasses.replace(p, tie_ins=ties)
    if lim.kind == "share":
        floors = []
        for f in p.share_floors:
            if f.name == name:
                mins = tuple(
                    (min(m, value) if value <= lim.current else value) if m > 0 else 0.0 for m in f.min_by_period
                )
                f = dataclasses.replace(f, min_by_period=mins)
            floors.append(f)
        return dataclasses.replace(p, share_floors=floors)
    if lim.kind == "hedge":
        assert p.hedge is not None
        return dataclasses.replace(p, hedge=dataclasses.replace(p.hedge, serve_fraction=value))
    if lim.kind == "demand":
        job_name = demand_job(p, name)
        assert job_name is not None
        job = p.jobs[job_name]
        scale = value / lim.current if lim.current > 0 else 0.0
        jobs = dict(p.jobs)
        jobs[job_name] = dataclasses.replace(job, required_rps=tuple(r * scale for r in job.required_rps))
        return dataclasses.replace(p, jobs=jobs)
    # cluster: layouts and pools up to ``value`` devices lose this ban
    cands = {}
    for key, c in p.candidates.items():
        if name in c.bans and candidate_devices(c) <= value:
            c = dataclasses.replace(c, bans=tuple(b for b in c.bans if b != name))
        cands[key] = c
    reasons = dict(p.ban_reasons)
    reasons[name] = re.sub(r"\d+ devices", f"{int(value)} devices", reasons[name])
    cluster = {**p.cluster_caps, name: int(value)}
    return dataclasses.replace(p, candidates=cands, ban_reasons=reasons, cluster_caps=cluster)


def cluster_sizes(p: Problem, name: str) -> list[int]:
    """Sizes of the layouts and pools a cluster cap forbids, smallest first (the cap's useful values)."""
    return sorted({candidate_devices(c) for c in p.candidates.values() if name in c.bans})

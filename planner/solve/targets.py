"""SLOs and deadlines: limits the performance layer applies before any model exists.

A TPOT or TTFT target drops replica layouts (and whole parts) and caps the batch of the rest; a
deadline sizes each training pool. They have no assumption literal, so whether one belongs to
a conflict is asked of the inputs: loosen that one target as far as the schema allows, prepare
again, and see whether the conflicting set then has a plan. Its repair is the least loosening
(on a 2 % grid, rounded in the user's favour) with which the whole workload has a plan.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from planner.errors import InputError
from planner.models.plan import Repair
from planner.solve import probe
from planner.solve.edits import Inputs, apply_edits
from planner.solve.limits import demand_job
from planner.solve.prepare import prepare
from planner.solve.problem import Problem

log = logging.getLogger(__name__)

GRID = 1.02
"""Repairs search target values current × 1.02^k."""
LOOSEST_MS = 3_600_000.0
LOOSEST_DAYS = 3650.0


@dataclass(frozen=True)
class Target:
    name: str
    """slo:tpot@<job>, slo:ttft@<job> or deadline:<job>."""
    job: str
    path: str
    current: float
    loosest: float
    unit: str
    label: str


def targets_of(src: Inputs, job: str) -> list[Target]:
    prefix, m = src.member(job)
    if m.kind == "inference" and m.slo is not None:
        return [
            Target(
                f"slo:tpot@{job}",
                job,
                f"{prefix}slo.tpot_ms",
                m.slo.tpot_ms,
                LOOSEST_MS,
                "ms",
                f"the {m.slo.tpot_ms:g} ms TPOT target of '{job}'",
            ),
            Target(
                f"slo:ttft@{job}",
                job,
                f"{prefix}slo.ttft_ms",
                m.slo.ttft_ms,
                LOOSEST_MS,
                "ms",
                f"the {m.slo.ttft_ms:g} ms TTFT target of '{job}'",
            ),
        ]
    if m.kind == "training" and m.deadline_days is not None:
        return [
            Target(
                f"deadline:{job}",
                job,
                f"{prefix}deadline_days",
                m.deadline_days,
                LOOSEST_DAYS,
                "days",
                f"the {m.deadline_days:g}-day deadline of '{job}'",
            )
        ]
    return []


def _prepared(src: Inputs, target: Target, value: float) -> Problem | None:
    try:
        return prepare(apply_edits(src.inp, [{"path": target.path, "value": value}]), src.catalog)
    except (InputError, ValueError) as exc:
        log.info("loosening %s to %s rejected: %s", target.name, value, exc)
        return None


def members(src: Inputs, problem: Problem, core: list[str]) -> list[Target]:
    """The targets whose loosening alone lets the conflicting set ``core`` hold."""
    jobs = sorted({j for n in core if (j := demand_job(problem, n)) is not None})
    out = []
    for job in jobs:
        for target in targets_of(src, job):
            if target.current >= target.loosest:
                continue
            loose = _prepared(src, target, target.loosest)
            if loose is not None and probe.feasibility(loose, src.options, only=core).feasible:
                out.append(target)
    return out


def _nice(value: float) -> float:
    """Rounded up: whole units from 10 on, tenths below."""
    return float(math.ceil(value - 1e-9)) if value >= 10 else math.ceil(value * 10 - 1e-9) / 10


def repair(src: Inputs, target: Target) -> Repair | None:
    """The least loosening of one target with which the whole workload has a plan."""
    steps = max(1, math.ceil(math.log(target.loosest / target.current) / math.log(GRID)))

    def value(k: int) -> float:
        return target.loosest if k >= steps else min(target.loosest, _nice(target.current * GRID**k))

    def ok(k: int) -> bool:
        return src.feasible([{"path": target.path, "value": value(k)}], None)

    if not ok(steps):
        return None
    lo, hi = 0, steps  # ok(hi) holds; find the smallest k with ok(k)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    need = value(hi)
    what = "deadline" if target.unit == "days" else target.name.split(":")[1].split("@")[0].upper() + " target"
    return Repair(
        constraint=target.name,
        action="raise",
        current=target.current,
        required=need,
        unit=target.unit,
        text=f"{what} of '{target.job}' ≥ {need:g} {target.unit} (now {target.current:g})",
        workload_edits=[{"path": target.path, "value": need}],
        verified=True,
    )

"""Demand: the fleet must deliver every workload in every period it runs."""

from __future__ import annotations

import functools
import math

from planner.solve import measure
from planner.solve.builder import RATE_SCALE, Builder, Row
from planner.solve.problem import Problem


def add_demand(b: Builder) -> None:
    """Inference job j, period t: Σ_{c∈j} ⌊rps_c·S⌋ · x[c,t] ≥ ⌈R_{j,t}·S⌉, S = 1000 (supply rounds down).

    Training job j: Σ_{c∈j} y[c] = 1 — exactly one pool, each sized by the performance model to
    meet the deadline and the memory floor on one part at one site.
    """
    p = b.problem
    single_period = len(p.periods) == 1
    for name, job in sorted(p.jobs.items()):
        cands = p.candidates_for(name)
        if job.kind == "inference":
            cname = "demand:requests_per_s" if len(p.jobs) == 1 else f"demand:{name}"
            for t in b.periods:
                need = job.required_rps[t]
                if need <= 0:
                    continue
                supply = sum(
                    math.floor(c.requests_per_s * RATE_SCALE) * b.x[(c.key, t)] for c in cands if (c.key, t) in b.x
                )
                b.add(cname, supply >= math.ceil(need * RATE_SCALE))
            peak_t = max(b.periods, key=lambda s: job.required_rps[s])
            b.row(
                Row(
                    name=cname,
                    family="demand",
                    description=f"delivered requests/s of '{name}' under its SLO"
                    + ("" if single_period else f" (period {peak_t}, the peak)"),
                    sense=">=",
                    limit=job.required_rps[peak_t],
                    unit="req/s",
                    evaluate=functools.partial(_delivered, p, job=name, period=peak_t),
                )
            )
        else:
            cname = "demand:training" if len(p.jobs) == 1 else f"demand:{name}"
            pools = [b.y[c.key] for c in cands if c.key in b.y]  # banned pools may be left out (compact mode)
            b.add(cname, (sum(pools) if pools else b.model.new_constant(0)) == 1)
            b.row(
                Row(
                    name="demand:deadline" if len(p.jobs) == 1 else f"deadline:{name}",
                    family="demand",
                    description=f"training days of '{name}' on the chosen pool",
                    sense="<=",
                    limit=job.deadline_days,
                    unit="days",
                    evaluate=functools.partial(_days, b, job=name),
                )
            )


def _days(b: Builder, sol: measure.Solution, job: str) -> float:
    for c in measure.pools(b.problem, sol):
        if c.job == job and c.pool is not None:
            return c.pool.days
    return float("nan")


def _delivered(p: Problem, sol: measure.Solution, job: str, period: int) -> float:
    return measure.delivered_rps(p, sol, job, period)

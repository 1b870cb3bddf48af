"""Overflow guard: refuse a problem whose scaled numbers CP-SAT cannot hold exactly.

CP-SAT works in 64-bit integers and rejects a model in which some linear expression could
overflow. The builder scales money to whole USD, rates to milli-requests/s, power to watts and
shares to basis points, so absurd (but individually valid) inputs — prices compounding over a
hundred periods, a replica serving a millionth of a request per second — could either crash the
Python bindings while building or make the model invalid. Both checks here turn that into a
clear refusal (exit 2) that says which figure is too large, instead of a crash or a wrong plan.
"""

from __future__ import annotations

import math

from ortools.sat.python import cp_model

from planner.errors import InputError
from planner.solve.problem import Problem

SAFE = 2**62
"""Largest |sum of coefficient x bound| allowed in any constraint or objective (CP-SAT: 2^63 - 1)."""
MAX_SCALED = 1e15
"""Largest single scaled number (USD, milli-req/s, W or blocks) before the model is built."""
BUDGET_TERMS = 10_000
"""Headroom for the share constraints, which multiply money by 10,000 basis points."""


def refuse(what: str, value: float, hint: str) -> InputError:
    return InputError.single("plan", f"{what} is {value:.3g}, too large to plan exactly in 64-bit integers", hint=hint)


def check_problem(p: Problem) -> None:
    """Every number the builder will scale is finite and small enough that building cannot overflow."""
    hours = [period.hours for period in p.periods]
    for g in p.groups.values():
        for t, lines in enumerate(g.unit_costs):
            money = {
                "a unit's price with levy": lines.capex + lines.levy,
                "a unit's rental over a period": g.rental_per_unit_hour[t] * hours[t],
                "a unit's energy over a period": g.energy_per_unit_hour[t] * hours[t],
            }
            for what, usd in money.items():
                if not math.isfinite(usd) or abs(usd) * BUDGET_TERMS > MAX_SCALED * 1000:
                    raise refuse(
                        f"{g.key} in period {t}: {what} (USD)",
                        usd,
                        "check the offer's price, the site's electricity price and any price trend",
                    )
        if not math.isfinite(g.power_kw_per_unit) or g.power_kw_per_unit * 1000 > MAX_SCALED:
            raise refuse(f"{g.key}: power per unit (kW)", g.power_kw_per_unit, "check TDP, server overhead and PUE")
    for job in p.jobs.values():
        for t, rps in enumerate(job.required_rps):
            if not math.isfinite(rps) or rps * 1000 > MAX_SCALED:
                raise refuse(f"'{job.name}' demand in period {t} (req/s)", rps, "check traffic and growth")
    for c in p.candidates.values():
        need = max(p.jobs[c.job].required_rps, default=0.0)
        if c.requests_per_s > 0 and need / c.requests_per_s > 1e9:
            raise refuse(
                f"'{c.job}' on {c.group}: blocks of replicas needed",
                need / c.requests_per_s,
                "one replica serves too little of the demand; check the model, SLO and accelerator",
            )
        if c.pool is not None and not math.isfinite(c.hours * c.pool_units):
            raise refuse(
                f"'{c.job}' on {c.group}: training device-hours",
                c.hours * c.pool_units,
                "check tokens, deadline and the accelerator's figures",
            )


def _has(message: object, name: str) -> bool:
    """Whether a proto field is set (OR-Tools' own wrapper or a protobuf message)."""
    own = getattr(message, f"has_{name}", None)
    return bool(own()) if callable(own) else bool(message.HasField(name))  # type: ignore[attr-defined]


def check_model(model: cp_model.CpModel) -> None:
    """CP-SAT's own validation (fast: it bounds every linear sum); on failure, name the culprit."""
    problem = model.validate()
    if not problem:
        return
    proto = model.proto
    domains = [list(v.domain) for v in proto.variables]  # (OR-Tools' wrapper has no negative indexing)
    bounds = [max(abs(d[0]), abs(d[-1])) if d else 0 for d in domains]

    def reach(vars_: list[int], coeffs: list[int]) -> int:
        return sum(abs(c) * bounds[v if v >= 0 else -v - 1] for v, c in zip(vars_, coeffs, strict=True))

    for ct in proto.constraints:
        if _has(ct, "linear") and reach(list(ct.linear.vars), list(ct.linear.coeffs)) >= SAFE:
            raise refuse(
                f"constraint '{ct.name or 'unnamed'}' could reach a value that",
                reach(list(ct.linear.vars), list(ct.linear.coeffs)),
                "the workload's scale (demand, periods, budget) or a catalog figure is too large",
            )
    if _has(proto, "objective") and reach(list(proto.objective.vars), list(proto.objective.coeffs)) >= SAFE:
        raise refuse(
            "the objective could reach a value that",
            reach(list(proto.objective.vars), list(proto.objective.coeffs)),
            "the workload's scale (demand, periods) or a catalog figure is too large",
        )
    raise InputError.single("plan", f"the model cannot be solved exactly: {problem.splitlines()[0]}")

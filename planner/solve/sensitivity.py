"""What binds and what it costs: marginal values of binding limits and the price of each policy.

Both are found by re-solving, not read from LP duals (the model is integer, so duals would
mislead): a binding limit — or one the plan comes within a step of, since integer plans rarely
sit exactly on a limit that binds — is moved one step in the direction that relaxes it (+10 %
for a cap, −10 % for a floor or the demand) and the optimum compared; a policy, ban, floor or
exclusion is switched off (its assumption literal set false, everything else unchanged) and
the optimum compared. Only the workload's own objective (stage 1) is re-solved. Relaxing never makes the
optimum worse, so every gain and price is ≥ 0 when the solves are proven optimal.
"""

from __future__ import annotations

import logging
import math

from planner.models.plan import Marginal, Plan, PolicyPrice, Sensitivity
from planner.solve import probe
from planner.solve.edits import money_text, power_text
from planner.solve.explain import describe
from planner.solve.extract import OBJECTIVE_UNITS
from planner.solve.limits import Limit, demand_job, limit_of, moved
from planner.solve.problem import Problem
from planner.solve.run import SolverOptions

log = logging.getLogger(__name__)

STEP = 0.10
"""One step of a limit: 10 % of its value."""
PRICED = ("policy:", "domestic_share:", "residency:", "exclude:", "allow:", "force:", "hedge:", "cluster:")
"""Constraints with a price: policies and the workload's own choices. Budgets, power and supply
are limits (see marginals); demand and linking are the workload itself."""


def _stepped(lim: Limit) -> float:
    if lim.upper:
        value = lim.current * (1 + STEP)
        return float(max(math.ceil(value), int(lim.current) + 1)) if lim.integer else value
    return lim.current * (1 - STEP)


def _natural(problem: Problem, value: float | None) -> float | None:
    if value is None:
        return None
    divisor, _ = OBJECTIVE_UNITS[problem.objective]
    return value / divisor


def _amount(problem: Problem, value: float) -> str:
    _, unit = OBJECTIVE_UNITS[problem.objective]
    return money_text(value) if unit == "USD" else f"{value:,.1f} {unit}"


def _horizon(problem: Problem) -> str:
    if problem.kind == "training":
        return "over the run"
    months = problem.horizon_hours / 730.0
    return f"over {months / 12:g} years" if months % 12 < 1e-6 else f"over {months:g} months"


def _better(problem: Problem, new: float, old: float) -> float:
    """Objective improvement from ``old`` to ``new`` (positive = better)."""
    return new - old if problem.objective == "max_throughput" else old - new


def sensitivity(
    problem: Problem, plan: Plan, options: SolverOptions, solution: dict[str, int] | None = None
) -> Sensitivity | None:
    """Marginal values of the plan's binding limits and the price of each policy in force.

    ``solution`` (the plan's variable values) seeds every re-solve: each one only relaxes the
    plan's problem, so the plan stays feasible there."""
    base = probe.optimum(problem, options, hint=solution)
    if not base.feasible or base.value is None:
        log.info("sensitivity: base problem not solved (%s)", base.status)
        return None
    v0 = _natural(problem, base.value)
    assert v0 is not None
    _, unit = OBJECTIVE_UNITS[problem.objective]
    out = Sensitivity(objective=problem.objective, unit=unit, objective_value=v0)
    for row in plan.constraints:
        lim = limit_of(problem, row.name)
        if lim is None or not (row.binding or _near(row.used, row.limit, lim.upper)):
            continue
        out.marginals.append(_marginal(problem, lim, row.description, v0, options, solution))
    names = sorted({row.name for row in plan.constraints if row.name.startswith(PRICED)})
    for name in names:
        out.policy_prices.append(_price(problem, name, v0, options, solution))
    return out


def _near(used: float, limit: float, upper: bool) -> bool:
    """Within one step of the limit: integer plans rarely sit exactly on a limit that binds."""
    return used >= limit * (1 - STEP) if upper else used <= limit * (1 + STEP)


def _marginal(
    problem: Problem, lim: Limit, description: str, v0: float, options: SolverOptions, solution: dict[str, int] | None
) -> Marginal:
    to = _stepped(lim)
    result = probe.optimum(moved(problem, lim.name, to), options, hint=solution)
    value = _natural(problem, result.value)
    step = f"{'+' if lim.upper else '−'}{STEP * 100:g} %"
    what = f"{step} {_label(problem, lim)} ({_limit_text(lim, lim.current)} → {_limit_text(lim, to)})"
    common = {
        "constraint": lim.name,
        "description": description,
        "limit": lim.current,
        "moved_to": to,
        "unit": lim.unit,
        "step": step,
        "status": _status(result),
    }
    if value is None:
        return Marginal(**common, text=f"{what}: no plan found ({result.status})")
    gain = _better(problem, value, v0)
    verb = "gains" if problem.objective == "max_throughput" else "saves"
    return Marginal(**common, objective_value=value, gain=gain, text=f"{what} {verb} {_amount(problem, gain)}")


def _price(
    problem: Problem, name: str, v0: float, options: SolverOptions, solution: dict[str, int] | None
) -> PolicyPrice:
    result = probe.optimum(problem, options, without=[name], hint=solution)
    value = _natural(problem, result.value)
    phrase = describe(problem, name)
    if value is None:
        return PolicyPrice(
            constraint=name,
            description=phrase,
            status_without=_status(result),
            text=f"{phrase}: no plan found without it ({result.status})",
        )
    price = _better(problem, value, v0)
    verb = "costs" if problem.objective != "max_throughput" else "loses"
    return PolicyPrice(
        constraint=name,
        description=phrase,
        status_without=_status(result),
        objective_without=value,
        price=price,
        text=f"{phrase} {verb} {_amount(problem, price)} {_horizon(problem)}",
    )


def _label(problem: Problem, lim: Limit) -> str:
    """What the step moves, in words: 'power at west', 'total budget', 'demand of chat'."""
    family, _, entity = lim.name.partition(":")
    if lim.kind == "budget":
        return f"{entity} budget"
    if lim.kind == "power":
        return "power across all sites" if entity == "total" else f"power at {entity}"
    if lim.kind == "share":
        return "the workload's domestic floor" if entity == "workload" else f"the domestic floor of policy '{entity}'"
    if lim.kind == "demand":
        job = demand_job(problem, lim.name)
        return f"demand of '{job}'"
    if lim.kind == "supply":
        return f"supply cap {entity}" if family == "supply" else f"unit cap of policy '{entity}'"
    if lim.kind == "ratio":
        return f"tie-in ratio of policy '{entity}'"
    if lim.kind == "hedge":
        return "hedge serve fraction"
    return f"cluster cap ({lim.name})"


def _limit_text(lim: Limit, value: float) -> str:
    if lim.unit == "USD":
        return money_text(value)
    if lim.unit == "kW":
        return power_text(value)
    if lim.unit == "share":
        return f"{value:.4g}"
    return f"{value:,.6g} {lim.unit}"


def _status(result: probe.Probe) -> str:
    return result.status if result.status in ("OPTIMAL", "FEASIBLE", "INFEASIBLE") else "NO_SOLUTION"

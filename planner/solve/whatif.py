"""'Why not X?': the plan with parts forced in or excluded, against the plan without."""

from __future__ import annotations

from planner.models.fleet import Fleet
from planner.models.plan import Plan, WhatIf
from planner.models.workload import Workload
from planner.solve.edits import money_text


def what_if(changed: Plan, baseline: Plan, force: list[str], exclude: list[str]) -> WhatIf:
    """The cost delta of the change, or the conflict it creates (from ``changed.explanation``)."""
    parts = [f"forcing {', '.join(force)}"] if force else []
    parts += [f"excluding {', '.join(exclude)}"] if exclude else []
    label = " and ".join(parts)
    base_tco = baseline.totals.tco_usd if baseline.ok and baseline.totals is not None else None
    tco = changed.totals.tco_usd if changed.ok and changed.totals is not None else None
    delta = tco - base_tco if tco is not None and base_tco is not None else None
    if tco is None:
        why = changed.explanation.summary if changed.explanation is not None else changed.status
        text = f"{label} leaves no plan: {why}"
    elif base_tco is None:
        text = f"{label} gives a plan of {money_text(tco)}; without it there is none ({baseline.status})"
    elif abs(delta or 0.0) < 0.5:
        text = f"{label} costs nothing: the optimal plan already complies ({money_text(tco)})"
    else:
        sign = "+" if (delta or 0.0) > 0 else "−"
        text = f"{label} costs {sign}{money_text(abs(delta or 0.0))} ({money_text(tco)} against {money_text(base_tco)})"
    return WhatIf(
        forced=list(force),
        excluded=list(exclude),
        baseline_status=baseline.status,
        baseline_tco_usd=base_tco,
        tco_usd=tco,
        delta_usd=delta,
        text=text,
    )


def with_choices(inp: Workload | Fleet, force: list[str], exclude: list[str]) -> Workload | Fleet:
    """A copy of the workload with ids added to constraints.force and constraints.exclude."""
    cons = inp.constraints
    update = {"force": [*cons.force, *force], "exclude": [*cons.exclude, *exclude]}
    out = inp.model_copy(update={"constraints": cons.model_copy(update=update)})
    out._origin = inp._origin
    return out

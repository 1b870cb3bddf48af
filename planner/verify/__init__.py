"""Independent check of a plan: recompute every figure from the catalog and the chosen units.

Nothing here uses the CP-SAT model, the prepared problem or its integer scaling. Prices,
levies, subsidies and policies are re-derived from the catalog for each period; power from
TDPs and PUEs; delivery from the performance model run afresh on each line's layout. Then every
figure the plan states (line costs, power, totals, shares, cash flow, schedule, hedge, the
objective) is compared with the recomputation, and every constraint is checked in floating
point. A plan that fails is a planner bug, never shown as a plan.

Tolerances: recomputed figures agree to 1e-6 relative (floating-point order only); limits
(budget, power, demand) hold to 1e-6 relative, because the model rounds conservatively; share
floors to 1e-4 absolute (floors are basis points); the objective to the plan's stated
money rounding bound.
"""

from __future__ import annotations

from planner.catalog.store import Catalog
from planner.models.fleet import Fleet
from planner.models.plan import Plan
from planner.models.workload import Workload
from planner.verify.checker import Checker


def verify(plan: Plan, workload: Workload | Fleet, catalog: Catalog) -> list[str]:
    """Every way the plan breaks a constraint or misstates a figure; empty when it is sound."""
    if not plan.ok:
        return []
    return Checker(plan, workload, catalog).run()


__all__ = ["verify"]

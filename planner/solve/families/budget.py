"""Budget: total cost of ownership over the horizon, and capital spend."""

from __future__ import annotations

import math

from planner.solve import measure
from planner.solve.builder import MONEY_RESOLUTION_USD, Builder, Row, linear


def add_budget(b: Builder) -> None:
    """Σ ⌈cost⌉ · v ≤ ⌊B_total⌋ over every purchase, rental and use, and
    Σ_{g,t} ⌈capex + levy − subsidy⌉_{g,t} · n[g,t] ≤ ⌊B_capex⌋.

    Coefficients are whole USD rounded up, so a plan that passes here passes in exact arithmetic.
    """
    p = b.problem
    if p.budget_total is not None:
        cap = math.floor(p.budget_total / MONEY_RESOLUTION_USD)
        b.add("budget:total", linear(b.cost_terms()) <= b.limit("budget:total", cap))
        b.row(
            Row(
                "budget:total",
                "budget",
                "total cost of ownership",
                "<=",
                p.budget_total,
                "USD",
                lambda sol: measure.total_cost(p, sol),
            )
        )
    if p.budget_capex is not None:
        cap = math.floor(p.budget_capex / MONEY_RESOLUTION_USD)
        b.add("budget:capex", linear(b.capex_terms()) <= b.limit("budget:capex", cap))
        b.row(
            Row(
                "budget:capex",
                "budget",
                "capital spend (levy in, subsidies out)",
                "<=",
                p.budget_capex,
                "USD",
                lambda sol: measure.capex(p, sol),
            )
        )

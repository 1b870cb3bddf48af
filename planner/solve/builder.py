"""The CP-SAT model under construction: variables, named constraints, integer scaling.

Every constraint goes through :meth:`Builder.add` with a ``family:entity`` name. In explain
mode each name gets one assumption literal, so an infeasibility core is a list of names.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from planner.solve.problem import Candidate, Group, Problem

MONEY_RESOLUTION_USD = 1.0
"""Money coefficients are whole USD, rounded up, so an integer budget check is conservative."""
RATE_SCALE = 1000
"""Requests/s are counted in milli-requests/s; supply rounds down, demand rounds up."""
SHARE_SCALE = 10_000
"""Share floors in basis points (0.01 %)."""
WATT = 1000.0

Solution = dict[str, int]
"""Variable values by name: 'n:<group>' new units, 'x:<candidate>' blocks or pool choice."""


@dataclass
class Row:
    """A user-visible constraint: evaluated in floating point on the final plan."""

    name: str
    family: str
    description: str
    sense: str
    limit: float
    unit: str
    evaluate: Callable[[Solution], float]


@dataclass
class Builder:
    problem: Problem
    explain: bool = False
    model: cp_model.CpModel = field(default_factory=cp_model.CpModel)
    n: dict[str, cp_model.IntVar] = field(default_factory=dict)
    x: dict[str, cp_model.IntVar] = field(default_factory=dict)
    literals: dict[str, cp_model.IntVar] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    constraint_count: int = 0

    # ---- named constraints --------------------------------------------------------------
    def literal(self, name: str) -> cp_model.IntVar:
        if name not in self.literals:
            self.literals[name] = self.model.new_bool_var(f"assume[{name}]")
        return self.literals[name]

    def add(self, name: str, bounded: cp_model.BoundedLinearExpression | bool) -> None:
        """Add one constraint belonging to the user constraint ``name``."""
        ct = self.model.add(bounded)
        ct.with_name(name)
        if self.explain:
            ct.only_enforce_if(self.literal(name))
        self.constraint_count += 1

    def row(self, row: Row) -> None:
        self.rows.append(row)

    # ---- variables ----------------------------------------------------------------------
    def make_variables(self) -> None:
        p = self.problem
        for key in sorted(p.groups):
            g = p.groups[key]
            self.n[key] = self.model.new_int_var(0, self.unit_bound(g), f"n:{key}")
        for key in sorted(p.candidates):
            c = p.candidates[key]
            if p.kind == "training":
                self.x[key] = self.model.new_bool_var(f"x:{key}")
            else:
                self.x[key] = self.model.new_int_var(0, self.block_bound(c), f"x:{key}")

    def block_bound(self, c: Candidate) -> int:
        """Blocks of one candidate never exceed what serves the whole demand alone (or budget)."""
        p = self.problem
        bound = math.ceil(p.required_rps / c.requests_per_s) if c.requests_per_s > 0 else 0
        if p.objective == "max_throughput":
            g = p.groups[c.group]
            per_unit = self.unit_cost(g)
            budget = p.budget_total if p.budget_total is not None else p.budget_capex
            if budget is not None and per_unit > 0:
                bound = max(bound, math.floor(budget / (per_unit * c.block_units)))
        return max(bound, 0)

    def unit_bound(self, g: Group) -> int:
        p = self.problem
        cands = p.candidates_of(g.key)
        if p.kind == "training":
            return max((c.pool_units for c in cands), default=0)
        return max((self.block_bound(c) * c.block_units for c in cands), default=0)

    # ---- money (USD, floating) ----------------------------------------------------------
    def unit_cost(self, g: Group) -> float:
        """Cost of one new unit over the horizon (inference) or its purchase (training)."""
        lines = g.costs_per_unit
        cost = lines.capex + lines.levy - lines.subsidy
        if self.problem.kind == "inference":
            hours = self.problem.horizon_hours
            cost += (g.energy_per_unit_hour - g.electricity_subsidy_per_unit_hour + g.rental_per_unit_hour) * hours
        return cost

    def existing_cost(self, g: Group) -> float:
        """Running cost of existing units over the horizon (inference only; constant)."""
        if self.problem.kind != "inference":
            return 0.0
        hours = self.problem.horizon_hours
        return g.existing_units * (g.energy_per_unit_hour - g.electricity_subsidy_per_unit_hour) * hours

    def pool_run_cost(self, c: Candidate) -> float:
        """Training: energy and rental for the pool's units while the job runs."""
        g = self.problem.groups[c.group]
        per_hour = g.energy_per_unit_hour - g.electricity_subsidy_per_unit_hour + g.rental_per_unit_hour
        return c.pool_units * per_hour * c.hours

    def cost_terms(self) -> tuple[list[tuple[cp_model.IntVar, int]], int]:
        """Total cost as integer (var, coefficient) terms plus a constant, whole USD rounded up."""
        terms: list[tuple[cp_model.IntVar, int]] = []
        const = 0
        for key, g in sorted(self.problem.groups.items()):
            terms.append((self.n[key], money(self.unit_cost(g))))
            const += money(self.existing_cost(g))
        if self.problem.kind == "training":
            for key, c in sorted(self.problem.candidates.items()):
                terms.append((self.x[key], money(self.pool_run_cost(c))))
        return terms, const

    def capex_terms(self) -> list[tuple[cp_model.IntVar, int]]:
        out = []
        for key, g in sorted(self.problem.groups.items()):
            lines = g.costs_per_unit
            out.append((self.n[key], money(lines.capex + lines.levy - lines.subsidy)))
        return out

    def owned_units(self, key: str) -> cp_model.LinearExprT:
        return self.n[key] + self.problem.groups[key].existing_units


def money(usd: float) -> int:
    """Whole USD, rounded up (conservative for budgets)."""
    return int(math.ceil(usd / MONEY_RESOLUTION_USD - 1e-9)) if usd > 0 else int(math.floor(usd))


def linear(terms: list[tuple[cp_model.IntVar, int]]) -> cp_model.LinearExprT:
    return cp_model.LinearExpr.weighted_sum([v for v, _ in terms], [c for _, c in terms])

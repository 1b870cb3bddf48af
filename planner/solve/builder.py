"""The CP-SAT model under construction: variables, named constraints, integer scaling.

Every constraint goes through :meth:`Builder.add` with a ``family:entity`` name. In explain
mode each name gets one assumption literal, so an infeasibility core is a list of names.

Variables (t ranges over periods):
- ``n[g, t]``  new units of group g: bought in t (purchase) or rented during t (rental);
- ``x[c, t]``  blocks of inference candidate c serving in t;
- ``y[c]``     training pool c chosen (Boolean);
- ``z[c, t]``  blocks of c re-allocated in the hedge's loss scenario;
- ``s[g, k, t]`` blocks of k units placed at group g, when sites are pooled (planner.solve.site_pool):
  then ``x`` exists only for each pooled layout's representative candidate.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from planner.solve import site_pool
from planner.solve.problem import Candidate, Group, Problem

MONEY_RESOLUTION_USD = 1.0
"""Money coefficients are whole USD, rounded up, so an integer budget check is conservative."""
RATE_SCALE = 1000
"""Requests/s are counted in milli-requests/s; supply rounds down, demand rounds up."""
SHARE_SCALE = 10_000
"""Share floors in basis points (0.01 %)."""
WATT = 1000.0
RELAX_BOUND = 10**15
"""Largest move a repair search considers (in the constraint's integer unit)."""

Solution = dict[str, int]
"""Variable values by name: 'n:<group>@<t>', 'x:<cand>@<t>', 'y:<cand>', 'z:<cand>@<t>'
(and, inside a pooled model only, 's:<group>#<k>@<t>')."""


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


def money(usd: float) -> int:
    """Whole USD, rounded up (conservative for budgets)."""
    return math.ceil(usd / MONEY_RESOLUTION_USD - 1e-9) if usd > 0 else math.floor(usd)


@dataclass
class Builder:
    problem: Problem
    explain: bool = False
    model: cp_model.CpModel = field(default_factory=cp_model.CpModel)
    n: dict[tuple[str, int], cp_model.IntVar] = field(default_factory=dict)
    x: dict[tuple[str, int], cp_model.IntVar] = field(default_factory=dict)
    y: dict[str, cp_model.IntVar] = field(default_factory=dict)
    z: dict[tuple[str, int], cp_model.IntVar] = field(default_factory=dict)
    literals: dict[str, cp_model.IntVar] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    constraint_count: int = 0
    relax: str | None = None
    """Repair mode: the one constraint whose limit becomes a variable (see :meth:`limit`)."""
    relaxations: dict[str, cp_model.IntVar] = field(default_factory=dict)
    compact: bool = False
    """Exact reductions for solving: pool an offer's sites (planner.solve.site_pool) and leave out
    banned layouts (always zero). Off when explaining, which needs every constraint by name; on
    for a repair's smallest move (one relaxed limit), which it made 2x faster on a 10 x 2 fleet."""
    zeros: list[str] = field(default_factory=list)
    """Compact mode: names of the variables left out, all zero in every plan."""
    pools: site_pool.SitePools | None = None
    s: dict[tuple[str, int, int], cp_model.IntVar] = field(default_factory=dict)
    placed: dict[tuple[str, int], list[tuple[int, cp_model.IntVar]]] = field(default_factory=dict)
    """Pooled blocks by (group, period): (units per block, var)."""

    # ---- named constraints --------------------------------------------------------------
    def literal(self, name: str) -> cp_model.IntVar:
        if name not in self.literals:
            self.literals[name] = self.model.new_bool_var(f"assume[{name}]")
        return self.literals[name]

    def add(self, name: str, bounded: object) -> None:
        """Add one constraint belonging to the user constraint ``name``."""
        ct = self.model.add(bounded)  # type: ignore[arg-type]
        ct.with_name(name)
        if self.explain:
            ct.only_enforce_if(self.literal(name))
        self.constraint_count += 1

    def row(self, row: Row) -> None:
        self.rows.append(row)

    def limit(self, name: str, value: int, *, upper: bool = True) -> cp_model.LinearExprT:
        """The integer limit of constraint ``name``: ``value``, or in repair mode for that name
        ``value + Δ`` (a cap, ``upper``) or ``value − Δ`` (a floor) with one Δ ≥ 0 shared by all its
        rows, so minimising Δ finds the smallest change that restores feasibility on its own."""
        if name != self.relax:
            return value
        if name not in self.relaxations:
            self.relaxations[name] = self.model.new_int_var(0, RELAX_BOUND, f"relax[{name}]")
        delta = self.relaxations[name]
        return value + delta if upper else value - delta

    # ---- variables ----------------------------------------------------------------------
    @property
    def periods(self) -> range:
        return range(len(self.problem.periods))

    def make_variables(self) -> None:
        p = self.problem
        compact = self.compact and not self.explain
        if compact:
            self.pools = site_pool.find(p)
        rep_of = self.pools.rep_of if self.pools else {}
        for key in sorted(p.candidates):
            c = p.candidates[key]
            training = p.job_kind(c) == "training"
            if compact and c.bans:  # a banned layout serves nothing in any plan
                self.zeros += [f"y:{key}"] if training else [f"x:{key}@{t}" for t in self.periods]
            elif training:
                self.y[key] = self.model.new_bool_var(f"y:{key}")
            elif rep_of.get(key, key) == key:  # per-site candidates, and each pooled layout once
                for t in self.periods:
                    self.x[(key, t)] = self.model.new_int_var(0, self.block_bound(c, t), f"x:{key}@{t}")
        if self.pools is not None:
            for offer, k in self.pools.classes:
                reps = [p.candidates[r] for r in self.pools.reps[(offer, k)]]
                for t in self.periods:
                    bound = sum(self.block_bound(c, t) for c in reps)
                    for g in self.pools.sites[(offer, k)]:
                        name = site_pool.block_name(g, k, t)
                        self.s[(g, k, t)] = self.model.new_int_var(0, bound, name)
                        self.placed.setdefault((g, t), []).append((k, self.s[(g, k, t)]))
        for key in sorted(p.groups):
            for t in self.periods:
                self.n[(key, t)] = self.model.new_int_var(0, self.unit_bound(p.groups[key], t), f"n:{key}@{t}")
        if p.hedge is not None:
            lost = set(p.hedge.lost_groups)
            for key in sorted(p.candidates):
                c = p.candidates[key]
                if c.job in p.hedge.jobs and c.group not in lost and p.job_kind(c) == "inference":
                    if compact and c.bans:
                        self.zeros += [f"z:{key}@{t}" for t in self.periods]
                        continue
                    for t in self.periods:
                        self.z[(key, t)] = self.model.new_int_var(0, self.block_bound(c, t), f"z:{key}@{t}")

    def block_bound(self, c: Candidate, t: int) -> int:
        """Blocks of one candidate never exceed what serves its job's whole demand alone (or the budget)."""
        p = self.problem
        need = p.jobs[c.job].required_rps[t]
        bound = math.ceil(need / c.requests_per_s) if c.requests_per_s > 0 else 0
        if p.objective == "max_throughput":
            g = p.groups[c.group]
            per_unit = self.unit_cost(g, t) + self.run_cost_per_unit(g, t)
            if p.budget_total is not None and per_unit > 0:
                bound = max(bound, math.floor(p.budget_total / (per_unit * c.block_units)))
        return max(bound, 0)

    def unit_bound(self, g: Group, t: int) -> int:
        """New units in one period: enough for every job's candidates here in any later period."""
        p = self.problem
        total = 0
        for c in p.candidates_of(g.key):
            if p.job_kind(c) == "training":
                total += c.pool_units
            else:
                later = range(t, len(p.periods)) if g.mode == "purchase" else range(t, t + 1)
                total += max((self.block_bound(c, s) * c.block_units for s in later), default=0)
        return total

    # ---- money (USD, floating) ----------------------------------------------------------
    def unit_cost(self, g: Group, t: int) -> float:
        """What one new unit costs when bought (purchase, net of residual value) or rented in period t."""
        lines = g.unit_costs[t]
        cost = (lines.capex + lines.levy - lines.subsidy) * (1.0 - self.residual(g, t))
        return cost + g.rental_per_unit_hour[t] * self.problem.periods[t].hours

    def residual(self, g: Group, t: int) -> float:
        fractions = self.problem.residual_fraction.get(g.key)
        return fractions[t] if fractions else 0.0

    def run_cost_per_unit(self, g: Group, t: int) -> float:
        """Energy net of subsidy for one unit serving through period t."""
        return (g.energy_per_unit_hour[t] - g.electricity_subsidy_per_unit_hour[t]) * self.problem.periods[t].hours

    def pool_run_cost(self, c: Candidate) -> float:
        """Training: energy and rental for the pool's units while the job runs (start-period prices)."""
        g = self.problem.groups[c.group]
        t = c.periods[0] if c.periods else 0
        per_hour = g.energy_per_unit_hour[t] - g.electricity_subsidy_per_unit_hour[t] + g.rental_per_unit_hour[t]
        return c.pool_units * per_hour * c.hours

    def pooled(self, key: str) -> bool:
        """Candidate ``key`` is served through the pooled sites (its units are counted in ``s``)."""
        return self.pools is not None and key in self.pools.rep_of

    def serving_terms(self) -> list[tuple[cp_model.IntVar, str, int, int]]:
        """Variables that put units to work: (var, group, period, units per 1 of var)."""
        p = self.problem
        out = [
            (var, p.candidates[key].group, t, p.candidates[key].block_units)
            for (key, t), var in sorted(self.x.items())
            if not self.pooled(key)
        ]
        out += [(var, g, t, k) for (g, k, t), var in sorted(self.s.items())]
        return out

    def cost_terms(self) -> list[tuple[cp_model.IntVar, int]]:
        """Total cost as integer (var, coefficient) terms, whole USD rounded up."""
        p = self.problem
        terms: list[tuple[cp_model.IntVar, int]] = []
        for (key, t), var in sorted(self.n.items()):
            terms.append((var, money(self.unit_cost(p.groups[key], t))))
        for var, group, t, units in self.serving_terms():
            terms.append((var, money(units * self.run_cost_per_unit(p.groups[group], t))))
        for key, var in sorted(self.y.items()):
            terms.append((var, money(self.pool_run_cost(p.candidates[key]))))
        return [(v, c) for v, c in terms if c != 0]

    def capex_terms(self) -> list[tuple[cp_model.IntVar, int]]:
        out = []
        for (key, t), var in sorted(self.n.items()):
            lines = self.problem.groups[key].unit_costs[t]
            coef = money(lines.capex + lines.levy - lines.subsidy)
            if coef:
                out.append((var, coef))
        return out

    def available(self, key: str, t: int) -> cp_model.LinearExprT:
        """Units of group ``key`` able to serve in period t: owned (after lead time) or rented."""
        g = self.problem.groups[key]
        if g.mode == "rental":
            return self.n[(key, t)]
        bought = [self.n[(key, s)] for s in range(0, t - g.lag_periods + 1)]
        return sum(bought) + g.existing_units


def linear(terms: list[tuple[cp_model.IntVar, int]]) -> cp_model.LinearExprT:
    if not terms:
        return 0
    return cp_model.LinearExpr.weighted_sum([v for v, _ in terms], [c for _, c in terms])

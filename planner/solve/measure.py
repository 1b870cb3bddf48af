"""Floating-point figures of a solution: what the constraint table and the plan report.

These read the prepared problem and a solution (variable values by name). The independent
verifier (planner.verify) recomputes the same figures from the catalog without this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from planner.models.plan import CostLines
from planner.solve.problem import Candidate, Group, Problem

Solution = dict[str, int]


def new_units(sol: Solution, g: Group, t: int) -> int:
    return sol.get(f"n:{g.key}@{t}", 0)


def available(p: Problem, sol: Solution, g: Group, t: int) -> int:
    """Units able to serve in period t: owned after lead time, or rented in t."""
    return Figures(p, sol).available(g, t)


def blocks(sol: Solution, c: Candidate, t: int) -> int:
    return sol.get(f"x:{c.key}@{t}", 0)


def chosen(sol: Solution, c: Candidate) -> bool:
    return sol.get(f"y:{c.key}", 0) > 0


def pools(p: Problem, sol: Solution) -> list[Candidate]:
    return [p.candidates[k] for k in sorted(p.candidates) if chosen(sol, p.candidates[k])]


Amounts = dict[str, float]
"""Cost lines as plain floats by CostLines field: sums over many periods without a model per step."""
_LINES = tuple(CostLines.model_fields)


def _acquisition(p: Problem, g: Group, t: int, n: int) -> Amounts:
    unit = g.unit_costs[t]
    residual = p.residual_fraction.get(g.key, (0.0,) * len(p.periods))[t]
    return {
        "capex": n * unit.capex,
        "levy": n * unit.levy,
        "subsidy": n * unit.subsidy,
        "energy": 0.0,
        "electricity_subsidy": 0.0,
        "rental": n * g.rental_per_unit_hour[t] * p.periods[t].hours,
        "residual": n * (unit.capex + unit.levy - unit.subsidy) * residual,
    }


def acquisition_costs(p: Problem, g: Group, t: int, n: int) -> CostLines:
    """What n new units bought or rented in period t cost: capex, levy, subsidy, rental, residual."""
    return CostLines(**_acquisition(p, g, t, n))


def _period_amounts(p: Problem, sol: Solution, g: Group, t: int) -> Amounts:
    hours = p.periods[t].hours
    lines = _acquisition(p, g, t, new_units(sol, g, t))
    inference_units = sum(
        blocks(sol, c, t) * c.block_units for c in p.candidates_of(g.key) if p.job_kind(c) == "inference"
    )
    lines["energy"] = inference_units * g.energy_per_unit_hour[t] * hours
    lines["electricity_subsidy"] = inference_units * g.electricity_subsidy_per_unit_hour[t] * hours
    for c in p.candidates_of(g.key):
        if p.job_kind(c) == "training" and chosen(sol, c) and (c.periods[0] if c.periods else 0) == t:
            lines["energy"] += c.pool_units * g.energy_per_unit_hour[t] * c.hours
            lines["electricity_subsidy"] += c.pool_units * g.electricity_subsidy_per_unit_hour[t] * c.hours
            lines["rental"] += c.pool_units * g.rental_per_unit_hour[t] * c.hours
    return lines


def group_costs_period(p: Problem, sol: Solution, g: Group, t: int) -> CostLines:
    """Cost lines of one group in period t (USD): purchases and rentals made then, energy of use."""
    return CostLines(**_period_amounts(p, sol, g, t))


def group_costs(p: Problem, sol: Solution, g: Group) -> CostLines:
    """The group's cost lines over the horizon: each line added up period by period."""
    total = dict.fromkeys(_LINES, 0.0)
    for t in range(len(p.periods)):
        period = _period_amounts(p, sol, g, t)
        for line in _LINES:
            total[line] = total[line] + period[line]
    return CostLines(**total)


def total_cost(p: Problem, sol: Solution) -> float:
    return sum(group_costs(p, sol, g).total for g in p.groups.values())


def capex(p: Problem, sol: Solution) -> float:
    total = 0.0
    for g in p.groups.values():
        lines = group_costs(p, sol, g)
        total += lines.capex + lines.levy - lines.subsidy
    return total


def power_kw(p: Problem, sol: Solution, t: int, sites: tuple[str, ...] | None = None) -> float:
    """Nameplate power (with PUE) of every hosted unit installed in period t, existing ones included."""
    return Figures(p, sol).power_kw(t, sites)


def max_power_kw(p: Problem, sol: Solution, sites: tuple[str, ...] | None = None) -> float:
    figures = Figures(p, sol)
    return max(figures.power_kw(t, sites) for t in range(len(p.periods)))


def delivered_rps(p: Problem, sol: Solution, job: str, t: int) -> float:
    return sum(blocks(sol, c, t) * c.requests_per_s for c in p.candidates_for(job))


def hedge_rps(p: Problem, sol: Solution, job: str, t: int) -> float:
    return sum(sol.get(f"z:{c.key}@{t}", 0) * c.requests_per_s for c in p.candidates_for(job))


def throughput_per_block(p: Problem, c: Candidate) -> float:
    """Delivered PFLOP/s: requests/s x FLOPs per request (inference), pool FLOP/s (training)."""
    if p.job_kind(c) == "inference":
        return c.requests_per_s * p.jobs[c.job].flops_per_request / 1e15
    assert c.pool is not None
    return c.pool.devices * c.pool.achieved_tflops_per_device / 1000.0


def measure(p: Problem, sol: Solution, which: str, domestic: bool | None, t: int | None) -> float:
    """Amount of a share measure in period t (spend: the whole horizon), domestic or all."""
    return Figures(p, sol).measure(which, domestic, t)


def share(p: Problem, sol: Solution, which: str, t: int | None = None) -> float:
    return Figures(p, sol).share(which, t)


def min_share(p: Problem, sol: Solution, which: str) -> float:
    """The lowest share over the periods that measure anything (the whole horizon for spend)."""
    return Figures(p, sol).min_share(which)


Term = tuple[bool, float]
"""One addend of a share measure: (domestic?, amount)."""


class Figures:
    """One solution's share measures and installed units, each worked out once.

    A plan's totals and its constraint table ask for the same sums hundreds of times (every
    measure, domestic and all, in every period). Each sum still adds its terms one by one in
    the same order (groups as prepared, then periods, then candidates), so every float is
    the same as adding up afresh. Holds the problem and the solution it was made from: make a
    new one for another solution.
    """

    def __init__(self, p: Problem, sol: Solution) -> None:
        self.p = p
        self.sol = sol
        self._available: dict[str, tuple[int, ...]] = {}
        self._terms: dict[tuple[str, int | None], list[Term]] = {}
        self._sums: dict[tuple[str, bool | None, int | None], float] = {}

    def available(self, g: Group, t: int) -> int:
        """Units able to serve in period t: owned after lead time, or rented in t."""
        by_period = self._available.get(g.key)
        if by_period is None:
            by_period = self._available[g.key] = self._available_by_period(g)
        if not 0 <= t < len(by_period):  # a negative index would silently read the last period
            raise IndexError(f"period {t} is outside the plan's {len(by_period)} periods")
        return by_period[t]

    def _available_by_period(self, g: Group) -> tuple[int, ...]:
        count = len(self.p.periods)
        bought = [new_units(self.sol, g, s) for s in range(count)]
        if g.mode == "rental":
            return tuple(bought)
        owned = [0]  # owned[k]: units bought in periods before k
        for n in bought:
            owned.append(owned[-1] + n)
        return tuple(g.existing_units + owned[min(max(0, t - g.lag_periods + 1), count)] for t in range(count))

    def power_kw(self, t: int, sites: tuple[str, ...] | None = None) -> float:
        """Nameplate power (with PUE) of every hosted unit installed in period t, existing ones included."""
        return sum(
            self.available(g, t) * g.power_kw_per_unit
            for g in self.p.groups.values()
            if g.hosted and (sites is None or g.site in sites)
        )

    def measure(self, which: str, domestic: bool | None, t: int | None) -> float:
        """Amount of a share measure in period t (spend: the whole horizon), domestic or all."""
        key = (which, domestic, t)
        found = self._sums.get(key)
        if found is None:
            found = 0.0
            for is_domestic, amount in self._terms_of(which, t):
                if domestic is None or is_domestic == domestic:
                    found += amount
            self._sums[key] = found
        return found

    def share(self, which: str, t: int | None = None) -> float:
        if which == "spend":
            t = None
        whole = self.measure(which, None, t)
        return self.measure(which, True, t) / whole if whole > 0 else 0.0

    def min_share(self, which: str) -> float:
        """The lowest share over the periods that measure anything (the whole horizon for spend).

        A period with nothing installed or served has no share (0 of 0), not a share of 0 %."""
        if which == "spend" or len(self.p.periods) == 1:
            return self.share(which, None if which == "spend" else 0)
        return self.min_share_in(which, range(len(self.p.periods)))

    def min_share_in(self, which: str, periods: Iterable[int]) -> float:
        """The lowest share over these periods, among those that measure anything."""
        shares = [self.share(which, t) for t in periods if self.measure(which, None, t) > 0]
        return min(shares, default=0.0)

    def _terms_of(self, which: str, t: int | None) -> list[Term]:
        key = (which, t)
        found = self._terms.get(key)
        if found is None:
            found = self._terms[key] = list(self._each_term(which, t))
        return found

    def _each_term(self, which: str, t: int | None) -> Iterator[Term]:
        """The addends of a measure, in the order they have always been added."""
        p, sol = self.p, self.sol
        periods = range(len(p.periods)) if t is None else (t,)
        for g in p.groups.values():
            domestic = g.origin == "domestic"
            candidates = p.candidates_of(g.key)
            for s in periods:
                if which in ("devices", "compute"):
                    units = self.available(g, s)
                    if g.mode == "rental":  # rented training pools count while they run
                        units += sum(c.pool_units for c in candidates if chosen(sol, c) and s in c.periods)
                    per = g.devices_per_unit * (g.peak_tflops_per_device if which == "compute" else 1.0)
                    yield domestic, units * per
                elif which == "throughput":
                    for c in candidates:
                        if p.job_kind(c) == "inference":
                            yield domestic, blocks(sol, c, s) * throughput_per_block(p, c)
                        elif chosen(sol, c) and s in c.periods:
                            yield domestic, throughput_per_block(p, c)
            if which == "spend":
                yield domestic, group_costs(p, sol, g).total

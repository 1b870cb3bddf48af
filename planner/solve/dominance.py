"""Exact model reduction: leave out an offer's sites that can never beat its cheapest site.

The same offer at two sites differs only in running cost (electricity, PUE, subsidies), power
drawn, and the site's bans and caps. If a unit at the dearer site can always move to the cheaper
one without breaking a constraint or raising the cost, the dearer site's variables can go. The
move is safe when no power cap can bind; we prove that after solving the reduced model: any
plan at most as costly as the reduced optimum C spends at most C on units, so it draws at most
C x max(kW per USD of a unit) at any site. If that fits every remaining site's power envelope,
the reduced optimum is optimal for the full model; otherwise the full model is solved.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections import defaultdict

from planner.solve.problem import Group, Problem


def power_bound_kw(p: Problem, cost_bound: float, unit_cost: dict[str, list[float]]) -> float:
    """Most power (kW, with PUE) any plan costing at most ``cost_bound`` can install."""
    ratio = 0.0
    for key, g in p.groups.items():
        if g.mode != "purchase":
            continue
        cheapest = min(unit_cost[key])
        if cheapest <= 0:
            return math.inf
        ratio = max(ratio, g.power_kw_per_unit / cheapest)
    existing = sum(g.existing_units * g.power_kw_per_unit for g in p.groups.values() if g.hosted)
    return cost_bound * ratio + existing


def _bans_subset(a: Group, b: Group) -> bool:
    """Every ban on ``a`` also applies to ``b`` in the same periods (a is at least as free)."""
    on_b = {name: set(periods) for name, periods in b.bans}
    return all(name in on_b and set(periods) <= on_b[name] for name, periods in a.bans)


def _dominates(a: Group, b: Group, periods: int) -> bool:
    if b.existing_units or a.mode != "purchase" or b.mode != "purchase":
        return False
    if a.unit_costs != b.unit_costs or a.lag_periods != b.lag_periods:
        return False
    if a.power_kw_per_unit > b.power_kw_per_unit + 1e-12:
        return False
    for t in range(periods):
        net_a = a.energy_per_unit_hour[t] - a.electricity_subsidy_per_unit_hour[t]
        net_b = b.energy_per_unit_hour[t] - b.electricity_subsidy_per_unit_hour[t]
        if net_a > net_b + 1e-12:
            return False
    return _bans_subset(a, b)


def dominated_sites(p: Problem) -> list[str]:
    """Offer-site groups dominated by the same offer at another site (power caps aside)."""
    if p.tie_ins or any(_site_specific(p, c.groups) for c in p.unit_caps):
        return []
    spend_floor = any(f.measure == "spend" for f in p.share_floors)
    by_offer: dict[str, list[Group]] = defaultdict(list)
    for g in p.groups.values():
        by_offer[g.offer].append(g)
    dropped: list[str] = []
    for offer in sorted(by_offer):
        groups = sorted(by_offer[offer], key=lambda g: g.key)
        if len(groups) < 2 or (spend_floor and groups[0].origin == "domestic"):
            continue
        for b in groups:
            keeper = next(
                (
                    a
                    for a in groups
                    if a is not b
                    and a.key not in dropped
                    and _dominates(a, b, len(p.periods))
                    and (not _dominates(b, a, len(p.periods)) or a.key < b.key)
                ),
                None,
            )
            if keeper is not None:
                dropped.append(b.key)
    return dropped


def reduced(p: Problem, dropped: list[str]) -> Problem:
    """A copy of the problem without the dropped groups and their candidates."""
    gone = set(dropped)
    out = copy.copy(p)
    out.__dict__.pop("_idx", None)
    out.groups = {k: g for k, g in p.groups.items() if k not in gone}
    out.candidates = {k: c for k, c in p.candidates.items() if c.group not in gone}
    out.unit_caps = [dataclasses.replace(c, groups=tuple(k for k in c.groups if k not in gone)) for c in p.unit_caps]
    if p.hedge is not None:
        out.hedge = dataclasses.replace(p.hedge, lost_groups=tuple(k for k in p.hedge.lost_groups if k not in gone))
    if hasattr(p, "forced"):
        out.forced = [dataclasses.replace(f, groups=tuple(k for k in f.groups if k not in gone)) for f in p.forced]
    out.power_caps = [
        c
        for c in p.power_caps
        if not (len(c.sites) == 1 and not any(g.site == c.sites[0] and g.hosted for g in out.groups.values()))
    ]
    out.assumptions = [
        *p.assumptions,
        f"{len(dropped)} offer-site pairs left out as never cheaper than the same "
        "offer at another site (proved after solving: no power cap can bind)",
    ]
    return out


def reduction_is_exact(full: Problem, cost_bound: float, unit_cost: dict[str, list[float]]) -> bool:
    """True when no plan costing at most ``cost_bound`` could fill any site's power envelope."""
    bound = power_bound_kw(full, cost_bound, unit_cost)
    return all(cap.max_kw >= bound for cap in full.power_caps)


def _site_specific(p: Problem, groups: tuple[str, ...]) -> bool:
    """A cap naming some but not all sites of an offer would be changed by moving units."""
    offers: dict[str, set[str]] = defaultdict(set)
    for key in groups:
        if key in p.groups:
            offers[p.groups[key].offer].add(p.groups[key].site)
    for offer, sites in offers.items():
        all_sites = {g.site for g in p.groups.values() if g.offer == offer}
        if sites != all_sites:
            return True
    return False

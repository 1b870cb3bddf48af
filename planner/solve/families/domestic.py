"""Domestic-share floors, by devices, peak compute, delivered throughput or spend."""

from __future__ import annotations

import functools
import math

from ortools.sat.python import cp_model

from planner.solve import measure
from planner.solve.builder import RATE_SCALE, SHARE_SCALE, Builder, Row, money
from planner.solve.problem import Problem


def add_domestic_share(b: Builder) -> None:
    """Per floor and period t with f_t > 0: Σ_i m_i·v_i·(S·dom_i − f_t) ≥ 0, i.e. domestic ≥ f_t × all.

    v_i are the period's available units (devices: m = devices per unit; compute: m = peak TFLOPS
    ×10 per unit; rented training pools count while they run), served blocks and running pools
    (throughput: m = delivered PFLOP/s ×1000), or every cost term of the horizon (spend: one
    constraint, m = whole USD). S = 10000; f_t in basis points. The existing fleet counts.
    """
    p = b.problem
    for floor in p.share_floors:
        periods = [None] if floor.measure == "spend" else [t for t in b.periods if floor.min_by_period[t] > 0]
        for t in periods:
            f = round((max(floor.min_by_period) if t is None else floor.min_by_period[t]) * SHARE_SCALE)
            if f <= 0:
                continue
            b.add(floor.name, _expression(b, floor.measure, f, t) >= 0)
        if floor.measure == "spend" or len(set(floor.min_by_period)) == 1:
            b.row(
                Row(
                    floor.name,
                    "domestic_share",
                    f"{floor.description} (by {floor.measure})",
                    ">=",
                    max(floor.min_by_period),
                    "share",
                    functools.partial(_lowest_share, p, which=floor.measure),
                )
            )
            continue
        for value in sorted({v for v in floor.min_by_period if v > 0}):  # a floor that changes: a row per level
            level_periods = tuple(t for t in b.periods if floor.min_by_period[t] == value)
            b.row(
                Row(
                    floor.name,
                    "domestic_share",
                    f"{floor.description} (by {floor.measure}, period {', '.join(map(str, level_periods))})",
                    ">=",
                    value,
                    "share",
                    functools.partial(_lowest_share_in, p, which=floor.measure, periods=level_periods),
                )
            )


def _weight(origin: str, f: int) -> int:
    return SHARE_SCALE * (1 if origin == "domestic" else 0) - f


def _expression(b: Builder, which: str, f: int, t: int | None) -> cp_model.LinearExpr:
    p = b.problem
    terms: list[cp_model.LinearExprT] = []
    if which == "spend":
        for (key, s), var in sorted(b.n.items()):
            g = p.groups[key]
            terms.append(_weight(g.origin, f) * money(b.unit_cost(g, s)) * var)
        for var, group, s, units in b.serving_terms():
            g = p.groups[group]
            terms.append(_weight(g.origin, f) * money(units * b.run_cost_per_unit(g, s)) * var)
        for key, var in sorted(b.y.items()):
            c = p.candidates[key]
            terms.append(_weight(p.groups[c.group].origin, f) * money(b.pool_run_cost(c)) * var)
        return cp_model.LinearExpr.sum(terms)
    assert t is not None
    for key in sorted(p.groups):
        g = p.groups[key]
        w = _weight(g.origin, f)
        if which in ("devices", "compute"):
            m = g.devices_per_unit if which == "devices" else round(g.devices_per_unit * g.peak_tflops_per_device * 10)
            terms.append(w * m * b.available(key, t))
            if g.mode == "rental":  # rented training pools count while they run
                for c in p.candidates_of(key):
                    if c.key in b.y and t in c.periods:
                        terms.append(w * m * c.pool_units * b.y[c.key])
        else:
            for c in p.candidates_of(key):
                per = math.floor(measure.throughput_per_block(p, c) * RATE_SCALE)
                if (c.key, t) in b.x:
                    terms.append(w * per * b.x[(c.key, t)])
                elif c.key in b.y and t in c.periods:
                    terms.append(w * per * b.y[c.key])
    return cp_model.LinearExpr.sum(terms)


def _lowest_share(p: Problem, sol: measure.Solution, which: str) -> float:
    return measure.min_share(p, sol, which)


def _lowest_share_in(p: Problem, sol: measure.Solution, which: str, periods: tuple[int, ...]) -> float:
    """The lowest share over these periods, among those that measure anything."""
    return measure.Figures(p, sol).min_share_in(which, periods)

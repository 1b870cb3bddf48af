"""Domestic-share floors, by devices, peak compute, delivered throughput or spend."""

from __future__ import annotations

import math

from ortools.sat.python import cp_model

from planner.solve import measure
from planner.solve.builder import RATE_SCALE, SHARE_SCALE, Builder, Row, money


def add_domestic_share(b: Builder) -> None:
    """Σ_i m_i·v_i·(S·dom_i − f) ≥ −Σ_i m_i·E_i·(S·dom_i − f), i.e. domestic ≥ f × all.

    m_i is the measure per unit or block (devices; peak TFLOPS ×10; requests/s ×1000 or pool
    PFLOPS ×1000 for throughput; whole USD for spend), S = 10000 and f the floor in basis
    points. The existing fleet counts (devices, compute, spend).
    """
    p = b.problem
    for floor in p.share_floors:
        f = round(floor.min * SHARE_SCALE)
        expr: cp_model.LinearExprT = 0
        const = 0
        for key in sorted(p.groups):
            g = p.groups[key]
            weight = SHARE_SCALE * (1 if g.origin == "domestic" else 0) - f
            if floor.measure == "devices":
                m = g.devices_per_unit
            elif floor.measure == "compute":
                m = round(g.devices_per_unit * g.peak_tflops_per_device * 10)
            elif floor.measure == "spend":
                m = money(b.unit_cost(g))
                const += weight * money(b.existing_cost(g))
                for c in p.candidates_of(key):
                    if p.kind == "training":
                        expr += weight * money(b.pool_run_cost(c)) * b.x[c.key]
            else:
                m = 0
                for c in p.candidates_of(key):
                    per_block = math.floor(measure.throughput_per_block(p, c) * RATE_SCALE)
                    expr += weight * per_block * b.x[c.key]
            if m:
                expr += weight * m * b.n[key]
                if floor.measure != "spend":
                    const += weight * m * g.existing_units
        b.add(floor.name, expr + const >= 0)
        b.row(
            Row(floor.name, "domestic_share", f"{floor.description} (by {floor.measure})", ">=", floor.min,
                "share", lambda sol, which=floor.measure: measure.share(p, sol, which))
        )

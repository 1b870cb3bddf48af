"""Supply caps on new units, and tie-in ratios that condition foreign purchases."""

from __future__ import annotations

from planner.solve.builder import SHARE_SCALE, Builder, Row


def add_supply_caps(b: Builder) -> None:
    """Per cap k: Σ_{g ∈ G_k} n_g ≤ U_k (new units bought or rented; an existing fleet is owned)."""
    p = b.problem
    for cap in p.unit_caps:
        b.add(cap.name, sum(b.n[k] for k in cap.groups) <= cap.max_units)
        b.row(
            Row(cap.name, "supply", cap.description, "<=", cap.max_units, "units",
                lambda sol, keys=cap.groups: float(sum(sol.get(f"n:{k}", 0) for k in keys)))
        )


def add_tie_ins(b: Builder) -> None:
    """Per tie-in: Σ_{g domestic} d_g·n_g ≥ r · Σ_{g ∈ G} d_g·n_g in new devices, r in 1/10000."""
    p = b.problem
    for tie in p.tie_ins:
        ratio = round(tie.ratio * SHARE_SCALE)
        dom = sum(p.groups[k].devices_per_unit * b.n[k] for k in sorted(p.groups) if p.groups[k].origin == "domestic")
        tied = sum(p.groups[k].devices_per_unit * b.n[k] for k in tie.groups)
        b.add(tie.name, SHARE_SCALE * dom >= ratio * tied)
        b.row(
            Row(tie.name, "policy", f"{tie.description}: new domestic devices per tied device", ">=", tie.ratio,
                "ratio", lambda sol, t=tie: _ratio(b, sol, t.groups))
        )


def _ratio(b: Builder, sol: dict[str, int], groups: tuple[str, ...]) -> float:
    p = b.problem
    dom = sum(p.groups[k].devices_per_unit * sol.get(f"n:{k}", 0) for k in p.groups if p.groups[k].origin == "domestic")
    tied = sum(p.groups[k].devices_per_unit * sol.get(f"n:{k}", 0) for k in groups)
    return dom / tied if tied else float("inf")

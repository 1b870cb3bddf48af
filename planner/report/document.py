"""One report, many formats: what a plan, a comparison or a frontier report contains.

Markdown, HTML, XLSX and the terminal view all render a :class:`Report`, so the same tables,
charts, warnings, assumptions and sources appear in every format.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from planner.catalog.store import Catalog
from planner.models.fleet import Fleet
from planner.models.plan import Plan
from planner.models.workload import Workload
from planner.report import charts
from planner.report.sources import assumptions, plan_sources, policies_in_force, sources_table
from planner.report.tables import (
    Table,
    cash_flow_table,
    comparison_cost_parts,
    comparison_table,
    constraints_table,
    costs_table,
    fleet_table,
    frontier_table,
    lines_table,
    missing,
    mix_table,
    schedule_table,
    summary_table,
)


@dataclass
class Report:
    title: str
    subtitle: str
    kind: str  # plan | comparison | frontier
    status: str | None = None
    kpis: list[tuple[str, str]] = field(default_factory=list)
    charts: list[tuple[str, str]] = field(default_factory=list)
    """(caption, inline SVG)."""
    tables: list[Table] = field(default_factory=list)
    explanation: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    sources: Table | None = None
    currency: str = "USD"
    generated: str = field(default_factory=lambda: dt.date.today().isoformat())


def _share(value: Any) -> str:
    return "" if missing(value) else f"{float(value):.1%}"


def _money(value: Any) -> str:
    return "" if missing(value) else f"{float(value):,.0f} USD"


def plan_cost_chart(plan: Plan) -> str:
    """Cost breakdown per accelerator and site, summed over periods and workloads (negative: subsidies)."""
    groups: dict[str, list[float]] = {}
    for li in plan.line_items:
        c = li.costs
        key = f"{li.accelerator_name.split(' (')[0]} · {li.site}"
        acc = groups.setdefault(key, [0.0] * 6)
        for i, v in enumerate((c.capex, c.levy, c.energy, c.rental, -(c.subsidy + c.electricity_subsidy), -c.residual)):
            acc[i] += v
    names = ["Capex", "Export levy", "Energy", "Rental", "Subsidies", "Residual"]
    cats = [k for k, v in groups.items() if any(v)]
    parts = {n: [groups[k][i] for k in cats] for i, n in enumerate(names)}
    return charts.stacked_bars(cats, parts, "Cost breakdown by accelerator and site (USD)")


def plan_report(plan: Plan, catalog: Catalog | None = None, workload: Workload | Fleet | None = None) -> Report:
    """Everything about one plan: summary, fleet, costs, constraints, warnings, sources."""
    rep = Report(
        title=f"Fleet plan: {plan.workload}",
        subtitle=f"{plan.model} · {plan.kind} · objective {plan.objective}",
        kind="plan",
        status=plan.status,
        warnings=list(plan.warnings),
        assumptions=assumptions(plan, catalog, workload),
    )
    tot = plan.totals
    if plan.ok and tot is not None:
        measure = tot.domestic_share_measure or "devices"
        rep.kpis = [
            ("TCO", _money(tot.tco_usd)),
            ("Capex", _money(tot.capex_usd)),
            ("Power", f"{tot.power_kw:,.0f} kW"),
            (f"Domestic share ({measure})", _share(tot.domestic_share.get(measure))),
            ("Devices", f"{tot.devices:,}"),
        ]
        if tot.delivered_requests_per_s is not None:
            rep.kpis.append(("Throughput", f"{tot.delivered_requests_per_s:,.1f} req/s"))
        if tot.training_days is not None:
            rep.kpis.append(("Training time", f"{tot.training_days:.1f} days"))
        rep.charts.append(
            (
                "Where the money goes: purchase, levy, energy and rental per accelerator and site, "
                "subsidies to the left of zero.",
                plan_cost_chart(plan),
            )
        )
        rep.tables += [summary_table(plan), fleet_table(plan), costs_table(plan), constraints_table(plan)]
        if plan.periods > 1 and plan.schedule:
            rep.tables.append(schedule_table(plan))
        if plan.periods > 1 and plan.cash_flow:
            rep.tables.append(cash_flow_table(plan))
    else:
        ex = plan.explanation
        if ex is not None:
            rep.explanation = [f"No plan: {ex.summary}."]
            if ex.core:
                rep.explanation.append("Conflicting constraints: " + ", ".join(ex.core))
            rep.explanation += [f"({caveat})" for caveat in ex.caveats()]
            rep.explanation += list(ex.details) + [f"Fix: {r.get('text', r)}" for r in ex.repairs]
        rep.tables.append(summary_table(plan))
    if catalog is not None:
        rep.sources = plan_sources(plan, catalog, workload)
    return rep


def comparison_report(
    frame: pd.DataFrame,
    optimum: Plan | None = None,
    catalog: Catalog | None = None,
    workload: Workload | Fleet | None = None,
) -> Report:
    """Options side by side, their cost chart, and the optimum's fleet and costs."""
    attrs = frame.attrs
    rep = Report(
        title=f"Options compared: {attrs.get('workload', '')}",
        subtitle=f"{attrs.get('kind', '')} · objective {attrs.get('objective', '')} · {len(frame.columns)} options",
        kind="comparison",
        status=str(frame.iloc[:, 0].get("status", "")) if len(frame.columns) else None,
        warnings=list(attrs.get("warnings", [])),
        assumptions=assumptions(optimum, catalog, workload, attrs.get("offers", [])),
    )
    names, parts = comparison_cost_parts(frame)
    if names:
        tco = {n: float(frame.at["tco_usd", n]) for n in names}  # type: ignore[arg-type]
        best = min(tco, key=lambda n: tco[n])
        first = str(frame.columns[0])
        rep.kpis = [
            ("Optimum TCO", _money(frame.at["tco_usd", first])),
            ("Cheapest option", best),
            ("Options with a plan", f"{len(names)} of {len(frame.columns)}"),
        ]
        blocked = {str(c): "no plan — see the table" for c in frame.columns if str(c) not in names}
        rep.charts.append(
            (
                "Total cost of ownership per option, by cost line; subsidies to the left of zero.",
                charts.stacked_bars(names, parts, "TCO by option (USD)", notes=blocked),
            )
        )
    rep.tables.append(comparison_table(frame))
    if optimum is not None and optimum.ok:
        rep.tables += [fleet_table(optimum, "Optimum: fleet"), costs_table(optimum, "Optimum: cost lines (USD)")]
    if catalog is not None:
        rep.sources = sources_table(
            catalog, attrs.get("offers", []), policies=policies_in_force(catalog, workload, optimum)
        )
    return rep


def frontier_report(
    frame: pd.DataFrame, catalog: Catalog | None = None, workload: Workload | Fleet | None = None
) -> Report:
    """The cost curve along the parameter, the fleet mix at each point, and where it changes."""
    attrs = frame.attrs
    param = attrs.get("parameter", str(frame.columns[0]))
    label = attrs.get("label", param)
    xs = [float(v) for v in frame[param]]
    ys = [None if missing(v) else float(v) for v in frame["tco_usd"]]
    marks = [float(v) for v, changed in zip(frame[param], frame["mix_changed"], strict=True) if changed]
    feasible = [y for y in ys if y is not None]
    x_fmt = charts.short_money if max((abs(x) for x in xs), default=0) >= 1000 else charts.plain_number
    rep = Report(
        title=f"Cost frontier: {attrs.get('workload', '')}",
        subtitle=f"{label} from {x_fmt(xs[0])} to {x_fmt(xs[-1])} · {len(xs)} points · "
        f"objective {attrs.get('objective', '')}",
        kind="frontier",
        warnings=list(attrs.get("warnings", [])),
        assumptions=assumptions(None, catalog, workload, attrs.get("offers", [])),
    )
    rep.status = "OPTIMAL" if feasible and len(feasible) == len(ys) else ("PARTIAL" if feasible else "INFEASIBLE")
    if feasible:
        rep.kpis = [
            ("Lowest TCO", _money(min(feasible))),
            ("Highest TCO", _money(max(feasible))),
            ("Points with a plan", f"{len(feasible)} of {len(ys)}"),
            ("Mix changes at", ", ".join(x_fmt(m) for m in marks) or "none"),
        ]
    rep.charts.append(
        (
            f"Optimal total cost of ownership as the {label} varies; dashed lines mark where the set "
            "of accelerators changes.",
            charts.line_chart(xs, ys, f"Optimal TCO vs {label}", label, "TCO (USD)", marks, x_fmt=x_fmt),
        )
    )
    names: dict[str, str] = attrs.get("accelerators", {})
    cols = [c for c in frame.columns if str(c).startswith("devices:")]
    if cols:
        series = {names.get(c[8:], c[8:]): [float(v) for v in frame[c]] for c in cols}
        rep.charts.append(
            (
                "Devices per accelerator at each point.",
                charts.stacked_columns(xs, series, "Fleet mix along the frontier", label, "devices", x_fmt=x_fmt),
            )
        )
    rep.tables += [frontier_table(frame), mix_table(frame)]
    if catalog is not None:
        rep.sources = sources_table(catalog, attrs.get("offers", []), policies=policies_in_force(catalog, workload))
    return rep


def build_report(
    obj: Plan | pd.DataFrame | Report,
    catalog: Catalog | None = None,
    workload: Workload | Fleet | None = None,
    optimum: Plan | None = None,
) -> Report:
    """A Report from a Plan, a compare() frame or a frontier() frame (told apart by attrs['table'])."""
    if isinstance(obj, Report):
        return obj
    if isinstance(obj, Plan):
        return plan_report(obj, catalog, workload)
    if obj.attrs.get("table") == "frontier":
        return frontier_report(obj, catalog, workload)
    return comparison_report(obj, optimum, catalog, workload)


def extra_tables(rep: Report) -> list[Table]:
    """Warnings, assumptions and sources as tables (for formats that only hold tables)."""
    out = []
    if rep.explanation:
        out.append(lines_table("Why no plan", rep.explanation, "Explanation"))
    if rep.warnings:
        out.append(lines_table("Warnings", rep.warnings, "Warning"))
    if rep.assumptions:
        out.append(lines_table("Assumptions", rep.assumptions, "Assumption"))
    if rep.sources is not None:
        out.append(rep.sources)
    return out


__all__ = ["Report", "build_report", "comparison_report", "extra_tables", "frontier_report", "plan_report"]

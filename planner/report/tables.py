"""Report tables: one model of each table, rendered alike to terminal, Markdown, HTML and XLSX.

Each :class:`Table` keeps raw numbers plus a *kind* per column (or per row, for tables whose
options run across), so every format applies its own number style — a currency format in a
spreadsheet, thousands separators in Markdown — from the same figures.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from planner.models.plan import Plan

Kind = Literal["text", "usd", "dusd", "pct", "dpct", "int", "num", "kw", "rps", "days", "flag"]


@dataclass
class Table:
    """A titled table; ``kinds`` per column, or ``row_kinds`` per index label when options run across."""

    title: str
    frame: pd.DataFrame
    kinds: dict[str, Kind] = field(default_factory=dict)
    row_kinds: dict[str, Kind] = field(default_factory=dict)
    show_index: bool = False
    note: str | None = None
    blocked_columns: dict[str, str] = field(default_factory=dict)
    """Column -> one-line reason: that option has no plan, show the reason instead of numbers."""
    blocked_rows: dict[int, str] = field(default_factory=dict)
    """Row position -> one-line reason (frontier points without a plan)."""
    marked_rows: set[int] = field(default_factory=set)
    """Row positions to emphasise (the fleet mix changes there)."""
    total_row: bool = False
    """The last row sums the others (shown in bold)."""

    def kind_of(self, row: Any, column: Any) -> Kind:
        if self.row_kinds and row in self.row_kinds:
            return self.row_kinds[row]
        return self.kinds.get(str(column), "text")

    def is_blocked(self, position: int, row: Any, column: Any) -> bool:
        """True for numeric cells replaced by a reason."""
        kind = self.kind_of(row, column)
        if str(column) in self.blocked_columns:
            return kind != "text" or row in ("fleet", "Fleet")
        return position in self.blocked_rows and kind != "text" and str(column) != str(self.frame.columns[0])


def missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt(value: Any, kind: Kind) -> str:
    """A cell as text; blank for missing numbers."""
    if missing(value):
        return ""
    if kind == "text" or isinstance(value, str):
        return str(value)
    if kind == "flag":
        return "yes" if value else ""
    v = float(value) + 0.0  # -0.0 shows as 0
    if kind == "usd":
        return f"{v:,.0f}"
    if kind == "dusd":
        return f"{v:+,.0f}" if round(v) else "0"
    if kind == "pct":
        return f"{v:.1%}"
    if kind == "dpct":
        return f"{v:+.1%}" if round(v, 4) else "0.0%"
    if kind == "int":
        return f"{v:,.0f}"
    if kind in ("kw", "rps"):
        return f"{v:,.1f}"
    if kind == "days":
        return f"{v:.1f}"
    return f"{v:,.4g}" if abs(v) < 1000 else f"{v:,.0f}"


# ---- a plan ---------------------------------------------------------------------------------
def _where(plan: Plan, li: Any) -> dict[str, Any]:
    """Period and workload columns, only when the plan has several of them."""
    out: dict[str, Any] = {}
    if plan.periods > 1:
        out["Period"] = li.period
    if plan.kind == "fleet":
        out["Workload"] = li.workload or li.role
    return out


def fleet_table(plan: Plan, title: str = "Fleet") -> Table:
    rows = []
    inference = plan.kind == "inference"
    training = plan.kind == "training"
    for li in plan.line_items:
        row: dict[str, Any] = {
            **_where(plan, li),
            "Accelerator": li.accelerator_name,
            "Vendor": li.vendor,
            "Origin": li.origin,
            "Mode": "buy" if li.mode == "purchase" else "rent",
            "Location": li.location,
            "Site": li.site,
            "Offer": li.offer,
            "Units": li.units,
            "Owned units": li.existing_units,
            "Devices": li.devices,
        }
        if li.devices_per_replica:
            shape = f"{li.devices_per_replica} dev (tp{li.tp}×pp{li.pp}, batch {li.batch_per_replica})"
        elif li.tp and li.training_days is not None:
            shape = f"tp{li.tp}×pp{li.pp}×dp{li.devices // (li.tp * (li.pp or 1))}"
        else:
            shape = li.role
        row["Replica / pool"] = shape
        if not training:
            row["Replicas"] = li.replicas
            row["req/s"] = li.requests_per_s
        if not inference:
            row["Days"] = li.training_days
        row["Power kW"] = li.power_kw
        row["Total USD"] = li.total_usd
        rows.append(row)
    kinds: dict[str, Kind] = {
        "Units": "int",
        "Owned units": "int",
        "Devices": "int",
        "Replicas": "int",
        "req/s": "rps",
        "Days": "days",
        "Power kW": "kw",
        "Total USD": "usd",
        "Period": "int",
    }
    return Table(title, pd.DataFrame(rows), kinds)


def schedule_table(plan: Plan) -> Table:
    """What to buy or rent in each period (multi-period plans)."""
    frame = pd.DataFrame([r.model_dump() for r in plan.schedule])
    frame.columns = [str(c).replace("_", " ").capitalize() for c in frame.columns]
    kinds: dict[str, Kind] = {c: "int" for c in ("Period", "New units", "Available units", "Devices available")}
    return Table("Schedule", frame, kinds)


def cash_flow_table(plan: Plan) -> Table:
    """Money per period, USD."""
    frame = pd.DataFrame([r.model_dump() for r in plan.cash_flow])
    frame.columns = [str(c).replace("_", " ").capitalize() for c in frame.columns]
    kinds: dict[str, Kind] = {c: "usd" for c in frame.columns if c not in ("Period", "Start")}
    kinds["Period"] = "int"
    return Table("Cash flow (USD)", frame, kinds)


def costs_table(plan: Plan, title: str = "Cost lines (USD)") -> Table:
    """Money per line item; subsidies negative so each row sums to its total."""
    rows = []
    for li in plan.line_items:
        c = li.costs
        row = {
            **_where(plan, li),
            "Accelerator": li.accelerator_name,
            "Site": li.site,
            "Offer": li.offer,
            "Capex": c.capex,
            "Levy": c.levy,
            "Subsidy": -c.subsidy,
            "Energy": c.energy,
            "Elec. subsidy": -c.electricity_subsidy,
            "Rental": c.rental,
        }
        row["Residual"] = -c.residual
        row["Total"] = li.total_usd
        rows.append(row)
    frame = pd.DataFrame(rows)
    if rows and not frame["Residual"].any():
        frame = frame.drop(columns=["Residual"])  # only plans with a book value at the end show it
    if rows:
        labels = ("Period", "Workload", "Accelerator", "Site", "Offer")
        total: dict[str, Any] = {col: "" for col in labels if col in frame.columns}
        total["Accelerator"] = "Total"
        total.update({col: frame[col].sum() for col in frame.columns if col not in labels})
        frame = pd.concat([frame, pd.DataFrame([total])], ignore_index=True)
    kinds: dict[str, Kind] = {
        col: "usd" for col in frame.columns if col not in ("Period", "Workload", "Accelerator", "Site", "Offer")
    }
    return Table(title, frame, kinds, total_row=bool(rows))


def summary_table(plan: Plan) -> Table:
    """Totals and solver facts as label/value rows."""
    s = plan.solver
    items: list[tuple[str, Any, Kind]] = [
        ("Workload", plan.workload, "text"),
        ("Model", plan.model, "text"),
        ("Kind", plan.kind, "text"),
        ("Objective", plan.objective, "text"),
        ("Status", plan.status + (f" (gap {s.gap:.2%})" if plan.status == "FEASIBLE" and s.gap else ""), "text"),
        ("Solve time (s)", s.solve_time_s, "num"),
    ]
    tot = plan.totals
    if plan.ok and tot is not None:
        items += [
            ("TCO (USD)", tot.tco_usd, "usd"),
            ("Capex (USD)", tot.capex_usd, "usd"),
            ("Export levy (USD)", tot.levy_usd, "usd"),
            ("Purchase subsidies (USD)", -tot.subsidy_usd, "usd"),
            ("Energy (USD)", tot.energy_usd, "usd"),
            ("Electricity subsidies (USD)", -tot.electricity_subsidy_usd, "usd"),
            ("Rental (USD)", tot.rental_usd, "usd"),
        ]
        if tot.residual_usd:
            items.append(("Residual value (USD)", -tot.residual_usd, "usd"))
        items += [
            ("Power (kW, with PUE)", tot.power_kw, "kw"),
            ("Devices", tot.devices, "int"),
            ("Domestic devices", tot.domestic_devices, "int"),
        ]
        items += [(f"Domestic share by {m}", v, "pct") for m, v in tot.domestic_share.items()]
        if tot.delivered_requests_per_s is not None:
            items += [
                ("Required req/s", tot.required_requests_per_s, "rps"),
                ("Delivered req/s", tot.delivered_requests_per_s, "rps"),
                ("Output tokens/s", tot.delivered_output_tokens_per_s, "int"),
            ]
        if tot.training_days is not None:
            items += [("Training days", tot.training_days, "days"), ("Deadline days", tot.deadline_days, "days")]
        if plan.hedge_premium_usd is not None:
            items.append(("Hedge premium (USD)", plan.hedge_premium_usd, "usd"))
        if tot.fx_cny_per_usd:
            items.append(("CNY per USD", tot.fx_cny_per_usd, "num"))
    elif plan.explanation is not None:
        items.append(("Why no plan", plan.explanation.summary, "text"))
    frame = pd.DataFrame(
        {"Value": [v for _, v, _ in items]}, index=pd.Index([k for k, _, _ in items], name="Item"), dtype=object
    )
    return Table("Summary", frame, row_kinds={k: kind for k, _, kind in items}, show_index=True)


def constraints_table(plan: Plan) -> Table:
    """Each limit, what the plan uses of it and the slack (shares shown in per cent)."""
    rows = []
    for c in plan.constraints:
        scale, unit = (100.0, "%") if c.unit == "share" else (1.0, c.unit)
        ban = c.family == "ban"
        rows.append(
            {
                "Constraint": c.name,
                "Description": c.description,
                "Sense": c.sense,
                "Limit": None if ban else c.limit * scale,
                "Used": c.used * scale,
                "Slack": None if ban else c.slack * scale,
                "Unit": unit,
                "Binding": c.binding,
            }
        )
    kinds: dict[str, Kind] = {"Limit": "num", "Used": "num", "Slack": "num", "Binding": "flag"}
    return Table("Constraints", pd.DataFrame(rows), kinds)


def lines_table(title: str, lines: list[str], column: str) -> Table:
    return Table(title, pd.DataFrame({column: lines}))


# ---- a comparison ---------------------------------------------------------------------------
COMPARE_ROWS: dict[str, tuple[str, Kind]] = {
    "description": ("Option", "text"),
    "status": ("Status", "text"),
    "tco_usd": ("TCO (USD)", "usd"),
    "delta_usd": ("Δ vs optimum (USD)", "dusd"),
    "delta_pct": ("Δ vs optimum", "dpct"),
    "capex_usd": ("Capex (USD)", "usd"),
    "levy_usd": ("Export levy (USD)", "usd"),
    "subsidies_usd": ("Subsidies (USD)", "usd"),
    "energy_usd": ("Energy (USD)", "usd"),
    "rental_usd": ("Rental (USD)", "usd"),
    "residual_usd": ("Residual value (USD)", "usd"),
    "power_kw": ("Power (kW)", "kw"),
    "domestic_share": ("Domestic share", "pct"),
    "devices": ("Devices", "int"),
    "throughput_rps": ("Throughput (req/s)", "rps"),
    "training_days": ("Training days", "days"),
    "fleet": ("Fleet", "text"),
    "why": ("Note", "text"),
    "source": ("Defined in", "text"),
}


def comparison_table(frame: pd.DataFrame) -> Table:
    """Options side by side; options without a plan show their one-line reason instead."""
    measure = frame.attrs.get("measure", "devices")
    idle = [
        r
        for r in ("residual_usd", "throughput_rps", "training_days")
        if r in frame.index and not any(not missing(v) and v != 0 for v in frame.loc[r])
    ]  # a credit no option has, a figure no plan states
    shown = frame.drop(index=[r for r in ("why", *idle) if r in frame.index])
    labels = {key: label for key, (label, _) in COMPARE_ROWS.items()}
    labels["domestic_share"] = f"Domestic share ({measure})"
    display = shown.rename(index=labels)
    row_kinds = {labels.get(key, key): COMPARE_ROWS.get(key, (key, "text"))[1] for key in shown.index}
    blocked = {}
    for col in frame.columns:
        tco = frame.at["tco_usd", col]
        if missing(tco):
            blocked[str(col)] = str(frame.at["why", col] or frame.at["status", col])
    notes = {
        str(col): str(frame.at["why", col])
        for col in frame.columns
        if str(col) not in blocked and not missing(frame.at["why", col])
    }
    note = "; ".join(f"{k}: {v}" for k, v in notes.items()) or None
    return Table("Comparison", display, row_kinds=row_kinds, show_index=True, blocked_columns=blocked, note=note)


def comparison_cost_parts(frame: pd.DataFrame) -> tuple[list[str], dict[str, Sequence[float]]]:
    """Per option: capex, levy, energy, rental, minus subsidies (for the cost chart)."""
    names = [str(c) for c in frame.columns if not missing(frame.at["tco_usd", c])]

    def row(key: str, sign: float = 1.0) -> list[float]:
        return [sign * float(frame.at[key, n]) for n in names]  # type: ignore[arg-type]

    parts: dict[str, Sequence[float]] = {
        "Capex": row("capex_usd"),
        "Export levy": row("levy_usd"),
        "Energy": row("energy_usd"),
        "Rental": row("rental_usd"),
        "Subsidies": row("subsidies_usd", -1.0),
        "Residual": row("residual_usd", -1.0),
    }
    return names, parts


# ---- a frontier -----------------------------------------------------------------------------
FRONTIER_COLUMNS: dict[str, tuple[str, Kind]] = {
    "status": ("Status", "text"),
    "tco_usd": ("TCO (USD)", "usd"),
    "capex_usd": ("Capex (USD)", "usd"),
    "levy_usd": ("Levy (USD)", "usd"),
    "subsidies_usd": ("Subsidies (USD)", "usd"),
    "energy_usd": ("Energy (USD)", "usd"),
    "rental_usd": ("Rental (USD)", "usd"),
    "residual_usd": ("Residual (USD)", "usd"),
    "power_kw": ("Power (kW)", "kw"),
    "domestic_share": ("Domestic share", "pct"),
    "devices": ("Devices", "int"),
    "throughput_rps": ("req/s", "rps"),
    "training_days": ("Days", "days"),
    "mix_changed": ("Mix changes", "flag"),
}


def frontier_table(frame: pd.DataFrame) -> Table:
    """One row per point; the points where the mix changes are marked."""
    param = frame.attrs.get("parameter", str(frame.columns[0]))
    money = ("levy_usd", "subsidies_usd", "rental_usd", "residual_usd")
    idle = {c for c in money if c in frame.columns and not frame[c].fillna(0).astype(float).abs().gt(0).any()}
    keep = [param] + [c for c in FRONTIER_COLUMNS if c in frame.columns and c not in idle]
    display = frame[keep].rename(columns={c: FRONTIER_COLUMNS[c][0] for c in keep if c in FRONTIER_COLUMNS})
    kinds: dict[str, Kind] = {label: kind for c, (label, kind) in FRONTIER_COLUMNS.items() if c in frame.columns}
    kinds[param] = "num"
    blocked = {
        i: str(frame["why"].iloc[i] or frame["status"].iloc[i])
        for i in range(len(frame))
        if missing(frame["tco_usd"].iloc[i])
    }
    marked = {i for i in range(len(frame)) if bool(frame["mix_changed"].iloc[i])}
    note = f"Optimal plan at each value of {param} ({frame.attrs.get('label', param)})."
    return Table("Frontier", display.reset_index(drop=True), kinds, blocked_rows=blocked, marked_rows=marked, note=note)


def mix_table(frame: pd.DataFrame) -> Table:
    """Devices per accelerator at each point."""
    param = frame.attrs.get("parameter", str(frame.columns[0]))
    names: dict[str, str] = frame.attrs.get("accelerators", {})
    cols = [c for c in frame.columns if str(c).startswith("devices:")]
    display = frame[[param, *cols, "fleet"]].rename(columns={c: names.get(c[8:], c[8:]) for c in cols})
    display = display.rename(columns={"fleet": "Fleet"})
    kinds: dict[str, Kind] = {names.get(c[8:], c[8:]): "int" for c in cols}
    kinds[param] = "num"
    return Table(
        "Fleet mix (devices)",
        display,
        kinds,
        marked_rows={i for i in range(len(frame)) if bool(frame["mix_changed"].iloc[i])},
    )

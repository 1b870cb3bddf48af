"""The plan as rich tables for a terminal: the fleet, the totals, the constraints, the caveats."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from planner.models.plan import LineItem, Plan
from planner.report.money import Money


def _last_period(plan: Plan) -> list[LineItem]:
    last = max((li.period for li in plan.line_items), default=0)
    return [li for li in plan.line_items if li.period == last]


def _fleet(plan: Plan, money: Money) -> Table:
    items = _last_period(plan) if plan.periods > 1 else plan.line_items
    title = "Fleet" if plan.periods == 1 else f"Fleet in the last period ({plan.periods - 1})"
    t = Table(title=title, title_justify="left", header_style="bold")
    fleet = plan.kind == "fleet" or len(plan.workloads) > 1
    if fleet:
        t.add_column("Workload")
    t.add_column("Accelerator")
    t.add_column("Origin")
    t.add_column("How · where")
    t.add_column("Units", justify="right")
    t.add_column("Devices", justify="right")
    if plan.kind in ("inference", "fleet"):
        t.add_column("Replica / pool", justify="right")
        t.add_column("Replicas", justify="right")
        t.add_column("req/s", justify="right")
    else:
        t.add_column("Pool tp×pp×dp", justify="right")
        t.add_column("Days", justify="right")
    t.add_column(f"Total {money.currency}", justify="right")
    for li in items:
        units = f"{li.units:,} {li.unit_kind}" + ("s" if li.units != 1 else "")
        if li.existing_units:
            units += f" ({li.existing_units:,} owned)"
        how = f"{'buy' if li.mode == 'purchase' else 'rent'} · {li.site}"
        row = [f"{li.accelerator_name} [dim]({li.vendor})[/dim]", li.origin, how, units, f"{li.devices:,}"]
        if fleet:
            row.insert(0, li.workload or "-")
        if li.role == "training pool" and plan.kind != "training":
            dp = li.devices // ((li.tp or 1) * (li.pp or 1))
            row += [f"pool {li.tp}×{li.pp}×{dp}, {li.training_days:.1f} d", "-", "-"]
        elif plan.kind in ("inference", "fleet"):
            if li.devices_per_replica:
                row += [
                    f"{li.devices_per_replica} dev (tp{li.tp}×pp{li.pp}, batch {li.batch_per_replica})",
                    f"{li.replicas:,}",
                    f"{li.requests_per_s:,.1f}",
                ]
            else:
                row += [f"[dim]{li.role}[/dim]", "-", "-"]
        elif li.training_days is not None and li.tp:
            dp = li.devices // (li.tp * (li.pp or 1))
            row += [f"{li.tp}×{li.pp}×{dp}", f"{li.training_days:.1f}"]
        else:
            row += [f"[dim]{li.role}[/dim]", "-"]
        row.append(money.short(li.total_usd))
        t.add_row(*row)
    return t


def _workloads(plan: Plan, money: Money) -> Table:
    t = Table(title="Workloads", title_justify="left", header_style="bold")
    for name, justify in (
        ("Workload", "left"),
        ("Kind", "left"),
        ("Model", "left"),
        ("Need", "right"),
        ("Delivered", "right"),
        ("Peak devices", "right"),
        (f"Cost {money.currency}", "right"),
    ):
        t.add_column(name, justify=justify)  # type: ignore[arg-type]
    for w in plan.workloads:
        if w.kind == "inference":
            need = f"{w.required_requests_per_s_peak or 0:,.1f} req/s peak"
            got = f"{(w.delivered_requests_per_s_min_ratio or 0):.0%} of need (worst period)"
        else:
            need = f"≤ {w.deadline_days:g} days"
            got = f"{w.training_days:.1f} days" if w.training_days is not None else "-"
        t.add_row(w.name, w.kind, w.model, need, got, f"{w.devices_peak:,}", money.short(w.cost_usd))
    return t


def _schedule(plan: Plan) -> Table:
    t = Table(title="Procurement schedule", title_justify="left", header_style="bold")
    for name, justify in (
        ("Period", "right"),
        ("Starts", "left"),
        ("Buy / rent", "left"),
        ("Site", "left"),
        ("New units", "right"),
        ("In service", "right"),
    ):
        t.add_column(name, justify=justify)  # type: ignore[arg-type]
    for r in plan.schedule:
        if r.new_units:
            verb = "buy" if r.mode == "purchase" else "rent"
            t.add_row(str(r.period), r.start, f"{verb} {r.offer}", r.site, f"{r.new_units:,}", f"{r.available_units:,}")
    return t


def _cash_flow(plan: Plan, money: Money) -> Table:
    t = Table(title=f"Cash flow by period ({money.currency})", title_justify="left", header_style="bold")
    for name in (
        "Period",
        "Starts",
        "Capex",
        "Levy",
        "Subsidy",
        "Energy",
        "Elec. subsidy",
        "Rental",
        "Residual",
        "Total",
    ):
        t.add_column(name, justify="left" if name == "Starts" else "right")
    for r in plan.cash_flow:
        t.add_row(
            str(r.period),
            r.start,
            money.short(r.capex),
            money.short(r.levy),
            money.short(-r.subsidy),
            money.short(r.energy),
            money.short(-r.electricity_subsidy),
            money.short(r.rental),
            money.short(-r.residual),
            money.short(r.total),
        )
    return t


def _costs(plan: Plan, money: Money) -> Table:
    t = Table(title=f"Cost lines ({money.currency})", title_justify="left", header_style="bold")
    t.add_column("Accelerator")
    t.add_column("Where")
    for name in ("Capex", "Levy", "Subsidy", "Energy", "Elec. subsidy", "Rental", "Total"):
        t.add_column(name, justify="right")
    for li in plan.line_items:
        c = li.costs
        t.add_row(
            li.accelerator_name,
            li.site,
            money.short(c.capex),
            money.short(c.levy),
            money.short(-c.subsidy),
            money.short(c.energy),
            money.short(-c.electricity_subsidy),
            money.short(c.rental),
            money.short(li.total_usd),
        )
    return t


def _totals(plan: Plan, money: Money) -> Table:
    tot = plan.totals
    assert tot is not None
    t = Table(title="Totals", title_justify="left", show_header=False, box=None, padding=(0, 2))
    t.add_column(style="bold")
    t.add_column(justify="right")
    horizon = "over the run" if plan.kind == "training" else "over the horizon"
    t.add_row(f"TCO {horizon}", money.full(tot.tco_usd))
    t.add_row("  capex (purchases)", money.full(tot.capex_usd))
    t.add_row("  export levy", money.full(tot.levy_usd))
    t.add_row("  purchase subsidies", money.full(-tot.subsidy_usd))
    t.add_row("  energy", money.full(tot.energy_usd))
    t.add_row("  electricity subsidies", money.full(-tot.electricity_subsidy_usd))
    t.add_row("  rental", money.full(tot.rental_usd))
    sites = ", ".join(f"{s} {kw:,.0f}" for s, kw in tot.power_kw_by_site.items()) or "none hosted"
    t.add_row("Power (kW, with PUE)", f"{tot.power_kw:,.0f}  ({sites})")
    measure = tot.domestic_share_measure
    shares = "  ".join(
        f"{'[b]' if m == measure else ''}{m} {v:.1%}{'[/b]' if m == measure else ''}"
        for m, v in tot.domestic_share.items()
    )
    label = "Domestic share" if plan.periods == 1 else "Domestic share (lowest period)"
    t.add_row(label, Text.from_markup(shares))
    t.add_row("Devices", f"{tot.devices:,} ({tot.domestic_devices:,} domestic)")
    if tot.required_requests_per_s is not None:
        t.add_row(
            "Throughput",
            f"{tot.delivered_requests_per_s or 0:,.1f} req/s delivered"
            f" vs {tot.required_requests_per_s or 0:,.1f} required"
            f"  ({tot.delivered_output_tokens_per_s or 0:,.0f} output tok/s)",
        )
    elif tot.deadline_days is not None:
        t.add_row("Training time", f"{tot.training_days or 0:.1f} days vs deadline {tot.deadline_days:g}")
    if tot.residual_usd:
        t.add_row("  residual value credited", money.full(-tot.residual_usd))
    if plan.hedge_premium_usd is not None:
        t.add_row("Hedge premium", money.full(plan.hedge_premium_usd) + " over the unhedged plan")
    if money.currency == "CNY" and tot.fx_cny_per_usd:
        t.add_row("Exchange rate", f"{tot.fx_cny_per_usd:g} CNY per USD")
    return t


def _constraints(plan: Plan) -> Table:
    t = Table(title="Constraints", title_justify="left", header_style="bold")
    for name, justify in (
        ("Constraint", "left"),
        ("Limit", "right"),
        ("Used", "right"),
        ("Slack", "right"),
        ("Binds", "center"),
    ):
        t.add_column(name, justify=justify)  # type: ignore[arg-type]
    idle_power = [c for c in plan.constraints if c.family == "power" and c.used == 0 and c.name != "power:total"]
    for c in plan.constraints:
        if c in idle_power:
            continue
        if c.family == "ban":
            t.add_row(
                f"{c.name} [dim]{c.description}[/dim]",
                "forbidden",
                "none used" if c.used == 0 else f"{c.used:g}",
                "-",
                "",
            )
            continue
        fmt = _fmt(c.unit)
        t.add_row(
            f"{c.name} [dim]{c.description}[/dim]",
            f"{c.sense} {fmt(c.limit)}",
            fmt(c.used),
            fmt(c.slack),
            "[bold yellow]yes[/bold yellow]" if c.binding else "no",
        )
    if idle_power:
        t.add_row(f"[dim]power at {len(idle_power)} other site(s): unused[/dim]", "", "", "", "")
    return t


def _fmt(unit: str):  # type: ignore[no-untyped-def]
    if unit in ("share", "ratio"):
        return lambda v: f"{v:.1%}" if unit == "share" else f"{v:.2f}"
    if unit == "USD":
        return lambda v: f"{v / 1e6:,.2f} M USD"
    return lambda v: f"{v:,.1f} {unit}"


def _explanation(plan: Plan) -> Panel:
    """Why no plan: the conflict, its members, and each single change that gives a plan."""
    ex = plan.explanation
    assert ex is not None
    body = [Text(f"No plan: {ex.summary}.", style="bold red")]
    if ex.members:
        body.append(Text("These cannot all hold:", style="bold"))
        body.extend(Text(f"  • {m.text}") for m in ex.members)
    elif ex.core:
        body.append(Text("Conflicting constraints: " + ", ".join(ex.core)))
    body.extend(Text(f"  ({caveat})", style="yellow") for caveat in ex.caveats())
    if ex.repairs:
        body.append(Text("Any one of these changes gives a plan:", style="bold"))
    for r in ex.repairs:
        body.append(Text(f"  fix: {r.get('text', r)}"))
        for edit in r.get("workload_edits") or []:
            body.append(Text(f"       workload: {edit['path']}: {edit['value']}", style="dim"))
        override = r.get("catalog_override")
        if override:
            sets = ", ".join(f"{k}: {v}" for k, v in override["set"].items())
            body.append(Text(f"       catalog override {override['target']}: {sets}", style="dim"))
    for line in ex.details:
        body.append(Text(f"• {line}", style="dim"))
    return Panel(Group(*body), title="Infeasible", border_style="red")


def _sensitivity(plan: Plan) -> Panel:
    """What binds (each limit one step further) and what each policy costs."""
    sens = plan.sensitivity
    assert sens is not None
    body: list[Text] = []
    if sens.marginals:
        body.append(Text("Binding limits, one step further:", style="bold"))
        body.extend(Text(f"  • {m.text}") for m in sens.marginals)
    if sens.policy_prices:
        body.append(Text("Price of each policy and choice (optimum with it minus without it):", style="bold"))
        body.extend(Text(f"  • {p.text}") for p in sorted(sens.policy_prices, key=lambda p: -(p.price or 0.0)))
    if not body:
        body.append(Text("Nothing binds: no limit or policy changes the optimum."))
    return Panel(Group(*body), title="Why this plan", border_style="cyan")


def render(plan: Plan, console: Console, money: Money) -> None:
    """Print a plan (or why there is none) to ``console``."""
    s = plan.solver
    head = f"[bold]{plan.workload}[/bold] · {plan.model} · {plan.kind} · objective {plan.objective}"
    status_style = {"OPTIMAL": "green", "FEASIBLE": "yellow"}.get(plan.status, "red")
    status = f"[{status_style}]{plan.status}[/{status_style}]"
    if plan.status == "FEASIBLE" and s.gap is not None:
        status += f" (gap {s.gap:.2%}, bound {s.best_bound:,.0f})"
    console.print(
        Panel(
            f"{head}\nsolver: {status} in {s.solve_time_s:.2f} s "
            f"({s.variables} variables, {s.constraints} constraints, "
            f"{s.workers} worker{'s' if s.workers != 1 else ''}, seed {s.seed})",
            expand=False,
        )
    )
    if plan.ok and plan.totals is not None:
        if len(plan.workloads) > 1:
            console.print(_workloads(plan, money))
        if plan.periods > 1:
            console.print(_schedule(plan))
            console.print(_cash_flow(plan, money))
        console.print(_fleet(plan, money))
        if plan.periods == 1:
            console.print(_costs(plan, money))
        console.print(_totals(plan, money))
        console.print(_constraints(plan))
    elif plan.explanation is not None:
        console.print(_explanation(plan))
    if plan.sensitivity is not None:
        console.print(_sensitivity(plan))
    if plan.what_if is not None:
        style = "green" if plan.ok else "red"
        console.print(Panel(Text(plan.what_if.text), title="Why not?", border_style=style, expand=False))
    if plan.warnings:
        console.print(Text("Warnings", style="bold yellow"))
        for w in plan.warnings:
            console.print(Text(f"  ! {w}", style="yellow"))

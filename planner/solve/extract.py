"""Turn a solution into a Plan: line items, schedule, cash flow, totals, constraints, solver facts."""

from __future__ import annotations

from planner.catalog.store import Catalog
from planner.models.plan import (
    CashFlowRow,
    ConstraintRow,
    CostLines,
    HedgeLine,
    LineItem,
    Plan,
    ScheduleRow,
    SolverInfo,
    Totals,
    WorkloadSummary,
)
from planner.solve import measure
from planner.solve.builder import MONEY_RESOLUTION_USD, RATE_SCALE, WATT
from planner.solve.problem import Candidate, Group, Problem
from planner.solve.run import SolveResult, SolverOptions

OBJECTIVE_UNITS = {
    "min_tco": (1.0 / MONEY_RESOLUTION_USD, "USD"),
    "min_capex": (1.0 / MONEY_RESOLUTION_USD, "USD"),
    "min_power": (WATT, "kW"),
    "max_throughput": (float(RATE_SCALE), "req/s"),
}
"""Solver objective units -> (divisor, unit) for reporting in natural units."""

BINDING_TOLERANCE = 0.01
"""A constraint 'binds' when its slack is under 1 % of its limit (or exactly zero)."""

_PURCHASE_LINES = ("capex", "levy", "subsidy", "rental", "residual")


def _item(p: Problem, g: Group, t: int, c: Candidate | None, units: int, role: str) -> LineItem:
    item = LineItem(
        period=t,
        workload=c.job if c is not None else None,
        offer=g.offer,
        accelerator=g.accelerator,
        accelerator_name=g.accelerator_name,
        vendor=g.vendor,
        origin=g.origin,
        mode=g.mode,
        location=g.location,
        site=g.site,
        unit_kind=g.unit_kind,
        devices_per_unit=g.devices_per_unit,
        existing_units=0,
        new_units=0,
        units=units,
        devices=units * g.devices_per_unit,
        role=role,
        power_kw=units * g.power_kw_per_unit if g.hosted and role != "on order" else 0.0,
    )
    if c is not None and c.shape is not None:
        blocks = units // c.block_units if c.block_units else 0
        item.tp, item.pp = c.shape.tp, c.shape.pp
        item.devices_per_replica = c.shape.devices
        item.replicas = blocks * c.block_replicas
        item.batch_per_replica = c.shape.batch
        item.requests_per_s = blocks * c.requests_per_s
        item.output_tokens_per_s = item.replicas * c.shape.output_tokens_per_s
    if c is not None and c.pool is not None:
        item.tp, item.pp = c.pool.tp, c.pool.pp
        item.training_days = c.pool.days
    return item


def _group_lines(p: Problem, figures: measure.Figures, g: Group, t: int) -> list[LineItem]:
    """The group's lines in period t: serving lines, idle units, units on order; costs attached."""
    sol = figures.sol
    hours = p.periods[t].hours
    bought = measure.new_units(sol, g, t)
    lines: list[tuple[LineItem, Candidate | None]] = []
    for cand in p.candidates_of(g.key):
        if p.job_kind(cand) == "inference":
            x = measure.blocks(sol, cand, t)
            if x:
                lines.append((_item(p, g, t, cand, x * cand.block_units, "replicas"), cand))
        elif measure.chosen(sol, cand) and t in cand.periods:
            lines.append((_item(p, g, t, cand, cand.pool_units, "training pool"), cand))
    available = figures.available(g, t)
    in_service = sum(li.units for li, c in lines if not (g.mode == "rental" and c is not None and c.pool is not None))
    idle = available - in_service
    if idle > 0:
        lines.append((_item(p, g, t, None, idle, "idle"), None))
    arriving_now = bought if (g.mode == "rental" or g.lag_periods == 0) else 0
    if bought and not arriving_now:
        lines.append((_item(p, g, t, None, bought, "on order"), None))
    if not lines:  # nothing here in period t
        return []
    # attribute units: the original fleet first, then earlier purchases, then this period's
    existing_left = g.existing_units
    new_left = arriving_now
    carried_left = max(0, available - g.existing_units - arriving_now) if g.mode == "purchase" else 0
    for li, c in lines:
        if li.role == "on order":
            li.new_units = bought
            continue
        if g.mode == "rental" and c is not None and c.pool is not None:
            li.new_units = li.units  # a rented pool is booked for its run, outside n
            continue
        take = min(existing_left, li.units)
        existing_left -= take
        rest = li.units - take
        carried = min(carried_left, rest)
        carried_left -= carried
        li.existing_units, li.carried_units, li.new_units = take, carried, rest - carried
        new_left -= li.new_units
    # costs: purchases and rentals of the period split by new units; running costs per line
    period_costs = measure.acquisition_costs(p, g, t, bought)
    for li, c in lines:
        share = (
            li.new_units / bought
            if bought and not (c is not None and c.pool is not None and g.mode == "rental")
            else 0.0
        )
        costs = CostLines(**{k: getattr(period_costs, k) * share for k in _PURCHASE_LINES})
        if li.role == "replicas":
            costs.energy = li.units * g.energy_per_unit_hour[t] * hours
            costs.electricity_subsidy = li.units * g.electricity_subsidy_per_unit_hour[t] * hours
        elif li.role == "training pool" and c is not None and (c.periods[0] if c.periods else 0) == t:
            costs.energy = c.pool_units * g.energy_per_unit_hour[t] * c.hours
            costs.electricity_subsidy = c.pool_units * g.electricity_subsidy_per_unit_hour[t] * c.hours
            costs.rental += c.pool_units * g.rental_per_unit_hour[t] * c.hours
        li.costs = costs
        li.total_usd = costs.total
    return [li for li, _ in lines]


def line_items(p: Problem, figures: measure.Figures) -> list[LineItem]:
    items: list[LineItem] = []
    for t in range(len(p.periods)):
        for key in sorted(p.groups):
            items.extend(_group_lines(p, figures, p.groups[key], t))
    return items


def hedge_lines(p: Problem, sol: dict[str, int]) -> list[HedgeLine]:
    """The hedge's re-allocation z, so the verifier can check the loss scenario independently."""
    out = []
    for t in range(len(p.periods)):
        for key in sorted(p.candidates):
            c = p.candidates[key]
            blocks = sol.get(f"z:{key}@{t}", 0)
            if blocks and c.shape is not None:
                g = p.groups[c.group]
                out.append(
                    HedgeLine(
                        period=t,
                        workload=c.job,
                        offer=g.offer,
                        site=g.site,
                        accelerator=g.accelerator,
                        units=blocks * c.block_units,
                        devices=blocks * c.block_devices,
                        tp=c.shape.tp,
                        pp=c.shape.pp,
                        devices_per_replica=c.shape.devices,
                        replicas=blocks * c.block_replicas,
                        requests_per_s=blocks * c.requests_per_s,
                    )
                )
    return out


def schedule(p: Problem, figures: measure.Figures) -> list[ScheduleRow]:
    rows = []
    for t, period in enumerate(p.periods):
        for key in sorted(p.groups):
            g = p.groups[key]
            new = measure.new_units(figures.sol, g, t)
            avail = figures.available(g, t)
            if new or avail:
                rows.append(
                    ScheduleRow(
                        period=t,
                        start=period.start,
                        offer=g.offer,
                        accelerator=g.accelerator,
                        origin=g.origin,
                        mode=g.mode,
                        site=g.site,
                        new_units=new,
                        available_units=avail,
                        devices_available=avail * g.devices_per_unit,
                    )
                )
    return rows


def cash_flow(items: list[LineItem], p: Problem) -> list[CashFlowRow]:
    rows = []
    for t, period in enumerate(p.periods):
        total = CostLines()
        for li in items:
            if li.period == t:
                total = total + li.costs
        rows.append(CashFlowRow(period=t, start=period.start, **total.model_dump(), total=total.total))
    return rows


def workload_summaries(p: Problem, sol: dict[str, int], items: list[LineItem]) -> list[WorkloadSummary]:
    out = []
    for name, job in sorted(p.jobs.items()):
        mine = [li for li in items if li.workload == name]
        devices_peak = max((sum(li.devices for li in mine if li.period == t) for t in range(len(p.periods))), default=0)
        summary = WorkloadSummary(
            name=name,
            kind=job.kind,
            model=job.model,
            devices_peak=devices_peak,
            cost_usd=sum(li.total_usd for li in mine),
        )
        if job.kind == "inference":
            summary.required_requests_per_s_peak = max(job.required_rps)
            ratios = [measure.delivered_rps(p, sol, name, t) / r for t, r in enumerate(job.required_rps) if r > 0]
            summary.delivered_requests_per_s_min_ratio = min(ratios) if ratios else None
        else:
            summary.deadline_days = job.deadline_days
            pool = next((c for c in measure.pools(p, sol) if c.job == name), None)
            summary.training_days = pool.pool.days if pool is not None and pool.pool is not None else None
        out.append(summary)
    return out


SHARE_MEASURES = ("devices", "compute", "throughput", "spend")


def totals(
    p: Problem, figures: measure.Figures, items: list[LineItem], catalog: Catalog, measure_name: str | None
) -> Totals:
    sol = figures.sol
    cost = CostLines()
    for li in items:
        cost = cost + li.costs
    last = len(p.periods) - 1
    peak_t = max(range(len(p.periods)), key=figures.power_kw)
    power_by_site: dict[str, float] = {}
    for g in sorted(p.groups.values(), key=lambda g: (g.site, g.key)):
        if g.hosted and figures.available(g, peak_t):
            power_by_site[g.site] = power_by_site.get(g.site, 0.0) + figures.available(g, peak_t) * g.power_kw_per_unit
    devices = int(figures.measure("devices", None, last))
    lowest = {m: figures.min_share(m) for m in SHARE_MEASURES}
    t = Totals(
        tco_usd=cost.total,
        capex_usd=cost.capex,
        levy_usd=cost.levy,
        subsidy_usd=cost.subsidy,
        energy_usd=cost.energy,
        electricity_subsidy_usd=cost.electricity_subsidy,
        rental_usd=cost.rental,
        residual_usd=cost.residual,
        power_kw=sum(power_by_site.values()),
        power_kw_by_site=power_by_site,
        devices=devices,
        domestic_devices=int(figures.measure("devices", True, last)),
        domestic_share=lowest,
        domestic_share_by_period=[
            # spend is a whole-horizon measure: every period shows the same share, computed once
            {m: lowest["spend"] if m == "spend" else figures.share(m, t) for m in SHARE_MEASURES}
            for t in range(len(p.periods))
        ]
        if len(p.periods) > 1
        else [],
        domestic_share_measure=measure_name,
        fx_cny_per_usd=catalog.fx_cny_per_usd.value if catalog.fx_cny_per_usd else None,
    )
    jobs = list(p.jobs.values())
    if len(jobs) == 1 and jobs[0].kind == "inference":
        job = jobs[0]
        peak = max(range(len(p.periods)), key=lambda s: job.required_rps[s])
        t.required_requests_per_s = job.required_rps[peak]
        t.delivered_requests_per_s = measure.delivered_rps(p, sol, job.name, peak)
        t.delivered_output_tokens_per_s = sum(
            measure.blocks(sol, c, peak) * c.block_replicas * c.shape.output_tokens_per_s
            for c in p.candidates_for(job.name)
            if c.shape is not None
        )
    elif len(jobs) == 1:
        t.deadline_days = jobs[0].deadline_days
        pool = next(iter(measure.pools(p, sol)), None)
        t.training_days = pool.pool.days if pool is not None and pool.pool is not None else None
    return t


def constraint_rows(result: SolveResult) -> list[ConstraintRow]:
    rows = []
    for r in result.builder.rows:
        used = r.evaluate(result.solution)
        slack = (r.limit - used) if r.sense == "<=" else (used - r.limit) if r.sense == ">=" else -abs(used)
        scale = max(abs(r.limit), 1e-9)
        binding = r.sense != "==" and slack <= BINDING_TOLERANCE * scale
        rows.append(
            ConstraintRow(
                name=r.name,
                family=r.family,
                description=r.description,
                sense=r.sense,
                limit=r.limit,
                used=used,
                slack=slack,
                unit=r.unit,
                binding=binding,
            )
        )
    return rows


def rounding_bound(sol: dict[str, int]) -> float:
    """Worst-case money rounding: each integer coefficient is off by under one resolution step."""
    return (sum(abs(v) for v in sol.values()) + 1) * MONEY_RESOLUTION_USD


def to_plan(
    p: Problem,
    result: SolveResult,
    catalog: Catalog,
    *,
    workload_name: str,
    model_name: str,
    options: SolverOptions,
    measure_name: str | None,
) -> Plan:
    b = result.builder
    found = result.status in ("OPTIMAL", "FEASIBLE")
    scale, unit = OBJECTIVE_UNITS[p.objective]
    info = SolverInfo(
        status=result.status,
        objective=p.objective,
        objective_unit=unit,
        objective_value=None if result.objective_value is None else result.objective_value / scale,
        best_bound=None if result.best_bound is None else result.best_bound / scale,
        gap=result.gap,
        solve_time_s=result.solve_time_s,
        wall_time_s=result.wall_time_s,
        time_limit_s=options.time_limit_s,
        workers=result.workers or options.workers,
        seed=options.seed,
        stages=result.stages,
        variables=len(b.n) + len(b.x) + len(b.y) + len(b.z) + len(b.s),
        constraints=b.constraint_count,
        money_resolution_usd=MONEY_RESOLUTION_USD,
        max_rounding_error_usd=rounding_bound(result.solution) if found else 0.0,
    )
    plan = Plan(
        workload=workload_name,
        kind=p.kind,
        model=model_name,
        status=result.status,
        objective=p.objective,
        solver=info,
        periods=len(p.periods),
        warnings=sorted(set(p.warnings)),
        assumptions=list(p.assumptions),
    )
    if found:
        figures = measure.Figures(p, result.solution)  # one solution's sums, shared by every section
        items = line_items(p, figures)
        used = {li.accelerator for li in items}
        plan.warnings = sorted(set(plan.warnings).union(*(p.part_warnings.get(a, set()) for a in used)))
        plan.line_items = items
        plan.totals = totals(p, figures, items, catalog, measure_name)
        plan.constraints = constraint_rows(result)
        plan.workloads = workload_summaries(p, result.solution, items)
        plan.hedge_allocation = hedge_lines(p, result.solution)
        if len(p.periods) > 1:
            plan.schedule = schedule(p, figures)
            plan.cash_flow = cash_flow(items, p)
    return plan

"""Turn a solution into a Plan: line items, totals, the constraint table, solver facts."""

from __future__ import annotations

from planner.catalog.store import Catalog
from planner.models.plan import ConstraintRow, CostLines, LineItem, Plan, SolverInfo, Totals
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


def _share(lines: CostLines, new_fraction: float, unit_fraction: float) -> CostLines:
    """A line's part of its group's costs: purchases and rentals follow its new units,
    running costs (energy) follow all its units."""
    return CostLines(
        capex=lines.capex * new_fraction,
        levy=lines.levy * new_fraction,
        subsidy=lines.subsidy * new_fraction,
        rental=lines.rental * new_fraction,
        energy=lines.energy * unit_fraction,
        electricity_subsidy=lines.electricity_subsidy * unit_fraction,
    )


def _item(g: Group, c: Candidate | None, units: int, new: int, costs: CostLines, role: str, p: Problem) -> LineItem:
    item = LineItem(
        offer=g.offer,
        accelerator=g.accelerator,
        accelerator_name=g.accelerator_name,
        vendor=g.vendor,
        origin=g.origin,  # type: ignore[arg-type]
        mode=g.mode,  # type: ignore[arg-type]
        location=g.location,  # type: ignore[arg-type]
        site=g.site,
        unit_kind=g.unit_kind,
        devices_per_unit=g.devices_per_unit,
        existing_units=units - new,
        new_units=new,
        units=units,
        devices=units * g.devices_per_unit,
        role=role,
        power_kw=units * g.power_kw_per_unit if g.hosted else 0.0,
        costs=costs,
        total_usd=costs.total,
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


def line_items(p: Problem, sol: dict[str, int]) -> list[LineItem]:
    """One line per used candidate, plus idle owned units; group costs split by units."""
    items: list[LineItem] = []
    for key in sorted(p.groups):
        g = p.groups[key]
        owned = measure.owned_units(sol, g)
        if owned == 0:
            continue
        costs = measure.group_costs(p, sol, g)
        existing_left = g.existing_units
        used: list[tuple[Candidate, int]] = []
        for c in p.candidates_of(key):
            x = measure.blocks(sol, c)
            if x:
                used.append((c, c.pool_units if p.kind == "training" else x * c.block_units))
        idle = owned - sum(u for _, u in used)
        parts: list[tuple[Candidate | None, int, str]] = [
            (c, u, "training pool" if p.kind == "training" else "replicas") for c, u in used
        ]
        if idle > 0:
            parts.append((None, idle, "idle existing fleet" if g.existing_units else "spare"))
        bought = measure.new_units(sol, g)
        for c, units, role in parts:
            from_existing = min(existing_left, units)
            existing_left -= from_existing
            new = units - from_existing
            if p.kind == "training":
                # the pool carries the purchase and the run's energy and rental; idle units cost nothing
                lines = costs if c is not None else CostLines()
            else:
                lines = _share(costs, new / bought if bought else 0.0, units / owned)
            items.append(_item(g, c, units, new, lines, role, p))
    return items


def totals(p: Problem, sol: dict[str, int], catalog: Catalog, measure_name: str | None) -> Totals:
    lines = [measure.group_costs(p, sol, g) for g in p.groups.values()]
    power_by_site: dict[str, float] = {}
    for g in sorted(p.groups.values(), key=lambda g: g.site):
        if g.hosted and measure.owned_units(sol, g):
            power_by_site[g.site] = power_by_site.get(g.site, 0.0) + measure.owned_units(sol, g) * g.power_kw_per_unit
    devices = int(measure.measure(p, sol, "devices", None))
    pool = measure.chosen_pool(p, sol)
    t = Totals(
        tco_usd=sum(x.total for x in lines),
        capex_usd=sum(x.capex for x in lines),
        levy_usd=sum(x.levy for x in lines),
        subsidy_usd=sum(x.subsidy for x in lines),
        energy_usd=sum(x.energy for x in lines),
        electricity_subsidy_usd=sum(x.electricity_subsidy for x in lines),
        rental_usd=sum(x.rental for x in lines),
        power_kw=sum(power_by_site.values()),
        power_kw_by_site=power_by_site,
        devices=devices,
        domestic_devices=int(measure.measure(p, sol, "devices", True)),
        domestic_share={m: measure.share(p, sol, m) for m in ("devices", "compute", "throughput", "spend")},
        domestic_share_measure=measure_name,
        fx_cny_per_usd=catalog.fx_cny_per_usd.value if catalog.fx_cny_per_usd else None,
    )
    if p.kind == "inference":
        t.required_requests_per_s = p.required_rps
        t.delivered_requests_per_s = measure.delivered_rps(p, sol)
        t.delivered_output_tokens_per_s = sum(
            measure.blocks(sol, c) * c.block_replicas * c.shape.output_tokens_per_s
            for c in p.candidates.values()
            if c.shape is not None
        )
    else:
        t.deadline_days = p.deadline_days
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
                sense=r.sense,  # type: ignore[arg-type]
                limit=r.limit,
                used=used,
                slack=slack,
                unit=r.unit,
                binding=binding,
            )
        )
    return rows


def rounding_bound(p: Problem, sol: dict[str, int]) -> float:
    """Worst-case money rounding: each integer coefficient is off by under one resolution step."""
    count = sum(sol.values()) + len(p.groups)
    return count * MONEY_RESOLUTION_USD


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
        status=result.status,  # type: ignore[arg-type]
        objective=p.objective,
        objective_unit=unit,
        objective_value=None if result.objective_value is None else result.objective_value / scale,
        best_bound=None if result.best_bound is None else result.best_bound / scale,
        gap=result.gap,
        solve_time_s=result.solve_time_s,
        wall_time_s=result.wall_time_s,
        time_limit_s=options.time_limit_s,
        workers=options.workers,
        seed=options.seed,
        stages=result.stages,
        variables=len(b.n) + len(b.x),
        constraints=b.constraint_count,
        money_resolution_usd=MONEY_RESOLUTION_USD,
        max_rounding_error_usd=rounding_bound(p, result.solution) if found else 0.0,
    )
    plan = Plan(
        workload=workload_name,
        kind=p.kind,  # type: ignore[arg-type]
        model=model_name,
        status=result.status,  # type: ignore[arg-type]
        objective=p.objective,
        solver=info,
        warnings=sorted(set(p.warnings)),
        assumptions=list(p.assumptions),
    )
    if found:
        plan.line_items = line_items(p, result.solution)
        plan.totals = totals(p, result.solution, catalog, measure_name)
        plan.constraints = constraint_rows(result)
    return plan

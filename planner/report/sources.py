"""Where the figures come from, and what a reader must accept to trust the plan.

A procurement memo is only as good as its inputs, so the report lists, for every offer, part,
site and policy the plan relies on, the catalog's source, date and confidence, and states the
assumptions (horizon, exchange rate, levy pass-through, low-confidence prices) in words.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from planner.catalog.store import Catalog
from planner.models.base import Sourced
from planner.models.fleet import Fleet
from planner.models.plan import Plan
from planner.models.workload import Workload
from planner.report.tables import Table

WEAK = ("reported", "assumption", "roadmap", "derived")


def _row(item: str, figure: str, s: Sourced | None, unit: str = "") -> dict[str, Any] | None:
    if s is None:
        return None
    if s.value is None:
        value = "not public"
    else:
        number = f"{s.value:,.0f}" if abs(s.value) >= 1000 else f"{s.value:.6g}"
        value = f"{number} {unit}".strip()
    return {
        "Item": item,
        "Figure": figure,
        "Value": value,
        "Date": s.date,
        "Confidence": s.confidence,
        "Source": s.source,
    }


def policies_in_force(catalog: Catalog, workload: Workload | Fleet | None, plan: Plan | None = None) -> list[str]:
    """Default policies not switched off, plus those the workload names (or the plan's constraints cite)."""
    chosen = {pid for pid, p in catalog.policies.items() if p.default}
    if workload is not None:
        chosen -= set(workload.constraints.exclude_policies)
        chosen |= {p for p in workload.constraints.policies if p in catalog.policies}
    elif plan is not None:
        cited = {c.name.split(":", 1)[-1] for c in plan.constraints}
        chosen |= {pid for pid in catalog.policies if pid in cited}
    return sorted(chosen)


def sources_table(
    catalog: Catalog,
    offers: Iterable[str],
    sites: Iterable[str] = (),
    policies: Iterable[str] = (),
    precision: str | None = None,
) -> Table:
    """Source, date and confidence of every catalog figure the plan used."""
    rows: list[dict[str, Any] | None] = []
    accelerators: list[str] = []
    for oid in sorted(set(offers)):
        offer = catalog.offers.get(oid)
        if offer is None:
            continue
        per = "per device-hour" if offer.mode == "rental" else f"per {offer.unit.kind}"
        rows.append(_row(oid, f"price ({per})", offer.price, offer.price.currency))
        if offer.server_overhead.cost is not None:
            rows.append(
                _row(oid, "server overhead cost", offer.server_overhead.cost, offer.server_overhead.cost.currency)
            )
        rows.append(_row(oid, "server overhead power", offer.server_overhead.power_w, "W"))
        rows.append(_row(oid, "supply cap", offer.supply_cap_units, "units"))
        if offer.accelerator not in accelerators:
            accelerators.append(offer.accelerator)
        if offer.site:
            sites = [*sites, offer.site]
    for aid in accelerators:
        acc = catalog.accelerators.get(aid)
        if acc is None:
            continue
        rows.append(_row(aid, "memory", acc.memory_gb, "GB"))
        rows.append(_row(aid, "memory bandwidth", acc.memory_bw_tbps, "TB/s"))
        for prec in ([precision] if precision else []) + ["bf16", "fp8", "int8"]:
            peak = acc.dense_tflops.get(prec)
            if peak is not None:
                rows.append(_row(aid, f"dense peak {prec}", peak, "TFLOPS"))
                break
        rows.append(_row(aid, "TDP", acc.tdp_w, "W"))
        stack = catalog.stacks.get(acc.software_stack)
        for name in ("train_mfu", "prefill", "decode_bw"):
            eff = getattr(acc.efficiency, name) or (getattr(stack.efficiency, name) if stack else None)
            rows.append(_row(aid, f"efficiency {name}", eff))
    for sid in sorted(set(sites)):
        site = catalog.sites.get(sid)
        if site is None:
            continue
        price = site.electricity_price
        rows.append(_row(sid, "electricity price", price, f"{price.currency}/kWh" if price else ""))
        rows.append(_row(sid, "PUE", site.pue))
    for pid in policies:
        policy = catalog.policies.get(pid)
        if policy is not None:
            rows.append(
                {
                    "Item": pid,
                    "Figure": "policy",
                    "Value": policy.name,
                    "Date": policy.date,
                    "Confidence": policy.confidence,
                    "Source": policy.source,
                }
            )
    if catalog.fx_cny_per_usd is not None:
        rows.append(_row("fx", "CNY per USD", catalog.fx_cny_per_usd))
    frame = pd.DataFrame(
        [r for r in rows if r is not None], columns=["Item", "Figure", "Value", "Date", "Confidence", "Source"]
    )
    return Table("Data sources", frame, note="Catalog figures behind this report; links open the source.")


def plan_sources(plan: Plan, catalog: Catalog, workload: Workload | Fleet | None = None) -> Table:
    return sources_table(
        catalog,
        offers=[li.offer for li in plan.line_items],
        sites=[li.site for li in plan.line_items],
        policies=policies_in_force(catalog, workload, plan),
        precision=getattr(workload, "precision", None),
    )


def assumptions(
    plan: Plan | None,
    catalog: Catalog | None = None,
    workload: Workload | Fleet | None = None,
    offers: Iterable[str] = (),
) -> list[str]:
    """The assumptions behind the figures, in sentences a reviewer can challenge."""
    out: list[str] = list(plan.assumptions) if plan is not None else []
    if workload is not None:
        training = getattr(workload, "kind", None) == "training"
        horizon = "over the training run" if training else f"over {workload.horizon_months:g} months"
        load = workload.energy_load_factor
        out.append(
            f"Costs are totals {horizon}. Owned hardware in use draws {load:.0%} of nameplate "
            "power (accelerator TDP plus server overhead) times the site PUE, at the site's tariff; "
            "rental prices include electricity."
        )
        out.append(
            f"Objective: {workload.objective}; ties broken in a fixed order, so the same input gives the same plan."
        )
    if plan is not None:
        s = plan.solver
        workers = f"{s.workers} worker{'s' if s.workers != 1 else ''}"
        out.append(
            f"Solver: {s.status} in {s.solve_time_s:.2f} s with {workers}, seed {s.seed}, "
            f"time limit {s.time_limit_s:g} s; money resolution {s.money_resolution_usd:g} USD "
            f"(rounding at most {s.max_rounding_error_usd:,.0f} USD); every figure re-checked by the verifier."
        )
    if catalog is not None:
        fx = catalog.fx_cny_per_usd
        if fx is not None and fx.value is not None:
            out.append(f"CNY amounts converted at {fx.value:g} CNY per USD ({fx.date}, {fx.confidence}).")
        used = set(offers) | ({li.offer for li in plan.line_items} if plan is not None else set())
        for pid in policies_in_force(catalog, workload, plan):
            policy = catalog.policies[pid]
            for rule in policy.rules:
                if rule.kind == "levy":
                    out.append(
                        f"{policy.name}: levy {rule.rate:.0%} of the sale price, {rule.pass_through:.0%} "
                        "passed through to the buyer."
                    )
        for oid in sorted(used):
            offer = catalog.offers.get(oid)
            if offer is not None and offer.price.confidence in WEAK:
                out.append(
                    f"Price of {oid} is {offer.price.confidence} ({offer.price.date}), not a quote: "
                    "overlay your own with --catalog."
                )
    return out

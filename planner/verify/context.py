"""What a plan is checked against: the catalog's prices, rules and policies in force per period.

Everything is re-derived from the catalog and the workload; nothing comes from the prepared
problem or the CP-SAT model.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from typing import Any

from planner.catalog.matching import matches
from planner.catalog.store import Catalog
from planner.catalog.workload_file import ResolvedFleet, as_fleet, resolve
from planner.models.base import date_floor
from planner.models.catalog import (
    Accelerator,
    ElectricitySubsidyRule,
    LevyRule,
    Match,
    Offer,
    Policy,
    PurchaseSubsidyRule,
)
from planner.models.fleet import Fleet
from planner.models.plan import LineItem, Plan
from planner.models.workload import Workload
from planner.perf.inference import ReplicaShape
from planner.perf.training import TrainingPool

REL_TOL = 1e-6
SHARE_TOL = 1e-4
HOURS_PER_MONTH = 730.0
DAYS_PER_MONTH = 30.4375
COST_KEYS = ("capex", "levy", "subsidy", "energy", "electricity_subsidy", "rental", "residual")
MEASURES = ("devices", "compute", "throughput", "spend")
ROLES = ("replicas", "training pool", "idle", "on order")

Key = tuple[str, str, int]
"""(offer, site, period)"""


def _dense_peak(acc: Accelerator) -> float:
    """Dense bf16 TFLOPS, or fp16 where bf16 is not published (the compute measure)."""
    for item in (acc.dense_tflops.bf16, acc.dense_tflops.fp16):
        if item is not None and item.value is not None:
            return item.value
    return 0.0


def _total(costs: dict[str, float]) -> float:
    return (
        costs["capex"]
        + costs["levy"]
        - costs["subsidy"]
        + costs["energy"]
        - costs["electricity_subsidy"]
        + costs["rental"]
        - costs["residual"]
    )


class Context:
    """The workload, catalog and calendar of one check, and the sums it builds up."""

    def __init__(self, plan: Plan, inp: Workload | Fleet, catalog: Catalog) -> None:
        self.plan = plan
        self.f: Fleet = as_fleet(inp)
        self.cat = catalog
        self.rf: ResolvedFleet = resolve(inp, catalog)
        self.aliases = catalog._aliases("accelerators")
        self.members = {m.name: m for m in self.f.fleet}
        self.failures: list[str] = []
        self.rounding_usd = plan.solver.max_rounding_error_usd + 1.0
        spec = self.f.period_list
        start = date_floor(spec.start)
        self.starts = [start + dt.timedelta(days=spec.months * DAYS_PER_MONTH * i) for i in range(spec.count)]
        self.hours = [spec.months * HOURS_PER_MONTH] * spec.count
        self.T = range(spec.count)
        self.policies = [self._policies(s) for s in self.starts]
        self.shapes: dict[tuple[str, str, int, int], ReplicaShape | str] = {}

        self.sums: dict[str, float] = defaultdict(float)
        self.period_sums: dict[tuple[int, str], float] = defaultdict(float)
        self.bought: dict[Key, int] = defaultdict(int)
        self.in_place: dict[Key, int] = defaultdict(int)
        self.available: dict[Key, int] = {}
        self.power_site: dict[tuple[str, int], float] = defaultdict(float)
        self.rps: dict[tuple[str, int], float] = defaultdict(float)
        self.meas: dict[tuple[str, bool, int], float] = defaultdict(float)
        self.line_totals: dict[str, float] = defaultdict(float)
        self.member_devices: dict[tuple[str, int], int] = defaultdict(int)
        self.pool_lines: dict[str, list[LineItem]] = defaultdict(list)
        self.pools: dict[str, TrainingPool] = {}

    # ---- helpers -------------------------------------------------------------------------
    def fail(self, text: str) -> None:
        self.failures.append(text)

    def close(self, what: str, got: float | None, want: float, abs_tol: float = 1e-6) -> None:
        if got is None or not math.isclose(got, want, rel_tol=REL_TOL, abs_tol=abs_tol):
            shown = "nothing" if got is None else f"{got:,.6g}"
            self.fail(f"{what}: plan says {shown}, recomputed {want:,.6g}")

    def _policies(self, start: dt.date) -> list[Policy]:
        ids = set(self.rf.policy_ids)
        for e in sorted(self.f.schedule.events, key=lambda e: date_floor(e.date)):
            if date_floor(e.date) <= start:
                ids |= set(e.policy_on)
                ids -= set(e.policy_off)
        out = []
        for pid in sorted(ids):
            pol = self.cat.policies[pid]
            if len(self.starts) > 1:
                if pol.effective_from and date_floor(pol.effective_from) > start:
                    continue
                if pol.effective_until and date_floor(pol.effective_until) <= start:
                    continue
            out.append(pol)
        return out

    def event(self, t: int, attr: str) -> float | None:
        value = None
        for e in sorted(self.f.schedule.events, key=lambda e: date_floor(e.date)):
            if date_floor(e.date) <= self.starts[t] and getattr(e, attr) is not None:
                value = getattr(e, attr)
        return value

    def rules(self, t: int, kind: type) -> list[tuple[str, Any]]:
        return [(p.id, r) for p in self.policies[t] for r in p.rules if isinstance(r, kind)]

    def hit(self, m: Match, offer: Offer, site: str) -> bool:
        return matches(m, offer, self.cat.accelerators[offer.accelerator], site, self.aliases)

    def factor(self, offer: Offer, site: str, t: int) -> float:
        out = 1.0
        for trend in self.f.schedule.price_trends:
            if self.hit(trend.match, offer, site):
                out *= (1.0 + trend.per_period) ** t
        return out

    def kw_per_unit(self, offer: Offer, site: str) -> float:
        acc = self.cat.accelerators[offer.accelerator]
        watts = offer.unit.devices * (acc.tdp_w.value or 0.0)
        if offer.server_overhead.power_w is not None and offer.server_overhead.power_w.value:
            watts += offer.server_overhead.power_w.value
        return watts / 1000.0 * (self.cat.sites[site].pue.value or 1.0)

    def lag(self, offer: Offer) -> int:
        if len(self.starts) == 1 or offer.lead_time_weeks is None or offer.lead_time_weeks.value is None:
            return 0
        weeks = self.f.period_list.months * DAYS_PER_MONTH / 7.0
        return math.floor(offer.lead_time_weeks.value / weeks + 0.5)

    def residual(self, t: int) -> float:
        life = self.f.schedule.depreciation_years
        if life is None:
            return 0.0
        age_hours = sum(self.hours[t:])
        return max(0.0, 1.0 - age_hours / (HOURS_PER_MONTH * 12) / life)

    def pool_start(self, li: LineItem) -> bool:
        return (
            li.role == "training pool"
            and li.workload in self.members
            and (self.members[li.workload].start_period == li.period)
        )

    # ---- costs of one line ---------------------------------------------------------------
    def line_costs(self, li: LineItem) -> dict[str, float]:
        offer = self.cat.offers[li.offer]
        t = li.period
        out = dict.fromkeys(COST_KEYS, 0.0)
        price = self.cat.to_usd(offer.price.value or 0.0, offer.price.currency) * self.factor(offer, li.site, t)
        pool_hours = (li.training_days or 0.0) * 24.0
        starts_here = self.pool_start(li)
        if offer.mode == "purchase":
            over = offer.server_overhead.cost
            extra = self.cat.to_usd(over.value, over.currency) if over is not None and over.value else 0.0
            out["capex"] = li.new_units * (price + extra)
            override = self.event(t, "levy_rate")
            for _, r in self.rules(t, LevyRule):
                if self.hit(r.match, offer, li.site):
                    rate = override if override is not None else r.rate
                    out["levy"] += li.new_units * price * rate * r.pass_through
            sub = sum(r.fraction for _, r in self.rules(t, PurchaseSubsidyRule) if self.hit(r.match, offer, li.site))
            out["subsidy"] = li.new_units * price * min(sub, 1.0)
            out["residual"] = (out["capex"] + out["levy"] - out["subsidy"]) * self.residual(t)
            site = self.cat.sites[li.site]
            if site.electricity_price is not None and site.electricity_price.value is not None:
                per_kwh = self.cat.to_usd(site.electricity_price.value, site.electricity_price.currency)
                per_hour = self.kw_per_unit(offer, li.site) * self.f.energy_load_factor * per_kwh
                hours = self.hours[t] if li.role == "replicas" else pool_hours if starts_here else 0.0
                out["energy"] = li.units * per_hour * hours
                frac = max(
                    (
                        r.fraction
                        for _, r in self.rules(t, ElectricitySubsidyRule)
                        if li.site in r.sites and self.hit(r.match, offer, li.site)
                    ),
                    default=0.0,
                )
                out["electricity_subsidy"] = out["energy"] * frac
        else:
            rate = price * offer.unit.devices
            if li.role == "training pool":
                out["rental"] = li.units * rate * pool_hours if starts_here else 0.0
            else:
                out["rental"] = li.new_units * rate * self.hours[t]
        return out

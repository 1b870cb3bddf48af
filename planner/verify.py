"""Independent check of a plan: recompute every figure from the catalog and the chosen units.

Nothing here uses the CP-SAT model, the prepared problem or its integer scaling. Prices,
levies, subsidies and policies are re-derived from the catalog for each period; power from
TDPs and PUEs; delivery from the performance model run afresh on each line's layout. A plan
that fails is a planner bug, never shown as a plan.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections import defaultdict

from planner.catalog.matching import matches
from planner.catalog.store import Catalog
from planner.catalog.workload_file import ResolvedFleet, as_fleet, resolve
from planner.models.base import date_floor
from planner.models.catalog import (
    Accelerator,
    BanRule,
    CapRule,
    ElectricitySubsidyRule,
    LevyRule,
    Match,
    Offer,
    Policy,
    PurchaseSubsidyRule,
    ResidencyRule,
    ShareFloorRule,
    TieInRule,
)
from planner.models.fleet import Fleet, Member
from planner.models.plan import LineItem, Plan
from planner.models.workload import Workload
from planner.perf.device import DeviceModel, device_model
from planner.perf.inference import InferenceSetup, ReplicaShape, evaluate_shape
from planner.perf.training import TrainingPool, TrainingSetup, size_pool

REL_TOL = 1e-6
HOURS_PER_MONTH = 730.0
DAYS_PER_MONTH = 30.4375


def _dense_peak(acc: Accelerator) -> float:
    """Dense bf16 TFLOPS, or fp16 where bf16 is not published (the compute measure)."""
    for item in (acc.dense_tflops.bf16, acc.dense_tflops.fp16):
        if item is not None and item.value is not None:
            return item.value
    return 0.0


class _Checker:
    def __init__(self, plan: Plan, inp: Workload | Fleet, catalog: Catalog) -> None:
        self.plan = plan
        self.f: Fleet = as_fleet(inp)
        self.cat = catalog
        self.rf: ResolvedFleet = resolve(inp, catalog)
        self.aliases = catalog._aliases("accelerators")
        self.members = {m.name: m for m in self.f.fleet}
        self.failures: list[str] = []
        self.slack_usd = plan.solver.max_rounding_error_usd + 1.0
        spec = self.f.period_list
        start = date_floor(spec.start)
        self.starts = [start + dt.timedelta(days=spec.months * DAYS_PER_MONTH * i) for i in range(spec.count)]
        self.hours = [spec.months * HOURS_PER_MONTH] * spec.count
        self.policies = [self._policies(s) for s in self.starts]

    # ---- helpers -------------------------------------------------------------------------
    def fail(self, text: str) -> None:
        self.failures.append(text)

    def close(self, what: str, got: float, want: float, abs_tol: float = 1e-6) -> None:
        if not math.isclose(got, want, rel_tol=REL_TOL, abs_tol=abs_tol):
            self.fail(f"{what}: plan says {got:,.6g}, recomputed {want:,.6g}")

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

    def rules(self, t: int, kind: type) -> list[tuple[str, object]]:
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
        return int(math.floor(offer.lead_time_weeks.value / weeks + 0.5))

    def residual(self, t: int) -> float:
        life = self.f.schedule.depreciation_years
        if life is None:
            return 0.0
        age_hours = sum(self.hours[t:])
        return max(0.0, 1.0 - age_hours / (HOURS_PER_MONTH * 12) / life)

    # ---- costs of one line ---------------------------------------------------------------
    def line_costs(self, li: LineItem) -> dict[str, float]:
        offer = self.cat.offers[li.offer]
        t = li.period
        out = dict(capex=0.0, levy=0.0, subsidy=0.0, energy=0.0, electricity_subsidy=0.0, rental=0.0, residual=0.0)
        price = self.cat.to_usd(offer.price.value or 0.0, offer.price.currency) * self.factor(offer, li.site, t)
        pool_hours = (li.training_days or 0.0) * 24.0
        starts_here = li.role == "training pool" and li.workload is not None and (
            self.members[li.workload].start_period == t
        )
        if offer.mode == "purchase":
            over = offer.server_overhead.cost
            extra = self.cat.to_usd(over.value, over.currency) if over is not None and over.value else 0.0
            out["capex"] = li.new_units * (price + extra)
            override = self.event(t, "levy_rate")
            for _, r in self.rules(t, LevyRule):
                if self.hit(r.match, offer, li.site):  # type: ignore[attr-defined]
                    rate = override if override is not None else r.rate  # type: ignore[attr-defined]
                    out["levy"] += li.new_units * price * rate * r.pass_through  # type: ignore[attr-defined]
            sub = sum(r.fraction for _, r in self.rules(t, PurchaseSubsidyRule)  # type: ignore[attr-defined]
                      if self.hit(r.match, offer, li.site))  # type: ignore[attr-defined]
            out["subsidy"] = li.new_units * price * min(sub, 1.0)
            out["residual"] = (out["capex"] + out["levy"] - out["subsidy"]) * self.residual(t)
            site = self.cat.sites[li.site]
            if site.electricity_price is not None and site.electricity_price.value is not None:
                per_kwh = self.cat.to_usd(site.electricity_price.value, site.electricity_price.currency)
                per_hour = self.kw_per_unit(offer, li.site) * self.f.energy_load_factor * per_kwh
                hours = self.hours[t] if li.role == "replicas" else pool_hours if starts_here else 0.0
                out["energy"] = li.units * per_hour * hours
                frac = max((r.fraction for _, r in self.rules(t, ElectricitySubsidyRule)  # type: ignore[attr-defined]
                            if li.site in r.sites and self.hit(r.match, offer, li.site)),  # type: ignore[attr-defined]
                           default=0.0)
                out["electricity_subsidy"] = out["energy"] * frac
        else:
            rate = price * offer.unit.devices
            if li.role == "training pool":
                out["rental"] = li.units * rate * pool_hours if starts_here else 0.0
            else:
                out["rental"] = li.new_units * rate * self.hours[t]
        return out

    # ---- per line checks -----------------------------------------------------------------
    def check_line(self, li: LineItem) -> None:
        offer = self.cat.offers.get(li.offer)
        if offer is None:
            self.fail(f"line {li.offer}: unknown offer")
            return
        where = f"line {li.offer}@{li.site} p{li.period}"
        acc = self.cat.accelerators[offer.accelerator]
        if offer.accelerator != li.accelerator:
            self.fail(f"{where}: accelerator {li.accelerator} is not the offer's {offer.accelerator}")
        if li.devices != li.units * offer.unit.devices:
            self.fail(f"{where}: {li.units} units of {offer.unit.devices} devices != {li.devices}")
        if li.role != "on order" and li.new_units + li.existing_units + li.carried_units != li.units:
            self.fail(f"{where}: new + existing + carried units != units")
        if min(li.new_units, li.existing_units, li.carried_units) < 0:
            self.fail(f"{where}: negative units")
        if offer.mode == "rental" and li.site != offer.site:
            self.fail(f"{where}: rented at {li.site}, offered at {offer.site}")
        t = li.period
        ids = {p.id for p in self.policies[t]}
        buys = li.new_units > 0
        if buys and (offer.existing_only or offer.price.value is None):
            self.fail(f"{where}: buys units of a part that cannot be bought")
        if buys and offer.requires_policy and offer.requires_policy not in ids:
            self.fail(f"{where}: needs policy {offer.requires_policy}, not in force")
        kinds = {m.kind for m in self.f.fleet}
        for pid, r in self.rules(t, BanRule):
            scope = r.workloads  # type: ignore[attr-defined]
            if buys and self.hit(r.match, offer, li.site) and (scope is None or kinds & set(scope)):  # type: ignore[attr-defined]
                self.fail(f"{where}: new units banned by policy {pid}")
        cons = self.f.constraints
        if buys and acc.origin not in cons.allowed_origins:
            self.fail(f"{where}: {acc.origin} parts are not allowed")
        if buys and offer.location not in cons.allowed_locations:
            self.fail(f"{where}: {offer.location} capacity is not allowed")
        if buys and offer.mode == "rental" and not cons.allow_rental:
            self.fail(f"{where}: rental is not allowed")
        if buys and offer.mode == "purchase" and not cons.allow_purchase:
            self.fail(f"{where}: new purchases are not allowed")
        serving = li.role in ("replicas", "training pool")
        if serving:
            member = self.members.get(li.workload or "")
            if member is None:
                self.fail(f"{where}: serves unknown workload {li.workload}")
                return
            for pid, r in self.rules(0, ResidencyRule):
                if (member.kind in r.workloads and member.handles_domestic_data  # type: ignore[attr-defined]
                        and offer.location not in r.allowed_locations):  # type: ignore[attr-defined]
                    self.fail(f"{where}: '{member.name}' runs {offer.location}, which policy {pid} forbids")
            banned = set(self.rf.excluded) | set(self.rf.member_excluded.get(member.name, ()))
            for ident in banned:
                if ident in (acc.id, acc.vendor, offer.id):
                    self.fail(f"{where}: uses excluded '{ident}'")
            if member.allowed_locations is not None and offer.location not in member.allowed_locations:
                self.fail(f"{where}: '{member.name}' may not run {offer.location}")
        if buys or serving:
            limit = min([c for c in (
                offer.max_cluster_devices.value if offer.max_cluster_devices else None,
                cons.max_cluster_devices,
            ) if c is not None], default=None)
            size = li.devices_per_replica if li.role == "replicas" else li.devices if li.role == "training pool" else 0
            if limit is not None and size and size > limit:
                self.fail(f"{where}: a cluster of {size} devices exceeds the cap of {limit:g}")
        for k, v in self.line_costs(li).items():
            self.close(f"{where} {k}", getattr(li.costs, k), v, abs_tol=self.slack_usd)

    # ---- performance -------------------------------------------------------------------
    def device(self, li: LineItem) -> DeviceModel:
        dev = device_model(self.cat, li.accelerator)
        dom = self.cat.offers[li.offer].scale_up_domain
        if dom is not None and dom.value is not None:
            dev = dataclasses.replace(dev, domain=max(1, int(dom.value)))
        return dev

    def precision(self, dev: DeviceModel, wanted: str) -> str:
        peaks = {p for p in ("bf16", "fp16", "fp8", "int8") if (v := dev.accelerator.dense_tflops.get(p)) and v.value}
        return wanted if wanted in peaks else ("bf16" if "bf16" in peaks else "fp16")

    def delivered(self, li: LineItem, m: Member) -> float:
        if not li.replicas or not li.tp or not li.pp:
            return 0.0
        assert m.traffic is not None and m.slo is not None
        dev = self.device(li)
        precision = self.precision(dev, m.precision)
        kvp = m.kv_precision or m.precision
        if kvp == "fp8" and precision != "fp8":
            kvp = precision
        setup = InferenceSetup(self.rf.archs[m.name], precision, kvp, m.traffic.input_tokens,
                               m.traffic.output_tokens, m.slo.ttft_ms, m.slo.tpot_ms)
        shape = evaluate_shape(dev, setup, li.tp, li.pp)
        where = f"line {li.offer}@{li.site} p{li.period}"
        if not isinstance(shape, ReplicaShape):
            self.fail(f"{where}: layout tp{li.tp}×pp{li.pp} misses the SLO or does not fit: {shape.reason}")
            return 0.0
        if li.devices_per_replica and li.replicas * li.devices_per_replica > li.devices:
            self.fail(f"{where}: {li.replicas} replicas of {li.devices_per_replica} exceed {li.devices} devices")
        if shape.tpot_ms > m.slo.tpot_ms * (1 + REL_TOL) or shape.ttft_ms > m.slo.ttft_ms:
            self.fail(f"{where}: replica misses the SLO")
        got = li.replicas * shape.requests_per_s
        self.close(f"{where} requests/s", li.requests_per_s, got)
        return got

    def pool(self, li: LineItem, m: Member) -> TrainingPool | None:
        assert m.tokens_b is not None and m.seq_len and m.deadline_days
        dev = self.device(li)
        setup = TrainingSetup(self.rf.archs[m.name], m.tokens_b * 1e9, m.seq_len, m.deadline_days,
                              self.precision(dev, m.precision))
        pool = size_pool(dev, setup, self.cat.offers[li.offer].unit.devices, None)
        if not isinstance(pool, TrainingPool):
            self.fail(f"line {li.offer}: no pool of this part meets the deadline of '{m.name}'")
            return None
        if li.devices < pool.devices:
            self.fail(f"line {li.offer}: {li.devices} devices, '{m.name}' needs {pool.devices}")
        if pool.days > m.deadline_days * (1 + REL_TOL):
            self.fail(f"'{m.name}' takes {pool.days:.2f} days, deadline {m.deadline_days}")
        self.close(f"'{m.name}' training days", li.training_days or 0.0, pool.days)
        return pool

    # ---- whole plan ----------------------------------------------------------------------
    def run(self) -> list[str]:
        plan, f = self.plan, self.f
        tot = plan.totals
        if tot is None:
            return self.failures
        T = range(len(self.starts))
        sums: dict[str, float] = defaultdict(float)
        bought: dict[tuple[str, str, int], int] = defaultdict(int)
        in_place: dict[tuple[str, str, int], int] = defaultdict(int)
        rps: dict[tuple[str, int], float] = defaultdict(float)
        pools: dict[str, list[LineItem]] = defaultdict(list)
        meas: dict[tuple[str, bool, int], float] = defaultdict(float)
        for li in plan.line_items:
            self.check_line(li)
            if li.offer not in self.cat.offers:
                continue
            offer = self.cat.offers[li.offer]
            acc = self.cat.accelerators[offer.accelerator]
            for k, v in li.costs.model_dump().items():
                sums[k] += v
            key = (li.offer, li.site, li.period)
            rented_pool = offer.mode == "rental" and li.role == "training pool"
            if li.role == "on order" or (li.new_units and not rented_pool):
                bought[key] += li.new_units
            if li.role != "on order" and not rented_pool:
                in_place[key] += li.units
            dom = acc.origin == "domestic"
            t = li.period
            if li.role != "on order":
                meas[("devices", dom, t)] += li.devices
                meas[("compute", dom, t)] += li.devices * _dense_peak(acc)
            if li.role == "replicas" and li.workload in self.members:
                m = self.members[li.workload]
                got = self.delivered(li, m)
                rps[(m.name, t)] += got
                meas[("throughput", dom, t)] += got * self._flops_per_request(m) / 1e15
            elif li.role == "training pool" and li.workload in self.members:
                m = self.members[li.workload]
                if m.start_period == t:
                    pools[m.name].append(li)
                    pool = self.pool(li, m)
                    if pool is not None:
                        meas[("throughput", dom, t)] += pool.devices * pool.achieved_tflops_per_device / 1000.0
                else:
                    first = next((x for x in pools.get(m.name, []) if x.offer == li.offer), None)
                    if first is not None and first.devices:
                        meas[("throughput", dom, t)] += 0.0
            meas[("spend", dom, 0)] += li.costs.total

        # units: what serves or idles in a period must be exactly what was bought or owned by then
        existing: dict[tuple[str, str], int] = defaultdict(int)
        for item in f.existing_fleet:
            existing[(item.offer, item.site or self.rf.sites[0])] += item.units
        groups = {(o, s) for (o, s, _) in list(bought) + list(in_place)} | set(existing)
        power_site: dict[tuple[str, int], float] = defaultdict(float)
        for offer_id, site in sorted(groups):
            offer = self.cat.offers[offer_id]
            for t in T:
                if offer.mode == "purchase":
                    avail = existing[(offer_id, site)] + sum(
                        bought[(offer_id, site, s)] for s in range(0, t - self.lag(offer) + 1)
                    )
                    power_site[(site, t)] += avail * self.kw_per_unit(offer, site)
                else:
                    avail = bought[(offer_id, site, t)]
                if in_place[(offer_id, site, t)] != avail:
                    self.fail(f"{offer_id}@{site} period {t}: {in_place[(offer_id, site, t)]} units in the plan, "
                              f"{avail} owned or rented")

        # totals
        tco = sum(sums[k] for k in ("capex", "levy", "rental", "energy")) - sums["subsidy"] \
            - sums["electricity_subsidy"] - sums["residual"]
        self.close("TCO", tot.tco_usd, tco, abs_tol=self.slack_usd)
        for k in ("capex", "levy", "subsidy", "energy", "electricity_subsidy", "rental", "residual"):
            self.close(f"total {k}", getattr(tot, f"{k}_usd"), sums[k], abs_tol=self.slack_usd)

        # demand
        for m in f.fleet:
            if m.kind == "inference":
                assert m.traffic is not None
                for t in T:
                    need = m.traffic.requests_per_s * m.demand_factor(t)
                    if need > 0 and rps[(m.name, t)] < need * (1 - REL_TOL):
                        self.fail(f"'{m.name}' period {t}: delivers {rps[(m.name, t)]:.3f} req/s, needs {need:.3f}")
            elif len(pools.get(m.name, [])) != 1:
                self.fail(f"'{m.name}': {len(pools.get(m.name, []))} training pools, expected exactly one")

        # budget
        budget = f.constraints.budget
        if budget is not None:
            if budget.total is not None and tco > self.cat.to_usd(budget.total, budget.currency) + self.slack_usd:
                self.fail(f"TCO {tco:,.0f} USD exceeds the budget")
            capex = sums["capex"] + sums["levy"] - sums["subsidy"]
            if budget.capex is not None and capex > self.cat.to_usd(budget.capex, budget.currency) + self.slack_usd:
                self.fail(f"capex {capex:,.0f} USD exceeds the capex budget")

        # power
        sites = sorted({s for (s, _) in power_site})
        for t in T:
            for site in sites:
                kw = power_site[(site, t)]
                cap = f.constraints.site_power_kw.get(site, self.cat.sites[site].power_kw.value)
                if cap is not None and kw > cap * (1 + REL_TOL) + 1e-6:
                    self.fail(f"power at {site} in period {t}: {kw:,.1f} kW over the cap of {cap:,.1f} kW")
            total_kw = sum(power_site[(s, t)] for s in sites)
            if f.constraints.power_kw is not None and total_kw > f.constraints.power_kw * (1 + REL_TOL) + 1e-6:
                self.fail(f"total power {total_kw:,.1f} kW in period {t} over the cap of {f.constraints.power_kw:,.1f}")

        # domestic shares
        def share(which: str, t: int) -> float:
            whole = meas[(which, True, t)] + meas[(which, False, t)]
            return meas[(which, True, t)] / whole if whole > 0 else 0.0

        floors: list[tuple[str, float, int, str]] = []
        base = f.constraints.domestic_share
        for t in T:
            override = self.event(t, "domestic_share_min")
            if base is not None or override is not None:
                value = override if override is not None else (base.min if base else 0.0)
                floors.append((base.measure if base else "devices", value, t, "workload"))
            for pid, r in self.rules(t, ShareFloorRule):
                floors.append((r.measure, r.min, t, pid))  # type: ignore[attr-defined]
        for which, floor, t, owner in floors:
            got = share(which, 0 if which == "spend" else t)
            if floor > 0 and got < floor - 1e-4:
                self.fail(f"domestic share by {which} in period {t}: {got:.4f} below the {owner} floor {floor}")
        if len(self.starts) == 1:
            for which in ("devices", "spend"):
                self.close(f"domestic share by {which}", tot.domestic_share.get(which, 0.0), share(which, 0), abs_tol=1e-4)

        # supply caps, tie-ins
        for t in T:
            per_offer: dict[str, int] = defaultdict(int)
            for (o, s, tt), n in bought.items():
                if tt == t:
                    per_offer[o] += n
            for o, n in per_offer.items():
                cap = self.cat.offers[o].supply_cap_units
                if cap is not None and cap.value is not None and n > cap.value:
                    self.fail(f"{o}: {n} new units in period {t} over the supply cap {cap.value:g}")
            for i, sched in enumerate(f.schedule.supply):
                n = sum(v for (o, s, tt), v in bought.items() if tt == t and self.hit(sched.match, self.cat.offers[o], s))
                limit = sched.units_per_period[min(t, len(sched.units_per_period) - 1)]
                if n > limit:
                    self.fail(f"scheduled supply {i}: {n} units in period {t} over {limit}")
            for pid, r in self.rules(t, CapRule):
                n = sum(v for (o, s, tt), v in bought.items() if tt == t and self.hit(r.match, self.cat.offers[o], s))  # type: ignore[attr-defined]
                if n > r.max_units:  # type: ignore[attr-defined]
                    self.fail(f"policy {pid}: {n} units in period {t} over its cap")
        for pid, r in self.rules(0, TieInRule):
            if r.ratio is None:  # type: ignore[attr-defined]
                continue
            dom = sum(v * self.cat.offers[o].unit.devices for (o, s, _), v in bought.items()
                      if self.cat.offers[o].mode == "purchase"
                      and self.cat.accelerators[self.cat.offers[o].accelerator].origin == "domestic")
            tied = sum(v * self.cat.offers[o].unit.devices for (o, s, _), v in bought.items()
                       if self.hit(r.match, self.cat.offers[o], s))  # type: ignore[attr-defined]
            if dom < r.ratio * tied - 1e-6:  # type: ignore[attr-defined]
                self.fail(f"policy {pid}: {dom} domestic devices bought for {tied} tied ones")
        return self.failures

    def _flops_per_request(self, m: Member) -> float:
        from planner.perf.arch_math import forward_flops_per_token, prefill_flops

        assert m.traffic is not None
        arch = self.rf.archs[m.name]
        return prefill_flops(arch, m.traffic.input_tokens) + m.traffic.output_tokens * forward_flops_per_token(
            arch, m.traffic.input_tokens + m.traffic.output_tokens / 2.0
        )


def verify(plan: Plan, workload: Workload | Fleet, catalog: Catalog) -> list[str]:
    """Every way the plan breaks a constraint or misstates a figure; empty when it is sound."""
    if not plan.ok:
        return []
    return _Checker(plan, workload, catalog).run()

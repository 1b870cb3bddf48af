"""The whole check: account every line, then units, demand, limits, shares and caps."""

from __future__ import annotations

import math
from collections import defaultdict

from planner.models.catalog import (
    CapRule,
    ShareFloorRule,
    TieInRule,
)
from planner.models.plan import LineItem
from planner.verify.context import DAYS_PER_MONTH, REL_TOL, SHARE_TOL, _dense_peak, _total
from planner.verify.stated import StatedFigures


class Checker(StatedFigures):
    def run(self) -> list[str]:
        plan = self.plan
        if plan.totals is None:
            self.fail("a plan was found but has no totals")
            return self.failures
        if len(self.T) != plan.periods:
            self.fail(f"the plan has {plan.periods} period(s), the workload {len(self.T)}")
            return self.failures
        for li in sorted(plan.line_items, key=lambda x: (x.period, x.role != "training pool")):
            self.account(li)
        self.check_units()
        self.check_totals()
        self.check_demand()
        self.check_limits()
        self.check_shares()
        self.check_caps()
        self.check_hedge()
        self.check_tables()
        self.check_objective()
        self.check_rows()
        self.check_forced()
        return self.failures

    def account(self, li: LineItem) -> None:
        """Check one line and add its recomputed figures to the plan-wide sums."""
        costs = self.check_line(li)
        if costs is None:
            return
        offer = self.cat.offers[li.offer]
        acc = self.cat.accelerators[offer.accelerator]
        t = li.period
        for k, v in costs.items():
            self.sums[k] += v
            self.period_sums[(t, k)] += v
        key = (li.offer, li.site, t)
        rented_pool = offer.mode == "rental" and li.role == "training pool"
        if li.role == "on order" or (li.new_units and not rented_pool):
            self.bought[key] += li.new_units
        if li.role != "on order" and not rented_pool:
            self.in_place[key] += li.units
        dom = acc.origin == "domestic"
        if li.role != "on order":
            self.meas[("devices", dom, t)] += li.devices
            self.meas[("compute", dom, t)] += li.devices * _dense_peak(acc)
        self.meas[("spend", dom, 0)] += _total(costs)
        m = self.members.get(li.workload or "")
        if m is None:
            return
        self.line_totals[m.name] += li.total_usd
        self.member_devices[(m.name, t)] += li.devices
        where = f"line {li.offer}@{li.site} p{t}"
        if li.role == "replicas" and m.kind == "inference":
            got = self.delivered(li, m, where)
            self.rps[(m.name, t)] += got
            self.meas[("throughput", dom, t)] += got * self.flops_per_request(m) / 1e15
        elif li.role == "training pool" and m.kind == "training":
            self.pool_lines[m.name].append(li)
            if self.pool_start(li):
                pool = self.pool(li, m)
                if pool is not None:
                    self.pools[m.name] = pool
            first = self.pool_lines[m.name][0]
            if (li.offer, li.site, li.units) != (first.offer, first.site, first.units):
                self.fail(f"'{m.name}': its pool changes between periods")
            if m.name in self.pools:
                pool = self.pools[m.name]
                self.meas[("throughput", dom, t)] += pool.devices * pool.achieved_tflops_per_device / 1000.0
        else:
            self.fail(f"{where}: a {m.kind} workload served by a '{li.role}' line")

    def check_units(self) -> None:
        """What serves or idles in a period is exactly what was bought or owned by then; power per site."""
        existing: dict[tuple[str, str], int] = defaultdict(int)
        for item in self.f.existing_fleet:
            existing[(item.offer, item.site or (self.rf.sites or ("",))[0])] += item.units
        groups = {(o, s) for (o, s, _) in list(self.bought) + list(self.in_place)} | set(existing)
        self.available = {}
        self.power_site = defaultdict(float)
        for offer_id, site in sorted(groups):
            offer = self.cat.offers[offer_id]
            for t in self.T:
                if offer.mode == "purchase":
                    avail = existing[(offer_id, site)] + sum(
                        self.bought[(offer_id, site, s)] for s in range(0, t - self.lag(offer) + 1)
                    )
                    self.power_site[(site, t)] += avail * self.kw_per_unit(offer, site)
                else:
                    avail = self.bought[(offer_id, site, t)]
                self.available[(offer_id, site, t)] = avail
                if self.in_place[(offer_id, site, t)] != avail:
                    self.fail(
                        f"{offer_id}@{site} period {t}: {self.in_place[(offer_id, site, t)]} units in the "
                        f"plan, {avail} owned or rented"
                    )

    def check_demand(self) -> None:
        for m in self.f.fleet:
            if m.kind == "inference":
                assert m.traffic is not None
                for t in self.T:
                    need = m.traffic.requests_per_s * m.demand_factor(t)
                    if need > 0 and self.rps[(m.name, t)] < need * (1 - REL_TOL):
                        self.fail(
                            f"'{m.name}' period {t}: delivers {self.rps[(m.name, t)]:.3f} req/s, needs {need:.3f}"
                        )
                continue
            lines = self.pool_lines.get(m.name, [])
            starts = [li for li in lines if li.period == m.start_period]
            if len(starts) != 1:
                self.fail(f"'{m.name}': {len(starts)} training pools at its start, expected exactly one")
                continue
            pool = self.pools.get(m.name)
            if pool is None:
                continue
            period_days = self.f.period_list.months * DAYS_PER_MONTH
            span = max(1, math.ceil(pool.days / period_days - 1e-9))
            want = [t for t in range(m.start_period, m.start_period + span) if t in self.T]
            if sorted(li.period for li in lines) != want:
                self.fail(
                    f"'{m.name}': its pool is listed in periods {sorted(li.period for li in lines)}, runs in {want}"
                )

    def check_limits(self) -> None:
        """Budget and power, against the exact recomputed figures."""
        f = self.f
        budget = f.constraints.budget
        tco = _total(self.sums)
        if budget is not None:
            if budget.total is not None:
                cap = self.cat.to_usd(budget.total, budget.currency)
                if tco > cap * (1 + REL_TOL) + 0.01:
                    self.fail(f"TCO {tco:,.2f} USD exceeds the budget of {cap:,.2f}")
            capex = self.sums["capex"] + self.sums["levy"] - self.sums["subsidy"]
            if budget.capex is not None:
                cap = self.cat.to_usd(budget.capex, budget.currency)
                if capex > cap * (1 + REL_TOL) + 0.01:
                    self.fail(f"capex {capex:,.2f} USD exceeds the capex budget of {cap:,.2f}")
        sites = sorted({s for (s, _) in self.power_site})
        for t in self.T:
            for site in sites:
                kw = self.power_site[(site, t)]
                site_cap = f.constraints.site_power_kw.get(site, self.cat.sites[site].power_kw.value)
                if site_cap is not None and kw > site_cap * (1 + REL_TOL) + 1e-6:
                    self.fail(f"power at {site} in period {t}: {kw:,.1f} kW over the cap of {site_cap:,.1f} kW")
            total_kw = sum(self.power_site[(s, t)] for s in sites)
            if f.constraints.power_kw is not None and total_kw > f.constraints.power_kw * (1 + REL_TOL) + 1e-6:
                self.fail(f"total power {total_kw:,.1f} kW in period {t} over the cap of {f.constraints.power_kw:,.1f}")

    def check_shares(self) -> None:
        floors: list[tuple[str, float, int, str]] = []
        base = self.f.constraints.domestic_share
        for t in self.T:
            override = self.event(t, "domestic_share_min")
            if base is not None or override is not None:
                value = override if override is not None else (base.min if base else 0.0)
                floors.append((base.measure if base else "devices", value, t, "workload"))
            for pid, r in self.rules(t, ShareFloorRule):
                floors.append((r.measure, r.min, t, pid))
        spend_floor = max((floor for which, floor, _, _ in floors if which == "spend"), default=0.0)
        for which, floor, t, owner in floors:
            if which == "spend":  # one floor over the horizon: the highest any period asks for
                floor, t = spend_floor, 0
            # domestic >= floor x all, as the model states it: holds trivially when nothing is measured
            dom = self.meas[(which, True, 0 if which == "spend" else t)]
            whole = dom + self.meas[(which, False, 0 if which == "spend" else t)]
            if floor > 0 and dom < (floor - SHARE_TOL) * whole - 1e-9:
                self.fail(
                    f"domestic share by {which} in period {t}: {self.share(which, t):.4f} below the {owner} "
                    f"floor {floor}"
                )

    def check_caps(self) -> None:
        """Supply caps, scheduled supply, policy caps (new units per period) and tie-in ratios."""
        bought = self.bought
        for t in self.T:
            per_offer: dict[str, int] = defaultdict(int)
            for (o, _, tt), n in bought.items():
                if tt == t:
                    per_offer[o] += n
            for o, n in per_offer.items():
                cap = self.cat.offers[o].supply_cap_units
                if cap is not None and cap.value is not None and n > cap.value:
                    self.fail(f"{o}: {n} new units in period {t} over the supply cap {cap.value:g}")
            for i, sched in enumerate(self.f.schedule.supply):
                n = sum(
                    v for (o, s, tt), v in bought.items() if tt == t and self.hit(sched.match, self.cat.offers[o], s)
                )
                limit = sched.units_per_period[min(t, len(sched.units_per_period) - 1)]
                if n > limit:
                    self.fail(f"scheduled supply {i}: {n} units in period {t} over {limit}")
            for pid, r in self.rules(t, CapRule):
                n = sum(v for (o, s, tt), v in bought.items() if tt == t and self.hit(r.match, self.cat.offers[o], s))
                if n > r.max_units:
                    self.fail(f"policy {pid}: {n} units in period {t} over its cap")
        for pid, r in self.rules(0, TieInRule):
            if r.ratio is None:
                continue
            dom = sum(
                v * self.cat.offers[o].unit.devices
                for (o, s, _), v in bought.items()
                if self.cat.offers[o].mode == "purchase"
                and self.cat.accelerators[self.cat.offers[o].accelerator].origin == "domestic"
            )
            tied = sum(
                v * self.cat.offers[o].unit.devices
                for (o, s, _), v in bought.items()
                if self.hit(r.match, self.cat.offers[o], s)
            )
            if dom < r.ratio * tied * (1 - SHARE_TOL) - 1e-6:
                self.fail(f"policy {pid}: {dom} domestic devices bought for {tied} tied ones")

"""Independent check of a plan: recompute every figure from the catalog and the chosen units.

Nothing here uses the CP-SAT model, the prepared problem or its integer scaling. Prices,
levies, subsidies and policies are re-derived from the catalog for each period; power from
TDPs and PUEs; delivery from the performance model run afresh on each line's layout. Then every
figure the plan states (line costs, power, totals, shares, cash flow, schedule, hedge, the
objective) is compared with the recomputation, and every constraint is checked in floating
point. A plan that fails is a planner bug, never shown as a plan.

Tolerances: recomputed figures agree to 1e-6 relative (floating-point order only); limits
(budget, power, demand) hold to 1e-6 relative, because the model rounds conservatively; share
floors to 1e-4 absolute (floors are basis points); the objective to the plan's stated
money rounding bound.
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
from planner.models.plan import HedgeLine, LineItem, Plan
from planner.models.workload import Workload
from planner.perf.arch_math import forward_flops_per_token, prefill_flops
from planner.perf.device import DeviceModel, device_model
from planner.perf.inference import InferenceSetup, ReplicaShape, evaluate_shape
from planner.perf.training import TrainingPool, TrainingSetup, size_pool

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
    return (costs["capex"] + costs["levy"] - costs["subsidy"] + costs["energy"] - costs["electricity_subsidy"]
            + costs["rental"] - costs["residual"])


class _Checker:
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

    def pool_start(self, li: LineItem) -> bool:
        return li.role == "training pool" and li.workload in self.members and (
            self.members[li.workload].start_period == li.period)

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
    def check_line(self, li: LineItem) -> dict[str, float] | None:
        """Check one line's identity, rules and stated figures; return its recomputed costs."""
        offer = self.cat.offers.get(li.offer)
        where = f"line {li.offer}@{li.site} p{li.period}"
        if offer is None or li.site not in self.cat.sites:
            self.fail(f"{where}: unknown offer or site")
            return None
        if li.period not in self.T:
            self.fail(f"{where}: period {li.period} outside the plan's {len(self.T)} period(s)")
            return None
        acc = self.cat.accelerators[offer.accelerator]
        if li.role not in ROLES:
            self.fail(f"{where}: unknown role '{li.role}'")
        if (offer.accelerator, acc.vendor, acc.origin, offer.mode, offer.location, offer.unit.devices) != (
                li.accelerator, li.vendor, li.origin, li.mode, li.location, li.devices_per_unit):
            self.fail(f"{where}: accelerator, vendor, origin, mode, location or unit size differ from the catalog")
        if li.devices != li.units * offer.unit.devices:
            self.fail(f"{where}: {li.units} units of {offer.unit.devices} devices != {li.devices}")
        if li.role != "on order" and li.new_units + li.existing_units + li.carried_units != li.units:
            self.fail(f"{where}: new + existing + carried units != units")
        if min(li.new_units, li.existing_units, li.carried_units, li.units) < 0:
            self.fail(f"{where}: negative units")
        if li.role == "on order" and (offer.mode != "purchase" or self.lag(offer) == 0):
            self.fail(f"{where}: units on order, but the offer has no lead time")
        if offer.mode == "rental" and li.site != offer.site:
            self.fail(f"{where}: rented at {li.site}, offered at {offer.site}")
        owned = {e.site or (self.rf.sites or ("",))[0] for e in self.f.existing_fleet if e.offer == li.offer}
        if offer.mode == "purchase" and li.site not in set(self.rf.sites) | owned:
            self.fail(f"{where}: {li.site} is not one of the workload's sites")
        t = li.period
        ids = {p.id for p in self.policies[t]}
        # a rented training pool is booked once, at its start: rules apply then
        buys = li.new_units > 0 and not (li.role == "training pool" and offer.mode == "rental"
                                         and not self.pool_start(li))
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
        for ident in self.rf.excluded:
            if buys and ident in (acc.id, acc.vendor, offer.id):
                self.fail(f"{where}: buys excluded '{ident}'")
        serving = li.role in ("replicas", "training pool")
        if serving != (li.workload is not None):
            self.fail(f"{where}: role '{li.role}' with workload {li.workload!r}")
        if serving:
            member = self.members.get(li.workload or "")
            if member is None:
                self.fail(f"{where}: serves unknown workload {li.workload}")
            else:
                self.serving_rules(where, offer, li.devices_per_replica if li.role == "replicas" else li.devices,
                                   member)
        hosted = offer.mode == "purchase" and li.role != "on order"
        self.close(f"{where} power kW", li.power_kw, li.units * self.kw_per_unit(offer, li.site) if hosted else 0.0)
        costs = self.line_costs(li)
        scale = max(abs(v) for v in costs.values()) if costs else 0.0
        for k, v in costs.items():
            self.close(f"{where} {k}", getattr(li.costs, k), v, abs_tol=0.01 + REL_TOL * scale)
        self.close(f"{where} total", li.total_usd, _total(costs), abs_tol=0.01 + REL_TOL * scale)
        return costs

    def serving_rules(self, where: str, offer: Offer, cluster: int | None, member: Member) -> None:
        """Rules on serving one workload from one offer: residency, exclusions, locations, cluster caps."""
        acc = self.cat.accelerators[offer.accelerator]
        for pid, r in self.rules(0, ResidencyRule):
            if (member.kind in r.workloads and member.handles_domestic_data  # type: ignore[attr-defined]
                    and offer.location not in r.allowed_locations):  # type: ignore[attr-defined]
                self.fail(f"{where}: '{member.name}' runs {offer.location}, which policy {pid} forbids")
        banned = set(self.rf.excluded) | set(self.rf.member_excluded.get(member.name, ()))
        for ident in sorted(banned):
            if ident in (acc.id, acc.vendor, offer.id):
                self.fail(f"{where}: uses excluded '{ident}'")
        if member.allowed_locations is not None and offer.location not in member.allowed_locations:
            self.fail(f"{where}: '{member.name}' may not run {offer.location}")
        limit = min([c for c in (
            offer.max_cluster_devices.value if offer.max_cluster_devices else None,
            self.f.constraints.max_cluster_devices,
        ) if c is not None], default=None)
        if limit is not None and cluster and cluster > limit:
            self.fail(f"{where}: a cluster of {cluster} devices exceeds the cap of {limit:g}")

    # ---- performance -------------------------------------------------------------------
    def device(self, offer_id: str) -> DeviceModel:
        offer = self.cat.offers[offer_id]
        dev = device_model(self.cat, offer.accelerator)
        dom = offer.scale_up_domain
        if dom is not None and dom.value is not None:
            dev = dataclasses.replace(dev, domain=max(1, int(dom.value)))
        return dev

    def precision(self, dev: DeviceModel, wanted: str) -> str:
        peaks = {p for p in ("bf16", "fp16", "fp8", "int8") if (v := dev.accelerator.dense_tflops.get(p)) and v.value}
        return wanted if wanted in peaks else ("bf16" if "bf16" in peaks else "fp16")

    def shape(self, offer_id: str, m: Member, tp: int, pp: int) -> ReplicaShape | str:
        """The perf model's replica at this layout for this workload, or why it fails (cached)."""
        key = (offer_id, m.name, tp, pp)
        if key not in self.shapes:
            assert m.traffic is not None and m.slo is not None
            dev = self.device(offer_id)
            precision = self.precision(dev, m.precision)
            kvp = m.kv_precision or m.precision
            if kvp == "fp8" and precision != "fp8":
                kvp = precision
            setup = InferenceSetup(self.rf.archs[m.name], precision, kvp, m.traffic.input_tokens,
                                   m.traffic.output_tokens, m.slo.ttft_ms, m.slo.tpot_ms)
            got = evaluate_shape(dev, setup, tp, pp)
            if not isinstance(got, ReplicaShape):
                self.shapes[key] = f"misses the SLO or does not fit: {got.reason}"
            elif got.tpot_ms > m.slo.tpot_ms * (1 + REL_TOL) or got.ttft_ms > m.slo.ttft_ms * (1 + REL_TOL):
                self.shapes[key] = "misses the SLO"
            elif (got.weights_gb_per_device + got.kv_gb_per_device) * 1e9 > dev.memory_bytes * (1 + REL_TOL):
                self.shapes[key] = (f"does not fit: {got.weights_gb_per_device + got.kv_gb_per_device:.1f} GB of "
                                    f"weights and KV per device, {dev.memory_bytes / 1e9:.0f} GB on the part")
            else:
                self.shapes[key] = got
        return self.shapes[key]

    def delivered(self, li: LineItem | HedgeLine, m: Member, where: str) -> float:
        """Requests/s the line's replicas deliver, recomputed; checks layout, memory and SLO."""
        if not li.replicas:
            if li.requests_per_s:
                self.fail(f"{where}: no replicas but {li.requests_per_s:g} req/s")
            return 0.0
        if not li.tp or not li.pp:
            self.fail(f"{where}: replicas without a layout")
            return 0.0
        shape = self.shape(li.offer, m, li.tp, li.pp)
        if isinstance(shape, str):
            self.fail(f"{where}: layout tp{li.tp} x pp{li.pp} {shape}")
            return 0.0
        if li.devices_per_replica != shape.devices:
            self.fail(f"{where}: {li.devices_per_replica} devices per replica, the layout has {shape.devices}")
        if li.replicas * shape.devices > li.devices:
            self.fail(f"{where}: {li.replicas} replicas of {shape.devices} exceed {li.devices} devices")
        got = li.replicas * shape.requests_per_s
        self.close(f"{where} requests/s", li.requests_per_s, got)
        if isinstance(li, LineItem):
            self.close(f"{where} output tokens/s", li.output_tokens_per_s, li.replicas * shape.output_tokens_per_s)
        return got

    def pool(self, li: LineItem, m: Member) -> TrainingPool | None:
        assert m.tokens_b is not None and m.seq_len and m.deadline_days
        dev = self.device(li.offer)
        setup = TrainingSetup(self.rf.archs[m.name], m.tokens_b * 1e9, m.seq_len, m.deadline_days,
                              self.precision(dev, m.precision))
        pool = size_pool(dev, setup, self.cat.offers[li.offer].unit.devices, None)
        if not isinstance(pool, TrainingPool):
            self.fail(f"line {li.offer}: no pool of this part meets the deadline of '{m.name}'")
            return None
        if li.devices < pool.devices:
            self.fail(f"line {li.offer}: {li.devices} devices, '{m.name}' needs {pool.devices}")
        if pool.memory_gb_per_device * 1e9 > dev.memory_bytes * (1 + REL_TOL):
            self.fail(f"'{m.name}': {pool.memory_gb_per_device:.1f} GB per device, {dev.memory_bytes / 1e9:.0f} GB on the part")
        if pool.days > m.deadline_days * (1 + REL_TOL):
            self.fail(f"'{m.name}' takes {pool.days:.2f} days, deadline {m.deadline_days}")
        self.close(f"'{m.name}' training days", li.training_days, pool.days)
        return pool

    def flops_per_request(self, m: Member) -> float:
        assert m.traffic is not None
        arch = self.rf.archs[m.name]
        return prefill_flops(arch, m.traffic.input_tokens) + m.traffic.output_tokens * forward_flops_per_token(
            arch, m.traffic.input_tokens + m.traffic.output_tokens / 2.0
        )

    # ---- whole plan ----------------------------------------------------------------------
    def run(self) -> list[str]:
        plan = self.plan
        if plan.totals is None:
            self.fail("a plan was found but has no totals")
            return self.failures
        if len(self.T) != plan.periods:
            self.fail(f"the plan has {plan.periods} period(s), the workload {len(self.T)}")
            return self.failures
        self.sums: dict[str, float] = defaultdict(float)
        self.period_sums: dict[tuple[int, str], float] = defaultdict(float)
        self.bought: dict[Key, int] = defaultdict(int)
        self.in_place: dict[Key, int] = defaultdict(int)
        self.rps: dict[tuple[str, int], float] = defaultdict(float)
        self.meas: dict[tuple[str, bool, int], float] = defaultdict(float)
        self.line_totals: dict[str, float] = defaultdict(float)
        self.member_devices: dict[tuple[str, int], int] = defaultdict(int)
        self.pool_lines: dict[str, list[LineItem]] = defaultdict(list)
        self.pools: dict[str, TrainingPool] = {}
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
        self.available: dict[Key, int] = {}
        self.power_site: dict[tuple[str, int], float] = defaultdict(float)
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
                    self.fail(f"{offer_id}@{site} period {t}: {self.in_place[(offer_id, site, t)]} units in the "
                              f"plan, {avail} owned or rented")

    def check_totals(self) -> None:
        tot = self.plan.totals
        assert tot is not None
        tco = _total(self.sums)
        scale = max([abs(v) for v in self.sums.values()] + [0.0])
        tol = 0.01 * max(1, len(self.plan.line_items)) + REL_TOL * scale
        self.close("TCO", tot.tco_usd, tco, abs_tol=tol)
        for k in COST_KEYS:
            self.close(f"total {k}", getattr(tot, f"{k}_usd"), self.sums[k], abs_tol=tol)
        last = self.T[-1]
        self.close("devices", tot.devices, self.meas[("devices", True, last)] + self.meas[("devices", False, last)])
        self.close("domestic devices", tot.domestic_devices, self.meas[("devices", True, last)])
        kw = [sum(v for (s, tt), v in self.power_site.items() if tt == t) for t in self.T]
        self.close("power kW", tot.power_kw, max(kw))
        peaks = [t for t in self.T if math.isclose(kw[t], max(kw), rel_tol=REL_TOL, abs_tol=1e-6)]
        stated = {s: v for s, v in tot.power_kw_by_site.items() if v}
        if not any(self._same_sites(stated, t) for t in peaks):
            self.fail(f"power by site {stated} matches no peak period's recomputed power")
        for which in MEASURES:
            self.close(f"domestic share by {which}", tot.domestic_share.get(which), self.min_share(which))
        jobs = list(self.f.fleet)
        if len(jobs) == 1 and jobs[0].kind == "inference":
            m = jobs[0]
            assert m.traffic is not None
            need = [m.traffic.requests_per_s * m.demand_factor(t) for t in self.T]
            peak = need.index(max(need))
            self.close("required requests/s", tot.required_requests_per_s, need[peak])
            self.close("delivered requests/s", tot.delivered_requests_per_s, self.rps[(m.name, peak)])
        elif len(jobs) == 1 and jobs[0].name in self.pools:
            self.close("training days", tot.training_days, self.pools[jobs[0].name].days)
            self.close("deadline days", tot.deadline_days, jobs[0].deadline_days or 0.0)

    def _same_sites(self, stated: dict[str, float], t: int) -> bool:
        want = {s: v for (s, tt), v in self.power_site.items() if tt == t and v}
        return stated.keys() == want.keys() and all(
            math.isclose(stated[s], want[s], rel_tol=REL_TOL, abs_tol=1e-6) for s in want)

    def check_demand(self) -> None:
        for m in self.f.fleet:
            if m.kind == "inference":
                assert m.traffic is not None
                for t in self.T:
                    need = m.traffic.requests_per_s * m.demand_factor(t)
                    if need > 0 and self.rps[(m.name, t)] < need * (1 - REL_TOL):
                        self.fail(f"'{m.name}' period {t}: delivers {self.rps[(m.name, t)]:.3f} req/s, "
                                  f"needs {need:.3f}")
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
                self.fail(f"'{m.name}': its pool is listed in periods {sorted(li.period for li in lines)}, "
                          f"runs in {want}")

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
                cap = f.constraints.site_power_kw.get(site, self.cat.sites[site].power_kw.value)
                if cap is not None and kw > cap * (1 + REL_TOL) + 1e-6:
                    self.fail(f"power at {site} in period {t}: {kw:,.1f} kW over the cap of {cap:,.1f} kW")
            total_kw = sum(self.power_site[(s, t)] for s in sites)
            if f.constraints.power_kw is not None and total_kw > f.constraints.power_kw * (1 + REL_TOL) + 1e-6:
                self.fail(f"total power {total_kw:,.1f} kW in period {t} over the cap of {f.constraints.power_kw:,.1f}")

    def share(self, which: str, t: int) -> float:
        t = 0 if which == "spend" else t
        whole = self.meas[(which, True, t)] + self.meas[(which, False, t)]
        return self.meas[(which, True, t)] / whole if whole > 0 else 0.0

    def min_share(self, which: str) -> float:
        """The lowest share over the periods that measure anything (a period of nothing has no share)."""
        if which == "spend":
            return self.share(which, 0)
        measured = [t for t in self.T if self.meas[(which, True, t)] + self.meas[(which, False, t)] > 0]
        return min((self.share(which, t) for t in measured), default=0.0)

    def check_shares(self) -> None:
        floors: list[tuple[str, float, int, str]] = []
        base = self.f.constraints.domestic_share
        for t in self.T:
            override = self.event(t, "domestic_share_min")
            if base is not None or override is not None:
                value = override if override is not None else (base.min if base else 0.0)
                floors.append((base.measure if base else "devices", value, t, "workload"))
            for pid, r in self.rules(t, ShareFloorRule):
                floors.append((r.measure, r.min, t, pid))  # type: ignore[attr-defined]
        spend_floor = max((floor for which, floor, _, _ in floors if which == "spend"), default=0.0)
        for which, floor, t, owner in floors:
            if which == "spend":  # one floor over the horizon: the highest any period asks for
                floor, t = spend_floor, 0
            # domestic >= floor x all, as the model states it: holds trivially when nothing is measured
            dom = self.meas[(which, True, 0 if which == "spend" else t)]
            whole = dom + self.meas[(which, False, 0 if which == "spend" else t)]
            if floor > 0 and dom < (floor - SHARE_TOL) * whole - 1e-9:
                self.fail(f"domestic share by {which} in period {t}: {self.share(which, t):.4f} below the {owner} "
                          f"floor {floor}")

    def check_caps(self) -> None:
        """Supply caps, scheduled supply, policy caps (new units per period) and tie-in ratios."""
        bought = self.bought
        for t in self.T:
            per_offer: dict[str, int] = defaultdict(int)
            for (o, s, tt), n in bought.items():
                if tt == t:
                    per_offer[o] += n
            for o, n in per_offer.items():
                cap = self.cat.offers[o].supply_cap_units
                if cap is not None and cap.value is not None and n > cap.value:
                    self.fail(f"{o}: {n} new units in period {t} over the supply cap {cap.value:g}")
            for i, sched in enumerate(self.f.schedule.supply):
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
            if dom < r.ratio * tied * (1 - SHARE_TOL) - 1e-6:  # type: ignore[attr-defined]
                self.fail(f"policy {pid}: {dom} domestic devices bought for {tied} tied ones")

    def check_hedge(self) -> None:
        """The loss scenario: surviving units alone, re-allocated, serve the hedged share of demand."""
        hedge = self.f.hedge
        lines = self.plan.hedge_allocation
        if hedge is None:
            if lines:
                self.fail("the plan lists a hedge allocation, the workload has no hedge")
            return
        jobs = hedge.workloads or [m.name for m in self.f.fleet if m.kind == "inference"]
        got: dict[tuple[str, int], float] = defaultdict(float)
        used: dict[Key, int] = defaultdict(int)
        for hl in lines:
            where = f"hedge line {hl.offer}@{hl.site} p{hl.period}"
            offer = self.cat.offers.get(hl.offer)
            m = self.members.get(hl.workload)
            if offer is None or m is None or m.kind != "inference" or hl.workload not in jobs or hl.period not in self.T:
                self.fail(f"{where}: unknown offer, period or hedged workload '{hl.workload}'")
                continue
            if self.hit(hedge.lose, offer, hl.site):
                self.fail(f"{where}: serves from a part the hedge assumes lost")
            if hl.devices != hl.units * offer.unit.devices:
                self.fail(f"{where}: {hl.units} units of {offer.unit.devices} devices != {hl.devices}")
            self.serving_rules(where, offer, hl.devices_per_replica, m)
            got[(m.name, hl.period)] += self.delivered(hl, m, where)
            used[(hl.offer, hl.site, hl.period)] += hl.units
        for key, units in sorted(used.items()):
            if units > self.available.get(key, 0):
                self.fail(f"hedge {key[0]}@{key[1]} period {key[2]}: {units} units re-allocated, "
                          f"{self.available.get(key, 0)} owned or rented")
        for name in jobs:
            m = self.members[name]
            if m.traffic is None:
                continue
            for t in self.T:
                need = hedge.serve_fraction * m.traffic.requests_per_s * m.demand_factor(t)
                if need > 0 and got[(name, t)] < need * (1 - REL_TOL):
                    self.fail(f"hedge: '{name}' period {t} serves {got[(name, t)]:.3f} req/s after the loss, "
                              f"needs {need:.3f}")

    def check_tables(self) -> None:
        """Cash flow, schedule and per-workload summaries agree with the line items."""
        plan = self.plan
        multi = len(self.T) > 1
        if multi and [r.period for r in plan.cash_flow] != list(self.T):
            self.fail("the cash flow does not list every period once")
        for row in plan.cash_flow:
            for k in COST_KEYS:
                self.close(f"cash flow p{row.period} {k}", getattr(row, k), self.period_sums[(row.period, k)],
                           abs_tol=0.01 * max(1, len(plan.line_items)))
            want = _total({k: self.period_sums[(row.period, k)] for k in COST_KEYS})
            self.close(f"cash flow p{row.period} total", row.total, want, abs_tol=0.01 * max(1, len(plan.line_items)))
        if multi:
            stated = {(r.offer, r.site, r.period): (r.new_units, r.available_units, r.devices_available)
                      for r in plan.schedule}
            want_rows = {}
            for key, avail in self.available.items():
                new = self.bought.get(key, 0)
                if new or avail:
                    want_rows[key] = (new, avail, avail * self.cat.offers[key[0]].unit.devices)
            if stated != want_rows or len(plan.schedule) != len(stated):
                diff = sorted(set(stated.items()) ^ set(want_rows.items()))[:3]
                self.fail(f"schedule differs from the line items: {diff}")
        summaries = {w.name: w for w in plan.workloads}
        if set(summaries) != set(self.members):
            self.fail(f"workload summaries {sorted(summaries)} != workloads {sorted(self.members)}")
        for name, w in summaries.items():
            m = self.members.get(name)
            if m is None:
                continue
            self.close(f"'{name}' cost", w.cost_usd, self.line_totals[name],
                       abs_tol=0.01 * max(1, len(plan.line_items)))
            self.close(f"'{name}' peak devices", w.devices_peak,
                       max((self.member_devices[(name, t)] for t in self.T), default=0))
            if m.kind == "inference" and m.traffic is not None:
                need = [m.traffic.requests_per_s * m.demand_factor(t) for t in self.T]
                self.close(f"'{name}' peak requests/s", w.required_requests_per_s_peak, max(need))
                ratios = [self.rps[(name, t)] / r for t, r in enumerate(need) if r > 0]
                if ratios:
                    self.close(f"'{name}' delivered ratio", w.delivered_requests_per_s_min_ratio, min(ratios))
            elif name in self.pools:
                self.close(f"'{name}' training days", w.training_days, self.pools[name].days)

    def check_forced(self) -> None:
        """constraints.force: each named part, vendor or offer serves a workload somewhere (idle units do not count)."""
        for ident in sorted(getattr(self.rf, "forced", ())):
            if not any(li.role in ("replicas", "training pool") and (li.replicas or li.role == "training pool")
                       and ident in (li.accelerator, li.vendor, li.offer) for li in self.plan.line_items):
                self.fail(f"the workload forces '{ident}', but nothing in the plan serves on it")

    def check_rows(self) -> None:
        """The printed constraint table is consistent: slack is limit minus use, and no row shows a
        broken limit (the limits themselves are re-checked above from the catalog and workload)."""
        for row in self.plan.constraints:
            tol = 1e-6 * max(1.0, abs(row.limit))
            slack = {"<=": row.limit - row.used, ">=": row.used - row.limit, "==": -abs(row.used)}[row.sense]
            if not math.isclose(row.slack, slack, rel_tol=REL_TOL, abs_tol=tol):
                self.fail(f"constraint row {row.name}: slack {row.slack:g} is not {slack:g}")
            if slack < -tol:
                self.fail(f"constraint row {row.name}: shows {row.used:g} against {row.sense} {row.limit:g}, "
                          "a broken limit in a plan the verifier finds sound")

    def check_objective(self) -> None:
        """The solver's objective is the plan's figure, up to the stated integer rounding."""
        s = self.plan.solver
        if s.objective_value is None:
            self.fail("a plan was found but the solver reports no objective value")
            return
        units = sum(li.units for li in self.plan.line_items) + sum(h.units for h in self.plan.hedge_allocation)
        if s.objective in ("min_tco", "min_capex"):
            want = _total(self.sums) if s.objective == "min_tco" else (
                self.sums["capex"] + self.sums["levy"] - self.sums["subsidy"])
            tol = self.rounding_usd + REL_TOL * abs(want)
        elif s.objective == "min_power":
            want = sum(self.power_site.values())
            tol = 0.001 * max(1, units) * len(self.T) + REL_TOL * abs(want)
        else:
            want = sum(self.rps.values())
            tol = 0.001 * max(1, units) * len(self.T) + REL_TOL * abs(want)
        if not math.isclose(s.objective_value, want, rel_tol=0.0, abs_tol=tol):
            self.fail(f"objective {s.objective}: solver says {s.objective_value:,.6g}, the plan's figures give "
                      f"{want:,.6g} (rounding allows {tol:,.6g})")
        if s.status == "OPTIMAL" and s.gap is not None and s.gap > 1e-6:
            self.fail(f"status OPTIMAL with a gap of {s.gap:.3g}")
        if s.status == "FEASIBLE" and s.gap is None:
            self.fail("status FEASIBLE without a gap")
        if s.best_bound is not None and s.objective in ("min_tco", "min_capex", "min_power") and (
                s.best_bound > s.objective_value * (1 + REL_TOL) + 1e-6):
            self.fail(f"bound {s.best_bound:,.6g} above the objective {s.objective_value:,.6g} of a minimisation")


def verify(plan: Plan, workload: Workload | Fleet, catalog: Catalog) -> list[str]:
    """Every way the plan breaks a constraint or misstates a figure; empty when it is sound."""
    if not plan.ok:
        return []
    return _Checker(plan, workload, catalog).run()

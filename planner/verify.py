"""Independent check of a plan: recompute every figure from the catalog and the chosen units.

Nothing here uses the CP-SAT model, the prepared problem or its integer scaling. Costs are
recomputed from catalog prices and policy rules, power from TDPs and PUEs, delivery from the
performance model run afresh on each line's layout. A plan that fails is a planner bug.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict

from planner.catalog.matching import matches
from planner.catalog.store import Catalog
from planner.catalog.workload_file import ResolvedWorkload, resolve
from planner.models.catalog import (
    Accelerator,
    BanRule,
    CapRule,
    ElectricitySubsidyRule,
    LevyRule,
    PurchaseSubsidyRule,
    ResidencyRule,
    ShareFloorRule,
)
from planner.models.plan import LineItem, Plan
from planner.models.workload import Workload
from planner.perf.device import DeviceModel, device_model
from planner.perf.inference import InferenceSetup, ReplicaShape, evaluate_shape
from planner.perf.training import TrainingSetup, size_pool

REL_TOL = 1e-6
HOURS_PER_MONTH = 730.0


class _Checker:
    def __init__(self, plan: Plan, workload: Workload, catalog: Catalog) -> None:
        self.plan = plan
        self.w = workload
        self.cat = catalog
        self.rw: ResolvedWorkload = resolve(workload, catalog)
        self.aliases = catalog._aliases("accelerators")
        self.failures: list[str] = []
        self.slack_usd = plan.solver.max_rounding_error_usd + 1.0

    def fail(self, text: str) -> None:
        self.failures.append(text)

    def close(self, what: str, got: float, want: float, abs_tol: float = 1e-6) -> None:
        if not math.isclose(got, want, rel_tol=REL_TOL, abs_tol=abs_tol):
            self.fail(f"{what}: plan says {got:,.6g}, recomputed {want:,.6g}")

    # ---- per line ----------------------------------------------------------------------
    def rules(self, kind: type) -> list[tuple[str, object]]:
        return [(p.id, r) for p in self.rw.policies for r in p.rules if isinstance(r, kind)]

    def line_costs(self, li: LineItem, hours: float) -> dict[str, float]:
        offer = self.cat.offers[li.offer]
        acc = self.cat.accelerators[offer.accelerator]
        out = dict(capex=0.0, levy=0.0, subsidy=0.0, energy=0.0, electricity_subsidy=0.0, rental=0.0)
        price = offer.price.value or 0.0
        if offer.mode == "purchase":
            base = self.cat.to_usd(price, offer.price.currency)
            over = offer.server_overhead.cost
            extra = self.cat.to_usd(over.value, over.currency) if over is not None and over.value else 0.0
            out["capex"] = li.new_units * (base + extra)
            for _, r in self.rules(LevyRule):
                if matches(r.match, offer, acc, li.site, self.aliases):  # type: ignore[attr-defined]
                    out["levy"] += li.new_units * base * r.rate * r.pass_through  # type: ignore[attr-defined]
            sub = sum(
                r.fraction  # type: ignore[attr-defined]
                for _, r in self.rules(PurchaseSubsidyRule)
                if matches(r.match, offer, acc, li.site, self.aliases)  # type: ignore[attr-defined]
            )
            out["subsidy"] = li.new_units * base * min(sub, 1.0)
            site = self.cat.sites[li.site]
            watts = li.units * (offer.unit.devices * (acc.tdp_w.value or 0.0))
            if offer.server_overhead.power_w is not None and offer.server_overhead.power_w.value:
                watts += li.units * offer.server_overhead.power_w.value
            kw = watts / 1000.0 * (site.pue.value or 1.0)
            self.close(f"{li.offer}@{li.site} power", li.power_kw, kw)
            if site.electricity_price is not None and site.electricity_price.value is not None:
                per_kwh = self.cat.to_usd(site.electricity_price.value, site.electricity_price.currency)
                out["energy"] = kw * self.w.energy_load_factor * per_kwh * hours
                frac = max(
                    (
                        r.fraction  # type: ignore[attr-defined]
                        for _, r in self.rules(ElectricitySubsidyRule)
                        if li.site in r.sites and matches(r.match, offer, acc, li.site, self.aliases)  # type: ignore[attr-defined]
                    ),
                    default=0.0,
                )
                out["electricity_subsidy"] = out["energy"] * frac
        else:
            out["rental"] = li.units * offer.unit.devices * self.cat.to_usd(price, offer.price.currency) * hours
        return out

    def check_line(self, li: LineItem) -> None:
        if li.offer not in self.cat.offers:
            self.fail(f"line {li.offer}: unknown offer")
            return
        offer = self.cat.offers[li.offer]
        if offer.accelerator != li.accelerator:
            self.fail(f"line {li.offer}: accelerator {li.accelerator} is not the offer's {offer.accelerator}")
        if li.devices != li.units * offer.unit.devices:
            self.fail(f"line {li.offer}: {li.units} units of {offer.unit.devices} devices != {li.devices}")
        if li.new_units + li.existing_units != li.units or li.new_units < 0 or li.existing_units < 0:
            self.fail(f"line {li.offer}: new + existing units != units")
        if offer.mode == "rental" and li.site != offer.site:
            self.fail(f"line {li.offer}: rented at {li.site}, offered at {offer.site}")
        if li.new_units and offer.existing_only:
            self.fail(f"line {li.offer}: buys {li.new_units} units of a part sold no more")
        if li.new_units and offer.requires_policy and offer.requires_policy not in {p.id for p in self.rw.policies}:
            self.fail(f"line {li.offer}: needs policy {offer.requires_policy}, not switched on")
        acc = self.cat.accelerators[offer.accelerator]
        for pid, r in self.rules(BanRule):
            if li.new_units and matches(r.match, offer, acc, li.site, self.aliases):  # type: ignore[attr-defined]
                workloads = r.workloads  # type: ignore[attr-defined]
                if workloads is None or self.w.kind in workloads:
                    self.fail(f"line {li.offer}: new units banned by policy {pid}")
        for pid, r in self.rules(ResidencyRule):
            serving = (li.replicas or 0) > 0 or li.role == "training pool"
            if (
                serving
                and self.w.kind in r.workloads  # type: ignore[attr-defined]
                and self.w.handles_domestic_data
                and offer.location not in r.allowed_locations  # type: ignore[attr-defined]
            ):
                self.fail(f"line {li.offer}: runs {offer.location}, which policy {pid} forbids")
        for ident in self.rw.excluded:
            if ident in (acc.id, acc.vendor, offer.id) and (li.new_units or li.replicas):
                self.fail(f"line {li.offer}: uses excluded '{ident}'")
        if offer.location not in self.w.constraints.allowed_locations and li.new_units:
            self.fail(f"line {li.offer}: {offer.location} capacity is not allowed")
        if acc.origin not in self.w.constraints.allowed_origins and li.new_units:
            self.fail(f"line {li.offer}: {acc.origin} parts are not allowed")
        if offer.mode == "rental" and not self.w.constraints.allow_rental and li.new_units:
            self.fail(f"line {li.offer}: rental is not allowed")
        if offer.mode == "purchase" and not self.w.constraints.allow_purchase and li.new_units:
            self.fail(f"line {li.offer}: new purchases are not allowed")

    # ---- performance -------------------------------------------------------------------
    def device(self, li: LineItem) -> DeviceModel:
        dev = device_model(self.cat, li.accelerator)
        dom = self.cat.offers[li.offer].scale_up_domain
        if dom is not None and dom.value is not None:
            dev = dataclasses.replace(dev, domain=max(1, int(dom.value)))
        return dev

    def inference_delivery(self, li: LineItem) -> float:
        if not li.replicas:
            return 0.0
        assert self.w.traffic is not None and self.w.slo is not None and li.tp and li.pp
        dev = self.device(li)
        peaks = {p for p in ("bf16", "fp16", "fp8", "int8") if (v := dev.accelerator.dense_tflops.get(p)) and v.value}
        precision = self.w.precision if self.w.precision in peaks else ("bf16" if "bf16" in peaks else "fp16")
        kvp = self.w.kv_precision or self.w.precision
        if kvp == "fp8" and "fp8" not in peaks:
            kvp = precision
        setup = InferenceSetup(self.rw.arch, precision, kvp, self.w.traffic.input_tokens,
                               self.w.traffic.output_tokens, self.w.slo.ttft_ms, self.w.slo.tpot_ms)
        shape = evaluate_shape(dev, setup, li.tp, li.pp)
        if not isinstance(shape, ReplicaShape):
            self.fail(f"line {li.offer}: layout tp{li.tp}×pp{li.pp} does not meet the SLO or fit: {shape.reason}")
            return 0.0
        if li.devices_per_replica and li.replicas * li.devices_per_replica > li.devices:
            self.fail(f"line {li.offer}: {li.replicas} replicas of {li.devices_per_replica} exceed {li.devices} devices")
        if shape.tpot_ms > self.w.slo.tpot_ms * (1 + REL_TOL) or shape.ttft_ms > self.w.slo.ttft_ms:
            self.fail(f"line {li.offer}: replica misses the SLO")
        delivered = li.replicas * shape.requests_per_s
        self.close(f"line {li.offer} requests/s", li.requests_per_s, delivered)
        return delivered

    def training_days(self, li: LineItem) -> float | None:
        assert self.w.tokens_b is not None and self.w.seq_len and self.w.deadline_days
        dev = self.device(li)
        peaks = {p for p in ("bf16", "fp16", "fp8", "int8") if (v := dev.accelerator.dense_tflops.get(p)) and v.value}
        precision = self.w.precision if self.w.precision in peaks else ("bf16" if "bf16" in peaks else "fp16")
        setup = TrainingSetup(self.rw.arch, self.w.tokens_b * 1e9, self.w.seq_len, self.w.deadline_days, precision)
        pool = size_pool(dev, setup, self.cat.offers[li.offer].unit.devices, None)
        if isinstance(pool, str) or not hasattr(pool, "devices"):
            self.fail(f"line {li.offer}: no pool of this part meets the deadline")
            return None
        if li.devices < pool.devices:  # type: ignore[union-attr]
            self.fail(f"line {li.offer}: {li.devices} devices, the run needs {pool.devices}")  # type: ignore[union-attr]
        return pool.days  # type: ignore[union-attr]

    # ---- whole plan --------------------------------------------------------------------
    def run(self) -> list[str]:
        plan, w = self.plan, self.w
        tot = plan.totals
        if tot is None:
            return self.failures
        hours_horizon = w.horizon_months * HOURS_PER_MONTH
        sums: dict[str, float] = defaultdict(float)
        spend_dom = spend_all = 0.0
        dev_dom = dev_all = 0
        comp_dom = comp_all = 0.0
        thr_dom = thr_all = 0.0
        power_site: dict[str, float] = defaultdict(float)
        new_by_offer: dict[str, int] = defaultdict(int)
        delivered = 0.0
        pool_days: float | None = None
        existing_owned: dict[tuple[str, str], int] = defaultdict(int)
        for item in w.existing_fleet:
            existing_owned[(item.offer, item.site or self.rw.sites[0])] += item.units
        existing_used: dict[tuple[str, str], int] = defaultdict(int)
        for li in plan.line_items:
            self.check_line(li)
            if li.offer not in self.cat.offers:
                continue
            offer = self.cat.offers[li.offer]
            acc = self.cat.accelerators[offer.accelerator]
            existing_used[(li.offer, li.site)] += li.existing_units
            if w.kind == "inference":
                hours = hours_horizon
            elif li.role == "training pool" and li.training_days is not None:
                hours = li.training_days * 24.0
            else:
                hours = 0.0
            costs = self.line_costs(li, hours)
            for k, v in costs.items():
                sums[k] += v
                self.close(f"line {li.offer}@{li.site} {k}", getattr(li.costs, k), v, abs_tol=self.slack_usd)
            line_total = (costs["capex"] + costs["levy"] - costs["subsidy"] + costs["energy"]
                          - costs["electricity_subsidy"] + costs["rental"])
            domestic = acc.origin == "domestic"
            spend_all += line_total
            dev_all += li.devices
            dev_peak = _dense_peak(acc)
            comp_all += li.devices * dev_peak
            if domestic:
                spend_dom += line_total
                dev_dom += li.devices
                comp_dom += li.devices * dev_peak
            if offer.mode == "purchase":
                power_site[li.site] += li.power_kw
            new_by_offer[li.offer] += li.new_units
            if w.kind == "inference":
                got = self.inference_delivery(li)
                delivered += got
                thr_all += got
                thr_dom += got if domestic else 0.0
            elif li.role == "training pool":
                days = self.training_days(li)
                pool_days = days
                if days is not None:
                    self.close(f"line {li.offer} training days", li.training_days or 0.0, days)
                    if days > (w.deadline_days or 0) * (1 + REL_TOL):
                        self.fail(f"training takes {days:.2f} days, deadline {w.deadline_days}")
                peak = dev_peak * li.devices
                thr_all += peak
                thr_dom += peak if domestic else 0.0
        for key, units in existing_used.items():
            if units > existing_owned.get(key, 0):
                self.fail(f"existing fleet {key[0]}@{key[1]}: plan uses {units}, workload owns {existing_owned.get(key, 0)}")
        for key, units in existing_owned.items():
            if existing_used.get(key, 0) != units:
                self.fail(f"existing fleet {key[0]}@{key[1]}: {units} owned but {existing_used.get(key, 0)} in the plan")

        # totals
        tco = sum(sums[k] for k in ("capex", "levy", "rental", "energy")) - sums["subsidy"] - sums["electricity_subsidy"]
        self.close("TCO", tot.tco_usd, tco, abs_tol=self.slack_usd)
        for k in ("capex", "levy", "subsidy", "energy", "electricity_subsidy", "rental"):
            self.close(f"total {k}", getattr(tot, f"{k}_usd"), sums[k], abs_tol=self.slack_usd)
        self.close("devices", float(tot.devices), float(dev_all))

        # demand
        if w.kind == "inference":
            assert w.traffic is not None
            if delivered < w.traffic.requests_per_s * (1 - REL_TOL):
                self.fail(f"delivers {delivered:.3f} req/s, needs {w.traffic.requests_per_s}")
        elif pool_days is None:
            self.fail("training plan has no pool")

        # budget
        budget = w.constraints.budget
        if budget is not None:
            if budget.total is not None and tco > self.cat.to_usd(budget.total, budget.currency) + self.slack_usd:
                self.fail(f"TCO {tco:,.0f} USD exceeds the budget")
            capex = sums["capex"] + sums["levy"] - sums["subsidy"]
            if budget.capex is not None and capex > self.cat.to_usd(budget.capex, budget.currency) + self.slack_usd:
                self.fail(f"capex {capex:,.0f} USD exceeds the capex budget")

        # power
        for site, kw in power_site.items():
            cap = w.constraints.site_power_kw.get(site, self.cat.sites[site].power_kw.value)
            if cap is not None and kw > cap * (1 + REL_TOL):
                self.fail(f"power at {site}: {kw:,.1f} kW over the cap of {cap:,.1f} kW")
        if w.constraints.power_kw is not None and sum(power_site.values()) > w.constraints.power_kw * (1 + REL_TOL):
            self.fail(f"total power {sum(power_site.values()):,.1f} kW over the cap of {w.constraints.power_kw:,.1f}")

        # domestic shares
        shares = {
            "devices": dev_dom / dev_all if dev_all else 0.0,
            "compute": comp_dom / comp_all if comp_all else 0.0,
            "spend": spend_dom / spend_all if spend_all else 0.0,
            "throughput": thr_dom / thr_all if thr_all else 0.0,
        }
        floors = []
        if w.constraints.domestic_share is not None:
            floors.append((w.constraints.domestic_share.measure, w.constraints.domestic_share.min, "workload"))
        for pid, r in self.rules(ShareFloorRule):
            floors.append((r.measure, r.min, pid))  # type: ignore[attr-defined]
        for which, floor, owner in floors:
            if shares[which] < floor - 1e-4:
                self.fail(f"domestic share by {which} {shares[which]:.4f} below the {owner} floor {floor}")
        for which in ("devices", "spend"):
            self.close(f"domestic share by {which}", tot.domestic_share.get(which, 0.0), shares[which], abs_tol=1e-4)

        # supply caps
        for offer_id, units in new_by_offer.items():
            cap = self.cat.offers[offer_id].supply_cap_units
            if cap is not None and cap.value is not None and units > cap.value:
                self.fail(f"{offer_id}: {units} new units over the supply cap {cap.value:g}")
        for pid, r in self.rules(CapRule):
            total = sum(
                li.new_units
                for li in plan.line_items
                if li.offer in self.cat.offers
                and matches(r.match, self.cat.offers[li.offer], self.cat.accelerators[li.accelerator], li.site, self.aliases)  # type: ignore[attr-defined]
            )
            if total > r.max_units:  # type: ignore[attr-defined]
                self.fail(f"policy {pid}: {total} units over its cap")
        return self.failures


def _dense_peak(acc: Accelerator) -> float:
    """Dense bf16 TFLOPS, or fp16 where bf16 is not published (the compute measure)."""
    for item in (acc.dense_tflops.bf16, acc.dense_tflops.fp16):
        if item is not None and item.value is not None:
            return item.value
    return 0.0


def verify(plan: Plan, workload: Workload, catalog: Catalog) -> list[str]:
    """Every way the plan breaks a constraint or misstates a figure; empty when it is sound."""
    if not plan.ok:
        return []
    return _Checker(plan, workload, catalog).run()

"""Validate a workload against the catalog and compute every number the model needs.

Input: a workload and a catalog. Output: a :class:`Problem` of groups (offer x site),
candidates (replica blocks or training pools), caps, floors and named bans. No CP-SAT here.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections import defaultdict
from typing import TypeVar

from planner.catalog.matching import matches
from planner.catalog.store import Catalog
from planner.catalog.workload_file import ResolvedWorkload, resolve
from planner.errors import InputError
from planner.models.catalog import (
    BanRule,
    CapRule,
    ElectricitySubsidyRule,
    LevyRule,
    Match,
    Offer,
    PurchaseSubsidyRule,
    ResidencyRule,
    ShareFloorRule,
    TieInRule,
)
from planner.models.plan import CostLines
from planner.models.workload import Workload
from planner.perf.device import DeviceModel, MissingFigure, device_model
from planner.perf.inference import InferenceSetup, ReplicaShape, replica_shapes
from planner.perf.training import TrainingInfeasible, TrainingSetup, size_pool
from planner.solve.problem import Candidate, Group, PowerCap, Problem, ShareFloor, TieIn, UnitCap

log = logging.getLogger(__name__)
R = TypeVar("R")

HOURS_PER_MONTH = 730.0
MAX_UNITS_DEFAULT = 1_000_000


def _effective_precision(dev_peaks: set[str], wanted: str) -> str:
    if wanted in dev_peaks:
        return wanted
    return "bf16" if "bf16" in dev_peaks else "fp16"


class _Preparer:
    def __init__(self, rw: ResolvedWorkload, catalog: Catalog) -> None:
        self.rw = rw
        self.w: Workload = rw.workload
        self.cat = catalog
        self.aliases = catalog._aliases("accelerators")
        self.active = {p.id for p in rw.policies}
        self.problem = Problem(
            kind=self.w.kind,
            objective=self.w.objective,
            horizon_hours=self.w.horizon_months * HOURS_PER_MONTH,
            groups={},
            candidates={},
        )
        self.shape_cache: dict[tuple[str, str], list[ReplicaShape]] = {}

    # ---- helpers ------------------------------------------------------------------------
    def usd(self, amount: float, currency: str) -> float:
        return self.cat.to_usd(amount, currency)

    def rules(self, kind: type[R]) -> list[tuple[str, R]]:
        return [(p.id, r) for p in self.rw.policies for r in p.rules if isinstance(r, kind)]

    def existing_units(self) -> dict[tuple[str, str], int]:
        first_site = self.rw.sites[0] if self.rw.sites else None
        out: dict[tuple[str, str], int] = defaultdict(int)
        for item in self.w.existing_fleet:
            site = item.site or first_site
            if site is None:
                raise InputError.single("workload", "existing_fleet needs a site (no sites known)")
            out[(item.offer, site)] += item.units
        return out

    # ---- bans ---------------------------------------------------------------------------
    def group_bans(self, offer: Offer, site: str) -> list[str]:
        acc = self.cat.accelerators[offer.accelerator]
        cons = self.w.constraints
        bans: list[str] = []
        reasons = self.problem.ban_reasons
        if offer.requires_policy and offer.requires_policy not in self.active:
            name = f"requires:{offer.requires_policy}"
            bans.append(name)
            reasons[name] = f"offers marked '{offer.requires_policy}' need that policy pack switched on"
        for pid, rule in self.rules(BanRule):
            if rule.workloads is not None and self.w.kind not in rule.workloads:
                continue
            if matches(rule.match, offer, acc, site, self.aliases):
                bans.append(f"policy:{pid}")
                reasons[f"policy:{pid}"] = self.cat.policies[pid].name
        for pid, rule in self.rules(ResidencyRule):
            if (
                self.w.kind in rule.workloads
                and self.w.handles_domestic_data
                and offer.location not in rule.allowed_locations
            ):
                bans.append(f"residency:{pid}")
                reasons[f"residency:{pid}"] = self.cat.policies[pid].name
        for ident in sorted(self.rw.excluded):
            if ident in (acc.id, acc.vendor, offer.id):
                bans.append(f"exclude:{ident}")
                reasons[f"exclude:{ident}"] = f"the workload excludes '{ident}'"
        if offer.mode == "rental" and not cons.allow_rental:
            bans.append("allow:rental")
            reasons["allow:rental"] = "the workload does not allow rental"
        if offer.mode == "purchase" and not cons.allow_purchase:
            bans.append("allow:purchase")
            reasons["allow:purchase"] = "the workload does not allow new purchases"
        if acc.origin not in cons.allowed_origins:
            bans.append(f"allow:{acc.origin}")
            reasons[f"allow:{acc.origin}"] = f"the workload does not allow {acc.origin} parts"
        if offer.location not in cons.allowed_locations:
            bans.append(f"allow:{offer.location}")
            reasons[f"allow:{offer.location}"] = f"the workload does not allow {offer.location} capacity"
        return sorted(set(bans))

    # ---- money --------------------------------------------------------------------------
    def group_money(self, offer: Offer, site: str) -> tuple[CostLines, float, float, float, float]:
        """Per unit: (purchase cost lines, nameplate kW with PUE, energy/h, e-subsidy/h, rental/h)."""
        acc = self.cat.accelerators[offer.accelerator]
        price = offer.price.value
        assert price is not None
        lines = CostLines()
        rental_h = 0.0
        if offer.mode == "purchase":
            base = self.usd(price, offer.price.currency)
            over = offer.server_overhead.cost
            over_usd = self.usd(over.value, over.currency) if over is not None and over.value is not None else 0.0
            levy = sum(
                r.rate * r.pass_through * base
                for _, r in self.rules(LevyRule)
                if matches(r.match, offer, acc, site, self.aliases)
            )
            subsidy = sum(
                r.fraction * base
                for _, r in self.rules(PurchaseSubsidyRule)
                if matches(r.match, offer, acc, site, self.aliases)
            )
            lines = CostLines(capex=base + over_usd, levy=levy, subsidy=min(subsidy, base))
        else:
            rental_h = self.usd(price, offer.price.currency) * offer.unit.devices

        tdp = acc.tdp_w.value or 0.0
        over_w = offer.server_overhead.power_w
        watts = offer.unit.devices * tdp + (over_w.value if over_w is not None and over_w.value else 0.0)
        site_obj = self.cat.sites[site]
        pue = site_obj.pue.value or 1.0
        kw = watts / 1000.0 * pue
        energy_h = 0.0
        esub_h = 0.0
        if offer.mode == "purchase":
            ep = site_obj.electricity_price
            if ep is None or ep.value is None:
                self.problem.warnings.append(f"site {site}: no electricity price; energy counted as zero")
            else:
                energy_h = kw * self.w.energy_load_factor * self.usd(ep.value, ep.currency)
            frac = max(
                (
                    r.fraction
                    for _, r in self.rules(ElectricitySubsidyRule)
                    if site in r.sites and matches(r.match, offer, acc, site, self.aliases)
                ),
                default=0.0,
            )
            esub_h = energy_h * frac
        return lines, kw, energy_h, esub_h, rental_h

    # ---- groups and candidates ----------------------------------------------------------
    def sites_for(self, offer: Offer) -> list[str]:
        if offer.mode == "rental":
            return [offer.site] if offer.site else []
        return list(self.rw.sites)

    def build(self) -> Problem:
        existing = self.existing_units()
        for key in existing:
            if key[1] not in self.rw.sites and self.cat.offers[key[0]].mode == "purchase":
                pass  # existing fleets may sit at a site not open for new purchases
        for offer in sorted(self.cat.offers.values(), key=lambda o: o.id):
            sites = sorted(set(self.sites_for(offer)) | {s for (o, s) in existing if o == offer.id})
            if offer.existing_only:
                sites = sorted({s for (o, s) in existing if o == offer.id})
                if not sites:
                    continue
            if offer.price.value is None:
                if any(o == offer.id for (o, _) in existing):
                    pass
                else:
                    self.problem.excluded.append(f"{offer.id}: no public price (add your quote with --catalog)")
                    continue
            try:
                dev = device_model(self.cat, offer.accelerator)
            except MissingFigure as exc:
                self.problem.excluded.append(f"{offer.id}: {exc}")
                continue
            if offer.scale_up_domain is not None and offer.scale_up_domain.value is not None:
                dev = dataclasses.replace(dev, domain=max(1, int(offer.scale_up_domain.value)))
            for site in sites:
                self.add_group(offer, site, existing.get((offer.id, site), 0), dev)
        self.add_caps_and_floors()
        self.add_limits()
        for warning in sorted({w for w in self.problem.warnings}):
            log.info("warning: %s", warning)
        return self.problem

    def add_group(self, offer: Offer, site: str, existing: int, dev: DeviceModel) -> None:
        acc = dev.accelerator
        if offer.price.value is None:
            lines, kw, energy_h, esub_h, rental_h = CostLines(), 0.0, 0.0, 0.0, 0.0
        else:
            lines, kw, energy_h, esub_h, rental_h = self.group_money(offer, site)
        bans = self.group_bans(offer, site)
        if offer.existing_only or offer.price.value is None:
            bans = sorted(set(bans) | {"existing-only"})
            self.problem.ban_reasons["existing-only"] = "parts no longer sold: existing fleets only"
        peak, _ = dev.peak_flops("bf16")
        key = f"{offer.id}@{site}"
        max_new = MAX_UNITS_DEFAULT
        group = Group(
            key=key,
            offer=offer.id,
            accelerator=acc.id,
            accelerator_name=acc.name,
            vendor=acc.vendor,
            origin=acc.origin,
            mode=offer.mode,
            location=offer.location,
            region=offer.region,
            site=site,
            unit_kind=offer.unit.kind,
            devices_per_unit=offer.unit.devices,
            existing_units=existing,
            max_new_units=max_new,
            peak_tflops_per_device=peak / 1e12,
            power_kw_per_unit=kw,
            hosted=offer.mode == "purchase",
            costs_per_unit=lines,
            energy_per_unit_hour=energy_h,
            electricity_subsidy_per_unit_hour=esub_h,
            rental_per_unit_hour=rental_h,
            bans=tuple(bans),
        )
        made = self.add_candidates(group, dev, offer)
        if made or existing:
            self.problem.groups[key] = group
        for w in dev.warnings:
            if w not in self.problem.warnings and made:
                self.problem.warnings.append(w)

    def add_candidates(self, group: Group, dev: DeviceModel, offer: Offer) -> int:
        peaks = {p for p in ("bf16", "fp16", "fp8", "int8") if (v := dev.accelerator.dense_tflops.get(p)) and v.value}
        precision = _effective_precision(peaks, self.w.precision)
        if precision != self.w.precision:
            note = f"{dev.id} has no {self.w.precision} support; planned at {precision}"
            if note not in self.problem.warnings:
                self.problem.warnings.append(note)
        cluster_cap = self.cluster_cap(offer)
        made = 0
        if self.w.kind == "inference":
            assert self.w.traffic is not None and self.w.slo is not None
            kvp = self.w.kv_precision or self.w.precision
            kvp = _effective_precision(peaks | {"bf16"}, kvp) if kvp in ("fp8",) and "fp8" not in peaks else kvp
            cache_key = (f"{dev.id}/{dev.domain}", precision + "/" + kvp)
            if cache_key not in self.shape_cache:
                setup = InferenceSetup(
                    arch=self.rw.arch,
                    precision=precision,
                    kv_precision=kvp,
                    input_tokens=self.w.traffic.input_tokens,
                    output_tokens=self.w.traffic.output_tokens,
                    ttft_ms=self.w.slo.ttft_ms,
                    tpot_ms=self.w.slo.tpot_ms,
                )
                shapes, bad = replica_shapes(dev, setup)
                self.shape_cache[cache_key] = shapes
                if not shapes:
                    why = "; ".join(sorted({b.reason for b in bad})[:2]) or "no layout fits"
                    self.problem.excluded.append(f"{dev.id}: cannot serve this model under the SLO ({why})")
            for shape in self.shape_cache[cache_key]:
                block = math.lcm(shape.devices, group.devices_per_unit)
                bans: list[str] = []
                if cluster_cap is not None and shape.devices > cluster_cap[0]:
                    bans.append(cluster_cap[1])
                cand = Candidate(
                    key=f"{group.key}#tp{shape.tp}pp{shape.pp}",
                    group=group.key,
                    block_units=block // group.devices_per_unit,
                    block_devices=block,
                    block_replicas=block // shape.devices,
                    requests_per_s=shape.requests_per_s * (block // shape.devices),
                    shape=shape,
                    bans=tuple(bans),
                )
                self.problem.candidates[cand.key] = cand
                made += 1
        else:
            assert self.w.tokens_b is not None and self.w.seq_len and self.w.deadline_days
            setup_t = TrainingSetup(
                arch=self.rw.arch,
                tokens=self.w.tokens_b * 1e9,
                seq_len=self.w.seq_len,
                deadline_days=self.w.deadline_days,
                precision=precision,
            )
            pool = size_pool(dev, setup_t, group.devices_per_unit, None)
            if isinstance(pool, TrainingInfeasible):
                self.problem.excluded.append(f"{group.key}: {pool.reason}")
                return 0
            bans = []
            if cluster_cap is not None and pool.devices > cluster_cap[0]:
                bans.append(cluster_cap[1])
            units = math.ceil(pool.devices / group.devices_per_unit)
            cand = Candidate(
                key=f"{group.key}#pool",
                group=group.key,
                block_units=units,
                block_devices=pool.devices,
                block_replicas=0,
                pool=pool,
                pool_units=units,
                hours=pool.days * 24.0,
                bans=tuple(bans),
            )
            self.problem.candidates[cand.key] = cand
            made = 1
        return made

    def cluster_cap(self, offer: Offer) -> tuple[int, str] | None:
        caps: list[tuple[int, str]] = []
        if offer.max_cluster_devices is not None and offer.max_cluster_devices.value is not None:
            name = f"cluster:{offer.id}"
            caps.append((int(offer.max_cluster_devices.value), name))
            self.problem.ban_reasons[name] = f"{offer.id} clusters are capped at {int(offer.max_cluster_devices.value)} devices"
        if self.w.constraints.max_cluster_devices is not None:
            caps.append((self.w.constraints.max_cluster_devices, "cluster:workload"))
            self.problem.ban_reasons["cluster:workload"] = (
                f"the workload caps a cluster at {self.w.constraints.max_cluster_devices} devices"
            )
        return min(caps) if caps else None

    # ---- caps, floors, limits -----------------------------------------------------------
    def add_caps_and_floors(self) -> None:
        p = self.problem
        by_offer: dict[str, list[str]] = defaultdict(list)
        for g in p.groups.values():
            by_offer[g.offer].append(g.key)
        for offer_id, keys in sorted(by_offer.items()):
            cap = self.cat.offers[offer_id].supply_cap_units
            if cap is not None and cap.value is not None:
                p.unit_caps.append(
                    UnitCap(f"supply:{offer_id}", tuple(keys), int(cap.value), f"supply cap of {offer_id} (units)")
                )
        for pid, rule in self.rules(CapRule):
            keys = self.matching_groups(rule.match)
            if keys:
                p.unit_caps.append(UnitCap(f"policy:{pid}", tuple(keys), rule.max_units, self.cat.policies[pid].name))
        for pid, rule in self.rules(TieInRule):
            keys = self.matching_groups(rule.match)
            if rule.ratio is None:
                p.warnings.append(
                    f"policy {pid}: its tie-in condition has no public ratio, so it is not enforced "
                    "(set one in a catalog overlay to model it)"
                )
            elif keys:
                p.tie_ins.append(TieIn(f"policy:{pid}", tuple(keys), rule.ratio, self.cat.policies[pid].name))
        share = self.w.constraints.domestic_share
        if share is not None and share.min > 0:
            p.share_floors.append(
                ShareFloor("domestic_share:workload", share.measure, share.min, f"the workload's {share.min:.0%} domestic floor")
            )
        for pid, rule in self.rules(ShareFloorRule):
            p.share_floors.append(
                ShareFloor(f"domestic_share:{pid}", rule.measure, rule.min, f"{self.cat.policies[pid].name}")
            )

    def matching_groups(self, match: Match) -> list[str]:
        out = []
        for g in self.problem.groups.values():
            offer = self.cat.offers[g.offer]
            if matches(match, offer, self.cat.accelerators[g.accelerator], g.site, self.aliases):
                out.append(g.key)
        return sorted(out)

    def add_limits(self) -> None:
        p = self.problem
        cons = self.w.constraints
        hosted_sites = sorted({g.site for g in p.groups.values() if g.hosted})
        for site in hosted_sites:
            if site in cons.site_power_kw:
                kw, why = cons.site_power_kw[site], "the workload's cap"
            else:
                val = self.cat.sites[site].power_kw.value
                if val is None:
                    continue
                kw, why = val, "the catalog's default envelope"
            p.power_caps.append(PowerCap(f"power:{site}", (site,), kw, f"power at {site} ({why})"))
        if cons.power_kw is not None:
            p.power_caps.append(PowerCap("power:total", tuple(hosted_sites), cons.power_kw, "power across all sites"))
        if cons.budget is not None:
            cur = cons.budget.currency
            if cons.budget.total is not None:
                p.budget_total = self.usd(cons.budget.total, cur)
            if cons.budget.capex is not None:
                p.budget_capex = self.usd(cons.budget.capex, cur)
        if self.w.kind == "inference" and self.w.traffic is not None:
            p.required_rps = self.w.traffic.requests_per_s
        if self.w.deadline_days is not None:
            p.deadline_days = self.w.deadline_days


def prepare(workload: Workload, catalog: Catalog) -> Problem:
    """Check the workload against the catalog and compute the problem's numbers."""
    rw = resolve(workload, catalog)
    return _Preparer(rw, catalog).build()

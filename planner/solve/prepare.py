"""Validate a fleet against the catalog and compute every number the model needs.

Input: a workload or fleet and a catalog. Output: a :class:`Problem` of periods, jobs, groups
(offer x site) with per-period prices, candidates (replica blocks or training pools per job),
caps, floors, named bans and an optional hedge. No CP-SAT here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
import threading
from collections import OrderedDict, defaultdict
from typing import Generic, TypeVar, cast

from planner.catalog.matching import matches
from planner.catalog.store import Catalog
from planner.catalog.workload_file import ResolvedFleet, resolve
from planner.models.base import date_floor
from planner.models.catalog import (
    BanRule,
    CapRule,
    ElectricitySubsidyRule,
    LevyRule,
    Match,
    Measure,
    Offer,
    Policy,
    PurchaseSubsidyRule,
    ResidencyRule,
    ShareFloorRule,
    TieInRule,
)
from planner.models.fleet import Fleet, Member
from planner.models.plan import CostLines
from planner.models.workload import Workload
from planner.perf.arch_math import arch_key, forward_flops_per_token, prefill_flops
from planner.perf.device import DeviceModel, MissingFigure, device_model
from planner.perf.inference import Infeasible, InferenceSetup, ReplicaShape, ShapeMemo, replica_shapes
from planner.perf.training import LayoutMemo, TrainingInfeasible, TrainingPool, TrainingSetup, size_pool
from planner.solve.problem import (
    Candidate,
    Force,
    Group,
    HedgeSpec,
    Job,
    Period,
    PowerCap,
    Problem,
    ShareFloor,
    TieIn,
    UnitCap,
)

log = logging.getLogger(__name__)
R = TypeVar("R")
V = TypeVar("V")

HOURS_PER_MONTH = 730.0


def _effective_precision(peaks: set[str], wanted: str) -> str:
    if wanted in peaks:
        return wanted
    return "bf16" if "bf16" in peaks else "fp16"


def _peaks(dev: DeviceModel) -> set[str]:
    return {p for p in ("bf16", "fp16", "fp8", "int8") if (v := dev.accelerator.dense_tflops.get(p)) and v.value}


_SETUP_FIELDS = {
    cls: tuple(f.name for f in dataclasses.fields(cls) if f.name != "arch") for cls in (InferenceSetup, TrainingSetup)
}


def _setup_key(setup: InferenceSetup | TrainingSetup) -> tuple[object, ...]:
    """A setup's fields but the architecture (keyed separately, by content)."""
    return tuple(getattr(setup, name) for name in _SETUP_FIELDS[type(setup)])


def _add_months(start: dt.date, months: float) -> dt.date:
    return start + dt.timedelta(days=months * 30.4375)


class _Recent(Generic[V]):
    """The most recently used results by content key, at most ``size`` of them.

    Keys hold every input of the estimate (device figures, architecture, setup), so a hit is the
    estimate itself; values are immutable (frozen shapes and pools in tuples). A lock keeps the
    order consistent if preparations ever run in threads.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple[object, ...], V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[object, ...]) -> V | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple[object, ...], value: V) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


ESTIMATES_KEPT = 1024
"""Replica-shape and training-pool estimates kept between preparations: a frontier or a
comparison prepares the same fleet many times with one lever changed, and the estimates are
most of a preparation's time."""
_SHAPES: _Recent[tuple[tuple[ReplicaShape, ...], tuple[Infeasible, ...]]] = _Recent(ESTIMATES_KEPT)
_POOLS: _Recent[TrainingPool | TrainingInfeasible] = _Recent(ESTIMATES_KEPT)


def _replica_shapes(
    dev: DeviceModel, setup: InferenceSetup, content: tuple[object, ...], memo: ShapeMemo
) -> tuple[tuple[ReplicaShape, ...], tuple[Infeasible, ...]]:
    """:func:`replica_shapes` (best per device and the smallest), from an earlier preparation if any."""
    found = _SHAPES.get(content)
    if found is None:
        shapes, bad = replica_shapes(dev, setup, keep=1, memo=memo)
        found = (tuple(shapes), tuple(bad))
        _SHAPES.put(content, found)
    return found


def _size_pool(
    dev: DeviceModel, setup: TrainingSetup, unit_devices: int, content: tuple[object, ...], memo: LayoutMemo
) -> TrainingPool | TrainingInfeasible:
    """:func:`size_pool` for one purchase unit, from an earlier preparation if any."""
    found = _POOLS.get(content)
    if found is None:
        found = size_pool(dev, setup, unit_devices, None, memo=memo)
        _POOLS.put(content, found)
    return found


class _Preparer:
    def __init__(self, rf: ResolvedFleet, catalog: Catalog) -> None:
        self.rf = rf
        self.f: Fleet = rf.fleet
        self.cat = catalog
        self.aliases = catalog._aliases("accelerators")
        spec = self.f.period_list
        start = date_floor(spec.start)
        periods = []
        for i in range(spec.count):
            begin = _add_months(start, spec.months * i)
            periods.append(Period(i, begin.isoformat(), spec.months, spec.months * HOURS_PER_MONTH))
        self.problem = Problem(objective=self.f.objective, periods=periods, jobs={}, groups={}, candidates={})
        self.T = range(len(periods))
        self.active = [self._policies_at(p) for p in periods]
        # what a unit's price depends on per period besides its price trend: policies in force, levy rate
        self.money_terms = [
            (tuple(p.id for p in self.active[t]), self._event_value(periods[t], "levy_rate")) for t in self.T
        ]
        self.shape_cache: dict[tuple[str, str, str], tuple[ReplicaShape, ...]] = {}
        # Estimates by content, not by job name: jobs with the same model, numerics, tokens and
        # SLO (or the same training run) on the same device share one computation (and _SHAPES,
        # _POOLS keep the most recent ones for the next preparation).
        self.shapes_by_content: dict[tuple[object, ...], tuple[tuple[ReplicaShape, ...], tuple[Infeasible, ...]]] = {}
        self.pools_by_content: dict[tuple[object, ...], TrainingPool | TrainingInfeasible] = {}
        self.arch_keys: dict[str, str] = {}
        self.shape_memo = ShapeMemo()
        self.layout_memo = LayoutMemo()
        self.peaks_by_part: dict[str, set[str]] = {}
        self.rules_by_kind: dict[tuple[int, type], tuple[tuple[str, object], ...]] = {}

    # ---- policies in force per period --------------------------------------------------
    def _policies_at(self, period: Period) -> list[Policy]:
        ids = set(self.rf.policy_ids)
        for event in sorted(self.f.schedule.events, key=lambda e: date_floor(e.date)):
            if date_floor(event.date) <= date_floor(period.start):
                ids |= set(event.policy_on)
                ids -= set(event.policy_off)
        out = []
        for pid in sorted(ids):
            policy = self.cat.policies[pid]
            if len(self.problem.periods) > 1:
                if policy.effective_from and date_floor(policy.effective_from) > date_floor(period.start):
                    continue
                if policy.effective_until and date_floor(policy.effective_until) <= date_floor(period.start):
                    continue
            out.append(policy)
        return out

    def _event_value(self, period: Period, attr: str) -> float | None:
        value = None
        for event in sorted(self.f.schedule.events, key=lambda e: date_floor(e.date)):
            if date_floor(event.date) <= date_floor(period.start) and getattr(event, attr) is not None:
                value = getattr(event, attr)
        return value

    def rules(self, t: int, kind: type[R]) -> tuple[tuple[str, R], ...]:
        """(policy id, rule) of one kind in force in period t; asked for per group and period, found once."""
        found = self.rules_by_kind.get((t, kind))
        if found is None:
            found = tuple((p.id, r) for p in self.active[t] for r in p.rules if isinstance(r, kind))
            self.rules_by_kind[(t, kind)] = found
        return cast("tuple[tuple[str, R], ...]", found)

    def policy_ids(self, t: int) -> set[str]:
        return {p.id for p in self.active[t]}

    def usd(self, amount: float, currency: str) -> float:
        return self.cat.to_usd(amount, currency)

    def match(self, m: Match, offer: Offer, site: str) -> bool:
        return matches(m, offer, self.cat.accelerators[offer.accelerator], site, self.aliases)

    # ---- existing fleet -----------------------------------------------------------------
    def existing_units(self) -> dict[tuple[str, str], int]:
        first_site = self.rf.sites[0] if self.rf.sites else ""
        out: dict[tuple[str, str], int] = defaultdict(int)
        for item in self.f.existing_fleet:
            out[(item.offer, item.site or first_site)] += item.units
        return out

    # ---- bans ---------------------------------------------------------------------------
    def group_bans(self, offer: Offer, site: str) -> dict[str, set[int]]:
        acc = self.cat.accelerators[offer.accelerator]
        cons = self.f.constraints
        reasons = self.problem.ban_reasons
        bans: dict[str, set[int]] = defaultdict(set)

        def ban(name: str, why: str, periods: range | list[int]) -> None:
            bans[name].update(periods)
            reasons.setdefault(name, why)

        for t in self.T:
            if offer.requires_policy and offer.requires_policy not in self.policy_ids(t):
                ban(
                    f"requires:{offer.requires_policy}",
                    f"offers marked '{offer.requires_policy}' need that policy pack in force",
                    [t],
                )
            kinds = {m.kind for m in self.f.fleet}
            for pid, rule in self.rules(t, BanRule):
                if rule.workloads is not None and not kinds & set(rule.workloads):
                    continue
                if self.match(rule.match, offer, site):
                    ban(f"policy:{pid}", self.cat.policies[pid].name, [t])
        for ident in sorted(self.rf.excluded):
            if ident in (acc.id, acc.vendor, offer.id):
                ban(f"exclude:{ident}", f"the workload excludes '{ident}'", self.T)
        if offer.mode == "rental" and not cons.allow_rental:
            ban("allow:rental", "the workload does not allow rental", self.T)
        if offer.mode == "purchase" and not cons.allow_purchase:
            ban("allow:purchase", "the workload does not allow new purchases", self.T)
        if acc.origin not in cons.allowed_origins:
            ban(f"allow:{acc.origin}", f"the workload does not allow {acc.origin} parts", self.T)
        if offer.location not in cons.allowed_locations:
            ban(f"allow:{offer.location}", f"the workload does not allow {offer.location} capacity", self.T)
        if offer.existing_only:
            ban("existing-only", "parts no longer sold: existing fleets only", self.T)
        return bans

    def candidate_bans(self, member: Member, offer: Offer) -> list[str]:
        """Bans on serving one job from one offer: residency, per-job exclusions and locations."""
        acc = self.cat.accelerators[offer.accelerator]
        out: list[str] = []
        for pid, rule in self.rules(0, ResidencyRule):
            if (
                member.kind in rule.workloads
                and member.handles_domestic_data
                and offer.location not in rule.allowed_locations
            ):
                out.append(f"residency:{pid}")
                self.problem.ban_reasons[f"residency:{pid}"] = self.cat.policies[pid].name
        for ident in sorted(self.rf.member_excluded.get(member.name, ())):
            if ident in (acc.id, acc.vendor, offer.id):
                name = f"exclude:{ident}@{member.name}"
                out.append(name)
                self.problem.ban_reasons[name] = f"workload '{member.name}' excludes '{ident}'"
        if member.allowed_locations is not None and offer.location not in member.allowed_locations:
            name = f"allow:{offer.location}@{member.name}"
            out.append(name)
            self.problem.ban_reasons[name] = f"workload '{member.name}' does not allow {offer.location} capacity"
        for name in sorted(self.rf.excluded):
            if name in (acc.id, acc.vendor, offer.id):
                out.append(f"exclude:{name}")
        return sorted(set(out))

    # ---- money per period -----------------------------------------------------------------
    def price_factor(self, offer: Offer, site: str, t: int) -> float:
        factor = 1.0
        for trend in self.f.schedule.price_trends:
            if self.match(trend.match, offer, site):
                factor *= (1.0 + trend.per_period) ** t
        return factor

    def group_money(
        self, offer: Offer, site: str
    ) -> tuple[list[CostLines], float, list[float], list[float], list[float]]:
        """Per period: unit purchase lines, nameplate kW (with PUE), energy/h, e-subsidy/h, rental/h."""
        acc = self.cat.accelerators[offer.accelerator]
        price = offer.price.value or 0.0
        site_obj = self.cat.sites[site]
        tdp = acc.tdp_w.value or 0.0
        over_w = offer.server_overhead.power_w
        watts = offer.unit.devices * tdp + (over_w.value if over_w is not None and over_w.value else 0.0)
        kw = watts / 1000.0 * (site_obj.pue.value or 1.0)
        lines: list[CostLines] = []
        energy: list[float] = []
        esub: list[float] = []
        rental: list[float] = []
        # periods with the same price factor, policies and levy rate cost the same: work it out once
        by_terms: dict[tuple[object, ...], tuple[float, float, float, float, float]] = {}
        for t in self.T:
            factor = self.price_factor(offer, site, t)
            if offer.mode == "purchase":
                key = (factor, *self.money_terms[t])
                if key not in by_terms:
                    by_terms[key] = self.purchase_money(offer, site, t, factor, kw)
                capex, levy, subsidy, e_h, frac = by_terms[key]
                lines.append(CostLines(capex=capex, levy=levy, subsidy=subsidy))
                rental.append(0.0)
                energy.append(e_h)
                esub.append(e_h * frac)
            else:
                lines.append(CostLines())
                rental.append(self.usd(price, offer.price.currency) * offer.unit.devices * factor)
                energy.append(0.0)
                esub.append(0.0)
        if offer.mode == "purchase" and (
            site_obj.electricity_price is None or site_obj.electricity_price.value is None
        ):
            self.problem.warnings.append(f"site {site}: no electricity price; energy counted as zero")
        return lines, kw, energy, esub, rental

    def purchase_money(
        self, offer: Offer, site: str, t: int, factor: float, kw: float
    ) -> tuple[float, float, float, float, float]:
        """One unit bought in period t: capex, levy, subsidy; energy per hour and its subsidised share."""
        base = self.usd(offer.price.value or 0.0, offer.price.currency) * factor
        over = offer.server_overhead.cost
        over_usd = self.usd(over.value, over.currency) if over is not None and over.value is not None else 0.0
        rate_override = self._event_value(self.problem.periods[t], "levy_rate")
        levy = sum(
            (rate_override if rate_override is not None else r.rate) * r.pass_through * base
            for _, r in self.rules(t, LevyRule)
            if self.match(r.match, offer, site)
        )
        subsidy = sum(
            r.fraction * base for _, r in self.rules(t, PurchaseSubsidyRule) if self.match(r.match, offer, site)
        )
        ep = self.cat.sites[site].electricity_price
        e_h = 0.0
        if ep is not None and ep.value is not None:
            e_h = kw * self.f.energy_load_factor * self.usd(ep.value, ep.currency)
        frac = max(
            (
                r.fraction
                for _, r in self.rules(t, ElectricitySubsidyRule)
                if site in r.sites and self.match(r.match, offer, site)
            ),
            default=0.0,
        )
        return base + over_usd, levy, min(subsidy, base), e_h, frac

    def lag(self, offer: Offer) -> int:
        """Whole periods between ordering and serving: lead time rounded to the nearest period."""
        if len(self.problem.periods) == 1 or offer.lead_time_weeks is None or offer.lead_time_weeks.value is None:
            return 0
        weeks_per_period = self.problem.periods[0].months * 30.4375 / 7.0
        return math.floor(offer.lead_time_weeks.value / weeks_per_period + 0.5)

    # ---- build ----------------------------------------------------------------------------
    def build(self) -> Problem:
        self.add_jobs()
        existing = self.existing_units()
        for offer in sorted(self.cat.offers.values(), key=lambda o: o.id):
            owned_sites = {s for (o, s) in existing if o == offer.id}
            if offer.existing_only:
                sites = sorted(owned_sites)
            elif offer.mode == "rental":
                sites = [offer.site] if offer.site else []
            else:
                sites = sorted(set(self.rf.sites) | owned_sites)
            if not sites:
                continue
            if offer.price.value is None and not owned_sites:
                self.problem.excluded.append(f"{offer.id}: no public price (add your quote with --catalog)")
                continue
            try:
                dev = device_model(self.cat, offer.accelerator)
                dev.peak_flops("bf16")  # the compute measure: a part with no bf16/fp16 peak cannot be planned
            except MissingFigure as exc:
                self.problem.excluded.append(f"{offer.id}: {exc}")
                continue
            if offer.scale_up_domain is not None and offer.scale_up_domain.value is not None:
                dev = dataclasses.replace(dev, domain=max(1, int(offer.scale_up_domain.value)))
            for site in sites:
                self.add_group(offer, site, existing.get((offer.id, site), 0), dev)
        self.add_caps_and_floors()
        self.add_limits()
        self.add_hedge()
        self.add_forced()
        self.add_residuals()
        self.problem.warnings = sorted(set(self.problem.warnings))
        return self.problem

    def add_jobs(self) -> None:
        for m in self.f.fleet:
            arch = self.rf.archs[m.name]
            if m.kind == "inference":
                assert m.traffic is not None
                rps = tuple(m.traffic.requests_per_s * m.demand_factor(t) for t in self.T)
                per_request = prefill_flops(
                    arch, m.traffic.input_tokens
                ) + m.traffic.output_tokens * forward_flops_per_token(
                    arch, m.traffic.input_tokens + m.traffic.output_tokens / 2.0
                )
                job = Job(
                    m.name,
                    "inference",
                    self.rf.model_names[m.name],
                    required_rps=rps,
                    flops_per_request=per_request,
                    start_period=m.start_period,
                )
            else:
                job = Job(
                    m.name,
                    "training",
                    self.rf.model_names[m.name],
                    deadline_days=m.deadline_days or 0.0,
                    start_period=m.start_period,
                )
            self.problem.jobs[m.name] = job

    def add_group(self, offer: Offer, site: str, existing: int, dev: DeviceModel) -> None:
        acc = dev.accelerator
        priced = offer
        if offer.price.value is None:  # an existing fleet of a part with no public price: running costs only
            priced = offer.model_copy(update={"price": offer.price.model_copy(update={"value": 0.0})})
        lines, kw, energy, esub, rental = self.group_money(priced, site)
        bans = self.group_bans(offer, site)
        if offer.price.value is None:
            bans["existing-only"] = set(self.T)
            self.problem.ban_reasons["existing-only"] = "parts with no public price: existing fleets only"
        peak, _ = dev.peak_flops("bf16")
        group = Group(
            key=f"{offer.id}@{site}",
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
            peak_tflops_per_device=peak / 1e12,
            power_kw_per_unit=kw,
            hosted=offer.mode == "purchase",
            lag_periods=self.lag(offer),
            unit_costs=tuple(lines),
            energy_per_unit_hour=tuple(energy),
            electricity_subsidy_per_unit_hour=tuple(esub),
            rental_per_unit_hour=tuple(rental),
            bans=tuple((name, tuple(sorted(periods))) for name, periods in sorted(bans.items())),
        )
        made = sum(self.add_candidates(group, dev, offer, m) for m in self.f.fleet)
        if made or existing:
            self.problem.groups[group.key] = group
            self.problem.part_warnings.setdefault(dev.id, set()).update(dev.warnings)

    def add_candidates(self, group: Group, dev: DeviceModel, offer: Offer, m: Member) -> int:
        peaks = self.peaks_by_part.get(dev.id)
        if peaks is None:
            peaks = self.peaks_by_part[dev.id] = _peaks(dev)
        precision = _effective_precision(peaks, m.precision)
        if precision != m.precision:
            self.problem.part_warnings.setdefault(dev.id, set()).add(
                f"{dev.id} has no {m.precision} support; planned at {precision}"
            )
        cluster_cap = self.cluster_cap(offer)
        bans = self.candidate_bans(m, offer)
        arch = self.rf.archs[m.name]
        if m.kind == "inference":
            assert m.traffic is not None and m.slo is not None
            kvp: str = m.kv_precision or m.precision
            if kvp == "fp8" and "fp8" not in peaks:
                kvp = precision
            cache_key = (m.name, f"{dev.id}/{dev.domain}", f"{precision}/{kvp}")
            if cache_key not in self.shape_cache:
                setup = InferenceSetup(
                    arch, precision, kvp, m.traffic.input_tokens, m.traffic.output_tokens, m.slo.ttft_ms, m.slo.tpot_ms
                )
                content = (dev.figures_key(), self.arch_key(m.name), _setup_key(setup))
                if content not in self.shapes_by_content:
                    self.shapes_by_content[content] = _replica_shapes(dev, setup, content, self.shape_memo)
                shapes, bad = self.shapes_by_content[content]
                self.shape_cache[cache_key] = shapes
                if not shapes:
                    why = "; ".join(sorted({b.reason for b in bad})[:2]) or "no layout fits"
                    self.problem.excluded.append(f"{dev.id} cannot serve '{m.name}' under its SLO ({why})")
            made = 0
            for shape in self.shape_cache[cache_key]:
                block = math.lcm(shape.devices, group.devices_per_unit)
                extra = [cluster_cap[1]] if cluster_cap is not None and shape.devices > cluster_cap[0] else []
                cand = Candidate(
                    key=f"{m.name}|{group.key}#tp{shape.tp}pp{shape.pp}",
                    group=group.key,
                    job=m.name,
                    block_units=block // group.devices_per_unit,
                    block_devices=block,
                    block_replicas=block // shape.devices,
                    requests_per_s=shape.requests_per_s * (block // shape.devices),
                    shape=shape,
                    bans=tuple(sorted(set(bans + extra))),
                )
                self.problem.candidates[cand.key] = cand
                made += 1
            return made
        assert m.tokens_b is not None and m.seq_len and m.deadline_days
        setup_t = TrainingSetup(arch, m.tokens_b * 1e9, m.seq_len, m.deadline_days, precision)
        pool_key = (dev.figures_key(), self.arch_key(m.name), _setup_key(setup_t), group.devices_per_unit)
        if pool_key not in self.pools_by_content:
            self.pools_by_content[pool_key] = _size_pool(
                dev, setup_t, group.devices_per_unit, pool_key, self.layout_memo
            )
        pool = self.pools_by_content[pool_key]
        if isinstance(pool, TrainingInfeasible):
            self.problem.excluded.append(f"{group.key} for '{m.name}': {pool.reason}")
            return 0
        extra = [cluster_cap[1]] if cluster_cap is not None and pool.devices > cluster_cap[0] else []
        period_days = self.problem.periods[0].months * 30.4375
        span = max(1, math.ceil(pool.days / period_days - 1e-9))
        covered = tuple(t for t in range(m.start_period, m.start_period + span) if t < len(self.problem.periods))
        units = math.ceil(pool.devices / group.devices_per_unit)
        cand = Candidate(
            key=f"{m.name}|{group.key}#pool",
            group=group.key,
            job=m.name,
            block_units=units,
            block_devices=pool.devices,
            block_replicas=0,
            pool=pool,
            pool_units=units,
            hours=pool.days * 24.0,
            periods=covered,
            bans=tuple(sorted(set(bans + extra))),
        )
        self.problem.candidates[cand.key] = cand
        return 1

    def arch_key(self, member: str) -> str:
        """The member's architecture as a hashable value (its full content, not its name)."""
        if member not in self.arch_keys:
            self.arch_keys[member] = arch_key(self.rf.archs[member])
        return self.arch_keys[member]

    def cluster_cap(self, offer: Offer) -> tuple[int, str] | None:
        caps: list[tuple[int, str]] = []
        if offer.max_cluster_devices is not None and offer.max_cluster_devices.value is not None:
            name = f"cluster:{offer.id}"
            caps.append((int(offer.max_cluster_devices.value), name))
            self.problem.cluster_caps[name] = int(offer.max_cluster_devices.value)
            self.problem.ban_reasons[name] = (
                f"{offer.id} clusters are capped at {int(offer.max_cluster_devices.value)} devices"
            )
        limit = self.f.constraints.max_cluster_devices
        if limit is not None:
            caps.append((limit, "cluster:workload"))
            self.problem.cluster_caps["cluster:workload"] = limit
            self.problem.ban_reasons["cluster:workload"] = f"the workload caps a cluster at {limit} devices"
        return min(caps) if caps else None

    # ---- caps, floors, limits ---------------------------------------------------------------
    def matching_groups(self, match: Match) -> list[str]:
        return sorted(
            g.key for g in self.problem.groups.values() if self.match(match, self.cat.offers[g.offer], g.site)
        )

    def add_caps_and_floors(self) -> None:
        p = self.problem
        by_offer: dict[str, list[str]] = defaultdict(list)
        for g in p.groups.values():
            by_offer[g.offer].append(g.key)
        every = tuple(self.T)
        for offer_id, keys in sorted(by_offer.items()):
            cap = self.cat.offers[offer_id].supply_cap_units
            if cap is not None and cap.value is not None:
                per = "per period" if len(p.periods) > 1 else "(units)"
                p.unit_caps.append(
                    UnitCap(f"supply:{offer_id}", tuple(keys), int(cap.value), f"supply cap of {offer_id} {per}", every)
                )
        for i, sched in enumerate(self.f.schedule.supply):
            keys = self.matching_groups(sched.match)
            for t in self.T:
                units = sched.units_per_period[min(t, len(sched.units_per_period) - 1)]
                p.unit_caps.append(
                    UnitCap(f"supply:schedule[{i}]", tuple(keys), units, f"scheduled supply {i} in period {t}", (t,))
                )
        seen_caps: set[str] = set()
        for t in self.T:
            for pid, cap_rule in self.rules(t, CapRule):
                keys = self.matching_groups(cap_rule.match)
                if keys:
                    p.unit_caps.append(
                        UnitCap(f"policy:{pid}", tuple(keys), cap_rule.max_units, self.cat.policies[pid].name, (t,))
                    )
                    seen_caps.add(pid)
        tie_seen: set[str] = set()
        for pid, tie_rule in self.rules(0, TieInRule):
            if pid in tie_seen:
                continue
            tie_seen.add(pid)
            keys = self.matching_groups(tie_rule.match)
            if tie_rule.ratio is None:
                p.warnings.append(
                    f"policy {pid}: its tie-in condition has no public ratio, so it is not enforced "
                    "(set one in a catalog overlay to model it)"
                )
            elif keys:
                p.tie_ins.append(TieIn(f"policy:{pid}", tuple(keys), tie_rule.ratio, self.cat.policies[pid].name))
        share = self.f.constraints.domestic_share
        if share is not None or any(e.domestic_share_min is not None for e in self.f.schedule.events):
            base = share.min if share is not None else 0.0
            measure: Measure = share.measure if share is not None else "devices"
            mins: list[float] = []
            for period in p.periods:
                override = self._event_value(period, "domestic_share_min")
                mins.append(override if override is not None else base)
            if any(v > 0 for v in mins):
                p.share_floors.append(
                    ShareFloor("domestic_share:workload", measure, tuple(mins), "the workload's domestic floor")
                )
        floors: dict[tuple[str, Measure], list[float]] = {}
        for t in self.T:
            for pid, floor_rule in self.rules(t, ShareFloorRule):
                per_period = floors.setdefault((pid, floor_rule.measure), [0.0] * len(p.periods))
                per_period[t] = max(per_period[t], floor_rule.min)
        for (pid, which), per_period in sorted(floors.items()):
            p.share_floors.append(
                ShareFloor(f"domestic_share:{pid}", which, tuple(per_period), self.cat.policies[pid].name)
            )

    def add_limits(self) -> None:
        p = self.problem
        cons = self.f.constraints
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

    def add_hedge(self) -> None:
        hedge = self.f.hedge
        if hedge is None:
            return
        lost = self.matching_groups(hedge.lose)
        jobs = tuple(hedge.workloads or [m.name for m in self.f.fleet if m.kind == "inference"])
        self.problem.hedge = HedgeSpec(
            "hedge:loss",
            tuple(lost),
            hedge.serve_fraction,
            jobs,
            f"serve {hedge.serve_fraction:.0%} of demand if {len(lost)} offer-site(s) are lost",
        )

    def add_forced(self) -> None:
        """Each id in constraints.force: the groups of matching offers (none left: the constraint says so)."""
        for ident in sorted(self.rf.forced):
            keys = tuple(
                sorted(k for k, g in self.problem.groups.items() if ident in (g.accelerator, g.vendor, g.offer))
            )
            self.problem.forced.append(Force(f"force:{ident}", ident, keys, f"the plan must use {ident}"))

    def add_residuals(self) -> None:
        life = self.f.schedule.depreciation_years
        if life is None:
            return
        p = self.problem
        end = p.horizon_hours
        start = 0.0
        fractions = []
        for period in p.periods:
            age_years = (end - start) / (HOURS_PER_MONTH * 12)
            fractions.append(max(0.0, 1.0 - age_years / life))
            start += period.hours
        for key in p.groups:
            p.residual_fraction[key] = tuple(fractions)
        p.assumptions.append(f"hardware owned at the end is credited at straight-line book value over {life:g} years")


def prepare(inp: Workload | Fleet, catalog: Catalog) -> Problem:
    """Check the workload or fleet against the catalog and compute the problem's numbers."""
    rf = resolve(inp, catalog)
    return _Preparer(rf, catalog).build()

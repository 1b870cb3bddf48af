"""Per line: identity, rules, stated costs and power, and delivery re-run through the perf model."""

from __future__ import annotations

import dataclasses

from planner.models.catalog import (
    BanRule,
    Offer,
    ResidencyRule,
)
from planner.models.fleet import Member
from planner.models.plan import HedgeLine, LineItem
from planner.perf.arch_math import forward_flops_per_token, prefill_flops
from planner.perf.device import DeviceModel, device_model
from planner.perf.inference import InferenceSetup, ReplicaShape, evaluate_shape
from planner.perf.training import TrainingPool, TrainingSetup, size_pool
from planner.verify.context import REL_TOL, ROLES, Context, _total


class LineChecks(Context):
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
            li.accelerator,
            li.vendor,
            li.origin,
            li.mode,
            li.location,
            li.devices_per_unit,
        ):
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
        buys = li.new_units > 0 and not (
            li.role == "training pool" and offer.mode == "rental" and not self.pool_start(li)
        )
        if buys and (offer.existing_only or offer.price.value is None):
            self.fail(f"{where}: buys units of a part that cannot be bought")
        if buys and offer.requires_policy and offer.requires_policy not in ids:
            self.fail(f"{where}: needs policy {offer.requires_policy}, not in force")
        kinds = {m.kind for m in self.f.fleet}
        for pid, r in self.rules(t, BanRule):
            scope = r.workloads
            if buys and self.hit(r.match, offer, li.site) and (scope is None or kinds & set(scope)):
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
                self.serving_rules(
                    where, offer, li.devices_per_replica if li.role == "replicas" else li.devices, member
                )
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
            if (
                member.kind in r.workloads
                and member.handles_domestic_data
                and offer.location not in r.allowed_locations
            ):
                self.fail(f"{where}: '{member.name}' runs {offer.location}, which policy {pid} forbids")
        banned = set(self.rf.excluded) | set(self.rf.member_excluded.get(member.name, ()))
        for ident in sorted(banned):
            if ident in (acc.id, acc.vendor, offer.id):
                self.fail(f"{where}: uses excluded '{ident}'")
        if member.allowed_locations is not None and offer.location not in member.allowed_locations:
            self.fail(f"{where}: '{member.name}' may not run {offer.location}")
        limit = min(
            [
                c
                for c in (
                    offer.max_cluster_devices.value if offer.max_cluster_devices else None,
                    self.f.constraints.max_cluster_devices,
                )
                if c is not None
            ],
            default=None,
        )
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
            kvp: str = m.kv_precision or m.precision
            if kvp == "fp8" and precision != "fp8":
                kvp = precision
            setup = InferenceSetup(
                self.rf.archs[m.name],
                precision,
                kvp,
                m.traffic.input_tokens,
                m.traffic.output_tokens,
                m.slo.ttft_ms,
                m.slo.tpot_ms,
            )
            got = evaluate_shape(dev, setup, tp, pp)
            if not isinstance(got, ReplicaShape):
                self.shapes[key] = f"misses the SLO or does not fit: {got.reason}"
            elif got.tpot_ms > m.slo.tpot_ms * (1 + REL_TOL) or got.ttft_ms > m.slo.ttft_ms * (1 + REL_TOL):
                self.shapes[key] = "misses the SLO"
            elif (got.weights_gb_per_device + got.kv_gb_per_device) * 1e9 > dev.memory_bytes * (1 + REL_TOL):
                self.shapes[key] = (
                    f"does not fit: {got.weights_gb_per_device + got.kv_gb_per_device:.1f} GB of "
                    f"weights and KV per device, {dev.memory_bytes / 1e9:.0f} GB on the part"
                )
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
        setup = TrainingSetup(
            self.rf.archs[m.name], m.tokens_b * 1e9, m.seq_len, m.deadline_days, self.precision(dev, m.precision)
        )
        pool = size_pool(dev, setup, self.cat.offers[li.offer].unit.devices, None)
        if not isinstance(pool, TrainingPool):
            self.fail(f"line {li.offer}: no pool of this part meets the deadline of '{m.name}'")
            return None
        if li.devices < pool.devices:
            self.fail(f"line {li.offer}: {li.devices} devices, '{m.name}' needs {pool.devices}")
        if pool.memory_gb_per_device * 1e9 > dev.memory_bytes * (1 + REL_TOL):
            self.fail(
                f"'{m.name}': {pool.memory_gb_per_device:.1f} GB per device, "
                f"{dev.memory_bytes / 1e9:.0f} GB on the part"
            )
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

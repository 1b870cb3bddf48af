"""Warnings about the data a plan rests on: roadmap, reported, assumed, missing or stale figures.

Only the parts, offers and sites a plan actually uses are checked, and each gets one line that
groups its figures by concern, so a procurement reader sees at a glance which numbers to verify:

    accelerator huawei-ascend-910c: reported memory, bandwidth, int8 peak, TDP
    offer nvidia-h200-hgx-purchase-cn: reported price; not public, counted as 0: host cost

Concerns, in order: ``roadmap`` figures (announced, not shipping), ``reported`` figures (press,
analysts, aggregators), ``assumption`` figures (a stated planner assumption), nulls the planner
fills (host cost and power count as zero, a missing PUE as 1.0), and prices or exchange rates
dated more than 12 months before the as-of date (or today). Staleness applies to prices and the
FX rate, the market figures that move; hardware data-sheet figures do not expire. Policies a
plan switches on outside their effective window are flagged as scenarios.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from planner.catalog.as_of import policy_in_effect
from planner.catalog.figures import date_ceil, months_before
from planner.catalog.store import Catalog
from planner.models.base import Sourced
from planner.models.catalog import Accelerator, Offer, Site
from planner.models.plan import Plan

STALE_MONTHS = 12

_EFFICIENCY = {
    "training": (("train_mfu", "training MFU"),),
    "inference": (("prefill", "prefill efficiency"), ("decode_bw", "decode efficiency")),
}
_CONCERNS = ("roadmap", "reported", "assumption")
_LABEL = {"roadmap": "roadmap", "reported": "reported", "assumption": "assumed"}


class _Findings:
    """Figures of one entry, grouped by concern, rendered as one line."""

    def __init__(self, ref: dt.date) -> None:
        self.groups: dict[str, list[str]] = {c: [] for c in (*_CONCERNS, "null", "stale")}
        self.stale_before = months_before(ref, STALE_MONTHS)

    def add(self, label: str, fig: Sourced | None, *, money: bool = False, null_means: str | None = None) -> None:
        if fig is None or fig.value is None:
            if null_means is not None:
                self.groups["null"].append(f"{label} ({null_means})")
            return
        if fig.confidence in self.groups and label not in self.groups[fig.confidence]:
            self.groups[fig.confidence].append(label)
        if money and date_ceil(fig.date) < self.stale_before:
            self.groups["stale"].append(f"{label} ({fig.date})")

    def line(self, head: str) -> str | None:
        parts = [f"{_LABEL[c]} {', '.join(self.groups[c])}" for c in _CONCERNS if self.groups[c]]
        if self.groups["null"]:
            parts.append("not public: " + ", ".join(self.groups["null"]))
        if self.groups["stale"]:
            parts.append(f"over {STALE_MONTHS} months old: " + ", ".join(self.groups["stale"]))
        return f"{head}: " + "; ".join(parts) if parts else None


def _peak(acc: Accelerator, precision: str) -> tuple[str, Sourced | None]:
    """The dense peak the perf model uses (the precision, else bf16, else fp16)."""
    for p in dict.fromkeys((precision, "bf16", "fp16")):
        fig = acc.dense_tflops.get(p)
        if fig is not None and fig.value is not None:
            return p, fig
    return precision, None


def _accelerator(
    cat: Catalog, acc: Accelerator, kinds: Iterable[str], precisions: Iterable[str], ref: dt.date
) -> str | None:
    f = _Findings(ref)
    f.add("memory", acc.memory_gb)
    f.add("bandwidth", acc.memory_bw_tbps)
    for precision in precisions:
        p, peak = _peak(acc, precision)
        f.add(f"{p} peak", peak)
    f.add("TDP", acc.tdp_w)
    f.add("scale-up bandwidth", acc.scale_up.bw_gbps)
    f.add("scale-up domain", acc.scale_up.domain)
    stack = cat.stacks.get(acc.software_stack)
    for key, label in (pair for kind in kinds for pair in _EFFICIENCY.get(kind, ())):
        own = getattr(acc.efficiency, key)
        via = getattr(stack.efficiency, key) if stack is not None else None
        f.add(label, own if own is not None and own.value is not None else via)
    head = f"accelerator {acc.id}" + (" (roadmap part)" if acc.status == "roadmap" else "")
    return f.line(head)


def _offer(offer: Offer, ref: dt.date, bought: bool) -> str | None:
    """``bought``: the plan buys or rents new units (an existing fleet pays no price)."""
    f = _Findings(ref)
    if bought:
        f.add("price", offer.price, money=True)
    if offer.mode == "purchase" and bought:
        f.add("host cost", offer.server_overhead.cost, money=True, null_means="counted as 0")
    if offer.mode == "purchase":
        f.add("host power", offer.server_overhead.power_w, null_means="counted as 0 W")
    if bought:
        f.add("supply cap", offer.supply_cap_units)
    f.add("scale-up domain", offer.scale_up_domain)
    f.add("cluster cap", offer.max_cluster_devices)
    return f.line(f"offer {offer.id}")


def _site(site: Site, ref: dt.date) -> str | None:
    f = _Findings(ref)
    f.add("electricity price", site.electricity_price, money=True)
    f.add("PUE", site.pue, null_means="assumed 1.0")
    return f.line(f"site {site.id}")


def provenance_warnings(
    plan: Plan,
    catalog: Catalog,
    as_of: dt.date | None = None,
    *,
    policies: Iterable[str] = (),
    precisions: Iterable[str] = ("bf16",),
    kinds: Iterable[str] | None = None,
) -> list[str]:
    """One warning line per used part, offer and site whose figures need a caveat, plus policies.

    ``precisions`` and ``kinds`` say which peaks and efficiencies the plan used (default: bf16,
    and the plan's kind; a fleet checks both kinds).
    """
    ref = as_of or catalog.as_of or dt.date.today()
    kinds = (
        sorted(set(kinds)) if kinds is not None else ([plan.kind] if plan.kind in _EFFICIENCY else sorted(_EFFICIENCY))
    )
    precisions = sorted(set(precisions))
    out: list[str] = []
    offers = {li.offer: li for li in plan.line_items if li.offer in catalog.offers}
    bought = {li.offer for li in plan.line_items if li.new_units > 0}
    accs = sorted({catalog.offers[o].accelerator for o in offers})
    hosted = sorted({li.site for li in offers.values() if li.mode == "purchase" and li.site in catalog.sites})
    for acc_id in accs:
        out.append(_accelerator(catalog, catalog.accelerators[acc_id], kinds, precisions, ref) or "")
    for oid in sorted(offers):
        out.append(_offer(catalog.offers[oid], ref, oid in bought) or "")
    for sid in hosted:
        out.append(_site(catalog.sites[sid], ref) or "")
    fx = catalog.fx_cny_per_usd
    uses_cny = any(catalog.offers[o].price.currency == "CNY" for o in bought if o in offers) or any(
        (ep := catalog.sites[s].electricity_price) is not None and ep.currency == "CNY" for s in hosted
    )
    if fx is not None and uses_cny and date_ceil(fx.date) < months_before(ref, STALE_MONTHS):
        out.append(f"fx: the CNY/USD rate ({fx.value}) is dated {fx.date}, over {STALE_MONTHS} months before {ref}")
    for pid in sorted(set(policies)):
        policy = catalog.policies.get(pid)
        if policy is None:
            continue
        if not policy_in_effect(policy, ref):
            window = f"{policy.effective_from or '...'} to {policy.effective_until or '...'}"
            out.append(f"policy {pid}: not in effect on {ref} (in effect {window}); applied as a scenario")
        if not policy.rules:
            out.append(f"policy {pid}: no rule is encoded (its figures are not public), so it changes nothing")
    return [w for w in out if w]


def workload_warnings(plan: Plan, catalog: Catalog, workload: Any) -> list[str]:
    """:func:`provenance_warnings` for a planned workload (or fleet of workloads) object."""
    members = getattr(workload, "fleet", None)
    if not isinstance(members, list):
        members = [workload]
    constraints = getattr(workload, "constraints", None)
    return provenance_warnings(
        plan,
        catalog,
        catalog.as_of,
        policies=list(getattr(constraints, "policies", None) or []),
        precisions=[getattr(m, "precision", "bf16") for m in members],
        kinds=[getattr(m, "kind", plan.kind) for m in members],
    )

"""The catalog as it stood on a date: what could be bought or rented then, at that date's prices.

``as_of(catalog, date)`` is a pure transformation (the input catalog is not changed). The rules:

- **Parts.** An accelerator whose ``available_from`` is after the date, or a ``roadmap`` part with
  no ``available_from``, cannot be bought: all its offers become unavailable. Roadmap parts appear
  from their availability date on (their figures keep confidence ``roadmap``, so plans warn).
- **Offers.** An offer is unavailable before its own ``available_from`` and after its
  ``available_until``. Unavailable offers stay in the catalog marked ``existing_only`` (no new
  purchase or rental; an existing fleet of them still counts and every id still resolves) and are
  listed in ``catalog.unavailable`` with the reason.
- **Policies.** A policy is in effect from ``effective_from`` up to (not including)
  ``effective_until``, its rescission date, as the solver applies it per period. Outside
  that window a default (market-wide) policy stops applying by default; any policy can still be
  switched on by name as a scenario, and the plan then warns that it was not in effect.
- **Prices** (offer prices, host-server costs, electricity prices) **and the FX rate.** The
  catalog's chosen figure stands if it is dated on or before the date. If it is dated after, the
  newest alternative dated on or before the date is used instead (ties: the first listed;
  alternatives noted "not used", "for comparison" or "sparse" never count); if
  there is none, the chosen figure stays (and its date shows it postdates the as-of date). Other
  figures (memory, peaks, TDP, efficiencies) describe the hardware, not the market, and are not
  re-dated: a source's publication date does not change the silicon, and some of their
  alternatives are sparse or per-die figures that must never replace a dense package value.

Partial dates count from their first day (2026-10 = 1 Oct 2026); an offer's ``available_until``
runs through the last day of the period it names (2026-10 = 31 Oct 2026).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
from typing import TypeVar

from pydantic import BaseModel

from planner.catalog.figures import PRICE_FIELDS, date_ceil, parse_day
from planner.catalog.store import Catalog
from planner.errors import InputError
from planner.models.base import Alternative, Sourced, date_floor
from planner.models.catalog import Policy

log = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)
_NOT_THE_SAME = re.compile(r"not used|comparison|sparse", re.IGNORECASE)
"""Alternatives whose note says they are not the same quantity are never picked by date."""
S = TypeVar("S", bound=Sourced)


def policy_in_effect(policy: Policy, day: dt.date) -> bool:
    """From ``effective_from`` up to, not including, ``effective_until`` (a rescission date),
    the same rule the solver applies per period."""
    if policy.effective_from is not None and day < date_floor(policy.effective_from):
        return False
    return not (policy.effective_until is not None and day >= date_floor(policy.effective_until))


def dated_figure(fig: S, day: dt.date) -> S:
    """The figure as known on ``day``: see the module docstring for the rule."""
    if date_floor(fig.date) <= day:
        return fig
    earlier = [
        a
        for a in fig.alternatives
        if a.value is not None and date_floor(a.date) <= day and not _NOT_THE_SAME.search(a.note or "")
    ]
    if not earlier:
        return fig
    best = max(earlier, key=lambda a: date_floor(a.date))  # max keeps the first of equal dates
    newer = Alternative(
        value=fig.value,
        source=fig.source,
        date=fig.date,
        confidence=fig.confidence,
        note=f"dated after {day.isoformat()}: not known then" + (f"; {fig.note}" if fig.note else ""),
    )
    kept = [newer, *(a for a in fig.alternatives if a is not best)]
    return fig.model_copy(
        update={
            "value": best.value,
            "source": best.source,
            "date": best.date,
            "confidence": best.confidence,
            "note": (best.note + "; " if best.note else "")
            + f"as of {day.isoformat()} (newer figure dated {fig.date})",
            "alternatives": kept,
        }
    )


def _redate(entry: M, day: dt.date) -> M:
    """Re-date the price fields an entry has (offer price, host cost, electricity price)."""
    update: dict[str, object] = {}
    for dotted in PRICE_FIELDS:
        head, _, tail = dotted.partition(".")
        if head not in type(entry).model_fields:
            continue
        value = getattr(entry, head)
        if tail:
            inner = getattr(value, tail, None) if value is not None else None
            if isinstance(inner, Sourced):
                update[head] = value.model_copy(update={tail: dated_figure(inner, day)})
        elif isinstance(value, Sourced):
            update[head] = dated_figure(value, day)
    return entry.model_copy(update=update) if update else entry


def as_of(catalog: Catalog, day: str | dt.date) -> Catalog:
    """A new catalog holding what was purchasable on ``day``, with that day's prices and policies."""
    try:
        when = parse_day(day)
    except ValueError as exc:
        raise InputError.single("--as-of", str(exc)) from None
    unavailable: dict[str, str] = {}
    accelerators = dict(catalog.accelerators)
    for acc in accelerators.values():
        if acc.available_from is not None and date_floor(acc.available_from) > when:
            unavailable[f"accelerators/{acc.id}"] = f"available from {acc.available_from}"
        elif acc.available_from is None and acc.status == "roadmap":
            unavailable[f"accelerators/{acc.id}"] = "roadmap part with no availability date"

    offers = {}
    for oid, offer in catalog.offers.items():
        why = unavailable.get(f"accelerators/{offer.accelerator}")
        if why is not None:
            why = f"{offer.accelerator} {why}"
        elif offer.available_from is not None and date_floor(offer.available_from) > when:
            why = f"on offer from {offer.available_from}"
        elif offer.available_until is not None and date_ceil(offer.available_until) < when:
            why = f"on offer until {offer.available_until}"
        offer = _redate(offer, when)
        if why is not None:
            unavailable[f"offers/{oid}"] = why
            if not offer.existing_only:
                offer = offer.model_copy(update={"existing_only": True})
        offers[oid] = offer

    policies = {}
    for pid, policy in catalog.policies.items():
        if not policy_in_effect(policy, when) and policy.default:
            policy = policy.model_copy(update={"default": False})
            unavailable[f"policies/{pid}"] = _policy_window(policy)
        policies[pid] = policy

    sites = {sid: _redate(site, when) for sid, site in catalog.sites.items()}
    fx = dated_figure(catalog.fx_cny_per_usd, when) if catalog.fx_cny_per_usd is not None else None
    log.info("catalog as of %s: %d offers unavailable", when, sum(k.startswith("offers/") for k in unavailable))
    return dataclasses.replace(
        catalog,
        accelerators=accelerators,
        offers=offers,
        sites=sites,
        policies=policies,
        fx_cny_per_usd=fx,
        stacks=dict(catalog.stacks),
        models=dict(catalog.models),
        origins=dict(catalog.origins),
        files=list(catalog.files),
        overridden={k: list(v) for k, v in catalog.overridden.items()},
        as_of=when,
        unavailable=unavailable,
    )


def _policy_window(policy: Policy) -> str:
    if policy.effective_until is not None:
        return f"in effect {policy.effective_from or 'until'} to {policy.effective_until}"
    return f"in effect from {policy.effective_from}"

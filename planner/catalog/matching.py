"""Which offers a policy rule's ``match`` selects."""

from __future__ import annotations

from planner.models.catalog import Accelerator, Match, Offer


def matches(match: Match, offer: Offer, acc: Accelerator, site: str | None, resolve_acc: dict[str, str]) -> bool:
    """True when every field the match gives agrees with the offer (lists mean any of)."""
    if match.vendor is not None and acc.vendor not in match.vendor:
        return False
    if match.origin is not None and acc.origin != match.origin:
        return False
    if match.accelerator is not None and acc.id not in {resolve_acc.get(a, a) for a in match.accelerator}:
        return False
    if match.offer is not None and offer.id not in match.offer:
        return False
    if match.mode is not None and offer.mode != match.mode:
        return False
    if match.location is not None and offer.location != match.location:
        return False
    if match.region is not None and offer.region not in match.region:
        return False
    return not (match.site is not None and site not in match.site)

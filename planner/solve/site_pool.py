"""Exact site pooling: one serving variable per job and layout of an offer, not per site.

The same purchase offer at several sites gives every job the same layouts at each site: the
same block of units, the same requests/s. Sites differ only in what a unit costs to run, what it
draws, and what may be bought there — all properties of the units, not of the job they serve.
So the model counts blocks per job and offer (``x`` of one representative candidate), and
separately whole blocks of each size per site (``s[g, k, t]``, k units each), tied by

    Σ_{sites g of the offer} s[g, k, t] = Σ_{jobs' layouts of k units} x[c, t]   (placement).

Capacity, energy and spend read ``s``; demand, throughput and bans read ``x``. Any solution
maps back to one block count per job, site and layout (:func:`expand`: blocks of one size are
interchangeable, so fill sites in a fixed order), with the same cost, power and shares — the
pooled model has the same optimum as the per-site model, with about a site-count fewer
serving variables. Used for solving only: explanations keep the per-site model.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from planner.solve.problem import Candidate, Problem


@dataclass(frozen=True)
class SitePools:
    rep_of: dict[str, str]
    """Pooled candidate key -> its representative (the candidate at the first site)."""
    member_at: dict[tuple[str, str], str]
    """(representative, group key) -> the candidate of that layout at that site."""
    sites: dict[tuple[str, int], tuple[str, ...]]
    """(offer, block units) -> the offer's group keys (sites), in order."""
    reps: dict[tuple[str, int], tuple[str, ...]]
    """(offer, block units) -> representatives of that block size, in order."""
    group_of: dict[str, str]
    """Pooled candidate key -> its group (site)."""
    block_of: dict[str, int]
    """Representative -> units per block."""

    @property
    def classes(self) -> list[tuple[str, int]]:
        return sorted(self.sites)


def _layout(c: Candidate) -> tuple[object, ...]:
    """What must agree for two sites' candidates to be the same layout of the same job."""
    return (c.block_units, c.block_devices, c.block_replicas, c.requests_per_s, c.bans, c.shape)


def find(p: Problem) -> SitePools | None:
    """The pooled layouts of ``p`` (banned ones are left out of the model altogether); None when
    nothing pools or a hedge re-allocates per site."""
    if p.hedge is not None:
        return None
    offer_sites: dict[str, set[str]] = defaultdict(set)
    for key, g in p.groups.items():
        if g.mode == "purchase":
            offer_sites[g.offer].add(key)
    by_class: dict[tuple[str, str, str], list[Candidate]] = defaultdict(list)
    for c in p.candidates.values():
        g = p.groups[c.group]
        if c.bans or g.mode != "purchase" or p.job_kind(c) != "inference" or len(offer_sites[g.offer]) < 2:
            continue
        by_class[(g.offer, c.job, c.key.rsplit("#", 1)[-1])].append(c)
    ok_offers = {o for o, s in offer_sites.items() if len(s) >= 2 and _forced_whole(p, s)}
    for (offer, _, _), members in by_class.items():
        if {m.group for m in members} != offer_sites[offer] or len({_layout(m) for m in members}) != 1:
            ok_offers.discard(offer)  # a site lacks the layout or differs: keep this offer per site
    rep_of: dict[str, str] = {}
    group_of: dict[str, str] = {}
    block_of: dict[str, int] = {}
    member_at: dict[tuple[str, str], str] = {}
    reps: dict[tuple[str, int], list[str]] = defaultdict(list)
    for (offer, _, _), members in sorted(by_class.items()):
        if offer not in ok_offers:
            continue
        members.sort(key=lambda m: m.group)
        rep = members[0].key
        for m in members:
            rep_of[m.key] = rep
            group_of[m.key] = m.group
            member_at[(rep, m.group)] = m.key
        reps[(offer, members[0].block_units)].append(rep)
        block_of[rep] = members[0].block_units
    if not rep_of:
        return None
    return SitePools(
        rep_of=rep_of,
        member_at=member_at,
        sites={k: tuple(sorted(offer_sites[k[0]])) for k in reps},
        reps={k: tuple(sorted(v)) for k, v in reps.items()},
        group_of=group_of,
        block_of=block_of,
    )


def _forced_whole(p: Problem, sites: set[str]) -> bool:
    """A 'force' constraint names all of an offer's sites or none, so a representative speaks for all."""
    return all(sites <= set(f.groups) or not (sites & set(f.groups)) for f in p.forced)


def expand(pools: SitePools, values: dict[str, int], periods: int) -> dict[str, int]:
    """Per-site block counts from pooled values: names as in the per-site model."""
    out = {name: v for name, v in values.items() if not name.startswith("s:")}
    for rep in set(pools.rep_of.values()):
        for t in range(periods):
            out.pop(f"x:{rep}@{t}", None)
    for member in pools.rep_of:
        for t in range(periods):
            out[f"x:{member}@{t}"] = 0
    for offer, k in pools.classes:
        for t in range(periods):
            sites = pools.sites[(offer, k)]
            room = [values.get(block_name(g, k, t), 0) for g in sites]
            site = 0
            for rep in pools.reps[(offer, k)]:
                need = values.get(f"x:{rep}@{t}", 0)
                while need > 0 and site < len(room):
                    take = min(need, room[site])
                    if take:
                        out[f"x:{pools.member_at[(rep, sites[site])]}@{t}"] += take
                        room[site] -= take
                        need -= take
                    if room[site] == 0:
                        site += 1
    return out


def collapse(pools: SitePools, solution: dict[str, int], periods: int) -> dict[str, int]:
    """Pooled values from a per-site solution (for hints)."""
    out = dict(solution)
    for member, rep in pools.rep_of.items():
        g = pools.group_of[member]
        for t in range(periods):
            v = solution.get(f"x:{member}@{t}", 0)
            if member != rep:
                out.pop(f"x:{member}@{t}", None)
                out[f"x:{rep}@{t}"] = out.get(f"x:{rep}@{t}", 0) + v
            if v:
                name = block_name(g, pools.block_of[rep], t)
                out[name] = out.get(name, 0) + v
    return out


def block_name(group: str, k: int, t: int) -> str:
    return f"s:{group}#{k}@{t}"

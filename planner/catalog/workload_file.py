"""Read a workload (or fleet) file and check every id it names against the catalog."""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass

from planner.catalog.store import Catalog
from planner.catalog.validation_errors import validate_as
from planner.catalog.yaml_reader import read_yaml
from planner.errors import InputError, InputProblem
from planner.models.catalog import Match, ModelArch
from planner.models.fleet import Fleet
from planner.models.workload import PresetRef, Workload

Path_t = tuple[str | int, ...]
_SINGULAR = {"policies": "policy"}


def load_workload(path: str | os.PathLike[str]) -> Workload | Fleet:
    """Parse and validate a workload file (one workload, or a ``fleet:`` of several)."""
    doc = read_yaml(path)
    if isinstance(doc.data, dict) and "fleet" in doc.data:
        fleet: Fleet = validate_as(Fleet, doc)
        fleet._origin = doc
        return fleet
    workload: Workload = validate_as(Workload, doc)
    workload._origin = doc
    return workload


def as_fleet(inp: Workload | Fleet) -> Fleet:
    return inp if isinstance(inp, Fleet) else Fleet.from_workload(inp)


@dataclass(frozen=True)
class ResolvedFleet:
    """A fleet whose references all exist: the perf and solve layers take this."""

    fleet: Fleet
    single: bool
    """Read from a single-workload file (member paths have no 'fleet[i]' prefix)."""
    archs: dict[str, ModelArch]
    model_names: dict[str, str]
    policy_ids: frozenset[str]
    """Policies in force at the start (defaults, minus exclusions, plus the ones switched on)."""
    sites: tuple[str, ...]
    excluded: frozenset[str]
    member_excluded: dict[str, frozenset[str]]
    forced: frozenset[str] = frozenset()
    """Ids (accelerator, vendor, offer) the plan must use: constraints.force."""


def _locate(inp: Workload | Fleet, path: Path_t) -> tuple[str, int | None]:
    doc = inp._origin
    if doc is None:
        return ("workload", None)
    return (doc.file, doc.line_of(path))


def _dotted(path: Path_t) -> str:
    return ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in path).replace(".[", "[")


class _Refs:
    def __init__(self, inp: Workload | Fleet, catalog: Catalog) -> None:
        self.inp = inp
        self.cat = catalog
        self.problems: list[InputProblem] = []
        self.vendors = sorted({a.vendor for a in catalog.accelerators.values()})

    def unknown(self, path: Path_t, kind: str, ident: str, extra: list[str] | None = None) -> None:
        file, line = _locate(self.inp, path)
        hint_id = self.cat.suggest(kind, ident)
        if extra:
            close = difflib.get_close_matches(ident, extra, n=1, cutoff=0.5)
            hint_id = close[0] if close else hint_id
        self.problems.append(
            InputProblem(
                file=file,
                line=line,
                field=_dotted(path),
                message=f"unknown {_SINGULAR.get(kind, kind.rstrip('s'))} '{ident}'",
                hint=f"did you mean '{hint_id}'?" if hint_id else None,
            )
        )

    def wrong(self, path: Path_t, message: str) -> None:
        file, line = _locate(self.inp, path)
        self.problems.append(InputProblem(file, message, line, _dotted(path)))

    def exclusions(self, idents: list[str], path: Path_t) -> frozenset[str]:
        out: set[str] = set()
        for i, ident in enumerate(idents):
            canon = self.cat.resolve("accelerators", ident)
            if canon is not None:
                out.add(canon)
            elif ident in self.cat.offers or ident in self.vendors:
                out.add(ident)
            else:
                self.unknown((*path, i), "accelerators", ident, extra=self.vendors + list(self.cat.offers))
        return frozenset(out)

    def match(self, m: Match, path: Path_t) -> None:
        for i, acc in enumerate(m.accelerator or []):
            if self.cat.resolve("accelerators", acc) is None:
                self.unknown((*path, "accelerator", i), "accelerators", acc)
        for i, offer in enumerate(m.offer or []):
            if offer not in self.cat.offers:
                self.unknown((*path, "offer", i), "offers", offer)
        for i, site in enumerate(m.site or []):
            if site not in self.cat.sites:
                self.unknown((*path, "site", i), "sites", site)
        for i, vendor in enumerate(m.vendor or []):
            if vendor not in self.vendors:
                self.unknown((*path, "vendor", i), "accelerators", vendor, extra=self.vendors)

    def policy(self, pid: str, path: Path_t) -> bool:
        if pid not in self.cat.policies:
            self.unknown(path, "policies", pid)
            return False
        return True


def resolve(inp: Workload | Fleet, catalog: Catalog) -> ResolvedFleet:
    """Check ids against the catalog; report every unknown id at once, with suggestions."""
    fleet = as_fleet(inp)
    single = not isinstance(inp, Fleet)
    refs = _Refs(inp, catalog)

    def member_path(i: int, *rest: str | int) -> Path_t:
        return tuple(rest) if single else ("fleet", i, *rest)

    archs: dict[str, ModelArch] = {}
    names: dict[str, str] = {}
    member_excluded: dict[str, frozenset[str]] = {}
    for i, m in enumerate(fleet.fleet):
        if isinstance(m.model, PresetRef):
            canon = catalog.resolve("models", m.model.preset)
            if canon is None:
                refs.unknown(member_path(i, "model", "preset"), "models", m.model.preset)
                continue
            archs[m.name], names[m.name] = catalog.models[canon].arch, catalog.models[canon].name
        else:
            archs[m.name], names[m.name] = m.model, "custom model"
        member_excluded[m.name] = refs.exclusions(m.exclude, member_path(i, "exclude"))

    cons = fleet.constraints
    chosen = {p.id for p in catalog.policies.values() if p.default}
    for i, pid in enumerate(cons.exclude_policies):
        if refs.policy(pid, ("constraints", "exclude_policies", i)):
            chosen.discard(pid)
    for i, pid in enumerate(cons.policies):
        if refs.policy(pid, ("constraints", "policies", i)):
            chosen.add(pid)
    for i, event in enumerate(fleet.schedule.events):
        for j, pid in enumerate(event.policy_on):
            refs.policy(pid, ("schedule", "events", i, "policy_on", j))
        for j, pid in enumerate(event.policy_off):
            refs.policy(pid, ("schedule", "events", i, "policy_off", j))
    for i, trend in enumerate(fleet.schedule.price_trends):
        refs.match(trend.match, ("schedule", "price_trends", i, "match"))
    for i, cap in enumerate(fleet.schedule.supply):
        refs.match(cap.match, ("schedule", "supply", i, "match"))
    if fleet.hedge is not None:
        refs.match(fleet.hedge.lose, ("hedge", "lose"))

    priced = sorted(
        s.id
        for s in catalog.sites.values()
        if s.location == "onshore" and s.electricity_price is not None and s.electricity_price.value is not None
    )
    sites = tuple(fleet.sites) if fleet.sites is not None else tuple(priced)
    for i, sid in enumerate(fleet.sites or []):
        if sid not in catalog.sites:
            refs.unknown(("sites", i), "sites", sid)
        elif catalog.sites[sid].location != "onshore":
            refs.wrong(("sites", i), f"'{sid}' is an offshore site; purchases go to onshore sites")
    for sid in cons.site_power_kw:
        if sid not in catalog.sites:
            refs.unknown(("constraints", "site_power_kw", sid), "sites", sid)
    excluded = refs.exclusions(cons.exclude, ("constraints", "exclude"))
    forced = refs.exclusions(cons.force, ("constraints", "force"))
    for i, item in enumerate(fleet.existing_fleet):
        if item.offer not in catalog.offers:
            refs.unknown(("existing_fleet", i, "offer"), "offers", item.offer)
        elif catalog.offers[item.offer].mode != "purchase":
            refs.wrong(("existing_fleet", i, "offer"), "an existing fleet is owned hardware: name a purchase offer")
        if item.site is not None and item.site not in catalog.sites:
            refs.unknown(("existing_fleet", i, "site"), "sites", item.site)
    if not sites and fleet.existing_fleet and any(item.site is None for item in fleet.existing_fleet):
        refs.wrong(("existing_fleet",), "existing fleet units need a site")
    if refs.problems:
        raise InputError(refs.problems)
    return ResolvedFleet(
        fleet=fleet,
        single=single,
        archs=archs,
        model_names=names,
        policy_ids=frozenset(chosen),
        sites=sites,
        excluded=excluded,
        member_excluded=member_excluded,
        forced=forced,
    )

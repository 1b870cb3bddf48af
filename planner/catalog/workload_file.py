"""Read a workload file and check every id it names against the catalog."""

from __future__ import annotations

import os
from dataclasses import dataclass

from planner.catalog.store import Catalog
from planner.catalog.validation_errors import validate_as
from planner.catalog.yaml_reader import read_yaml
from planner.errors import InputError, InputProblem
from planner.models.catalog import ModelArch, Policy
from planner.models.workload import PresetRef, Workload


def load_workload(path: str | os.PathLike[str]) -> Workload:
    """Parse and validate a workload file; errors name the file, line and field."""
    doc = read_yaml(path)
    if isinstance(doc.data, dict) and "fleet" in doc.data:
        raise InputError.single(
            doc.file, "'fleet:' files are not supported yet; give one workload per file", line=doc.line_of(("fleet",))
        )
    workload: Workload = validate_as(Workload, doc)
    workload._origin = doc
    return workload


@dataclass(frozen=True)
class ResolvedWorkload:
    """A workload whose references all exist: the perf and solve layers take this."""

    workload: Workload
    arch: ModelArch
    model_name: str
    policies: tuple[Policy, ...]
    sites: tuple[str, ...]
    excluded: frozenset[str]


def _locate(workload: Workload, path: tuple[str | int, ...]) -> tuple[str, int | None]:
    doc = workload._origin
    if doc is None:
        return ("workload", None)
    return (doc.file, doc.line_of(path))


def resolve(workload: Workload, catalog: Catalog) -> ResolvedWorkload:
    """Check ids against the catalog; report every unknown id with a suggestion."""
    problems: list[InputProblem] = []

    def unknown(path: tuple[str | int, ...], kind: str, ident: str, extra: list[str] | None = None) -> None:
        file, line = _locate(workload, path)
        hint_id = catalog.suggest(kind, ident)
        if extra:
            import difflib

            close = difflib.get_close_matches(ident, extra, n=1, cutoff=0.5)
            hint_id = close[0] if close else hint_id
        problems.append(
            InputProblem(
                file=file,
                line=line,
                field=".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in path).replace(".[", "["),
                message=f"unknown {kind.rstrip('s')} '{ident}'",
                hint=f"did you mean '{hint_id}'?" if hint_id else None,
            )
        )

    # model
    if isinstance(workload.model, PresetRef):
        canon = catalog.resolve("models", workload.model.preset)
        if canon is None:
            unknown(("model", "preset"), "models", workload.model.preset)
            arch, name = None, workload.model.preset
        else:
            arch, name = catalog.models[canon].arch, catalog.models[canon].name
    else:
        arch, name = workload.model, "custom model"

    # policies
    cons = workload.constraints
    chosen: dict[str, Policy] = {p.id: p for p in catalog.policies.values() if p.default}
    for i, pid in enumerate(cons.exclude_policies):
        if pid not in catalog.policies:
            unknown(("constraints", "exclude_policies", i), "policies", pid)
        chosen.pop(pid, None)
    for i, pid in enumerate(cons.policies):
        if pid not in catalog.policies:
            unknown(("constraints", "policies", i), "policies", pid)
        else:
            chosen[pid] = catalog.policies[pid]

    # sites
    onshore = sorted(
        s.id
        for s in catalog.sites.values()
        if s.location == "onshore" and s.electricity_price is not None and s.electricity_price.value is not None
    )
    sites = tuple(workload.sites) if workload.sites is not None else tuple(onshore)
    for i, sid in enumerate(workload.sites or []):
        if sid not in catalog.sites:
            unknown(("sites", i), "sites", sid)
        elif catalog.sites[sid].location != "onshore":
            file, line = _locate(workload, ("sites", i))
            problems.append(
                InputProblem(file, f"'{sid}' is an offshore site; purchases go to onshore sites", line, f"sites[{i}]")
            )
    for sid in cons.site_power_kw:
        if sid not in catalog.sites:
            unknown(("constraints", "site_power_kw", sid), "sites", sid)

    # exclusions: accelerator, vendor or offer ids (aliases allowed)
    vendors = sorted({a.vendor for a in catalog.accelerators.values()})
    excluded: set[str] = set()
    for i, ident in enumerate(cons.exclude):
        canon = catalog.resolve("accelerators", ident)
        if canon is not None:
            excluded.add(canon)
        elif ident in catalog.offers or ident in vendors:
            excluded.add(ident)
        else:
            unknown(("constraints", "exclude", i), "accelerators", ident, extra=vendors + list(catalog.offers))

    # existing fleet
    for i, item in enumerate(workload.existing_fleet):
        if item.offer not in catalog.offers:
            unknown(("existing_fleet", i, "offer"), "offers", item.offer)
        elif catalog.offers[item.offer].mode != "purchase":
            file, line = _locate(workload, ("existing_fleet", i, "offer"))
            problems.append(
                InputProblem(file, "an existing fleet is owned hardware: name a purchase offer", line, f"existing_fleet[{i}].offer")
            )
        if item.site is not None and item.site not in catalog.sites:
            unknown(("existing_fleet", i, "site"), "sites", item.site)

    if problems:
        raise InputError(problems)
    assert arch is not None  # guaranteed when no problems were recorded
    return ResolvedWorkload(
        workload=workload,
        arch=arch,
        model_name=name,
        policies=tuple(chosen[k] for k in sorted(chosen)),
        sites=sites,
        excluded=frozenset(excluded),
    )

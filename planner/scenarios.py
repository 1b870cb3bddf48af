"""What-if scenarios: a workload and catalog changed in a named, reviewable way.

A scenario file (YAML) holds one scenario, or several under ``scenarios:``::

    name: nvidia-plus-20
    description: NVIDIA list prices 20 % higher than the catalog's.
    set: {constraints.domestic_share.min: 0.7}     # any workload field, by dotted path
    levy: 0.5                                       # every export-levy rule's rate
    price: [{vendor: nvidia, factor: 1.2}]          # or {offer: id} / {accelerator: id}
    exclude: [nvidia-h200-sxm-141gb]                # accelerator, vendor or offer ids
    policies: [state-cloud-50]                      # switch policy packs on ...
    exclude_policies: [us-h200-levy-25]             # ... or off
    origins: [foreign]                              # narrow the workload's allowed origins,
    vendors: [nvidia]                               #   vendors, locations and modes
    locations: [onshore]
    modes: [purchase]

Scenarios never touch the caller's objects: the workload is re-validated from a dump and the
catalog is a shallow copy whose changed entries are ``model_copy``-ed, so one catalog can serve
many scenarios in a loop.
"""

from __future__ import annotations

import dataclasses
import difflib
import logging
import os
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, PrivateAttr, ValidationError, field_validator, model_validator

from planner.catalog.store import Catalog
from planner.catalog.validation_errors import validate_as
from planner.catalog.yaml_reader import Path_t, YamlDocument, dotted, read_yaml
from planner.errors import InputError, InputProblem
from planner.models.base import Strict
from planner.models.catalog import Location, Mode, Origin
from planner.models.fleet import Fleet
from planner.models.workload import Workload

log = logging.getLogger(__name__)

BUILTIN_NAMES = ("optimum", "all-nvidia", "all-domestic", "onshore-only", "purchase-only")


class PriceChange(Strict):
    """Multiply the catalog price of matching offers (unit or device-hour price) by ``factor``."""

    offer: str | None = None
    accelerator: str | None = None
    vendor: str | None = None
    factor: float = Field(gt=0, le=100)

    @model_validator(mode="after")
    def _one_selector(self) -> PriceChange:
        given = [k for k in ("offer", "accelerator", "vendor") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("name exactly one of offer, accelerator or vendor")
        return self

    @property
    def selector(self) -> tuple[str, str]:
        for key in ("offer", "accelerator", "vendor"):
            value = getattr(self, key)
            if value is not None:
                return key, value
        raise AssertionError("validated to have one selector")


class Scenario(Strict):
    """One named change to a workload and its catalog (see the module docstring)."""

    name: str = Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9][A-Za-z0-9 _.+%=:/\-]*$")
    description: str | None = Field(default=None, max_length=500)
    set: dict[str, Any] = Field(default_factory=dict, description="workload fields by dotted path")
    levy: float | None = Field(default=None, ge=0, le=2, description="rate of every export-levy rule")
    price: list[PriceChange] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    policies: list[str] = Field(default_factory=list)
    exclude_policies: list[str] = Field(default_factory=list)
    origins: list[Origin] | None = None
    vendors: list[str] | None = None
    locations: list[Location] | None = None
    modes: list[Mode] | None = None

    _doc: YamlDocument | None = PrivateAttr(default=None)
    _prefix: Path_t = PrivateAttr(default=())

    @field_validator("price", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict) else value

    # ---- where the scenario came from, for error messages ---------------------------------
    def locate(self, *path: str | int) -> tuple[str, int | None]:
        """File and line of a field of this scenario (or a stand-in name for built-ins)."""
        if self._doc is None:
            return (f"scenario '{self.name}'", None)
        return (self._doc.file, self._doc.line_of((*self._prefix, *path)))

    @property
    def file(self) -> str | None:
        return self._doc.file if self._doc is not None else None


class ScenarioFile(Strict):
    scenarios: list[Scenario] = Field(min_length=1)


# ---- dotted workload paths ------------------------------------------------------------------
def _inner_types(annotation: Any) -> list[Any]:
    """Strip Optional / Annotated / unions down to the candidate types."""
    out: list[Any] = []
    stack = [annotation]
    while stack:
        ann = stack.pop()
        origin = typing.get_origin(ann)
        if origin is typing.Annotated:
            stack.append(typing.get_args(ann)[0])
        elif origin in (typing.Union, types.UnionType):
            stack.extend(a for a in typing.get_args(ann) if a is not type(None))
        else:
            out.append(ann)
    return out


def check_workload_path(path: str, root: type[BaseModel] | None = None) -> None:
    """Raise ValueError unless ``path`` names a field of a workload (or fleet) file (``constraints.power_kw``)."""
    if root is None:  # not known yet: a field of either file shape will do
        try:
            check_workload_path(path, Workload)
        except ValueError:
            try:
                check_workload_path(path, Fleet)
            except ValueError:
                check_workload_path(path, Workload)  # the workload's message is the likelier help
        return
    parts = path.split(".")
    if any(not p for p in parts):
        raise ValueError(f"'{path}' is not a dotted field path such as constraints.power_kw")
    current: list[Any] = [root]
    walked: list[str] = []
    for part in parts:
        models = [t for t in current if isinstance(t, type) and issubclass(t, BaseModel)]
        dicts = [t for t in current if typing.get_origin(t) is dict]
        if dicts and not models:
            current = _inner_types(typing.get_args(dicts[0])[1])
        elif models:
            fields = {name: info for m in models for name, info in m.model_fields.items()}
            if part not in fields:
                close = difflib.get_close_matches(part, list(fields), n=1, cutoff=0.6)
                hint = f"; did you mean '{'.'.join([*walked, close[0]])}'?" if close else ""
                raise ValueError(f"'{path}': no workload field '{'.'.join([*walked, part])}'{hint}")
            current = _inner_types(fields[part].annotation)
        else:
            raise ValueError(f"'{path}': '{'.'.join(walked)}' has no fields below it")
        walked.append(part)


def _set_path(data: dict[str, Any], path: str, value: Any) -> None:
    node = data
    parts = path.split(".")
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value


# ---- loading --------------------------------------------------------------------------------
def load_scenarios(path: str | os.PathLike[str]) -> list[Scenario]:
    """Read a scenario file (one scenario, or a list under ``scenarios:``), or every *.yaml in a folder."""
    p = Path(path)
    if p.is_dir():
        files = sorted(p.glob("*.yaml")) + sorted(p.glob("*.yml"))
        if not files:
            raise InputError.single(str(path), "folder holds no *.yaml scenario files")
        return [s for f in files for s in load_scenarios(f)]
    doc = read_yaml(p)
    if isinstance(doc.data, dict) and "scenarios" in doc.data:
        parsed: ScenarioFile = validate_as(ScenarioFile, doc)
        found = parsed.scenarios
        for i, scenario in enumerate(found):
            scenario._doc, scenario._prefix = doc, ("scenarios", i)
    else:
        one: Scenario = validate_as(Scenario, doc)
        one._doc = doc
        found = [one]
    for scenario in found:
        check_set_paths(scenario)
    return found


def check_set_paths(scenario: Scenario, root: type[BaseModel] | None = None) -> None:
    """Every ``set`` key must name a workload field; errors point at the key's line."""
    problems = []
    for key in scenario.set:
        try:
            check_workload_path(key, root)
        except ValueError as exc:
            file, line = scenario.locate("set", key)
            problems.append(InputProblem(file, str(exc), line, f"set.{key}"))
    if problems:
        raise InputError(problems)


def check_names(scenarios: list[Scenario]) -> None:
    """Scenario names become column headers: they must be unique and not shadow a built-in."""
    seen: dict[str, Scenario] = {}
    problems: list[InputProblem] = []
    for s in scenarios:
        file, line = s.locate("name")
        if s.name in BUILTIN_NAMES:
            problems.append(InputProblem(file, f"'{s.name}' is a built-in option name; choose another", line, "name"))
        elif s.name in seen:
            first_file, first_line = seen[s.name].locate("name")
            where = f"{first_file}:{first_line}" if first_line else first_file
            problems.append(InputProblem(file, f"duplicate scenario name '{s.name}' (first in {where})", line, "name"))
        else:
            seen[s.name] = s
    if problems:
        raise InputError(problems)


# ---- applying -------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Applied:
    """A scenario's workload and catalog, or why it cannot be posed at all (then both None)."""

    workload: Workload | Fleet | None
    catalog: Catalog | None
    reason: str | None = None


def _vendors(catalog: Catalog) -> list[str]:
    return sorted({a.vendor for a in catalog.accelerators.values()})


def _check_ids(scenario: Scenario, catalog: Catalog) -> None:
    """Every id a scenario names must exist in the catalog; report all at once, located."""
    problems: list[InputProblem] = []
    vendors = _vendors(catalog)

    def bad(path: tuple[str | int, ...], what: str, ident: str, names: list[str]) -> None:
        file, line = scenario.locate(*path)
        close = difflib.get_close_matches(ident, names, n=1, cutoff=0.5)
        problems.append(
            InputProblem(
                file, f"unknown {what} '{ident}'", line, dotted(path), f"did you mean '{close[0]}'?" if close else None
            )
        )

    ids = list(catalog.accelerators) + list(catalog.offers) + vendors
    for i, ident in enumerate(scenario.exclude):
        if catalog.resolve("accelerators", ident) is None and ident not in catalog.offers and ident not in vendors:
            bad(("exclude", i), "accelerator, vendor or offer", ident, ids)
    for key in ("policies", "exclude_policies"):
        for i, pid in enumerate(getattr(scenario, key)):
            if pid not in catalog.policies:
                bad((key, i), "policy", pid, list(catalog.policies))
    for i, vendor in enumerate(scenario.vendors or []):
        if vendor not in vendors:
            bad(("vendors", i), "vendor", vendor, vendors)
    for i, change in enumerate(scenario.price):
        kind, ident = change.selector
        known = {
            "offer": ident in catalog.offers,
            "accelerator": catalog.resolve("accelerators", ident) is not None,
            "vendor": ident in vendors,
        }[kind]
        if not known:
            names = {"offer": list(catalog.offers), "accelerator": list(catalog.accelerators), "vendor": vendors}[kind]
            bad(("price", i, kind), kind, ident, names)
    if problems:
        raise InputError(problems)


def _narrow(scenario: Scenario, workload: Workload | Fleet, catalog: Catalog, data: dict[str, Any]) -> str | None:
    """Intersect the workload's origins/locations/modes/vendors with the scenario's; a reason if empty."""
    cons = data["constraints"]
    if scenario.origins is not None:
        keep = [o for o in cons["allowed_origins"] if o in scenario.origins]
        if not keep:
            return f"the workload allows only {', '.join(cons['allowed_origins'])} parts"
        cons["allowed_origins"] = keep
    if scenario.locations is not None:
        keep = [loc for loc in cons["allowed_locations"] if loc in scenario.locations]
        if not keep:
            return f"the workload allows only {', '.join(cons['allowed_locations'])} capacity"
        cons["allowed_locations"] = keep
    if scenario.modes is not None:
        cons["allow_rental"] = bool(cons["allow_rental"] and "rental" in scenario.modes)
        cons["allow_purchase"] = bool(cons["allow_purchase"] and "purchase" in scenario.modes)
        if not (cons["allow_rental"] or cons["allow_purchase"]):
            return "the workload already rules out " + " and ".join(scenario.modes)
    if scenario.vendors is not None:
        origins = set(cons["allowed_origins"])
        others = sorted(
            {a.vendor for a in catalog.accelerators.values() if a.origin in origins} - set(scenario.vendors)
        )
        if set(scenario.vendors) <= set(workload.constraints.exclude):
            return f"the workload excludes {', '.join(scenario.vendors)}"
        cons["exclude"] = list(dict.fromkeys([*cons["exclude"], *others]))
    return None


def _scenario_catalog(scenario: Scenario, catalog: Catalog) -> Catalog:
    """A copy of ``catalog`` with the scenario's levy and prices; untouched entries are shared."""
    if scenario.levy is None and not scenario.price:
        return catalog
    offers = dict(catalog.offers)
    policies = dict(catalog.policies)
    if scenario.levy is not None:
        changed = 0
        for pid, policy in catalog.policies.items():
            if any(r.kind == "levy" for r in policy.rules):
                rules = [r.model_copy(update={"rate": scenario.levy}) if r.kind == "levy" else r for r in policy.rules]
                policies[pid] = policy.model_copy(update={"rules": rules})
                changed += 1
        if not changed:
            log.warning("scenario %s sets a levy but the catalog has no levy rule", scenario.name)
    vendor_of = {a.id: a.vendor for a in catalog.accelerators.values()}
    for change in scenario.price:
        kind, ident = change.selector
        if kind == "accelerator":
            ident = catalog.resolve("accelerators", ident) or ident
        for oid, offer in offers.items():
            hit = {
                "offer": oid == ident,
                "accelerator": offer.accelerator == ident,
                "vendor": vendor_of.get(offer.accelerator) == ident,
            }[kind]
            if hit and offer.price.value is not None:
                price = offer.price.model_copy(update={"value": offer.price.value * change.factor})
                offers[oid] = offer.model_copy(update={"price": price})
    return dataclasses.replace(catalog, offers=offers, policies=policies)


def _revalidate(scenario: Scenario, data: dict[str, Any], model: type[Workload] | type[Fleet]) -> Workload | Fleet:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err.get("loc", ()))
            key = next((k for k in scenario.set if loc.startswith(k) or k.startswith(loc)), None)
            file, line = scenario.locate("set", key) if key else scenario.locate()
            msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
            given = err.get("input")
            if isinstance(given, (int, float, str, bool)):
                msg += f"; got {given!r}"
            if loc and loc != key:
                msg = f"{loc}: {msg}"
            problems.append(InputProblem(file, msg, line, f"set.{key}" if key else None))
        raise InputError(problems) from None


def apply_scenario(workload: Workload | Fleet, catalog: Catalog, scenario: Scenario) -> Applied:
    """The workload and catalog a scenario describes; neither argument is modified."""
    check_set_paths(scenario, type(workload))
    _check_ids(scenario, catalog)
    data = workload.model_dump()
    cons = data["constraints"]
    reason = _narrow(scenario, workload, catalog, data)
    if reason is not None:
        return Applied(None, None, reason)
    cons["exclude"] = list(dict.fromkeys([*cons["exclude"], *scenario.exclude]))
    cons["policies"] = list(dict.fromkeys([*cons["policies"], *scenario.policies]))
    cons["exclude_policies"] = list(dict.fromkeys([*cons["exclude_policies"], *scenario.exclude_policies]))
    for key, value in scenario.set.items():
        _set_path(data, key, value)
    changed = _revalidate(scenario, data, type(workload))
    changed._origin = workload._origin  # errors about the workload's own ids still name its file
    return Applied(changed, _scenario_catalog(scenario, catalog))


def builtin_options() -> list[Scenario]:
    """The options every comparison shows: the optimum and four single-lever fleets."""
    return [
        Scenario(name="optimum", description="the workload as written"),
        Scenario(name="all-nvidia", description="NVIDIA parts only", origins=["foreign"], vendors=["nvidia"]),
        Scenario(name="all-domestic", description="domestic parts only", origins=["domestic"]),
        Scenario(name="onshore-only", description="no offshore capacity", locations=["onshore"]),
        Scenario(name="purchase-only", description="no rentals", modes=["purchase"]),
    ]

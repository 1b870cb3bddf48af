"""Turn a fix found on the prepared problem into a change a user can make, and check it.

A fix says "the total budget must reach 14,213,456 USD"; the user edits a workload file (or
adds an ``overrides:`` entry to a catalog file). This module writes that edit — the workload
path and its new value, in the workload's own units and currency, or the catalog override —
applies it to a copy of the inputs, prepares them again and solves for feasibility. Only a
change that gives a plan this way is suggested; rounding is always in the user's favour.
"""

from __future__ import annotations

import copy
import logging
import math
import re
from dataclasses import dataclass
from typing import Any

from planner.catalog.store import Catalog
from planner.catalog.workload_file import as_fleet
from planner.errors import InputError
from planner.models.catalog import CapRule, ShareFloorRule, TieInRule
from planner.models.fleet import Fleet, Member
from planner.models.plan import Repair
from planner.models.workload import Workload
from planner.solve import probe
from planner.solve.limits import demand_job
from planner.solve.prepare import prepare
from planner.solve.problem import Problem
from planner.solve.repair import Fix
from planner.solve.run import SolverOptions

log = logging.getLogger(__name__)

Edits = list[dict[str, Any]]
Override = dict[str, Any] | None


@dataclass
class Inputs:
    """What the user wrote: the workload (or fleet) and the catalog it was planned against."""

    inp: Workload | Fleet
    catalog: Catalog
    options: SolverOptions

    @property
    def fleet(self) -> Fleet:
        return as_fleet(self.inp)

    def member(self, job: str) -> tuple[str, Member]:
        """Path prefix of one workload inside the file ('' for a single-workload file), and the member."""
        for i, m in enumerate(self.fleet.fleet):
            if m.name == job:
                return ("" if isinstance(self.inp, Workload) else f"fleet[{i}]."), m
        raise KeyError(job)

    def feasible(self, edits: Edits, override: Override, hint: dict[str, int] | None = None) -> bool:
        """Re-prepare the edited inputs and solve for any plan (from ``hint``, a plan that may
        already meet them: a limit moved to just what a plan needs is as hard to meet as to find)."""
        try:
            inp = apply_edits(self.inp, edits)
            cat = apply_override(self.catalog, override) if override else self.catalog
            problem = prepare(inp, cat)
        except (InputError, ValueError) as exc:
            log.info("edit %s %s rejected: %s", edits, override, exc)
            return False
        if not problem.candidates:
            return False
        return probe.feasibility(problem, self.options, hint=hint).feasible


# ---- applying edits ---------------------------------------------------------------------------
_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _segments(path: str) -> list[str | int]:
    return [int(idx) if idx else name for name, idx in _SEGMENT.findall(path)]


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Set ``value`` at a dotted path ('constraints.budget.total', 'fleet[0].slo.tpot_ms')."""
    segs = _segments(path)
    node: Any = data
    for seg in segs[:-1]:
        nxt = node[seg] if isinstance(seg, int) else node.get(seg)
        if nxt is None:
            nxt = {}
            node[seg] = nxt
        node = nxt
    node[segs[-1]] = value


def apply_edits(inp: Workload | Fleet, edits: Edits) -> Workload | Fleet:
    """A validated copy of the workload with each {path, value} set."""
    data = inp.model_dump(mode="json")
    for edit in edits:
        set_path(data, edit["path"], copy.deepcopy(edit["value"]))
    out = type(inp).model_validate(data)
    out._origin = None
    return out


def apply_override(catalog: Catalog, override: dict[str, Any]) -> Catalog:
    """A copy of the catalog with one ``overrides:`` entry applied (target kind/id, set path -> value)."""
    kind, ident = override["target"].split("/", 1)
    out = copy.copy(catalog)
    table = dict(getattr(catalog, kind))
    entry = table[ident]
    data = entry.model_dump(mode="json")
    for path, value in override["set"].items():
        set_path(data, path, value)
    table[ident] = type(entry).model_validate(data)
    setattr(out, kind, table)
    return out


# ---- from a fix to an edit -----------------------------------------------------------------------
NOT_LEAST = (
    " (enough; the search hit its time limit before proving that no smaller change is:"
    " a longer time limit may find one)"
)
"""Said of a repair whose smallest-move search did not finish (repair.Fix.least)."""


def worded(text: str, fix: Fix) -> str:
    """A repair's text, saying so when its move is not proven the least."""
    return text if fix.least else text + NOT_LEAST


def repair(src: Inputs, problem: Problem, fix: Fix) -> Repair | None:
    """The checked user-facing change for one fix, or None if none restores a plan when applied."""
    for value in _tries(fix):
        change = _change(src, problem, fix, value)
        if change is None:
            return None
        edits, override = change
        if src.feasible(edits, override, hint=fix.plan):
            return Repair(
                constraint=fix.name,
                action=fix.action,
                current=fix.current,
                required=value,
                unit=fix.unit,
                text=worded(_text(src, problem, fix, value), fix),
                workload_edits=edits,
                catalog_override=override,
                verified=True,
                least=fix.least,
            )
    log.info("no verified edit for %s", fix)
    return None


def _tries(fix: Fix) -> list[float | None]:
    """The exact value first, then a little slack in the user's favour (rounding in re-preparation)."""
    v = fix.required
    if v is None:
        return [None]
    if fix.action == "raise":
        return [v, v * 1.0001 + 1, v * 1.01 + 1]
    return [v, v * 0.9999, v * 0.99]


def _change(src: Inputs, problem: Problem, fix: Fix, value: float | None) -> tuple[Edits, Override] | None:
    name = fix.name
    family, _, entity = name.partition(":")
    cons = src.fleet.constraints
    if fix.action == "remove" or fix.action == "add":
        return _removal(src, name)
    assert value is not None
    if family == "budget":
        assert cons.budget is not None
        amount = math.ceil(src.catalog.convert(value, "USD", cons.budget.currency) - 1e-9)
        return [{"path": f"constraints.budget.{entity}", "value": amount}], None
    if family == "power":
        kw = math.ceil(value * 10 - 1e-6) / 10
        if entity == "total":
            return [{"path": "constraints.power_kw", "value": kw}], None
        return [{"path": "constraints.site_power_kw", "value": {**cons.site_power_kw, entity: kw}}], None
    if family == "supply":
        units = math.ceil(value - 1e-9)
        if entity.startswith("schedule["):
            i = int(entity[len("schedule[") : -1])
            sched = src.fleet.schedule.supply[i]
            shift = units - int(fix.current or 0)
            return [
                {"path": f"schedule.supply[{i}].units_per_period", "value": [u + shift for u in sched.units_per_period]}
            ], None
        return [], {"target": f"offers/{entity}", "set": {"supply_cap_units.value": units}}
    if family == "policy":
        return _policy_number(src, problem, entity, fix, value)
    if family == "domestic_share":
        share = math.floor(value * 10_000 + 1e-6) / 10_000
        if entity == "workload":
            edits: Edits = []
            if cons.domestic_share is not None and cons.domestic_share.min > share:
                edits.append({"path": "constraints.domestic_share.min", "value": share})
            if isinstance(src.inp, Fleet):
                for i, e in enumerate(src.fleet.schedule.events):
                    if e.domestic_share_min is not None and e.domestic_share_min > share:
                        edits.append({"path": f"schedule.events[{i}].domestic_share_min", "value": share})
            return edits, None
        rules = src.catalog.policies[entity].rules
        sets = {f"rules[{j}].min": min(r.min, share) for j, r in enumerate(rules) if isinstance(r, ShareFloorRule)}
        return [], {"target": f"policies/{entity}", "set": sets}
    if family == "hedge":
        frac = math.floor(value * 10_000 + 1e-6) / 10_000
        if frac <= 0:
            return [{"path": "hedge", "value": None}], None
        return [{"path": "hedge.serve_fraction", "value": frac}], None
    if family == "demand":
        job = demand_job(problem, name)
        if job is None or fix.current is None or fix.current <= 0:
            return None
        prefix, member = src.member(job)
        assert member.traffic is not None
        base = member.traffic.requests_per_s * value / fix.current
        rps = math.floor(base * 1000) / 1000
        if rps <= 0:
            return None
        return [{"path": f"{prefix}traffic.requests_per_s", "value": rps}], None
    if family == "cluster":
        devices = math.ceil(value - 1e-9)
        if entity == "workload":
            return [{"path": "constraints.max_cluster_devices", "value": devices}], None
        return [], {"target": f"offers/{entity}", "set": {"max_cluster_devices.value": devices}}
    return None


def _policy_number(src: Inputs, problem: Problem, pid: str, fix: Fix, value: float) -> tuple[Edits, Override] | None:
    rules = src.catalog.policies[pid].rules
    if any(t.name == fix.name for t in problem.tie_ins):
        ratio = math.floor(value * 10_000 + 1e-6) / 10_000
        return [], {
            "target": f"policies/{pid}",
            "set": {f"rules[{j}].ratio": ratio for j, r in enumerate(rules) if isinstance(r, TieInRule)},
        }
    shift = math.ceil(value - 1e-9) - int(fix.current or 0)
    sets = {f"rules[{j}].max_units": r.max_units + shift for j, r in enumerate(rules) if isinstance(r, CapRule)}
    return ([], {"target": f"policies/{pid}", "set": sets}) if sets else None


def _removal(src: Inputs, name: str) -> tuple[Edits, Override] | None:
    family, _, entity = name.partition(":")
    fleet = src.fleet
    cons = fleet.constraints
    if family == "exclude":
        ident, _, job = entity.partition("@")
        if job:
            prefix, member = src.member(job)
            kept = [e for e in member.exclude if _canonical(src, e) != ident]
            return [{"path": f"{prefix}exclude", "value": kept}], None
        kept = [e for e in cons.exclude if _canonical(src, e) != ident]
        return [{"path": "constraints.exclude", "value": kept}], None
    if family == "force":
        return [{"path": "constraints.force", "value": [e for e in cons.force if _canonical(src, e) != entity]}], None
    if family == "allow":
        what, _, job = entity.partition("@")
        if job:
            prefix, member = src.member(job)
            return [{"path": f"{prefix}allowed_locations", "value": [*(member.allowed_locations or []), what]}], None
        if what in ("rental", "purchase"):
            return [{"path": f"constraints.allow_{what}", "value": True}], None
        if what in ("domestic", "foreign"):
            return [{"path": "constraints.allowed_origins", "value": [*cons.allowed_origins, what]}], None
        return [{"path": "constraints.allowed_locations", "value": [*cons.allowed_locations, what]}], None
    if family in ("policy", "residency", "domestic_share") and entity in src.catalog.policies:
        return _policy_off(src, entity), None
    if family == "requires" and entity in src.catalog.policies:
        edits: Edits = [{"path": "constraints.policies", "value": [*cons.policies, entity]}]
        if entity in cons.exclude_policies:
            kept = [p for p in cons.exclude_policies if p != entity]
            edits.append({"path": "constraints.exclude_policies", "value": kept})
        return edits, None
    return None


def _policy_off(src: Inputs, pid: str) -> Edits:
    cons = src.fleet.constraints
    edits: Edits = []
    if pid in cons.policies:
        edits.append({"path": "constraints.policies", "value": [p for p in cons.policies if p != pid]})
    if src.catalog.policies[pid].default and pid not in cons.exclude_policies:
        edits.append({"path": "constraints.exclude_policies", "value": [*cons.exclude_policies, pid]})
    if isinstance(src.inp, Fleet):
        for i, e in enumerate(src.fleet.schedule.events):
            if pid in e.policy_on:
                edits.append({"path": f"schedule.events[{i}].policy_on", "value": [p for p in e.policy_on if p != pid]})
    return edits


def _canonical(src: Inputs, ident: str) -> str:
    return src.catalog.resolve("accelerators", ident) or ident


# ---- words ------------------------------------------------------------------------------------
def _up(value: float, digits: int = 2) -> float:
    scale = 10**digits
    return math.ceil(value * scale - 1e-9) / scale


def money_text(usd: float) -> str:
    """Rounded up, so the amount shown is always enough."""
    if usd >= 1e6:
        return f"{_up(usd / 1e6):,.2f} M USD"
    return f"{math.ceil(usd):,.0f} USD"


def power_text(kw: float) -> str:
    return f"{_up(kw / 1000, 2):,.2f} MW" if kw >= 1000 else f"{_up(kw, 1):,.1f} kW"


def _text(src: Inputs, problem: Problem, fix: Fix, value: float | None) -> str:
    family, _, entity = fix.name.partition(":")
    if fix.action in ("remove", "add"):
        return _removal_text(src, fix.name)
    assert value is not None and fix.current is not None
    if family == "budget":
        label = "total budget" if entity == "total" else "capex budget"
        return f"{label} ≥ {money_text(value)} (now {money_text(fix.current)})"
    if family == "power":
        where = "across all sites" if entity == "total" else f"at {entity}"
        return f"power {where} ≥ {power_text(value)} (now {power_text(fix.current)})"
    if family == "supply":
        units = math.ceil(value - 1e-9)
        if entity.startswith("schedule["):
            more = units - int(fix.current)
            return f"{entity.replace('schedule', 'scheduled supply')}: +{more} units in every period"
        return f"supply cap of {entity} ≥ {units:,} units (now {int(fix.current):,})"
    if family == "policy":
        if any(t.name == fix.name for t in problem.tie_ins):
            return f"tie-in ratio of policy '{entity}' ≤ {math.floor(value * 10_000) / 10_000:g} (now {fix.current:g})"
        return f"unit cap of policy '{entity}' ≥ {math.ceil(value - 1e-9):,} units (now {int(fix.current):,})"
    if family == "domestic_share":
        which = "the workload's domestic floor" if entity == "workload" else f"the domestic floor of policy '{entity}'"
        share = math.floor(value * 10_000 + 1e-6) / 10_000
        return f"{which} ≤ {share:.4g} (now {fix.current:.4g})" + (": drop it" if share == 0 else "")
    if family == "hedge":
        return f"hedge serve fraction ≤ {math.floor(value * 10_000 + 1e-6) / 10_000:.4g} (now {fix.current:.4g})"
    if family == "demand":
        job = demand_job(problem, fix.name) or ""
        return f"requests/s of '{job}' at peak ≤ {math.floor(value * 1000) / 1000:,.6g} (now {fix.current:,.6g})"
    if family == "cluster":
        which = "the workload's cluster cap" if entity == "workload" else f"the cluster cap of {entity}"
        return f"{which} ≥ {math.ceil(value - 1e-9):,} devices (now {int(fix.current):,})"
    return f"{fix.name}: {fix.action} to {value:g}"


def _removal_text(src: Inputs, name: str) -> str:
    family, _, entity = name.partition(":")
    if family == "exclude":
        ident, _, job = entity.partition("@")
        return f"let '{job}' use {ident}" if job else f"stop excluding {ident}"
    if family == "force":
        return f"stop forcing {entity}"
    if family == "allow":
        what, _, job = entity.partition("@")
        if job:
            return f"let '{job}' use {what} capacity"
        return {"rental": "allow rental", "purchase": "allow new purchases"}.get(
            what, f"allow {what} parts" if what in ("domestic", "foreign") else f"allow {what} capacity"
        )
    if family == "requires":
        return f"switch on policy '{entity}' ({src.catalog.policies[entity].name})"
    return f"switch off policy '{entity}' ({src.catalog.policies[entity].name})"

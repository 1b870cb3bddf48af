"""Cost frontiers: the optimal plan along one parameter, and where the fleet mix changes.

``--vary PARAM=START:STOP:STEP`` (or ``PARAM=V1,V2,...``). PARAM is one of

- ``domestic_share.min`` — the domestic-share floor (measure from the workload, else devices);
- ``budget`` / ``budget.total`` / ``budget.capex`` — in the workload's budget currency;
- ``power`` / ``power_kw`` — the power cap over all hosted sites, kW;
- ``levy`` — the rate of every export-levy rule (0.25 = 25 %);
- ``price:ID`` — a factor on the catalog price of an offer, accelerator or vendor (1.2 = +20 %);
- any other workload field by dotted path (``traffic.requests_per_s``, ``site_power_kw.SITE``).

Numbers take k/M/B suffixes and % (``budget=10M:60M:5M``, ``levy=0%:50%:5%``).
"""

from __future__ import annotations

import difflib
import logging
import math
import os
import re
from collections.abc import Iterable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from planner.catalog.store import Catalog, load_catalog
from planner.catalog.workload_file import load_workload
from planner.catalog.yaml_reader import YamlDocument
from planner.compare import Option, Progress, kind_of, peak_items, plan_metrics, short_name, solve_option
from planner.errors import InputError
from planner.models.fleet import Fleet
from planner.models.plan import Plan
from planner.models.workload import Constraints, Workload
from planner.scenarios import Applied, PriceChange, Scenario, apply_scenario, check_workload_path
from planner.solve import interrupt

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

MAX_POINTS = 501
EXAMPLE = "domestic_share.min=0:1:0.05"
_VARY_DOC = YamlDocument(file="--vary", data={}, lines={})

_ALIASES = {
    "domestic_share.min": "constraints.domestic_share.min",
    "domestic_share": "constraints.domestic_share.min",
    "budget": "constraints.budget.total",
    "budget.total": "constraints.budget.total",
    "budget.capex": "constraints.budget.capex",
    "power": "constraints.power_kw",
    "power_kw": "constraints.power_kw",
}
_NUMBER = re.compile(r"^([-+]?(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)([kKMBG%]?)$")
_SCALE = {"": 1.0, "k": 1e3, "K": 1e3, "M": 1e6, "B": 1e9, "G": 1e9, "%": 0.01}


def _bad(param: str | None, message: str) -> InputError:
    return InputError.single("--vary", message, field=param, hint=f"e.g. --vary {EXAMPLE}")


def _number(text: str, param: str) -> float:
    match = _NUMBER.match(text.strip())
    if not match:
        raise _bad(param, f"'{text}' is not a number")
    return float(match.group(1)) * _SCALE[match.group(2)]


def _values(text: str, param: str) -> list[float]:
    """'a:b:step' (inclusive of b) or 'v1,v2,...'."""
    if ":" in text:
        parts = text.split(":")
        if len(parts) != 3:
            raise _bad(param, f"'{text}': a range is START:STOP:STEP")
        start, stop, step = (_number(p, param) for p in parts)
        if step == 0 or (stop - start) * step < 0:
            raise _bad(param, f"'{text}': STEP must be non-zero and point from START towards STOP")
        count = math.floor((stop - start) / step + 1e-9) + 1
        if count > MAX_POINTS:
            raise _bad(param, f"'{text}' gives {count} points; at most {MAX_POINTS}")
        return [round(start + i * step, 10) for i in range(count)]
    values = [_number(v, param) for v in text.split(",") if v.strip()]
    if not values:
        raise _bad(param, "no values given")
    if len(values) > MAX_POINTS:
        raise _bad(param, f"{len(values)} values; at most {MAX_POINTS}")
    return values


@dataclass(frozen=True)
class Sweep:
    """A parsed ``--vary``: which lever, and the values to put it at."""

    parameter: str
    label: str
    values: list[float]
    path: str | None = None
    levy: bool = False
    price: tuple[str, str] | None = None

    def scenario(self, value: float) -> Scenario:
        """The scenario for one point of the sweep."""
        name = f"{self.parameter}={value:g}"
        if self.levy:
            s = Scenario(name=name, levy=value)
        elif self.price is not None:
            kind, ident = self.price
            s = Scenario(name=name, price=[PriceChange.model_validate({kind: ident, "factor": value})])
        else:
            assert self.path is not None
            s = Scenario(name=name, set={self.path: value})
        s._doc = _VARY_DOC
        return s


def parse_vary(spec: str, catalog: Catalog, root: type[Workload] | type[Fleet] = Workload) -> Sweep:
    """Parse ``PARAM=VALUES``; errors name --vary and the parameter."""
    if "=" not in spec:
        raise _bad(None, f"'{spec}' should be PARAM=START:STOP:STEP or PARAM=V1,V2,...")
    param, text = (s.strip() for s in spec.split("=", 1))
    values = _values(text, param)
    if param == "levy":
        if any(not 0 <= v <= 2 for v in values):
            raise _bad(param, "levy rates run from 0 to 2 (0.25 = 25 %)")
        return Sweep(param, "export levy rate", values, levy=True)
    if param.startswith("price:"):
        ident = param.split(":", 1)[1]
        vendors = {a.vendor for a in catalog.accelerators.values()}
        if ident in catalog.offers:
            kind = "offer"
        elif catalog.resolve("accelerators", ident) is not None:
            kind = "accelerator"
        elif ident in vendors:
            kind = "vendor"
        else:
            names = [*catalog.offers, *catalog.accelerators, *sorted(vendors)]
            close = next(iter(difflib.get_close_matches(ident, names, n=1, cutoff=0.5)), None)
            raise InputError.single(
                "--vary",
                f"unknown offer, accelerator or vendor '{ident}'",
                field=param,
                hint=f"did you mean '{close}'?" if close else None,
            )
        if any(not 0 < v <= 100 for v in values):
            raise _bad(param, "price factors must be positive (1.2 = +20 %)")
        return Sweep(param, f"price factor on {ident}", values, price=(kind, ident))
    path = _ALIASES.get(param, param)
    if path.split(".")[0] in Constraints.model_fields:
        path = "constraints." + path
    try:
        check_workload_path(path, root)
    except ValueError as exc:
        raise _bad(
            param, f"{exc}; vary domestic_share.min, budget, power, levy, price:ID or a workload field"
        ) from None
    label = {
        "constraints.domestic_share.min": "domestic-share floor",
        "constraints.budget.total": "total budget",
        "constraints.budget.capex": "capex budget",
        "constraints.power_kw": "power cap (kW)",
    }.get(path, param)
    return Sweep(param, label, values, path=path)


TIGHTENS = {"constraints.domestic_share.min": 1, "constraints.budget.total": -1, "constraints.power_kw": -1}
"""Limits that only shrink the feasible set as they move this way (+1: up, -1: down)."""


def _still_optimal(sweep: Sweep, plan: Plan | None, value: float, workload: Workload | Fleet, catalog: Catalog) -> bool:
    """True when an optimum found under a looser limit already meets ``value``.

    Tightening a limit only removes fleets, so a (lexicographic) optimum that survives the
    tighter limit is still optimal there: no solve needed. Only proven optima of one-period
    plans qualify, and the test keeps a margin so rounding never decides it.
    """
    if plan is None or plan.status != "OPTIMAL" or plan.totals is None or plan.periods != 1:
        return False
    t = plan.totals
    if sweep.path == "constraints.domestic_share.min":
        share = workload.constraints.domestic_share
        return t.domestic_share.get(share.measure if share else "devices", -1.0) >= value + 1e-6
    if sweep.path == "constraints.budget.total":
        budget = workload.constraints.budget
        return t.tco_usd <= catalog.to_usd(value, budget.currency if budget else "USD") * (1 - 1e-6)
    if sweep.path == "constraints.power_kw":
        return t.power_kw <= value * (1 - 1e-6)
    return False


PARALLEL_POINTS = min(4, os.cpu_count() or 1)
"""Points solved at once when each search uses one thread (see planner.solve.run)."""


def _solve_points(
    sweep: Sweep,
    scenarios: list[Scenario],
    posed: list[Applied],
    workload: Workload | Fleet,
    catalog: Catalog,
    settings: dict[str, Any],
    progress: Progress | None,
) -> list[Option]:
    """Solve every point; along a tightening limit, reuse an optimum that already meets the next value.

    Once reuse cannot apply (it needs one-period plans) and a point's search ran on one thread,
    the remaining points are solved side by side: each search is deterministic, so the plans are
    the same as one at a time. A Ctrl-C stops every search and leaves later points unsolved."""
    direction = TIGHTENS.get(sweep.path or "", 0)
    order = (
        sorted(range(len(scenarios)), key=lambda i: direction * sweep.values[i])
        if direction
        else list(range(len(scenarios)))
    )
    out: dict[int, Option] = {}
    last: Option | None = None
    interrupt.reset()
    while order and not _side_by_side(last, direction):
        i = order.pop(0)
        scenario, value = scenarios[i], sweep.values[i]
        if direction and last is not None and _still_optimal(sweep, last.plan, value, workload, catalog):
            log.info("%s: the optimum at a looser limit already meets it; no solve", scenario.name)
            out[i] = Option(scenario.name, scenario.description or scenario.name, last.source, last.plan)
        else:
            out[i] = solve_option(scenario, posed[i], settings)  # after a Ctrl-C: skipped
            last = out[i]
        if progress is not None:
            progress(len(out), len(scenarios), scenario.name)
    if order:
        with interrupt.guard(), ThreadPoolExecutor(PARALLEL_POINTS, thread_name_prefix="frontier") as pool:
            running = {pool.submit(solve_option, scenarios[i], posed[i], settings): i for i in order}
            while running:
                finished, _ = wait(running, timeout=0.05, return_when=FIRST_COMPLETED)  # Ctrl-C is seen between waits
                for future in sorted(finished, key=lambda f: running[f]):
                    i = running.pop(future)
                    out[i] = future.result()
                    if progress is not None:
                        progress(len(out), len(scenarios), scenarios[i].name)
    return [out[i] for i in range(len(scenarios))]


def _side_by_side(last: Option | None, direction: int) -> bool:
    """The remaining points may be solved at once: no reuse possible, one thread per search."""
    plan = last.plan if last is not None else None
    if plan is None or PARALLEL_POINTS < 2 or interrupt.requested():
        return False
    return (direction == 0 or plan.periods > 1) and plan.solver.workers == 1


def frontier(
    workload: Workload | Fleet | str | os.PathLike[str],
    vary: str = EXAMPLE,
    catalog: Catalog | None = None,
    *,
    time_limit_s: float = 10.0,
    workers: int = 4,
    seed: int = 0,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Optimal plan at each value of one parameter: one row per point.

    Columns: the parameter (named as given), status, tco_usd and the cost lines, power_kw,
    domestic_share, devices, throughput_rps or training_days, fleet (the mix in one line),
    mix_changed (the set of accelerators, bought or rented, on- or offshore, differs from the
    previous feasible point), why (for
    points without a plan), then ``devices:<accelerator id>`` per accelerator used anywhere.
    ``frame.attrs`` holds parameter, label, workload, kind, objective, measure, the offers used,
    accelerator names and the plans' warnings.
    """
    import pandas as pd

    if not isinstance(workload, (Workload, Fleet)):
        workload = load_workload(workload)
    if catalog is None:
        catalog = load_catalog()
    sweep = parse_vary(vary, catalog, type(workload))
    scenarios = [sweep.scenario(v) for v in sweep.values]
    posed = []
    for value, s in zip(sweep.values, scenarios, strict=True):  # bad values fail before any solve
        try:
            posed.append(apply_scenario(workload, catalog, s))
        except InputError as exc:
            why = "; ".join(p.message for p in exc.problems)
            raise InputError.single("--vary", f"{sweep.parameter}={value:g}: {why}", field=sweep.parameter) from None
    settings: dict[str, Any] = {"time_limit_s": time_limit_s, "workers": workers, "seed": seed}
    solved = _solve_points(sweep, scenarios, posed, workload, catalog, settings, progress)
    rows: list[dict[str, Any]] = []
    names: dict[str, str] = {}
    offers: set[str] = set()
    warnings: set[str] = set()
    previous: frozenset[tuple[str, str, str]] | None = None
    measure: str | None = workload.constraints.domestic_share.measure if workload.constraints.domestic_share else None
    for value, option in zip(sweep.values, solved, strict=True):
        warnings.update(option.plan.warnings if option.plan is not None else [])
        row: dict[str, Any] = {sweep.parameter: value, **plan_metrics(option.plan, option.reason)}
        devices: dict[str, float] = {}
        if option.plan is not None and option.ok:
            measure = measure or (option.plan.totals.domestic_share_measure if option.plan.totals else None)
            for li in peak_items(option.plan):
                if li.devices:
                    devices[f"devices:{li.accelerator}"] = devices.get(f"devices:{li.accelerator}", 0) + li.devices
                    names[li.accelerator] = short_name(li.accelerator_name)
            offers.update(li.offer for li in option.plan.line_items if li.devices)
            key = frozenset((li.accelerator, li.mode, li.location) for li in peak_items(option.plan) if li.devices)
            row["mix_changed"] = previous is not None and key != previous
            previous = key
        else:
            row["mix_changed"] = False
        row.update(devices)
        rows.append(row)
    frame = pd.DataFrame(rows)
    device_cols = sorted(c for c in frame.columns if str(c).startswith("devices:"))
    frame[device_cols] = frame[device_cols].fillna(0).astype(int)
    kind = kind_of(workload)
    perf = {"inference": ["throughput_rps"], "training": ["training_days"]}.get(kind, [])
    drop = [c for c in ("throughput_rps", "training_days") if perf and c not in perf] + ["domestic_devices"]
    frame = frame.drop(columns=drop)
    frame.attrs.update(
        parameter=sweep.parameter,
        label=sweep.label,
        workload=workload.name,
        kind=kind,
        objective=workload.objective,
        measure=measure or "devices",
        offers=sorted(offers),
        accelerators=dict(sorted(names.items())),
        warnings=sorted(warnings),
        table="frontier",
    )
    return frame


def changes(frame: pd.DataFrame) -> Iterable[Any]:
    """Parameter values where the fleet mix changes."""
    return frame.loc[frame["mix_changed"].astype(bool), frame.attrs.get("parameter", frame.columns[0])]

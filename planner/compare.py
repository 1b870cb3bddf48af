"""Options side by side: the optimum, single-lever fleets and user scenarios.

Procurement has to defend a choice against the alternatives, so every option is solved to
optimality under the same solver settings and shown with the same figures; an option that
cannot be met says why in one line instead of showing numbers.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from planner.api import plan as solve_plan
from planner.catalog.store import Catalog, load_catalog
from planner.catalog.workload_file import load_workload
from planner.models.fleet import Fleet
from planner.models.plan import LineItem, Plan
from planner.models.workload import Workload
from planner.scenarios import Applied, Scenario, apply_scenario, builtin_options, check_names, load_scenarios
from planner.solve import interrupt

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]
"""Called after each solve with (done, total, label); the CLI draws a progress bar from it."""

SolverSettings = dict[str, Any]


def short_name(accelerator_name: str) -> str:
    """'Huawei Ascend 910C (per dual-die package)' -> 'Huawei Ascend 910C' for compact mixes."""
    return accelerator_name.split(" (")[0]


def peak_items(plan: Plan) -> list[LineItem]:
    """Line items of the period with the most devices (the only period of a one-period plan)."""
    by_period: dict[int, list[LineItem]] = {}
    for li in plan.line_items:
        by_period.setdefault(li.period, []).append(li)
    if not by_period:
        return []
    return max(by_period.values(), key=lambda items: (sum(li.devices for li in items), items[0].period))


def fleet_mix(plan: Plan) -> str:
    """The fleet in one line: devices per accelerator and how they are obtained (in the peak period)."""
    parts: dict[tuple[str, str], int] = {}
    items = peak_items(plan)
    for li in items:
        if li.devices:
            key = (short_name(li.accelerator_name), "buy" if li.mode == "purchase" else "rent")
            parts[key] = parts.get(key, 0) + li.devices
    text = " + ".join(f"{n:,} {name} ({how})" for (name, how), n in parts.items()) or "no devices"
    return f"{text} in period {items[0].period}" if plan.periods > 1 and items else text


def why_not(plan: Plan) -> str:
    """One line saying why a plan has no fleet."""
    if plan.status == "INFEASIBLE":
        if plan.explanation is not None and plan.explanation.summary:
            return plan.explanation.summary
        return "no fleet meets every constraint"
    if plan.status == "NO_SOLUTION":
        return f"no plan found within the {plan.solver.time_limit_s:g} s time limit"
    return f"solver status {plan.status}"


def plan_metrics(plan: Plan | None, reason: str | None = None) -> dict[str, Any]:
    """The figures every option and frontier point is judged by (NaN where there is no plan)."""
    nan = math.nan
    out: dict[str, Any] = {
        "status": plan.status if plan is not None else "NOT_POSED",
        "tco_usd": nan,
        "capex_usd": nan,
        "levy_usd": nan,
        "subsidies_usd": nan,
        "energy_usd": nan,
        "rental_usd": nan,
        "residual_usd": nan,
        "power_kw": nan,
        "domestic_share": nan,
        "devices": nan,
        "domestic_devices": nan,
        "throughput_rps": nan,
        "training_days": nan,
        "fleet": "",
        "why": reason,
    }
    if plan is None:
        return out
    tot = plan.totals
    if not plan.ok or tot is None:
        out["why"] = reason or why_not(plan)
        return out
    measure = tot.domestic_share_measure or "devices"
    out.update(
        tco_usd=tot.tco_usd,
        capex_usd=tot.capex_usd,
        levy_usd=tot.levy_usd,
        subsidies_usd=tot.subsidy_usd + tot.electricity_subsidy_usd,
        energy_usd=tot.energy_usd,
        rental_usd=tot.rental_usd,
        residual_usd=tot.residual_usd,
        power_kw=tot.power_kw,
        domestic_share=tot.domestic_share.get(measure, nan),
        devices=tot.devices,
        domestic_devices=tot.domestic_devices,
        throughput_rps=tot.delivered_requests_per_s if tot.delivered_requests_per_s is not None else nan,
        training_days=tot.training_days if tot.training_days is not None else nan,
        fleet=fleet_mix(plan),
        why=None if plan.status == "OPTIMAL" else f"feasible, not proven optimal (gap {plan.solver.gap or 0:.2%})",
    )
    return out


@dataclass
class Option:
    """One column of a comparison: a scenario and the best plan under it (or why there is none)."""

    name: str
    description: str
    source: str
    plan: Plan | None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.plan is not None and self.plan.ok


@dataclass
class Comparison:
    """Solved options; ``to_frame()`` puts them side by side (one column per option)."""

    workload: str
    kind: str
    objective: str
    measure: str
    options: list[Option] = field(default_factory=list)

    @property
    def optimum(self) -> Option:
        return self.options[0]

    def rows(self) -> list[str]:
        """Metric rows, in display order, for this workload kind."""
        perf = {"inference": ["throughput_rps"], "training": ["training_days"]}.get(
            self.kind, ["throughput_rps", "training_days"]
        )
        return [
            "description",
            "status",
            "tco_usd",
            "delta_usd",
            "delta_pct",
            "capex_usd",
            "levy_usd",
            "subsidies_usd",
            "energy_usd",
            "rental_usd",
            "residual_usd",
            "power_kw",
            "domestic_share",
            "devices",
            *perf,
            "fleet",
            "why",
            "source",
        ]

    def to_frame(self) -> pd.DataFrame:
        """Metrics as rows, options as columns (object dtype: numbers, NaN and text mix)."""
        import pandas as pd

        best = self.optimum.plan
        base = best.totals.tco_usd if best is not None and best.ok and best.totals is not None else None
        columns: dict[str, list[Any]] = {}
        rows = self.rows()
        for opt in self.options:
            m = plan_metrics(opt.plan, opt.reason)
            m["description"] = opt.description
            m["source"] = opt.source
            if base is not None and not math.isnan(m["tco_usd"]):
                m["delta_usd"] = m["tco_usd"] - base
                m["delta_pct"] = (m["tco_usd"] - base) / base if base else math.nan
            else:
                m["delta_usd"] = m["delta_pct"] = math.nan
            columns[opt.name] = [m[r] for r in rows]
        frame = pd.DataFrame(columns, index=pd.Index(rows, name="metric"), dtype=object)
        plans = [o.plan for o in self.options if o.plan is not None]
        frame.attrs.update(
            workload=self.workload,
            kind=self.kind,
            objective=self.objective,
            measure=self.measure,
            table="comparison",
            offers=sorted({li.offer for p in plans if p.ok for li in p.line_items}),
            warnings=sorted({w for p in plans for w in p.warnings}),
        )
        return frame


def _scenario_list(scenarios: Iterable[Scenario | str | os.PathLike[str]] | None) -> list[Scenario]:
    found: list[Scenario] = []
    for item in scenarios or []:
        found.extend([item] if isinstance(item, Scenario) else load_scenarios(item))
    check_names(found)
    return found


INTERRUPTED = "not solved: interrupted (Ctrl-C) before its turn"


def skipped(scenario: Scenario, source: str = "built-in") -> Option:
    """An option left unsolved because Ctrl-C stopped the run."""
    return Option(scenario.name, scenario.description or scenario.name, source, None, INTERRUPTED)


def solve_option(scenario: Scenario, applied: Applied, settings: SolverSettings, source: str = "built-in") -> Option:
    """Solve one posed scenario; an option that cannot be posed keeps the reason. After a
    Ctrl-C (see planner.solve.interrupt) nothing more is solved."""
    if interrupt.requested():
        return skipped(scenario, source)
    description = scenario.description or scenario.name
    if applied.workload is None or applied.catalog is None:
        return Option(scenario.name, description, source, None, applied.reason)
    result = solve_plan(applied.workload, applied.catalog, **settings)
    log.info("option %s: %s", scenario.name, result.status)
    return Option(scenario.name, description, source, result, None if result.ok else why_not(result))


def compare_plans(
    workload: Workload | Fleet | str | os.PathLike[str],
    catalog: Catalog | None = None,
    scenarios: Iterable[Scenario | str | os.PathLike[str]] | None = None,
    *,
    baselines: bool = True,
    time_limit_s: float = 10.0,
    workers: int = 4,
    seed: int = 0,
    progress: Progress | None = None,
) -> Comparison:
    """Solve the optimum, the built-in single-lever options and each scenario (files or objects)."""
    if not isinstance(workload, (Workload, Fleet)):
        workload = load_workload(workload)
    if catalog is None:
        catalog = load_catalog()
    user = _scenario_list(scenarios)
    posed = builtin_options() if baselines else builtin_options()[:1]
    todo = [(s, "built-in") for s in posed] + [(s, s.file or "python") for s in user]
    settings: SolverSettings = {"time_limit_s": time_limit_s, "workers": workers, "seed": seed}
    posed_all = [apply_scenario(workload, catalog, s) for s, _ in todo]  # bad scenarios fail before any solve
    options: list[Option] = []
    interrupt.reset()
    for i, ((scenario, source), applied) in enumerate(zip(todo, posed_all, strict=True)):
        options.append(solve_option(scenario, applied, settings, source))  # after a Ctrl-C: skipped
        if progress is not None:
            progress(i + 1, len(todo), scenario.name)
    share = workload.constraints.domestic_share
    first = options[0].plan
    measure = (
        (first.totals.domestic_share_measure if first and first.totals else None)
        or (share.measure if share else None)
        or "devices"
    )
    return Comparison(workload.name, kind_of(workload), workload.objective, measure, options)


def kind_of(workload: Workload | Fleet) -> str:
    """inference, training, or fleet (several workloads in one file)."""
    return workload.kind if isinstance(workload, Workload) else "fleet"


def compare(
    workload: Workload | Fleet | str | os.PathLike[str],
    catalog: Catalog | None = None,
    scenarios: Iterable[Scenario | str | os.PathLike[str]] | None = None,
    **options: Any,
) -> pd.DataFrame:
    """Options side by side as a DataFrame: metrics as rows, one column per option.

    Columns: ``optimum``, ``all-nvidia``, ``all-domestic``, ``onshore-only``, ``purchase-only``,
    then each scenario by name. Solver settings (``time_limit_s``, ``workers``, ``seed``) and
    ``baselines``/``progress`` pass through to :func:`compare_plans`.
    """
    return compare_plans(workload, catalog, scenarios, **options).to_frame()

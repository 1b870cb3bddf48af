"""The public entry points: load inputs, plan, and nothing that prints."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from planner.catalog.provenance import workload_warnings
from planner.catalog.store import Catalog, load_catalog
from planner.catalog.workload_file import as_fleet, load_workload
from planner.errors import VerificationError
from planner.models.fleet import Fleet
from planner.models.plan import NO_BOUND_WARNING, Plan
from planner.models.workload import Workload
from planner.verify import verify

log = logging.getLogger(__name__)


def plan(
    workload: Workload | Fleet | str | os.PathLike[str],
    catalog: Catalog | None = None,
    *,
    time_limit_s: float = 10.0,
    workers: int = 4,
    seed: int = 0,
    explain_infeasible: bool = True,
    check: bool = True,
    why: bool = False,
    force: list[str] | None = None,
    exclude: list[str] | None = None,
    tie_breaks: bool = True,
) -> Plan:
    """The cheapest fleet that meets the workload (or fleet of workloads), or why none exists.

    Status is part of the result (``plan.status``): OPTIMAL, FEASIBLE (with gap), INFEASIBLE
    (with ``plan.explanation``) or NO_SOLUTION (time limit). Invalid input raises InputError.
    Every plan found is re-checked by :func:`planner.verify.verify`; a failure raises
    VerificationError, never returns a wrong plan. A fleet with a ``hedge`` is also planned
    without it, and ``plan.hedge_premium_usd`` says what the hedge costs.

    ``why`` adds ``plan.sensitivity``: each binding limit's value one step further, and each
    policy's price (re-solves; slower). ``force`` / ``exclude`` (accelerator, vendor or offer ids)
    answer "why not X?": the plan with them, and ``plan.what_if`` its cost against the plan without.
    ``tie_breaks=False`` stops after the objective: faster, but which of several equally good
    plans comes back is then not fixed.
    """
    from planner.solve.prepare import prepare

    if isinstance(workload, (str, os.PathLike, Path)):
        workload = load_workload(workload)
    if catalog is None:
        catalog = load_catalog()
    if force or exclude:
        from planner.solve.whatif import what_if, with_choices

        baseline = plan(
            workload,
            catalog,
            time_limit_s=time_limit_s,
            workers=workers,
            seed=seed,
            explain_infeasible=False,
            check=check,
            tie_breaks=tie_breaks,
        )
        changed = plan(
            with_choices(workload, force or [], exclude or []),
            catalog,
            time_limit_s=time_limit_s,
            workers=workers,
            seed=seed,
            explain_infeasible=explain_infeasible,
            check=check,
            why=why,
            tie_breaks=tie_breaks,
        )
        changed.what_if = what_if(changed, baseline, force or [], exclude or [])
        return changed
    prepared = prepare(workload, catalog)  # checks the input: a bad file fails before the solver loads
    # The solver stack (OR-Tools, which imports numpy and pandas) loads on the first plan, not on
    # ``import planner``: commands that never solve (catalog, schema, --help) start without it.
    # Explanation, sensitivity and what-if load only when asked for.
    from planner.solve.extract import to_plan
    from planner.solve.run import SolverOptions
    from planner.solve.strategy import solve

    options = SolverOptions(time_limit_s=time_limit_s, workers=workers, seed=seed, tie_breaks=tie_breaks)
    problem, result = solve(prepared, options)
    fleet = as_fleet(workload)
    share = fleet.constraints.domestic_share
    measure_name = share.measure if share is not None else next((f.measure for f in problem.share_floors), None)
    jobs = list(problem.jobs.values())
    model_name = jobs[0].model if len(jobs) == 1 else f"{len(jobs)} workloads"
    out = to_plan(
        problem,
        result,
        catalog,
        workload_name=fleet.name,
        model_name=model_name,
        options=options,
        measure_name=measure_name,
    )
    if result.status == "NO_SOLUTION":
        out.warnings.append(f"no plan found in the time limit of {time_limit_s:g} s: rerun with a longer time limit")
    if result.interrupted:  # Ctrl-C: return what was found, start no further solves
        out.warnings.append("interrupted (Ctrl-C): the best plan found so far, not proven optimal")
        if result.best_bound is None and result.status in ("OPTIMAL", "FEASIBLE"):
            out.warnings.append(NO_BOUND_WARNING)
        explain_infeasible = why = False
    if result.status == "INFEASIBLE" and explain_infeasible:
        from planner.solve.edits import Inputs
        from planner.solve.explain import explain

        out.explanation = explain(problem, options, Inputs(workload, catalog, options))
    out.warnings = sorted(set(out.warnings) | set(workload_warnings(out, catalog, workload)))
    if check:
        failures = verify(out, workload, catalog)
        if failures:
            raise VerificationError(
                "the independent verifier rejected the plan (a planner bug, please report it):\n  "
                + "\n  ".join(failures[:20])
            )
    if why and out.ok:
        from planner.solve.sensitivity import sensitivity

        out.sensitivity = sensitivity(problem, out, options, result.solution)
    if fleet.hedge is not None and out.ok and out.totals is not None and not result.interrupted:
        unhedged = fleet.model_copy(update={"hedge": None})
        unhedged._origin = fleet._origin
        base = plan(
            unhedged,
            catalog,
            time_limit_s=time_limit_s,
            workers=workers,
            seed=seed,
            explain_infeasible=False,
            check=check,
            tie_breaks=False,  # only its cost is used
        )
        if out.status == "OPTIMAL" and base.status == "OPTIMAL" and base.totals is not None:
            out.hedge_premium_usd = out.totals.tco_usd - base.totals.tco_usd
        else:  # a difference of two unproven costs can even be negative: do not print it as a premium
            out.warnings.append(
                "hedge premium not stated: the hedged and unhedged plans were not both proven optimal "
                "(rerun with a longer time limit)"
            )
    return out


__all__ = ["Catalog", "Plan", "Workload", "load_catalog", "load_workload", "plan"]

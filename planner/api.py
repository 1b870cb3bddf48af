"""The public entry points: load inputs, plan, and nothing that prints."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from planner.catalog.store import Catalog, load_catalog
from planner.catalog.workload_file import load_workload, resolve
from planner.errors import VerificationError
from planner.models.plan import Plan
from planner.models.workload import Workload
from planner.solve.explain import explain
from planner.solve.extract import to_plan
from planner.solve.prepare import prepare
from planner.solve.run import SolverOptions, solve_problem
from planner.verify import verify

log = logging.getLogger(__name__)


def plan(
    workload: Workload | str | os.PathLike[str],
    catalog: Catalog | None = None,
    *,
    time_limit_s: float = 10.0,
    workers: int = 4,
    seed: int = 0,
    explain_infeasible: bool = True,
    check: bool = True,
) -> Plan:
    """The cheapest fleet that meets the workload (or why none exists).

    Status is part of the result (``plan.status``): OPTIMAL, FEASIBLE (with gap), INFEASIBLE
    (with ``plan.explanation``) or NO_SOLUTION (time limit). Invalid input raises InputError.
    Every plan found is re-checked by :func:`planner.verify.verify`; a failure raises
    VerificationError, never returns a wrong plan.
    """
    if isinstance(workload, (str, os.PathLike, Path)):
        workload = load_workload(workload)
    if catalog is None:
        catalog = load_catalog()
    options = SolverOptions(time_limit_s=time_limit_s, workers=workers, seed=seed)
    problem = prepare(workload, catalog)
    result = solve_problem(problem, options)
    rw = resolve(workload, catalog)
    share = workload.constraints.domestic_share
    measure_name = share.measure if share is not None else next(
        (f.measure for f in problem.share_floors), None
    )
    out = to_plan(
        problem,
        result,
        catalog,
        workload_name=workload.name,
        model_name=rw.model_name,
        options=options,
        measure_name=measure_name,
    )
    if result.status == "INFEASIBLE" and explain_infeasible:
        out.explanation = explain(problem, options)
    if check:
        failures = verify(out, workload, catalog)
        if failures:
            raise VerificationError(
                "the independent verifier rejected the plan (a planner bug, please report it):\n  "
                + "\n  ".join(failures[:20])
            )
    return out


__all__ = ["plan", "load_workload", "load_catalog", "Plan", "Workload", "Catalog"]

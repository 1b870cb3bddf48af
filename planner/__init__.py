"""Capacity planner for accelerator fleets that mix Chinese domestic chips and NVIDIA parts.

import planner
plan = planner.plan("examples/state-cloud-inference.yaml")
print(plan.status, plan.totals.tco_usd)
"""

from planner.api import plan
from planner.catalog.store import Catalog, load_catalog
from planner.catalog.workload_file import load_workload
from planner.compare import Comparison, compare, compare_plans
from planner.errors import InputError, PlannerError, VerificationError
from planner.estimate import Estimate, estimate, validate  # noqa: F401 - performance estimates
from planner.frontier import frontier
from planner.models.plan import Plan
from planner.models.workload import Workload
from planner.scenarios import Scenario, load_scenarios

__all__ = [
    "Catalog",
    "Comparison",
    "InputError",
    "Plan",
    "PlannerError",
    "Scenario",
    "VerificationError",
    "Workload",
    "compare",
    "compare_plans",
    "frontier",
    "load_catalog",
    "load_scenarios",
    "load_workload",
    "plan",
]
__version__ = "0.1.0"

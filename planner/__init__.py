"""Capacity planner for accelerator fleets that mix Chinese domestic chips and NVIDIA parts.

    import planner
    plan = planner.plan("examples/state-cloud-inference.yaml")
    print(plan.status, plan.totals.tco_usd)
"""

from planner.api import plan
from planner.catalog.store import Catalog, load_catalog
from planner.catalog.workload_file import load_workload
from planner.errors import InputError, PlannerError, VerificationError
from planner.models.plan import Plan
from planner.models.workload import Workload

__all__ = [
    "Catalog",
    "InputError",
    "Plan",
    "PlannerError",
    "VerificationError",
    "Workload",
    "load_catalog",
    "load_workload",
    "plan",
]
__version__ = "0.1.0"

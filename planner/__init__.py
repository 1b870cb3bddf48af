"""Capacity planner for accelerator fleets that mix Chinese domestic chips and NVIDIA parts.

import planner
plan = planner.plan("examples/state-cloud-inference.yaml")
print(plan.status, plan.totals.tco_usd)
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from planner.errors import InputError, PlannerError, VerificationError

if TYPE_CHECKING:
    from planner.api import plan
    from planner.catalog.store import Catalog, load_catalog
    from planner.catalog.workload_file import load_workload
    from planner.compare import Comparison, compare, compare_plans
    from planner.estimate import Estimate, estimate, validate  # noqa: F401 - performance estimates
    from planner.frontier import frontier
    from planner.models.plan import Plan
    from planner.models.workload import Workload
    from planner.scenarios import Scenario, load_scenarios

# The public names load on first use (PEP 562), so ``import planner`` and commands that never
# solve start fast: the solver stack (OR-Tools, numpy, pandas) and the pydantic models are
# imported by whatever first needs them, not by the package.
_LAZY = {
    "plan": "planner.api",
    "Catalog": "planner.catalog.store",
    "load_catalog": "planner.catalog.store",
    "load_workload": "planner.catalog.workload_file",
    "Comparison": "planner.compare",
    "compare": "planner.compare",
    "compare_plans": "planner.compare",
    "Estimate": "planner.estimate",
    "estimate": "planner.estimate",
    "validate": "planner.estimate",
    "frontier": "planner.frontier",
    "Plan": "planner.models.plan",
    "Workload": "planner.models.workload",
    "Scenario": "planner.scenarios",
    "load_scenarios": "planner.scenarios",
}
_SHADOWED = frozenset({"compare", "estimate", "frontier"})
"""Submodules named like the function they export: ``planner.compare`` is the function."""


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'planner' has no attribute '{name}'")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


class _Package(types.ModuleType):
    """Importing ``planner.compare`` (or ``.estimate``, ``.frontier``) binds the package attribute
    to the submodule; keep the public function there instead, as an eager import used to."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _SHADOWED and isinstance(value, types.ModuleType):
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

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

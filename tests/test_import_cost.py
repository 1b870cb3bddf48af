"""Start-up stays lean: ``import planner`` and a plain ``plan FILE`` load no report-only libraries.

Each check runs in a fresh interpreter (this test process has imported everything already) and
inspects ``sys.modules``; no timings are asserted (speed is a benchmark figure, not a test).
OR-Tools' ``cp_model`` itself imports numpy and pandas, so a run that solves has pandas loaded:
there the check is that nothing but OR-Tools imported it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "state-cloud-inference.yaml"
REPORT_ONLY = ("pandas", "openpyxl", "matplotlib", "plotly")
SOLVER = ("ortools", "numpy")
LP = "ortools.linear_solver.pywraplp"
"""Only the decomposition of large multi-period fleets needs the LP solver."""

_WATCH = """
import importlib.abc, json, sys

importers = {}

class Watch(importlib.abc.MetaPathFinder):
    # records which module first imported each top-level package of interest
    def find_spec(self, name, path=None, target=None):
        if name in ("pandas", "openpyxl", "numpy", "ortools") and name not in importers:
            frame = sys._getframe(1)
            while frame is not None and frame.f_globals.get("__name__", "").startswith(("importlib", "_frozen")):
                frame = frame.f_back
            importers[name] = frame.f_globals.get("__name__") if frame is not None else None
        return None

sys.meta_path.insert(0, Watch())
"""

_REPORT = """
loaded = {m: m in sys.modules for m in (*REPORT_ONLY, *SOLVER, LP)}
print("\\n" + json.dumps({"loaded": loaded, "importers": importers}))
"""


def _run(body: str) -> dict[str, dict[str, object]]:
    names = f"REPORT_ONLY = {REPORT_ONLY!r}\nSOLVER = {SOLVER!r}\nLP = {LP!r}\n"
    code = _WATCH + names + textwrap.dedent(body) + _REPORT
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    result: dict[str, dict[str, object]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _cli(*args: str) -> str:
    return f"""
sys.argv = ["plan", *{list(args)!r}]
from planner.cli import main
try:
    main()
except SystemExit as exc:
    assert exc.code in (0, None), exc.code
"""


def test_import_planner_loads_no_report_or_solver_libraries() -> None:
    result = _run("import planner\n")
    assert not any(result["loaded"].values()), result


def test_the_public_api_still_resolves() -> None:
    result = _run(
        """
        import types
        import planner
        import planner.frontier  # binds the submodule name on the package: the function must win
        for name in planner.__all__:
            assert getattr(planner, name) is not None, name
        for name in ("compare", "frontier", "estimate"):
            assert callable(getattr(planner, name)) and not isinstance(getattr(planner, name), types.ModuleType)
        from planner import Catalog, Plan, load_catalog, load_workload, plan  # noqa: F401
        assert hasattr(Plan, "to_frame") and planner.estimate.__module__ == "planner.estimate"
        """
    )
    assert not any(result["loaded"][m] for m in ("openpyxl", "ortools")), result


@pytest.mark.parametrize(
    "args", [("--help",), ("schema", "workload"), ("catalog", "list", "--kind", "accelerators")], ids=" ".join
)
def test_commands_that_do_not_solve_load_neither_solver_nor_pandas(args: tuple[str, ...]) -> None:
    result = _run(_cli(*args))
    assert not any(result["loaded"].values()), result


@pytest.mark.parametrize("args", [("--json",), ()], ids=["json", "table"])
def test_a_plain_plan_run_loads_pandas_only_through_or_tools(args: tuple[str, ...]) -> None:
    result = _run(_cli(str(EXAMPLE), *args))
    loaded, importers = result["loaded"], result["importers"]
    assert not any(loaded[m] for m in ("openpyxl", "matplotlib", "plotly", LP)), result
    assert loaded["ortools"], result
    assert importers.get("pandas") == "ortools.sat.python.cp_model", importers


def test_every_command_has_its_module_for_the_lazy_registration() -> None:
    """``main`` imports only the module of the command asked for: the map must name them all."""
    from planner.cli.app import COMMAND_MODULES, register

    app = register()
    names = {c.name for c in app.registered_commands} | {g.name for g in app.registered_groups}
    assert names == set(COMMAND_MODULES)

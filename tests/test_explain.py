"""No dead ends: crafted infeasible workloads whose conflicting sets are known in advance.

Each case checks that the reported core EQUALS the known set, and that every suggested repair,
applied alone to the user's files (workload edit or catalog override), gives a plan.
Limits that depend on the performance model (SLO thresholds, pool sizes) are derived from it
here, so the cases keep their meaning as the model is recalibrated.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import planner
from planner.catalog.store import Catalog
from planner.cli import plan_cmd  # noqa: F401 - registers commands
from planner.cli.app import app
from planner.models.workload import Workload
from planner.solve.edits import set_path
from planner.solve.prepare import prepare
from tests.conftest import MINI, fixture_figure, npu_offer, serving, training

JOB = "unit-serving"


def write(tmp_path: Path, data: dict[str, Any], name: str = "w.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def plan_of(data: dict[str, Any], catalog: Catalog) -> planner.Plan:
    return planner.plan(
        Workload.model_validate(data) if "fleet" not in data else _fleet(data), catalog, time_limit_s=10, workers=2
    )


def _fleet(data: dict[str, Any]):  # type: ignore[no-untyped-def]
    from planner.models.fleet import Fleet

    return Fleet.model_validate(data)


def applied(data: dict[str, Any], repair: dict[str, Any], tmp_path: Path, files: list[Path]) -> tuple[dict, Catalog]:
    """The workload and catalog with one repair applied, as a user would: edit the file, add an overlay."""
    out = copy.deepcopy(data)
    for edit in repair["workload_edits"]:
        set_path(out, edit["path"], edit["value"])
    paths = list(files)
    if repair["catalog_override"]:
        fix = {
            "overrides": [
                {
                    **repair["catalog_override"],
                    "source": "repair suggested by the planner",
                    "date": "2026-01",
                    "confidence": "assumption",
                }
            ]
        }
        paths.append(write(tmp_path, fix, f"fix-{len(list(tmp_path.iterdir()))}.yaml"))
    return out, planner.load_catalog(paths, bundled=False)


def assert_repairs_work(data: dict[str, Any], p: planner.Plan, tmp_path: Path, files: list[Path]) -> None:
    assert p.explanation is not None and p.explanation.repairs, "no repair suggested"
    for repair in p.explanation.repairs:
        assert repair["verified"] and repair["constraint"] in p.explanation.core, repair
        fixed, cat = applied(data, repair, tmp_path, files)
        again = plan_of(fixed, cat)
        assert again.ok, (repair["text"], again.explanation)


def check(data: dict[str, Any], expected: set[str], tmp_path: Path, files: list[Path] | None = None) -> planner.Plan:
    files = files or [MINI]
    p = plan_of(data, planner.load_catalog(files, bundled=False))
    assert p.status == "INFEASIBLE"
    assert p.explanation is not None
    assert set(p.explanation.core) == expected, p.explanation.summary
    assert len(p.explanation.core) == len(expected)
    assert [m.name for m in p.explanation.members] == p.explanation.core
    assert_repairs_work(data, p, tmp_path, files)
    return p


def repair_of(p: planner.Plan, name: str) -> dict[str, Any]:
    assert p.explanation is not None
    return next(r for r in p.explanation.repairs if r["constraint"] == name)


# ---- the perf model decides these thresholds: derive them ------------------------------------------
def parts_under(mini: Catalog, tpot_ms: float) -> set[str]:
    problem = prepare(Workload.model_validate(serving(slo={"ttft_ms": 2000, "tpot_ms": tpot_ms})), mini)
    return {problem.groups[c.group].accelerator for c in problem.candidates.values()}


def tpot_without_npu(mini: Catalog) -> float:
    """A TPOT target gpu-a meets and npu-b does not (bisection on the perf model)."""
    lo, hi = 1.0, 200.0  # lo: npu-b excluded; hi: npu-b kept
    assert "npu-b" not in parts_under(mini, lo) and "npu-b" in parts_under(mini, hi)
    while hi - lo > 0.5:
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if "npu-b" not in parts_under(mini, mid) else (lo, mid)
    assert "gpu-a" in parts_under(mini, lo), "no TPOT separates the two parts"
    return lo


def pool_sizes(mini: Catalog, deadline_days: float) -> dict[str, int]:
    problem = prepare(Workload.model_validate(training(deadline_days=deadline_days)), mini)
    return {c.key: c.pool.devices for c in problem.candidates.values() if c.pool is not None}


# ---- cores known in advance ----------------------------------------------------------------------------
def test_budget_and_demand(mini, tmp_path):
    data = serving(constraints={"budget": {"total": 1000}})
    p = check(data, {"budget:total", "demand:requests_per_s"}, tmp_path)
    fix = repair_of(p, "budget:total")
    optimum = plan_of(serving(), mini).totals.tco_usd
    # the smallest budget is the unconstrained optimum (coefficients round up to whole USD)
    assert optimum - 1 <= fix["required"] <= optimum * 1.0001 + 10
    assert fix["workload_edits"] == [{"path": "constraints.budget.total", "value": fix["workload_edits"][0]["value"]}]
    assert "budget" in p.explanation.summary and "cannot all hold" in p.explanation.summary


def test_capex_budget_in_cny_is_repaired_in_cny(mini, tmp_path):
    data = serving(constraints={"budget": {"capex": 700_000, "currency": "CNY"}, "allow_rental": False})
    p = check(data, {"allow:rental", "budget:capex", "demand:requests_per_s"}, tmp_path)
    fix = repair_of(p, "budget:capex")
    cny = fix["workload_edits"][0]["value"]
    assert cny == pytest.approx(fix["required"] * 7.0, rel=1e-6, abs=2)


def test_power_cap_at_one_site(mini, tmp_path):
    data = serving(sites=["west"], constraints={"site_power_kw": {"west": 1}, "allow_rental": False})
    p = check(data, {"allow:rental", "demand:requests_per_s", "power:west"}, tmp_path)
    fix = repair_of(p, "power:west")
    least = plan_of(serving(sites=["west"], objective="min_power", constraints={"allow_rental": False}), mini)
    assert least.totals.power_kw - 0.01 <= fix["required"] <= least.totals.power_kw + 0.01
    assert "power cap at west" in p.explanation.summary


def test_domestic_floor_without_domestic_parts(tmp_path):
    data = serving(
        constraints={
            "policies": ["approved"],
            "exclude": ["npu-b"],
            "domestic_share": {"min": 0.3, "measure": "devices"},
        }
    )
    p = check(data, {"demand:requests_per_s", "domestic_share:workload", "exclude:npu-b"}, tmp_path)
    assert repair_of(p, "domestic_share:workload")["required"] == 0.0
    assert repair_of(p, "exclude:npu-b")["workload_edits"] == [{"path": "constraints.exclude", "value": []}]


def test_policy_ban_and_exclusion(tmp_path):
    data = serving(
        constraints={"policies": ["approved", "no-foreign-purchase"], "exclude": ["npu-b"], "allow_rental": False}
    )
    p = check(data, {"allow:rental", "demand:requests_per_s", "exclude:npu-b", "policy:no-foreign-purchase"}, tmp_path)
    assert "switch off policy 'no-foreign-purchase'" in repair_of(p, "policy:no-foreign-purchase")["text"]


def test_residency_without_purchases(tmp_path):
    data = serving(constraints={"policies": ["residency"], "allow_purchase": False})
    check(data, {"allow:purchase", "demand:requests_per_s", "residency:residency"}, tmp_path)


def test_supply_cap_from_the_catalog(tmp_path):
    offer = npu_offer(supply_cap_units=fixture_figure(1))
    overlay = write(tmp_path, {"offers": [offer]}, "overlay.yaml")
    data = serving(constraints={"allow_rental": False})
    p = check(
        data,
        {"allow:rental", "demand:requests_per_s", "requires:approved", "supply:npu-b-server"},
        tmp_path,
        [MINI, overlay],
    )
    fix = repair_of(p, "supply:npu-b-server")
    assert fix["catalog_override"] == {
        "target": "offers/npu-b-server",
        "set": {"supply_cap_units.value": int(fix["required"])},
    }
    # the smallest cap: one unit fewer has no plan
    fewer = {
        **fix,
        "catalog_override": {
            "target": "offers/npu-b-server",
            "set": {"supply_cap_units.value": int(fix["required"]) - 1},
        },
    }
    data2, cat = applied(data, fewer, tmp_path, [MINI, overlay])
    assert plan_of(data2, cat).status == "INFEASIBLE"
    assert "switch on policy 'approved'" in repair_of(p, "requires:approved")["text"]


def test_tpot_target_joins_the_core_and_is_named(mini, tmp_path):
    tpot = tpot_without_npu(mini)
    data = serving(
        slo={"ttft_ms": 2000, "tpot_ms": tpot},
        constraints={"policies": ["approved"], "domestic_share": {"min": 0.5, "measure": "devices"}},
    )
    p = check(data, {"demand:requests_per_s", "domestic_share:workload", f"slo:tpot@{JOB}"}, tmp_path)
    assert f"{tpot:g} ms TPOT target of '{JOB}'" in p.explanation.summary
    assert any("npu-b cannot serve" in d for d in p.explanation.details)
    fix = repair_of(p, f"slo:tpot@{JOB}")
    assert fix["workload_edits"][0]["path"] == "slo.tpot_ms" and fix["required"] > tpot
    assert "npu-b" in parts_under(mini, fix["required"])


def test_slo_no_part_can_meet(mini, tmp_path):
    data = serving(slo={"ttft_ms": 2000, "tpot_ms": 0.5})
    p = check(data, {"demand:requests_per_s", f"slo:tpot@{JOB}"}, tmp_path)
    assert "no accelerator" in p.explanation.summary and "TPOT target" in p.explanation.summary
    assert any("TPOT" in d for d in p.explanation.details)


def test_deadline_and_cluster_cap(mini, tmp_path):
    smallest = min(pool_sizes(mini, 3650).values())  # the memory floor: no deadline helps below it
    assert smallest < min(pool_sizes(mini, 60).values())
    data = training(constraints={"max_cluster_devices": smallest})
    p = check(data, {"cluster:workload", "demand:training", "deadline:unit-training"}, tmp_path)
    assert "60-day deadline" in p.explanation.summary
    cap = repair_of(p, "cluster:workload")
    assert cap["required"] == min(pool_sizes(mini, 60).values())
    assert repair_of(p, "deadline:unit-training")["required"] > 60


def test_fleet_hedge_names_the_member(tmp_path):
    member = {k: v for k, v in serving().items() if k not in ("horizon_months",)}
    data = {
        "name": "hedged",
        "fleet": [{**member, "name": "chat"}],
        "constraints": {"policies": ["approved"], "allow_rental": False, "exclude": ["npu-b"]},
        "hedge": {"lose": {"accelerator": ["gpu-a"]}, "serve_fraction": 0.5},
    }
    # losing gpu-a leaves nothing once npu-b is excluded: the hedge fails whatever the demand
    p = check(data, {"exclude:npu-b", "hedge:loss"}, tmp_path)
    assert repair_of(p, "hedge:loss")["workload_edits"] == [{"path": "hedge", "value": None}]


# ---- the CLI --------------------------------------------------------------------------------------------
def test_cli_json_carries_the_explanation(tmp_path):
    path = write(tmp_path, serving(constraints={"budget": {"total": 1000}}))
    result = CliRunner().invoke(app, [str(path), "--json", "--catalog", str(MINI)])
    assert result.exit_code == 1, result.output
    ex = json.loads(result.output)["explanation"]
    assert set(ex["core"]) == {"budget:total", "demand:requests_per_s"}
    repair = ex["repairs"][0]
    assert {
        "constraint",
        "action",
        "current",
        "required",
        "unit",
        "text",
        "workload_edits",
        "catalog_override",
        "verified",
    } <= set(repair)
    assert [m["name"] for m in ex["members"]] == ex["core"]


def test_cli_table_lists_the_fixes(tmp_path):
    path = write(tmp_path, serving(sites=["west"], constraints={"site_power_kw": {"west": 1}, "allow_rental": False}))
    result = CliRunner().invoke(app, [str(path), "--catalog", str(MINI)])
    assert result.exit_code == 1
    assert "cannot all hold" in result.output and "fix: power at west" in result.output
    assert "constraints.site_power_kw" in result.output


def test_library_without_inputs_still_explains(mini):
    """explain() on a bare problem: the core and model-level repairs, unverified."""
    from planner.solve.explain import explain
    from planner.solve.run import SolverOptions

    problem = prepare(Workload.model_validate(serving(constraints={"budget": {"total": 1000}})), mini)
    ex = explain(problem, SolverOptions(time_limit_s=5, workers=2))
    assert set(ex.core) == {"budget:total", "demand:requests_per_s"}
    assert ex.repairs and not ex.repairs[0]["verified"]


def test_a_moved_cap_is_checked_from_the_plan_that_needs_it(mini):
    """The smallest move comes with a plan meeting it, and that plan alone is a plan of the
    edited problem: the check needs no new search (it is as hard as the optimum otherwise)."""
    from planner.solve import probe, repair
    from planner.solve.run import SolverOptions, variables

    workload = Workload.model_validate(serving(constraints={"budget": {"total": 1000}}))
    problem = prepare(workload, mini)
    options = SolverOptions(time_limit_s=10, workers=1)
    fix = repair.fix_for(problem, "budget:total", options)
    assert fix is not None and fix.plan and fix.required is not None
    moved = copy.deepcopy(workload)
    assert moved.constraints.budget is not None
    moved.constraints.budget.total = fix.required
    edited = prepare(moved, mini)
    b = probe.model(edited)
    for name, var in variables(b).items():  # the plan, fixed: every constraint must hold
        b.model.add(var == fix.plan.get(name, 0))
    assert probe.solve(b, options).feasible


@pytest.mark.parametrize("stopped", [False, True])
def test_a_move_not_proven_least_says_so(mini: Catalog, monkeypatch: pytest.MonkeyPatch, stopped: bool) -> None:
    """A smallest-move search the time limit stopped gives a move that is enough but may not be
    the least: the repair says so (``least`` false and in its text), never claims the minimum."""
    from planner.solve import probe

    real = probe.smallest_move

    def timed_out(*args: Any) -> probe.Probe:
        found = real(*args)
        return probe.Probe("FEASIBLE", found.value, found.solution) if found.status == "OPTIMAL" else found

    if stopped:
        monkeypatch.setattr(probe, "smallest_move", timed_out)
    p = plan_of(serving(constraints={"budget": {"total": 1000}}), mini)
    fix = repair_of(p, "budget:total")
    assert fix["verified"]
    assert fix["least"] is not stopped
    assert ("time limit" in fix["text"]) is stopped


@pytest.mark.parametrize("cut_short", [False, True])
def test_a_floor_found_with_probes_cut_short_is_not_called_least(
    mini: Catalog, monkeypatch: pytest.MonkeyPatch, cut_short: bool
) -> None:
    """The largest floor with a plan is found by bisection; a probe the time limit stopped counts
    as no plan, so the floor found works but may be lower than needed: least is false then."""
    from planner.solve import probe, repair
    from planner.solve.run import SolverOptions

    data = serving(constraints={"policies": ["approved"], "domestic_share": {"min": 0.3, "measure": "devices"}})
    problem = prepare(Workload.model_validate(data), mini)
    real, calls = probe.feasibility, []

    def stopped_after_the_first(*args: Any, **kw: Any) -> probe.Probe:
        calls.append(1)
        return real(*args, **kw) if len(calls) == 1 or not cut_short else probe.Probe("UNKNOWN")

    monkeypatch.setattr(probe, "feasibility", stopped_after_the_first)
    fix = repair.fix_for(problem, "domestic_share:workload", SolverOptions(time_limit_s=10, workers=1))
    assert fix is not None and fix.action == "lower" and len(calls) > 1
    assert fix.least is not cut_short
    if cut_short:
        assert fix.required == 0.0  # every probe above 0 was cut short


@pytest.mark.parametrize("ctrl_c", [False, True])
def test_a_ctrl_c_during_the_explanation_is_said_and_drops_no_member_unchecked(
    mini: Catalog, monkeypatch: pytest.MonkeyPatch, ctrl_c: bool
) -> None:
    """Ctrl-C after the first infeasibility check: the deletion checks and repair searches left
    do not run, every member stays (the set still cannot all hold), and the explanation says it
    is not shown minimal and was stopped."""
    from planner.solve import interrupt
    from planner.solve.explain import explain
    from planner.solve.run import SolverOptions

    problem = prepare(Workload.model_validate(serving(constraints={"budget": {"total": 1000}})), mini)
    asked: list[int] = []

    def after_the_first_check() -> bool:
        asked.append(1)
        return ctrl_c and len(asked) > 1

    monkeypatch.setattr(interrupt, "requested", after_the_first_check)
    ex = explain(problem, SolverOptions(time_limit_s=5, workers=1))
    assert set(ex.core) == {"budget:total", "demand:requests_per_s"}
    assert ex.minimal is not ctrl_c and ex.interrupted is ctrl_c
    assert bool(ex.repairs) is not ctrl_c
    assert len(ex.caveats()) == (2 if ctrl_c else 0)
    if ctrl_c:
        assert "not shown minimal" in ex.caveats()[0] and "Ctrl-C" in ex.caveats()[1]


def test_an_explanation_cut_short_says_so_in_the_terminal_and_the_report(mini: Catalog) -> None:
    from planner.report.document import plan_report

    p = plan_of(serving(constraints={"budget": {"total": 1000}}), mini)
    assert p.explanation is not None
    assert "not shown minimal" not in _shown(p) + " ".join(plan_report(p).explanation)
    p.explanation = p.explanation.model_copy(update={"minimal": False, "interrupted": True})
    shown, report = _shown(p), plan_report(p).explanation
    assert len(p.explanation.caveats()) == 2
    for caveat in p.explanation.caveats():
        assert caveat in shown and f"({caveat})" in report


def _shown(p: planner.Plan) -> str:
    """The terminal's explanation panel as text (wide enough not to wrap)."""
    from rich.console import Console

    from planner.report.terminal import _explanation

    console = Console(width=400, record=True)
    console.print(_explanation(p))
    return console.export_text()

"""The independent verifier catches every misstated figure and every broken constraint.

Three sound plans are made once on the mini catalog (an inference plan with a levy, a subsidy
and a share floor; a two-period fleet with an existing fleet, growth, depreciation and a hedge;
a rented training pool). Each test then changes one thing — one figure of the plan, or one
limit of the workload or catalog the plan is checked against — and the verifier must say so.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import planner
from planner.catalog.store import Catalog
from planner.cli import plan_cmd  # noqa: F401 - registers commands
from planner.cli.app import app
from planner.models.plan import NO_BOUND_WARNING, LineItem, Plan
from planner.verify import verify
from tests.conftest import MINI, serving, training

SUPPORT = {
    "policies": [
        {
            "id": "dom-support",
            "name": "domestic support",
            "summary": "subsidies",
            "date": "2026-01",
            "source": "test fixture",
            "confidence": "assumption",
            "default": True,
            "rules": [
                {"kind": "purchase_subsidy", "match": {"origin": "domestic"}, "fraction": 0.1},
                {"kind": "electricity_subsidy", "match": {"origin": "domestic"}, "sites": ["west"], "fraction": 0.3},
            ],
        }
    ]
}


def _fleet_data() -> dict[str, Any]:
    chat = {k: v for k, v in serving(name="chat", growth_per_period=1.0).items() if k != "horizon_months"}
    return {
        "name": "f",
        "periods": {"count": 2, "months": 12},
        "horizon_months": 24,
        "sites": ["west", "east"],
        "constraints": {"allow_rental": False, "policies": ["approved"]},
        "schedule": {"depreciation_years": 4},
        "hedge": {"lose": {"origin": "foreign"}, "serve_fraction": 0.5},
        "existing_fleet": [{"offer": "gpu-a-server", "units": 1, "site": "east"}],
        "fleet": [chat],
    }


BASES: dict[str, dict[str, Any]] = {
    "foreign": serving(
        sites=["west"], constraints={"policies": ["approved"], "exclude": ["npu-b"], "allow_rental": False}
    ),
    "domestic": serving(sites=["west"], constraints={"exclude": ["gpu-a"], "allow_rental": False}),
    "fleet": _fleet_data(),
    "training": training(constraints={"allow_rental": True}),
    "offshore": serving(constraints={"allow_purchase": False}),
}
"""Each base fixes the parts by its constraints, so the tests hold whatever the perf model's figures."""


class Base:
    """A sound plan, the workload data it was planned for, and the catalog."""

    def __init__(self, root: Path, name: str, cat: Catalog) -> None:
        self.root, self.name, self.cat = root, name, cat
        self.data = BASES[name]
        self.workload = self.load(self.data)
        self.plan = planner.plan(self.workload, cat, time_limit_s=20, workers=2)
        assert self.plan.status == "OPTIMAL" and verify(self.plan, self.workload, cat) == []

    def load(self, data: dict[str, Any]) -> Any:
        path = self.root / f"{self.name}-{abs(hash(yaml.safe_dump(data)))}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return planner.load_workload(path)


@pytest.fixture(scope="module")
def cat(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    path = tmp_path_factory.mktemp("cat") / "support.yaml"
    path.write_text(yaml.safe_dump(SUPPORT, sort_keys=False))
    return planner.load_catalog([MINI, path], bundled=False)


@pytest.fixture(scope="module")
def bases(tmp_path_factory: pytest.TempPathFactory, cat: Catalog) -> dict[str, Base]:
    root = tmp_path_factory.mktemp("plans")
    return {name: Base(root, name, cat) for name in BASES}


def line(plan: Plan, role: str = "replicas", offer: str | None = None, period: int | None = None) -> LineItem:
    found = [
        li
        for li in plan.line_items
        if li.role == role and (offer is None or li.offer == offer) and (period is None or li.period == period)
    ]
    assert found, f"the base plan has no {role} line of {offer} in period {period}"
    return found[0]


def scale_cost(key: str) -> Callable[[Plan], None]:
    """Raise one cost of the first line that has it by 1 %."""

    def go(p: Plan) -> None:
        li = next((li for li in p.line_items if getattr(li.costs, key)), None)
        assert li is not None, f"the base plan has no {key}"
        setattr(li.costs, key, getattr(li.costs, key) * 1.01)

    return go


def setter(get: Callable[[Plan], Any], attr: str, fn: Callable[[Any], Any]) -> Callable[[Plan], None]:
    def go(p: Plan) -> None:
        obj = get(p)
        setattr(obj, attr, fn(getattr(obj, attr)))

    return go


def totals(p: Plan) -> Any:
    return p.totals


def solver(p: Plan) -> Any:
    return p.solver


def serving_line(p: Plan) -> LineItem:
    return line(p, "replicas")


def pool(p: Plan) -> LineItem:
    return line(p, "training pool")


def share(measure: str) -> Callable[[Plan], None]:
    def go(p: Plan) -> None:
        assert p.totals is not None
        p.totals.domestic_share[measure] += 0.05

    return go


def site_power(p: Plan) -> None:
    assert p.totals is not None
    site = next(iter(p.totals.power_kw_by_site))
    p.totals.power_kw_by_site[site] *= 1.1


def shrink_pool(p: Plan) -> None:
    li = pool(p)
    li.units -= 1
    li.devices -= li.devices_per_unit


def drop_serving(p: Plan) -> None:
    p.line_items.remove(serving_line(p))


def carried(p: Plan) -> None:
    line(p, "replicas", "npu-b-server", 1).carried_units += 1


def broken_row(p: Plan) -> None:
    row = next(r for r in p.constraints if r.sense == "<=")
    row.used, row.slack = row.limit + 10, -10.0


def feasible_without_gap(p: Plan) -> None:
    p.solver.status = "FEASIBLE"
    p.solver.gap = None


# (base plan, change to one figure, words the verifier's message must contain)
FIGURES: dict[str, tuple[str, Callable[[Plan], None], str]] = {
    "line capex": ("foreign", scale_cost("capex"), "capex"),
    "line levy": ("foreign", scale_cost("levy"), "levy"),
    "line subsidy": ("domestic", scale_cost("subsidy"), "subsidy"),
    "line energy": ("foreign", scale_cost("energy"), "energy"),
    "line electricity subsidy": ("domestic", scale_cost("electricity_subsidy"), "electricity_subsidy"),
    "line residual": ("fleet", scale_cost("residual"), "residual"),
    "line rental (training pool)": ("training", scale_cost("rental"), "rental"),
    "line rental (serving)": ("offshore", scale_cost("rental"), "rental"),
    "line total": ("foreign", setter(serving_line, "total_usd", lambda v: v + 100), "total"),
    "line units": ("foreign", setter(serving_line, "units", lambda v: v + 1), "units"),
    "line devices": ("domestic", setter(serving_line, "devices", lambda v: v + 8), "devices"),
    "new units said to be carried": ("fleet", carried, "new + existing + carried"),
    "line requests/s": ("foreign", setter(serving_line, "requests_per_s", lambda v: v * 1.1), "requests/s"),
    "line replicas": ("domestic", setter(serving_line, "replicas", lambda v: v + 50), "replicas"),
    "line layout": ("foreign", setter(serving_line, "tp", lambda v: v * 2), "devices per replica"),
    "line output tokens": ("domestic", setter(serving_line, "output_tokens_per_s", lambda v: v * 1.1), "output tokens"),
    "line power": ("foreign", setter(serving_line, "power_kw", lambda v: v * 0.9), "power kW"),
    "line origin": ("foreign", setter(serving_line, "origin", lambda v: "domestic"), "origin"),
    "line site": ("foreign", setter(serving_line, "site", lambda v: "east"), "not one of the workload's sites"),
    "line period": ("foreign", setter(serving_line, "period", lambda v: 3), "outside"),
    "line role": ("foreign", setter(serving_line, "role", lambda v: "idle"), "role"),
    "serving line removed": ("domestic", drop_serving, "needs"),
    "training days": ("training", setter(pool, "training_days", lambda v: v * 0.9), "training days"),
    "training pool shrunk": ("training", shrink_pool, "needs"),
    "total TCO": ("foreign", setter(totals, "tco_usd", lambda v: v * 0.99), "TCO"),
    "total capex": ("fleet", setter(totals, "capex_usd", lambda v: v - 5000), "total capex"),
    "total levy": ("foreign", setter(totals, "levy_usd", lambda v: v * 1.01), "total levy"),
    "total subsidy": ("fleet", setter(totals, "subsidy_usd", lambda v: v * 1.01), "total subsidy"),
    "total energy": ("fleet", setter(totals, "energy_usd", lambda v: v * 1.01), "total energy"),
    "total electricity subsidy": (
        "domestic",
        setter(totals, "electricity_subsidy_usd", lambda v: v * 1.01),
        "total electricity_subsidy",
    ),
    "total residual": ("fleet", setter(totals, "residual_usd", lambda v: v * 1.01), "total residual"),
    "total rental": ("training", setter(totals, "rental_usd", lambda v: v * 1.01), "total rental"),
    "total power": ("foreign", setter(totals, "power_kw", lambda v: v * 0.9), "power kW"),
    "power by site": ("fleet", site_power, "power by site"),
    "total devices": ("fleet", setter(totals, "devices", lambda v: v - 8), "devices"),
    "domestic devices": ("fleet", setter(totals, "domestic_devices", lambda v: v + 8), "domestic devices"),
    "share by devices": ("fleet", share("devices"), "share by devices"),
    "share by compute": ("fleet", share("compute"), "share by compute"),
    "share by throughput": ("fleet", share("throughput"), "share by throughput"),
    "share by spend": ("fleet", share("spend"), "share by spend"),
    "delivered requests/s": (
        "foreign",
        setter(totals, "delivered_requests_per_s", lambda v: v * 1.1),
        "delivered requests/s",
    ),
    "required requests/s": (
        "foreign",
        setter(totals, "required_requests_per_s", lambda v: v / 2),
        "required requests/s",
    ),
    "total training days": ("training", setter(totals, "training_days", lambda v: v - 1), "training days"),
    "cash flow": ("fleet", setter(lambda p: p.cash_flow[1], "energy", lambda v: v + 1000), "cash flow p1 energy"),
    "cash flow total": ("fleet", setter(lambda p: p.cash_flow[0], "total", lambda v: v - 1000), "cash flow p0 total"),
    "schedule new units": ("fleet", setter(lambda p: p.schedule[0], "new_units", lambda v: v + 1), "schedule"),
    "schedule available": ("fleet", setter(lambda p: p.schedule[-1], "available_units", lambda v: v - 1), "schedule"),
    "workload cost": ("fleet", setter(lambda p: p.workloads[0], "cost_usd", lambda v: v * 0.9), "'chat' cost"),
    "workload peak devices": (
        "fleet",
        setter(lambda p: p.workloads[0], "devices_peak", lambda v: v - 8),
        "peak devices",
    ),
    "hedge units": ("fleet", setter(lambda p: p.hedge_allocation[-1], "units", lambda v: v + 100), "hedge"),
    "hedge requests/s": (
        "fleet",
        setter(lambda p: p.hedge_allocation[-1], "requests_per_s", lambda v: v * 1.2),
        "requests/s",
    ),
    "hedge on a lost part": (
        "fleet",
        setter(lambda p: p.hedge_allocation[-1], "offer", lambda v: "gpu-a-server"),
        "assumes lost",
    ),
    "hedge line removed": ("fleet", lambda p: p.hedge_allocation.clear(), "after the loss"),
    "constraint row slack": ("foreign", setter(lambda p: p.constraints[0], "slack", lambda v: v + 1), "slack"),
    "constraint row shows a broken limit": ("foreign", broken_row, "broken limit"),
    "objective": ("foreign", setter(solver, "objective_value", lambda v: v * 1.01), "objective"),
    "optimal with a gap": ("foreign", setter(solver, "gap", lambda v: 0.2), "gap"),
    "feasible without a gap": ("foreign", feasible_without_gap, "gap"),
    "bound above a minimum": ("foreign", setter(solver, "best_bound", lambda v: v * 1.5), "bound"),
}


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_a_misstated_figure_is_caught(name: str, bases: dict[str, Base]) -> None:
    base_name, change, words = FIGURES[name]
    base = bases[base_name]
    bad = base.plan.model_copy(deep=True)
    change(bad)
    assert bad != base.plan, f"{name}: the change changed nothing"
    failures = verify(bad, base.workload, base.cat)
    assert failures, f"{name}: the verifier missed it"
    assert any(words in f for f in failures), f"{name}: {failures}"


def test_no_gap_passes_only_when_the_plan_says_the_run_was_cut_short(bases: dict[str, Base]) -> None:
    base = bases["foreign"]
    plan = base.plan.model_copy(deep=True)
    feasible_without_gap(plan)
    plan.warnings.append(NO_BOUND_WARNING)
    assert not [f for f in verify(plan, base.workload, base.cat) if "gap" in f]


def _with(data: dict[str, Any], **constraints: Any) -> dict[str, Any]:
    out = yaml.safe_load(yaml.safe_dump(data))
    out.setdefault("constraints", {}).update(constraints)
    return out


def _member(data: dict[str, Any], **fields: Any) -> dict[str, Any]:
    out = yaml.safe_load(yaml.safe_dump(data))
    target = out["fleet"][0] if "fleet" in out else out
    for k, v in fields.items():
        if isinstance(v, dict) and isinstance(target.get(k), dict):
            target[k].update(v)
        else:
            target[k] = v
    return out


def _above(b: Base, measure: str) -> dict[str, Any]:
    """A floor just above what the plan reaches by ``measure``."""
    assert b.plan.totals is not None
    got = b.plan.totals.domestic_share[measure]
    assert 0 < got < 0.99, f"the fleet base should mix origins by {measure}: {got}"
    return _with(b.data, domestic_share={"min": (1 + got) / 2, "measure": measure})


def _capex(b: Base) -> float:
    assert b.plan.totals is not None
    return b.plan.totals.capex_usd + b.plan.totals.levy_usd - b.plan.totals.subsidy_usd


# (base plan, the workload changed to one the plan breaks, words of the failure)
LIMITS: dict[str, tuple[str, Callable[[Base], dict[str, Any]], str]] = {
    "budget": ("foreign", lambda b: _with(b.data, budget={"total": b.plan.totals.tco_usd * 0.999}), "budget"),
    "capex budget": ("foreign", lambda b: _with(b.data, budget={"capex": _capex(b) * 0.999}), "capex budget"),
    "site power": (
        "foreign",
        lambda b: _with(b.data, site_power_kw={"west": b.plan.totals.power_kw * 0.99}),
        "power at west",
    ),
    "total power": ("fleet", lambda b: _with(b.data, power_kw=b.plan.totals.power_kw * 0.99), "total power"),
    "floor by devices": ("fleet", lambda b: _above(b, "devices"), "share by devices"),
    "floor by compute": ("fleet", lambda b: _above(b, "compute"), "share by compute"),
    "floor by throughput": ("fleet", lambda b: _above(b, "throughput"), "share by throughput"),
    "floor by spend": ("fleet", lambda b: _above(b, "spend"), "share by spend"),
    "floor by policy": ("foreign", lambda b: _with(b.data, policies=["approved", "floor-50"]), "floor-50"),
    "forced part": ("foreign", lambda b: _with(b.data, force=["npu-b"]), "forces 'npu-b'"),
    "excluded part": ("foreign", lambda b: _with(b.data, exclude=["gpu-a"]), "excluded 'gpu-a'"),
    "policy ban": (
        "foreign",
        lambda b: _with(b.data, policies=["approved", "no-foreign-purchase"]),
        "banned by policy no-foreign-purchase",
    ),
    "policy required": ("foreign", lambda b: _with(b.data, policies=[]), "needs policy approved"),
    "residency": ("offshore", lambda b: _with(b.data, policies=["residency"]), "forbids"),
    "rental not allowed": ("training", lambda b: _with(b.data, allow_rental=False), "rental is not allowed"),
    "purchase not allowed": ("domestic", lambda b: _with(b.data, allow_purchase=False), "purchases are not allowed"),
    "origin not allowed": ("foreign", lambda b: _with(b.data, allowed_origins=["domestic"]), "not allowed"),
    "location not allowed": ("training", lambda b: _with(b.data, allowed_locations=["onshore"]), "not allowed"),
    "cluster cap": ("domestic", lambda b: _with(b.data, max_cluster_devices=1), "cluster"),
    "more traffic": ("domestic", lambda b: _member(b.data, traffic={"requests_per_s": 40}), "needs"),
    "tighter SLO": ("domestic", lambda b: _member(b.data, slo={"ttft_ms": 2000, "tpot_ms": 2}), "SLO"),
    "tighter deadline": ("training", lambda b: _member(b.data, deadline_days=20), "training days"),
    "more growth": ("fleet", lambda b: _member(b.data, growth_per_period=3.0), "needs"),
    "scheduled supply": (
        "fleet",
        lambda b: {
            **b.data,
            "schedule": {
                "depreciation_years": 4,
                "supply": [{"match": {"vendor": ["huawei"]}, "units_per_period": [0]}],
            },
        },
        "scheduled supply",
    ),
    "no depreciation": ("fleet", lambda b: {**b.data, "schedule": {}}, "residual"),
    "bigger hedge": (
        "fleet",
        lambda b: {**b.data, "hedge": {"lose": {"origin": "foreign"}, "serve_fraction": 1.0}},
        "after the loss",
    ),
    "hedge loses the other part": (
        "fleet",
        lambda b: {**b.data, "hedge": {"lose": {"origin": "domestic"}, "serve_fraction": 0.5}},
        "assumes lost",
    ),
}


@pytest.mark.parametrize("name", sorted(LIMITS))
def test_a_broken_limit_is_caught(name: str, bases: dict[str, Base]) -> None:
    base_name, change, words = LIMITS[name]
    base = bases[base_name]
    stricter = base.load(change(base))
    failures = verify(base.plan, stricter, base.cat)
    assert failures, f"{name}: the verifier missed it"
    assert any(words in f for f in failures), f"{name}: {failures}"


def _most_bought(b: Base) -> tuple[str, int]:
    offer, units = max(((li.offer, li.new_units) for li in b.plan.line_items), key=lambda x: x[1])
    assert units > 0
    return offer, units


def _override(target: str, **values: Any) -> dict[str, Any]:
    return {"overrides": [{"target": target, "set": values, "source": "test", "date": "2026-01"}]}


def _policy(rule: dict[str, Any]) -> dict[str, Any]:
    return {
        "policies": [
            {
                "id": "extra",
                "name": "extra rule",
                "summary": "test",
                "date": "2026-01",
                "source": "test",
                "confidence": "assumption",
                "default": True,
                "rules": [rule],
            }
        ]
    }


# (base plan, a catalog overlay the plan breaks, words of the failure)
CATALOG_CHANGES: dict[str, tuple[str, Callable[[Base], dict[str, Any]], str]] = {
    "supply cap": (
        "domestic",
        lambda b: _override(f"offers/{_most_bought(b)[0]}", **{"supply_cap_units.value": _most_bought(b)[1] - 1}),
        "supply cap",
    ),
    "policy cap": (
        "domestic",
        lambda b: _policy(
            {"kind": "cap", "match": {"offer": [_most_bought(b)[0]]}, "max_units": _most_bought(b)[1] - 1}
        ),
        "over its cap",
    ),
    "policy ban": ("domestic", lambda b: _policy({"kind": "ban", "match": {"origin": "domestic"}}), "banned"),
    "policy floor": (
        "fleet",
        lambda b: _policy(
            {"kind": "share_floor", "measure": "devices", "min": b.plan.totals.domestic_share["devices"] + 0.05}
        ),
        "extra",
    ),
    "tie-in ratio": ("foreign", lambda b: _override("policies/approved", **{"rules[0].ratio": 10}), "tied"),
    "price": ("foreign", lambda b: _override("offers/gpu-a-server", **{"price.value": 260000}), "capex"),
    "levy rate": ("foreign", lambda b: _override("policies/levy-25", **{"rules[0].rate": 0.3}), "levy"),
    "subsidy": ("domestic", lambda b: _override("policies/dom-support", **{"rules[0].fraction": 0.2}), "subsidy"),
    "electricity price": ("domestic", lambda b: _override("sites/west", **{"electricity_price.value": 0.5}), "energy"),
    "pue": ("domestic", lambda b: _override("sites/west", **{"pue.value": 1.4}), "power kW"),
    "tdp": ("foreign", lambda b: _override("accelerators/gpu-a", **{"tdp_w.value": 1000}), "power kW"),
    "memory bandwidth": (
        "domestic",
        lambda b: _override("accelerators/npu-b", **{"memory_bw_tbps.value": 1.0}),
        "requests/s",
    ),
    "memory": ("domestic", lambda b: _override("accelerators/npu-b", **{"memory_gb.value": 4}), "fit"),
    "training memory": ("training", lambda b: _override("accelerators/gpu-a", **{"memory_gb.value": 8}), "needs"),
    "rental price": ("training", lambda b: _override("offers/gpu-a-rental-sg", **{"price.value": 4.5}), "rental"),
}


@pytest.mark.parametrize("name", sorted(CATALOG_CHANGES))
def test_figures_come_from_the_catalog(name: str, bases: dict[str, Base], tmp_path: Path) -> None:
    base_name, change, words = CATALOG_CHANGES[name]
    base = bases[base_name]
    path = tmp_path / "overlay.yaml"
    path.write_text(yaml.safe_dump(change(base), sort_keys=False))
    changed = planner.load_catalog([*base.cat.files, path], bundled=False)
    failures = verify(base.plan, base.workload, changed)
    assert failures and any(words in f for f in failures), f"{name}: {failures}"


def test_a_rejected_plan_exits_4_and_is_not_printed(
    bases: dict[str, Base], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import planner.api

    monkeypatch.setattr(planner.api, "verify", lambda plan, workload, catalog: ["TCO: plan says 1, recomputed 2"])
    path = tmp_path / "w.yaml"
    path.write_text(yaml.safe_dump(BASES["foreign"], sort_keys=False))
    result = CliRunner().invoke(app, [str(path), "--catalog", str(MINI)])
    assert result.exit_code == 4
    assert "verifier rejected the plan" in result.output and "TCO: plan says 1, recomputed 2" in result.output
    assert "Fleet" not in result.output and "Traceback" not in result.output
    with pytest.raises(planner.VerificationError):
        planner.plan(planner.load_workload(path), bases["foreign"].cat)


def test_a_period_with_nothing_installed_has_no_share(cat: Catalog, tmp_path: Path) -> None:
    """Regression: a workload starting in period 1 left period 0 empty, and the plan printed a domestic
    share of 0 % and a broken floor row (0 of 0 devices counted as 0 %)."""
    chat = {k: v for k, v in serving(name="chat", start_period=1).items() if k != "horizon_months"}
    data = {
        "name": "late",
        "fleet": [chat],
        "horizon_months": 24,
        "sites": ["west"],
        "periods": {"count": 2, "months": 12},
        "constraints": {
            "allow_rental": False,
            "policies": ["approved"],
            "domestic_share": {"min": 0.5, "measure": "devices"},
        },
    }
    path = tmp_path / "late.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    workload = planner.load_workload(path)
    plan = planner.plan(workload, cat, workers=2)
    assert plan.status == "OPTIMAL" and plan.totals is not None
    assert plan.totals.domestic_share["devices"] >= 0.5
    row = next(r for r in plan.constraints if r.name == "domestic_share:workload")
    assert row.used >= 0.5 and row.slack >= 0
    assert verify(plan, workload, cat) == []

"""One feasible and one infeasible case per constraint family, on the small test catalog.

Each infeasible case also checks that the explanation names the family that collides.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import planner
from planner.catalog.store import Catalog
from planner.verify import verify
from tests.conftest import fixture_figure, mini_with, npu_offer, serving, training


def run(catalog: Catalog, data: dict, write) -> planner.Plan:  # type: ignore[no-untyped-def]
    workload = planner.load_workload(write(data))
    plan = planner.plan(workload, catalog, time_limit_s=10)
    if plan.ok:
        assert verify(plan, workload, catalog) == []
    return plan


def core_families(plan: planner.Plan) -> set[str]:
    assert plan.explanation is not None
    return {name.split(":")[0] for name in plan.explanation.core}


# ---- demand -------------------------------------------------------------------------------
def test_demand_met_with_rounding_down(mini, write_workload):
    plan = run(mini, serving(), write_workload)
    assert plan.status == "OPTIMAL"
    assert plan.totals.delivered_requests_per_s >= 20
    row = next(c for c in plan.constraints if c.name == "demand:requests_per_s")
    assert row.used >= row.limit and row.slack >= 0


def test_demand_impossible_slo_excludes_every_part(mini, write_workload):
    plan = run(mini, serving(slo={"ttft_ms": 2000, "tpot_ms": 0.5}), write_workload)
    assert plan.status == "INFEASIBLE"
    assert "no accelerator" in plan.explanation.summary
    assert any("TPOT" in d for d in plan.explanation.details)


def test_training_pool_meets_deadline(mini, write_workload):
    plan = run(mini, training(), write_workload)
    assert plan.status == "OPTIMAL"
    pools = [li for li in plan.line_items if li.role == "training pool"]
    assert len(pools) == 1 and pools[0].training_days <= 60


def test_training_single_pool_single_site(mini, write_workload):
    plan = run(mini, training(constraints={"policies": ["approved"], "allowed_locations": ["onshore"]}), write_workload)
    assert plan.status == "OPTIMAL"
    assert len({(li.offer, li.site) for li in plan.line_items if li.role == "training pool"}) == 1


# ---- budget -------------------------------------------------------------------------------
def test_budget_holds(mini, write_workload):
    plan = run(mini, serving(constraints={"budget": {"total": 5_000_000}}), write_workload)
    assert plan.status == "OPTIMAL"
    assert plan.totals.tco_usd <= 5_000_000


def test_budget_too_small(mini, write_workload):
    plan = run(mini, serving(constraints={"budget": {"total": 1000}}), write_workload)
    assert plan.status == "INFEASIBLE"
    assert "budget" in core_families(plan)


def test_capex_budget_in_cny_converts(mini, write_workload):
    # 7 CNY per USD in the mini catalog: 700k CNY = 100k USD, below one server
    plan = run(
        mini,
        serving(constraints={"budget": {"capex": 700_000, "currency": "CNY"}, "allow_rental": False}),
        write_workload,
    )
    assert plan.status == "INFEASIBLE"
    assert "budget" in core_families(plan)


# ---- power --------------------------------------------------------------------------------
def test_power_cap_per_site_holds(mini, write_workload):
    free = run(mini, serving(sites=["west"], constraints={"allow_rental": False}), write_workload)
    used = free.totals.power_kw_by_site["west"]
    data = serving(sites=["west"], constraints={"site_power_kw": {"west": used}, "allow_rental": False})
    plan = run(mini, data, write_workload)
    assert plan.status == "OPTIMAL"
    assert plan.totals.power_kw_by_site.get("west", 0) <= used + 1e-6
    assert next(c for c in plan.constraints if c.name == "power:west").binding


def test_power_cap_too_small(mini, write_workload):
    data = serving(sites=["west"], constraints={"site_power_kw": {"west": 1}, "allow_rental": False})
    plan = run(mini, data, write_workload)
    assert plan.status == "INFEASIBLE"
    assert core_families(plan) >= {"power"}


def test_power_counts_pue(mini, write_workload):
    plan = run(mini, serving(sites=["west"], constraints={"allow_rental": False}), write_workload)
    li = plan.line_items[0]
    acc_w = {"gpu-a": 700, "npu-b": 400}[li.accelerator]
    assert li.power_kw == pytest.approx(li.devices * acc_w / 1000 * 1.2)


# ---- supply and cluster caps ---------------------------------------------------------------
def test_supply_cap_limits_units(tmp_path, mini, write_workload):
    only_npu = serving(constraints={"allow_rental": False, "exclude": ["gpu-a"]})
    need = sum(li.new_units for li in run(mini, only_npu, write_workload).line_items)
    # a cap at exactly what the cheapest plan buys holds and binds
    cat = mini_with(tmp_path, {"offers": [npu_offer(supply_cap_units=fixture_figure(need))]})
    plan = run(cat, only_npu, write_workload)
    assert plan.status == "OPTIMAL"
    assert sum(li.new_units for li in plan.line_items if li.offer == "npu-b-server") <= need
    row = next(c for c in plan.constraints if c.name == "supply:npu-b-server")
    assert row.binding and row.used == need


def test_supply_cap_too_small(tmp_path, write_workload):
    cat = mini_with(tmp_path, {"offers": [npu_offer(supply_cap_units=fixture_figure(1))]})
    plan = run(cat, serving(constraints={"allow_rental": False, "exclude": ["gpu-a"]}), write_workload)
    assert plan.status == "INFEASIBLE"
    assert "supply" in core_families(plan)


def test_cluster_cap_blocks_large_training_pool(mini, write_workload):
    ok = run(mini, training(constraints={"max_cluster_devices": 4096}), write_workload)
    assert ok.status == "OPTIMAL"
    bad = run(mini, training(constraints={"max_cluster_devices": 16}), write_workload)
    assert bad.status == "INFEASIBLE"
    assert "cluster" in core_families(bad)


# ---- domestic share -------------------------------------------------------------------------
@pytest.mark.parametrize("measure", ["devices", "compute", "throughput", "spend"])
def test_domestic_floor_holds_by_each_measure(mini, write_workload, measure):
    data = serving(constraints={"policies": ["approved"], "domestic_share": {"min": 0.5, "measure": measure}})
    plan = run(mini, data, write_workload)
    assert plan.status == "OPTIMAL"
    assert plan.totals.domestic_share[measure] >= 0.5 - 1e-9


def test_domestic_floor_impossible_without_domestic_parts(mini, write_workload):
    data = serving(
        constraints={
            "policies": ["approved"],
            "exclude": ["npu-b"],
            "domestic_share": {"min": 0.3, "measure": "devices"},
        }
    )
    plan = run(mini, data, write_workload)
    assert plan.status == "INFEASIBLE"
    assert {"domestic_share", "exclude"} <= core_families(plan)


def test_policy_floor_applies(mini, write_workload):
    plan = run(mini, serving(constraints={"policies": ["approved", "floor-50"]}), write_workload)
    assert plan.totals.domestic_share["devices"] >= 0.5


def test_existing_fleet_counts_toward_floor(mini, write_workload):
    data = serving(
        constraints={"policies": ["approved"], "domestic_share": {"min": 0.5, "measure": "devices"}},
        existing_fleet=[{"offer": "npu-b-server", "units": 4, "site": "west"}],
    )
    plan = run(mini, data, write_workload)
    assert plan.status == "OPTIMAL"
    owned = [li for li in plan.line_items if li.existing_units]
    assert sum(li.existing_units for li in owned) == 4
    assert all(li.costs.capex == 0 for li in owned if li.new_units == 0)


# ---- policies ---------------------------------------------------------------------------------
def test_requires_policy_keeps_offer_out(mini, write_workload):
    plan = run(mini, serving(constraints={"allow_rental": False}), write_workload)
    assert all(li.accelerator != "gpu-a" for li in plan.line_items)
    approved = run(mini, serving(constraints={"allow_rental": False, "policies": ["approved"]}), write_workload)
    assert any(li.accelerator == "gpu-a" for li in approved.line_items)


def test_levy_is_25_percent_of_price(mini, write_workload):
    plan = run(
        mini,
        serving(constraints={"allow_rental": False, "policies": ["approved"], "exclude": ["npu-b"]}),
        write_workload,
    )
    for li in plan.line_items:
        assert li.costs.levy == pytest.approx(0.25 * 250_000 * li.new_units)


def test_ban_policy_and_exclusion_collide(mini, write_workload):
    data = serving(
        constraints={"policies": ["approved", "no-foreign-purchase"], "exclude": ["npu-b"], "allow_rental": False}
    )
    plan = run(mini, data, write_workload)
    assert plan.status == "INFEASIBLE"
    assert {"policy", "exclude"} <= core_families(plan) | {"allow"}


def test_residency_keeps_serving_onshore(mini, write_workload):
    data = serving(constraints={"policies": ["residency"], "allow_purchase": False})
    plan = run(mini, data, write_workload)
    assert plan.status == "INFEASIBLE"
    assert {"residency", "allow"} <= core_families(plan)
    open_plan = run(mini, serving(constraints={"allow_purchase": False}), write_workload)
    assert open_plan.status == "OPTIMAL"
    assert all(li.location == "offshore" for li in open_plan.line_items)


def test_tie_in_ratio_requires_domestic_purchases(tmp_path, write_workload):
    policy = {
        "id": "approved",
        "name": "approved with tie-in",
        "summary": "s",
        "date": "2026-01",
        "source": "test fixture",
        "confidence": "assumption",
        "rules": [{"kind": "tie_in", "match": {"accelerator": ["gpu-a"], "mode": "purchase"}, "ratio": 1.0}],
    }
    cat = mini_with(tmp_path, {"policies": [policy]})
    data = serving(constraints={"policies": ["approved"], "allow_rental": False})
    plan = run(cat, data, write_workload)
    assert plan.status == "OPTIMAL"
    foreign = sum(li.new_units * li.devices_per_unit for li in plan.line_items if li.origin == "foreign")
    domestic = sum(li.new_units * li.devices_per_unit for li in plan.line_items if li.origin == "domestic")
    assert domestic >= foreign


# ---- objectives -----------------------------------------------------------------------------
def test_max_throughput_spends_the_budget(mini, write_workload):
    cheapest = run(mini, serving(constraints={"allow_rental": False}), write_workload).totals.tco_usd
    data = serving(objective="max_throughput", constraints={"budget": {"total": 3 * cheapest}, "allow_rental": False})
    plan = run(mini, data, write_workload)
    assert plan.status == "OPTIMAL"
    assert plan.totals.tco_usd <= 3 * cheapest + 1e-6
    assert plan.totals.delivered_requests_per_s > 20
    # what is left of the budget could not buy one more replica of anything used
    row = next(c for c in plan.constraints if c.name == "budget:total")
    per_replica = max(
        li.total_usd / li.units * -(-(li.devices_per_replica or 1) // li.devices_per_unit)
        for li in plan.line_items
        if li.units
    )
    assert row.slack <= per_replica + 1e-6


def test_min_power_uses_less_power_than_min_tco(mini, write_workload):
    base = run(mini, serving(constraints={"allow_rental": False, "policies": ["approved"]}), write_workload)
    low = run(
        mini,
        serving(objective="min_power", constraints={"allow_rental": False, "policies": ["approved"]}),
        write_workload,
    )
    assert low.totals.power_kw <= base.totals.power_kw + 1e-9
    assert low.totals.tco_usd >= base.totals.tco_usd - 1e-6


def test_paths_resolve() -> None:
    assert Path(__file__).exists()


def test_allowed_origins_domestic_only(mini, write_workload):
    plan = run(mini, serving(constraints={"allowed_origins": ["domestic"], "policies": ["approved"]}), write_workload)
    assert plan.status == "OPTIMAL" and all(li.origin == "domestic" for li in plan.line_items)
    none = run(mini, serving(constraints={"allowed_origins": ["domestic"], "exclude": ["npu-b"]}), write_workload)
    assert none.status == "INFEASIBLE" and "allow" in core_families(none)

"""Fleets, schedules and hedges: several workloads over periods sharing one set of constraints."""

from __future__ import annotations

import itertools
import math

import pytest
import yaml

import planner
from planner.errors import InputError
from planner.models.fleet import Fleet
from planner.solve.prepare import prepare
from planner.verify import verify
from tests.conftest import fixture_figure, mini_with, npu_offer, serving, training


def fleet(**over) -> dict:  # type: ignore[no-untyped-def]
    data = {
        "name": "unit-fleet",
        "fleet": [
            serving(name="chat-a"),
            serving(name="chat-b", traffic={"requests_per_s": 5, "input_tokens": 500, "output_tokens": 100}),
        ],
        "horizon_months": 24,
        "sites": ["west"],
        "constraints": {"allow_rental": False},
    }
    for m in data["fleet"]:
        m.pop("horizon_months", None)
    data.update(over)
    return data


def run(cat, data, write):  # type: ignore[no-untyped-def]
    inp = planner.load_workload(write(data))
    plan = planner.plan(inp, cat, time_limit_s=20)
    if plan.ok:
        assert verify(plan, inp, cat) == []
    return inp, plan


def test_fleet_file_loads_as_fleet(write_workload):
    inp = planner.load_workload(write_workload(fleet()))
    assert isinstance(inp, Fleet) and [m.name for m in inp.fleet] == ["chat-a", "chat-b"]


def test_member_errors_name_the_member(write_workload, mini):
    data = fleet()
    data["fleet"][1]["model"] = {"preset": "dense-7b"}
    path = write_workload(data)
    with pytest.raises(InputError) as info:
        planner.plan(planner.load_workload(path), mini)
    problem = info.value.problems[0]
    assert problem.field == "fleet[1].model.preset" and problem.line is not None and "dense-70b" in (problem.hint or "")


def test_duplicate_member_names_refused(write_workload):
    data = fleet()
    data["fleet"][1]["name"] = "chat-a"
    with pytest.raises(InputError) as info:
        planner.load_workload(write_workload(data))
    assert "unique" in info.value.render()


def test_two_workloads_share_one_fleet(mini, write_workload):
    _, plan = run(mini, fleet(constraints={"allow_rental": False, "budget": {"total": 10_000_000}}), write_workload)
    assert plan.status == "OPTIMAL" and plan.kind == "inference"
    served = {li.workload for li in plan.line_items if li.role == "replicas"}
    assert served == {"chat-a", "chat-b"}
    assert {w.name for w in plan.workloads} == {"chat-a", "chat-b"}
    assert sum(w.cost_usd for w in plan.workloads) <= plan.totals.tco_usd + 1e-6


def test_growth_buys_over_time_and_cash_flow_adds_up(mini, write_workload):
    data = fleet(periods={"count": 4, "months": 6}, horizon_months=24)
    data["fleet"][0]["growth_per_period"] = 0.5
    _, plan = run(mini, data, write_workload)
    assert plan.status == "OPTIMAL" and plan.periods == 4
    bought = [sum(r.new_units for r in plan.schedule if r.period == t) for t in range(4)]
    assert bought[0] > 0 and sum(bought[1:]) > 0, bought
    in_service = [sum(r.available_units for r in plan.schedule if r.period == t) for t in range(4)]
    assert in_service == sorted(in_service)
    assert sum(r.total for r in plan.cash_flow) == pytest.approx(plan.totals.tco_usd, rel=1e-9)


def test_lead_time_delays_service(tmp_path, write_workload):
    offer = npu_offer(lead_time_weeks=fixture_figure(26))
    cat = mini_with(tmp_path, {"offers": [offer]})
    data = fleet(periods={"count": 3, "months": 6}, constraints={"allow_rental": False, "exclude": ["gpu-a-server"]})
    data["fleet"] = [serving(name="chat-a")]
    data["fleet"][0].pop("horizon_months")
    data["fleet"][0]["start_period"] = 1
    _, plan = run(cat, data, write_workload)
    assert plan.status == "OPTIMAL"
    buys = [r for r in plan.schedule if r.offer == "npu-b-server" and r.new_units]
    assert buys and min(r.period for r in buys) == 0, "must order a period ahead of the demand"
    assert all(r.available_units == 0 for r in plan.schedule if r.offer == "npu-b-server" and r.period == 0)


def test_licence_revoked_stops_new_purchases(mini, write_workload):
    data = fleet(
        periods={"count": 3, "months": 6, "start": "2026-01-01"},
        constraints={"allow_rental": False, "policies": ["approved"], "exclude": ["npu-b"]},
        schedule={"events": [{"date": "2026-07-01", "policy_off": ["approved"]}]},
    )
    data["fleet"][0]["growth_per_period"] = 1.0
    _, plan = run(mini, data, write_workload)
    # gpu-a needs 'approved': the plan buys ahead of the revocation for the demand still to come
    assert plan.status == "OPTIMAL"
    gpu = [r for r in plan.schedule if r.offer == "gpu-a-server"]
    assert all(r.new_units == 0 for r in gpu if r.period >= 1)
    assert sum(r.new_units for r in gpu if r.period == 0) > 0
    # without the purchase window in period 0 no fleet can serve: the revocation is in the core
    data["schedule"]["events"][0]["date"] = "2026-01-01"
    _, none = run(mini, data, write_workload)
    assert none.status == "INFEASIBLE" and "requires:approved" in none.explanation.core


def test_rising_floor_applies_from_its_date(mini, write_workload):
    data = fleet(
        periods={"count": 2, "months": 12, "start": "2026-01-01"},
        constraints={
            "allow_rental": False,
            "policies": ["approved"],
            "domestic_share": {"min": 0.0, "measure": "devices"},
        },
        schedule={"events": [{"date": "2027-01-01", "domestic_share_min": 0.75}]},
    )
    _, plan = run(mini, data, write_workload)
    assert plan.status == "OPTIMAL"
    last = [r for r in plan.schedule if r.period == 1]
    dom = sum(r.devices_available for r in last if r.origin == "domestic")
    assert dom >= 0.75 * sum(r.devices_available for r in last)


def test_hedge_survives_loss_and_reports_premium(mini, write_workload):
    data = fleet(
        constraints={"allow_rental": False, "policies": ["approved"]},
        hedge={"lose": {"origin": "foreign"}, "serve_fraction": 0.8},
    )
    _, plan = run(mini, data, write_workload)
    assert plan.status == "OPTIMAL"
    row = next(c for c in plan.constraints if c.name == "hedge:loss")
    assert row.used >= 0.8 - 1e-9
    assert plan.hedge_premium_usd is not None and plan.hedge_premium_usd >= -1e-6


def test_hedge_impossible_without_survivors(mini, write_workload):
    data = fleet(
        constraints={"allow_rental": False, "policies": ["approved"], "exclude": ["npu-b"]},
        hedge={"lose": {"origin": "foreign"}, "serve_fraction": 0.5},
    )
    _, plan = run(mini, data, write_workload)
    assert plan.status == "INFEASIBLE" and "hedge:loss" in plan.explanation.core


def test_training_and_serving_in_one_fleet(mini, write_workload):
    train = training(name="train-a", start_period=0)
    data = fleet(periods={"count": 2, "months": 6}, constraints={"allow_rental": True})
    data["fleet"].append(train)
    _, plan = run(mini, data, write_workload)
    assert plan.status == "OPTIMAL" and plan.kind == "fleet"
    pools = [li for li in plan.line_items if li.role == "training pool" and li.workload == "train-a"]
    assert pools and all(li.training_days <= 60 for li in pools)


def test_brute_force_small_schedule(mini, write_workload):
    """Two periods, one domestic offer at one site: enumerate every purchase plan."""
    data = fleet(periods={"count": 2, "months": 12}, constraints={"allow_rental": False, "exclude": ["gpu-a-server"]})
    data["fleet"] = [serving(name="chat-a")]
    data["fleet"][0].pop("horizon_months")
    data["fleet"][0]["growth_per_period"] = 1.0
    inp = planner.load_workload(write_workload(data))
    plan = planner.plan(inp, mini)
    problem = prepare(inp, mini)
    (g,) = [g for g in problem.groups.values() if g.offer == "npu-b-server"]
    cands = [c for c in problem.candidates.values() if c.group == g.key]
    need = problem.jobs["chat-a"].required_rps
    per_unit = max(c.requests_per_s / c.block_units for c in cands)
    top = math.ceil(max(need) / per_unit) + max(c.block_units for c in cands)
    best = math.inf
    for n0, n1 in itertools.product(range(0, top + 1), repeat=2):
        cost = 0.0
        for t, avail in enumerate((n0, n0 + n1)):
            # cheapest way to serve need[t] from `avail` units with any mix of candidate blocks
            options = [
                units
                for counts in itertools.product(*(range(0, avail // c.block_units + 1) for c in cands))
                if (units := sum(k * c.block_units for k, c in zip(counts, cands, strict=True))) <= avail
                and sum(k * c.requests_per_s for k, c in zip(counts, cands, strict=True)) >= need[t] - 1e-9
            ]
            if not options:
                cost = math.inf
                break
            hours = problem.periods[t].hours
            cost += min(options) * (g.energy_per_unit_hour[t] - g.electricity_subsidy_per_unit_hour[t]) * hours
        unit = [lc.capex + lc.levy - lc.subsidy for lc in g.unit_costs]
        cost += n0 * unit[0] + n1 * unit[1]
        best = min(best, cost)
    assert plan.status == "OPTIMAL"
    assert plan.totals.tco_usd == pytest.approx(best, abs=plan.solver.max_rounding_error_usd + 1)


def test_fleet_file_in_yaml_roundtrip(write_workload, tmp_path):
    path = write_workload(fleet())
    assert "fleet:" in path.read_text() and yaml.safe_load(path.read_text())["fleet"][0]["name"] == "chat-a"

"""What binds and what it costs: marginal values (re-solved) and the price of each policy."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import planner
from planner.cli import plan_cmd  # noqa: F401 - registers commands
from planner.cli.app import app
from planner.models.workload import Workload
from tests.conftest import MINI, serving
from tests.test_explain import write


def plan(data: dict, mini, **kw) -> planner.Plan:  # type: ignore[no-untyped-def]
    return planner.plan(Workload.model_validate(data), mini, time_limit_s=10, workers=2, **kw)


def test_default_plan_has_no_sensitivity(mini):
    assert plan(serving(), mini).sensitivity is None


def test_floor_price_is_the_optimum_with_minus_without(mini):
    data = serving(constraints={"policies": ["approved"], "domestic_share": {"min": 0.5, "measure": "devices"}})
    p = plan(data, mini, why=True)
    free = plan(serving(constraints={"policies": ["approved"]}), mini)
    price = next(x for x in p.sensitivity.policy_prices if x.constraint == "domestic_share:workload")
    assert price.status_without == "OPTIMAL"
    assert price.price >= 0
    # the objective rounds each coefficient up to whole USD: compare within that resolution
    assert price.price == pytest.approx(p.totals.tco_usd - free.totals.tco_usd, rel=1e-4, abs=100)
    assert "costs" in price.text and "over 3 years" in price.text


def test_every_gain_and_price_has_the_right_sign(mini):
    data = serving(constraints={"policies": ["approved", "floor-50", "residency"], "exclude": ["gpu-a-rental-sg"]})
    p = plan(data, mini, why=True)
    sens = p.sensitivity
    assert sens is not None and sens.unit == "USD"
    assert sens.objective_value == pytest.approx(p.solver.objective_value)
    assert sens.marginals, "the demand at least binds"
    for m in sens.marginals:
        assert m.status == "OPTIMAL" and m.gain is not None and m.gain >= -1e-6, m
    assert {x.constraint for x in sens.policy_prices} >= {"domestic_share:floor-50", "exclude:gpu-a-rental-sg"}
    for x in sens.policy_prices:
        assert x.price is not None and x.price >= -1e-6, x


def test_binding_budget_gains_throughput(mini):
    data = serving(objective="max_throughput", constraints={"budget": {"total": 2_000_000}, "allow_rental": False})
    p = plan(data, mini, why=True)
    budget = next(m for m in p.sensitivity.marginals if m.constraint == "budget:total")
    assert budget.moved_to == pytest.approx(2_200_000)
    assert budget.gain > 0 and p.sensitivity.unit == "req/s" and "gains" in budget.text


def test_binding_power_cap_has_a_non_negative_value(mini):
    # the cheapest fleet sits at west (cheaper power); capping west at half its draw pushes units east
    cons = {"policies": ["approved"], "allow_rental": False}
    free = plan(serving(sites=["west", "east"], constraints=cons), mini)
    west = free.totals.power_kw_by_site["west"]
    data = serving(sites=["west", "east"], constraints={**cons, "site_power_kw": {"west": west / 2}})
    p = plan(data, mini, why=True)
    assert p.ok and p.totals.tco_usd >= free.totals.tco_usd - 1e-6
    power = next(m for m in p.sensitivity.marginals if m.constraint == "power:west")
    assert power.moved_to == pytest.approx(west / 2 * 1.1) and power.status == "OPTIMAL"
    assert power.gain >= -1e-6 and "power at west" in power.text
    # one step cannot save more than the whole cap costs
    assert p.totals.tco_usd - free.totals.tco_usd >= power.gain - 1e-6


def test_cli_why_prints_the_panel(tmp_path):
    path = write(tmp_path, serving(constraints={"policies": ["approved", "floor-50"]}))
    result = CliRunner().invoke(app, [str(path), "--catalog", str(MINI), "--why"])
    assert result.exit_code == 0, result.output
    assert "Why this plan" in result.output and "floor" in result.output

"""'Why not X?': constraints.force, --force and --exclude, with the cost against the optimum."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import planner
from planner.cli import plan_cmd  # noqa: F401 - registers commands
from planner.cli.app import app
from planner.errors import InputError
from planner.models.workload import Workload
from planner.verify import verify
from tests.conftest import MINI, serving, training
from tests.test_explain import check, write

APPROVED = {"policies": ["approved"]}


def plan(data: dict, mini, **kw) -> planner.Plan:  # type: ignore[no-untyped-def]
    return planner.plan(Workload.model_validate(data), mini, time_limit_s=10, workers=2, **kw)


def serving_on(p: planner.Plan, ident: str) -> bool:
    return any(ident in (li.accelerator, li.vendor, li.offer) and li.role == "replicas" for li in p.line_items)


@pytest.mark.parametrize("ident", ["npu-b", "huawei", "npu-b-server", "gpu-a", "gpu-a-rental-sg"])
def test_force_costs_at_least_the_optimum_and_serves_on_the_part(mini, ident):
    data = serving(constraints=APPROVED)
    forced = plan(data, mini, force=[ident])
    assert forced.ok and forced.what_if is not None
    assert serving_on(forced, ident)
    assert forced.what_if.delta_usd >= -1e-6
    assert forced.what_if.baseline_tco_usd == pytest.approx(plan(data, mini).totals.tco_usd)
    assert verify(forced, Workload.model_validate(serving(constraints={**APPROVED, "force": [ident]})), mini) == []


def test_force_in_the_workload_file(mini):
    data = serving(constraints={**APPROVED, "force": ["npu-b"]})
    p = plan(data, mini)
    assert p.ok and serving_on(p, "npu-b")
    row = next(c for c in p.constraints if c.name == "force:npu-b")
    assert row.used >= 1 and row.family == "force"


def test_force_training_pool(mini):
    p = plan(training(), mini, force=["npu-b"])
    assert p.ok and any(li.accelerator == "npu-b" and li.role == "training pool" for li in p.line_items)
    assert p.what_if.delta_usd >= -1e-6


@pytest.mark.parametrize("ident", ["gpu-a", "nvidia", "gpu-a-rental-sg"])
def test_exclude_costs_at_least_the_optimum(mini, ident):
    data = serving(constraints=APPROVED)
    p = plan(data, mini, exclude=[ident])
    assert p.ok and not any(ident in (li.accelerator, li.vendor, li.offer) for li in p.line_items)
    assert p.what_if.delta_usd >= -1e-6 and p.what_if.excluded == [ident]


def test_forcing_the_optimum_costs_nothing(mini):
    base = plan(serving(constraints=APPROVED), mini)
    used = next(li.accelerator for li in base.line_items if li.role == "replicas")
    p = plan(serving(constraints=APPROVED), mini, force=[used])
    assert p.what_if.delta_usd == pytest.approx(0.0, abs=1e-6)
    assert "costs nothing" in p.what_if.text


def test_force_names_the_constraint_it_breaks(tmp_path):
    # gpu-a is only sold to approved customers and its rental is disallowed: forcing it breaks both
    data = serving(constraints={"allow_rental": False, "force": ["gpu-a"]})
    p = check(data, {"allow:rental", "force:gpu-a", "requires:approved"}, tmp_path)
    texts = " | ".join(r["text"] for r in p.explanation.repairs)
    assert "stop forcing gpu-a" in texts and "switch on policy 'approved'" in texts and "allow rental" in texts


def test_force_with_what_if_reports_the_conflict(mini):
    p = plan(serving(constraints={"allow_rental": False}), mini, force=["gpu-a"])
    assert p.status == "INFEASIBLE" and p.what_if.tco_usd is None and p.what_if.baseline_tco_usd is not None
    assert "leaves no plan" in p.what_if.text and "force:gpu-a" in p.what_if.text


def test_unknown_force_id_is_an_input_error(mini):
    with pytest.raises(InputError):
        plan(serving(constraints={"force": ["gpu-zzz"]}), mini)


def test_cli_force_and_exclude(tmp_path):
    path = write(tmp_path, serving(constraints=APPROVED))
    result = CliRunner().invoke(app, [str(path), "--catalog", str(MINI), "--force", "npu-b", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["what_if"]["forced"] == ["npu-b"] and data["what_if"]["delta_usd"] >= 0
    table = CliRunner().invoke(app, [str(path), "--catalog", str(MINI), "--exclude", "gpu-a", "--exclude", "nvidia"])
    assert table.exit_code == 0 and "Why not?" in table.output and "excluding gpu-a, nvidia" in table.output
    bad = CliRunner().invoke(app, [str(path), "--catalog", str(MINI), "--force", "gpu-zzz"])
    assert bad.exit_code == 2

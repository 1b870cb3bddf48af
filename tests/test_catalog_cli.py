"""``plan catalog list | show | validate`` and ``plan --as-of`` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from planner.catalog.store import BUNDLED_DIR
from planner.cli import catalog_cmd, plan_cmd  # noqa: F401 - registers the commands
from planner.cli.app import app
from tests.conftest import MINI, ROOT, serving

runner = CliRunner()
MY_QUOTES = str(ROOT / "examples" / "overlays" / "my-quotes.yaml")


def test_list_one_kind_as_json() -> None:
    result = runner.invoke(app, ["catalog", "list", "--kind", "offers", "--json", "--currency", "CNY"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {"as_of", "currency", "fx_cny_per_usd", "offers"}
    h200 = next(o for o in data["offers"] if o["id"] == "nvidia-h200-hgx-purchase-cn")
    assert h200["price_in"] == {"value": 1400000.0, "currency": "CNY", "per": "unit"}
    rental = next(o for o in data["offers"] if o["id"] == "nvidia-h200-rental-sg-gcp")
    assert rental["price_in"]["value"] == rental["price"]["value"] * data["fx_cny_per_usd"]["value"]


def test_list_every_kind_as_tables() -> None:
    result = runner.invoke(app, ["catalog", "list"])
    assert result.exit_code == 0, result.output
    for kind in ("accelerators (", "offers (", "sites (", "policies (", "models (", "stacks ("):
        assert kind in result.output
    assert "FX: 7.055 CNY per USD" in result.output


def test_list_as_of_marks_what_was_not_yet_available() -> None:
    result = runner.invoke(app, ["catalog", "list", "-k", "accelerators", "--as-of", "2025-06-01", "--json"])
    data = json.loads(result.output)
    avail = {a["id"]: a["available_as_of"] for a in data["accelerators"]}
    assert avail["huawei-ascend-910b"] and not avail["huawei-ascend-950dt"] and not avail["nvidia-b300"]


def test_show_lists_every_figure_with_source_date_confidence_and_alternatives() -> None:
    result = runner.invoke(app, ["catalog", "show", "h200"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "accelerators/nvidia-h200-sxm-141gb" in out and "dense_tflops.bf16" in out
    assert "989" in out and "1,979" in out and "alternative" in out and "sparse" in out
    assert "spec" in out and "2024-08" in out and "mlcommons" in out


def test_show_converts_prices_with_the_dated_rate() -> None:
    result = runner.invoke(app, ["catalog", "show", "nvidia-h200-hgx-purchase-cn", "--currency", "USD"])
    assert result.exit_code == 0, result.output
    assert "198,441 USD/unit (1,400,000 CNY/unit)" in result.output
    assert "FX: 7.055 CNY per USD (2025-12-19" in result.output


def test_show_honours_overlays_and_names_them() -> None:
    result = runner.invoke(app, ["catalog", "show", "huawei-910b-server-purchase-cn", "--catalog", MY_QUOTES])
    assert result.exit_code == 0, result.output
    assert "overridden: price.value" in result.output and "280,000 USD/unit" in result.output


def test_show_unknown_id_exits_2_with_a_suggestion() -> None:
    typo = runner.invoke(app, ["catalog", "show", "huawei-ascnd-910c"])
    assert typo.exit_code == 2
    assert "no entry" in typo.output and "did you mean 'huawei-ascend-910c'" in typo.output
    part = runner.invoke(app, ["catalog", "show", "cm384"])
    assert part.exit_code == 2 and "offers/huawei-cm384-supernode-purchase-cn" in part.output


def test_validate_bundled_files_and_the_example_overlay() -> None:
    files = [str(p) for p in sorted(BUNDLED_DIR.glob("*.yaml"))] + [MY_QUOTES]
    result = runner.invoke(app, ["catalog", "validate", *files])
    assert result.exit_code == 0, result.output
    assert result.output.count("ok: ") == len(files)


def test_validate_bad_file_exits_2_with_file_line_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "version: 1\noverrides:\n- target: offers/nvidia-h200-hgx-purchase-cn\n"
        "  set: {price.vaule: 1}\n  source: my quote\n  date: 2026-01\n"
    )
    result = runner.invoke(app, ["catalog", "validate", str(path)])
    assert result.exit_code == 2
    assert f"{path}:4: field 'overrides[0].set.price.vaule'" in result.output
    assert "Traceback" not in result.output


def test_validate_flags_implausible_units(tmp_path: Path) -> None:
    path = tmp_path / "units.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "overrides": [
                    {"target": "accelerators/h200", "set": {"tdp_w.value": 7000}, "source": "typo", "date": "2026-01"}
                ]
            }
        )
    )
    warn = runner.invoke(app, ["catalog", "validate", str(path)])
    assert warn.exit_code == 0 and "tdp_w = 7000 is outside the plausible 50-2000 W" in warn.output
    assert runner.invoke(app, ["catalog", "validate", "--strict", str(path)]).exit_code == 2


def test_bad_kind_and_currency_are_usage_errors() -> None:
    assert runner.invoke(app, ["catalog", "list", "--kind", "gadgets"]).exit_code == 2
    assert runner.invoke(app, ["catalog", "show", "h200", "--currency", "EUR"]).exit_code == 2


def test_plan_still_routes_to_the_default_command_with_as_of(tmp_path: Path) -> None:
    work = tmp_path / "w.yaml"
    work.write_text(yaml.safe_dump(serving()))
    result = runner.invoke(app, [str(work), "--catalog", str(MINI), "--as-of", "2026-11-01", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["status"] == "OPTIMAL"
    bad = runner.invoke(app, [str(work), "--as-of", "2026-13-45"])
    assert bad.exit_code == 2 and "not a date" in bad.output

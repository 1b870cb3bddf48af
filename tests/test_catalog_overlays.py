"""User overlays: partial overrides change what they name and nothing else; bad ones are located."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

import planner
from planner.catalog.store import KINDS, Catalog
from planner.errors import InputError
from tests.conftest import MINI, ROOT, serving

MY_QUOTES = ROOT / "examples" / "overlays" / "my-quotes.yaml"


def _write(tmp_path: Path, overrides: list[dict[str, Any]], **extra: Any) -> Path:
    path = tmp_path / "overlay.yaml"
    path.write_text(yaml.safe_dump({"version": 1, **extra, "overrides": overrides}, sort_keys=False))
    return path


def _ov(target: str, **sets: Any) -> dict[str, Any]:
    return {"target": target, "set": dict(sets), "source": "test quote", "date": "2026-11-01", "confidence": "spec"}


def _drop(data: dict[str, Any], path: str) -> None:
    """Remove the figure (or field) a set path names, so the rest can be compared."""
    parts = path.replace("]", "").replace("[", ".").split(".")
    if parts[-1] == "value":
        parts = parts[:-1]
    node: Any = data
    for p in parts[:-1]:
        node = node[int(p)] if isinstance(node, list) else node[p]
    if isinstance(node, list):
        node[int(parts[-1])] = None
    else:
        node.pop(parts[-1], None)


def test_example_overlay_overrides_what_it_names_and_nothing_else(bundled: Catalog) -> None:
    over = planner.load_catalog([MY_QUOTES])
    doc = yaml.safe_load(MY_QUOTES.read_text())
    named = {o["target"]: list(o["set"]) for o in doc["overrides"]}
    assert len(named) >= 3
    for kind in KINDS:
        assert set(getattr(over, kind)) == set(getattr(bundled, kind)), kind
        for ident, entry in getattr(bundled, kind).items():
            before = entry.model_dump(mode="json")
            after = getattr(over, kind)[ident].model_dump(mode="json")
            key = f"{kind}/{ident}"
            if key not in named:
                assert before == after, key
                continue
            assert before != after, key
            for path in named[key]:
                _drop(before, path)
                _drop(after, path)
            assert before == after, f"{key}: fields other than {named[key]} changed"
    assert over.fx() == bundled.fx()


def test_setting_a_value_resources_the_figure_and_keeps_the_old_one(bundled: Catalog) -> None:
    over = planner.load_catalog([MY_QUOTES])
    price = over.offers["huawei-910b-server-purchase-cn"].price
    old = bundled.offers["huawei-910b-server-purchase-cn"].price
    assert price.value == 280000 and price.confidence == "spec" and price.date == "2026-11-01"
    assert "integrator quote" in price.source and price.currency == old.currency
    assert price.alternatives[0].value == old.value and price.alternatives[0].source == old.source
    assert over.policies["h200-approved"].rules[0].ratio == 1.0  # type: ignore[union-attr]
    assert ("price.value", f"{MY_QUOTES}:19") in over.overridden["offers/huawei-910b-server-purchase-cn"]


def test_bare_number_sets_a_figure_and_null_figures_are_created(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        [_ov("offers/npu-b-server", price=99000), _ov("accelerators/npu-b", **{"efficiency.train_mfu.value": 0.33})],
    )
    cat = planner.load_catalog([MINI, path], bundled=False)
    assert cat.offers["npu-b-server"].price.value == 99000
    assert cat.offers["npu-b-server"].price.per == "unit"
    mfu = cat.accelerators["npu-b"].efficiency.train_mfu
    assert mfu is not None and mfu.value == 0.33 and mfu.source == "test quote" and mfu.confidence == "spec"


def test_overrides_apply_after_whole_entry_replacement(tmp_path: Path) -> None:
    mini = yaml.safe_load(MINI.read_text())
    site = dict(mini["sites"][0], name="West (replaced)")
    path = _write(tmp_path, [_ov("sites/west", **{"pue.value": 1.15})], sites=[site])
    cat = planner.load_catalog([MINI, path], bundled=False)
    assert cat.sites["west"].name == "West (replaced)" and cat.sites["west"].pue.value == 1.15


def test_an_overridden_price_is_what_the_plan_pays(tmp_path: Path, write_workload) -> None:
    work = write_workload(serving(constraints={"allowed_origins": ["domestic"]}))
    base = planner.plan(work, planner.load_catalog([MINI], bundled=False))
    path = _write(tmp_path, [_ov("offers/npu-b-server", **{"price.value": 60000})])
    cheap = planner.plan(work, planner.load_catalog([MINI, path], bundled=False))
    assert base.totals and cheap.totals
    assert cheap.totals.capex_usd == pytest.approx(base.totals.capex_usd / 2)


@pytest.mark.parametrize(
    ("override", "line", "field", "words"),
    [
        (_ov("offers/npu-b-servr", **{"price.value": 1}), 3, "overrides[0].target", "did you mean 'offers/npu-b-"),
        (_ov("offers/npu-b-server", **{"prise.value": 1}), 5, "overrides[0].set.prise.value", "did you mean 'price'"),
        (_ov("policies/approved", **{"rules[3].ratio": 1}), 5, "overrides[0].set.rules[3].ratio", "out of range"),
        (_ov("offers/npu-b-server", **{"price.value": "cheap"}), 5, "overrides[0].set.price.value", "valid number"),
        (_ov("sites/west", **{"pue.value": 1.2, "location": "moon"}), 6, "overrides[0].set.location", "onshore"),
        (_ov("sites/west", id="north"), 5, "overrides[0].set.id", "cannot be overridden"),
    ],
)
def test_bad_overrides_name_file_line_and_field(
    tmp_path: Path, override: dict[str, Any], line: int, field: str, words: str
) -> None:
    path = _write(tmp_path, [override])
    with pytest.raises(InputError) as err:
        planner.load_catalog([MINI, path], bundled=False)
    problem = err.value.problems[0]
    assert (problem.file, problem.line, problem.field) == (str(path), line, field)
    assert words in problem.render()


def test_override_schema_errors_are_input_errors(tmp_path: Path) -> None:
    bad = _ov("gadgets/x", **{"price.value": 1})
    path = _write(tmp_path, [bad])
    with pytest.raises(InputError) as err:
        planner.load_catalog([MINI, path], bundled=False)
    assert err.value.problems[0].field == "overrides[0].target"

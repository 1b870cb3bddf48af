"""The catalog of record: every bundled figure sourced, dated, plausible and dense; as-of; provenance."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml

import planner
from planner.catalog.as_of import as_of
from planner.catalog.figures import iter_figures
from planner.catalog.provenance import provenance_warnings
from planner.catalog.store import BUNDLED_DIR, KINDS, Catalog
from planner.catalog.validation_errors import validate_as
from planner.catalog.yaml_reader import read_yaml
from planner.models.base import Sourced, date_floor
from planner.models.catalog import CatalogFile
from tests.conftest import MINI, serving

BUNDLED_FILES = sorted(BUNDLED_DIR.glob("*.yaml"))


def _all_figures(cat: Catalog) -> list[tuple[str, str, Sourced]]:
    out = [("fx", "fx_cny_per_usd", cat.fx_cny_per_usd)] if cat.fx_cny_per_usd else []
    for kind in KINDS:
        for ident, entry in getattr(cat, kind).items():
            out.extend((f"{kind}/{ident}", path, fig) for path, fig in iter_figures(entry))
    return out


# ---- every bundled file validates; every number is sourced and dated ---------------------


@pytest.mark.parametrize("path", BUNDLED_FILES, ids=[p.name for p in BUNDLED_FILES])
def test_every_bundled_file_validates_on_its_own(path: Path) -> None:
    validate_as(CatalogFile, read_yaml(path))


def test_bundled_catalog_has_no_implausible_figure(bundled: Catalog) -> None:
    assert bundled.plausibility_warnings() == []


def test_every_number_has_a_source_a_date_and_a_confidence(bundled: Catalog) -> None:
    figures = _all_figures(bundled)
    assert len(figures) > 300
    for key, path, fig in figures:
        for item in [fig, *fig.alternatives]:
            assert len(item.source.strip()) >= 3, (key, path)
            assert dt.date(1990, 1, 1) <= date_floor(item.date) <= dt.date(2027, 12, 31), (key, path, item.date)
        if fig.value is None:
            said = f"{fig.source} {fig.note or ''}".lower()
            assert "not" in said or "no " in said, f"{key} {path}: a null needs a note saying nothing public exists"


def test_policies_and_presets_are_dated_and_sourced(bundled: Catalog) -> None:
    for entry in [*bundled.policies.values(), *bundled.models.values()]:
        assert len(entry.source) >= 3 and date_floor(entry.date).year >= 2018, entry.id


# ---- unit sanity ranges -------------------------------------------------------------------


def test_accelerator_figures_are_in_plausible_units(bundled: Catalog) -> None:
    for acc in bundled.accelerators.values():
        if acc.tdp_w.value is not None:
            assert 50 <= acc.tdp_w.value <= 2000, acc.id
        if acc.memory_bw_tbps.value is not None:
            assert 0.1 <= acc.memory_bw_tbps.value <= 20, acc.id
        if acc.memory_gb.value is not None:
            assert 8 <= acc.memory_gb.value <= 1000, acc.id
        for p in ("bf16", "fp16"):
            fig = acc.dense_tflops.get(p)
            if fig is not None and fig.value is not None:
                assert 1 <= fig.value <= 10_000, (acc.id, p)


def test_sites_and_prices_are_plausible(bundled: Catalog) -> None:
    for site in bundled.sites.values():
        if site.pue.value is not None:
            assert 1.0 <= site.pue.value <= 2.0, site.id
        if site.electricity_price is not None and site.electricity_price.value is not None:
            assert site.electricity_price.value > 0, site.id
    for offer in bundled.offers.values():
        if offer.price.value is not None:
            assert offer.price.value > 0, offer.id
    assert 5 < bundled.fx() < 9


# ---- dense peaks only ---------------------------------------------------------------------

_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def _labelled_sparse(note: str | None) -> set[float]:
    """Numbers a note calls sparse ('4,500 sparse', '3,958 with sparsity', '624 ... is the sparse figure')."""
    found: set[float] = set()
    text = note or ""
    for m in _NUMBER.finditer(text):
        tail = re.split(r"[;()]|\d{3}", text[m.end() : m.end() + 40])[0].lower()
        if "spars" in tail and "dense" not in tail and "not " not in tail:
            found.add(float(m.group().replace(",", "")))
    return found


def test_h200_dense_bf16_is_989_not_the_sparse_1979(bundled: Catalog) -> None:
    h200 = bundled.accelerators["nvidia-h200-sxm-141gb"]
    assert h200.dense_tflops.bf16 is not None and h200.dense_tflops.bf16.value == 989
    assert h200.dense_tflops.fp8 is not None and h200.dense_tflops.fp8.value == 1979
    assert 1979 in {a.value for a in h200.dense_tflops.bf16.alternatives}  # kept for the record, not used


def test_no_dense_peak_equals_a_figure_labelled_sparse(bundled: Catalog) -> None:
    assert _labelled_sparse("HGX B200 at 1,000 W, dense (4,500 sparse)") == {4500.0}
    checked = 0
    for acc in bundled.accelerators.values():
        for path, fig in iter_figures(acc.dense_tflops):
            sparse = _labelled_sparse(fig.note)
            for alt in fig.alternatives:
                if "spars" in (alt.note or "").lower():
                    sparse.add(float(alt.value or -1))
                sparse |= _labelled_sparse(alt.note)
            checked += bool(sparse)
            assert fig.value not in sparse, f"{acc.id} {path}: {fig.value} is labelled sparse"
    assert checked >= 5


# ---- the market the issue names is covered -----------------------------------------------

NAMED_PARTS = [
    "nvidia-h200-sxm-141gb", "nvidia-h20-96gb", "nvidia-h20-141gb", "nvidia-h100-sxm-80gb", "nvidia-h800-sxm-80gb",
    "nvidia-a100-sxm-80gb", "nvidia-b200", "nvidia-b300", "huawei-ascend-910b", "huawei-ascend-910c",
    "huawei-ascend-950pr", "huawei-ascend-950dt", "mthreads-s4000", "mthreads-s5000", "metax-c500", "metax-c550",
    "metax-c600", "hygon-k100-ai", "hygon-bw1000", "cambricon-mlu590", "kunlunxin-p800", "biren-br100",
    "biren-br104", "enflame-s60", "enflame-l600",
]  # fmt: skip
NAMED_POLICIES = [
    "state-cloud-50", "state-funded-domestic-only", "cac-no-new-nvidia", "h200-approved", "us-h200-levy-25",
    "h20-revenue-share-15", "domestic-dc-electricity-subsidy", "ai-diffusion-tier3", "gp10-ascend-abroad",
    "data-residency",
]  # fmt: skip


def test_catalog_covers_the_named_market(bundled: Catalog) -> None:
    assert len(bundled.accelerators) >= 20
    assert not set(NAMED_PARTS) - set(bundled.accelerators)
    assert not set(NAMED_POLICIES) - set(bundled.policies)
    for pid in NAMED_POLICIES:
        assert bundled.policies[pid].date and bundled.policies[pid].source
    offers = list(bundled.offers.values())
    units = {o.unit.kind for o in offers if o.mode == "purchase" and o.location == "onshore"}
    assert {"server", "supernode"} <= units
    assert any(o.mode == "rental" and o.location == "onshore" for o in offers)
    regions = {o.region for o in offers if o.mode == "rental" and o.location == "offshore"}
    assert {"singapore", "japan", "indonesia", "uae", "malaysia"} <= regions
    onshore = [s for s in bundled.sites.values() if s.location == "onshore" and s.electricity_price is not None]
    assert len(onshore) >= 6
    for b in ("nvidia-b200", "nvidia-b300"):
        assert all(o.mode == "rental" and o.location == "offshore" for o in offers if o.accelerator == b)
    roadmap = [a for a in bundled.accelerators.values() if a.status == "roadmap"]
    assert roadmap and all(a.available_from for a in roadmap)


# ---- as of a date -------------------------------------------------------------------------


def test_as_of_hides_roadmap_parts_before_their_date_and_shows_them_after(bundled: Catalog) -> None:
    before = as_of(bundled, "2026-06-30")
    after = as_of(bundled, dt.date(2026, 11, 1))
    assert "accelerators/huawei-ascend-950dt" in before.unavailable
    assert before.offers["huawei-atlas-950-superpod-purchase-cn"].existing_only
    assert "accelerators/huawei-ascend-950dt" not in after.unavailable
    assert not after.offers["huawei-atlas-950-superpod-purchase-cn"].existing_only
    assert "huawei-ascend-950dt" in before.accelerators  # ids still resolve
    assert not bundled.offers["huawei-atlas-950-superpod-purchase-cn"].existing_only  # input untouched
    assert bundled.as_of is None and before.as_of == dt.date(2026, 6, 30)


def test_as_of_applies_policies_and_prices_of_that_date(bundled: Catalog) -> None:
    early = as_of(bundled, "2025-06-01")
    assert bundled.policies["us-h200-levy-25"].default and not early.policies["us-h200-levy-25"].default
    assert "offers/nvidia-h200-hgx-purchase-cn" in early.unavailable
    assert early.fx() == pytest.approx(7.2014)  # the 30 Apr 2025 parity, not the Dec 2025 one
    assert bundled.fx() == pytest.approx(7.055)


def test_policies_apply_from_their_start_until_their_rescission(bundled: Catalog) -> None:
    from planner.catalog.as_of import policy_in_effect

    diffusion = bundled.policies["ai-diffusion-tier3"]
    assert policy_in_effect(diffusion, dt.date(2025, 5, 12))
    assert not policy_in_effect(diffusion, dt.date(2025, 5, 13))
    assert not policy_in_effect(bundled.policies["us-h200-levy-25"], dt.date(2026, 1, 14))
    assert policy_in_effect(bundled.policies["us-h200-levy-25"], dt.date(2026, 1, 15))


def _mini_with(tmp_path: Path, extra: dict) -> Path:
    path = tmp_path / "extra.yaml"
    path.write_text(yaml.safe_dump({"version": 1, **extra}, sort_keys=False))
    return path


def test_a_plan_as_of_a_date_uses_only_parts_available_then(tmp_path: Path, write_workload) -> None:
    extra = _mini_with(
        tmp_path,
        {
            "overrides": [
                {
                    "target": "accelerators/npu-b",
                    "set": {"status": "roadmap", "available_from": "2027-01"},
                    "source": "test: npu-b announced for 2027",
                    "date": "2026-01",
                }
            ]
        },
    )
    work = write_workload(serving(constraints={"allowed_origins": ["domestic"]}))
    now = planner.load_catalog([MINI, extra], bundled=False, as_of="2027-02-01")
    early = planner.load_catalog([MINI, extra], bundled=False, as_of="2026-06-01")
    assert {li.accelerator for li in planner.plan(work, now).line_items} == {"npu-b"}
    assert planner.plan(work, early).status == "INFEASIBLE"


# ---- provenance warnings ------------------------------------------------------------------


def test_a_plan_relying_on_a_reported_price_warns(tmp_path: Path, write_workload) -> None:
    extra = _mini_with(
        tmp_path,
        {
            "overrides": [
                {
                    "target": "offers/npu-b-server",
                    "set": {"price.value": 110000},
                    "source": "press report (test)",
                    "date": "2026-02",
                    "confidence": "reported",
                }
            ]
        },
    )
    cat = planner.load_catalog([MINI, extra], bundled=False)
    plan = planner.plan(write_workload(serving(constraints={"allowed_origins": ["domestic"]})), cat)
    assert plan.ok
    lines = [w for w in plan.warnings if w.startswith("offer npu-b-server")]
    assert lines and "reported price" in lines[0]
    assert plan.warnings == sorted(set(plan.warnings))
    stale = provenance_warnings(plan, cat, dt.date(2028, 1, 1))
    assert any("over 12 months old: price (2026-02)" in w for w in stale)
    assert any(w.startswith("accelerator npu-b: assumed") for w in stale)  # the fixture's figures


def test_provenance_is_one_line_per_entry_and_names_nulls(bundled: Catalog) -> None:
    from planner.models.plan import LineItem, Plan, SolverInfo

    item = LineItem(
        offer="huawei-910c-server-purchase-cn", accelerator="huawei-ascend-910c", accelerator_name="910C",
        vendor="huawei", origin="domestic", mode="purchase", location="onshore", site="guizhou-guian",
        unit_kind="server", devices_per_unit=8, existing_units=0, new_units=1, units=1, devices=8, role="replicas",
    )  # fmt: skip
    idle = item.model_copy(
        update={"offer": "nvidia-h100-hgx-existing", "accelerator": "nvidia-h100-sxm-80gb", "new_units": 0,
                "existing_units": 1, "role": "idle"}
    )  # fmt: skip
    info = SolverInfo.model_construct(status="OPTIMAL")
    plan = Plan.model_construct(kind="inference", line_items=[item, idle], warnings=[], solver=info)
    lines = provenance_warnings(plan, bundled, dt.date(2026, 11, 21), precisions=["int8"])
    heads = [w.split(":")[0] for w in lines]
    assert len(heads) == len(set(heads))
    acc = next(w for w in lines if w.startswith("accelerator huawei-ascend-910c"))
    assert "reported" in acc and "int8 peak" in acc
    offer = next(w for w in lines if w.startswith("offer huawei-910c-server-purchase-cn"))
    assert "host cost (counted as 0)" in offer and "price (2024-08)" in offer
    owned = [w for w in lines if w.startswith("offer nvidia-h100-hgx-existing")]
    assert all("price" not in w for w in owned)  # an existing fleet pays no purchase price

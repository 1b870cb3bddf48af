"""Estimates kept between preparations: same problem as a cold start, never another input's numbers."""

from __future__ import annotations

import dataclasses

import pytest

from planner.catalog.store import Catalog
from planner.models.workload import Workload
from planner.solve import prepare as prepare_module
from planner.solve.prepare import _Recent, prepare
from tests.conftest import serving, training


@pytest.fixture
def cold(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start with no estimates kept from other tests."""
    monkeypatch.setattr(prepare_module, "_SHAPES", _Recent(prepare_module.ESTIMATES_KEPT))
    monkeypatch.setattr(prepare_module, "_POOLS", _Recent(prepare_module.ESTIMATES_KEPT))


def _cleared() -> None:
    prepare_module._SHAPES = _Recent(prepare_module.ESTIMATES_KEPT)
    prepare_module._POOLS = _Recent(prepare_module.ESTIMATES_KEPT)


@pytest.mark.usefixtures("cold")
@pytest.mark.parametrize("data", [serving(), training()], ids=["inference", "training"])
def test_a_warm_preparation_equals_a_cold_one(mini: Catalog, data: dict[str, object]) -> None:
    workload = Workload.model_validate(data)
    first = prepare(workload, mini)
    assert prepare_module._SHAPES._items or prepare_module._POOLS._items  # something was kept
    again = prepare(workload, mini)
    assert again == first
    assert again.candidates is not first.candidates


@pytest.mark.usefixtures("cold")
def test_changed_device_figures_are_estimated_afresh(mini: Catalog) -> None:
    """Half the memory on one part: its shapes are worked out again, not taken from the first plan."""
    workload = Workload.model_validate(serving())
    before = prepare(workload, mini)
    acc = mini.accelerators["gpu-a"]
    smaller = acc.model_copy(update={"memory_gb": acc.memory_gb.model_copy(update={"value": 70})})
    changed = dataclasses.replace(mini, accelerators={**mini.accelerators, "gpu-a": smaller})
    warm = prepare(workload, changed)
    _cleared()
    fresh = prepare(workload, changed)
    assert warm == fresh
    shapes = {k: c.shape for k, c in before.candidates.items() if c.group.startswith("gpu-a")}
    assert shapes != {k: c.shape for k, c in warm.candidates.items() if c.group.startswith("gpu-a")}


def test_recent_keeps_the_last_used() -> None:
    kept: _Recent[int] = _Recent(2)
    kept.put(("a",), 1)
    kept.put(("b",), 2)
    assert kept.get(("a",)) == 1  # now the most recent
    kept.put(("c",), 3)
    assert kept.get(("b",)) is None
    assert (kept.get(("a",)), kept.get(("c",))) == (1, 3)
    assert len(kept._items) == 2

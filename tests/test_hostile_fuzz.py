"""Fuzzing the loaders: whatever the bytes, loading (and planning what loads) ends in a result or an
InputError — never another exception, never a verifier rejection.

Four generators: raw bytes, random YAML documents, and single-field mutations of a good fleet file
and of the mini catalog (those that still load are planned end to end).
"""

from __future__ import annotations

import contextlib
import copy
import itertools
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import planner
from planner.catalog.store import Catalog
from planner.errors import InputError
from planner.models.plan import Plan
from tests.conftest import MINI, serving, training

COUNTER = itertools.count()


def fuzz(n: int) -> settings:
    return settings(
        max_examples=n,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def cat() -> Catalog:
    return planner.load_catalog([MINI], bundled=False)


def write(folder: Path, data: bytes | str) -> Path:
    path = folder / f"case{next(COUNTER)}.yaml"
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass"))
    return path


def loads_or_input_error(path: Path) -> Any:
    try:
        return planner.load_workload(path)
    except InputError as exc:
        assert exc.problems and str(exc)
        return None


def plan_or_input_error(workload: Any, cat: Catalog) -> None:
    try:
        result = planner.plan(workload, cat, time_limit_s=5, workers=1, explain_infeasible=False)
    except InputError:
        return
    assert isinstance(result, Plan) and result.status in ("OPTIMAL", "FEASIBLE", "INFEASIBLE", "NO_SOLUTION")


YAML_BITS = st.sampled_from(
    [
        "name: x\n",
        "kind: inference\n",
        "kind: training\n",
        "model: {preset: dense-70b}\n",
        "traffic: {requests_per_s: 5, input_tokens: 10, output_tokens: 10}\n",
        "slo: {ttft_ms: 1000, tpot_ms: 50}\n",
        "- a\n",
        "  - b\n",
        "\t",
        ": ",
        "&a ",
        "*a ",
        "<<: *a\n",
        "!!python/object:os.system ",
        "? ",
        "{",
        "}",
        "[",
        "]",
        "'",
        '"',
        "#",
        "---\n",
        "...\n",
        "%YAML 1.1\n",
        "!!binary ",
        ".nan",
        "-.inf",
        "1e999",
        "0x1F",
        "2026-13-40",
        "\u2028",
        "\x00",
        "\ufeff",
        "\n",
    ]
)


@fuzz(200)
@given(st.binary(max_size=300))
def test_raw_bytes(folder: Path, data: bytes) -> None:
    loads_or_input_error(write(folder, data))


@fuzz(200)
@given(st.lists(YAML_BITS, max_size=25).map("".join))
def test_yaml_shaped_text(folder: Path, text: str) -> None:
    path = write(folder, text)
    loads_or_input_error(path)
    with contextlib.suppress(InputError):
        planner.load_catalog([path], bundled=False)


def good_fleet() -> dict[str, Any]:
    chat = {
        k: v
        for k, v in serving(
            name="chat",
            growth=[1.0, 1.5],
            kv_precision="bf16",
            end_period=1,
            allowed_locations=["onshore", "offshore"],
            exclude=[],
        ).items()
        if k != "horizon_months"
    }
    train = training(name="train", tokens_b=200, deadline_days=40)
    return {
        "name": "fuzz",
        "periods": {"count": 2, "months": 6, "start": "2026-01-01"},
        "sites": ["west"],
        "constraints": {
            "budget": {"total": 20_000_000},
            "domestic_share": {"min": 0.3, "measure": "devices"},
            "policies": ["approved"],
            "power_kw": 4000,
            "max_cluster_devices": 4096,
            "site_power_kw": {"west": 5000},
            "exclude_policies": [],
        },
        "existing_fleet": [{"offer": "npu-b-server", "units": 1, "site": "west"}],
        "schedule": {
            "price_trends": [{"match": {"origin": "domestic"}, "per_period": -0.1}],
            "supply": [{"match": {"vendor": ["huawei"]}, "units_per_period": [20, 40]}],
            "events": [{"date": "2026-07-01", "levy_rate": 0.3}],
        },
        "hedge": {"lose": {"origin": "foreign"}, "serve_fraction": 0.5, "workloads": ["chat"]},
        "fleet": [chat, train],
    }


def leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path] if path else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += leaves(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += leaves(v, (*path, i))
    return out


VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.lists(st.integers(-5, 5), max_size=3),
    st.dictionaries(st.text(max_size=6), st.integers(), max_size=2),
    st.sampled_from(
        [
            "",
            "west",
            "sg",
            "npu-b",
            "gpu-a-server",
            "gpu-a-rental-sg",
            "huawei",
            "foreign",
            "2026-13-01",
            "2030",
            "fp8",
            "int8",
            "training",
            "spend",
            "throughput",
            "min_power",
            "-1",
            "1e999",
            0,
            -1,
            1e-300,
            1e300,
            10**12,
            [],
            {},
        ]
    ),
)


def mutate(data: dict[str, Any], choice: int, value: Any, drop: bool) -> dict[str, Any]:
    out = copy.deepcopy(data)
    paths = leaves(out)
    path = paths[choice % len(paths)]
    parent = out
    for part in path[:-1]:
        parent = parent[part]
    if drop and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return out


@fuzz(120)
@given(st.integers(0, 10_000), VALUES, st.booleans())
def test_one_field_of_a_fleet_changed(folder: Path, cat: Catalog, choice: int, value: Any, drop: bool) -> None:
    path = write(folder, yaml.safe_dump(mutate(good_fleet(), choice, value, drop), sort_keys=False))
    workload = loads_or_input_error(path)
    if workload is not None:
        plan_or_input_error(workload, cat)


@fuzz(80)
@given(st.integers(0, 10_000), VALUES, st.booleans())
def test_one_figure_of_the_catalog_changed(folder: Path, choice: int, value: Any, drop: bool) -> None:
    data = mutate(yaml.safe_load(MINI.read_text()), choice, value, drop)
    path = write(folder, yaml.safe_dump(data, sort_keys=False))
    try:
        changed = planner.load_catalog([path], bundled=False)
    except InputError:
        return
    workload = planner.load_workload(write(folder, yaml.safe_dump(serving(), sort_keys=False)))
    plan_or_input_error(workload, changed)

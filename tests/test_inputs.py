"""Bad input gives an InputError naming file, line and field; never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

import planner
from planner.errors import InputError


def load_text(tmp_path: Path, text: str) -> InputError:
    path = tmp_path / "w.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        planner.load_workload(path)
    return info.value


GOOD = """name: x
kind: inference
model: {preset: qwen2.5-72b}
traffic: {requests_per_s: 10, input_tokens: 100, output_tokens: 100}
slo: {ttft_ms: 1000, tpot_ms: 50}
"""


def test_good_workload_loads(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(GOOD)
    assert planner.load_workload(path).name == "x"


def test_duplicate_key(tmp_path: Path) -> None:
    err = load_text(tmp_path, GOOD + "name: y\n")
    assert err.problems[0].line == 6 and "duplicate key 'name'" in err.problems[0].message


def test_tab_indentation(tmp_path: Path) -> None:
    err = load_text(tmp_path, "name: x\nslo:\n\tttft_ms: 3\n")
    assert err.problems[0].line == 3 and "malformed YAML" in err.problems[0].message


def test_negative_number_names_field_and_line(tmp_path: Path) -> None:
    err = load_text(tmp_path, GOOD.replace("requests_per_s: 10", "requests_per_s: -10"))
    p = err.problems[0]
    assert p.field == "traffic.requests_per_s" and p.line == 4 and "greater than 0" in p.message


def test_nan_is_refused(tmp_path: Path) -> None:
    err = load_text(tmp_path, GOOD.replace("requests_per_s: 10", "requests_per_s: .nan"))
    assert "finite" in err.problems[0].message and err.problems[0].line == 4


def test_wrong_kind_fields(tmp_path: Path) -> None:
    err = load_text(tmp_path, GOOD.replace("kind: inference", "kind: training"))
    assert "training workload needs" in err.render()


def test_unknown_nested_field_suggests(tmp_path: Path) -> None:
    err = load_text(tmp_path, GOOD + "constraints:\n  budgte: {total: 5}\n")
    p = err.problems[0]
    assert p.field == "constraints.budgte" and p.line == 7 and p.hint == "did you mean 'budget'?"


def test_empty_file(tmp_path: Path) -> None:
    assert "empty" in load_text(tmp_path, "").render()


def test_top_level_list(tmp_path: Path) -> None:
    assert "mapping" in load_text(tmp_path, "- a\n- b\n").render()


def test_alias_bomb_is_refused(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 10)}]")
    err = load_text(tmp_path, "\n".join(lines) + "\n")
    assert "expands to more than" in err.render()


def test_binary_garbage(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_bytes(b"\x00\x01\x02garbage")
    with pytest.raises(InputError) as info:
        planner.load_workload(path)
    assert "binary" in info.value.render()


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        planner.load_workload(tmp_path)
    assert "directory" in info.value.render()


def test_python_object_tags_are_not_constructed(tmp_path: Path) -> None:
    err = load_text(tmp_path, "name: !!python/object/apply:os.system ['echo pwned']\n")
    assert "unsupported YAML tag" in err.render() and err.problems[0].line == 1


def test_unknown_ids_reported_at_plan_time(tmp_path: Path, bundled) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(GOOD + "sites: [ningxia-zhongwie]\nconstraints:\n  policies: [state-cloud-5]\n")
    workload = planner.load_workload(path)
    with pytest.raises(InputError) as info:
        planner.plan(workload, bundled)
    text = info.value.render()
    assert "ningxia-zhongwei" in text and "state-cloud-50" in text and f"{path}:6" in text

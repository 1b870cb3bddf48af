"""The published JSON Schemas match the models, and every bundled input validates against them."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from planner.cli.app import register
from planner.models.schema import KINDS, json_schema
from tests.conftest import ROOT

SCHEMA_DIR = ROOT / "planner" / "schema"


@pytest.mark.parametrize("kind", KINDS)
def test_published_schema_is_current(kind: str) -> None:
    published = json.loads((SCHEMA_DIR / f"{kind}.schema.json").read_text())
    assert published == json.loads(json.dumps(json_schema(kind))), (
        f"regenerate: plan schema {kind} > planner/schema/{kind}.schema.json"
    )


def test_schema_forbids_unknown_fields() -> None:
    schema = json_schema("workload")
    assert schema["additionalProperties"] is False
    assert {"name", "kind", "model"} <= set(schema["required"])


def test_schema_command_prints_json() -> None:
    result = CliRunner().invoke(register(), ["schema", "fleet"])
    assert result.exit_code == 0 and json.loads(result.output)["title"] == "Fleet planner fleet"
    bad = CliRunner().invoke(register(), ["schema", "nonsense"])
    assert bad.exit_code == 2


def test_examples_match_the_schema_keys() -> None:
    """Top-level keys of every example are properties the schema declares."""
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        kind = "fleet" if "fleet" in data else "workload"
        assert set(data) <= set(json_schema(kind)["properties"]), path.name

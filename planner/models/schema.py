"""JSON Schema of the input files, for editors (YAML language servers) and other tools."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from planner.models.catalog import CatalogFile
from planner.models.fleet import Fleet
from planner.models.workload import Workload

KINDS = ("workload", "fleet", "catalog")


def json_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of one input kind: a single workload, a fleet file, or a catalog file."""
    models: dict[str, type[BaseModel]] = {"workload": Workload, "fleet": Fleet, "catalog": CatalogFile}
    schema = models[kind].model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = {
        "workload": "Fleet planner workload",
        "fleet": "Fleet planner fleet",
        "catalog": "Fleet planner catalog",
    }[kind]
    return schema

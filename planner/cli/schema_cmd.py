"""``plan schema KIND``: print the JSON Schema of an input file kind."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from planner.cli.app import app


@app.command("schema")
def schema(
    kind: Annotated[str, typer.Argument(help="workload, fleet or catalog", show_default=False)],
) -> None:
    """Print the JSON Schema of a workload, fleet or catalog file (for editor completion)."""
    from planner.models.schema import KINDS, json_schema

    if kind not in KINDS:
        raise typer.BadParameter(f"use one of: {', '.join(KINDS)}", param_hint="KIND")
    typer.echo(json.dumps(json_schema(kind), indent=2, sort_keys=True))

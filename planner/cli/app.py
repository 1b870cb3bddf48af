"""Typer application and the error boundary every command runs inside."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import TypeVar

import typer
from rich.console import Console

from planner.cli.default_group import DefaultCommandGroup

app = typer.Typer(
    cls=DefaultCommandGroup,
    help="Plan accelerator fleets that mix Chinese domestic chips and NVIDIA parts.\n\n"
    "plan WORKLOAD.yaml  finds the cheapest fleet that meets the workload.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

err_console = Console(stderr=True, highlight=False)
T = TypeVar("T")


def guarded(fn: Callable[[], T], debug: bool = False) -> T:
    """Run a command body; map planner errors to their exit codes without a traceback."""
    from planner.errors import PlannerError

    try:
        return fn()
    except PlannerError as exc:
        label = {2: "invalid input", 4: "internal error"}.get(exc.exit_code, "error")
        err_console.print(f"{label}: {exc}", soft_wrap=True, markup=False)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        err_console.print("interrupted", markup=False)
        raise typer.Exit(130) from None
    except (typer.Exit, typer.Abort, typer.BadParameter, SystemExit):
        raise
    except Exception as exc:
        if debug:
            raise
        err_console.print(
            f"internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in the planner; rerun with --debug for the traceback and report it.",
            markup=False,
        )
        raise typer.Exit(4) from None


def configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def register() -> typer.Typer:
    """Import every command module (each registers itself on ``app``) and return the app."""
    from planner.cli import (  # noqa: F401 - importing a command module registers its commands
        catalog_cmd,
        compare_cmd,
        estimate_cmd,
        frontier_cmd,
        plan_cmd,
        schema_cmd,
        validate_cmd,
    )

    return app


def main() -> None:
    register()()


def _version(value: bool) -> None:
    if value:
        from planner import __version__

        typer.echo(f"plan {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """Plan accelerator fleets that mix Chinese domestic chips and NVIDIA parts.

    `plan WORKLOAD.yaml` finds the cheapest fleet that meets the workload.
    """

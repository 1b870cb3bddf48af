"""Typer application and the error boundary every command runs inside."""

from __future__ import annotations

import functools
import gc
import importlib
import logging
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

import typer

from planner.cli.default_group import DEFAULT_COMMAND, DefaultCommandGroup

if TYPE_CHECKING:
    from rich.console import Console

app = typer.Typer(
    cls=DefaultCommandGroup,
    help="Plan accelerator fleets that mix Chinese domestic chips and NVIDIA parts.\n\n"
    "plan WORKLOAD.yaml  finds the cheapest fleet that meets the workload.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

T = TypeVar("T")


@functools.cache
def err_console() -> Console:
    """The console for messages on stderr (made on first use: rich loads only when something is printed)."""
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def guarded(fn: Callable[[], T], debug: bool = False) -> T:
    """Run a command body; map planner errors to their exit codes without a traceback."""
    from planner.errors import PlannerError

    try:
        return fn()
    except PlannerError as exc:
        label = {2: "invalid input", 4: "internal error"}.get(exc.exit_code, "error")
        err_console().print(f"{label}: {exc}", soft_wrap=True, markup=False)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        err_console().print("interrupted", markup=False)
        raise typer.Exit(130) from None
    except (typer.Exit, typer.Abort, typer.BadParameter, SystemExit):
        raise
    except Exception as exc:
        if debug:
            raise
        err_console().print(
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


COMMAND_MODULES = {
    DEFAULT_COMMAND: "plan_cmd",
    "catalog": "catalog_cmd",
    "compare": "compare_cmd",
    "estimate": "estimate_cmd",
    "frontier": "frontier_cmd",
    "schema": "schema_cmd",
    "validate": "validate_cmd",
}
"""Each top-level command and the module that registers it on ``app`` when imported."""


def register(args: Sequence[str] | None = None) -> typer.Typer:
    """Import the command modules (each registers itself on ``app``) and return the app.

    With ``args`` (the command line), only the module of the command they run, routed as
    DefaultCommandGroup does: ``plan FILE`` loads just the plan command, not every command's
    imports. No arguments, a leading option (``--help``, ``--version``) or ``plan FILE --help``
    show the top-level help, so they load every command for it to list.
    """
    wanted = set(COMMAND_MODULES.values())
    if args and args[0] in COMMAND_MODULES:
        wanted = {COMMAND_MODULES[args[0]]}
    elif args and not args[0].startswith("-") and not any(a in ("--help", "-h") for a in args):
        wanted = {COMMAND_MODULES[DEFAULT_COMMAND]}
    for name in sorted(wanted):
        importlib.import_module(f"planner.cli.{name}")
    return app


def main() -> None:
    # Start-up (imports, OR-Tools and pandas, pydantic models, the catalog) allocates well over 100k
    # objects that live to the end; at the default thresholds the cyclic collector runs ~260 times
    # over them, about 0.15 s of a 1.5 s plan. A CLI run is short and makes little cyclic garbage,
    # so collect rarely (mypy's own setting). Only the command-line process: the library keeps the defaults.
    gc.set_threshold(200_000, 30, 30)
    register(sys.argv[1:])()


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

"""A Typer group where ``plan FILE`` means ``plan run FILE`` but sub-commands still work."""

from __future__ import annotations

from typing import Any

from typer.core import TyperGroup

DEFAULT_COMMAND = "run"


class DefaultCommandGroup(TyperGroup):
    """Route to the default command when the first argument is not a sub-command."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        wants_help = any(a in ("--help", "-h") for a in args)
        names = set(self.commands)
        if (
            args
            and not wants_help
            and not any(a in names for a in args[:1])
            and not (args[0].startswith("-") and args[0] in ("--version", "--install-completion", "--show-completion"))
        ):
            args = [DEFAULT_COMMAND, *args]
        return super().parse_args(ctx, args)

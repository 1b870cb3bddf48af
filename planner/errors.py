"""Errors the planner raises on purpose.

Every user-facing failure is one of these, so the CLI can map it to an exit code and a
one-paragraph message instead of a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class PlannerError(Exception):
    """Base class: anything the CLI may show to a user as-is."""

    exit_code = 1


@dataclass
class InputProblem:
    """One thing wrong with one input file, located as precisely as the file allows."""

    file: str
    message: str
    line: int | None = None
    field: str | None = None
    hint: str | None = None

    def render(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
        text = f"{where}: "
        if self.field:
            text += f"field '{self.field}': "
        text += self.message
        if self.hint:
            text += f" ({self.hint})"
        return text


@dataclass
class InputError(PlannerError):
    """Invalid input: a workload or catalog file that cannot be used. Exit code 2."""

    problems: list[InputProblem] = field(default_factory=list)
    exit_code = 2

    def __post_init__(self) -> None:
        super().__init__(self.render())

    @classmethod
    def single(
        cls,
        file: str,
        message: str,
        *,
        line: int | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> InputError:
        return cls([InputProblem(file=file, message=message, line=line, field=field, hint=hint)])

    def render(self) -> str:
        shown = self.problems[:10]
        lines = [p.render() for p in shown]
        if len(self.problems) > len(shown):
            lines.append(f"... and {len(self.problems) - len(shown)} more problem(s)")
        return "\n".join(lines)


class VerificationError(PlannerError):
    """The independent verifier rejected a plan: a bug in the planner, never a user error."""

    exit_code = 4

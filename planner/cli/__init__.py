"""The ``plan`` command: thin, calls the public API, renders, sets the exit code.

Exit codes: 0 plan found; 1 infeasible; 2 invalid input; 3 no plan within the time limit;
4 internal error (a bug: the verifier rejected a plan, or an unexpected exception).
"""

from planner.cli.app import app, main

__all__ = ["app", "main"]

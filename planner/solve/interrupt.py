"""Ctrl-C during a solve: stop the search and keep the best plan found so far.

CP-SAT searches in C++. While the main thread sits inside ``solver.solve`` Python cannot run a
signal handler, so a Ctrl-C would only be seen after the time limit. Instead the solve runs in a
worker thread while the main thread waits in short joins; a SIGINT handler, installed only for
the duration of one solve and only in the main thread, calls ``solver.stop_search()``. CP-SAT
then returns at once with its best solution (status FEASIBLE, with its bound and gap) or none,
and :func:`requested` tells the caller the run was cut short, so no further stage is started.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from ortools.sat.python import cp_model

log = logging.getLogger(__name__)

_requested = threading.Event()


def reset() -> None:
    """Forget an earlier Ctrl-C (at the start of each solve of a problem)."""
    _requested.clear()


def requested() -> bool:
    """True once Ctrl-C stopped a search since the last :func:`reset`."""
    return _requested.is_set()


def solve(solver: cp_model.CpSolver, model: cp_model.CpModel) -> int:
    """``solver.solve(model)``, stoppable with Ctrl-C; returns CP-SAT's status code."""
    if threading.current_thread() is not threading.main_thread():
        return int(solver.solve(model))
    # CP-SAT's own C++ SIGINT handler would race ours (and can abort the process): use ours only
    solver.parameters.catch_sigint_signal = False
    outcome: dict[str, int] = {}
    failure: list[BaseException] = []

    def work() -> None:
        try:
            outcome["code"] = int(solver.solve(model))
        except BaseException as exc:
            failure.append(exc)

    def stop(signum: int, frame: FrameType | None) -> None:
        if not _requested.is_set():
            log.warning("interrupted: stopping the search and keeping the best plan found so far")
        _requested.set()
        solver.stop_search()

    log.info("searching; Ctrl-C stops the search and keeps the best plan found so far")
    previous = signal.signal(signal.SIGINT, stop)
    try:
        thread = threading.Thread(target=work, name="cp-sat-solve", daemon=True)
        thread.start()
        while thread.is_alive():
            thread.join(0.05)
    finally:
        signal.signal(signal.SIGINT, previous)
    if failure:
        raise failure[0]
    return outcome["code"]

"""Ctrl-C during a solve: stop the search and keep the best plan found so far.

CP-SAT searches in C++. While the main thread sits inside ``solver.solve`` Python cannot run a
signal handler, so a Ctrl-C would only be seen after the time limit. Instead the solve runs in a
worker thread while the main thread waits in short joins; a SIGINT handler, installed only for
the duration of one solve and only in the main thread, calls ``solver.stop_search()``. CP-SAT
then returns at once with its best solution (status FEASIBLE, with its bound and gap) or none,
and :func:`requested` tells the caller the run was cut short, so no further stage is started.

Several plans solved at once in worker threads (a frontier's points): the main thread holds
:func:`guard` while it waits; Ctrl-C then stops every running search, searches started later
return at once, and :func:`requested` stays true for the whole batch.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # importing this module must not load OR-Tools (callers that never solve use it)
    from ortools.sat.python import cp_model

log = logging.getLogger(__name__)

_requested = threading.Event()
_lock = threading.RLock()
"""Re-entrant: the SIGINT handler (_stop_all) runs in the main thread, which may hold it."""
_running: set[cp_model.CpSolver] = set()
"""Searches in worker threads, stopped together by a Ctrl-C under :func:`guard`."""
_guards = 0


def reset() -> None:
    """Forget an earlier Ctrl-C (at the start of each solve of a problem), except inside a
    :func:`guard`, where one Ctrl-C stops the whole batch."""
    with _lock:
        if _guards == 0:
            _requested.clear()


def _stop_all() -> None:
    if not _requested.is_set():
        log.warning("interrupted: stopping the search and keeping what it found so far")
    _requested.set()
    with _lock:
        for solver in _running:
            # stop_search reaches only a search already under way; a zero time limit also stops
            # one that solve() has not started yet (CP-SAT reads its parameters when it starts)
            solver.parameters.max_time_in_seconds = 0.0
            solver.stop_search()


@contextmanager
def guard() -> Iterator[None]:
    """While the main thread waits on searches in worker threads: Ctrl-C stops them all."""
    global _guards
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _requested.clear()
    previous = signal.signal(signal.SIGINT, lambda signum, frame: _stop_all())
    with _lock:  # reset() reads it from worker threads
        _guards += 1
    try:
        yield
    finally:
        with _lock:
            _guards -= 1
        signal.signal(signal.SIGINT, previous)


def _solve_in_worker(solver: cp_model.CpSolver, model: cp_model.CpModel) -> int:
    solver.parameters.catch_sigint_signal = False  # the main thread's guard handles Ctrl-C
    with _lock:
        _running.add(solver)
        if _requested.is_set():  # Ctrl-C came before this search started: do not search
            solver.parameters.max_time_in_seconds = 0.0
    try:
        return int(solver.solve(model))
    finally:
        with _lock:
            _running.discard(solver)


def requested() -> bool:
    """True once Ctrl-C stopped a search since the last :func:`reset`."""
    return _requested.is_set()


def solve(solver: cp_model.CpSolver, model: cp_model.CpModel) -> int:
    """``solver.solve(model)``, stoppable with Ctrl-C; returns CP-SAT's status code."""
    if threading.current_thread() is not threading.main_thread():
        return _solve_in_worker(solver, model)
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
        _stop_all()

    log.info("searching; Ctrl-C stops the search and keeps what it found so far")
    previous = signal.signal(signal.SIGINT, stop)
    with _lock:
        _running.add(solver)
    try:
        thread = threading.Thread(target=work, name="cp-sat-solve", daemon=True)
        thread.start()
        while thread.is_alive():
            thread.join(0.05)
    finally:
        signal.signal(signal.SIGINT, previous)
        with _lock:
            _running.discard(solver)
    if failure:
        raise failure[0]
    return outcome["code"]

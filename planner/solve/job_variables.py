"""Each job's decision variables in the compact model, by model index (read once per search)."""

from __future__ import annotations

import numpy as np

from planner.solve.builder import Builder

Choices = dict[str, tuple[np.ndarray, np.ndarray]]
"""Per job: the model indices of its serving (x) and training (y) variables, and each one's offer."""


def job_variables(b: Builder) -> Choices:
    """Per job, the model indices of its serving (x) and training (y) variables and their offers."""
    p = b.problem
    found: dict[str, list[tuple[int, str]]] = {}
    for (key, _), var in b.x.items():
        c = p.candidates[key]
        found.setdefault(c.job, []).append((var.index, p.groups[c.group].offer))
    for key, var in b.y.items():
        c = p.candidates[key]
        found.setdefault(c.job, []).append((var.index, p.groups[c.group].offer))
    return {
        job: (np.array([i for i, _ in pairs], dtype=np.int64), np.array([o for _, o in pairs], dtype=object))
        for job, pairs in found.items()
    }

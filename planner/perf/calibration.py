"""Run the performance model over a file of measured cases and score it.

error = predicted / measured − 1 (shared/validation/README.md). A ``lower_bound`` measurement
("over 50K tokens/s") only counts a shortfall: the scored error is min(0, error). Cases the
model cannot predict are "not scored" with the reason, never counted as errors. The summary is
the median and worst absolute scored error, overall and per metric, accelerator, kind and
confidence.
"""

from __future__ import annotations

import logging
import os
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from planner.catalog.store import Catalog
from planner.catalog.yaml_reader import read_yaml
from planner.errors import InputError, InputProblem
from planner.perf.case_predict import predict
from planner.perf.cases import Case, parse_case
from planner.perf.device import MissingFigure, device_model
from planner.perf.errors import NotScored

log = logging.getLogger(__name__)


@dataclass
class CaseResult:
    id: str
    kind: str
    metric: str
    accelerator: str
    confidence: str
    qualifier: str | None
    measured: float | None
    predicted: float | None
    error: float | None
    scored_error: float | None
    reason: str | None
    notes: list[str] = field(default_factory=list)

    @property
    def scored(self) -> bool:
        return self.scored_error is not None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "metric": self.metric,
            "accelerator": self.accelerator,
            "confidence": self.confidence,
            "qualifier": self.qualifier,
            "predicted": self.predicted,
            "measured": self.measured,
            "error": self.error,
            "scored_error": self.scored_error,
            "status": "scored" if self.scored else "not scored",
            "reason": self.reason,
            "notes": self.notes,
        }


def _stats(errors: list[float]) -> dict[str, Any]:
    if not errors:
        return {"n": 0, "median_abs_error": None, "worst_abs_error": None}
    absolute = [abs(e) for e in errors]
    return {"n": len(errors), "median_abs_error": statistics.median(absolute), "worst_abs_error": max(absolute)}


@dataclass
class ValidationReport:
    file: str
    cases: list[CaseResult]

    def summary(self) -> dict[str, Any]:
        scored = [c for c in self.cases if c.scored]
        errs = [c.scored_error for c in scored if c.scored_error is not None]
        out: dict[str, Any] = {
            "file": self.file,
            "cases": len(self.cases),
            "scored": len(scored),
            "not_scored": len(self.cases) - len(scored),
            **_stats(errs),
            "within_15pct": sum(1 for e in errs if abs(e) <= 0.15),
            "within_40pct": sum(1 for e in errs if abs(e) <= 0.40),
        }
        if scored:
            worst = max(scored, key=lambda c: abs(c.scored_error or 0.0))
            out["worst_case"] = worst.id
        for key in ("metric", "accelerator", "kind", "confidence"):
            groups: dict[str, list[float]] = defaultdict(list)
            for c in scored:
                groups[str(getattr(c, key))].append(c.scored_error or 0.0)
            out[f"by_{key}"] = {k: _stats(v) for k, v in sorted(groups.items())}
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"cases": [c.as_dict() for c in self.cases], "summary": self.summary()}


def load_cases(path: str | os.PathLike[str], catalog: Catalog) -> list[Case]:
    """Read a cases file; every accelerator id must resolve in the catalog (aliases allowed)."""
    doc = read_yaml(path)
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        raise InputError.single(doc.file, "expected a mapping with a 'cases:' list", line=1, field="cases")
    problems: list[InputProblem] = []
    cases: list[Case] = []
    for i, raw in enumerate(data["cases"]):
        where = doc.line_of(("cases", i))
        if not isinstance(raw, dict) or "id" not in raw or not isinstance(raw.get("measured"), dict):
            problems.append(
                InputProblem(
                    doc.file, "a case needs id, kind, hardware, model, setting, measured", where, f"cases[{i}]"
                )
            )
            continue
        acc_id = str((raw.get("hardware") or {}).get("accelerator"))
        canon = catalog.resolve("accelerators", acc_id)
        if canon is None:
            hint = catalog.suggest("accelerators", acc_id)
            problems.append(
                InputProblem(
                    doc.file,
                    f"unknown accelerator '{acc_id}'",
                    doc.line_of(("cases", i, "hardware", "accelerator")) or where,
                    f"cases[{i}].hardware.accelerator",
                    f"did you mean '{hint}'? or add it as an alias in a catalog overlay"
                    if hint
                    else "add it (or an alias) in a catalog overlay",
                )
            )
            continue
        case = parse_case(raw, canon)
        case.line = where
        cases.append(case)
    if problems:
        raise InputError(problems)
    return cases


def score(case: Case, catalog: Catalog) -> CaseResult:
    result = CaseResult(
        case.id,
        case.kind,
        case.metric,
        case.accelerator,
        case.confidence,
        case.qualifier,
        case.measured,
        None,
        None,
        None,
        None,
    )
    try:
        if case.measured is None or case.measured <= 0:
            raise NotScored("no positive measured value")
        try:
            dev = device_model(catalog, case.accelerator, strict=False)
            value, notes = predict(case, dev)
        except MissingFigure as exc:
            raise NotScored(str(exc)) from None
    except NotScored as exc:
        result.reason = str(exc)
        result.notes = list(case.assumptions)
        return result
    err = value / case.measured - 1.0
    result.predicted = value
    result.error = err
    result.scored_error = min(0.0, err) if case.qualifier == "lower_bound" else err
    srcs = dev.efficiency_note()
    result.notes = [*notes, *(f"assumed {a}" for a in case.assumptions), *srcs]
    if abs(result.scored_error) > MISS:
        result.reason = "miss: " + "; ".join(miss_causes(case, result))
    return result


MISS = 0.40
"""Beyond this absolute error a case is reported as a miss, with the likely causes."""

_PITFALLS = {
    "device_hours": "whole-run totals from model cards may include more than the pre-training tokens "
    "(post-training, ablations, restarts), so a model of the pre-training run predicts less",
    "mfu": "MFU definitions differ between sources (recomputation counted or not, the peak divided by, the "
    "attention FLOPs), so an MFU compares only loosely",
    "time_to_train_min": "time to train includes start-up and evaluation, which the model does not",
}


def miss_causes(case: Case, result: CaseResult) -> list[str]:
    """Likely causes of a miss, from what the prediction had to assume and the metric's known pitfalls."""
    causes = [f"rests on an assumed {a}" for a in case.assumptions]
    if result.error is not None and result.error < 0 and case.metric in _PITFALLS:
        causes.append(_PITFALLS[case.metric])
    elif case.metric == "mfu":
        causes.append(_PITFALLS["mfu"])
    if case.confidence != "primary":
        causes.append(f"{case.confidence} evidence")
    if case.qualifier:
        causes.append(f"the measured value is {case.qualifier.replace('_', ' ')}")
    return causes or ["no input was assumed: a gap in the model or a setting the source did not record"]


def validate_file(path: str | os.PathLike[str], catalog: Catalog) -> ValidationReport:
    """Predict every case in ``path`` and score it (see module docstring)."""
    cases = load_cases(path, catalog)
    results = [score(c, catalog) for c in cases]
    log.info("validated %d cases from %s", len(results), path)
    return ValidationReport(str(path), results)

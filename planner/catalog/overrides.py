"""Partial overrides: change one price, cap or efficiency without copying the whole entry.

A catalog file may carry a top-level list::

    overrides:
    - target: offers/huawei-910b-server-purchase-cn
      set: {price.value: 260000, supply_cap_units.value: 100}
      source: quote from our integrator, ref Q-2291
      date: 2026-11-02
      confidence: spec

Overrides run after every file is merged, in file order. Each path names a field of the target
entry (dots for nesting, ``[i]`` for list items, e.g. ``rules[0].ratio``). Setting a figure's
``value`` re-sources that figure from the override (source, date, confidence, note) and keeps the
old figure among its alternatives; a bare number given for a whole figure (``price: 260000``)
means its ``value``. A figure that was null in the catalog (``efficiency.train_mfu``) is created.
Nothing outside the named paths changes. Unknown targets, unknown paths and values the schema
rejects are InputErrors naming the file, the line and the field.
"""

from __future__ import annotations

import copy
import difflib
import re
from typing import Any

from pydantic import BaseModel, ValidationError

from planner.catalog.store import Catalog
from planner.catalog.yaml_reader import YamlDocument
from planner.errors import InputError, InputProblem
from planner.models.catalog import Override

_SEGMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)$")
_PROVENANCE = ("source", "date", "confidence", "note")


class _PathError(Exception):
    """A path that does not name a field of the target; carries a hint."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


def _segments(path: str) -> list[str | int]:
    """'rules[0].ratio' -> ['rules', 0, 'ratio']."""
    out: list[str | int] = []
    for part in path.split("."):
        m = _SEGMENT.match(part)
        if m is None:
            raise _PathError(f"'{path}' is not a field path", "write e.g. price.value or rules[0].ratio")
        out.append(m.group(1))
        out.extend(int(i) for i in re.findall(r"\[(\d+)\]", m.group(2)))
    return out


def _is_figure(node: object) -> bool:
    return isinstance(node, dict) and "value" in node and "source" in node and "confidence" in node


def _resourced(old: dict[str, Any] | None, value: Any, ov: Override, where: str) -> dict[str, Any]:
    """The figure after ``value`` is set by ``ov``: new provenance, the old figure as an alternative."""
    fig = dict(old or {})
    alternatives = list(fig.get("alternatives") or [])
    if old is not None and _is_figure(old) and old.get("value") is not None and old.get("value") != value:
        alternatives.insert(
            0,
            {
                "value": old["value"],
                "source": old["source"],
                "date": old["date"],
                "confidence": old["confidence"],
                "note": f"bundled figure, replaced by the override at {where}",
            },
        )
    fig.update(value=value, source=ov.source, date=ov.date, confidence=ov.confidence, note=ov.note)
    if alternatives or "alternatives" in fig:
        fig["alternatives"] = alternatives
    return fig


def _set(data: dict[str, Any], segs: list[str | int], value: Any, ov: Override, where: str) -> None:
    """Set ``value`` at ``segs`` inside the dumped entry, creating null sub-objects on the way."""
    node: Any = data
    for i, seg in enumerate(segs):
        last = i == len(segs) - 1
        if isinstance(seg, int):
            if not isinstance(node, list) or seg >= len(node):
                size = len(node) if isinstance(node, list) else 0
                raise _PathError(f"index [{seg}] is out of range (the list has {size} item(s))")
            if last:
                node[seg] = value
                return
            node = node[seg]
            continue
        if not isinstance(node, dict):
            raise _PathError(f"'{seg}' is inside a value that has no fields")
        if seg not in node and not node.get("__created__"):
            close = difflib.get_close_matches(seg, [k for k in node if k != "__created__"], n=1, cutoff=0.6)
            raise _PathError(f"unknown field '{seg}'", f"did you mean '{close[0]}'?" if close else None)
        if last:
            current = node.get(seg)
            if seg == "value" and (_is_figure(node) or node.get("__created__")):
                node.update(_resourced(node if _is_figure(node) else None, value, ov, where))
            elif _is_figure(current) and not isinstance(value, dict):
                node[seg] = _resourced(current, value, ov, where)
            else:
                node[seg] = value
            return
        if node.get(seg) is None:
            node[seg] = {"__created__": True}
        node = node[seg]


def _strip_created(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _strip_created(v) for k, v in node.items() if k != "__created__"}
    if isinstance(node, list):
        return [_strip_created(v) for v in node]
    return node


def _apply_one(cat: Catalog, doc: YamlDocument, index: int, ov: Override) -> list[InputProblem]:
    kind, ident = ov.target.split("/", 1)
    table: dict[str, BaseModel] = getattr(cat, kind)
    target_line = doc.line_of(("overrides", index, "target"))
    canon = cat.resolve(kind, ident)
    if canon is None:
        hint = cat.suggest(kind, ident)
        return [
            InputProblem(
                doc.file,
                f"unknown {kind[:-1]} '{ident}'",
                target_line,
                f"overrides[{index}].target",
                f"did you mean '{kind}/{hint}'?" if hint else None,
            )
        ]
    entry = table[canon]
    data = copy.deepcopy(entry.model_dump(mode="python"))
    problems: list[InputProblem] = []
    for path, value in ov.set.items():
        line = doc.line_of(("overrides", index, "set", path))
        where = f"{doc.file}:{line}" if line else doc.file
        try:
            segs = _segments(path)
            if segs[0] == "id":
                raise _PathError("an id cannot be overridden", "add a new entry with the new id instead")
            _set(data, segs, value, ov, where)
        except _PathError as exc:
            problems.append(
                InputProblem(doc.file, f"{exc} in {kind}/{canon}", line, f"overrides[{index}].set.{path}", exc.hint)
            )
    if problems:
        return problems
    try:
        updated = type(entry).model_validate(_strip_created(data))
    except ValidationError as exc:
        for err in exc.errors():
            loc = ".".join(str(p) for p in err.get("loc", ()))
            msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
            path = next((p for p in ov.set if loc.startswith(p.split("[")[0].split(".")[0])), next(iter(ov.set)))
            problems.append(
                InputProblem(
                    doc.file,
                    f"{kind}/{canon}.{loc}: {msg}",
                    doc.line_of(("overrides", index, "set", path)),
                    f"overrides[{index}].set.{path}",
                )
            )
        return problems
    table[canon] = updated
    key = f"{kind}/{canon}"
    for path in ov.set:
        line = doc.line_of(("overrides", index, "set", path))
        cat.overridden.setdefault(key, []).append((path, f"{doc.file}:{line}" if line else doc.file))
    return []


def apply_overrides(cat: Catalog, doc: YamlDocument, overrides: list[Override]) -> None:
    """Apply one file's overrides in order; report every bad one at once."""
    problems: list[InputProblem] = []
    for index, ov in enumerate(overrides):
        problems.extend(_apply_one(cat, doc, index, ov))
    if problems:
        raise InputError(problems)

"""Turn pydantic validation errors into problems that name file, line and field."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from planner.catalog.yaml_reader import Path_t, YamlDocument, dotted
from planner.errors import InputError, InputProblem


def _data_path(data: Any, loc: tuple[str | int, ...]) -> Path_t:
    """Follow a pydantic loc through the data, dropping union tags that are not data keys."""
    path: list[str | int] = []
    node: Any = data
    for part in loc:
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict or in_list:
            path.append(part)
            node = node[part]
        elif isinstance(node, (dict, list)):
            continue  # a tag such as 'arch' or 'share_floor' that names a union member
        else:
            path.append(part)
            node = None
    return tuple(path)


def _model_types(annotation: Any) -> list[type[BaseModel]]:
    """Every pydantic model an annotation can hold (through Optional, list, Annotated, unions)."""
    found: list[type[BaseModel]] = []
    stack = [annotation]
    while stack:
        ann = stack.pop()
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            found.append(ann)
            continue
        origin = typing.get_origin(ann)
        if origin is typing.Annotated:
            stack.append(typing.get_args(ann)[0])
        elif origin in (typing.Union, types.UnionType, list, dict, tuple):
            stack.extend(typing.get_args(ann))
    return found


def _allowed_fields(root: type[BaseModel], data: Any, path: Path_t) -> list[str]:
    """Field names valid at ``path`` (the mapping that holds an unknown key)."""
    candidates: list[type[BaseModel]] = [root]
    node: Any = data
    for part in path:
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            node = None
        if isinstance(part, int):
            continue
        nxt: list[type[BaseModel]] = []
        for model in candidates:
            info = model.model_fields.get(part)
            if info is not None:
                nxt.extend(_model_types(info.annotation))
        candidates = nxt
    if isinstance(node, dict) and "kind" in node:
        narrowed = [
            m
            for m in candidates
            if "kind" in m.model_fields and node["kind"] in typing.get_args(m.model_fields["kind"].annotation)
        ]
        candidates = narrowed or candidates
    names: list[str] = []
    for model in candidates:
        names.extend(n for n in model.model_fields if n not in names)
    return names


def _friendly(err: dict[str, Any]) -> str:
    kind = err.get("type", "")
    msg = str(err.get("msg", "invalid value"))
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "missing":
        return "required field is missing"
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    given = err.get("input")
    if kind not in ("missing", "model_type") and isinstance(given, (int, float, str, bool)):
        shown = repr(given) if not isinstance(given, str) else f"'{given[:60]}'"
        msg += f"; got {shown}"
    return msg


def problems_from(
    exc: ValidationError, doc: YamlDocument, root: type[BaseModel], prefix: Path_t = ()
) -> list[InputProblem]:
    """One InputProblem per pydantic error, de-duplicated by field."""
    out: list[InputProblem] = []
    seen: set[tuple[str, str]] = set()
    for detail in exc.errors():
        err: dict[str, Any] = dict(detail)
        loc = tuple(err.get("loc", ()))
        if err.get("type") == "bool_for_number":  # raised for the model: point at the field itself
            loc = (*loc, err["ctx"]["field"])
        path = _data_path(doc.data, (*prefix, *loc))
        field: str | None
        if err.get("type") == "missing" and loc and (not path or path[-1] != loc[-1]):
            field = dotted((*path, loc[-1]))
        else:
            field = dotted(path) or None
        message = _friendly(err)
        hint = None
        if err.get("type") == "extra_forbidden" and path:
            allowed = _allowed_fields(root, doc.data, path[len(prefix) : -1] if prefix else path[:-1])
            close = difflib.get_close_matches(str(path[-1]), allowed, n=1, cutoff=0.6)
            if close:
                hint = f"did you mean '{close[0]}'?"
            elif allowed:
                hint = "expected one of: " + ", ".join(allowed[:12])
        key = (field or "", message)
        if key in seen:
            continue
        seen.add(key)
        out.append(InputProblem(file=doc.file, message=message, line=doc.line_of(path), field=field, hint=hint))
    return out


def validate_as(root: type[BaseModel], doc: YamlDocument) -> Any:
    """Validate a document as ``root`` or raise InputError with located problems."""
    if not isinstance(doc.data, dict):
        raise InputError.single(
            doc.file, f"expected a mapping of fields at the top level, got {type(doc.data).__name__}", line=1
        )
    try:
        return root.model_validate(doc.data)
    except ValidationError as exc:
        raise InputError(problems_from(exc, doc, root)) from None

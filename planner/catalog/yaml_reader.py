"""Safe YAML reading that remembers where every value came from.

PyYAML's safe loader never constructs objects, but it silently accepts duplicate keys, expands
alias bombs and forgets line numbers. This reader composes the node tree itself so that:

- duplicate keys are errors,
- alias expansion is bounded (a "billion laughs" file fails fast),
- every value's line is recorded, so a validation error can name file, line and field.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from planner.errors import InputError

MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_NODES = 200_000

Path_t = tuple[str | int, ...]

_SAFE_TAGS = {
    f"tag:yaml.org,2002:{name}" for name in ("map", "seq", "str", "int", "float", "bool", "null", "timestamp", "merge")
}


@dataclass
class YamlDocument:
    """Parsed YAML plus a map from each value's path to its 1-based line."""

    file: str
    data: Any
    lines: dict[Path_t, int] = field(default_factory=dict)

    def line_of(self, path: Path_t) -> int | None:
        """The line of the deepest known prefix of ``path`` (pydantic locs can go deeper)."""
        probe = tuple(path)
        while probe:
            if probe in self.lines:
                return self.lines[probe]
            probe = probe[:-1]
        return self.lines.get((), None)


_SafeBase: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser when PyYAML has it (about 10x faster on the bundled catalog), else pure Python."""


class _Loader(_SafeBase):
    """SafeLoader whose scalars we construct one at a time."""


def _read_text(path: Path) -> str:
    shown = str(path)
    if not path.exists():
        raise InputError.single(shown, "file not found")
    if path.is_dir():
        raise InputError.single(shown, "is a directory, expected a YAML file")
    if not path.is_file():  # a FIFO or a device (/dev/zero) would block or never end
        raise InputError.single(shown, "is not a regular file, expected a YAML file")
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError.single(
                shown,
                f"file is {size / 1e6:.1f} MB; inputs are limited to {MAX_FILE_BYTES // 1_000_000} MB",
            )
        with path.open("rb") as handle:  # never more than the limit, even if the file grows meanwhile
            raw = handle.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise InputError.single(shown, f"file is over {MAX_FILE_BYTES // 1_000_000} MB; inputs are limited to that")
    except PermissionError:
        raise InputError.single(shown, "permission denied: cannot read the file") from None
    except OSError as exc:
        raise InputError.single(shown, f"cannot read the file: {exc.strerror or exc}") from None
    if b"\x00" in raw:
        raise InputError.single(shown, "binary data (NUL bytes): not a YAML text file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError.single(shown, "not valid UTF-8 text", line=line) from None


class _Builder:
    """Turns a composed node tree into plain Python data, recording lines."""

    def __init__(self, file: str, loader: _Loader) -> None:
        self.file = file
        self.loader = loader
        self.lines: dict[Path_t, int] = {}
        self.visited = 0

    def build(self, node: yaml.Node, path: Path_t) -> Any:
        self.visited += 1
        if self.visited > MAX_NODES:
            raise InputError.single(
                self.file,
                f"document expands to more than {MAX_NODES:,} values "
                "(aliases referring to aliases?); refusing to expand it",
                line=node.start_mark.line + 1,
            )
        self.lines[path] = node.start_mark.line + 1
        if node.tag not in _SAFE_TAGS:
            raise InputError.single(
                self.file,
                f"unsupported YAML tag '{node.tag}' (only plain data is read)",
                line=node.start_mark.line + 1,
                field=_dotted(path) or None,
            )
        if isinstance(node, yaml.MappingNode):
            self.loader.flatten_mapping(node)
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self.build_scalar_key(key_node, path)
                if key in out:
                    raise InputError.single(
                        self.file,
                        f"duplicate key '{key}' (first set on line {self.lines[(*path, key)]})",
                        line=key_node.start_mark.line + 1,
                        field=_dotted((*path, key)),
                    )
                self.lines[(*path, key)] = key_node.start_mark.line + 1
                out[key] = self.build(value_node, (*path, key))
                self.lines[(*path, key)] = key_node.start_mark.line + 1
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        value = self.scalar(node, path)
        if isinstance(value, float) and not math.isfinite(value):
            raise InputError.single(
                self.file,
                f"'{node.value}' is not a finite number",
                line=node.start_mark.line + 1,
                field=_dotted(path),
            )
        return value

    def build_scalar_key(self, node: yaml.Node, path: Path_t) -> str:
        if not isinstance(node, yaml.ScalarNode):
            raise InputError.single(
                self.file,
                "mapping keys must be plain names",
                line=node.start_mark.line + 1,
                field=_dotted(path),
            )
        return str(self.scalar(node, path))

    def scalar(self, node: yaml.Node, path: Path_t) -> Any:
        """A plain value; one that looks typed but is not (2026-13-45 as a date) is an input error."""
        try:
            return self.loader.construct_object(node, deep=True)
        except (ValueError, OverflowError) as exc:
            raise InputError.single(
                self.file,
                f"'{node.value}' is not a valid value ({exc})",
                line=node.start_mark.line + 1,
                field=_dotted(path) or None,
            ) from None


def _dotted(path: Path_t) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def read_yaml(path: str | os.PathLike[str]) -> YamlDocument:
    """Read one YAML document safely; raise InputError naming file and line on any problem."""
    p = Path(path)
    shown = str(path)
    text = _read_text(p)
    loader = _Loader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark else None
            problem = exc.problem or "malformed YAML"
            hint = "YAML indentation must use spaces, not tabs" if "\t" in problem or "tab" in problem else None
            raise InputError.single(shown, f"malformed YAML: {problem}", line=line, hint=hint) from None
        except yaml.YAMLError as exc:
            raise InputError.single(shown, f"malformed YAML: {exc}") from None
        if node is None:
            raise InputError.single(shown, "file is empty")
        builder = _Builder(shown, loader)
        try:
            data = builder.build(node, ())
        except yaml.constructor.ConstructorError as exc:
            mark = exc.problem_mark
            raise InputError.single(
                shown,
                f"unsupported YAML value: {exc.problem}",
                line=mark.line + 1 if mark else None,
            ) from None
        except RecursionError:
            raise InputError.single(shown, "document is nested too deeply") from None
    finally:
        loader.dispose()
    return YamlDocument(file=shown, data=data, lines=builder.lines)


def dotted(path: Path_t) -> str:
    """Render a path the way users write it: ``constraints.budget.total``, ``offers[3].price``."""
    return _dotted(path)

"""Dotted field paths: ``Account_Name.id``, ``shipping.0.shipping``, ``contact_persons[0].email``.

Sources are read with :func:`get_path` (dict keys, list indexes given as numbers or ``[n]``); targets are
written with :func:`set_path`, which builds nested dicts and lists. ``[]`` (no index) appears only in
catalogue patterns and means "any element".
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_SEGMENT = re.compile(r"^(?P<name>[A-Za-z0-9_$]+)(?:\[(?P<index>\d*)\])?$")


@dataclass(frozen=True)
class PathSegment:
    """One dotted segment; ``index`` is set for ``name[n]``, ``-1`` for ``name[]``."""

    name: str
    index: int | None = None


class PathSyntaxError(ValueError):
    """A field path does not follow ``name(.name|[n])*``."""


@functools.lru_cache(maxsize=4096)
def parse_path(path: str) -> tuple[PathSegment, ...]:
    """Split ``a.b[0].c`` into segments, raising :class:`PathSyntaxError` on malformed input.

    Cached: a mapping uses a few dozen paths and applies them to every record.
    """
    if not path or path.strip() != path:
        raise PathSyntaxError(f"invalid field path {path!r}")
    segments: list[PathSegment] = []
    for raw in path.split("."):
        match = _SEGMENT.match(raw)
        if match is None:
            raise PathSyntaxError(f"invalid field path {path!r} (segment {raw!r})")
        index_text = match.group("index")
        if index_text is None:
            segments.append(PathSegment(match.group("name")))
        else:
            segments.append(PathSegment(match.group("name"), int(index_text) if index_text else -1))
    return tuple(segments)


def root_name(path: str) -> str:
    """The first segment's name: ``Account_Name.id`` -> ``Account_Name``."""
    return parse_path(path)[0].name


def get_path(record: Any, path: str) -> Any:
    """Value at ``path`` or ``None`` when any step is missing (missing and null are the same to a mapping)."""
    current: Any = record
    for segment in parse_path(path):
        current = _step(current, segment.name)
        if segment.index is not None:
            current = _step(current, str(segment.index))
        if current is None:
            return None
    return current


def _step(container: Any, key: str) -> Any:
    if isinstance(container, Mapping):
        return container.get(key)
    if isinstance(container, list) and key.isdigit():
        position = int(key)
        return container[position] if position < len(container) else None
    return None


def set_path(payload: dict[str, Any], path: str, value: Any) -> None:
    """Write ``value`` at ``path`` inside ``payload``, creating dicts / lists on the way."""
    segments = parse_path(path)
    current: Any = payload
    for position, segment in enumerate(segments):
        last = position == len(segments) - 1
        if segment.index is None or segment.index < 0:
            if last:
                current[segment.name] = value
                return
            current = current.setdefault(segment.name, {})
            continue
        items = current.setdefault(segment.name, [])
        while len(items) <= segment.index:
            items.append({})
        if last:
            items[segment.index] = value
            return
        current = items[segment.index]


def catalogue_pattern(path: str) -> str:
    """``contact_persons[0].email`` -> ``contact_persons[].email`` (indexes do not matter to a catalogue)."""
    return re.sub(r"\[\d+\]", "[]", path)

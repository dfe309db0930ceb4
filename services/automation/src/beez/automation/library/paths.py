"""Paths into a workflow's JSON, as field violations spell them: ``actions[2].config.subject``.

A customizable field names its place in a template's workflow this way; reading and writing
through these helpers keeps the two spellings (the API's paths and the stored JSON) the same.
"""

from __future__ import annotations

import re
from typing import Any

_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


class PathError(ValueError):
    """A path that is malformed or does not lead to a value in the document."""


def parse_path(path: str) -> list[str | int]:
    """The keys and indexes of ``path``; :class:`PathError` when it is not one."""
    parts: list[str | int] = []
    position = 0
    for match in _PART.finditer(path):
        gap = path[position : match.start()]
        key, index = match.groups()
        expected = "" if index is not None or not parts else "."
        if gap != expected:
            raise PathError(f"{path!r} is not a path")
        parts.append(int(index) if index is not None else key)
        position = match.end()
    if not parts or position != len(path) or isinstance(parts[0], int):
        raise PathError(f"{path!r} is not a path")
    return parts


def _step(node: Any, part: str | int, path: str) -> Any:
    if isinstance(part, int):
        if not isinstance(node, list) or part >= len(node):
            raise PathError(f"{path} does not exist")
        return node[part]
    if not isinstance(node, dict) or part not in node:
        raise PathError(f"{path} does not exist")
    return node[part]


def get_path(document: Any, path: str) -> Any:
    """The value at ``path``; :class:`PathError` when there is none."""
    node = document
    for part in parse_path(path):
        node = _step(node, part, path)
    return node


def set_path(document: Any, path: str, value: Any) -> None:
    """Replaces the value at ``path``, which must exist (a template only changes its own fields)."""
    parts = parse_path(path)
    node = document
    for part in parts[:-1]:
        node = _step(node, part, path)
    last = parts[-1]
    _step(node, last, path)
    node[last] = value

"""Strict YAML loading for every YAML file the workflow reads.

PyYAML's ``safe_load`` lets the last of two equal keys win without a word (``exit_tolerance_days: 30``
and later ``exit_tolerance_days: 0`` in one section silently mean 0), and reports a refused tag
(``!!python/object``) in words that do not say what is wrong. This loader refuses both, naming the
file, the line and what to do, as a :class:`~coalitions.util.CoalitionsError`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from .util import CoalitionsError


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (at any depth)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    loader.flatten_mapping(node)
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, f"a mapping key must be a plain value, found {key!r}", key_node.start_mark) from None
        line = key_node.start_mark.line + 1
        if key in seen:
            raise _DuplicateKey(key, line, seen[key])
        seen[key] = line
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


class _DuplicateKey(Exception):
    def __init__(self, key: Any, line: int, first: int) -> None:
        super().__init__(key, line, first)
        self.key, self.line, self.first = key, line, first


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _describe(path: str, exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f"{path}, line {mark.line + 1}" if mark is not None else path
    at = f" at line {mark.line + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc)
    if isinstance(exc, yaml.constructor.ConstructorError) and "could not determine a constructor" in str(exc):
        tag = str(problem).split("tag", 1)[-1].strip(" '").replace("tag:yaml.org,2002:", "!!")
        return (f"{where}: the YAML tag {tag} is not allowed (only plain YAML values: text, numbers, true/false, "
                f"lists and mappings); remove the tag")
    problem = " ".join(str(problem).split())
    hint = "indent with spaces, not tabs" if "\\t" in problem else "check the quoting and indentation there"
    return f"{path}: not valid YAML{at} ({problem}); fix the file ({hint})"


def loads(text: str, origin: str = "<text>") -> Any:
    """Parse YAML text strictly; errors name ``origin`` and the line."""
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader subclass)
    except _DuplicateKey as exc:
        raise CoalitionsError(
            f"{origin}, line {exc.line}: duplicate key '{exc.key}' (first given on line {exc.first}); "
            "a key may appear once per section: delete one of them"
        ) from None
    except yaml.YAMLError as exc:
        raise CoalitionsError(_describe(origin, exc)) from None


def load(path: str | os.PathLike) -> Any:
    """Read and parse one YAML file strictly (see :func:`loads`)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CoalitionsError(f"{p}: file not found") from None
    except IsADirectoryError:
        raise CoalitionsError(f"{p}: is a folder, not a YAML file") from None
    except UnicodeDecodeError as exc:
        line = p.read_bytes()[: exc.start].count(b"\n") + 1
        raise CoalitionsError(f"{p}, line {line}: not UTF-8 text (byte 0x{p.read_bytes()[exc.start]:02x}); "
                              "save the file as UTF-8") from None
    return loads(text, str(p))

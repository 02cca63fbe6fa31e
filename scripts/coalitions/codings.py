"""Coding-rule sets: one YAML file per named set in ``config/codings/``.

A coding file says who proposed the rules and why, and overrides the coding parameters of each
study (``weisiger:`` — :class:`coalitions.weisiger.rebuild.WeisigerCoding` and the recodes of the
original archive; ``henke:`` — :class:`coalitions.henke.rebuild.HenkeCoding`). Keys it does not set
keep the baseline's values. Unknown keys, wrong types or values raise an error that names the file
and the key.

The top level is checked against ``config/coding.schema.yaml``; each study's section is checked by
that study's ``from_dict``, so that the two can never disagree about which keys exist.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .util import CoalitionsError, read_yaml

SCHEMA_FILE = "coding.schema.yaml"


@dataclass(frozen=True)
class Coding:
    name: str
    label: str
    proposed_by: str
    why: str
    path: str
    sha256: str
    weisiger: dict[str, Any] = field(default_factory=dict)
    henke: dict[str, Any] = field(default_factory=dict)
    #: the weisiger section with its case files read in (see coalitions.weisiger.apply.resolve)
    weisiger_resolved: dict[str, Any] = field(default_factory=dict)

    def case_files(self) -> list[str]:
        """Case files the coding reads (inputs of the jobs that use it)."""
        return list(self.weisiger_resolved.get("case_files", []))


def _schema_errors(data: Any, schema: dict, path: Path) -> None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        lines = []
        for e in errors:
            key = ".".join(str(p) for p in e.absolute_path) or "(top level)"
            lines.append(f"{key}: {e.message}")
        raise CoalitionsError(f"{path}: invalid coding file:\n- " + "\n- ".join(lines)
                              + f"\n(the keys and values allowed are those of {SCHEMA_FILE}; fix or remove the key)")


def load_coding(path: str | Path, schema_path: str | Path | None = None, root: str | Path = ".") -> Coding:
    """Load and validate one coding file (top level, then each study's section).

    ``root`` is the project folder against which case-file paths in the coding are resolved.
    """
    path = Path(path)
    data = read_yaml(path)
    schema_path = Path(schema_path) if schema_path else path.parent.parent / SCHEMA_FILE
    _schema_errors(data, read_yaml(schema_path), path)
    if data["name"] != path.stem:
        raise CoalitionsError(f"{path}: name '{data['name']}' must equal the file name '{path.stem}'")
    from .henke.rebuild import HenkeCoding
    from .weisiger.apply import resolve

    weisiger = dict(data.get("weisiger") or {})
    henke = dict(data.get("henke") or {})
    # each study validates its own section: unknown key, wrong type or value -> error with the key
    resolved = resolve(weisiger, origin=f"{path}: weisiger", root=root)
    HenkeCoding.from_dict(henke, origin=f"{path}: henke")
    return Coding(
        name=data["name"], label=data["label"], proposed_by=data["proposed_by"], why=data["why"],
        path=str(path), sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        weisiger=weisiger, henke=henke, weisiger_resolved=resolved,
    )


def coding_files(folder: str | Path) -> dict[str, Path]:
    return {p.stem: p for p in sorted(Path(folder).glob("*.yaml"))}


def load_codings(folder: str | Path, names: list[str] | None = None, root: str | Path = ".") -> dict[str, Coding]:
    files = coding_files(folder)
    if names is None:
        names = list(files)
    missing = [n for n in names if n not in files]
    if missing:
        raise CoalitionsError(
            f"coding(s) {missing} not found in {folder} (available: {', '.join(files) or 'none'}); "
            "add config/codings/<name>.yaml or fix the `codings` list"
        )
    return {n: load_coding(files[n], root=root) for n in names}

"""Bad input at start-up: one clear line instead of a traceback, and command-line values as users type them.

The workflow's jobs turn a :class:`~coalitions.util.CoalitionsError` into one logged line
(:mod:`coalitions.entry`). The code that runs while Snakemake reads the Snakefile (the registry,
the coding files, the multiverse) goes through :func:`guard`, which does the same there: it prints
``Error: <message>`` on one line and stops with exit status 1. With ``--verbose`` (or the
environment variable ``COALITIONS_VERBOSE=1``) the error is raised as usual, with its traceback.

:func:`check_config_files` reads the configuration files strictly (a duplicate key or a YAML tag is
refused, naming the file and line), and :func:`coerce_cli_config` turns what users type after
``--config`` (``require_original_archives=true``, ``download={retries: 5}``), which Snakemake hands
over as text, into the booleans and numbers that ``config/schema.yaml`` asks for.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any, Callable, Iterable, TypeVar

from .util import CoalitionsError

T = TypeVar("T")

#: set from the Snakefile (Snakemake's --verbose); the environment variable works everywhere
VERBOSE = False


def verbose() -> bool:
    return VERBOSE or os.environ.get("COALITIONS_VERBOSE", "").strip().lower() in ("1", "true", "yes")


def one_line(message: str) -> str:
    """A message on one line (the lines of a multi-line message joined with '; ')."""
    parts = [p.strip().lstrip("- ").strip() for p in str(message).splitlines()]
    return "; ".join(p for p in parts if p).replace(":;", ":")


def stop(message: str) -> None:
    """Print ``Error: message`` on one line to stderr and exit with status 1."""
    print(f"Error: {one_line(message)}", file=sys.stderr, flush=True)
    raise SystemExit(1)


def guard(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)``; a CoalitionsError becomes one line on stderr and exit status 1."""
    try:
        return fn(*args, **kwargs)
    except CoalitionsError as exc:
        if verbose():
            raise
        stop(str(exc))
        raise  # pragma: no cover (stop exits)


# ------------------------------------------------------------------------------------------------
# configuration files and --config values


def check_config_files(paths: Iterable[str | os.PathLike]) -> None:
    """Read each configuration file strictly: a duplicate key or a YAML tag is an error with its line.

    Snakemake has already read them (and would let the last of two equal keys win); this makes
    sure that what it read is what the file says.
    """
    from .strict_yaml import load

    for p in paths:
        p = Path(p)
        if p.suffix.lower() == ".json":
            import json

            def _pairs(pairs: list[tuple[str, Any]], origin: Path = p) -> dict:
                keys = [k for k, _ in pairs]
                dup = sorted({k for k in keys if keys.count(k) > 1})
                if dup:
                    raise CoalitionsError(f"{origin}: duplicate key(s) {dup}; a key may appear once per section")
                return dict(pairs)

            try:
                json.loads(p.read_text(encoding="utf-8"), object_pairs_hook=_pairs)
            except json.JSONDecodeError as exc:
                raise CoalitionsError(f"{p}, line {exc.lineno}: not valid JSON ({exc.msg})") from None
            continue
        load(p)


_INT = re.compile(r"^[+-]?\d+$")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_BOOLS = {"true": True, "false": False}


def _types(schema: dict) -> set[str]:
    t = schema.get("type", [])
    return {t} if isinstance(t, str) else set(t)


def _coerce(value: Any, schema: dict) -> Any:
    if isinstance(value, dict):
        props = schema.get("properties", {})
        return {k: (_coerce(v, props[k]) if k in props else v) for k, v in value.items()}
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [_coerce(v, schema["items"]) for v in value]
    if not isinstance(value, str):
        return value
    types = _types(schema)
    enum = schema.get("enum")
    text = value.strip()
    low = text.lower()
    wants_bool = "boolean" in types or (enum is not None and any(isinstance(e, bool) for e in enum))
    if wants_bool and low in _BOOLS:
        return _BOOLS[low]
    if "null" in types and low in ("null", "none", "~"):
        return None
    if "integer" in types and _INT.match(text):
        return int(text)
    if "number" in types and _NUMBER.match(text):
        return float(text)
    return value


def coerce_cli_config(config: dict, schema_path: str | os.PathLike) -> dict:
    """Turn text values into the booleans/numbers the schema asks for, in place; returns ``config``.

    Snakemake parses ``--config key=value`` itself: ``True``/``False`` become booleans, but
    ``true``, ``false`` and the values inside ``{...}`` stay text. Only a value the schema wants as
    a boolean, integer, number or null is converted, and only when it spells one exactly;
    anything else is left for the schema check to refuse with the key named.
    """
    from .strict_yaml import load

    schema = load(schema_path)
    props = schema.get("properties", {})
    for key in list(config):
        if key in props:
            config[key] = _coerce(config[key], props[key])
    return config


def validate_config(config: dict, schema_path: str | os.PathLike) -> None:
    """Check the configuration against its schema; every fault on one line, naming the key."""
    import jsonschema

    from .strict_yaml import load

    validator = jsonschema.Draft202012Validator(load(schema_path))
    errors = sorted(validator.iter_errors(config), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        parts = [f"{'.'.join(str(p) for p in e.absolute_path) or '(top level)'}: {e.message}" for e in errors]
        raise CoalitionsError(f"config: {'; '.join(parts)}. Fix the value (--config, --configfile or "
                              f"config/config.yaml); {schema_path} lists the keys and values allowed")


def check_config(config: dict, schema_path: str | os.PathLike = "config/schema.yaml") -> dict:
    """What the Snakefile does with the merged configuration: command-line values typed, then checked."""
    coerce_cli_config(config, schema_path)
    validate_config(config, schema_path)
    if "baseline" not in (config.get("codings") or []):
        raise CoalitionsError("config: `codings` must include baseline (the comparison is made against it); "
                              "add it to the list")
    return config


# ------------------------------------------------------------------------------------------------
# file-system failures of a job (a folder that cannot be written, a full disk)

import errno as _errno

_FULL = {_errno.ENOSPC, _errno.EFBIG, getattr(_errno, "EDQUOT", -1)}
_DENIED = {_errno.EACCES, _errno.EPERM, _errno.EROFS}
_FULL_TEXT = ("no space left", "file too large", "disk quota")
_DENIED_TEXT = ("permission denied", "operation not permitted", "read-only file system")


def describe_os_error(exc: OSError, what: str, outputs: Iterable[str] = ()) -> str | None:
    """One line saying what could not be written and what to do, or None for other OS errors."""
    text = str(exc).lower()
    code = exc.errno
    if code in _FULL or any(t in text for t in _FULL_TEXT):
        kind = "the disk is full or a file-size limit was reached"
        todo = "free disk space (or raise the limit) and run again"
    elif code in _DENIED or any(t in text for t in _DENIED_TEXT):
        kind = "permission denied"
        todo = "make the folder writable (or remove its immutable flag) and run again"
    else:
        return None
    outs = [str(o) for o in outputs]
    name = exc.filename if isinstance(exc.filename, str) else None
    if name:
        base = Path(name).name
        for o in outs:  # a temporary file of the atomic writes (.<name>.<pid>.<random>.partial): its target
            if Path(o).resolve().parent == Path(name).resolve().parent and base.startswith(f".{Path(o).name}."):
                name = o
                break
        target = _rel(name)
        folder = _rel(str(Path(name).parent))
    else:
        folders = sorted({_rel(str(Path(o).parent)) for o in outs})
        target = "its outputs" + (f" in {', '.join(folders)}" if folders else "")
        folder = ", ".join(folders) or "the results folder"
    detail = " ".join(str(exc.strerror or exc).split())
    return (f"{what}: could not write {target} ({kind}: {detail}); {todo}. "
            f"Check {folder}; no partial output was kept.")


def _rel(path: str) -> str:
    try:
        r = os.path.relpath(path)
    except ValueError:
        return path
    return path if r.startswith("..") else r


def main(argv: list[str] | None = None) -> int:
    """``python -m coalitions.guard FILE...``: check configuration files as the workflow will read them.

    Snakemake reads a ``--configfile`` itself before the workflow starts, and refuses a YAML tag
    with a message about tabs; this check names the file, the line and the fault.
    """
    files = sys.argv[1:] if argv is None else argv
    try:
        check_config_files(files)
    except CoalitionsError as exc:
        print(f"Error: {one_line(str(exc))}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Small helpers shared by every stage: atomic writes, hashing, logging."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

LOG = logging.getLogger("coalitions")


class CoalitionsError(Exception):
    """An error meant for the user: the message names the file, key or row and what to do."""


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def md5_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.md5()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def normalise_line_endings(data: bytes) -> bytes:
    """CRLF and bare CR to LF, and a final LF if the text lacks one.

    This is the convention of the mirror's ``sha256_lf_normalised`` (its manifest hashes, e.g. of
    COW's CR-only war file without a final newline, are of the text *with* a final LF), so copies
    of a release that differ only in line endings or in the final newline verify alike.
    """
    data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    if data and not data.endswith(b"\n"):
        data += b"\n"
    return data


def sha256_lf_normalised(path: str | os.PathLike) -> str:
    return hashlib.sha256(normalise_line_endings(Path(path).read_bytes())).hexdigest()


def _umask() -> int:
    """The process's file-creation mask.

    Read from /proc where it exists (no side effect); elsewhere by setting and restoring it.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def remove_stale_partials(folder: str | os.PathLike, prefix: str, suffix: str = "",
                          max_age_s: float = 3600.0) -> list[Path]:
    """Remove temporary files (or folders) ``<prefix><pid>.<random><suffix>`` left by a killed run.

    One is stale when the process whose id it carries no longer runs; a name without a process id
    (older releases) when it is older than ``max_age_s``. A temporary file of a run still going on is
    never touched.
    """
    import shutil
    import time

    removed = []
    folder = Path(folder)
    if not folder.is_dir():
        return removed
    for p in folder.glob(f"{glob_escape(prefix)}*{glob_escape(suffix)}"):
        head = p.name[len(prefix):].split(".", 1)[0]
        pid = int(head) if head.isdigit() and int(head) > 0 else None
        try:
            stale = (not _pid_alive(pid)) if pid is not None else time.time() - p.lstat().st_mtime > max_age_s
        except OSError:
            continue
        if pid == os.getpid() or not stale:
            continue
        with contextlib.suppress(OSError):
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            else:
                p.unlink()
            removed.append(p)
    if removed:
        LOG.info("removed %d temporary file(s) left by an interrupted run in %s", len(removed), folder)
    return removed


def glob_escape(text: str) -> str:
    import glob

    return glob.escape(text)


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; move it into place only if the block succeeds.

    A failure (an exception, an interrupted download, a failed validation) removes the temporary
    file, so no partial file is ever left where a later run would trust it.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    suffix = suffix or ".partial"
    remove_stale_partials(target.parent, f".{target.name}.", suffix)  # left by a killed run
    fd, tmp = tempfile.mkstemp(
        prefix=f".{target.name}.{os.getpid()}.", suffix=suffix, dir=target.parent
    )
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp makes the file private (0600); give the result the permissions an ordinary
        # new file would have, so that outputs stay readable by collaborators and services
        if tmp_path.exists():
            os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def write_text_atomic(target: str | os.PathLike, text: str) -> None:
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_csv_atomic(df: Any, target: str | os.PathLike, **kwargs: Any) -> None:
    """A DataFrame as CSV (no index), moved into place only once fully written."""
    with atomic_path(target) as tmp:
        df.to_csv(tmp, index=False, **kwargs)


def write_json_atomic(target: str | os.PathLike, obj: Any) -> None:
    write_text_atomic(target, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def read_yaml(path: str | os.PathLike) -> Any:
    """One YAML file, strictly: a duplicate key or a YAML tag is an error naming the file and line."""
    from .strict_yaml import load

    return load(path)


#: look-ups derived from source tables, by what they are and the identity of the tables they were built from
#: (the tables are kept alive with them, so an id cannot be reused while its entry exists)
_DERIVED: dict[tuple, tuple[Any, list]] = {}


def derived(name: str, objs: list[Any], build: Any) -> Any:
    """``build()``, computed once for the same ``objs`` (the source tables it reads, by identity).

    For read-only look-ups (dicts of arrays or frames) that many builds of one process derive from the same
    tables, as the multiverse does for each war it builds; the caller must not change what it gets."""
    key = (name, tuple(id(o) for o in objs))
    hit = _DERIVED.get(key)
    if hit is None:
        if len(_DERIVED) > 32:
            _DERIVED.clear()
        hit = (build(), list(objs))
        _DERIVED[key] = hit
    return hit[0]


def setup_logging(log_file: str | os.PathLike | None = None) -> None:
    """Log to stderr and, when Snakemake gives one, to the rule's log file."""
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if log_file:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, mode="w", encoding="utf-8"))
    logging.basicConfig(
        level=logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )

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


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; move it into place only if the block succeeds.

    A failure (an exception, an interrupted download, a failed validation) removes the temporary
    file, so no partial file is ever left where a later run would trust it.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=suffix or ".partial", dir=target.parent
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
    import yaml

    path = Path(path)
    try:
        with open(path, encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except FileNotFoundError:
        raise CoalitionsError(f"{path}: file not found") from None
    except yaml.YAMLError as exc:
        raise CoalitionsError(f"{path}: not valid YAML: {exc}") from None


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

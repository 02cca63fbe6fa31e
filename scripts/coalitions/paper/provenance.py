"""Provenance of a paper build: software versions, data checksums, git commit, file hashes.

Everything here is read, never guessed: a version that cannot be found is reported as
"not installed", a commit that cannot be read as "unknown".
"""

from __future__ import annotations

import json
import platform
import shutil
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Iterable

from ..util import LOG, sha256_file

#: distributions whose versions the appendix lists (the pinned dependencies of pyproject.toml)
PACKAGES = (
    "coalitions", "snakemake", "pandas", "numpy", "scipy", "statsmodels", "pyarrow", "pyreadr",
    "jinja2", "jsonschema", "pyyaml", "requests", "matplotlib", "lifelines",
)


def software_versions(packages: tuple[str, ...] = PACKAGES) -> list[dict[str, str]]:
    """Python and the installed version of each package (``importlib.metadata``)."""
    rows = [{"name": "Python", "version": platform.python_version()}]
    for name in packages:
        try:
            rows.append({"name": name, "version": metadata.version(name)})
        except metadata.PackageNotFoundError:
            rows.append({"name": name, "version": "not installed"})
    return rows


def tex_version() -> str | None:
    """First line of ``pdflatex --version`` (the TeX engine that builds the PDF), or None."""
    exe = shutil.which("pdflatex")
    if not exe:
        return None
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    line = out.stdout.splitlines()[0].strip() if out.stdout else ""
    return line or None


def data_checksums(records: Iterable[str | Path]) -> list[dict[str, Any]]:
    """The verification records of the fetched public files (``resources/provenance/**.json``, the
    files given), sorted by path: path, source, key, sha256, bytes, how it was verified and where it
    came from."""
    rows = []
    for p in sorted(Path(r) for r in records):
        if not p.is_file():
            continue
        try:
            rec = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            LOG.warning("provenance record %s cannot be read (%s); left out of the paper", p, exc)
            continue
        if not isinstance(rec, dict):
            continue
        rows.append({
            "path": str(rec.get("path") or p.with_suffix("")),
            "source": str(rec.get("source", "")),
            "key": str(rec.get("key", "")),
            "sha256": str(rec.get("sha256", "")),
            "bytes": rec.get("bytes"),
            "verified_by": str(rec.get("verified_by", "")),
            "origin": str(rec.get("origin", "")),
            "synthetic": bool(rec.get("synthetic", False)) or str(rec.get("origin", "")).startswith("synthetic"),
        })
    return sorted(rows, key=lambda r: r["path"])


def git_info(repo_dir: str | Path) -> dict[str, Any]:
    """Commit hash and commit time (seconds since the epoch) of a git checkout, with read-only
    git commands. Outside a checkout (or without git): ``{"commit": "unknown", "time": None}``.

    The caller passes the result to :func:`coalitions.paper.gather.gather`; the commit time is a
    natural ``SOURCE_DATE_EPOCH`` for a reproducible PDF.
    """
    git = shutil.which("git")
    out: dict[str, Any] = {"commit": "unknown", "time": None, "dirty": None}
    if not git:
        return out
    try:
        rev = subprocess.run([git, "-C", str(repo_dir), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=30, check=False)
        if rev.returncode != 0:
            return out
        out["commit"] = rev.stdout.strip()
        ts = subprocess.run([git, "-C", str(repo_dir), "log", "-1", "--format=%ct"], capture_output=True,
                            text=True, timeout=30, check=False)
        if ts.returncode == 0 and ts.stdout.strip().isdigit():
            out["time"] = int(ts.stdout.strip())
        st = subprocess.run([git, "-C", str(repo_dir), "status", "--porcelain", "--untracked-files=no"],
                            capture_output=True, text=True, timeout=30, check=False)
        if st.returncode == 0:
            out["dirty"] = bool(st.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        return {"commit": "unknown", "time": None, "dirty": None}
    return out


def file_hashes(paths: list[Path], shown: Callable[[Path], str]) -> list[dict[str, str]]:
    """sha256 of each existing file, with its path as ``shown`` prints it (sorted)."""
    return [{"path": shown(p), "sha256": sha256_file(p)} for p in sorted(paths) if p.is_file()]

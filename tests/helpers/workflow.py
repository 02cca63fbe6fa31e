"""Run the project's Snakemake workflow in a scratch copy, with the virtualenv's Snakemake."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

#: what a working copy of the workflow needs (data and results are never copied)
WORKFLOW_PARTS = ("Snakefile", "rules", "config", "scripts", "envs", "report", "profiles", "Makefile", "pyproject.toml",
                  "README.md", ".ci")


def copy_workflow(root: Path, dst: Path) -> Path:
    """Copy the workflow's code and configuration (not its data or results) into ``dst``."""
    dst.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for part in WORKFLOW_PARTS:
        src = root / part
        if src.is_dir():
            shutil.copytree(src, dst / part, ignore=ignore)
        elif src.is_file():
            shutil.copy2(src, dst / part)
    return dst


def git_checkout(workdir: Path) -> Path:
    """Make ``workdir`` a git checkout with the workflow's code and configuration committed (the package
    rule lists the code it ships with ``git ls-files``; data and results stay untracked). Skips the test
    when git is not installed."""
    import pytest

    git = shutil.which("git")
    if not git:
        pytest.skip("git is not installed (the replication package is built from a git checkout)")
    ident = ["-c", "user.name=Test", "-c", "user.email=test@example.org", "-c", "commit.gpgsign=false"]
    parts = [p for p in WORKFLOW_PARTS if (workdir / p).exists()]
    for args in (["init", "-q"], ["add", "-A", "--", *parts], [*ident, "commit", "-q", "-m", "scratch copy of the workflow"]):
        subprocess.run([git, *args], cwd=workdir, check=True, capture_output=True, text=True)
    return workdir


def snakemake(workdir: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python -m snakemake ARGS`` in ``workdir`` with this interpreter (the project's venv).

    COALITIONS_MIRROR is removed from the environment so that only ``--config mirror=...`` decides
    where data come from.
    """
    env = {k: v for k, v in os.environ.items() if k != "COALITIONS_MIRROR"}
    env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    return subprocess.run(
        [sys.executable, "-m", "snakemake", *args],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout,
    )


def output_of(proc: subprocess.CompletedProcess) -> str:
    return (proc.stdout or "") + "\n" + (proc.stderr or "")

"""Snakemake's rerun triggers see every file the paper reads: editing one re-runs the paper and what
depends on it (the package, ``all``), and nothing upstream.

The check runs in a scratch copy of the workflow (a git checkout: the package rule lists its code
with ``git ls-files``) where every output of the DAG is an empty placeholder marked up to date with
``--touch``; no job is ever run. Each case edits one file, asks for a dry run with the rerun triggers
the workflow uses (``mtime input params code``) and restores the file (content and time stamp).
A file the paper reads without declaring it would leave the dry run with nothing to do.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.workflow import copy_workflow, git_checkout

TARGETS = ["all", "results/replication-package.zip"]
TRIGGERS = ["--rerun-triggers", "mtime", "input", "params", "code"]
#: the paper and what depends on it
DOWNSTREAM = {"paper", "package", "all"}


def _smk(work: Path, mirror: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "COALITIONS_MIRROR"}
    env["PYTHONPATH"] = str(work / "scripts")  # the copy's own code
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "1", "--config", f"mirror={mirror}",
                           *args, "--", *TARGETS], cwd=work, env=env, capture_output=True, text=True, timeout=600)
    out = proc.stdout + "\n" + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    return out


def _jobs(out: str) -> dict[str, int]:
    """The "Job stats" table of a dry run ({} when there is nothing to be done)."""
    if "Nothing to be done" in out:
        return {}
    table = out.split("Job stats:", 1)[1]
    jobs = {}
    for line in table.splitlines()[3:]:
        m = re.fullmatch(r"(\S+)\s+(\d+)", line.strip())
        if not m:
            break
        if m.group(1) != "total":
            jobs[m.group(1)] = int(m.group(2))
    assert jobs, out[-3000:]
    return jobs


@pytest.fixture(scope="module")
def built(root, mirror, tmp_path_factory) -> Path:
    """A scratch checkout whose every output exists and is up to date (empty placeholders)."""
    work = git_checkout(copy_workflow(root, tmp_path_factory.mktemp("triggers")))
    plan = _smk(work, mirror, "-n", "--forceall")
    outputs = [p.strip() for line in plan.splitlines() if line.strip().startswith("output: ")
               for p in line.strip()[len("output: "):].split(",")]
    assert "results/paper/paper.html" in outputs and "results/replication-package.zip" in outputs
    for p in outputs:
        (work / p).parent.mkdir(parents=True, exist_ok=True)
        (work / p).touch()
    _smk(work, mirror, "--touch")  # in the DAG's order: every output newer than its inputs, metadata recorded
    assert _jobs(_smk(work, mirror, "-n", *TRIGGERS)) == {}, "the placeholders are not up to date"
    return work


@pytest.mark.parametrize("relpath, edit", [
    ("scripts/coalitions/templates/paper.tex.j2", "<# an edited template #>\n"),
    ("scripts/coalitions/templates/paper.html.j2", "{# an edited template #}\n"),
    ("scripts/coalitions/templates/literature.bib", "% an edited bibliography\n"),
    ("scripts/coalitions/paper/fmt.py", "# an edited module of the paper\n"),
    ("scripts/coalitions/paper/prose.py", "# an edited prose module\n"),
])
def test_editing_what_the_paper_reads_reruns_the_paper_and_nothing_upstream(built, mirror, relpath, edit):
    path = built / relpath
    before, stat = path.read_bytes(), path.stat()
    try:
        path.write_bytes(before + edit.encode())
        jobs = _jobs(_smk(built, mirror, "-n", *TRIGGERS))
    finally:
        path.write_bytes(before)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert set(jobs) == DOWNSTREAM, f"{relpath}: jobs to run {jobs}, expected exactly {sorted(DOWNSTREAM)}"
    assert all(n == 1 for n in jobs.values()), jobs

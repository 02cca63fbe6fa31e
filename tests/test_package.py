"""The journal replication package: built by the workflow, rebuilt from an empty folder with one command.

The slow test builds the whole workflow in a scratch copy against the mirror, writes the package,
unzips it into an empty folder, runs the one command its README gives (Snakemake with the mirror),
and checks that every shipped output (tables, figures, LaTeX, HTML, PDF) is reproduced byte for byte.
That is also the determinism check of two clean builds on the real data. Both builds use the small
multiverse (config/multiverse_quick.yaml, 8 universes per study) so that the suite stays well inside CI's
time: the full cross is the same code on more universes, and tests/test_multiverse_shards.py checks that
its results do not depend on how it is split into jobs.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from coalitions.fetch import safe_extract_all
from helpers.workflow import copy_workflow, git_checkout

#: the small multiverse of both builds (see the module docstring)
QUICK = "multiverse_file=config/multiverse_quick.yaml"

SSDE_HEADINGS = [
    "## Overview",
    "## Data Availability and Provenance Statements",
    "## Dataset list",
    "## Computational requirements",
    "## Description of programs/code",
    "## Instructions to replicators",
    "## List of tables and programs",
]


def _run(workdir: Path, *args: str, timeout: float = 1800) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "COALITIONS_MIRROR"}
    env["PYTHONPATH"] = str(workdir / "scripts")  # the copy's own code, not the installed checkout
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    proc = subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=workdir, env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return proc


@pytest.fixture(scope="module")
def package(root, mirror, tmp_path_factory) -> Path:
    work = copy_workflow(root, tmp_path_factory.mktemp("build"))
    # the results are built outside a git checkout, as the verifier's rebuild is (the paper prints the
    # commit it was built from, "unknown" there); the package step needs one (git ls-files)
    _run(work, "--cores", "2", "--config", f"mirror={mirror}", QUICK)
    _run(git_checkout(work), "package", "--cores", "2", "--config", f"mirror={mirror}", QUICK)
    return work / "results" / "replication-package.zip"


@pytest.mark.slow
def test_package_contents(package, mirror):
    with zipfile.ZipFile(package) as zf:
        names = zf.namelist()
        readme = zf.read("README.md").decode()
        manifest = zf.read("MANIFEST.sha256").decode()
        blobs = {n: zf.read(n) for n in names}
    for heading in SSDE_HEADINGS:
        assert heading in readme, heading
    # every source's citation, terms and checksum are in the README
    assert "2535e30b145141c331a07d12d91e498ad8bdd3db32ba8d3bd88c4fda54817731" in readme
    assert "@book{sarkees2010resort" in readme
    assert "doi:10.7910/DVN/DUFHM1/HLH8K9" in readme
    for needed in ("Snakefile", "Makefile", "pyproject.toml", "envs/coalitions.yaml", "config/sources.yaml",
                   "config/codings/baseline.yaml", "outputs/comparison/weisiger_estimates.csv",
                   "outputs/paper/paper.html", "outputs/paper/paper.tex", "docs/WORKFLOW.md"):
        assert needed in names, needed
    # no data that the providers do not let us redistribute: no raw file, no clean table, no dataset
    known = {e["sha256"] for e in json.loads((mirror / "manifest.json").read_text())}
    assert not [n for n, b in blobs.items() if hashlib.sha256(b).hexdigest() in known]
    assert not [n for n in names if n.startswith(("resources/", "results/", "outputs/sources/"))]
    assert not [n for n in names if n.endswith(("periods.csv", "periods.parquet", "dataset.csv", ".parquet"))]
    # the manifest lists every other member with its hash
    listed = dict(line.split("  ", 1)[::-1] for line in manifest.strip().splitlines())
    assert set(listed) == set(names) - {"MANIFEST.sha256"}
    assert all(hashlib.sha256(blobs[n]).hexdigest() == h for n, h in listed.items())


@pytest.mark.slow
def test_package_rebuilds_byte_for_byte_from_an_empty_folder(package, mirror, tmp_path):
    target = tmp_path / "verifier"
    target.mkdir()
    safe_extract_all(package, target)
    shipped = sorted(p for p in (target / "outputs").rglob("*") if p.is_file())
    assert shipped
    # the one command of the package README (after its environment is set up)
    _run(target, "--cores", "2", "--config", f"mirror={mirror}", QUICK)
    differ, missing = [], []
    for p in shipped:
        rel = p.relative_to(target / "outputs")
        if str(rel) == "benchmark.json":
            continue  # measured figures, not a result
        rebuilt = target / "results" / rel
        if not rebuilt.is_file():
            missing.append(str(rel))
        elif rebuilt.read_bytes() != p.read_bytes():
            differ.append(str(rel))
    assert not missing, f"not rebuilt: {missing}"
    assert not differ, f"not byte-identical after a rebuild: {differ}"


# ------------------------------------------------------------------------------------------------
# fast: what the package lists (git ls-files for the code, the rule's inputs for the outputs)


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=Test", "-c", "user.email=test@example.org", "-c", "commit.gpgsign=false",
                    *args], cwd=cwd, check=True, capture_output=True, text=True)


def test_package_code_needs_git_and_a_checkout(tmp_path, monkeypatch):
    import shutil

    from coalitions import package as P
    from coalitions.util import CoalitionsError

    (tmp_path / "Snakefile").write_text("# synthetic\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GIT_DIR", raising=False)
    if shutil.which("git"):
        with pytest.raises(CoalitionsError, match=r"^package: this folder is not a git checkout .*git ls-files"):
            P.tracked_files()
    monkeypatch.setattr(P.shutil, "which", lambda name: None)
    with pytest.raises(CoalitionsError, match=r"^package: git is not installed"):
        P.tracked_files()


def test_package_ships_what_git_tracks_and_the_named_outputs(tmp_path, monkeypatch, registry):
    import shutil

    from coalitions.package import build_package, tracked_files
    from coalitions.util import CoalitionsError

    if not shutil.which("git"):
        pytest.skip("git is not installed")
    root = Path(__file__).resolve().parents[1]
    (tmp_path / "rules").mkdir()
    (tmp_path / "Snakefile").write_text("# synthetic\n")
    (tmp_path / "rules" / "a.smk").write_text("# synthetic\n")
    (tmp_path / "README.md").write_text("synthetic readme\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-q", "-m", "synthetic")
    (tmp_path / "rules" / "untracked.smk").write_text("# not committed\n")
    figs = tmp_path / "results" / "paper" / "figures"
    figs.mkdir(parents=True)
    (figs / "f.png").write_bytes(b"synthetic")
    (figs / ".snakemake_timestamp").write_text("")
    (tmp_path / "results" / "comparison").mkdir()
    (tmp_path / "results" / "comparison" / "t.csv").write_text("a\n1\n")
    (tmp_path / "results" / "benchmark.json").write_text("{}\n")  # in results/, but no rule names it
    monkeypatch.chdir(tmp_path)
    code = tracked_files()
    assert code == ["README.md", "Snakefile", "rules/a.smk"]
    kw = dict(registry=registry, code=code, results_dir="results", requirements={"paper": {"mem_mb": 1000}},
              readme_template=root / "scripts" / "coalitions" / "templates" / "package_README.md.j2")
    names = build_package("out.zip", outputs=["results/comparison/t.csv", "results/paper/figures"], **kw)
    assert names == ["README.md", "docs/WORKFLOW.md", "Snakefile", "rules/a.smk",
                     "outputs/comparison/t.csv", "outputs/paper/figures/f.png", "MANIFEST.sha256"]
    with zipfile.ZipFile("out.zip") as zf:
        assert "| `paper` | 1000 |  |" in zf.read("README.md").decode()
    with pytest.raises(CoalitionsError, match=r"not inside results"):
        build_package("out2.zip", outputs=["Snakefile"], **kw)
    assert not Path("out2.zip").exists()
    (tmp_path / "rules" / "a.smk").unlink()
    with pytest.raises(CoalitionsError, match=r"missing from the working tree: rules/a\.smk"):
        tracked_files()

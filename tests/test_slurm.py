"""The workflow through Snakemake's SLURM executor (profiles/slurm) on a real single-node Slurm.

What must hold: a representative subset (the baseline coding's Weisiger data and models, from the raw
files on, and one shard of the Weisiger multiverse) run with ``--profile profiles/slurm`` produces the
same bytes in results/ and resources/ as the same targets run locally.

Slurm comes from scripts/start-test-slurm.sh (.ci/run starts it before the tests and stops it after; this
module starts, and then stops, its own when none is running). The test is skipped only where the Slurm
packages cannot be installed (no apt-get, not root), with that reason; a Slurm that was installed but
does not run the jobs is a failure.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers.workflow import copy_workflow

pytestmark = pytest.mark.slurm

TARGETS = ("results/baseline/weisiger/rebuilt/estimates.csv", "results/baseline/weisiger/rebuilt/fits.csv",
           "results/multiverse/shards/weisiger/1_of_512.parquet")
#: a pending job is never reported as failed by the executor: a hard limit on the whole run
TIMEOUT = 900


def _sinfo_ok(env: dict[str, str]) -> bool:
    if not shutil.which("sinfo"):
        return False
    try:
        p = subprocess.run(["sinfo", "-h", "-o", "%T"], env=env, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return p.returncode == 0 and any(s in p.stdout for s in ("idle", "mixed", "allocated"))


@pytest.fixture(scope="module")
def slurm_env(root: Path):
    env = dict(os.environ)
    if _sinfo_ok(env):  # a running Slurm (.ci/run starts one)
        yield env
        return
    # the script's own default folder (one the slurm user can reach; a pytest temporary folder is not)
    state = Path("/var/lib/slurm/coalitions-test") if os.getuid() == 0 else root / ".slurm-test"
    proc = subprocess.run(["bash", str(root / "scripts" / "start-test-slurm.sh"), str(state)], capture_output=True,
                          text=True, timeout=600)
    if proc.returncode == 3:
        why = (state / "unavailable").read_text().strip() if (state / "unavailable").is_file() else proc.stderr
        pytest.skip(f"no Slurm here: {why}")
    try:
        assert proc.returncode == 0, f"scripts/start-test-slurm.sh failed:\n{proc.stdout}\n{proc.stderr}"
        env["SLURM_CONF"] = str(state / "slurm.conf")
        yield env
    finally:
        subprocess.run(["bash", str(root / "scripts" / "stop-test-slurm.sh"), str(state)], timeout=120)


def _snakemake(work: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in env.items() if k != "COALITIONS_MIRROR"}
    env["PYTHONPATH"] = str(work / "scripts")  # the copy's own code
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    p = subprocess.Popen([sys.executable, "-m", "snakemake", *args], cwd=work, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        out, _ = p.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGTERM)
        out, _ = p.communicate(timeout=60)
        subprocess.run(["scancel", "--user", str(os.getuid())], env=env, timeout=30)
        pytest.fail(f"the run did not finish within {TIMEOUT} s (a job pending forever?):\n{out[-5000:]}")
    return subprocess.CompletedProcess(p.args, p.returncode, out, "")


def _outputs(work: Path) -> dict[str, bytes]:
    files = {}
    for top in ("results", "resources"):
        for p in sorted((work / top).rglob("*")):
            if p.is_file():
                files[str(p.relative_to(work))] = p.read_bytes()
    return files


def test_a_subset_under_slurm_equals_the_local_run(root: Path, mirror: Path, slurm_env, tmp_path: Path) -> None:
    pytest.importorskip("snakemake_executor_plugin_slurm",
                        reason="the SLURM executor plugin is not installed (pip install -e '.[slurm]')")
    config = ["--config", f"mirror={mirror}", "multiverse_shards=512"]
    local = copy_workflow(root, tmp_path / "local")
    proc = _snakemake(local, slurm_env, "--cores", "2", *TARGETS, *config)
    assert proc.returncode == 0, proc.stdout[-5000:]

    cluster = copy_workflow(root, tmp_path / "cluster")
    t0 = time.monotonic()
    proc = _snakemake(cluster, slurm_env, "--profile", "profiles/slurm", *TARGETS, *config)
    took = time.monotonic() - t0
    log = proc.stdout
    assert proc.returncode == 0, log[-8000:]
    # the jobs went through sbatch (and the downloads did not)
    assert "slurm" in log.lower() and "Job " in log
    assert list((cluster / ".snakemake" / "slurm_logs").rglob("*")) or "SLURM run ID" in log, log[-3000:]
    want, got = _outputs(local), _outputs(cluster)
    assert set(want) == set(got), sorted(set(want) ^ set(got))
    assert len(want) > 20
    differ = [k for k in want if want[k] != got[k]]
    assert not differ, f"not byte-identical under SLURM: {differ}"
    print(f"SLURM run of {len(want)} output files: {took:.0f} s")

"""Coding-rule sets (config/codings/*.yaml): every file loads, a bad key is named, and the workflow re-runs
exactly what a coding change touches.

The re-run tests need Snakemake's provenance records (params, code, inputs of every job), which only a
real run writes. The cheapest reliable way to get them: copy the workflow, replace every job script by a
stub that only creates its outputs (keeping the real scripts' modification times), run the whole
default build (~10 s), put the real scripts back, and check that a dry run has nothing to do. Then
edit one thing and read the dry run's list of jobs.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
import yaml

from coalitions.codings import Coding, coding_files, load_coding, load_codings
from coalitions.util import CoalitionsError
from helpers.workflow import copy_workflow, output_of, snakemake

#: a job script that only creates its outputs (a directory for a name without a suffix)
STUB = '''from pathlib import Path
for f in snakemake.output:  # noqa: F821
    p = Path(f)
    if p.suffix:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.touch()
    else:
        p.mkdir(parents=True, exist_ok=True)
'''
#: rules whose jobs read every coding (a change of any coding re-runs them)
CROSS_CODING = {"all", "comparison", "paper", "package"}


# ------------------------------------------------------------------------------------------------
# loading


def test_every_coding_file_loads(root: Path) -> None:
    files = coding_files(root / "config" / "codings")
    assert "baseline" in files and len(files) >= 10
    codings = load_codings(root / "config" / "codings", root=root)
    assert set(codings) == set(files)
    for name, c in codings.items():
        assert isinstance(c, Coding)
        assert c.name == name and c.label and c.proposed_by and c.why
        assert len(c.sha256) == 64
        # every case file a coding names exists and was read into its resolved section
        for f in c.case_files():
            assert (root / f).is_file(), f"{name}: {f}"
    assert codings["baseline"].weisiger == {} and codings["baseline"].henke == {}


def test_every_listed_coding_exists(root: Path) -> None:
    cfg = yaml.safe_load((root / "config" / "config.yaml").read_text())
    files = coding_files(root / "config" / "codings")
    assert set(cfg["codings"]) <= set(files)


def _coding_folder(tmp_path: Path, root: Path, name: str, body: dict) -> Path:
    """A temporary config/ with the schema and one coding file."""
    cfg = tmp_path / "config"
    (cfg / "codings").mkdir(parents=True)
    shutil.copy(root / "config" / "coding.schema.yaml", cfg / "coding.schema.yaml")
    path = cfg / "codings" / f"{name}.yaml"
    path.write_text(yaml.safe_dump(body, sort_keys=False))
    return path


GOOD = {"label": "A test coding", "proposed_by": "The test suite", "why": "To see what a bad key does."}


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ({"weisiger": {"exit_tolerance_dayz": 30}}, "exit_tolerance_dayz"),
        ({"weisiger": {"exit_tolerance_days": "thirty"}}, "exit_tolerance_days"),
        ({"henke": {"embedednes": "igo_only"}}, "embedednes"),
        ({"henke": {"embeddedness": "bilateral"}}, "embeddedness"),
        ({"colour": "red"}, "colour"),
        ({"weisiger": {"censor_case_files": ["config/cases/no_such_file.csv"]}}, "no_such_file.csv"),
    ],
)
def test_a_bad_key_names_the_file_and_the_key(tmp_path: Path, root: Path, section: dict, key: str) -> None:
    path = _coding_folder(tmp_path, root, "bad_rule", {"name": "bad_rule", **GOOD, **section})
    with pytest.raises(CoalitionsError) as exc:
        load_coding(path, root=root)
    msg = str(exc.value)
    assert "bad_rule.yaml" in msg, msg
    assert key in msg, msg


def test_the_name_must_match_the_file(tmp_path: Path, root: Path) -> None:
    path = _coding_folder(tmp_path, root, "one_name", {"name": "another_name", **GOOD})
    with pytest.raises(CoalitionsError, match="one_name"):
        load_coding(path, root=root)


def test_an_unknown_coding_in_the_list_is_named(root: Path) -> None:
    with pytest.raises(CoalitionsError, match="no_such_coding"):
        load_codings(root / "config" / "codings", ["baseline", "no_such_coding"], root=root)


# ------------------------------------------------------------------------------------------------
# what a coding change re-runs (dry runs on a stub-built copy of the workflow)


def stub_build(root: Path, mirror: Path, dst: Path) -> Path:
    """A copy of the workflow whose every job has run (as a stub), with full provenance records."""
    work = copy_workflow(root, dst)
    for part in ("report",):  # referenced by the Snakefile (report captions)
        if (root / part).is_dir() and not (work / part).exists():
            shutil.copytree(root / part, work / part)
    saved = {}
    for s in (work / "scripts" / "rules").glob("*.py"):
        st = s.stat()
        saved[s] = (s.read_text(), st.st_atime_ns, st.st_mtime_ns)
        s.write_text(STUB)
        os.utime(s, ns=(st.st_atime_ns, st.st_mtime_ns))
    proc = snakemake(work, "--cores", "2", "--config", f"mirror={mirror}", timeout=600)
    assert proc.returncode == 0, output_of(proc)[-3000:]
    for s, (text, a, m) in saved.items():
        s.write_text(text)
        os.utime(s, ns=(a, m))  # older than the outputs: no "code changed" re-run
    proc = snakemake(work, "-n", "--config", f"mirror={mirror}")
    assert "Nothing to be done" in output_of(proc), output_of(proc)[-3000:]
    return work


def planned_jobs(out: str) -> list[dict[str, str]]:
    """(rule, output, wildcards) of every job a dry run lists."""
    jobs: list[dict[str, str]] = []
    cur: dict[str, str] | None = None
    for line in out.splitlines():
        m = re.match(r"^(?:local)?rule (\S+):$", line.strip())
        if m:
            cur = {"rule": m.group(1), "output": "", "wildcards": ""}
            jobs.append(cur)
        elif cur is not None and line.strip().startswith(("output:", "wildcards:")):
            k, v = line.strip().split(":", 1)
            cur[k] = v.strip()
    return jobs


def coding_of(job: dict[str, str]) -> str | None:
    m = re.search(r"coding=([a-z0-9_]+)", job["wildcards"])
    if m:
        return m.group(1)
    m = re.search(r"results/([a-z0-9_]+)/(?:weisiger|henke)/", job["output"])
    return m.group(1) if m else None


@pytest.fixture(scope="module")
def built(root: Path, mirror: Path, tmp_path_factory) -> tuple[Path, Path]:
    return stub_build(root, mirror, tmp_path_factory.mktemp("codings") / "wf"), mirror


class _Edit:
    """Replace a file's text for one test; restore text and modification time afterwards."""

    def __init__(self, path: Path):
        self.path = path
        self.existed = path.exists()
        if self.existed:
            st = path.stat()
            self.text, self.times = path.read_text(), (st.st_atime_ns, st.st_mtime_ns)

    def restore(self) -> None:
        if self.existed:
            self.path.write_text(self.text)
            os.utime(self.path, ns=self.times)
        else:
            self.path.unlink(missing_ok=True)


def _dry(work: Path, mirror: Path) -> tuple[int, str, list[dict[str, str]]]:
    proc = snakemake(work, "-n", "--config", f"mirror={mirror}")
    out = output_of(proc)
    return proc.returncode, out, planned_jobs(out)


def _assert_only(jobs: list[dict[str, str]], coding: str, out: str) -> None:
    foreign = [j for j in jobs if j["rule"] not in CROSS_CODING and coding_of(j) != coding]
    assert not foreign, f"jobs that do not depend on {coding}: {foreign}\n{out[-3000:]}"


def test_changing_one_coding_file_reruns_only_its_jobs(built) -> None:
    work, mirror = built
    path = work / "config" / "codings" / "exit_tolerance_30.yaml"
    edit = _Edit(path)
    try:
        data = yaml.safe_load(edit.text)
        data["weisiger"]["exit_tolerance_days"] = 45
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        rc, out, jobs = _dry(work, mirror)
        assert rc == 0, out[-3000:]
        rules = {j["rule"] for j in jobs if coding_of(j) == "exit_tolerance_30"}
        assert {"weisiger_rebuilt", "weisiger_models"} <= rules, out[-3000:]
        _assert_only(jobs, "exit_tolerance_30", out)
        assert not any(j["rule"].startswith(("henke", "multiverse", "clean", "fetch")) for j in jobs)
    finally:
        edit.restore()
    rc, out, jobs = _dry(work, mirror)
    assert "Nothing to be done" in out, "restoring the file must leave nothing to do"


def test_changing_a_henke_coding_reruns_only_its_henke_job(built) -> None:
    work, mirror = built
    path = work / "config" / "codings" / "henke_igo_only.yaml"
    edit = _Edit(path)
    try:
        data = yaml.safe_load(edit.text)
        data["henke"]["igo_statuses"] = "full_associate"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        rc, out, jobs = _dry(work, mirror)
        assert rc == 0, out[-3000:]
        assert any(j["rule"] == "henke_rebuilt" and coding_of(j) == "henke_igo_only" for j in jobs), out[-3000:]
        _assert_only(jobs, "henke_igo_only", out)
        assert not any(j["rule"].startswith("weisiger") for j in jobs)
    finally:
        edit.restore()


def test_adding_a_coding_runs_only_its_jobs(built) -> None:
    work, mirror = built
    path = work / "config" / "codings" / "tolerance_week.yaml"
    edit = _Edit(path)
    try:
        path.write_text(yaml.safe_dump({"name": "tolerance_week", **GOOD,
                                        "weisiger": {"exit_tolerance_days": 7}}, sort_keys=False))
        listed = yaml.safe_load((work / "config" / "config.yaml").read_text())["codings"]
        codings = "[" + ",".join([*listed, "tolerance_week"]) + "]"
        proc = snakemake(work, "-n", "--config", f"mirror={mirror}", f"codings={codings}")
        out = output_of(proc)
        assert proc.returncode == 0, out[-3000:]
        jobs = planned_jobs(out)
        mine = [j for j in jobs if coding_of(j) == "tolerance_week"]
        assert {j["rule"] for j in mine} == {"weisiger_rebuilt", "weisiger_trends", "weisiger_original",
                                             "weisiger_models"}, out[-3000:]
        assert len([j for j in mine if j["rule"] == "weisiger_models"]) == 2  # both tracks
        _assert_only(jobs, "tolerance_week", out)
    finally:
        edit.restore()


def test_a_coding_list_on_the_command_line_builds_only_those(built) -> None:
    work, mirror = built
    proc = snakemake(work, "-n", "--forceall", "--config", f"mirror={mirror}", "codings=[baseline,no_world_wars]")
    out = output_of(proc)
    assert proc.returncode == 0, out[-3000:]
    jobs = planned_jobs(out)
    per_coding = {coding_of(j) for j in jobs} - {None}
    assert per_coding == {"baseline", "no_world_wars"}, per_coding
    # no_world_wars changes only Weisiger's study: Henke is built for the baseline only
    assert not any(j["rule"] == "henke_rebuilt" and coding_of(j) == "no_world_wars" for j in jobs)
    # and without --forceall only the tables that read the list of codings are out of date
    proc = snakemake(work, "-n", "--config", f"mirror={mirror}", "codings=[baseline,no_world_wars]")
    out = output_of(proc)
    assert proc.returncode == 0, out[-3000:]
    assert {j["rule"] for j in planned_jobs(out)} <= CROSS_CODING, out[-3000:]


def test_a_bad_key_in_a_coding_stops_the_dry_run(built) -> None:
    work, mirror = built
    path = work / "config" / "codings" / "no_world_wars.yaml"
    edit = _Edit(path)
    try:
        path.write_text(edit.text.replace("exclude_wars", "exclude_warz"))
        rc, out, jobs = _dry(work, mirror)
        assert rc != 0
        assert "no_world_wars.yaml" in out and "exclude_warz" in out, out[-3000:]
        assert not jobs
    finally:
        edit.restore()


def test_editing_the_multiverse_config_reruns_only_that_studys_multiverse(built) -> None:
    work, mirror = built
    path = work / "config" / "multiverse.yaml"
    edit = _Edit(path)
    try:
        data = yaml.safe_load(edit.text)
        data["henke"]["switches"][0]["label"] = "Embeddedness (relabelled)"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        rc, out, jobs = _dry(work, mirror)
        assert rc == 0, out[-3000:]
        rules = {j["rule"] for j in jobs}
        assert {"multiverse_run", "multiverse_plot_henke"} <= rules, out[-3000:]
        assert rules <= {"multiverse_shard", "multiverse_run", "multiverse_plot_henke", "multiverse"} | CROSS_CODING, \
            out[-3000:]
        assert [j["wildcards"] for j in jobs if j["rule"] == "multiverse_run"] == ["study=henke"]
        # every shard of Henke's multiverse, and none of Weisiger's
        shards = [j["wildcards"] for j in jobs if j["rule"] == "multiverse_shard"]
        assert shards and all(w.startswith("study=henke,") for w in shards), shards
    finally:
        edit.restore()

"""The workflow's configuration: lint-clean, validated at start, and a dry run that plans the data layer.

A typo in a configuration key or a wrong type must stop the workflow before any job runs, with a
message that names the key; otherwise a run could silently use a default the user meant to change.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from coalitions.readers import TABLES
from helpers.workflow import copy_workflow, output_of, snakemake


def test_snakemake_lint_is_clean(root: Path) -> None:
    proc = snakemake(root, "--lint", timeout=120)
    out = output_of(proc)
    assert proc.returncode == 0, out
    assert "Congratulations, your workflow is in a good condition!" in out
    assert "Lints for" not in out


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("bogus=1", r"Additional properties are not allowed \('bogus' was unexpected\)"),
        ("require_original_archives=maybe", r"'maybe' is not of type 'boolean'"),
        ("dataverse_server=ftp://example.org", r"'ftp://example.org' does not match"),
    ],
)
def test_a_bad_config_value_stops_the_dry_run_naming_the_key(root: Path, setting: str, expected: str) -> None:
    key = setting.split("=")[0]
    proc = snakemake(root, "-n", "--config", setting, timeout=120)
    out = output_of(proc)
    assert proc.returncode != 0, out
    assert re.search(expected, out), out
    assert key in out
    if key != "bogus":  # the message points at the offending entry
        assert f"Error: config: {key}: " in out, out
    assert "Job stats" not in out and "Traceback" not in out


def test_dry_run_with_the_mirror_plans_every_fetch_and_clean_job(root: Path, mirror: Path, registry,
                                                                  tmp_path: Path) -> None:
    work = copy_workflow(root, tmp_path / "wf")
    proc = snakemake(work, "-n", "--config", f"mirror={mirror}", timeout=120)
    out = output_of(proc)
    assert proc.returncode == 0, out
    stats = dict(re.findall(r"^(\w+)\s+(\d+)\s*$", out.split("Job stats:")[1], flags=re.M))
    # every public file of the registry is fetched and verified, whether or not a table is read from it
    assert int(stats["fetch_public"]) == len(registry.public_files()) == 33
    assert int(stats["clean_table"]) == len(TABLES)
    assert int(stats["fetch_archive"]) == len(registry.archives()) == 3  # the authors' two, and IWBD
    assert int(stats["all"]) == 1
    assert "resources/raw/cow_interstate_war_v4.0/Inter-StateWarData_v4.0.csv" in out
    assert "results/sources/cow_war_participants.parquet" in out
    # a dry run creates nothing
    assert not (work / "resources").exists() and not (work / "results").exists()


# ------------------------------------------------------------------------------------------------
# end to end: a real build of a few tables from the mirror

E2E_TABLES = ("cow_war_participants", "cow_system", "cow_majors", "capitals")
WAR_PATH = "cow_interstate_war_v4.0/Inter-StateWarData_v4.0.csv"


def _targets() -> list[str]:
    return [f"results/sources/{t}.parquet" for t in E2E_TABLES]


@pytest.mark.slow
def test_end_to_end_build_from_the_mirror(root: Path, mirror: Path, registry, tables, tmp_path: Path) -> None:
    import json

    import pandas as pd

    work = copy_workflow(root, tmp_path / "wf")
    proc = snakemake(work, "--cores", "2", *_targets(), "--config", f"mirror={mirror}")
    out = output_of(proc)
    assert proc.returncode == 0, out
    for t in E2E_TABLES:
        built = pd.read_parquet(work / f"results/sources/{t}.parquet")
        pd.testing.assert_frame_equal(built, tables[t])  # same table as the readers build directly
        spec = TABLES[t]
        entry = registry.file(spec.source, spec.file)
        prov = json.loads((work / "resources/provenance" / f"{entry.path}.json").read_text())
        assert prov["verified_by"] == "sha256" and prov["sha256"] == entry.sha256
        assert prov["origin"] == f"mirror:{entry.path}"
        assert "verified by sha256" in (work / "logs/fetch" / f"{entry.path}.log").read_text()
    assert (work / "benchmarks/clean/cow_war_participants.tsv").is_file()

    # a second run has nothing to do
    again = snakemake(work, "--cores", "2", *_targets(), "--config", f"mirror={mirror}")
    assert again.returncode == 0, output_of(again)
    assert "Nothing to be done" in output_of(again)

    # a tampered mirror copy makes the build fail, with the checksum message, and leaves no output
    bad_mirror = tmp_path / "bad_mirror"
    for t in E2E_TABLES:
        spec = TABLES[t]
        rel = registry.file(spec.source, spec.file).path
        (bad_mirror / rel).parent.mkdir(parents=True, exist_ok=True)
        if rel == WAR_PATH:
            data = bytearray((mirror / rel).read_bytes())
            data[-3] ^= 0x01
            (bad_mirror / rel).write_bytes(bytes(data))
        else:
            (bad_mirror / rel).symlink_to(mirror / rel)
    work2 = copy_workflow(root, tmp_path / "wf2")
    failed = snakemake(work2, "--cores", "2", *_targets(), "--config", f"mirror={bad_mirror}")
    out = output_of(failed)
    assert failed.returncode != 0, out
    assert "checksum mismatch" in out and WAR_PATH in out
    assert registry.file("cow_war", "participants").sha256 in out
    assert not (work2 / "resources/raw" / WAR_PATH).exists()
    assert not (work2 / "resources/provenance" / f"{WAR_PATH}.json").exists()
    assert not (work2 / "results/sources/cow_war_participants.parquet").exists()
    folder = (work2 / "resources/raw" / WAR_PATH).parent  # no partial or temporary file either
    leftovers = [p.name for p in folder.iterdir()] if folder.exists() else []
    assert leftovers == [], leftovers
    assert "checksum mismatch" in (work2 / "logs/fetch" / f"{WAR_PATH}.log").read_text()

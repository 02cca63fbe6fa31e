"""The Slurm profile's job groups form a valid DAG for the whole workflow, without a Slurm.

Snakemake refuses a group whose member depends, through a rule outside the group, on another member
(a rule added between two grouped rules does that). The check is a forced dry run of every target with
the profile's ``groups`` and ``group-components`` given on the command line and the local executor, so
that it needs neither Slurm nor data: it fails the moment the profile and the rules disagree.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from helpers.workflow import output_of, snakemake


def test_slurm_profile_groups_make_a_valid_dag(root: Path, mirror: Path) -> None:
    profile = yaml.safe_load((root / "profiles" / "slurm" / "config.yaml").read_text())
    groups = [f"{rule}={group}" for rule, group in profile["groups"].items()]
    components = [f"{group}={n}" for group, n in profile["group-components"].items()]
    assert groups and components
    proc = snakemake(root, "-n", "--forceall", "--cores", "2", "--groups", *groups,
                     "--group-components", *components, "--config", f"mirror={mirror}", timeout=600)
    out = output_of(proc)
    assert proc.returncode == 0, out[-4000:]
    assert "Error in group" not in out
    # every grouped rule is part of the plan (a group that never forms tests nothing)
    for rule in profile["groups"]:
        assert f"rule {rule}:" in out or f"localrule {rule}:" in out, rule

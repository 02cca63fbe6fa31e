"""The synthetic results tree of the paper tests is made of coding files the workflow itself accepts.

A fixture with coding keys that do not exist would test the paper against a configuration no user can
write; each of its coding files is loaded here with the workflow's own loader and schema.
"""

from __future__ import annotations

from pathlib import Path

from coalitions.codings import load_coding
from helpers.paper_fixture import CODINGS, make_results


def test_fixture_codings_are_valid_coding_files(root: Path, tmp_path: Path) -> None:
    tree = make_results(tmp_path)
    for name in CODINGS:
        coding = load_coding(tree["config"] / "codings" / f"{name}.yaml", schema_path=root / "config" / "coding.schema.yaml",
                             root=root)
        assert coding.name == name

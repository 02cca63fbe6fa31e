"""Shared fixtures: the offline mirror of the public data, and clean tables built from it.

The mirror is the folder named by COALITIONS_MIRROR, else ``../shared/data`` beside the project.
Tests that need it are skipped, with the reason, when it is absent; CI always provides it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]


def mirror_path() -> Path | None:
    env = os.environ.get("COALITIONS_MIRROR")
    p = Path(env) if env else ROOT.parent / "shared" / "data"
    return p if p.is_dir() else None


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def mirror() -> Path:
    p = mirror_path()
    if p is None:
        pytest.skip("the offline mirror of the public data is not available (set COALITIONS_MIRROR)")
    return p


@pytest.fixture(scope="session")
def registry():
    from coalitions.registry import load_registry

    return load_registry(ROOT / "config" / "sources.yaml")


class _Tables:
    """Clean tables built on demand from the mirror with the package's readers (cached per session)."""

    def __init__(self, mirror: Path, registry, outdir: Path):
        self.mirror, self.registry, self.outdir = mirror, registry, outdir
        self._cache: dict[str, pd.DataFrame] = {}

    def __getitem__(self, name: str) -> pd.DataFrame:
        from coalitions.readers import TABLES, build_table

        if name not in self._cache:
            spec = TABLES[name]
            entry = self.registry.file(spec.source, spec.file)
            out = self.outdir / f"{name}.parquet"
            build_table(name, str(self.mirror / entry.path), str(out), rows=entry.rows)
            self._cache[name] = pd.read_parquet(out)
        return self._cache[name]

    def path(self, name: str) -> Path:
        self[name]
        return self.outdir / f"{name}.parquet"


@pytest.fixture(scope="session")
def tables(mirror, registry, tmp_path_factory) -> _Tables:
    return _Tables(mirror, registry, tmp_path_factory.mktemp("tables"))

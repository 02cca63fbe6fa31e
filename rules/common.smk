"""Shared definitions: the source registry, the mirror, and the conda environment."""

import re

from coalitions.fetch import resolve_mirror
from coalitions.readers import TABLES
from coalitions.registry import load_registry

REGISTRY_FILE = config["sources"]
REGISTRY = load_registry(REGISTRY_FILE)
MIRROR = resolve_mirror(config.get("mirror"))
MIRROR_PARAM = str(MIRROR) if MIRROR else None
DOWNLOAD = {"retries": 3, "timeout": 60, **config.get("download", {})}
CONDA_ENV = "../envs/coalitions.yaml"

PUBLIC_FILES = REGISTRY.by_path()
ARCHIVES = REGISTRY.archives()


def entry_params(entry):
    """A registry entry as plain data, so that a changed entry re-runs exactly its own fetch."""
    return entry.to_dict()


def source_params(source):
    return source.to_dict()


def raw_path(source, key):
    return f"resources/raw/{REGISTRY.file(source, key).path}"


def table_path(name):
    return f"results/sources/{name}.parquet"


wildcard_constraints:
    relpath="|".join(re.escape(p) for p in sorted(PUBLIC_FILES)),
    table="|".join(sorted(TABLES)),
    archive="|".join(sorted(ARCHIVES)),

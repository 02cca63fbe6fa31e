"""Shared definitions: the source registry, the mirror, and the conda environment."""

import os
import re
from pathlib import Path

from coalitions.fetch import resolve_mirror
from coalitions.guard import guard
from coalitions.readers import TABLES
from coalitions.registry import load_registry

REGISTRY_FILE = config["sources"]
REGISTRY = guard(load_registry, REGISTRY_FILE)
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


def provenance_path(source, key):
    return f"resources/provenance/{REGISTRY.file(source, key).path}.json"


def table_path(name):
    return f"results/sources/{name}.parquet"


wildcard_constraints:
    relpath="|".join(re.escape(p) for p in sorted(PUBLIC_FILES)),
    table="|".join(sorted(TABLES)),
    archive="|".join(sorted(ARCHIVES)),
    coding="[a-z][a-z0-9_]*",
    track="original|rebuilt",


# ------------------------------------------------------------------------------------------------
# coding-rule sets

from coalitions.codings import load_codings
from coalitions.weisiger.rebuild import required_tables as _weisiger_required
from coalitions.weisiger.extension import required_extension_tables as _extension_required
from coalitions.weisiger.rebuild_coding import WeisigerCoding
from coalitions.weisiger.battle_periods import battle_case_files as _weisiger_battle_case_files
from coalitions.weisiger.battle_periods import trend_tables as _weisiger_trend_tables
from coalitions.weisiger.battle_periods import iwbd_inputs as _weisiger_iwbd_inputs

CODINGS = guard(load_codings, "config/codings", list(config["codings"]))


def _changes(coding, study):
    return coding.name == "baseline" or bool(getattr(coding, study))


WEISIGER_CODINGS = [n for n, c in CODINGS.items() if _changes(c, "weisiger")]
HENKE_CODINGS = [n for n, c in CODINGS.items() if _changes(c, "henke")]
WEISIGER_CASE_FILES = sorted(str(p) for p in Path("config/cases").glob("weisiger_*.csv"))
WEISIGER_BATTLE_CASE_FILES = _weisiger_battle_case_files()


def weisiger_tables(coding):
    resolved = CODINGS[coding].weisiger_resolved
    wc = WeisigerCoding.from_dict(resolved["params"], origin=coding)
    tables = list(_weisiger_required(wc))
    if resolved.get("extension_members"):
        tables += [t for t in _extension_required(wc) if t not in tables]
    return tables


def weisiger_trend_tables(coding):
    wc = WeisigerCoding.from_dict(CODINGS[coding].weisiger_resolved["params"], origin=coding)
    return _weisiger_trend_tables(wc)


def weisiger_iwbd(coding):
    wc = WeisigerCoding.from_dict(CODINGS[coding].weisiger_resolved["params"], origin=coding)
    return _weisiger_iwbd_inputs(wc)


def weisiger_model_inputs(w):
    base = f"results/{w.coding}/weisiger/{w.track}"
    inputs = {
        "periods": f"{base}/periods.parquet",
        "variables": f"{base}/variables.csv",
        "models": "config/models/weisiger.yaml",
    }
    if w.track == "original":
        inputs["status"] = f"{base}/status.json"
    else:  # why each missing value is missing (dropped.csv), and the battlefield trends
        inputs["missing"] = f"{base}/missing.csv"
        inputs["trends"] = f"{base}/trends.parquet"
    if w.coding != "baseline":  # a coding whose estimates equal the baseline's says "no change"
        inputs["baseline_fits"] = f"results/baseline/weisiger/{w.track}/fits.csv"
        inputs["baseline_estimates"] = f"results/baseline/weisiger/{w.track}/estimates.csv"
    return inputs


# ------------------------------------------------------------------------------------------------
# the paper: the PDF is an output only where a TeX engine is installed (config key paper_pdf)

import shutil

_pdf = config.get("paper_pdf", "auto")
BUILD_PDF = bool(_pdf is True or (_pdf == "auto" and shutil.which("latexmk") and shutil.which("pdflatex")))
PAPER_OUTPUTS = {
    "html": report("results/paper/paper.html", caption="../report/paper.rst", category="Paper"),
    "tex": "results/paper/paper.tex",
    "bib": "results/paper/references.bib",
    "figures": directory("results/paper/figures"),
}
if BUILD_PDF:
    PAPER_OUTPUTS["pdf"] = "results/paper/paper.pdf"


def multiverse_file(cfg):
    """The multiverse file of config key ``multiverse_file``: a YAML file inside config/."""
    from coalitions.util import CoalitionsError

    name = cfg.get("multiverse_file") or "config/multiverse.yaml"
    p = Path(name)
    if p.is_absolute() or ".." in p.parts or p.parts[:1] != ("config",) or p.suffix not in (".yaml", ".yml"):
        raise CoalitionsError(f"config: multiverse_file: {name!r} must be a YAML file inside config/ "
                              f"(e.g. config/multiverse.yaml)")
    if not p.is_file():
        raise CoalitionsError(f"config: multiverse_file: {name} not found (the shipped ones are "
                              f"config/multiverse.yaml and config/multiverse_quick.yaml)")
    return name

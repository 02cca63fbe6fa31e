"""The original-archive track of the Henke replication: her two Stata files, when they can be had.

Henke's Dataverse archive (doi:10.7910/DVN/ZAPWHZ) holds ``New_dataset 2015-10-0497.R2.dta`` (the US-led
coalitions dataset) and ``Datset_used_for_Lake_regression 2015-10-0497.R2.dta`` (Lake's hierarchy
regression with embeddedness added), with Stata logs but no do-file. Their columns are not known here, so
the models run on them are configuration (``original:`` in ``config/models/henke.yaml``): outcome,
covariates, cluster and estimator per model, all the project's reading until checked against her logs.
When a file lacks a column a model needs, :func:`check_columns` raises an error that names the model, the
missing columns and the columns the file does have, so that the configuration can be corrected.

Files whose Stata data label says ``SYNTHETIC TEST DATA`` (the ones the test-suite writes) are refused
unless ``allow_synthetic=True``, so that test data can never pass for hers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import pandas as pd

from ..fetch import read_archive_status
from ..util import CoalitionsError
from .models import ModelSpec, run_models

#: registry file keys (config/sources.yaml, source henke2017) of her two data files
DATASET_KEYS = ("new_dataset", "lake_dataset")
SYNTHETIC_LABEL = "SYNTHETIC TEST DATA"


def archive_files(outdir: str | Path) -> dict[str, Path] | None:
    """Her data files in the fetched archive folder (``resources/original/henke2017``), or ``None`` when
    the archive could not be had (``status.json`` says why)."""
    outdir = Path(outdir)
    status = read_archive_status(outdir)
    if not status.get("available"):
        return None
    files = status.get("files") or {}
    out = {}
    for key in DATASET_KEYS:
        if key not in files:
            raise CoalitionsError(f"{outdir}/status.json: the archive is marked available but lists no file "
                                  f"'{key}'; fetch the archive again")
        out[key] = outdir / files[key]["name"]
    return out


def read_original(path: str | Path, *, allow_synthetic: bool = False) -> pd.DataFrame:
    """Read one of her Stata files as it is (no value labels applied). ``df.attrs`` keeps the file's data
    label, variable labels and path."""
    path = Path(path)
    if not path.is_file():
        raise CoalitionsError(f"{path}: Henke data file not found; fetch the archive (rule fetch_archive)")
    try:
        with pd.io.stata.StataReader(path, convert_categoricals=False) as reader:
            df = reader.read()
            label = reader.data_label or ""
            var_labels = reader.variable_labels()
    except (ValueError, OSError) as exc:
        raise CoalitionsError(f"{path}: not a readable Stata .dta file ({exc})") from None
    if SYNTHETIC_LABEL in label.upper() and not allow_synthetic:
        raise CoalitionsError(f"{path}: its data label says '{label}': this is test data, not Henke's file")
    df.attrs.update({"data_label": label, "variable_labels": var_labels, "path": str(path)})
    return df


def check_columns(df: pd.DataFrame, specs: Sequence[ModelSpec], dataset: str, path: str | Path) -> None:
    """Raise when a model of ``dataset`` needs columns the file lacks (all such models listed at once)."""
    problems = []
    for spec in specs:
        if spec.dataset != dataset:
            continue
        missing = [c for c in spec.columns() if c not in df.columns]
        if missing:
            problems.append(f"model '{spec.id}' needs {missing}")
    if problems:
        raise CoalitionsError(
            f"{path}: column(s) missing for the original-track models (config/models/henke.yaml, section "
            f"'original', is the project's reading of her files):\n- " + "\n- ".join(problems)
            + f"\nThe file's columns are: {list(df.columns)}. Edit the model's outcome/covariates/cluster "
              "to the names her Stata logs use."
        )


def run_original(files: Mapping[str, str | Path], specs: Sequence[ModelSpec], *, coding: str = "original",
                 allow_synthetic: bool = False) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Fit the original-track models on her files: ``(estimates, fits, datasets)``.

    ``files`` maps dataset keys (``new_dataset``, ``lake_dataset``) to paths; ``datasets`` has one row
    per file read (dataset, path, rows, columns, data label).
    """
    needed = sorted({s.dataset for s in specs if s.dataset})
    unknown = [d for d in needed if d not in files]
    if unknown:
        raise CoalitionsError(f"original-track models use dataset(s) {unknown}, but only {sorted(files)} were "
                              "given; check 'dataset' in config/models/henke.yaml")
    ests, fits, info = [], [], []
    for key in needed:
        path = Path(files[key])
        df = read_original(path, allow_synthetic=allow_synthetic)
        subset = [s for s in specs if s.dataset == key]
        check_columns(df, subset, key, path)
        e, f = run_models(df, None, subset, track="original", coding=coding)
        ests.append(e)
        fits.append(f)
        info.append({"dataset": key, "path": str(path), "n_rows": len(df), "n_columns": df.shape[1],
                     "data_label": df.attrs.get("data_label", "")})
    est = pd.concat(ests, ignore_index=True) if ests else run_models(pd.DataFrame(), None, [], track="original",
                                                                      coding=coding)[0]
    fit = pd.concat(fits, ignore_index=True) if fits else run_models(pd.DataFrame(), None, [], track="original",
                                                                      coding=coding)[1]
    return est, fit, pd.DataFrame(info, columns=["dataset", "path", "n_rows", "n_columns", "data_label"])

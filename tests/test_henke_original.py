"""Henke's original-archive track, end to end on small Stata files the test writes itself.

Her two .dta files cannot be downloaded here, and their columns are not known: the files below carry the
columns that config/models/henke.yaml (section ``original``) names, with simulated values, and a Stata
data label that says SYNTHETIC TEST DATA.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coalitions.henke.models import load_specs
from coalitions.henke.original import (
    SYNTHETIC_LABEL,
    archive_files,
    check_columns,
    read_original,
    run_original,
)
from coalitions.util import CoalitionsError

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "config" / "models" / "henke.yaml"
TRUE_EMBEDDEDNESS = 0.08


def _synthetic(specs, dataset: str, n_countries: int = 120, n_ops: int = 8, seed: int = 1) -> pd.DataFrame:
    """Country x operation rows with every column the dataset's models use; the outcome follows a logit in
    which only embeddedness matters (coefficient TRUE_EMBEDDEDNESS)."""
    rng = np.random.default_rng(seed)
    cols = sorted({c for s in specs if s.dataset == dataset for c in s.columns()})
    outcome = {s.outcome for s in specs if s.dataset == dataset}
    clusters = {s.cluster for s in specs if s.dataset == dataset and s.cluster}
    n = n_countries * n_ops
    df = pd.DataFrame({"ccode": np.repeat(np.arange(1, n_countries + 1) * 10, n_ops).astype("int32"),
                       "opnum": np.tile(np.arange(n_ops), n_countries).astype("int16")})
    for c in cols:
        if c in outcome or c in clusters or c in df:
            continue
        df[c] = rng.normal(size=n) * (10 if c == "embeddedness" else 1)
    df["embeddedness"] = rng.poisson(30, size=n).astype(float)
    eta = -4.0 + TRUE_EMBEDDEDNESS * df["embeddedness"]
    for y in outcome:
        df[y] = (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype("int8")
    return df


def _write_dta(df: pd.DataFrame, path: Path, label: str = SYNTHETIC_LABEL) -> Path:
    df.to_stata(path, write_index=False, data_label=label, version=118)
    return path


@pytest.fixture()
def files(tmp_path):
    specs = load_specs(SPECS, "original")
    out = {}
    for i, key in enumerate(("new_dataset", "lake_dataset")):
        out[key] = _write_dta(_synthetic(specs, key, seed=i + 1), tmp_path / f"{key}.dta")
    return specs, out


def test_end_to_end_on_synthetic_stata_files(files):
    specs, paths = files
    est, fits, info = run_original(paths, specs, allow_synthetic=True)
    assert (fits["status"] == "ok").all(), fits[["model_id", "message"]]
    assert set(fits["model_id"]) == {s.id for s in specs}
    assert (est["track"] == "original").all() and (fits["track"] == "original").all()
    assert np.isfinite(est[["estimate", "std_error"]].to_numpy()).all()
    assert (fits["n_obs"] == 960).all() and (fits["n_clusters"] == 120).all()
    assert set(info["data_label"]) == {SYNTHETIC_LABEL}
    # the simulated effect is recovered (logit) and has the same sign in the probit
    for mid in ("original_new_logit", "original_lake_logit"):
        e = est[(est["model_id"] == mid) & (est["term"] == "embeddedness")].iloc[0]
        assert abs(e["estimate"] - TRUE_EMBEDDEDNESS) < 3 * e["std_error"]
        assert np.isfinite(e["ame"]) and e["ame_se"] > 0
    p = est[(est["model_id"] == "original_new_probit") & (est["term"] == "embeddedness")].iloc[0]
    assert p["estimate"] > 0 and not est["proxy"].any()


def test_synthetic_files_are_refused_by_default(files):
    specs, paths = files
    with pytest.raises(CoalitionsError, match="this is test data, not Henke's file"):
        run_original(paths, specs)
    df = read_original(paths["new_dataset"], allow_synthetic=True)
    assert df.attrs["data_label"] == SYNTHETIC_LABEL


def test_missing_columns_are_named(tmp_path):
    specs = load_specs(SPECS, "original")
    df = _synthetic(specs, "new_dataset").drop(columns=["polity2", "participation"])
    path = _write_dta(df, tmp_path / "new.dta")
    lake = _write_dta(_synthetic(specs, "lake_dataset"), tmp_path / "lake.dta")
    with pytest.raises(CoalitionsError) as exc:
        run_original({"new_dataset": path, "lake_dataset": lake}, specs, allow_synthetic=True)
    msg = str(exc.value)
    assert str(path) in msg and "model 'original_new_logit' needs ['participation', 'polity2']" in msg
    assert "model 'original_new_probit'" in msg and "The file's columns are:" in msg
    # a model on a different dataset is not checked against this file
    check_columns(df, [s for s in specs if s.dataset == "lake_dataset"], "new_dataset", path)


def test_non_binary_outcome_is_reported_not_crashing(tmp_path):
    specs = [s for s in load_specs(SPECS, "original") if s.dataset == "new_dataset"]
    df = _synthetic(specs, "new_dataset")
    df["participation"] = df["participation"] * 3  # coded 0/3: not a 0/1 outcome
    path = _write_dta(df, tmp_path / "new.dta")
    est, fits, _ = run_original({"new_dataset": path}, specs, allow_synthetic=True)
    assert (fits["status"] == "failed").all() and fits["message"].str.contains("0/1").all()
    assert est.empty


def test_unreadable_and_missing_files(tmp_path):
    bad = tmp_path / "bad.dta"
    bad.write_bytes(b"this is not a stata file")
    with pytest.raises(CoalitionsError, match="not a readable Stata .dta file"):
        read_original(bad)
    with pytest.raises(CoalitionsError, match="Henke data file not found"):
        read_original(tmp_path / "none.dta")
    specs = load_specs(SPECS, "original")
    with pytest.raises(CoalitionsError, match=r"use dataset\(s\) \['lake_dataset'\]"):
        run_original({"new_dataset": bad}, specs)


def test_archive_files(tmp_path):
    (tmp_path / "status.json").write_text(json.dumps({"available": False, "reason": "offline", "files": {}}))
    assert archive_files(tmp_path) is None
    files = {"new_dataset": {"name": "New_dataset 2015-10-0497.R2.dta"},
             "lake_dataset": {"name": "Datset_used_for_Lake_regression 2015-10-0497.R2.dta"}}
    (tmp_path / "status.json").write_text(json.dumps({"available": True, "files": files}))
    got = archive_files(tmp_path)
    assert got["new_dataset"] == tmp_path / "New_dataset 2015-10-0497.R2.dta"
    (tmp_path / "status.json").write_text(json.dumps({"available": True, "files": {}}))
    with pytest.raises(CoalitionsError, match="lists no file 'new_dataset'"):
        archive_files(tmp_path)

"""Estimates and fits of both studies are checked against their table schemas when they are written.

The rule entry points are called directly (with a stand-in for Snakemake's object); the original
archives are marked as not obtained (a status.json the test writes), which is the branch the default
offline build takes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from coalitions import entry
from coalitions.henke import models as henke_models
from coalitions.schema import check_table, validate, write_csv_table, write_csv_tables
from coalitions.util import CoalitionsError
from coalitions.weisiger import models as weisiger_models
from coalitions.weisiger.specs import load_specs as weisiger_specs
from helpers.smk import FakeSmk

ROOT = Path(__file__).resolve().parents[1]
HENKE_MODELS = ROOT / "config" / "models" / "henke.yaml"
WEISIGER_MODELS = ROOT / "config" / "models" / "weisiger.yaml"
NOT_OBTAINED = {"available": False, "reason": "not obtained (test)", "synthetic": False}


def _henke_fits() -> pd.DataFrame:
    specs = henke_models.load_specs(HENKE_MODELS, "original")
    return henke_models.not_available_fits(specs, track="original", coding="baseline", message="not obtained")


def _files(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir()) if d.exists() else []


# --------------------------------------------------------------------------- refused at write
@pytest.mark.parametrize("study,column,bad", [
    ("henke", "n_obs", ["many"] * 3),              # a count that is not a number
    ("henke", "status", "done"),                   # a status the schema does not know
    ("henke", "label", None),                      # a fit without its label
    ("weisiger", "n_clusters", ["x"] * 13),
    ("weisiger", "variant", "other"),
])
def test_a_fits_table_violating_its_schema_is_refused_and_nothing_is_written(tmp_path, study, column, bad):
    if study == "henke":
        fits, schema = _henke_fits(), henke_models.FITS_SCHEMA
    else:
        specs = weisiger_specs(WEISIGER_MODELS)
        fits = weisiger_models.not_available_tables(specs, track="original", coding="baseline", message="x")[1]
        schema = weisiger_models.FITS_SCHEMA
    validate(fits, schema)  # the rows as built conform
    fits[column] = bad if not isinstance(bad, list) else (bad * len(fits))[:len(fits)]
    out = tmp_path / "res" / "fits.csv"
    out.parent.mkdir()
    with pytest.raises(CoalitionsError) as err:
        write_csv_table(fits, out, schema)
    msg = str(err.value)
    assert "\n" not in msg, msg
    assert str(out) in msg and f"'{column}'" in msg and schema.name in msg
    assert _files(out.parent) == []  # neither the file nor a partial copy


def test_a_missing_column_is_one_line_naming_file_and_column(tmp_path):
    est = henke_models.run_models(pd.DataFrame(), None, [], track="original", coding="baseline")[0]
    out = tmp_path / "estimates.csv"
    with pytest.raises(CoalitionsError) as err:
        write_csv_table(est.drop(columns=["key_term"]), out, henke_models.ESTIMATES_SCHEMA)
    assert "\n" not in str(err.value) and "key_term" in str(err.value) and str(out) in str(err.value)
    assert not out.exists()


def test_one_bad_table_of_a_rule_writes_none_of_them(tmp_path):
    est = henke_models.run_models(pd.DataFrame(), None, [], track="original", coding="baseline")[0]
    fits = _henke_fits().assign(n_events=-1)
    items = [(est, tmp_path / "estimates.csv", henke_models.ESTIMATES_SCHEMA),
             (fits, tmp_path / "fits.csv", henke_models.FITS_SCHEMA)]
    with pytest.raises(CoalitionsError, match=r"fits\.csv.*'n_events'.*outside"):
        write_csv_tables(items)
    assert _files(tmp_path) == []


def test_an_estimates_table_with_a_non_boolean_key_term_is_refused(tmp_path):
    est = pd.DataFrame({c: ["x"] for c in henke_models.ESTIMATE_COLUMNS})
    for c in ("estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high", "ame", "ame_se"):
        est[c] = 0.5
    est["proxy"] = False
    est["track"] = "rebuilt"
    est["key_term"] = "yes"
    with pytest.raises(CoalitionsError, match=r"^[^\n]*estimates\.csv[^\n]*'key_term' should be bool[^\n]*$"):
        check_table(est, henke_models.ESTIMATES_SCHEMA, tmp_path / "estimates.csv")


# --------------------------------------------------------------------------- the entry points
def _archive(tmp_path: Path) -> Path:
    d = tmp_path / "archive"
    d.mkdir()
    (d / "status.json").write_text(json.dumps(NOT_OBTAINED), encoding="utf-8")
    return d


def _henke_original_smk(tmp_path: Path) -> FakeSmk:
    out = tmp_path / "results" / "baseline" / "henke" / "original"
    return FakeSmk(input={"archive": _archive(tmp_path), "models": HENKE_MODELS},
                   output={"estimates": out / "estimates.csv", "fits": out / "fits.csv",
                           "log_models": out / "log_models.csv"},
                   wildcards={"coding": "baseline"})


def test_henke_original_without_the_archive_writes_schema_valid_rows(tmp_path):
    smk = _henke_original_smk(tmp_path)
    entry.henke_original(smk)
    specs = henke_models.load_specs(HENKE_MODELS, "original")
    fits = pd.read_csv(smk.output.fits, keep_default_na=False)
    assert fits["model_id"].tolist() == [s.id for s in specs]
    assert (fits["status"] == "not_available").all()
    # every row names its model as the rebuilt track's rows do (before: label and estimator were empty)
    assert fits["label"].tolist() == [s.label for s in specs]
    assert fits["estimator"].tolist() == [s.estimator for s in specs]
    assert (fits[["n_obs", "n_clusters", "n_events", "n_dropped"]] == "").all().all()
    est = pd.read_csv(smk.output.estimates)
    assert list(est.columns) == henke_models.ESTIMATE_COLUMNS and est.empty
    validate(_henke_fits(), henke_models.FITS_SCHEMA)


def test_henke_original_refuses_bad_fits_at_write(tmp_path, monkeypatch, capfd):
    smk = _henke_original_smk(tmp_path)
    real = henke_models.not_available_fits
    monkeypatch.setattr(henke_models, "not_available_fits",
                        lambda *a, **k: real(*a, **k).assign(n_clusters="unknown"))
    with pytest.raises(SystemExit):
        entry.henke_original(smk)
    errors = [line for line in capfd.readouterr().err.splitlines() if line.strip()]
    assert len(errors) == 1 and "\n" not in errors[0], errors
    assert smk.output.fits in errors[0] and "'n_clusters'" in errors[0]
    assert _files(Path(smk.output.fits).parent) == []


def test_weisiger_models_without_the_archive_writes_schema_valid_rows(tmp_path):
    status = tmp_path / "status.json"
    status.write_text(json.dumps(NOT_OBTAINED), encoding="utf-8")
    out = tmp_path / "results" / "baseline" / "weisiger" / "original"
    smk = FakeSmk(input={"models": WEISIGER_MODELS, "status": status},
                  output={n: out / f"{n}.csv" for n in ("estimates", "fits", "survival", "dropped")},
                  wildcards={"coding": "baseline", "track": "original"})
    entry.weisiger_models(smk)
    specs = weisiger_specs(WEISIGER_MODELS)
    fits = pd.read_csv(smk.output.fits, keep_default_na=False)
    assert fits["model_id"].tolist() == [s.id for s in specs] and (fits["status"] == "not_available").all()
    assert list(fits.columns) == weisiger_models.FIT_COLUMNS
    assert (fits[["n_obs", "n_subjects", "n_failures", "n_clusters", "hand_coded", "n_failures_lost"]] == "").all().all()
    assert list(pd.read_csv(smk.output.estimates).columns) == weisiger_models.ESTIMATE_COLUMNS
    est, f = weisiger_models.not_available_tables(specs, track="original", coding="baseline", message="x")
    validate(est, weisiger_models.ESTIMATES_SCHEMA)
    validate(f, weisiger_models.FITS_SCHEMA)

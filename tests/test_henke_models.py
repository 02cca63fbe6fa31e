"""Henke models: the specs load, run on the rebuilt data, and agree with an independent fit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from coalitions.henke.cases import load_cases
from coalitions.henke.models import (
    ESTIMATE_COLUMNS,
    ESTIMATES_SCHEMA,
    FIT_COLUMNS,
    FITS_SCHEMA,
    load_published,
    load_specs,
    run_models,
)
from coalitions.henke.rebuild import HenkeCoding, build_dataset
from coalitions.schema import validate
from coalitions.util import CoalitionsError

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "config" / "models" / "henke.yaml"


@pytest.fixture(scope="module")
def built(tables):
    cases = load_cases(ROOT / "config" / "cases" / "henke_operations.csv",
                       ROOT / "config" / "cases" / "henke_contributors.csv", tables["cow_states"])
    return build_dataset(tables, *cases, HenkeCoding())


@pytest.fixture(scope="module")
def results(built):
    data, variables = built
    return run_models(data, variables, load_specs(SPECS, "rebuilt"), track="rebuilt", coding="baseline")


def test_specs_load():
    specs = {s.id: s for s in load_specs(SPECS, "rebuilt")}
    assert {"baseline_logit", "baseline_probit", "baseline_clogit", "igo_only", "agreements_only",
            "without_security_ties", "lagged", "normalised"} <= set(specs)
    b = specs["baseline_logit"]
    assert b.covariates[0] == "embeddedness" == b.key_term and b.cluster == "ccode" and b.outcome == "joined"
    assert specs["baseline_clogit"].group == "operation_id" and specs["baseline_clogit"].cluster is None
    assert all(c.endswith("_l1") for c in specs["lagged"].covariates)
    orig = load_specs(SPECS, "original")
    assert {s.dataset for s in orig} == {"new_dataset", "lake_dataset"}


def test_baseline_runs_with_finite_estimates(results, built):
    est, fits = results
    data, _ = built
    assert list(est.columns) == ESTIMATE_COLUMNS and list(fits.columns) == FIT_COLUMNS
    f = fits.set_index("model_id")
    for mid in ("baseline_logit", "baseline_probit", "baseline_clogit", "igo_only", "without_security_ties",
                "lagged", "normalised"):
        assert f.loc[mid, "status"] == "ok", (mid, f.loc[mid, "message"])
    b = est[est["model_id"] == "baseline_logit"].set_index("term")
    assert np.isfinite(b[["estimate", "std_error", "p_value", "conf_low", "conf_high"]].to_numpy()).all()
    assert b.loc["embeddedness", "std_error"] > 0
    assert np.isfinite(b.loc["embeddedness", "ame"]) and b.loc["embeddedness", "ame_se"] > 0
    assert b.drop(index="embeddedness")["ame"].isna().all()
    assert bool(b.loc["embeddedness", "proxy"]) and not bool(b.loc["polity2", "proxy"])
    assert b.loc["embeddedness", "label"] == "Diplomatic embeddedness" and b.loc["_cons", "label"] == "Constant"
    # sample accounting: complete cases of the model's columns, joiners = events, countries = clusters
    cols = ["joined", "embeddedness", "defense", "polity2", "cinc", "distance_1000km", "idealpoint_distance",
            "log_trade", "ccode"]
    cc = data.dropna(subset=cols)
    assert f.loc["baseline_logit", "n_obs"] == len(cc)
    assert f.loc["baseline_logit", "n_events"] == cc["joined"].sum()
    assert f.loc["baseline_logit", "n_clusters"] == cc["ccode"].nunique()
    assert f.loc["baseline_logit", "n_dropped"] == len(data) - len(cc)
    assert (est["track"] == "rebuilt").all() and (est["coding"] == "baseline").all()
    assert est.loc[est["model_id"] == "baseline_clogit", "ame"].isna().all()
    assert "_cons" not in set(est.loc[est["model_id"] == "baseline_clogit", "term"])


def test_key_term_is_flagged_exactly_on_each_models_declared_key_term(results):
    """Like Weisiger's, Henke's estimates flag the key term: True on the spec's key_term, False elsewhere
    (the paper reads the flag, not a pattern in the term's name)."""
    est, fits = results
    validate(est, ESTIMATES_SCHEMA)
    validate(fits, FITS_SCHEMA)
    specs = {s.id: s for s in load_specs(SPECS, "rebuilt")}
    assert est["key_term"].dtype == bool
    for mid, e in est.groupby("model_id"):
        flagged = e.loc[e["key_term"], "term"].tolist()
        assert flagged == [specs[mid].key_term], (mid, flagged)
    ok = set(fits.loc[fits["status"] == "ok", "model_id"])
    assert set(est["model_id"]) == ok and est["key_term"].sum() == len(ok)
    # the AME is reported for the flagged term only (none for the conditional logit)
    assert est.loc[~est["key_term"], "ame"].isna().all()
    assert est.loc[est["key_term"] & (est["model_id"] != "baseline_clogit"), "ame"].notna().all()


def test_agreements_only_is_not_estimable(results):
    est, fits = results
    row = fits.set_index("model_id").loc["agreements_only"]
    assert row["status"] == "not_estimable"
    assert "embeddedness_agreements_only" in row["message"] and "not available" in row["message"]
    assert pd.isna(row["n_obs"])
    assert "agreements_only" not in set(est["model_id"])


def test_agreements_only_coding_makes_the_baseline_not_estimable(tables, built):
    cases = load_cases(ROOT / "config" / "cases" / "henke_operations.csv",
                       ROOT / "config" / "cases" / "henke_contributors.csv", tables["cow_states"])
    data, variables = build_dataset(tables, *cases, HenkeCoding(embeddedness="agreements_only"))
    est, fits = run_models(data, variables, load_specs(SPECS, "rebuilt"), track="rebuilt", coding="agreements")
    f = fits.set_index("model_id")
    assert f.loc["baseline_logit", "status"] == "not_estimable" and f.loc["igo_only", "status"] == "ok"


def test_baseline_logit_matches_statsmodels(results, built):
    """Independent check of the wiring (sample, columns, clustering): statsmodels' Logit on the complete
    cases gives the same coefficients, and its cluster SEs times sqrt(G/(G-1)) (Stata's factor, without
    statsmodels' (N-1)/(N-K)) the same standard errors."""
    est, fits = results
    data, _ = built
    covs = ["embeddedness", "defense", "polity2", "cinc", "distance_1000km", "idealpoint_distance", "log_trade"]
    cc = data.dropna(subset=["joined", *covs, "ccode"])
    X = sm.add_constant(cc[covs].astype(float), prepend=False)
    res = sm.Logit(cc["joined"].astype(float), X).fit(disp=0, cov_type="cluster",
                                                      cov_kwds={"groups": cc["ccode"], "use_correction": False})
    g = cc["ccode"].nunique()
    b = est[est["model_id"] == "baseline_logit"].set_index("term")
    np.testing.assert_allclose(b.loc[covs, "estimate"], res.params[covs], rtol=1e-6)
    np.testing.assert_allclose(b.loc[covs, "std_error"], res.bse[covs] * np.sqrt(g / (g - 1)), rtol=1e-5)
    np.testing.assert_allclose(b.loc["_cons", "estimate"], res.params["const"], rtol=1e-6)
    assert fits.set_index("model_id").loc["baseline_logit", "loglik"] == pytest.approx(res.llf, rel=1e-8)


def test_missing_column_is_not_estimable(built):
    data, variables = built
    spec = load_specs(SPECS, "rebuilt")[0]
    est, fits = run_models(data.drop(columns=["polity2"]), variables, [spec], track="rebuilt", coding="x")
    assert fits.loc[0, "status"] == "not_estimable" and "'polity2' is not a column" in fits.loc[0, "message"]
    assert est.empty and list(est.columns) == ESTIMATE_COLUMNS


def test_spec_file_errors(tmp_path):
    bad = tmp_path / "m.yaml"
    bad.write_text("control_sets: {c: [x]}\nrebuilt:\n  models:\n    - {id: a, label: A, estimator: tobit, "
                   "outcome: y, key_term: x}\n", encoding="utf-8")
    with pytest.raises(CoalitionsError, match=r"m.yaml: rebuilt.models\[a\].estimator: must be one of"):
        load_specs(bad, "rebuilt")
    bad.write_text("rebuilt:\n  models:\n    - {id: a, label: A, estimator: clogit, outcome: y, "
                   "covariates: [x]}\n", encoding="utf-8")
    with pytest.raises(CoalitionsError, match=r"group: a conditional logit needs"):
        load_specs(bad, "rebuilt")
    bad.write_text("rebuilt:\n  models:\n    - {id: a, label: A, estimator: logit, outcome: y, "
                   "key_term: x, controls: nope}\n", encoding="utf-8")
    with pytest.raises(CoalitionsError, match=r"controls: unknown control set 'nope'"):
        load_specs(bad, "rebuilt")
    bad.write_text("rebuilt:\n  models:\n    - {id: a, label: A, estimator: logit, outcome: y, "
                   "covariates: [x], clustr: c}\n", encoding="utf-8")
    with pytest.raises(CoalitionsError, match=r"clustr: unknown key"):
        load_specs(bad, "rebuilt")
    bad.write_text("original:\n  models:\n    - {id: a, label: A, estimator: logit, outcome: y, "
                   "covariates: [x]}\n", encoding="utf-8")
    with pytest.raises(CoalitionsError, match=r"dataset: required for the original track"):
        load_specs(bad, "original")


def test_published_values_are_empty_and_match_the_original_models():
    pub = load_published(ROOT / "config" / "published" / "henke2017.csv")
    assert pub["value"].isna().all()  # Henke's published numbers are not known here: never invented
    specs = {s.id: s for s in load_specs(SPECS, "original")}
    assert set(pub["model_id"]) == set(specs)
    for s in specs.values():
        terms = set(pub.loc[(pub["model_id"] == s.id) & (pub["quantity"] == "estimate"), "term"])
        assert terms == {*s.covariates, "_cons"}


def test_published_loader_rejects_unsourced_numbers(tmp_path):
    p = tmp_path / "pub.csv"
    p.write_text("model_id,table,page,term,quantity,value,column_label,note\nm,,,x,estimate,0.5,,\n", encoding="utf-8")
    with pytest.raises(CoalitionsError, match="line 2: a published value needs its table and page"):
        load_published(p)
    p.write_text("model_id,table,page,term,quantity,value,column_label,note\nm,2,415,x,estimate,abc,,\n",
                 encoding="utf-8")
    with pytest.raises(CoalitionsError, match="line 2: value 'abc' is not a number"):
        load_published(p)


def test_run_rebuilt_from_the_built_tables(tables, tmp_path, results):
    """The one-call pipeline on a folder of parquet tables gives the same baseline as the step-by-step run."""
    from coalitions.henke.models import run_rebuilt
    from coalitions.henke.rebuild import ParquetTables

    folder = tmp_path / "sources"
    folder.mkdir()
    for name in ("cow_states", "cow_system", "cow_igo_memberships", "igo_counts_state_year", "atop_dyad_year",
                 "atop_state_year", "polity5", "cow_nmc6", "capitals", "unga_idealpoints", "cow_trade_national",
                 "cow_contdird", "cow_diplomatic_exchange"):
        (folder / f"{name}.parquet").symlink_to(tables.path(name))
    pt = ParquetTables(folder)
    assert len(pt) == 13 and "polity5" in list(pt)
    data, variables, est, fits = run_rebuilt(pt, ROOT / "config" / "cases" / "henke_operations.csv",
                                             ROOT / "config" / "cases" / "henke_contributors.csv", SPECS,
                                             {"lag_years": 0}, coding_name="baseline", origin="test")
    pd.testing.assert_frame_equal(est, results[0])
    with pytest.raises(CoalitionsError, match="test: key 'lag'"):
        run_rebuilt(pt, "x", "y", SPECS, {"lag": 1}, origin="test")

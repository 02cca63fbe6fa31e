"""Tests for coalitions.estimators.cox (Cox PH on counting-process data).

References:
* R survival::coxph (tests/r/coxph_fit.R), Breslow and Efron ties, model-based
  and cluster-robust variance, baseline hazard and survival curves;
* a brute-force (loop over event times and records) implementation of the
  partial likelihood, score and score residuals, written from the formulas;
* lifelines (CoxTimeVaryingFitter for counting-process coefficients;
  CoxPHFitter robust/cluster SEs on single-record data without ties).
"""

from __future__ import annotations

import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coalitions.estimators import (
    STATUS_FAILED,
    STATUS_NOT_ESTIMABLE,
    STATUS_OK,
    CoxResult,
    NotEstimableError,
    baseline_cumulative_hazard,
    fit_cox,
    predict_survival,
)

R_DIR = Path(__file__).parent / "r"
COVS = ["x1", "x2", "x3", "x4"]
RTOL = 1e-6


# --------------------------------------------------------------------------- #
# data
# --------------------------------------------------------------------------- #
def make_counting_process_data(seed: int = 20240611, n_subjects: int = 400, n_groups: int = 30) -> pd.DataFrame:
    """Multiple records per subject on an integer time grid (=> tied event
    times, and records starting exactly at other subjects' event times),
    time-varying covariates x1 and x4, fixed x2 (binary) and x3, a clustered
    frailty by ``grp``, late entry for some subjects, and a few records that
    are censored before the first event time."""
    rng = np.random.default_rng(seed)
    frailty = rng.normal(scale=0.6, size=n_groups)
    rows = []
    for i in range(n_subjects):
        grp = i % n_groups
        x2 = int(rng.integers(0, 2))
        x3 = float(np.round(rng.normal(), 3))
        t = float(rng.integers(1, 6)) if rng.random() < 0.25 else 0.0
        for _ in range(int(rng.integers(1, 5))):
            length = int(rng.integers(1, 7))
            x1 = float(np.round(rng.normal(), 3))
            x4 = int(rng.random() < 0.4)
            h = 0.07 * np.exp(0.5 * x1 - 0.4 * x2 + 0.3 * x3 + 0.35 * x4 + frailty[grp])
            if rng.random() < 1 - np.exp(-h * length):
                stop = t + int(rng.integers(1, length + 1))
                rows.append((i, grp, t, stop, 1, x1, x2, x3, x4))
                break
            rows.append((i, grp, t, t + length, 0, x1, x2, x3, x4))
            t += length
    df = pd.DataFrame(rows, columns=["id", "grp", "start", "stop", "event", *COVS])
    # records censored before the first event time (never in any risk set)
    first = df.loc[df.event == 1, "stop"].min()
    assert first >= 1
    extra = pd.DataFrame(
        [
            (n_subjects, 0, 0.0, 0.5, 0, 0.3, 1, -0.2, 1),
            (n_subjects + 1, 1, 0.25, 0.75, 0, -1.1, 0, 0.5, 0),
            (n_subjects + 2, 2, 0.0, 0.25, 0, 2.0, 1, 1.5, 1),
        ],
        columns=df.columns,
    )
    df = pd.concat([df, extra], ignore_index=True)
    df["stratum"] = df["grp"] % 3
    return df


@pytest.fixture(scope="module")
def cpdata() -> pd.DataFrame:
    return make_counting_process_data()


def test_generated_data_has_the_hard_features(cpdata):
    d = cpdata
    ev_times = d.loc[d.event == 1, "stop"]
    # tied event times
    assert ev_times.value_counts().max() >= 3
    # records whose start equals another record's event time
    assert d["start"].isin(set(ev_times)).sum() >= 50
    # records censored before the first event time
    assert (d["stop"] < ev_times.min()).sum() >= 3
    # multiple records per subject, late entry
    assert d.groupby("id").size().max() >= 3
    assert (d.groupby("id")["start"].min() > 0).sum() >= 20


# --------------------------------------------------------------------------- #
# brute-force reference (loops; from the textbook formulas)
# --------------------------------------------------------------------------- #
def naive_cox(df, covs, beta, ties="breslow"):
    """Partial log-likelihood, score and score residuals by explicit loops."""
    X = df[covs].to_numpy(float)
    s = df["start"].to_numpy(float)
    t = df["stop"].to_numpy(float)
    d = df["event"].to_numpy(int)
    r = np.exp(X @ beta)
    n, p = X.shape
    ll = 0.0
    U = np.zeros(p)
    resid = np.zeros((n, p))
    for tau in np.unique(t[d == 1]):
        risk = (s < tau) & (tau <= t)
        dead = (t == tau) & (d == 1)
        nd = dead.sum()
        S0, S1 = r[risk].sum(), (r[risk, None] * X[risk]).sum(0)
        D0, D1 = r[dead].sum(), (r[dead, None] * X[dead]).sum(0)
        ll += (X[dead] @ beta).sum()
        xbars = []
        for k in range(nd):
            f = k / nd if ties == "efron" else 0.0
            den = S0 - f * D0
            xbar = (S1 - f * D1) / den
            xbars.append(xbar)
            ll -= np.log(den)
            U -= xbar
            for i in np.flatnonzero(risk):
                wt = (1 - f) if dead[i] else 1.0
                resid[i] -= wt * r[i] * (X[i] - xbar) / den
        U += X[dead].sum(0)
        mbar = np.mean(xbars, axis=0)
        for i in np.flatnonzero(dead):
            resid[i] += X[i] - mbar
    return ll, U, resid


@pytest.mark.parametrize("ties", ["breslow", "efron"])
def test_against_bruteforce_reference(ties):
    df = make_counting_process_data(seed=7, n_subjects=80, n_groups=8)
    res = fit_cox(df, start="start", stop="stop", event="event", covariates=COVS, cluster="grp", ties=ties, stata_adjust=False)
    assert res.status == STATUS_OK and res.converged
    beta = res.params.to_numpy()
    ll, U, resid = naive_cox(df, COVS, beta, ties)
    assert res.loglik == pytest.approx(ll, rel=1e-10)
    ll0, _, _ = naive_cox(df, COVS, np.zeros(len(COVS)), ties)
    assert res.loglik_null == pytest.approx(ll0, rel=1e-10)
    # MLE: score zero
    assert np.max(np.abs(U)) < 1e-7
    # score residuals sum to the score
    assert np.allclose(resid.sum(0), U, atol=1e-10)
    # information by central differences of the brute-force score
    h = 1e-5
    info = np.zeros((len(beta), len(beta)))
    for j in range(len(beta)):
        e = np.zeros(len(beta))
        e[j] = h
        info[:, j] = -(naive_cox(df, COVS, beta + e, ties)[1] - naive_cox(df, COVS, beta - e, ties)[1]) / (2 * h)
    V = np.linalg.inv((info + info.T) / 2)
    np.testing.assert_allclose(res.cov_model.to_numpy(), V, rtol=1e-6, atol=1e-12)
    # cluster sandwich from the brute-force residuals
    Vm = res.cov_model.to_numpy()
    Ug = pd.DataFrame(resid).groupby(df["grp"].to_numpy()).sum().to_numpy()
    np.testing.assert_allclose(res.cov.to_numpy(), Vm @ Ug.T @ Ug @ Vm, rtol=1e-8, atol=1e-14)


def test_interval_is_open_on_the_left():
    """A record starting at an event time is not at risk at that time."""
    df = pd.DataFrame(
        {
            "start": [0.0, 0.0, 2.0, 0.0],
            "stop": [2.0, 2.0, 3.0, 3.0],
            "event": [1, 0, 1, 0],
            "x": [1.0, 0.0, 0.0, 1.0],
        }
    )
    res = fit_cox(df, start="start", stop="stop", event="event", covariates=["x"])
    # at beta = 0: time 2 risk set {A, B, D} (3), time 3 risk set {C, D} (2)
    assert res.loglik_null == pytest.approx(-np.log(3) - np.log(2), rel=1e-12)
    # closed intervals would give -log(4) - log(2)
    # MLE: d/db [b - log(1 + 2e^b) - log(1 + e^b)] = 0  (solve numerically)
    from scipy.optimize import brentq

    b = brentq(lambda b: 1 - 2 * np.exp(b) / (1 + 2 * np.exp(b)) - np.exp(b) / (1 + np.exp(b)), -5, 5)
    assert res.params["x"] == pytest.approx(b, rel=1e-9)


# --------------------------------------------------------------------------- #
# R
# --------------------------------------------------------------------------- #
def _r_available() -> tuple[bool, str]:
    if shutil.which("Rscript") is None:
        return False, "Rscript not found on PATH"
    rc = subprocess.run(
        ["Rscript", "-e", "quit(status = as.integer(!requireNamespace('survival', quietly = TRUE)))"],
        capture_output=True,
        timeout=60,
    )
    if rc.returncode != 0:
        return False, "R package 'survival' is not installed"
    return True, ""


R_OK, R_WHY = _r_available()

R_SPECS = pd.DataFrame(
    [
        # id, ties, covariates, cluster, strata, robust
        ("b_grp", "breslow", " ".join(COVS), "grp", "", "0"),
        ("e_grp", "efron", " ".join(COVS), "grp", "", "0"),
        ("b_id", "breslow", " ".join(COVS), "id", "", "0"),
        ("e_id", "efron", " ".join(COVS), "id", "", "0"),
        ("b_none", "breslow", " ".join(COVS), "", "", "0"),
        ("e_rob", "efron", " ".join(COVS), "", "", "1"),
        ("b_strata", "breslow", " ".join(COVS), "grp", "stratum", "0"),
        ("e_strata", "efron", "x1 x3 x4", "id", "stratum", "0"),
    ],
    columns=["id", "ties", "covariates", "cluster", "strata", "robust"],
)
PROFILES = pd.DataFrame({"x1": [0.0, 1.0, -0.5], "x2": [0, 1, 0], "x3": [0.0, 0.5, -1.0], "x4": [0, 1, 1]})
TIMES = [0.5, 1, 2, 3.5, 7, 12, 20]


@pytest.fixture(scope="module")
def r_results(cpdata, tmp_path_factory):
    if not R_OK:
        pytest.skip(R_WHY)
    tmp = tmp_path_factory.mktemp("coxr")
    cpdata.to_csv(tmp / "data.csv", index=False)
    R_SPECS.to_csv(tmp / "spec.csv", index=False)
    PROFILES.to_csv(tmp / "newdata.csv", index=False)
    proc = subprocess.run(
        [
            "Rscript",
            str(R_DIR / "coxph_fit.R"),
            str(tmp / "data.csv"),
            str(tmp / "spec.csv"),
            str(tmp),
            str(tmp / "newdata.csv"),
            " ".join(str(t) for t in TIMES),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return {k: pd.read_csv(tmp / f"{k}.csv") for k in ("coef", "fit", "basehaz", "surv")}


def _fit_spec(df, spec, stata_adjust=False):
    return fit_cox(
        df,
        start="start",
        stop="stop",
        event="event",
        covariates=spec.covariates.split(),
        cluster=spec.cluster or None,
        strata=spec.strata or None,
        robust=spec.robust == "1",
        ties=spec.ties,
        stata_adjust=stata_adjust,
        subject="id",
    )


@pytest.mark.parametrize("spec_id", list(R_SPECS["id"]))
@pytest.mark.needs_r
@pytest.mark.skipif(not R_OK, reason=R_WHY or "R unavailable")
def test_matches_r_coxph(cpdata, r_results, spec_id):
    spec = R_SPECS.set_index("id").loc[spec_id].fillna("")
    res = _fit_spec(cpdata, spec)
    assert res.status == STATUS_OK, res.message
    rc = r_results["coef"].query("id == @spec_id").set_index("term")
    rf = r_results["fit"].query("id == @spec_id").iloc[0]
    terms = spec.covariates.split()
    np.testing.assert_allclose(res.params[terms], rc.loc[terms, "coef"], rtol=RTOL)
    np.testing.assert_allclose(res.bse[terms], rc.loc[terms, "se"], rtol=RTOL)
    if spec.cluster or spec.robust == "1":
        np.testing.assert_allclose(res.robust_bse[terms], rc.loc[terms, "robust_se"], rtol=RTOL)
        np.testing.assert_allclose(res.std_errors[terms], rc.loc[terms, "robust_se"], rtol=RTOL)
    else:
        assert res.robust_bse is None
        np.testing.assert_allclose(res.std_errors[terms], rc.loc[terms, "se"], rtol=RTOL)
    assert res.loglik == pytest.approx(rf["loglik"], rel=1e-9)
    assert res.loglik_null == pytest.approx(rf["loglik0"], rel=1e-9)
    assert res.n_obs == rf["n"] and res.n_failures == rf["nevent"]


@pytest.mark.parametrize("spec_id", ["b_grp", "e_grp", "b_strata"])
@pytest.mark.needs_r
@pytest.mark.skipif(not R_OK, reason=R_WHY or "R unavailable")
def test_baseline_hazard_matches_r(cpdata, r_results, spec_id):
    spec = R_SPECS.set_index("id").loc[spec_id].fillna("")
    res = _fit_spec(cpdata, spec)
    # R's basehaz() uses the Breslow increments after ties="breslow" and
    # Efron's after ties="efron" (survfit ctype 1 / 2)
    bh = baseline_cumulative_hazard(res, centered=False, method=spec.ties)
    rb = r_results["basehaz"].query("id == @spec_id")
    if spec.strata:
        for lab, rsub in rb.groupby("strata"):
            s = int(str(lab).split("=")[-1])
            ours = bh[bh["stratum"] == s].set_index("time")["cumhaz"]
            # R lists every distinct time; compare at our event times
            rr = rsub.set_index("time")["cumhaz"]
            np.testing.assert_allclose(ours.to_numpy(), rr.loc[ours.index].to_numpy(), rtol=RTOL)
    else:
        ours = bh.set_index("time")["cumhaz"]
        rr = rb.set_index("time")["cumhaz"]
        np.testing.assert_allclose(ours.to_numpy(), rr.loc[ours.index].to_numpy(), rtol=RTOL)
        # and R's extra (non-event) times carry the previous value
        full = np.concatenate([[0.0], ours.to_numpy()])[np.searchsorted(ours.index, rr.index, side="right")]
        np.testing.assert_allclose(full, rr.to_numpy(), rtol=RTOL, atol=1e-14)


@pytest.mark.parametrize("spec_id", ["b_grp", "e_grp"])
@pytest.mark.needs_r
@pytest.mark.skipif(not R_OK, reason=R_WHY or "R unavailable")
def test_predict_survival_matches_r(cpdata, r_results, spec_id):
    spec = R_SPECS.set_index("id").loc[spec_id].fillna("")
    res = _fit_spec(cpdata, spec)
    S = predict_survival(res, PROFILES, TIMES, method=spec.ties)
    rs = r_results["surv"].query("id == @spec_id")
    for k in range(len(PROFILES)):
        r = rs[rs.profile == k].set_index("time")["surv"]
        np.testing.assert_allclose(S[k].to_numpy(), r.loc[TIMES].to_numpy(), rtol=RTOL)
    # method on the result object gives the same
    pd.testing.assert_frame_equal(res.predict_survival(PROFILES, TIMES, method=spec.ties), S)


# --------------------------------------------------------------------------- #
# Stata small-sample factor, NaN safety, data handling
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("ties", ["breslow", "efron"])
@pytest.mark.parametrize("cluster", ["grp", "id"])
def test_stata_adjust_is_exactly_g_over_g_minus_1(cpdata, ties, cluster):
    kw = dict(start="start", stop="stop", event="event", covariates=COVS, cluster=cluster, ties=ties)
    a = fit_cox(cpdata, stata_adjust=True, **kw)
    b = fit_cox(cpdata, stata_adjust=False, **kw)
    G = cpdata[cluster].nunique()
    assert a.n_clusters == G
    np.testing.assert_allclose(a.cov.to_numpy(), b.cov.to_numpy() * G / (G - 1), rtol=1e-13, atol=0)
    np.testing.assert_allclose(a.params, b.params, rtol=0, atol=0)
    np.testing.assert_allclose(a.bse, b.bse, rtol=0, atol=0)  # model-based SE unaffected


def test_no_nan_with_records_censored_before_first_event(cpdata):
    first = cpdata.loc[cpdata.event == 1, "stop"].min()
    early = cpdata["stop"] < first
    assert early.sum() >= 3
    kw = dict(start="start", stop="stop", event="event", covariates=COVS, cluster="id", stata_adjust=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning (0/0) either
        res = fit_cox(cpdata, **kw)
    tidy = res.tidy()
    assert not tidy.isna().any().any()
    assert np.all(np.isfinite(res.cov.to_numpy()))
    # records that are never at risk contribute nothing: identical fit without them
    # (their subjects are their own clusters and have zero score residuals)
    res2 = fit_cox(cpdata.loc[~early], **kw)
    np.testing.assert_allclose(res.params, res2.params, rtol=1e-12)
    np.testing.assert_allclose(res.cov, res2.cov, rtol=1e-10)
    # a dataset where the *very first* record in time is censored
    d = pd.DataFrame(
        {"start": [0, 0, 0, 0, 0, 0], "stop": [0.5, 1, 2, 2, 3, 4], "event": [0, 1, 0, 1, 1, 0], "x": [3.0, 1, 0, 1, 0, 2]}
    )
    r = fit_cox(d, start="start", stop="stop", event="event", covariates=["x"], robust=True)
    assert np.isfinite(r.params["x"]) and np.isfinite(r.robust_bse["x"]) and np.isfinite(r.bse["x"])


def test_listwise_deletion(cpdata):
    d = cpdata.copy()
    d.loc[[3, 10, 50], "x1"] = np.nan
    d.loc[[20], "grp"] = np.nan
    d.loc[[10, 60], "stop"] = np.nan
    res = fit_cox(d, start="start", stop="stop", event="event", covariates=COVS, cluster="grp")
    assert res.n_dropped == 5
    ref = fit_cox(d.dropna(subset=["x1", "grp", "stop"]), start="start", stop="stop", event="event", covariates=COVS, cluster="grp")
    assert res.n_obs == ref.n_obs == len(cpdata) - 5
    np.testing.assert_allclose(res.params, ref.params, rtol=0)
    assert res.glance()["n_dropped"].iloc[0] == 5


def test_result_shape(cpdata):
    res = fit_cox(
        cpdata, start="start", stop="stop", event="event", covariates=COVS, cluster="grp", subject="id", ties="efron"
    )
    assert isinstance(res, CoxResult)
    tidy = res.tidy()
    assert list(tidy.columns) == [
        "term",
        "estimate",
        "std_error",
        "statistic",
        "p_value",
        "conf_low",
        "conf_high",
        "hazard_ratio",
    ]
    assert list(tidy.term) == COVS
    np.testing.assert_allclose(tidy.hazard_ratio, np.exp(tidy.estimate))
    np.testing.assert_allclose(tidy.std_error, res.robust_bse)
    ci = res.conf_int(0.1)
    np.testing.assert_allclose(ci["upper"] - res.params, 1.6448536269514722 * res.robust_bse, rtol=1e-12)
    g = res.glance()
    assert len(g) == 1
    row = g.iloc[0]
    assert row.n_subjects == cpdata.id.nunique()
    assert row.n_failures == cpdata.event.sum()
    assert row.n_clusters == cpdata.grp.nunique()
    assert row.status == "ok" and row.converged and row.ties == "efron"
    assert res.hazard_ratios["x1"] == pytest.approx(np.exp(res.params["x1"]))


# --------------------------------------------------------------------------- #
# errors and statuses
# --------------------------------------------------------------------------- #
def test_constant_covariate_error(cpdata):
    d = cpdata.assign(const=1.0)
    with pytest.raises(NotEstimableError, match=r"constant covariate.*'const'"):
        fit_cox(d, start="start", stop="stop", event="event", covariates=["x1", "const"])
    res = fit_cox(d, start="start", stop="stop", event="event", covariates=["x1", "const"], on_error="status")
    assert res.status == STATUS_NOT_ESTIMABLE and "const" in res.message
    assert res.params.isna().all() and list(res.tidy().term) == ["x1", "const"]


def test_collinear_covariates_error(cpdata):
    d = cpdata.assign(x5=cpdata.x1 - 2 * cpdata.x3 + 1)
    with pytest.raises(NotEstimableError, match=r"collinear.*'x5'.*\['x1', 'x3'\]"):
        fit_cox(d, start="start", stop="stop", event="event", covariates=["x1", "x3", "x5"])


def test_covariate_constant_within_strata_error(cpdata):
    d = cpdata.assign(sx=cpdata.stratum * 2.0)
    with pytest.raises(NotEstimableError, match=r"within every stratum.*'sx'"):
        fit_cox(d, start="start", stop="stop", event="event", covariates=["x1", "sx"], strata="stratum")


def test_zero_events_error(cpdata):
    d = cpdata.assign(event=0)
    with pytest.raises(NotEstimableError, match="no events"):
        fit_cox(d, start="start", stop="stop", event="event", covariates=COVS)
    res = fit_cox(d, start="start", stop="stop", event="event", covariates=COVS, on_error="status")
    assert res.status == STATUS_NOT_ESTIMABLE and "no events" in res.message
    assert res.glance()["status"].iloc[0] == "not_estimable"


def test_invalid_input_errors(cpdata):
    with pytest.raises(ValueError, match="stop must be > start"):
        fit_cox(cpdata.assign(stop=cpdata.start), start="start", stop="stop", event="event", covariates=COVS)
    with pytest.raises(ValueError, match="0/1"):
        fit_cox(cpdata.assign(event=2), start="start", stop="stop", event="event", covariates=COVS)
    with pytest.raises(KeyError, match="nope"):
        fit_cox(cpdata, start="start", stop="stop", event="event", covariates=["nope"])
    with pytest.raises(ValueError, match="ties"):
        fit_cox(cpdata, start="start", stop="stop", event="event", covariates=COVS, ties="exact")


def test_non_convergence_is_a_status(cpdata):
    res = fit_cox(cpdata, start="start", stop="stop", event="event", covariates=COVS, max_iter=1, cluster="grp")
    assert res.status == STATUS_FAILED and not res.converged
    assert "did not converge" in res.message
    assert np.all(np.isfinite(res.params))


def test_monotone_likelihood_is_flagged(cpdata):
    # a covariate that is 1 exactly for the records that fail: beta -> +inf
    d = cpdata.assign(perfect=cpdata.event.astype(float))
    res = fit_cox(d, start="start", stop="stop", event="event", covariates=["x1", "perfect"])
    assert res.status == STATUS_NOT_ESTIMABLE
    assert "perfect" in res.message and "infinite" in res.message


# --------------------------------------------------------------------------- #
# lifelines
# --------------------------------------------------------------------------- #
def test_coefficients_match_lifelines_time_varying(cpdata):
    lifelines = pytest.importorskip("lifelines")
    ctv = lifelines.CoxTimeVaryingFitter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ctv.fit(
            cpdata[["id", "start", "stop", "event", *COVS]],
            id_col="id",
            event_col="event",
            start_col="start",
            stop_col="stop",
            fit_options={"precision": 1e-12},
        )
    res = fit_cox(cpdata, start="start", stop="stop", event="event", covariates=COVS, ties="efron")
    np.testing.assert_allclose(res.params[COVS], ctv.params_[COVS], rtol=1e-6)
    np.testing.assert_allclose(res.bse[COVS], ctv.standard_errors_[COVS], rtol=1e-6)
    assert res.loglik == pytest.approx(ctv.log_likelihood_, rel=1e-9)


def test_cluster_robust_matches_lifelines_coxph():
    """lifelines' CoxPHFitter robust sandwich ignores entry times and ties, so
    compare on single-record, no-late-entry data with continuous times."""
    lifelines = pytest.importorskip("lifelines")
    rng = np.random.default_rng(99)
    n = 600
    X = rng.normal(size=(n, 3))
    g = rng.integers(0, 40, n)
    T = rng.exponential(np.exp(-(X @ [0.4, -0.3, 0.2]) - rng.normal(scale=0.5, size=40)[g]))
    C = rng.exponential(1.5, n)
    df = pd.DataFrame(X, columns=["a", "b", "c"]).assign(
        time=np.minimum(T, C), event=(T <= C).astype(int), start=0.0, grp=g
    )
    assert df.time.duplicated().sum() == 0
    cph = lifelines.CoxPHFitter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cph.fit(
            df[["a", "b", "c", "time", "event", "grp"]],
            duration_col="time",
            event_col="event",
            cluster_col="grp",
            robust=True,
            fit_options={"precision": 1e-12},
        )
    res = fit_cox(df, start="start", stop="time", event="event", covariates=["a", "b", "c"], cluster="grp", ties="efron", stata_adjust=False)
    np.testing.assert_allclose(res.params, cph.params_[["a", "b", "c"]], rtol=1e-6)
    np.testing.assert_allclose(res.robust_bse, cph.standard_errors_[["a", "b", "c"]], rtol=1e-6)
    # start=None (all records at risk from the origin) is the same model
    res0 = fit_cox(df, start=None, stop="time", event="event", covariates=["a", "b", "c"], cluster="grp", ties="efron", stata_adjust=False)
    np.testing.assert_allclose(res0.params, res.params, rtol=1e-12)
    np.testing.assert_allclose(res0.robust_bse, res.robust_bse, rtol=1e-12)

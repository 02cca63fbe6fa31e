"""Tests for coalitions.estimators.binary (logit, probit, conditional logit).

References:
* base R ``glm(family = binomial(link))`` with a cluster sandwich computed by
  hand in base R (tests/r/glm_cluster.R);
* R ``survival::clogit`` (exact) and, for one case per group,
  ``coxph(..., cluster =)``; cluster sandwich for multi-case groups from
  per-group exact scores by brute-force enumeration in R (tests/r/clogit_fit.R);
* statsmodels (Logit cluster covariance with ``use_correction=True``,
  ``get_margeff``, ConditionalLogit) and Stata output bundled with statsmodels.
"""

from __future__ import annotations

import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from coalitions.estimators import (
    STATUS_FAILED,
    STATUS_NOT_ESTIMABLE,
    STATUS_OK,
    BinaryResult,
    ModelResult,
    NotEstimableError,
    cluster_factor,
    fit_clogit,
    fit_logit,
    fit_probit,
)

R_DIR = Path(__file__).parent / "r"
RTOL = 1e-6


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
skip_no_r = pytest.mark.skipif(not R_OK, reason=R_WHY or "R unavailable")


# --------------------------------------------------------------------------- #
# data
# --------------------------------------------------------------------------- #
def make_binary_data(seed: int = 31, n: int = 2500, n_clusters: int = 45) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cl = rng.integers(0, n_clusters, n)
    u = rng.normal(scale=0.7, size=n_clusters)[cl]
    a = rng.normal(size=n) + 0.5 * u
    b = rng.gamma(2.0, 1.0, n)
    d = (rng.random(n) < 0.35).astype(int)
    eta = -0.8 + 0.6 * a - 0.25 * b + 0.5 * d + u
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    df = pd.DataFrame({"y": y, "a": a, "b": b, "d": d, "cl": cl})
    df.loc[[5, 17, 400], "a"] = np.nan
    df.loc[[33], "cl"] = np.nan
    return df


def make_clogit_data(seed: int = 8, n_groups: int = 160, single_case: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for g in range(n_groups):
        n = 4 if single_case else int(rng.integers(3, 7))
        x1 = rng.normal(size=n)
        x2 = rng.integers(0, 2, n).astype(float)
        x3 = rng.normal(size=n) + rng.normal()  # group-level shift (absorbed)
        eta = 0.8 * x1 - 0.5 * x2 + 0.3 * x3
        if single_case:
            k = 1
        elif g % 15 == 0:
            k = 0  # uninformative group
        else:
            k = int(rng.integers(1, n))  # includes k > n/2
        y = np.zeros(n, int)
        if k:
            p = np.exp(eta) / np.exp(eta).sum()
            y[rng.choice(n, size=k, replace=False, p=p)] = 1
        for i in range(n):
            rows.append((g, g // 4, y[i], x1[i], x2[i], x3[i]))
    return pd.DataFrame(rows, columns=["g", "cl", "y", "x1", "x2", "x3"])


@pytest.fixture(scope="module")
def bdata():
    return make_binary_data()


# --------------------------------------------------------------------------- #
# R: logit / probit
# --------------------------------------------------------------------------- #
GLM_SPECS = pd.DataFrame(
    [
        ("logit3", "logit", "y", "a b d", "cl"),
        ("probit3", "probit", "y", "a b d", "cl"),
        ("logit1", "logit", "y", "a", "cl"),
        ("probit2", "probit", "y", "b d", "cl"),
    ],
    columns=["id", "link", "outcome", "covariates", "cluster"],
)


@pytest.fixture(scope="module")
def r_glm(bdata, tmp_path_factory):
    if not R_OK:
        pytest.skip(R_WHY)
    tmp = tmp_path_factory.mktemp("glmr")
    bdata.to_csv(tmp / "data.csv", index=False, na_rep="NA")
    GLM_SPECS.to_csv(tmp / "spec.csv", index=False)
    proc = subprocess.run(
        ["Rscript", str(R_DIR / "glm_cluster.R"), str(tmp / "data.csv"), str(tmp / "spec.csv"), str(tmp / "out.csv")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return pd.read_csv(tmp / "out.csv")


@pytest.mark.needs_r
@skip_no_r
@pytest.mark.parametrize("spec_id", list(GLM_SPECS.id))
def test_logit_probit_match_r_glm_with_hand_sandwich(bdata, r_glm, spec_id):
    spec = GLM_SPECS.set_index("id").loc[spec_id]
    fit = fit_logit if spec.link == "logit" else fit_probit
    covs = spec.covariates.split()
    r = r_glm.query("id == @spec_id").set_index("term")
    terms = [*covs, "_cons"]
    for small, col in (("stata", "se_cl_stata"), ("stata_regress", "se_cl_regress"), ("none", "se_cl_raw")):
        res = fit(bdata, outcome="y", covariates=covs, cluster="cl", small_sample=small)
        assert res.status == STATUS_OK, res.message
        np.testing.assert_allclose(res.params[terms], r.loc[terms, "coef"], rtol=RTOL)
        np.testing.assert_allclose(res.bse_model[terms], r.loc[terms, "se_model"], rtol=RTOL)
        np.testing.assert_allclose(res.bse[terms], r.loc[terms, col], rtol=RTOL)
        np.testing.assert_allclose(res.tidy().set_index("term").loc[terms, "std_error"], r.loc[terms, col], rtol=RTOL)
    if spec.link == "logit":
        # canonical link: observed = expected information, so = vcov(glm)
        np.testing.assert_allclose(res.bse_model[terms], r.loc[terms, "se_fisher"], rtol=RTOL)
    else:
        # probit: Stata (and we) use the observed information; glm's vcov() is Fisher's
        assert not np.allclose(res.bse_model[terms], r.loc[terms, "se_fisher"], rtol=1e-4)
    assert res.n_obs == r["N"].iloc[0] and res.n_clusters == r["G"].iloc[0]
    assert res.loglik == pytest.approx(r["loglik"].iloc[0], rel=1e-9)
    # model-based SEs without cluster (same sample: R dropped the row with missing cluster)
    res0 = fit(bdata.dropna(subset=["cl"]), outcome="y", covariates=covs)
    np.testing.assert_allclose(res0.bse[terms], r.loc[terms, "se_model"], rtol=RTOL)
    assert res0.cov_type == "model" and res0.n_clusters is None


def test_small_sample_factors_exact(bdata):
    kw = dict(outcome="y", covariates=["a", "b", "d"], cluster="cl")
    st = fit_logit(bdata, small_sample="stata", **kw)
    rg = fit_logit(bdata, small_sample="stata_regress", **kw)
    raw = fit_logit(bdata, small_sample="none", **kw)
    G, N, K = st.n_clusters, st.n_obs, len(st.params)
    np.testing.assert_allclose(st.cov, raw.cov * G / (G - 1), rtol=1e-13)
    np.testing.assert_allclose(rg.cov, raw.cov * G / (G - 1) * (N - 1) / (N - K), rtol=1e-13)
    assert cluster_factor("stata", G, N, K) == pytest.approx(G / (G - 1))


@pytest.mark.parametrize("link", ["logit", "probit"])
def test_stata_regress_factor_equals_statsmodels_use_correction(bdata, link):
    d = bdata.dropna()
    res = (fit_logit if link == "logit" else fit_probit)(
        d, outcome="y", covariates=["a", "b", "d"], cluster="cl", small_sample="stata_regress"
    )
    X = sm.add_constant(d[["a", "b", "d"]], prepend=False)
    mod = (sm.Logit if link == "logit" else sm.Probit)(d["y"], X)
    smr = mod.fit(disp=0, method="newton", tol=1e-12, cov_type="cluster", cov_kwds={"groups": d["cl"].astype(int), "use_correction": True})
    np.testing.assert_allclose(res.params.to_numpy(), smr.params.to_numpy(), rtol=1e-8)
    np.testing.assert_allclose(res.bse.to_numpy(), smr.bse.to_numpy(), rtol=1e-8)
    # statsmodels fits the null model iteratively (default tolerance)
    assert res.pseudo_r2 == pytest.approx(smr.prsquared, rel=1e-8)
    assert res.loglik_null == pytest.approx(smr.llnull, rel=1e-8)


def test_stata_ml_cluster_convention_against_stata_output():
    """Evidence for small_sample='stata': statsmodels ships Stata's output of
    ``poisson accident yr_con op_75_79, vce(cluster ship)``.  The cluster
    sandwich times G/(G-1) alone reproduces Stata's SEs (an ML command, like
    logit/probit: ``_robust`` with ``minus(1)``); adding (N-1)/(N-K) does not."""
    import statsmodels

    try:
        from statsmodels.discrete.tests.results import results_count_robust_cluster as st
    except ImportError:
        pytest.skip("statsmodels test results are not installed")
    path = Path(statsmodels.__file__).parent / "discrete" / "tests" / "results" / "ships.csv"
    if not path.exists():
        pytest.skip("statsmodels ships.csv not installed")
    d = pd.read_csv(path).dropna()
    X = sm.add_constant(d[["yr_con", "op_75_79"]], prepend=False).to_numpy(float)
    mod = sm.Poisson(d["accident"].to_numpy(float), X)
    r = mod.fit(disp=0, method="newton", tol=1e-12)
    B = np.linalg.inv(-mod.hessian(r.params))
    S = mod.score_obs(r.params)
    codes = pd.factorize(d["ship"])[0]
    Ug = np.zeros((codes.max() + 1, X.shape[1]))
    np.add.at(Ug, codes, S)
    V = B @ Ug.T @ Ug @ B
    N, K, G = X.shape[0], X.shape[1], codes.max() + 1
    se_stata = np.sqrt(np.diag(V) * cluster_factor("stata", G, N, K))
    se_regress = np.sqrt(np.diag(V) * cluster_factor("stata_regress", G, N, K))
    np.testing.assert_allclose(se_stata, st.results_poisson_clu.bse, rtol=1e-6)
    assert not np.allclose(se_regress, st.results_poisson_clu.bse, rtol=1e-3)


# --------------------------------------------------------------------------- #
# marginal effects
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("link", ["logit", "probit"])
def test_average_marginal_effects(bdata, link):
    d = bdata.dropna()
    fit = fit_logit if link == "logit" else fit_probit
    res = fit(d, outcome="y", covariates=["a", "b", "d"], cluster="cl", small_sample="stata_regress")
    X = sm.add_constant(d[["a", "b", "d"]], prepend=False)
    mod = (sm.Logit if link == "logit" else sm.Probit)(d["y"], X)
    smr = mod.fit(disp=0, method="newton", tol=1e-12, cov_type="cluster", cov_kwds={"groups": d["cl"].astype(int), "use_correction": True})
    me = smr.get_margeff(at="overall", method="dydx").summary_frame()
    for t in ["a", "b", "d"]:
        ame = res.average_marginal_effect(t)
        assert ame["ame"] == pytest.approx(me.loc[t, "dy/dx"], rel=1e-8)
        assert ame["std_error"] == pytest.approx(me.loc[t, "Std. Err."], rel=1e-6)
    med = smr.get_margeff(at="overall", method="dydx", dummy=True).summary_frame()
    amed = res.average_marginal_effect("d", kind="discrete")
    assert amed["ame"] == pytest.approx(med.loc["d", "dy/dx"], rel=1e-8)
    assert amed["std_error"] == pytest.approx(med.loc["d", "Std. Err."], rel=1e-6)
    # finite-difference check of the derivative AME itself
    F = (lambda e: 1 / (1 + np.exp(-e))) if link == "logit" else (lambda e: __import__("scipy").stats.norm.cdf(e))
    Xn, b = X.to_numpy(float), res.params.to_numpy()
    h = 1e-6
    fd = (F(Xn @ b + h * b[0]) - F(Xn @ b - h * b[0])).mean() / (2 * h)
    assert res.average_marginal_effect("a")["ame"] == pytest.approx(fd, rel=1e-6)
    tab = res.marginal_effects()
    assert list(tab.term) == ["a", "b", "d"]
    with pytest.raises(ValueError, match="0/1"):
        res.average_marginal_effect("a", kind="discrete")


# --------------------------------------------------------------------------- #
# conditional logit
# --------------------------------------------------------------------------- #
@pytest.fixture(scope="module")
def cl_multi():
    return make_clogit_data()


@pytest.fixture(scope="module")
def cl_single():
    return make_clogit_data(seed=9, n_groups=200, single_case=True)


@pytest.fixture(scope="module")
def r_clogit(cl_multi, cl_single, tmp_path_factory):
    if not R_OK:
        pytest.skip(R_WHY)
    tmp = tmp_path_factory.mktemp("clogitr")
    out = {}
    for name, data, method in (("multi", cl_multi, "exact"), ("single", cl_single, "coxph")):
        data.to_csv(tmp / f"{name}.csv", index=False)
        pd.DataFrame(
            [(name, method, "y", "x1 x2 x3", "g", "cl")],
            columns=["id", "method", "outcome", "covariates", "group", "cluster"],
        ).to_csv(tmp / f"{name}_spec.csv", index=False)
        proc = subprocess.run(
            [
                "Rscript",
                str(R_DIR / "clogit_fit.R"),
                str(tmp / f"{name}.csv"),
                str(tmp / f"{name}_spec.csv"),
                str(tmp / f"{name}_out.csv"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        out[name] = pd.read_csv(tmp / f"{name}_out.csv").set_index("term")
    return out


def test_clogit_data_features(cl_multi):
    k = cl_multi.groupby("g")["y"].agg(["sum", "size"])
    assert (k["sum"] > 1).sum() > 20  # several cases per group
    assert (k["sum"] > k["size"] / 2).sum() > 10  # more cases than controls
    assert (k["sum"] == 0).sum() > 5  # uninformative groups


@pytest.mark.needs_r
@skip_no_r
@pytest.mark.parametrize("which", ["multi", "single"])
def test_clogit_matches_r(cl_multi, cl_single, r_clogit, which):
    data = cl_multi if which == "multi" else cl_single
    r = r_clogit[which]
    terms = ["x1", "x2", "x3"]
    res = fit_clogit(data, outcome="y", covariates=terms, group="g")
    assert res.status == STATUS_OK, res.message
    np.testing.assert_allclose(res.params[terms], r.loc[terms, "coef"], rtol=RTOL)
    np.testing.assert_allclose(res.bse[terms], r.loc[terms, "se_model"], rtol=RTOL)
    assert res.loglik == pytest.approx(r["loglik"].iloc[0], rel=1e-9)
    assert res.loglik_null == pytest.approx(r["loglik0"].iloc[0], rel=1e-9)
    rc = fit_clogit(data, outcome="y", covariates=terms, group="g", cluster="cl")
    np.testing.assert_allclose(rc.bse[terms], r.loc[terms, "se_cl_stata"], rtol=RTOL)
    rn = fit_clogit(data, outcome="y", covariates=terms, group="g", cluster="cl", small_sample="none")
    np.testing.assert_allclose(rn.bse[terms], r.loc[terms, "se_cl_raw"], rtol=RTOL)
    np.testing.assert_allclose(rc.bse_model, res.bse, rtol=0)
    assert rc.n_clusters == r["G"].iloc[0]


def test_clogit_against_statsmodels_and_scores(cl_multi):
    from statsmodels.discrete.conditional_models import ConditionalLogit

    terms = ["x1", "x2", "x3"]
    res = fit_clogit(cl_multi, outcome="y", covariates=terms, group="g")
    n_uninf = (cl_multi.groupby("g")["y"].transform("sum") == 0).sum()
    assert res.n_obs == len(cl_multi) - n_uninf and res.n_dropped == n_uninf
    assert "dropped because of all positive or all negative outcomes" in res.message
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        smr = ConditionalLogit(cl_multi["y"], cl_multi[terms], groups=cl_multi["g"]).fit(method="bfgs", maxiter=500, gtol=1e-10)
    # statsmodels maximises with BFGS (loose); the score check below is the strict one
    np.testing.assert_allclose(res.params.to_numpy(), smr.params.to_numpy(), rtol=1e-4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Dropped 11 groups ... no within-group variance"
        mod = ConditionalLogit(cl_multi["y"], cl_multi[terms], groups=cl_multi["g"])
    assert res.loglik == pytest.approx(mod.loglike(res.params.to_numpy()), rel=1e-10)
    assert np.max(np.abs(mod.score(res.params.to_numpy()))) < 1e-8


def test_clogit_likelihood_score_and_information_equal_enumeration():
    """The exact conditional likelihood of each group, its score and its information, against brute-force
    enumeration of every set of k members (synthetic groups of 2 to 9 members with 1 to n-1 cases, so that
    groups leave the degree-by-degree loop at different degrees and some are rewritten cases <-> controls)."""
    from itertools import combinations

    from coalitions.estimators.binary import _CLogitGroups

    rng = np.random.default_rng(17)
    sizes = [2, 3, 5, 6, 7, 8, 9, 9, 4]
    g = np.repeat(np.arange(len(sizes)), sizes)
    y = np.zeros(len(g))
    for s, n in enumerate(sizes):
        idx = np.flatnonzero(g == s)
        y[rng.choice(idx, 1 + s % (n - 1), replace=False)] = 1
    X = rng.normal(size=(len(g), 3))
    beta = np.array([0.7, -0.4, 0.2])
    ll_g, score_g, info = _CLogitGroups(y, X, g).evaluate(beta, hessian=True)
    ll_only = _CLogitGroups(y, X, g).evaluate(beta, hessian=False)[0]
    want_info = np.zeros((3, 3))
    for s in range(len(sizes)):
        xs, ys = X[g == s], y[g == s]
        k = int(ys.sum())
        sets = np.array([xs[list(c)].sum(axis=0) for c in combinations(range(len(xs)), k)])
        w = np.exp(sets @ beta)
        p = w / w.sum()
        mean = p @ sets
        xcase = xs[ys == 1].sum(axis=0)
        assert ll_g[s] == pytest.approx(xcase @ beta - np.log(w.sum()), rel=1e-12)
        np.testing.assert_allclose(score_g[s], xcase - mean, rtol=1e-10, atol=1e-12)
        want_info += (sets - mean).T @ ((sets - mean) * p[:, None])
    np.testing.assert_allclose(ll_only, ll_g, rtol=1e-14)
    np.testing.assert_allclose(info, want_info, rtol=1e-10, atol=1e-12)


def test_clogit_errors(cl_multi):
    d = cl_multi.assign(gconst=cl_multi["g"] * 0.5)
    res = fit_clogit(d, outcome="y", covariates=["x1", "gconst"], group="g")
    assert res.status == STATUS_NOT_ESTIMABLE and "gconst" in res.message
    with pytest.raises(NotEstimableError, match="gconst"):
        fit_clogit(d, outcome="y", covariates=["x1", "gconst"], group="g", on_error="raise")
    with pytest.raises(ValueError, match="nested"):
        fit_clogit(cl_multi.assign(bad=np.arange(len(cl_multi)) % 3), outcome="y", covariates=["x1"], group="g", cluster="bad")
    with pytest.raises(NotImplementedError):
        fit_clogit(cl_multi, outcome="y", covariates=["x1"], group="g").average_marginal_effect("x1")


# --------------------------------------------------------------------------- #
# statuses and data handling
# --------------------------------------------------------------------------- #
def test_result_shape_and_listwise(bdata):
    res = fit_logit(bdata, outcome="y", covariates=["a", "b", "d"], cluster="cl")
    assert isinstance(res, BinaryResult) and isinstance(res, ModelResult)
    assert res.n_dropped == 4 and res.n_obs == len(bdata) - 4
    ref = fit_logit(bdata.dropna(), outcome="y", covariates=["a", "b", "d"], cluster="cl")
    np.testing.assert_allclose(res.params, ref.params, rtol=0)
    t = res.tidy()
    assert list(t.columns) == ["term", "estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"]
    assert list(t.term) == ["a", "b", "d", "_cons"]
    np.testing.assert_allclose(t.statistic, t.estimate / t.std_error)
    g = res.glance()
    assert len(g) == 1
    for col in ["n_obs", "n_subjects", "n_failures", "n_clusters", "loglik", "converged", "status", "message", "pseudo_r2"]:
        assert col in g.columns
    assert g.status.iloc[0] == "ok" and g.n_clusters.iloc[0] == bdata.cl.nunique()
    assert res.pseudo_r2 == pytest.approx(1 - res.loglik / res.loglik_null)
    ci = res.conf_int()
    assert np.all(ci["lower"] < res.params) and np.all(res.params < ci["upper"])


def test_complete_separation_is_not_estimable():
    rng = np.random.default_rng(1)
    x = rng.normal(size=300)
    df = pd.DataFrame({"y": (x > 0.1).astype(int), "x": x, "z": rng.normal(size=300)})
    res = fit_logit(df, outcome="y", covariates=["x", "z"])
    assert res.status == STATUS_NOT_ESTIMABLE
    assert "separation" in res.message and "'x'" in res.message
    res = fit_probit(df, outcome="y", covariates=["x", "z"])
    assert res.status == STATUS_NOT_ESTIMABLE
    with pytest.raises(NotEstimableError, match="separation"):
        fit_logit(df, outcome="y", covariates=["x", "z"], on_error="raise")


def test_quasi_separation_dummy_is_not_estimable():
    rng = np.random.default_rng(2)
    n = 400
    dd = rng.integers(0, 2, n)
    y = rng.integers(0, 2, n)
    y[dd == 1] = 1
    df = pd.DataFrame({"y": y, "dd": dd, "x": rng.normal(size=n)})
    res = fit_logit(df, outcome="y", covariates=["x", "dd"])
    assert res.status == STATUS_NOT_ESTIMABLE
    assert "dd != 0 predicts success perfectly" in res.message
    assert res.params.isna().all()
    assert res.tidy().shape[0] == 3


def test_constant_collinear_and_constant_outcome(bdata):
    d = bdata.assign(k=3.0, a2=2 * bdata.a - bdata.b)
    r = fit_logit(d, outcome="y", covariates=["a", "k"])
    assert r.status == STATUS_NOT_ESTIMABLE and "constant covariate" in r.message and "'k'" in r.message
    r = fit_probit(d, outcome="y", covariates=["a", "b", "a2"])
    assert r.status == STATUS_NOT_ESTIMABLE and "'a2' is a linear combination of ['a', 'b']" in r.message
    r = fit_logit(d.assign(y=1), outcome="y", covariates=["a"])
    assert r.status == STATUS_NOT_ESTIMABLE and "does not vary" in r.message
    with pytest.raises(NotEstimableError, match="constant covariate"):
        fit_logit(d, outcome="y", covariates=["a", "k"], on_error="raise")
    with pytest.raises(ValueError, match="0/1"):
        fit_logit(d.assign(y=d.y * 2), outcome="y", covariates=["a"])


def test_non_convergence_is_a_status(bdata):
    r = fit_logit(bdata, outcome="y", covariates=["a", "b", "d"], max_iter=1)
    assert r.status == STATUS_FAILED and not r.converged and "did not converge" in r.message
    assert r.glance().status.iloc[0] == "failed"


def test_collinear_columns_reports_the_later_column_and_only_real_collinearity():
    """Synthetic columns: an exact combination of earlier ones is reported (the later column, with the
    columns it combines); a full-rank matrix, and one whose last column is off the span by 1e-6 of its
    norm (between the tolerance and the decomposition's shortcut margin), report nothing."""
    from coalitions.estimators._base import collinear_columns

    rng = np.random.default_rng(3)
    a, b, c = rng.normal(size=(3, 500))
    names = ["x1", "x2", "x3", "x4"]
    assert collinear_columns(np.column_stack([a, b, c, a - b]), names) == [("x4", ["x1", "x2"])]
    assert collinear_columns(np.column_stack([a, b, a + 2 * b, c]), names) == [("x3", ["x1", "x2"])]
    assert collinear_columns(np.column_stack([a, b, c, rng.normal(size=500)]), names) == []
    e = rng.normal(size=500)
    e -= np.column_stack([a, b, c]) @ np.linalg.lstsq(np.column_stack([a, b, c]), e, rcond=None)[0]
    near = a + b + 1e-6 * np.linalg.norm(a + b) * e / np.linalg.norm(e)
    assert collinear_columns(np.column_stack([a, b, c, near]), names) == []
    assert collinear_columns(np.column_stack([a, np.zeros(500), b]), ["x1", "x2", "x3"]) == [("x2", [])]

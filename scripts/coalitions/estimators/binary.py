"""Binary-outcome models: logit, probit and conditional (fixed-effects) logit.

Logit / probit
    Likelihood, score and Hessian come from statsmodels' ``Logit``/``Probit``
    (analytic), maximised by Newton-Raphson with step halving here so that
    separation and non-convergence can be diagnosed instead of crashing.
    Cluster-robust variance: ``bread @ meat @ bread * c`` with
    ``bread = (-H)^{-1}`` and ``meat = sum_g s_g s_g'`` (``s_g`` = sum of the
    observation scores in cluster ``g``).  The small-sample factor ``c``:

    * ``small_sample="stata"`` (default): ``c = G/(G-1)``.  This is what Stata's
      ``logit``/``probit``/``clogit``/``poisson`` ``, vce(cluster g)`` do: they
      are ML commands and call ``_robust`` with ``minus(1)``, so the
      ``(N-1)/(N-k)`` term is ``(N-1)/(N-1) = 1``;
    * ``small_sample="stata_regress"``: ``c = G/(G-1) * (N-1)/(N-K)`` --
      Stata's ``regress, vce(cluster)`` factor, and what statsmodels applies
      with ``cov_kwds={"use_correction": True}``;
    * ``small_sample="none"``: ``c = 1``.

Conditional logit (:func:`fit_clogit`)
    The exact conditional likelihood (as Stata's ``clogit`` and R's
    ``survival::clogit(method="exact")``), computed with the elementary
    symmetric polynomial recursion (value, gradient and Hessian), vectorised
    over groups.  Groups without outcome variation are dropped (as Stata does).
    Cluster-robust variance sums the per-group scores within clusters (groups
    must be nested in clusters, as Stata requires).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import special

from ._base import (
    STATUS_FAILED,
    STATUS_NOT_ESTIMABLE,
    STATUS_OK,
    EstimationError,
    ModelResult,
    NotEstimableError,
    OnError,
    as_list,
    binary_vector,
    check_on_error,
    cluster_meat,
    collinear_columns,
    constant_columns,
    describe_collinear,
    listwise,
    nan_result_frames,
    _norm_pdf,
    _norm_sf,
    numeric_matrix,
    pd_inverse,
)

__all__ = ["BinaryResult", "fit_logit", "fit_probit", "fit_clogit", "cluster_factor"]

SmallSample = Literal["stata", "stata_regress", "none"]
INTERCEPT = "_cons"


def cluster_factor(small_sample: str, n_clusters: int, n_obs: int, k_params: int) -> float:
    """Small-sample multiplier of the cluster sandwich (see module docstring)."""
    if small_sample == "none":
        return 1.0
    if n_clusters < 2:
        return float("nan")
    g = n_clusters / (n_clusters - 1.0)
    if small_sample == "stata":
        return g
    if small_sample == "stata_regress":
        return g * (n_obs - 1.0) / (n_obs - k_params)
    raise ValueError(f"small_sample must be 'stata', 'stata_regress' or 'none', not {small_sample!r}")


# --------------------------------------------------------------------------- #
# result
# --------------------------------------------------------------------------- #
@dataclass(kw_only=True, eq=False)
class BinaryResult(ModelResult):
    """Result of :func:`fit_logit`, :func:`fit_probit` and :func:`fit_clogit`.

    ``bse`` are the standard errors used for inference (cluster-robust when a
    cluster variable was given, = ``std_errors``); ``bse_model`` and
    ``cov_model`` are the model-based (inverse-Hessian) ones.
    """

    bse: pd.Series
    bse_model: pd.Series | None = None
    cov_model: pd.DataFrame | None = None
    pseudo_r2: float = float("nan")
    link: str = "logit"
    outcome: str = ""
    small_sample: str = "stata"
    n_groups: int | None = None
    n_positive: int | None = None
    #: internal: per term and kind ("derivative"/"discrete"), the AME and its
    #: gradient with respect to the parameters (for the delta method)
    ame_data: dict = field(default_factory=dict, repr=False)

    def _glance_extra(self) -> dict[str, object]:
        return {
            "pseudo_r2": self.pseudo_r2,
            "link": self.link,
            "n_groups": self.n_groups,
            "n_positive": self.n_positive,
            "small_sample": self.small_sample,
        }

    def average_marginal_effect(
        self, term: str, *, kind: Literal["derivative", "discrete"] = "derivative", alpha: float = 0.05
    ) -> pd.Series:
        """Average marginal effect of ``term`` on Pr(y = 1) with a delta-method SE.

        ``kind="derivative"``: mean over the estimation sample of
        ``dPr/dx = f(x'b) * b_term`` (Stata ``margins, dydx(x)`` for a
        continuous ``x``).  ``kind="discrete"`` (0/1 covariates only): mean of
        ``F(x'b | x=1) - F(x'b | x=0)`` (Stata ``margins, dydx(i.x)``).  The
        variance is ``g' V g`` with ``V = cov`` (cluster-robust if clustered)
        and ``g`` the gradient of the AME with respect to the coefficients.
        """
        if self.link == "clogit":
            raise NotImplementedError("marginal effects on Pr(y=1) are not defined for conditional logit")
        if term not in self.params.index:
            raise KeyError(f"unknown term {term!r}; terms are {list(self.params.index)}")
        if term == INTERCEPT:
            raise ValueError("no marginal effect for the intercept")
        key = (term, kind)
        if key not in self.ame_data:
            if kind == "discrete":
                raise ValueError(f"kind='discrete' needs a 0/1 covariate; {term!r} is not")
            if kind != "derivative":
                raise ValueError("kind must be 'derivative' or 'discrete'")
            raise EstimationError(f"no marginal effects available (status={self.status!r}: {self.message})")
        ame, grad = self.ame_data[key]
        V = np.asarray(self.cov, dtype=float)
        var = float(grad @ V @ grad)
        se = np.sqrt(var) if var >= 0 else np.nan
        zval = ame / se if se > 0 else np.nan
        q = special.ndtri(1 - alpha / 2)
        return pd.Series(
            {
                "term": term,
                "kind": kind,
                "ame": ame,
                "std_error": se,
                "statistic": zval,
                "p_value": 2 * _norm_sf(abs(zval)) if np.isfinite(zval) else np.nan,
                "conf_low": ame - q * se,
                "conf_high": ame + q * se,
            }
        )

    def marginal_effects(self, *, kind: Literal["derivative", "discrete"] = "derivative", alpha: float = 0.05) -> pd.DataFrame:
        """AMEs of all (eligible) terms as a DataFrame."""
        rows = [
            self.average_marginal_effect(t, kind=kind, alpha=alpha)
            for t in self.params.index
            if (t, kind) in self.ame_data
        ]
        return pd.DataFrame(rows).reset_index(drop=True)


# --------------------------------------------------------------------------- #
# logit / probit
# --------------------------------------------------------------------------- #
def _link_funcs(link: str):
    if link == "logit":

        def F(eta):
            return special.expit(eta)

        def f(eta):
            p = special.expit(eta)
            return p * (1 - p)

        def fprime(eta):
            p = special.expit(eta)
            return p * (1 - p) * (1 - 2 * p)

    else:

        def F(eta):
            return special.ndtr(eta)

        def f(eta):
            return _norm_pdf(eta)

        def fprime(eta):
            return -eta * _norm_pdf(eta)

    return F, f, fprime


def _perfect_predictors(y: np.ndarray, X: np.ndarray, names: Sequence[str]) -> list[str]:
    """Stata-style check: a 0/1 covariate for which one of its values has
    an outcome that never varies ("x != 0 predicts failure perfectly")."""
    msgs = []
    for j, name in enumerate(names):
        col = X[:, j]
        vals = np.unique(col)
        if vals.shape[0] != 2 or not np.all(np.isin(vals, (0.0, 1.0))):
            continue
        for v, label in ((1.0, "!= 0"), (0.0, "== 0")):
            yy = y[col == v]
            if yy.size and np.all(yy == yy[0]):
                what = "success" if yy[0] == 1 else "failure"
                msgs.append(f"{name} {label} predicts {what} perfectly ({yy.size} obs)")
    return msgs


def _newton_ml(full, ll_only, start, tol, max_iter):
    """Newton-Raphson with step halving on a concave log-likelihood.

    ``full(b) -> (loglik, score, information)``; ``ll_only(b) -> loglik``.
    Converged when the largest step is below ``tol * (1 + max|b|)``.
    Returns (params, converged, iterations, message).
    """
    beta = np.asarray(start, dtype=float).copy()
    ll, U, info = full(beta)
    it = 0
    for it in range(1, max_iter + 1):
        info_inv = pd_inverse(info)
        if info_inv is None:
            return beta, False, it, "information matrix is not positive definite during iterations"
        step = info_inv @ U
        nb = beta + step
        nll = ll_only(nb)
        h = 0
        while (not np.isfinite(nll) or nll < ll - 1e-12 * abs(ll)) and h < 30:
            step = step / 2
            nb = beta + step
            nll = ll_only(nb)
            h += 1
        if not np.isfinite(nll):
            return beta, False, it, "log-likelihood became non-finite"
        beta = nb
        if np.max(np.abs(step)) <= tol * (1 + np.max(np.abs(beta))):
            return beta, True, it, ""
        ll, U, info = full(beta)
    return beta, False, it, f"did not converge in {max_iter} iterations"


def _fit_binary(
    df: pd.DataFrame,
    *,
    link: str,
    outcome: str,
    covariates: Sequence[str],
    cluster: str | None,
    add_constant: bool,
    small_sample: SmallSample,
    on_error: OnError,
    tol: float,
    max_iter: int,
) -> BinaryResult:
    check_on_error(on_error)
    cluster_factor(small_sample, 2, 10, 1)  # validates the option
    covariates = as_list(covariates)
    if len(set(covariates)) != len(covariates):
        raise ValueError(f"duplicated covariate names: {covariates}")
    if INTERCEPT in covariates:
        raise ValueError(f"{INTERCEPT!r} is reserved for the intercept")
    sub, n_dropped = listwise(df, [outcome, *covariates, cluster])
    n = len(sub)
    y = binary_vector(sub[outcome], outcome)
    Xc = numeric_matrix(sub, covariates)
    terms = list(covariates) + ([INTERCEPT] if add_constant else [])
    X = np.column_stack([Xc, np.ones(n)]) if add_constant else Xc
    if X.shape[1] == 0:
        raise ValueError("no covariates and no constant")
    ccodes, n_clusters = None, None
    if cluster is not None:
        ccodes, clabels = pd.factorize(sub[cluster])
        n_clusters = len(clabels)
    cov_type = "cluster" if cluster is not None else "model"
    base = dict(
        model=link,
        link=link,
        outcome=outcome,
        n_obs=n,
        n_dropped=n_dropped,
        n_clusters=n_clusters,
        small_sample=small_sample,
        n_positive=int(y.sum()),
        cov_type=cov_type,
    )

    def bad(status: str, msg: str) -> BinaryResult:
        if on_error == "raise":
            raise (NotEstimableError if status == STATUS_NOT_ESTIMABLE else EstimationError)(msg)
        params, cov = nan_result_frames(terms)
        return BinaryResult(params=params, cov=cov, bse=params.rename("bse"), status=status, message=msg, **base)

    if n == 0:
        return bad(STATUS_NOT_ESTIMABLE, "no observations in the estimation sample")
    if np.all(y == y[0]):
        return bad(STATUS_NOT_ESTIMABLE, f"outcome {outcome!r} does not vary (all {int(y[0])}) in the estimation sample")
    const = constant_columns(Xc, covariates)
    if const and add_constant:
        return bad(STATUS_NOT_ESTIMABLE, f"constant covariate(s) with no variation in the estimation sample: {const}")
    Xcheck = Xc - Xc.mean(axis=0) if add_constant else Xc
    coll = collinear_columns(Xcheck, covariates)
    if coll:
        return bad(STATUS_NOT_ESTIMABLE, describe_collinear(coll))
    pp = _perfect_predictors(y, Xc, covariates)
    if pp:
        return bad(
            STATUS_NOT_ESTIMABLE,
            "perfect prediction (separation): " + "; ".join(pp) + " -- the coefficient is infinite; "
            "Stata would drop the variable and those observations",
        )

    from statsmodels.discrete.discrete_model import Logit, Probit  # imported here: heavy, rarely needed

    mod_cls = Logit if link == "logit" else Probit
    mod = mod_cls(y, X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            beta, converged, iters, message = _newton_ml(
                lambda b: (mod.loglike(b), mod.score(b), -mod.hessian(b)),
                mod.loglike,
                np.zeros(X.shape[1]),
                tol,
                max_iter,
            )
            ll = float(mod.loglike(beta))
            H = mod.hessian(beta)
            S_obs = mod.score_obs(beta)
            U = S_obs.sum(axis=0)
    F, f, fprime = _link_funcs(link)
    eta = X @ beta
    status = STATUS_OK if converged else STATUS_FAILED
    V = pd_inverse(-H)
    # separation / drifting coefficients
    with np.errstate(all="ignore"):
        prob = F(eta)
    perfect = ((prob < 1e-10) & (y == 0)) | ((prob > 1 - 1e-10) & (y == 1))
    drift = np.zeros(len(terms), dtype=bool)
    if V is not None:
        drift = np.abs(V @ U) > np.sqrt(tol) * (1 + np.abs(beta))
    sd = np.append(Xc.std(axis=0), [0.0] * int(add_constant))
    big = np.abs(beta) * sd > 10
    if perfect.any() and (not converged or V is None or drift.any() or big.any()):
        names = [t for t, b, d in zip(terms, big, drift) if b or d]
        status = STATUS_NOT_ESTIMABLE
        message = (
            f"(quasi-)complete separation: {int(perfect.sum())} observation(s) perfectly predicted; "
            f"coefficient(s) diverging: {names}"
        )
        if on_error == "raise":
            raise NotEstimableError(message)
    if V is None:
        V = np.full((len(terms), len(terms)), np.nan)
        status = STATUS_FAILED if status == STATUS_OK else status
        message = (message + "; " if message else "") + "Hessian is singular at the estimates"

    if ccodes is not None:
        meat = cluster_meat(S_obs, ccodes, n_clusters)
        Vr = V @ meat @ V * cluster_factor(small_sample, n_clusters, n, len(terms))
        Vr = (Vr + Vr.T) / 2
    else:
        Vr = V

    # null model: constant only (if there is a constant), else all-zero
    if add_constant:
        ybar = y.mean()
        ll0 = float(n * (ybar * np.log(ybar) + (1 - ybar) * np.log(1 - ybar)))
    else:
        ll0 = float(mod.loglike(np.zeros(X.shape[1])))

    idx = pd.Index(terms)
    params = pd.Series(beta, index=idx, name="estimate")
    cov = pd.DataFrame(Vr, index=idx, columns=idx)
    cov_model = pd.DataFrame(V, index=idx, columns=idx)

    # marginal-effect ingredients
    ame_data: dict = {}
    if status == STATUS_OK:
        fe = f(eta)
        mf = fe.mean()
        mfx = (fprime(eta)[:, None] * X).mean(axis=0)
        K = len(terms)
        for k, t in enumerate(covariates):
            grad = beta[k] * mfx
            grad[k] += mf
            ame_data[(t, "derivative")] = (float(beta[k] * mf), grad)
            col = Xc[:, k]
            if np.all((col == 0) | (col == 1)):
                eta1 = eta + beta[k] * (1 - col)
                eta0 = eta - beta[k] * col
                f1, f0 = f(eta1), f(eta0)
                grad = ((f1 - f0)[:, None] * X).mean(axis=0)
                grad[k] = f1.mean()
                ame_data[(t, "discrete")] = (float((F(eta1) - F(eta0)).mean()), grad)
        assert all(len(g) == K for _, g in ame_data.values())

    return BinaryResult(
        params=params,
        cov=cov,
        bse=pd.Series(np.sqrt(np.diag(Vr)), index=idx, name="bse"),
        bse_model=pd.Series(np.sqrt(np.diag(V)), index=idx, name="bse_model"),
        cov_model=cov_model,
        loglik=ll,
        loglik_null=ll0,
        pseudo_r2=1 - ll / ll0 if ll0 != 0 else np.nan,
        converged=converged,
        iterations=iters,
        status=status,
        message=message,
        ame_data=ame_data,
        **base,
    )


def _binary_fitter(link: str, doc: str):
    """``fit_logit`` and ``fit_probit``: :func:`_fit_binary` with the link fixed (one signature, one body)."""

    def fit(
        df: pd.DataFrame,
        *,
        outcome: str,
        covariates: Sequence[str],
        cluster: str | None = None,
        add_constant: bool = True,
        small_sample: SmallSample = "stata",
        on_error: OnError = "status",
        tol: float = 1e-10,
        max_iter: int = 100,
    ) -> BinaryResult:
        return _fit_binary(df, link=link, outcome=outcome, covariates=covariates, cluster=cluster,
                           add_constant=add_constant, small_sample=small_sample, on_error=on_error, tol=tol,
                           max_iter=max_iter)

    fit.__name__ = fit.__qualname__ = f"fit_{link}"
    fit.__doc__ = doc
    return fit


fit_logit = _binary_fitter("logit", """Logistic regression, optionally with cluster-robust SEs (``cluster=``).

    The intercept is called ``_cons`` (Stata's name).  ``small_sample``:
    ``"stata"`` (``G/(G-1)``, Stata's ``logit, vce(cluster)``),
    ``"stata_regress"`` (``G/(G-1)*(N-1)/(N-K)``) or ``"none"``.
    ``on_error="status"`` (default) returns a result with ``status``
    ``"not_estimable"``/``"failed"`` and a ``message`` for constant/collinear
    covariates, a constant outcome, perfect separation or non-convergence;
    ``"raise"`` raises :class:`NotEstimableError` for the data problems
    instead.  Rows with missing values in used columns are dropped listwise.
    """)

fit_probit = _binary_fitter("probit", """Probit regression; same interface and conventions as :func:`fit_logit`.""")


# --------------------------------------------------------------------------- #
# conditional logit
# --------------------------------------------------------------------------- #
class _CLogitGroups:
    """Padded per-group arrays for the exact conditional likelihood.

    For a group with ``n`` members and ``k`` cases, the likelihood is
    ``exp(sum_cases x b) / e_k(exp(x_1 b), ..., exp(x_n b))`` with ``e_k`` the
    elementary symmetric polynomial.  A group with ``k > n - k`` is rewritten
    with cases and controls swapped and ``x -> -x`` (identical likelihood in
    ``b``), so the recursion depth is ``min(k, n - k)``.  Covariates are centred
    within groups (the likelihood is invariant to that).
    """

    def __init__(self, y: np.ndarray, X: np.ndarray, gcodes: np.ndarray):
        order = np.argsort(gcodes, kind="stable")
        g = gcodes[order]
        y = y[order]
        X = X[order]
        n_groups = int(g.max()) + 1 if g.size else 0
        sizes = np.bincount(g, minlength=n_groups)
        cases = np.bincount(g, weights=y, minlength=n_groups).astype(np.int64)
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        pos = np.arange(g.shape[0]) - starts[g]
        gm = np.vstack([np.bincount(g, weights=X[:, j], minlength=n_groups) for j in range(X.shape[1])]).T
        gm = gm / sizes[:, None]
        flip = cases > sizes - cases
        sign = np.where(flip, -1.0, 1.0)
        Xs = (X - gm[g]) * sign[g][:, None]
        ys = np.where(flip[g], 1.0 - y, y)
        self.S = n_groups
        self.p = X.shape[1]
        self.nmax = int(sizes.max())
        self.k = np.minimum(cases, sizes - cases)
        self.kmax = int(self.k.max())
        self.Xp = np.zeros((n_groups, self.nmax, self.p))
        self.Xp[g, pos] = Xs
        self.mask = np.zeros((n_groups, self.nmax), dtype=bool)
        self.mask[g, pos] = True
        self.xcase = np.zeros((n_groups, self.p))
        np.add.at(self.xcase, g, Xs * ys[:, None])

    def evaluate(self, beta: np.ndarray, hessian: bool = True):
        """Per-group log-likelihood (S,), score (S, p), and summed information (``None`` without
        ``hessian``; then the score is not computed either and is ``None``)."""
        eta = self.Xp @ beta
        eta = np.where(self.mask, eta, -np.inf)
        m = eta.max(axis=1)
        r = np.exp(eta - m[:, None])  # padded members get r = 0
        Ek, Gk, Hk = _esp(r, self.Xp, self.k, hessian)
        ll_g = self.xcase @ beta - np.log(Ek) - self.k * m
        if not hessian:
            return ll_g, None, None
        Gk = Gk / Ek[:, None]
        score_g = self.xcase - Gk
        Hk = Hk / Ek[:, None, None]
        info = (Hk - Gk[:, :, None] * Gk[:, None, :]).sum(axis=0)
        info = (info + info.T) / 2
        return ll_g, score_g, info


def _esp(r: np.ndarray, X: np.ndarray, k: np.ndarray, derivatives: bool):
    """``e_k`` of the weights ``r`` (groups x members) of each group, the elementary symmetric polynomial
    of degree ``k`` (one per group), and (``derivatives``) its first (groups x p) and second derivatives
    (groups x p x p) in ``b`` where ``r_i = exp(x_i b)`` (``X``: groups x members x p).

    Degree by degree: with ``F_j(t) = e_j(r_1..r_t)``, ``F_j(t) = sum_{s<=t} r_s F_{j-1}(s-1)``, a cumulative
    sum over the members of non-negative terms; the derivatives follow the product rule,
    ``G_j(t) = sum_{s<=t} r_s (x_s F_{j-1}(s-1) + G_{j-1}(s-1))`` and ``H = N + N'`` with
    ``N_j(t) = sum_{s<=t} r_s (N_{j-1}(s-1) + x_s (G_{j-1}(s-1) + x_s F_{j-1}(s-1) / 2)')``. A group leaves
    the loop at its own degree (most groups have few cases, or few non-cases)."""
    S, n, p = X.shape
    Ek = np.ones(S)
    Gk = np.zeros((S, p)) if derivatives else None
    Hk = np.zeros((S, p, p)) if derivatives else None
    # the groups by degree, largest first: the groups still in the loop at degree j are a prefix
    order = np.argsort(-k, kind="stable")
    ks = k[order]
    na = int((ks > 0).sum())
    # members on the last axis: every operation runs along the members, in contiguous memory
    rr = r[order[:na]]
    F = np.ones((na, n + 1))
    if derivatives:
        XX = np.ascontiguousarray(np.swapaxes(X[order[:na]], 1, 2))  # groups x p x members
        Rx = rr[:, None, :] * XX
        Rxh = Rx / 2
        G = np.zeros((na, p, n + 1))
        N = np.zeros((na, p, p, n + 1))
    j = 0
    while na:
        j += 1
        Fp = F[:na, :-1]
        F = np.zeros((na, n + 1))
        np.cumsum(rr[:na] * Fp, axis=-1, out=F[:, 1:])
        if derivatives:
            Gp, Np_ = G[:na, :, :-1], N[:na, :, :, :-1]
            rG = rr[:na, None, :] * Gp
            u = rG + Rxh[:na] * Fp[:, None, :]
            tN = rr[:na, None, None, :] * Np_
            tN += XX[:na, :, None, :] * u[:, None, :, :]
            N = np.zeros((na, p, p, n + 1))
            np.cumsum(tN, axis=-1, out=N[:, :, :, 1:])
            rG += Rx[:na] * Fp[:, None, :]
            G = np.zeros((na, p, n + 1))
            np.cumsum(rG, axis=-1, out=G[:, :, 1:])
        left = int((ks[:na] > j).sum())
        if left < na:  # groups of degree j are done
            idx = order[left:na]
            Ek[idx] = F[left:, n]
            if derivatives:
                Gk[idx] = G[left:, :, n]
                Hk[idx] = N[left:, :, :, n] + np.swapaxes(N[left:, :, :, n], 1, 2)
            na = left
    return Ek, Gk, Hk


def fit_clogit(
    df: pd.DataFrame,
    *,
    outcome: str,
    covariates: Sequence[str],
    group: str,
    cluster: str | None = None,
    small_sample: SmallSample = "stata",
    on_error: OnError = "status",
    tol: float = 1e-10,
    max_iter: int = 50,
) -> BinaryResult:
    """Conditional (fixed-effects) logit, grouped by ``group`` (Stata ``clogit
    y x, group(g)``; R ``clogit(y ~ x + strata(g))`` with the exact likelihood).

    Without ``cluster`` the variance is model-based (inverse information).
    With ``cluster=`` it is the cluster-robust sandwich of the per-group scores
    summed within clusters, times the ``small_sample`` factor (``"stata"``:
    ``G/(G-1)``); groups must be nested within clusters.  ``cluster=group``
    gives Stata's ``clogit ..., vce(robust)``.

    Groups whose outcome does not vary carry no information and are dropped
    (counted in ``n_dropped``; ``n_obs``/``n_groups`` refer to the rest).
    """
    check_on_error(on_error)
    cluster_factor(small_sample, 2, 10, 1)
    covariates = as_list(covariates)
    if not covariates:
        raise ValueError("at least one covariate is required")
    if len(set(covariates)) != len(covariates):
        raise ValueError(f"duplicated covariate names: {covariates}")
    sub, n_missing = listwise(df, [outcome, *covariates, group, cluster])
    y = binary_vector(sub[outcome], outcome)
    gcodes, glabels = pd.factorize(sub[group])
    # drop groups without outcome variation
    ng = len(glabels)
    gsum = np.bincount(gcodes, weights=y, minlength=ng)
    gsize = np.bincount(gcodes, minlength=ng)
    informative = (gsum > 0) & (gsum < gsize)
    keep = informative[gcodes]
    n_uninf_rows = int((~keep).sum())
    n_uninf_groups = int((~informative).sum())
    sub = sub.loc[keep]
    y = y[keep]
    gcodes, glabels = pd.factorize(sub[group])
    X = numeric_matrix(sub, covariates)
    n = len(sub)
    note = (
        f"note: {n_uninf_groups} group(s) ({n_uninf_rows} obs) dropped because of all positive or all negative outcomes"
        if n_uninf_groups
        else ""
    )
    ccodes, n_clusters = None, None
    if cluster is not None:
        ccodes, clabels = pd.factorize(sub[cluster])
        n_clusters = len(clabels)
        per_group = pd.Series(ccodes).groupby(gcodes).nunique()
        if (per_group > 1).any():
            raise ValueError(f"groups ({group!r}) must be nested within clusters ({cluster!r})")
    cov_type = "cluster" if cluster is not None else "model"
    base = dict(
        model="clogit",
        link="clogit",
        outcome=outcome,
        n_obs=n,
        n_dropped=n_missing + n_uninf_rows,
        n_clusters=n_clusters,
        n_groups=len(glabels),
        n_positive=int(y.sum()),
        small_sample=small_sample,
        cov_type=cov_type,
    )
    terms = list(covariates)

    def bad(status: str, msg: str) -> BinaryResult:
        if on_error == "raise":
            raise (NotEstimableError if status == STATUS_NOT_ESTIMABLE else EstimationError)(msg)
        params, cov = nan_result_frames(terms)
        msg = msg + ("; " + note if note else "")
        return BinaryResult(params=params, cov=cov, bse=params.rename("bse"), status=status, message=msg, **base)

    if n == 0:
        return bad(STATUS_NOT_ESTIMABLE, "no group with variation in the outcome")
    const = constant_columns(X, covariates)
    if const:
        return bad(STATUS_NOT_ESTIMABLE, f"constant covariate(s) with no variation in the estimation sample: {const}")
    gm = np.vstack([np.bincount(gcodes, weights=X[:, j]) for j in range(X.shape[1])]).T / np.bincount(gcodes)[:, None]
    Xw = X - gm[gcodes]
    scale = 1 + np.abs(X).max(axis=0)
    within_const = [c for c, v, s in zip(covariates, np.abs(Xw).max(axis=0), scale) if not v > 1e-12 * s]
    if within_const:
        return bad(STATUS_NOT_ESTIMABLE, f"covariate(s) constant within every group of {group!r}: {within_const}")
    coll = collinear_columns(Xw, covariates)
    if coll:
        return bad(STATUS_NOT_ESTIMABLE, describe_collinear(coll))

    data = _CLogitGroups(y, X, gcodes)

    def full(b):
        ll_g, s_g, inf = data.evaluate(b, hessian=True)
        return float(ll_g.sum()), s_g.sum(axis=0), inf

    def ll_only(b):
        return float(data.evaluate(b, hessian=False)[0].sum())

    with np.errstate(all="ignore"):
        beta, converged, iters, message = _newton_ml(full, ll_only, np.zeros(len(terms)), tol, max_iter)
        ll_g, score_g, info = data.evaluate(beta, hessian=True)
        ll0 = float(data.evaluate(np.zeros(len(terms)), hessian=False)[0].sum())
    ll = float(ll_g.sum())
    status = STATUS_OK if converged else STATUS_FAILED
    V = pd_inverse(info)
    if V is None:
        V = np.full((len(terms), len(terms)), np.nan)
        status = STATUS_FAILED
        message = (message + "; " if message else "") + "information matrix is singular at the estimates"
    else:
        drift = np.abs(V @ score_g.sum(axis=0)) > np.sqrt(tol) * (1 + np.abs(beta))
        if drift.any() or not converged:
            big = np.abs(beta) * Xw.std(axis=0) > 10
            if drift.any() or big.any():
                names = [t for t, d, b in zip(terms, drift, big) if d or b]
                status = STATUS_NOT_ESTIMABLE
                message = f"coefficient(s) {names} diverging: monotone likelihood / separation within groups"
                if on_error == "raise":
                    raise NotEstimableError(message)
    if ccodes is not None:
        # one cluster code per group (nested)
        gcl = np.zeros(data.S, dtype=np.int64)
        gcl[gcodes] = ccodes
        meat = cluster_meat(score_g, gcl, n_clusters)
        Vr = V @ meat @ V * cluster_factor(small_sample, n_clusters, n, len(terms))
        Vr = (Vr + Vr.T) / 2
    else:
        Vr = V
    idx = pd.Index(terms)
    if note:
        message = (message + "; " if message else "") + note
    return BinaryResult(
        params=pd.Series(beta, index=idx, name="estimate"),
        cov=pd.DataFrame(Vr, index=idx, columns=idx),
        bse=pd.Series(np.sqrt(np.diag(Vr)), index=idx, name="bse"),
        bse_model=pd.Series(np.sqrt(np.diag(V)), index=idx, name="bse_model"),
        cov_model=pd.DataFrame(V, index=idx, columns=idx),
        loglik=ll,
        loglik_null=ll0,
        pseudo_r2=1 - ll / ll0 if ll0 != 0 else np.nan,
        converged=converged,
        iterations=iters,
        status=status,
        message=message,
        **base,
    )

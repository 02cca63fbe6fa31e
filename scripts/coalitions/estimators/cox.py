"""Cox proportional hazards regression for counting-process ``(start, stop]`` data.

Written directly in numpy (Newton-Raphson on the partial likelihood):

* a record is at risk at time ``t`` iff ``start < t <= stop`` (as R's
  ``coxph(Surv(start, stop, event) ~ ...)`` and Stata's ``stcox`` after
  ``stset``); a record that *starts* at an event time is not at risk then;
* ties: ``"breslow"`` (Stata's default) or ``"efron"`` (R's default);
* variance: model-based (inverse information) and the cluster-robust sandwich
  of Lin & Wei (1989): ``V (sum_g U_g U_g') V`` where ``U_g`` is the sum of the
  score residuals of the records in cluster ``g``.  With ``stata_adjust=True``
  (default) it is multiplied by ``G / (G - 1)`` as Stata's ``stcox,
  vce(cluster ...)`` does; with ``stata_adjust=False`` it equals R's
  ``coxph(..., cluster = ...)`` robust variance;
* optional strata (separate baseline hazards).

Everything is vectorised: records are sorted once, risk-set sums are
differences of reverse cumulative sums over stop- and start-sorted records,
and per-record sums over event times are differences of cumulative sums.
There is no Python loop over records or over event times.

The baseline cumulative hazard (Breslow estimator) and survival curves at given
covariate profiles are available through :func:`baseline_cumulative_hazard`
and :func:`predict_survival`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

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
    numeric_matrix,
    pd_inverse,
)

__all__ = ["CoxResult", "fit_cox", "baseline_cumulative_hazard", "predict_survival"]

Ties = Literal["breslow", "efron"]


# --------------------------------------------------------------------------- #
# result
# --------------------------------------------------------------------------- #
@dataclass(kw_only=True, eq=False)
class CoxResult(ModelResult):
    """Result of :func:`fit_cox`.

    ``bse`` is the model-based standard error (inverse information);
    ``robust_bse`` the cluster-robust one (``None`` without ``cluster``/``robust``);
    ``cov`` is the covariance used for inference (robust if requested), and
    ``std_errors``/``z``/``pvalues``/``conf_int``/``tidy`` use it.
    """

    bse: pd.Series
    robust_bse: pd.Series | None = None
    cov_model: pd.DataFrame | None = None
    ties: str = "breslow"
    stata_adjust: bool = True
    covariates: list[str] = field(default_factory=list)
    strata: str | None = None
    #: covariate means used to centre the linear predictor internally
    center: pd.Series | None = None
    #: per event time (and stratum): n_risk, n_events and the baseline hazard
    #: increments at the covariate means (``dhaz_breslow``, ``dhaz_efron``)
    baseline_data: pd.DataFrame | None = None
    score: np.ndarray | None = None
    #: covariates whose coefficients diverge (monotone likelihood / separation), if any
    infinite_terms: list[str] = field(default_factory=list)

    @property
    def hazard_ratios(self) -> pd.Series:
        return np.exp(self.params).rename("hazard_ratio")

    def hazard_ratio_conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        return np.exp(self.conf_int(alpha))

    def _tidy_extra(self) -> dict[str, pd.Series]:
        return {"hazard_ratio": self.hazard_ratios.to_numpy(dtype=float)}

    def _glance_extra(self) -> dict[str, object]:
        return {"ties": self.ties, "stata_adjust": self.stata_adjust}

    def baseline_cumulative_hazard(self, **kwargs) -> pd.DataFrame:
        return baseline_cumulative_hazard(self, **kwargs)

    def predict_survival(self, covariate_values, times, **kwargs) -> pd.DataFrame:
        return predict_survival(self, covariate_values, times, **kwargs)


# --------------------------------------------------------------------------- #
# the vectorised risk-set engine
# --------------------------------------------------------------------------- #
class _RiskSets:
    """Index structures for (start, stop] data, built once per fit.

    Times are replaced by integer ranks on the union of start and stop times
    and combined with the stratum code into one int64 key
    ``stratum * K + rank``.  For an event time with key ``e`` the risk set is
    ``{i : key_stop_i >= e} minus {i : key_start_i >= e}`` (records of later
    strata appear in both and cancel; records of the same stratum that start at
    or after the event time are removed), i.e. ``start < t <= stop`` within the
    stratum.
    """

    def __init__(self, start: np.ndarray, stop: np.ndarray, dead: np.ndarray, strata: np.ndarray, efron: bool):
        n = stop.shape[0]
        self.n = n
        times = np.unique(np.concatenate([start, stop]))
        K = np.int64(times.shape[0] + 1)
        g = strata.astype(np.int64)
        key_s = g * K + np.searchsorted(times, start).astype(np.int64)
        key_t = g * K + np.searchsorted(times, stop).astype(np.int64)

        dead_idx = np.flatnonzero(dead)
        ev_keys, inv, counts = np.unique(key_t[dead_idx], return_inverse=True, return_counts=True)
        order = np.argsort(inv, kind="stable")
        self.dead = dead_idx[order]  # deaths grouped by event time
        self.dead_j = inv[order]  # event-time index of each death
        self.m = ev_keys.shape[0]
        self.n_dead = counts  # d_j
        self.j_starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.intp)
        k = np.arange(self.dead.shape[0]) - np.repeat(self.j_starts, counts)
        self.frac = (k / counts[self.dead_j]) if efron else np.zeros(self.dead.shape[0])
        self.is_dead = np.zeros(n, dtype=bool)
        self.is_dead[self.dead] = True

        self.ord_t = np.argsort(key_t, kind="stable")
        self.ord_s = np.argsort(key_s, kind="stable")
        self.lo_t = np.searchsorted(key_t[self.ord_t], ev_keys, side="left")
        self.lo_s = np.searchsorted(key_s[self.ord_s], ev_keys, side="left")
        # per record: number of event keys <= its stop / start key
        self.idx_t = np.searchsorted(ev_keys, key_t, side="right")
        self.idx_s = np.searchsorted(ev_keys, key_s, side="right")

        self.ev_stratum = (ev_keys // K).astype(np.int64)
        self.ev_time = times[(ev_keys % K).astype(np.intp)]
        self.strata = g
        self.n_strata = int(g.max()) + 1 if n else 1

    def shifts(self, eta: np.ndarray) -> np.ndarray:
        """Per-record shift = max of eta within the record's stratum.  The
        partial likelihood, score, information and residuals are invariant to
        stratum-specific shifts; this keeps exp() in range and keeps strata of
        very different risk levels from swamping each other in the cumulative
        sums."""
        if self.n_strata == 1:
            return np.full(eta.shape[0], eta.max())
        m = np.full(self.n_strata, -np.inf)
        np.maximum.at(m, self.strata, eta)
        return m[self.strata]

    # sums over the risk set of each event time: (n, q) -> (m, q)
    def risk_sum(self, F: np.ndarray) -> np.ndarray:
        n = self.n
        shape = (n + 1,) + F.shape[1:]
        ct = np.zeros(shape)
        ct[:n] = np.cumsum(F[self.ord_t][::-1], axis=0)[::-1]
        cs = np.zeros(shape)
        cs[:n] = np.cumsum(F[self.ord_s][::-1], axis=0)[::-1]
        return ct[self.lo_t] - cs[self.lo_s]

    # per record, sum of h_j over event times j in (start_i, stop_i]: (m, q) -> (n, q)
    def record_sum(self, h: np.ndarray) -> np.ndarray:
        C = np.zeros((self.m + 1,) + h.shape[1:])
        C[1:] = np.cumsum(h, axis=0)
        return C[self.idx_t] - C[self.idx_s]

    def per_time(self, v: np.ndarray) -> np.ndarray:
        """Sum death-level values (ordered like ``self.dead``) within event times."""
        return np.add.reduceat(v, self.j_starts, axis=0)


@dataclass
class _Eval:
    loglik: float
    score: np.ndarray
    info: np.ndarray
    r: np.ndarray | None = None
    shift: np.ndarray | None = None
    xbar: np.ndarray | None = None
    inv_den: np.ndarray | None = None
    w: np.ndarray | None = None
    S0: np.ndarray | None = None


def _evaluate(rs: _RiskSets, X: np.ndarray, beta: np.ndarray, keep: bool = False) -> _Eval:
    """Partial log-likelihood, score and information at ``beta``."""
    n, p = X.shape
    eta = X @ beta
    shift = rs.shifts(eta)
    eta = eta - shift  # the partial likelihood is invariant to (per-stratum) shifts
    with np.errstate(over="ignore", under="ignore"):
        r = np.exp(eta)
    F = np.empty((n, p + 1))
    F[:, 0] = r
    F[:, 1:] = r[:, None] * X
    RS = rs.risk_sum(F)
    dead, dj, frac = rs.dead, rs.dead_j, rs.frac
    Fd = rs.per_time(F[dead])
    den = RS[dj, 0] - frac * Fd[dj, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        inv_den = 1.0 / den
        xbar = (RS[dj, 1:] - frac[:, None] * Fd[dj, 1:]) * inv_den[:, None]
        loglik = float(eta[dead].sum() - np.log(den).sum())
    score = X[dead].sum(axis=0) - xbar.sum(axis=0)
    a = rs.per_time(inv_den)
    c = rs.per_time(frac * inv_den)
    w = r * rs.record_sum(a)
    w[dead] -= r[dead] * c[dj]
    info = (X * w[:, None]).T @ X - xbar.T @ xbar
    info = (info + info.T) / 2.0
    ev = _Eval(loglik=loglik, score=score, info=info)
    if keep:
        ev.r, ev.shift, ev.xbar, ev.inv_den, ev.w, ev.S0 = r, shift, xbar, inv_den, w, RS[:, 0]
    return ev


def _score_residuals(rs: _RiskSets, X: np.ndarray, ev: _Eval) -> np.ndarray:
    """Score residuals (Lin & Wei; Efron-adjusted for ``ties='efron'``), (n, p).

    ``U_i = d_i (x_i - xbar_i) - sum_{j: i at risk} r_i (x_i - xbar_j) dLambda_j``;
    their column sums equal the score vector.
    """
    dead, dj, frac = rs.dead, rs.dead_j, rs.frac
    r, xbar, inv_den, w = ev.r, ev.xbar, ev.inv_den, ev.w
    b = rs.per_time(xbar * inv_den[:, None])
    e = rs.per_time(xbar * (frac * inv_den)[:, None])
    mbar = rs.per_time(xbar) / rs.n_dead[:, None]
    resid = r[:, None] * rs.record_sum(b) - w[:, None] * X
    resid[dead] -= r[dead][:, None] * e[dj]
    resid[dead] += X[dead] - mbar[dj]
    return resid


# --------------------------------------------------------------------------- #
# fitting
# --------------------------------------------------------------------------- #
def _newton(rs, X, beta0, tol, max_iter):
    """Newton-Raphson with step halving.  Returns (beta, eval, iterations,
    converged, message, ll_null)."""
    beta = beta0.copy()
    cur = _evaluate(rs, X, beta)
    ll_null = cur.loglik
    if not np.isfinite(cur.loglik):
        return beta, cur, 0, False, "non-finite log-likelihood at the starting values", ll_null
    converged = False
    message = ""
    it = 0
    for it in range(1, max_iter + 1):
        Vinv = pd_inverse(cur.info)
        if Vinv is None:
            return beta, cur, it, False, "information matrix is singular during iterations", ll_null
        step = Vinv @ cur.score
        new_beta = beta + step
        new = _evaluate(rs, X, new_beta)
        halvings = 0
        while (not np.isfinite(new.loglik) or new.loglik < cur.loglik - 1e-12 * abs(cur.loglik)) and halvings < 30:
            step = step / 2.0
            new_beta = beta + step
            new = _evaluate(rs, X, new_beta)
            halvings += 1
        if not np.isfinite(new.loglik):
            return beta, cur, it, False, "log-likelihood became non-finite (overflow)", ll_null
        rel = abs(new.loglik - cur.loglik) / max(abs(new.loglik), 1e-300)
        beta, cur = new_beta, new
        if rel <= tol or np.max(np.abs(step)) <= tol * (1.0 + np.max(np.abs(beta))):
            converged = True
            break
    if not converged:
        message = f"did not converge in {max_iter} iterations"
        return beta, cur, it, converged, message, ll_null
    # polish: one more Newton step (cheap, makes the result essentially exact)
    Vinv = pd_inverse(cur.info)
    if Vinv is not None:
        step = Vinv @ cur.score
        small = np.all(np.abs(step) <= np.sqrt(tol) * (1.0 + np.abs(beta)))
        if small:
            nb = beta + step
            ne = _evaluate(rs, X, nb)
            if np.isfinite(ne.loglik) and ne.loglik >= cur.loglik - 1e-10 * abs(cur.loglik):
                beta, cur = nb, ne
    return beta, cur, it, converged, message, ll_null


def fit_cox(
    df: pd.DataFrame,
    *,
    start: str | None,
    stop: str,
    event: str,
    covariates: Sequence[str],
    cluster: str | None = None,
    ties: Ties = "breslow",
    stata_adjust: bool = True,
    tol: float = 1e-9,
    max_iter: int = 50,
    subject: str | None = None,
    strata: str | None = None,
    robust: bool = False,
    on_error: OnError = "raise",
) -> CoxResult:
    """Fit a Cox model on counting-process data ``(start, stop]``.

    Parameters
    ----------
    df : DataFrame, one row per record (spell).
    start, stop : column names of the interval; ``start=None`` means every
        record is at risk from the origin (ordinary right-censored data).
        ``stop > start`` is required.
    event : 0/1 (or boolean) column, 1 = failure at ``stop``.
    covariates : covariate columns (numeric or boolean).
    cluster : column to cluster the robust sandwich on (e.g. subject id).
    ties : ``"breslow"`` (default, Stata's default) or ``"efron"`` (R's default).
    stata_adjust : multiply the robust variance by ``G/(G-1)`` (Stata);
        ``False`` reproduces R's ``coxph(..., cluster=)``.
    tol : convergence tolerance on the relative change of the log partial
        likelihood (as R's ``coxph.control(eps=)``).
    max_iter : maximum Newton-Raphson iterations.
    subject : optional subject-id column, only used to report ``n_subjects``.
    strata : optional column; separate baseline hazard per stratum.
    robust : robust variance without ``cluster`` = each record its own cluster
        (R's ``robust=TRUE``).
    on_error : ``"raise"`` (default) raises :class:`NotEstimableError` when the
        data cannot identify the model (no events, constant or collinear
        covariates, singular information); ``"status"`` returns a result with
        ``status="not_estimable"`` and a message instead.  Non-convergence and
        suspected infinite coefficients never raise: they are reported in
        ``status``/``message``/``converged``.

    Rows with a missing value in any used column are dropped (``n_dropped``).
    """
    check_on_error(on_error)
    if ties not in ("breslow", "efron"):
        raise ValueError(f"ties must be 'breslow' or 'efron', not {ties!r}")
    covariates = as_list(covariates)
    if not covariates:
        raise ValueError("at least one covariate is required")
    if len(set(covariates)) != len(covariates):
        raise ValueError(f"duplicated covariate names: {covariates}")
    if not (tol > 0):
        raise ValueError("tol must be > 0")

    sub, n_dropped = listwise(df, [start, stop, event, *covariates, cluster, strata, subject])
    n = len(sub)
    stop_v = sub[stop].to_numpy(dtype=float)
    start_v = sub[start].to_numpy(dtype=float) if start is not None else np.full(n, -np.inf)
    bad = ~(stop_v > start_v)
    if bad.any():
        raise ValueError(f"stop must be > start for every record; {int(bad.sum())} record(s) violate this")
    dead = binary_vector(sub[event], event).astype(bool)
    X = numeric_matrix(sub, covariates)
    if strata is not None:
        scodes, slabels = pd.factorize(sub[strata], sort=True)
    else:
        scodes, slabels = np.zeros(n, dtype=np.int64), pd.Index([None])

    ccodes = None
    n_clusters = None
    if cluster is not None:
        ccodes, clabels = pd.factorize(sub[cluster])
        n_clusters = len(clabels)
    elif robust:
        ccodes = np.arange(n)
        n_clusters = n
    n_subjects = int(sub[subject].nunique()) if subject is not None else None
    n_fail = int(dead.sum())

    base_kwargs = dict(
        model="cox",
        n_obs=n,
        n_dropped=n_dropped,
        n_subjects=n_subjects,
        n_failures=n_fail,
        n_clusters=n_clusters,
        ties=ties,
        stata_adjust=stata_adjust,
        covariates=list(covariates),
        strata=strata,
    )
    cov_type = "cluster" if cluster is not None else ("robust" if robust else "model")

    def not_estimable(msg: str) -> CoxResult:
        if on_error == "raise":
            raise NotEstimableError(msg)
        params, cov = nan_result_frames(covariates)
        return CoxResult(
            params=params,
            cov=cov,
            bse=params.rename("bse"),
            cov_type=cov_type,
            status=STATUS_NOT_ESTIMABLE,
            message=msg,
            converged=False,
            **base_kwargs,
        )

    # ---------------- identification checks ----------------
    if n_fail == 0:
        return not_estimable(
            f"no events: {event!r} is 0 for all {n} records in the estimation sample (after dropping {n_dropped} with missing values)"
        )
    const = constant_columns(X, covariates)
    if const:
        return not_estimable(f"constant covariate(s) with no variation in the estimation sample: {const}")
    center = X.mean(axis=0)
    Xc = X - center
    if strata is not None:
        # within-stratum variation is what identifies the coefficients
        cnt = np.bincount(scodes)
        gm = np.vstack([np.bincount(scodes, weights=Xc[:, j]) for j in range(Xc.shape[1])]).T / cnt[:, None]
        Xw = Xc - gm[scodes]
        const_w = [c for c, v in zip(covariates, np.ptp(Xw, axis=0)) if not v > 1e-12 * (1 + np.ptp(X, axis=0).max())]
        if const_w:
            return not_estimable(f"covariate(s) constant within every stratum of {strata!r}: {const_w}")
    else:
        Xw = Xc
    coll = collinear_columns(Xw, covariates)
    if coll:
        return not_estimable(describe_collinear(coll))

    # ---------------- fit ----------------
    rs = _RiskSets(start_v, stop_v, dead, scodes, efron=(ties == "efron"))
    p = len(covariates)
    ev0 = _evaluate(rs, Xc, np.zeros(p))
    if pd_inverse(ev0.info) is None:
        return not_estimable(
            "information matrix is singular at beta = 0: some covariate(s) do not vary within the risk sets of the event times"
        )
    beta, ev, iters, converged, message, ll_null = _newton(rs, Xc, np.zeros(p), tol, max_iter)
    ev = _evaluate(rs, Xc, beta, keep=True)

    status = STATUS_OK if converged else STATUS_FAILED
    infinite_terms: list[str] = []
    V = pd_inverse(ev.info)
    if V is None:
        V = np.full((p, p), np.nan)
        status = STATUS_FAILED
        message = (message + "; " if message else "") + "information matrix is singular at the estimates"
    elif converged:
        # R's check for coefficients that are still drifting ("loglik converged
        # before variable ...; beta may be infinite")
        nxt = np.abs(V @ ev.score)
        infs = (nxt > np.sqrt(tol)) & (nxt > np.sqrt(tol) * (1 + np.abs(beta)))
        if infs.any():
            status = STATUS_NOT_ESTIMABLE
            names = [c for c, f in zip(covariates, infs) if f]
            infinite_terms = names
            message = (
                f"log-likelihood converged before coefficient(s) {names}; they may be infinite "
                "(monotone likelihood / separation)"
            )

    robust_V = None
    if ccodes is not None and np.all(np.isfinite(V)):
        resid = _score_residuals(rs, Xc, ev)
        meat = cluster_meat(resid, ccodes, n_clusters)
        robust_V = V @ meat @ V
        if stata_adjust:
            if n_clusters > 1:
                robust_V = robust_V * (n_clusters / (n_clusters - 1.0))
            else:
                robust_V = robust_V * np.nan
        robust_V = (robust_V + robust_V.T) / 2.0
    elif ccodes is not None:
        robust_V = np.full((p, p), np.nan)

    idx = pd.Index(covariates)
    params = pd.Series(beta, index=idx, name="estimate")
    cov_model = pd.DataFrame(V, index=idx, columns=idx)
    bse = pd.Series(np.sqrt(np.diag(V)), index=idx, name="bse")
    rob_bse = None
    cov = cov_model
    if robust_V is not None:
        cov = pd.DataFrame(robust_V, index=idx, columns=idx)
        rob_bse = pd.Series(np.sqrt(np.diag(robust_V)), index=idx, name="robust_bse")

    # baseline hazard increments at the covariate means (undo the per-stratum shift)
    ev_shift = np.full(rs.n_strata, np.nan)
    ev_shift[rs.strata] = ev.shift
    scale = np.exp(-ev_shift[rs.ev_stratum])
    with np.errstate(over="ignore", divide="ignore"):
        dh_breslow = rs.n_dead * scale / ev.S0
        dh_efron = rs.per_time(ev.inv_den) * scale
    n_risk = rs.risk_sum(np.ones(n))
    baseline = pd.DataFrame(
        {
            "stratum": np.asarray(slabels)[rs.ev_stratum] if strata is not None else None,
            "time": rs.ev_time,
            "n_risk": n_risk.astype(np.int64),
            "n_events": rs.n_dead.astype(np.int64),
            "dhaz_breslow": dh_breslow,
            "dhaz_efron": dh_efron,
        }
    )

    return CoxResult(
        params=params,
        cov=cov,
        bse=bse,
        robust_bse=rob_bse,
        cov_model=cov_model,
        cov_type=cov_type,
        loglik=ev.loglik,
        loglik_null=ll_null,
        converged=converged,
        iterations=iters,
        status=status,
        message=message,
        center=pd.Series(center, index=idx),
        baseline_data=baseline,
        score=ev.score,
        infinite_terms=infinite_terms,
        **base_kwargs,
    )


# --------------------------------------------------------------------------- #
# baseline hazard and survival curves
# --------------------------------------------------------------------------- #
def _require_fitted(result: CoxResult) -> None:
    if result.baseline_data is None or result.status == STATUS_NOT_ESTIMABLE and result.params.isna().all():
        raise EstimationError(f"no fitted model to predict from (status={result.status!r}: {result.message})")


def baseline_cumulative_hazard(
    result: CoxResult,
    *,
    centered: bool = False,
    method: Literal["breslow", "efron"] = "breslow",
) -> pd.DataFrame:
    """Baseline cumulative hazard at the event times.

    ``method="breslow"`` is the Breslow (1972) estimator
    ``dH_j = d_j / sum_{risk set} exp(x beta)`` (R's ``survfit`` with
    ``ctype=1``, its default after ``ties="breslow"``); ``"efron"`` is the
    Efron-adjusted increment (R's ``ctype=2``, its default after
    ``ties="efron"``).  ``centered=False`` gives the hazard at all covariates
    = 0 (R's ``basehaz(fit, centered=FALSE)``); ``centered=True`` at the
    covariate means of the estimation sample.

    Returns columns ``[stratum,] time, n_risk, n_events, hazard, cumhaz``.
    """
    _require_fitted(result)
    if method not in ("breslow", "efron"):
        raise ValueError("method must be 'breslow' or 'efron'")
    bd = result.baseline_data
    dh = bd[f"dhaz_{method}"].to_numpy()
    if not centered:
        dh = dh * float(np.exp(-(result.center * result.params).sum()))
    out = bd[["stratum", "time", "n_risk", "n_events"]].copy()
    out["hazard"] = dh
    if result.strata is None:
        out = out.drop(columns="stratum")
        out["cumhaz"] = np.cumsum(dh)
    else:
        out["cumhaz"] = pd.Series(dh, index=out.index).groupby(out["stratum"].to_numpy()).cumsum().to_numpy()
    return out.reset_index(drop=True)


def _profiles(result: CoxResult, covariate_values) -> pd.DataFrame:
    covs = result.covariates
    if isinstance(covariate_values, pd.DataFrame):
        prof = covariate_values
    elif isinstance(covariate_values, pd.Series):
        prof = covariate_values.to_frame().T
    elif isinstance(covariate_values, Mapping):
        vals = {k: np.atleast_1d(v) for k, v in covariate_values.items()}
        prof = pd.DataFrame(vals)
    else:
        arr = np.atleast_2d(np.asarray(covariate_values, dtype=float))
        prof = pd.DataFrame(arr, columns=covs)
    missing = [c for c in covs if c not in prof.columns]
    if missing:
        raise KeyError(f"covariate_values lacks covariate(s) {missing}")
    return prof


def predict_survival(
    result: CoxResult,
    covariate_values,
    times: Sequence[float] | np.ndarray,
    *,
    stratum=None,
    method: Literal["breslow", "efron"] = "breslow",
) -> pd.DataFrame:
    """Survival probabilities ``S(t | x) = exp(-H0(t) exp(x beta))``.

    ``covariate_values``: DataFrame (one row per profile, columns = covariates),
    a Series / dict for a single profile, or an array (profiles x covariates).
    ``times``: times at which to evaluate (step function, right-continuous;
    ``S = 1`` before the first event time).  For a stratified model give the
    ``stratum`` label.  Returns a DataFrame indexed by time with one column per
    profile (labelled by the profile index).

    Note this is the survival of a subject who keeps covariates ``x`` over the
    whole time axis and is at risk from the origin.
    """
    _require_fitted(result)
    prof = _profiles(result, covariate_values)
    bh = baseline_cumulative_hazard(result, centered=True, method=method)
    if result.strata is not None:
        if stratum is None:
            raise ValueError(f"stratified model: give stratum= (one of {sorted(bh['stratum'].unique().tolist())})")
        bh = bh[bh["stratum"] == stratum]
        if bh.empty:
            raise KeyError(f"unknown stratum {stratum!r}")
    times = np.asarray(times, dtype=float)
    ev_t = bh["time"].to_numpy()
    H = np.concatenate([[0.0], bh["cumhaz"].to_numpy()])
    Ht = H[np.searchsorted(ev_t, times, side="right")]
    Xp = prof[result.covariates].to_numpy(dtype=float)
    lp = (Xp - result.center.to_numpy()) @ result.params.to_numpy()
    S = np.exp(-np.outer(Ht, np.exp(lp)))
    return pd.DataFrame(S, index=pd.Index(times, name="time"), columns=prof.index)

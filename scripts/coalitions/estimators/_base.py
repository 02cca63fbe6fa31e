"""Shared pieces of :mod:`coalitions.estimators`.

* the status vocabulary (``"ok"``, ``"not_estimable"``, ``"failed"``),
* the exceptions raised for models that cannot be estimated,
* :class:`ModelResult`, the common result dataclass with ``tidy()`` / ``glance()``,
* small data-preparation helpers (listwise deletion, design checks).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import special


def _norm_sf(x):
    """Upper tail of the standard normal (scipy.special, not the slower-to-import scipy.stats)."""
    return special.ndtr(-np.asarray(x, dtype=float))


def _norm_pdf(x):
    x = np.asarray(x, dtype=float)
    return np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi)

__all__ = [
    "STATUS_OK",
    "STATUS_NOT_ESTIMABLE",
    "STATUS_FAILED",
    "STATUSES",
    "Status",
    "EstimationError",
    "NotEstimableError",
    "ModelResult",
]

# --------------------------------------------------------------------------- #
# status vocabulary
# --------------------------------------------------------------------------- #
STATUS_OK = "ok"
#: the data do not identify the model (no events, constant or collinear
#: covariates, perfect separation / monotone likelihood, ...)
STATUS_NOT_ESTIMABLE = "not_estimable"
#: the data looked fine but the numerical fit did not work (non-convergence,
#: singular information at the optimum, overflow, ...)
STATUS_FAILED = "failed"
STATUSES = (STATUS_OK, STATUS_NOT_ESTIMABLE, STATUS_FAILED)
Status = Literal["ok", "not_estimable", "failed"]

OnError = Literal["raise", "status"]


class EstimationError(ValueError):
    """A model could not be estimated.  ``.status`` is one of :data:`STATUSES`."""

    status: str = STATUS_FAILED


class NotEstimableError(EstimationError):
    """The data do not identify the model (constant/collinear covariates, no
    events, separation, ...)."""

    status: str = STATUS_NOT_ESTIMABLE


# --------------------------------------------------------------------------- #
# result container
# --------------------------------------------------------------------------- #
@dataclass(kw_only=True, eq=False)
class ModelResult:
    """Common base of all estimator results.

    ``params`` and ``cov`` are labelled by term.  ``cov`` is *the covariance
    used for inference* (cluster-robust when a cluster variable was given);
    ``std_errors``, ``z``, ``pvalues``, ``conf_int`` and ``tidy`` derive from it.
    """

    model: str
    params: pd.Series
    cov: pd.DataFrame
    cov_type: str = "model"
    loglik: float = float("nan")
    loglik_null: float = float("nan")
    n_obs: int = 0
    n_dropped: int = 0
    n_subjects: int | None = None
    n_failures: int | None = None
    n_clusters: int | None = None
    converged: bool = False
    iterations: int = 0
    status: str = STATUS_OK
    message: str = ""

    # ------------------------------------------------------------------ #
    @property
    def terms(self) -> list[str]:
        return list(self.params.index)

    @property
    def ok(self) -> bool:
        return self.status == STATUS_OK

    @property
    def std_errors(self) -> pd.Series:
        """Standard errors used for inference: ``sqrt(diag(cov))``."""
        d = np.diag(np.asarray(self.cov, dtype=float)).copy()
        with np.errstate(invalid="ignore"):
            se = np.sqrt(np.where(d >= 0, d, np.nan))
        return pd.Series(se, index=self.params.index, name="std_error")

    @property
    def z(self) -> pd.Series:
        with np.errstate(divide="ignore", invalid="ignore"):
            return (self.params / self.std_errors).rename("z")

    @property
    def pvalues(self) -> pd.Series:
        z = self.z.to_numpy(dtype=float)
        return pd.Series(2.0 * _norm_sf(np.abs(z)), index=self.params.index, name="p_value")

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Wald confidence intervals (normal quantiles) on the coefficient scale."""
        q = special.ndtri(1.0 - alpha / 2.0)
        se = self.std_errors
        return pd.DataFrame(
            {"lower": self.params - q * se, "upper": self.params + q * se},
            index=self.params.index,
        )

    @property
    def lr_stat(self) -> float:
        """Likelihood-ratio statistic against the null model (2 * (ll - ll0))."""
        return 2.0 * (self.loglik - self.loglik_null)

    # ------------------------------------------------------------------ #
    def _tidy_extra(self) -> dict[str, pd.Series]:
        return {}

    def tidy(self, alpha: float = 0.05) -> pd.DataFrame:
        """One row per term: term, estimate, std_error, statistic, p_value,
        conf_low, conf_high (+ model-specific columns)."""
        ci = self.conf_int(alpha)
        out = pd.DataFrame(
            {
                "term": self.params.index.astype(str),
                "estimate": self.params.to_numpy(dtype=float),
                "std_error": self.std_errors.to_numpy(dtype=float),
                "statistic": self.z.to_numpy(dtype=float),
                "p_value": self.pvalues.to_numpy(dtype=float),
                "conf_low": ci["lower"].to_numpy(dtype=float),
                "conf_high": ci["upper"].to_numpy(dtype=float),
            }
        )
        for k, v in self._tidy_extra().items():
            out[k] = np.asarray(v, dtype=float)
        return out

    def _glance_extra(self) -> dict[str, object]:
        return {}

    def glance(self) -> pd.DataFrame:
        """One-row model summary."""
        row: dict[str, object] = {
            "model": self.model,
            "n_obs": self.n_obs,
            "n_dropped": self.n_dropped,
            "n_subjects": self.n_subjects,
            "n_failures": self.n_failures,
            "n_clusters": self.n_clusters,
            "loglik": self.loglik,
            "loglik_null": self.loglik_null,
            "lr_stat": self.lr_stat,
            "df_model": int(len(self.params)),
            "converged": bool(self.converged),
            "iterations": int(self.iterations),
            "cov_type": self.cov_type,
            "status": self.status,
            "message": self.message,
        }
        row.update(self._glance_extra())
        return pd.DataFrame([row])


# --------------------------------------------------------------------------- #
# helpers
# --------------------------------------------------------------------------- #
def check_on_error(on_error: str) -> None:
    if on_error not in ("raise", "status"):
        raise ValueError(f"on_error must be 'raise' or 'status', not {on_error!r}")


def as_list(cols: str | Sequence[str] | None) -> list[str]:
    if cols is None:
        return []
    if isinstance(cols, str):
        return [cols]
    return list(cols)


def listwise(df: pd.DataFrame, columns: Sequence[str | None]) -> tuple[pd.DataFrame, int]:
    """Keep ``columns`` (deduplicated, ``None`` skipped) and drop rows with a
    missing value in any of them.  Returns (sub-frame, number of rows dropped)."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"df must be a pandas DataFrame, not {type(df).__name__}")
    cols: list[str] = []
    for c in columns:
        if c is not None and c not in cols:
            cols.append(c)
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise KeyError(f"column(s) not in data: {missing}")
    sub = df.loc[:, cols]
    keep = sub.notna().all(axis=1).to_numpy()
    # infinite values count as missing for numeric columns
    for c in cols:
        s = sub[c]
        if pd.api.types.is_float_dtype(s.dtype):
            keep &= np.isfinite(s.to_numpy(dtype=float, na_value=np.nan))
    n_dropped = int((~keep).sum())
    if n_dropped:
        sub = sub.loc[keep]
    return sub, n_dropped


def numeric_matrix(sub: pd.DataFrame, covariates: Sequence[str]) -> np.ndarray:
    """Covariate columns as a float (n, p) array; booleans become 0/1."""
    bad = [
        c
        for c in covariates
        if not (pd.api.types.is_numeric_dtype(sub[c].dtype) or pd.api.types.is_bool_dtype(sub[c].dtype))
    ]
    if bad:
        raise TypeError(f"covariate(s) must be numeric or boolean, got non-numeric column(s): {bad}")
    if not covariates:
        return np.empty((len(sub), 0))
    return np.column_stack([sub[c].to_numpy(dtype=float) for c in covariates])


def binary_vector(s: pd.Series, name: str) -> np.ndarray:
    """A 0/1 (or boolean) column as a float array; anything else is a ValueError."""
    v = s.to_numpy(dtype=float)
    if not np.all((v == 0.0) | (v == 1.0)):
        bad = np.unique(v[(v != 0.0) & (v != 1.0)])[:5]
        raise ValueError(f"{name!r} must be coded 0/1 (or boolean); found values such as {bad.tolist()}")
    return v


def constant_columns(X: np.ndarray, names: Sequence[str]) -> list[str]:
    if X.shape[0] == 0:
        return list(names)
    ptp = np.ptp(X, axis=0) if X.shape[1] else np.array([])
    return [n for n, r in zip(names, ptp) if not r > 0]


def collinear_columns(X: np.ndarray, names: Sequence[str], tol: float = 1e-7) -> list[tuple[str, list[str]]]:
    """Find covariates that are (numerically) linear combinations of earlier ones.

    ``X`` should already be centred (or contain the intercept column).  Columns
    are scanned left to right, as R's ``lm``/``coxph`` and Stata do, so the
    *later* of two collinear columns is the one reported.  Returns a list of
    ``(column, [columns it is a combination of])``.
    """
    n, p = X.shape
    if p == 0:
        return []
    scale = np.sqrt((X**2).sum(axis=0))
    scale[scale == 0] = 1.0
    Z = X / scale
    # |R_jj| of a QR decomposition is the norm of column j's residual on the columns before it, which is
    # what the scan below computes column by column: where every one is clearly above the tolerance no
    # column is collinear (the usual case, one decomposition instead of p least-squares fits)
    if n >= p and np.all(np.isfinite(Z)):
        diag = np.abs(np.diag(np.linalg.qr(Z, mode="r")))
        if diag.size == p and np.all(diag > 100 * tol):
            return []
    kept: list[int] = []
    out: list[tuple[str, list[str]]] = []
    for j in range(p):
        if not kept:
            if np.sqrt((Z[:, j] ** 2).sum()) < tol:
                out.append((names[j], []))
            else:
                kept.append(j)
            continue
        A = Z[:, kept]
        coef, *_ = np.linalg.lstsq(A, Z[:, j], rcond=None)
        resid = Z[:, j] - A @ coef
        if np.sqrt((resid**2).sum()) < tol:
            involved = [names[k] for k, c in zip(kept, coef) if abs(c) > 1e-6]
            out.append((names[j], involved))
        else:
            kept.append(j)
    return out


def describe_collinear(coll: list[tuple[str, list[str]]]) -> str:
    parts = []
    for col, inv in coll:
        if inv:
            parts.append(f"{col!r} is a linear combination of {inv}")
        else:
            parts.append(f"{col!r} has no usable variation")
    return "collinear covariates: " + "; ".join(parts)


def pd_inverse(A: np.ndarray) -> np.ndarray | None:
    """Inverse of a symmetric positive-definite matrix via Cholesky; ``None``
    if it is not (numerically) positive definite."""
    try:
        L = np.linalg.cholesky(A)
    except np.linalg.LinAlgError:
        return None
    Linv = np.linalg.solve(L, np.eye(A.shape[0]))
    inv = Linv.T @ Linv
    return (inv + inv.T) / 2.0


def cluster_meat(scores: np.ndarray, cluster_codes: np.ndarray, n_clusters: int) -> np.ndarray:
    """sum over clusters of outer(sum of scores within cluster)."""
    p = scores.shape[1]
    sums = np.zeros((n_clusters, p))
    np.add.at(sums, cluster_codes, scores)
    return sums.T @ sums


def nan_result_frames(terms: Sequence[str]) -> tuple[pd.Series, pd.DataFrame]:
    k = len(terms)
    params = pd.Series(np.full(k, np.nan), index=list(terms), name="estimate")
    cov = pd.DataFrame(np.full((k, k), np.nan), index=list(terms), columns=list(terms))
    return params, cov

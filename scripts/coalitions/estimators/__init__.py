"""Estimators for the coalitions replication workflow.

>>> from coalitions.estimators import fit_cox, fit_logit, fit_probit, fit_clogit

* :func:`fit_cox` -- Cox PH on counting-process ``(start, stop]`` data,
  Breslow/Efron ties, model-based and cluster-robust (Lin-Wei) variance with
  Stata's ``G/(G-1)`` factor; :func:`baseline_cumulative_hazard`,
  :func:`predict_survival`.
* :func:`fit_logit`, :func:`fit_probit` -- with Stata-style cluster-robust
  SEs and average marginal effects (delta method).
* :func:`fit_clogit` -- exact conditional (fixed-effects) logit.

All results derive from :class:`ModelResult` (``.tidy()``, ``.glance()``,
``.conf_int()``) and carry a ``status`` from :data:`STATUSES`:
``"ok"``, ``"not_estimable"`` (the data do not identify the model; see
``message``) or ``"failed"`` (numerical failure, e.g. non-convergence).
"""

from ._base import (
    STATUS_FAILED,
    STATUS_NOT_ESTIMABLE,
    STATUS_OK,
    STATUSES,
    EstimationError,
    ModelResult,
    NotEstimableError,
)
from .binary import BinaryResult, cluster_factor, fit_clogit, fit_logit, fit_probit
from .cox import CoxResult, baseline_cumulative_hazard, fit_cox, predict_survival

__all__ = [
    "fit_cox",
    "fit_logit",
    "fit_probit",
    "fit_clogit",
    "baseline_cumulative_hazard",
    "predict_survival",
    "cluster_factor",
    "ModelResult",
    "CoxResult",
    "BinaryResult",
    "EstimationError",
    "NotEstimableError",
    "STATUS_OK",
    "STATUS_NOT_ESTIMABLE",
    "STATUS_FAILED",
    "STATUSES",
]

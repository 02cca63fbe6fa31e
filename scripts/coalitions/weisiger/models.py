"""Run Weisiger's models (as :mod:`coalitions.weisiger.specs` defines them) on a track's periods.

A *track* is one version of the participant-period data: ``"original"`` (the author's archive,
:mod:`coalitions.weisiger.original`) or ``"rebuilt"`` (rebuilt from public COW data, where some
variables are proxies and some cannot be rebuilt at all). :func:`run_models` runs every model on
one track and returns two tables:

* ``estimates``: one row per model and term (coefficient, clustered standard error, z, p, 95% CI,
  hazard ratio for Cox models), with the table label of the term and a ``proxy`` flag for terms
  measured by a proxy in this track;
* ``fits``: one row per model with its status -- ``"ok"``; ``"not_estimable"`` when the track lacks
  a variable the model needs (named in ``message``) or the data do not identify the model (e.g. a
  constant covariate, or a coefficient drifting to infinity under separation); or ``"failed"`` when
  the numerical fit did not work -- and the number of records, participants, exits and coalitions
  in the estimation sample. Only an ``"ok"`` model has numbers in ``estimates``; the terms of any
  other model are listed with empty (NaN) values.

Estimation follows the do-file, i.e. Stata's ``stset warday, id(idvar) f(<outcome>)`` then
``stcox ..., cluster(coalid)``:

1. the outcome recode (Table A1) is applied to the full data;
2. a record is a failure when the outcome is non-zero and not missing (a missing outcome is a
   censored record, Stata's rule); records of a participant after its first failure are not at
   risk (``stset``'s default ``exit(failure)``);
3. the sample restriction (``if ...``) is applied; the intervals keep the bounds ``stset`` gave
   them on the full data, so a participant whose early records are excluded enters late;
4. records with a missing covariate or cluster are dropped (listwise deletion);
5. Cox regression with Breslow ties and the clustered sandwich variance times G/(G-1), or, for
   Table A4, a probit with a constant and the same clustered variance.

Nothing here raises for a model that cannot be estimated: that is a status with a message.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..estimators import EstimationError, fit_cox, fit_probit
from ..schema import Col, TableSchema, coefficient_columns, empty_frame
from ..util import CoalitionsError
from .specs import ModelSpec, where_mask

__all__ = [
    "run_models",
    "ESTIMATE_COLUMNS",
    "FIT_COLUMNS",
    "ESTIMATES_SCHEMA",
    "FITS_SCHEMA",
    "not_available_tables",
    "START",
    "STOP",
    "status_counts",
]

START, STOP = "start", "stop"
_EVENT = "_event"

ESTIMATE_COLUMNS = [
    "model_id", "table", "column", "term", "label", "estimate", "std_error", "statistic", "p_value",
    "conf_low", "conf_high", "hazard_ratio", "proxy", "key_term", "variant", "track", "coding", "hand_coded", "measure",
]
FIT_COLUMNS = [
    "model_id", "table", "column", "estimator", "status", "message", "n_obs", "n_subjects", "n_failures",
    "n_clusters", "loglik", "proxies", "variant", "dropped", "track", "coding", "hand_coded", "n_failures_lost",
]
#: "as_published": the article's specification; "feasible": the same model without the variables
#: the track cannot measure (and without terms that separate the outcome), clearly labelled.
VARIANTS = ("as_published", "feasible")
_STATUSES = ("ok", "not_estimable", "failed", "not_available")

ESTIMATES_SCHEMA = TableSchema(
    name="weisiger_estimates",
    description="One row per model and term: coefficient, clustered SE, z, p, 95% CI",
    columns={
        "model_id": Col("str", nullable=False),
        "table": Col("str", nullable=False),
        "column": Col("str", nullable=False),
        "term": Col("str", nullable=False),
        "label": Col("str", nullable=False),
        **coefficient_columns(),
        "hazard_ratio": Col("float", min=0),
        "proxy": Col("bool", nullable=False),
        "key_term": Col("bool", nullable=False),
        "variant": Col("str", nullable=False, allowed=VARIANTS),
        "track": Col("str", nullable=False),
        "coding": Col("str", nullable=False),
        "hand_coded": Col("bool", nullable=False),
        "measure": Col("str", nullable=False, description="the term's status in the track's variables table "
                                                          "(rebuilt, hand_coded, proxy, original; empty if none)"),
    },
    key=("track", "coding", "model_id", "variant", "term"),
    min_rows=0,
)

FITS_SCHEMA = TableSchema(
    name="weisiger_fits",
    description="One row per model: status, message and sample sizes",
    columns={
        "model_id": Col("str", nullable=False),
        "table": Col("str", nullable=False),
        "column": Col("str", nullable=False),
        "estimator": Col("str", nullable=False, allowed=("cox", "probit")),
        "status": Col("str", nullable=False, allowed=_STATUSES),
        "message": Col("str", nullable=False),
        "n_obs": Col("int", min=0),
        "n_subjects": Col("int", min=0),
        "n_failures": Col("int", min=0),
        "n_clusters": Col("int", min=0),
        "loglik": Col("float"),
        "proxies": Col("str", nullable=False),
        "variant": Col("str", nullable=False, allowed=VARIANTS),
        "dropped": Col("str", nullable=False),
        "track": Col("str", nullable=False),
        "coding": Col("str", nullable=False),
        "hand_coded": Col("str", nullable=False),
        "n_failures_lost": Col("int", min=0),
    },
    key=("track", "coding", "model_id", "variant"),
    min_rows=0,
)


class _Prepared:
    """One dataset, prepared once for many models: float columns, filter masks, risk exclusions."""

    def __init__(self, periods: pd.DataFrame, variables: pd.DataFrame | None):
        if not isinstance(periods, pd.DataFrame):
            raise CoalitionsError(f"periods must be a pandas DataFrame, not {type(periods).__name__}")
        self.df = periods
        self.n = len(periods)
        self.status: dict[str, str] = {}
        if variables is not None and len(variables):
            miss = [c for c in ("variable", "status") if c not in variables.columns]
            if miss:
                raise CoalitionsError(f"the variables table needs columns {miss} (variable, status, note)")
            self.status = dict(zip(variables["variable"].astype(str), variables["status"].astype(str)))
        self._arrays: dict[str, np.ndarray] = {}
        self._masks: dict[tuple[str, str], np.ndarray] = {}
        self._after: dict[tuple, np.ndarray] = {}
        self._order: dict[str, np.ndarray] = {}

    # ---- availability -------------------------------------------------------
    def unavailable(self, names: Iterable[str]) -> list[str]:
        out = []
        for v in names:
            if v not in self.df.columns:
                out.append(f"{v} (not in the data)")
            elif self.status.get(v) == "not_available":
                out.append(f"{v} (not_available)")
        return out

    def unavailable_names(self, names: Iterable[str]) -> list[str]:
        return [v for v in names if v not in self.df.columns or self.status.get(v) == "not_available"]

    def proxies(self, names: Iterable[str]) -> list[str]:
        return [v for v in names if self.status.get(v) == "proxy"]

    def hand_coded(self, names: Iterable[str]) -> list[str]:
        return [v for v in names if self.status.get(v) == "hand_coded"]

    # ---- cached pieces ------------------------------------------------------
    def array(self, name: str) -> np.ndarray:
        a = self._arrays.get(name)
        if a is None:
            s = self.df[name]
            if not (pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype)):
                raise CoalitionsError(f"column {name!r} must be numeric for estimation, is {s.dtype}")
            a = s.to_numpy(dtype=float, na_value=np.nan)
            a.setflags(write=False)
            self._arrays[name] = a
        return a

    def mask(self, where: str, missing: str) -> np.ndarray:
        key = (where, missing)
        m = self._masks.get(key)
        if m is None:
            m = where_mask(self.df, where, missing=missing)
            self._masks[key] = m
        return m

    def order(self, subject: str) -> np.ndarray:
        """Record order by subject, then stop time (the order of stset)."""
        o = self._order.get(subject)
        if o is None:
            o = np.lexsort((self.array(STOP), self.array(subject)))
            self._order[subject] = o
        return o

    def outcome(self, spec: ModelSpec) -> np.ndarray:
        """The outcome column with the model's recode applied (full data)."""
        y = self.array(spec.outcome)
        rc = spec.recode
        if rc is not None and rc.variable == spec.outcome:
            y = y.copy()
            y[self.mask(rc.where, rc.missing)] = rc.value
        return y

    def after_failure(self, spec: ModelSpec, event: np.ndarray) -> np.ndarray:
        """Records that follow the subject's first failure (not at risk under stset's exit(failure))."""
        rc = spec.recode
        key = (spec.subject, spec.outcome, (rc.variable, rc.value, rc.where, rc.missing) if rc else None)
        a = self._after.get(key)
        if a is None:
            o = self.order(spec.subject)
            sid = self.array(spec.subject)[o]
            ev = event[o].astype(np.int64)
            cum = np.cumsum(ev)
            first = np.ones(len(o), dtype=bool)
            first[1:] = sid[1:] != sid[:-1]
            # failures of the same subject strictly before this record
            base = np.maximum.accumulate(np.where(first, cum - ev, 0))
            prior = cum - ev - base
            a = np.empty(len(o), dtype=bool)
            a[o] = prior > 0
            self._after[key] = a
        return a


def _nan_estimates(spec: ModelSpec) -> pd.DataFrame:
    terms = list(spec.terms)
    nan = np.full(len(terms), np.nan)
    return pd.DataFrame({"term": terms, "estimate": nan, "std_error": nan, "statistic": nan, "p_value": nan,
                         "conf_low": nan, "conf_high": nan, "hazard_ratio": nan})


def _fit_one(prep: _Prepared, spec: ModelSpec, must_use: tuple[str, np.ndarray] | None = None
             ) -> tuple[pd.DataFrame, dict]:
    """Estimate one model on the prepared data. Returns (tidy terms, fit summary).

    ``must_use`` = (what, mask): records the model must be able to use (the post-2003 extension's);
    when the sample has some and listwise deletion drops them all, the model is ``not_estimable``
    (estimated on the rest it would be another coding's model under this coding's name).
    """
    notes: list[str] = []
    keep = np.ones(prep.n, dtype=bool)
    y = prep.outcome(spec)
    if spec.estimator == "cox":
        for c in (START, STOP):
            if c not in prep.df.columns:
                return _nan_estimates(spec), {"status": "not_estimable",
                                              "message": f"the periods have no {c!r} column (counting-process intervals)"}
        event = (~np.isnan(y)) & (y != 0)
        after = prep.after_failure(spec, event)
        if after.any():
            keep &= ~after
            notes.append(f"{int(after.sum())} record(s) after a participant's first failure are not at risk")
    if spec.sample is not None:
        keep &= prep.mask(spec.sample.where, spec.sample.missing)

    cols = list(spec.covariates) + ([spec.cluster] if spec.cluster else [])
    if spec.estimator == "cox":
        cols += [START, STOP, spec.subject]
    else:
        cols.append(spec.outcome)  # a probit drops a missing outcome
        if spec.subject in prep.df.columns:
            cols.append(spec.subject)
    cols = list(dict.fromkeys(cols))
    arrays = {c: prep.array(c) for c in cols}
    complete = keep.copy()
    for c in cols:
        complete &= ~np.isnan(arrays[c])
    n_missing = int(keep.sum() - complete.sum())
    lost_fail = int((keep & ~complete & event).sum()) if spec.estimator == "cox" else None
    if n_missing:
        notes.append(f"{n_missing} record(s) dropped for missing values"
                     + (f", {lost_fail} of them exit(s)" if lost_fail else "") + " (listed in dropped.csv)")
    drop_info = {"lost": keep & ~complete, "cols": cols, "n_failures_lost": lost_fail}
    if must_use is not None:
        what, mask = must_use
        if (keep & mask).any() and not (complete & mask).any():
            gone = [c for c in cols if np.isnan(arrays[c][keep & mask]).all()]
            some = [c for c in cols if c not in gone and np.isnan(arrays[c][keep & mask]).any()]
            return _nan_estimates(spec), {
                "status": "not_estimable", **drop_info,
                "message": f"{what} lack {', '.join(gone) or 'no variable entirely'}"
                           + (f" (and some lack {', '.join(some)})" if some else "")
                           + " (see variables.csv and dropped.csv), so none of them can enter this model; estimated "
                             "on the other records it would be another coding's sample, so it is not estimated "
                             "under this coding"}
    data = {c: arrays[c][complete] for c in cols}

    if spec.estimator == "cox":
        data[_EVENT] = event[complete].astype(np.int8)
        res = fit_cox(pd.DataFrame(data, copy=False), start=START, stop=STOP, event=_EVENT,
                      covariates=list(spec.covariates), cluster=spec.cluster, ties=spec.ties,
                      stata_adjust=spec.stata_adjust, subject=spec.subject, on_error="status")
        n_sub, n_fail = res.n_subjects, res.n_failures
    else:
        data[spec.outcome] = (y[complete] != 0).astype(np.int8)
        res = fit_probit(pd.DataFrame(data, copy=False), outcome=spec.outcome, covariates=list(spec.covariates),
                         cluster=spec.cluster, add_constant=True,
                         small_sample="stata" if spec.stata_adjust else "none", on_error="status")
        n_sub = int(pd.unique(data[spec.subject]).size) if spec.subject in data else None
        n_fail = None
    tidy = res.tidy()
    if "hazard_ratio" not in tidy.columns:
        tidy["hazard_ratio"] = np.nan
    message = "; ".join([m for m in [res.message] if m] + notes)
    return tidy, {"status": res.status, "message": message, "n_obs": res.n_obs, "n_subjects": n_sub,
                  "n_failures": n_fail, "n_clusters": res.n_clusters, "loglik": res.loglik, **drop_info,
                  "infinite": list(getattr(res, "infinite_terms", []) or []), "result": res}


def _feasible_spec(spec: ModelSpec, drop: Sequence[str]) -> ModelSpec | None:
    """The model without the covariates in ``drop``; None when nothing would be left."""
    covs = tuple(c for c in spec.covariates if c not in drop)
    if not covs:
        return None
    return replace(spec, covariates=covs, key_terms=tuple(k for k in spec.key_terms if k not in drop))


def _variants(prep: "_Prepared", spec: ModelSpec, feasible: bool) -> list[tuple[str, ModelSpec, list[str], list[str]]]:
    """(variant, spec, unavailable variables, dropped covariates) to estimate for one model."""
    missing = prep.unavailable(spec.variables)
    out = [("as_published", spec, missing, [])]
    if feasible and missing:
        names = prep.unavailable_names(spec.variables)
        drop = [v for v in names if v in spec.covariates]
        if spec.sweep is not None and any(k in drop for k in spec.key_terms):
            return out  # a sweep without its swept variable is meaningless
        blocking = [v for v in names if v not in spec.covariates]  # outcome, sample or cluster variable
        reduced = _feasible_spec(spec, drop) if drop and not blocking else None
        if reduced is not None:
            out.append(("feasible", reduced, [], drop))
    return out


#: the columns that identify a record dropped by a model (dropped.csv)
DROPPED_RECORD_COLUMNS = ("idvar", "warnum", "ccode", "side", "date_from", "date_to", "start", "stop", "withdraw")


class _WindowData:
    """The prepared data of a model: the periods as given, or (a model using a trend window the periods
    lack) a copy with that window attached and its records split at the window's steps (the last one
    is kept, so the models of one window share it)."""

    def __init__(self, periods: pd.DataFrame, variables: pd.DataFrame | None, steps: pd.DataFrame | None,
                 base: _Prepared):
        self.periods, self.variables, self.base = periods, variables, base
        self.index = None
        if steps is not None and len(steps):
            from .battle_periods import StepIndex

            self.index = StepIndex(steps)
        self._key: tuple[str, ...] | None = None
        self._prep: _Prepared | None = None

    def prepared(self, spec: ModelSpec) -> _Prepared:
        from .battle_periods import attach_terms, trend_term

        need = tuple(sorted(v for v in spec.variables if trend_term(v) and v not in self.periods.columns))
        if not need or self.index is None:
            return self.base
        if need != self._key:
            prep = _Prepared(attach_terms(self.periods, self.index, need), self.variables)
            for v in need:  # built as ctrend60 / otrend60 are
                ref = prep.status.get(f"{trend_term(v)[0]}60")
                if ref is not None:
                    prep.status.setdefault(v, ref)
            self._key, self._prep = need, prep
        return self._prep


def run_models(
    periods: pd.DataFrame,
    variables: pd.DataFrame | None,
    specs: Sequence[ModelSpec],
    *,
    track: str,
    coding: str = "baseline",
    feasible: bool = False,
    must_use: tuple[str, np.ndarray] | None = None,
    dropped_out: list | None = None,
    trend_steps: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Estimate every model of ``specs`` on one track's periods.

    ``periods``: one row per participant-period with ``start``/``stop`` (the ``(start, stop]``
    interval in war days) and the model variables. ``variables``: the track's variable table
    (variable, status in original/rebuilt/proxy/not_available, note); a model that needs a
    ``not_available`` variable, or one the periods lack, is reported ``not_estimable`` with the
    variables named, and terms measured by a ``proxy`` are flagged. ``track``/``coding`` label the
    output rows (the coding is the name of the coding-rule set that produced the periods).

    ``feasible=True`` adds, for every model that needs a variable the track lacks, a ``"feasible"``
    variant: the same model without those covariates (and, if a remaining term separates the
    outcome so that its coefficient diverges, without that term too); ``dropped`` lists what was
    left out. The ``"as_published"`` row stays ``not_estimable``.

    ``must_use`` = (description, boolean mask over ``periods``): records a model must be able to use
    (the post-2003 extension's); a model that would drop them all is ``not_estimable``.
    ``dropped_out``: a list to which one frame per estimated model is appended, listing the records
    the model dropped for missing values (model_id, variant, row = position in ``periods``,
    variables = the missing ones among the model's columns).

    Terms and models that use a ``hand_coded`` variable (the project's sourced case files) are
    marked like proxies: ``estimates.hand_coded`` and ``fits.hand_coded``. ``fits.n_failures_lost``
    counts the exits a model lost to missing values.

    ``trend_steps`` (rebuilt track: the battlefield trends of every window, see
    coalitions.weisiger.battle_periods): a model using a trend window that the periods lack (the
    Fig. 5 sweep's ``ctrendK``) is estimated on a copy of the periods with that column attached and
    the records split at its steps only; its status in ``variables`` is that of ``ctrend60``.

    Returns ``(estimates, fits)`` with columns :data:`ESTIMATE_COLUMNS` and :data:`FIT_COLUMNS`;
    every model in ``specs`` has a row in ``fits`` and one row per term in ``estimates``.
    """
    if not isinstance(track, str) or not track:
        raise CoalitionsError("run_models: track must be a non-empty string such as 'original' or 'rebuilt'")
    ids = [s.id for s in specs]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise CoalitionsError(f"run_models: duplicate model id(s) {dup}")
    base_prep = _Prepared(periods, variables)
    window_prep = _WindowData(periods, variables, trend_steps, base_prep)
    est_parts: list[pd.DataFrame] = []
    fit_rows: list[dict] = []
    for published in specs:
        prep = window_prep.prepared(published)
        for variant, spec, missing, dropped in _variants(prep, published, feasible):
            proxies = prep.proxies(spec.variables)
            if missing:
                tidy = _nan_estimates(spec)
                fit = {"status": "not_estimable",
                       "message": f"variable(s) not available in the {track} track: {', '.join(missing)}"}
            else:
                try:
                    tidy, fit = _fit_one(prep, spec, must_use)
                    if variant == "feasible" and fit["status"] == "not_estimable" and fit.get("infinite"):
                        # a term that perfectly separates exits cannot be estimated: drop it, say so
                        sep = list(fit["infinite"])
                        reduced = _feasible_spec(spec, sep)
                        if spec.sweep is not None and any(k in sep for k in spec.key_terms):
                            reduced = None  # a sweep without its swept variable is meaningless
                        if reduced is not None:
                            spec = reduced
                            dropped = dropped + [f"{v} (separation)" for v in sep]
                            tidy, fit = _fit_one(prep, spec, must_use)
                except (EstimationError, ValueError, ArithmeticError, np.linalg.LinAlgError) as exc:
                    tidy = _nan_estimates(spec)
                    fit = {"status": "failed", "message": f"{type(exc).__name__}: {exc}"}
            if fit["status"] != "ok":
                # a diverging or unconverged coefficient is not an estimate: withhold the numbers
                tidy = _nan_estimates(spec)
            # the estimator reports terms in the order of the covariates (+ _cons); keep the spec's set
            tidy = tidy.set_index("term").reindex(list(spec.terms)).reset_index()
            tidy.insert(0, "model_id", spec.id)
            tidy.insert(1, "table", spec.table)
            tidy.insert(2, "column", spec.column)
            tidy["label"] = [spec.label(t) for t in tidy["term"]]
            tidy["proxy"] = tidy["term"].isin(proxies)
            hand = prep.hand_coded(spec.variables)
            tidy["hand_coded"] = tidy["term"].isin(hand)
            tidy["measure"] = [prep.status.get(t, "") for t in tidy["term"]]
            tidy["key_term"] = tidy["term"].isin(spec.key_terms)
            tidy["variant"] = variant
            tidy["track"] = track
            tidy["coding"] = coding
            est_parts.append(tidy[ESTIMATE_COLUMNS])
            fit_rows.append({
                "model_id": spec.id, "table": spec.table, "column": spec.column, "estimator": spec.estimator,
                "status": fit["status"], "message": fit.get("message", ""), "n_obs": fit.get("n_obs"),
                "n_subjects": fit.get("n_subjects"), "n_failures": fit.get("n_failures"),
                "n_clusters": fit.get("n_clusters"), "loglik": fit.get("loglik", np.nan),
                "proxies": ", ".join(proxies), "variant": variant, "dropped": ", ".join(dropped),
                "track": track, "coding": coding, "hand_coded": ", ".join(hand),
                "n_failures_lost": fit.get("n_failures_lost"),
            })
            if dropped_out is not None and fit.get("lost") is not None and fit["lost"].any():
                rows = np.nonzero(fit["lost"])[0]
                miss = [", ".join(c for c in fit["cols"] if np.isnan(prep.array(c)[r])) for r in rows]
                # the records themselves (a model using a sweep window runs on a copy of the periods split
                # at that window's steps, whose rows are not the periods' rows)
                ids = [c for c in DROPPED_RECORD_COLUMNS if c in prep.df.columns]
                rec = prep.df[ids].iloc[rows].reset_index(drop=True)
                dropped_out.append(pd.concat([pd.DataFrame({"model_id": spec.id, "variant": variant, "row": rows,
                                                            "variables": miss}), rec], axis=1))
    estimates = (pd.concat(est_parts, ignore_index=True) if est_parts
                 else pd.DataFrame({c: pd.Series(dtype=object) for c in ESTIMATE_COLUMNS}))
    for c in ("estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high", "hazard_ratio"):
        estimates[c] = estimates[c].astype(float)
    for c in ("proxy", "key_term", "hand_coded"):
        estimates[c] = estimates[c].astype(bool)
    return estimates, _typed_fits(pd.DataFrame(fit_rows, columns=FIT_COLUMNS))


def _typed_fits(fits: pd.DataFrame) -> pd.DataFrame:
    """The fits with the types of :data:`FITS_SCHEMA`: counts as nullable integers, loglik as float."""
    for c in ("n_obs", "n_subjects", "n_failures", "n_clusters", "n_failures_lost"):
        fits[c] = pd.array([None if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA else int(v)
                            for v in fits[c]], dtype="Int64")
    fits["loglik"] = fits["loglik"].astype(float)
    return fits


def not_available_tables(specs: Sequence[ModelSpec], *, track: str, coding: str, message: str
                       ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(estimates, fits)`` of a track whose data could not be had: no estimates, and one
    ``not_available`` fit row per model (``message`` says why) with empty counts, as the schemas require."""
    fits = pd.DataFrame([{
        "model_id": s.id, "table": s.table, "column": s.column, "estimator": s.estimator, "status": "not_available",
        "message": message, "proxies": "", "variant": "as_published", "dropped": "", "track": track,
        "coding": coding, "hand_coded": "",
    } for s in specs], columns=FIT_COLUMNS)
    return empty_frame(ESTIMATES_SCHEMA, ESTIMATE_COLUMNS), _typed_fits(fits)


def status_counts(fits: pd.DataFrame) -> Mapping[str, int]:
    """How many models have each status (for logs and the paper's notes)."""
    return fits["status"].value_counts().to_dict()


def survival_contrast(periods: pd.DataFrame, variables: pd.DataFrame | None, spec: ModelSpec, *,
                      term: str = "foverlap", values: Sequence[float] = (0.0, 1.0),
                      fixed: Mapping[str, float] | None = None, max_day: int = 1500,
                      feasible: bool = False) -> tuple[pd.DataFrame, str]:
    """Survival curves from one Cox model for ``term`` at each of ``values``, other covariates at 0
    except ``fixed`` (the article: foverlap 0 vs 1, pvict = .5, days 0-1,500).

    Returns (curves, note): curves has columns variant, dropped, term_value, day, survival; it is
    empty, with the note saying why, when the model (or its feasible variant) cannot be estimated
    with ``term`` in it.
    """
    fixed = dict(fixed or {"pvict": 0.5})
    prep = _Prepared(periods, variables)
    empty = pd.DataFrame(columns=["variant", "dropped", "term_value", "day", "survival"])
    for variant, vspec, missing, dropped in _variants(prep, spec, feasible):
        if missing or term not in vspec.covariates:
            continue
        tidy, fit = _fit_one(prep, vspec)
        if fit["status"] != "ok":
            continue
        res = fit["result"]
        days = np.arange(0, max_day + 1, 10, dtype=float)
        profiles = pd.DataFrame([{c: (v if c == term else fixed.get(c, 0.0)) for c in vspec.covariates}
                                 for v in values])
        surv = res.predict_survival(profiles, days)
        rows = []
        for j, v in enumerate(values):
            col = surv.iloc[:, j].to_numpy()
            rows.append(pd.DataFrame({"variant": variant, "dropped": ", ".join(dropped), "term_value": v,
                                      "day": days, "survival": col}))
        return pd.concat(rows, ignore_index=True), ""
    return empty, f"{spec.id}: no estimable variant with {term} on this track"

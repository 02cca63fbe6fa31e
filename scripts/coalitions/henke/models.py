"""Henke (2017) models: specifications as data (``config/models/henke.yaml``) and the runner.

The specification of Henke's models is not known here (no do-file; the Stata logs could not be read),
so every model is the project's reading: whether a country joins a US-led operation (0/1) regressed on
diplomatic embeddedness and controls, logit with standard errors clustered by country (Stata's
``logit ..., vce(cluster ccode)``, small-sample factor G/(G-1)); a probit; and a conditional logit grouped
by operation (comparisons within an operation only, which absorbs everything common to an operation).

The variants follow the critiques: embeddedness from IGOs only, from bilateral agreements only (not
estimable: the agreements have no public source), without security ties, lagged one year, and normalised
by the country's total IGO memberships.

:func:`run_models` returns two tables, the same shape for the rebuilt and the original-archive tracks:

``estimates``
    model_id, term, label, estimate, std_error, statistic, p_value, conf_low, conf_high, proxy, key_term
    (True on the model's declared key term), track, coding, ame, ame_se (the average marginal effect of the
    model's key term on Pr(join), delta-method SE; empty for other terms and for the conditional logit,
    where Pr(join) is not identified).
``fits``
    model_id, label, estimator, status (ok / not_estimable / failed), message, n_obs, n_clusters,
    n_events (joiners), n_dropped, loglik, pseudo_r2, track, coding. A model whose variables are not
    available is ``not_estimable`` with the reason, and has no rows in ``estimates``.

Both are checked against :data:`ESTIMATES_SCHEMA` and :data:`FITS_SCHEMA` when they are written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..estimators import fit_clogit, fit_logit, fit_probit
from ..estimators import STATUS_FAILED, STATUS_NOT_ESTIMABLE, STATUS_OK
from ..schema import Col, TableSchema, coefficient_columns, empty_frame
from ..util import CoalitionsError, read_yaml

ESTIMATORS = ("logit", "probit", "clogit")
TRACKS = ("rebuilt", "original")
ESTIMATE_COLUMNS = ["model_id", "term", "label", "estimate", "std_error", "statistic", "p_value", "conf_low",
                    "conf_high", "proxy", "key_term", "track", "coding", "ame", "ame_se"]
FIT_COLUMNS = ["model_id", "label", "estimator", "status", "message", "n_obs", "n_clusters", "n_events",
               "n_dropped", "loglik", "pseudo_r2", "track", "coding"]
CONSTANT = "_cons"
#: a fit's status; "not_available": the original archive could not be had
STATUSES = (STATUS_OK, STATUS_NOT_ESTIMABLE, STATUS_FAILED, "not_available")
_COUNTS = ("n_obs", "n_clusters", "n_events", "n_dropped")

ESTIMATES_SCHEMA = TableSchema(
    name="henke_estimates",
    description="One row per model and term: coefficient, clustered SE, z, p, 95% CI, AME of the key term",
    columns={
        "model_id": Col("str", nullable=False),
        "term": Col("str", nullable=False),
        "label": Col("str", nullable=False),
        **coefficient_columns(),
        "proxy": Col("bool", nullable=False),
        "key_term": Col("bool", nullable=False, description="the term is the model's declared key term"),
        "track": Col("str", nullable=False, allowed=TRACKS),
        "coding": Col("str", nullable=False),
        "ame": Col("float"),
        "ame_se": Col("float", min=0),
    },
    key=("track", "coding", "model_id", "term"),
    min_rows=0,
)

FITS_SCHEMA = TableSchema(
    name="henke_fits",
    description="One row per model: status, message and sample sizes",
    columns={
        "model_id": Col("str", nullable=False),
        "label": Col("str", nullable=False),
        "estimator": Col("str", nullable=False, description="logit, probit, clogit; for an estimation of the "
                                                            "author's log that is not re-estimated, its command"),
        "status": Col("str", nullable=False, allowed=STATUSES),
        "message": Col("str", nullable=False),
        "n_obs": Col("int", min=0),
        "n_clusters": Col("int", min=0),
        "n_events": Col("int", min=0),
        "n_dropped": Col("int", min=0),
        "loglik": Col("float"),
        "pseudo_r2": Col("float"),
        "track": Col("str", nullable=False, allowed=TRACKS),
        "coding": Col("str", nullable=False),
    },
    key=("track", "coding", "model_id"),
    min_rows=0,
)


@dataclass(frozen=True)
class ModelSpec:
    """One model: estimator, outcome, covariates (key term first), clustering and sample."""

    id: str
    label: str
    estimator: str
    outcome: str
    covariates: tuple[str, ...]
    key_term: str
    cluster: str | None = None
    group: str | None = None
    operations: tuple[str, ...] | None = None
    dataset: str | None = None
    note: str = ""
    labels: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def columns(self) -> list[str]:
        cols = [self.outcome, *self.covariates]
        for c in (self.cluster, self.group):
            if c and c not in cols:
                cols.append(c)
        return cols


_MODEL_KEYS = {"id", "label", "estimator", "outcome", "key_term", "controls", "extra", "covariates", "cluster",
               "group", "operations", "dataset", "note"}


def _err(path: Path, key: str, msg: str) -> CoalitionsError:
    return CoalitionsError(f"{path}: {key}: {msg}")


def _str_list(v: Any, path: Path, key: str) -> tuple[str, ...]:
    if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
        raise _err(path, key, f"must be a list of column names, got {v!r}")
    return tuple(v)


def load_specs(path: str | Path, track: str) -> list[ModelSpec]:
    """The model specifications of one track (``rebuilt`` or ``original``) from the YAML file.

    A model is ``covariates`` (explicit list) or ``key_term`` + the named ``controls`` set + ``extra``;
    the section's ``defaults`` fill keys a model does not set. Errors name the file and the key.
    """
    path = Path(path)
    if track not in TRACKS:
        raise CoalitionsError(f"track must be one of {list(TRACKS)}, got {track!r}")
    doc = read_yaml(path)
    if not isinstance(doc, dict) or track not in doc:
        raise _err(path, track, "section missing")
    labels = doc.get("labels") or {}
    control_sets = doc.get("control_sets") or {}
    if not isinstance(labels, dict) or not isinstance(control_sets, dict):
        raise _err(path, "labels/control_sets", "must be mappings")
    section = doc[track]
    if not isinstance(section, dict) or not isinstance(section.get("models"), list):
        raise _err(path, f"{track}.models", "must be a list of models")
    defaults = section.get("defaults") or {}
    specs: list[ModelSpec] = []
    seen: set[str] = set()
    for i, raw in enumerate(section["models"]):
        where = f"{track}.models[{i}]"
        if not isinstance(raw, dict):
            raise _err(path, where, "must be a mapping")
        m = {**defaults, **raw}
        unknown = sorted(set(m) - _MODEL_KEYS)
        if unknown:
            raise _err(path, f"{where}.{unknown[0]}", f"unknown key; allowed keys are {sorted(_MODEL_KEYS)}")
        for k in ("id", "label", "estimator", "outcome"):
            if not isinstance(m.get(k), str) or not m[k]:
                raise _err(path, f"{where}.{k}", "required (a non-empty string)")
        mid = m["id"]
        where = f"{track}.models[{mid}]"
        if mid in seen:
            raise _err(path, where, "duplicate model id")
        seen.add(mid)
        if m["estimator"] not in ESTIMATORS:
            raise _err(path, f"{where}.estimator", f"must be one of {list(ESTIMATORS)}, got {m['estimator']!r}")
        if "covariates" in m:
            if any(k in m for k in ("controls", "extra")):
                raise _err(path, where, "give either 'covariates' or 'key_term' + 'controls'/'extra', not both")
            covs = _str_list(m["covariates"], path, f"{where}.covariates")
            key = m.get("key_term", covs[0] if covs else None)
        else:
            key = m.get("key_term")
            if not isinstance(key, str) or not key:
                raise _err(path, f"{where}.key_term", "required when 'covariates' is not given")
            ctrl: tuple[str, ...] = ()
            if m.get("controls") is not None:
                if m["controls"] not in control_sets:
                    raise _err(path, f"{where}.controls", f"unknown control set {m['controls']!r}; "
                                                          f"defined: {sorted(control_sets)}")
                ctrl = _str_list(control_sets[m["controls"]], path, f"control_sets.{m['controls']}")
            extra = _str_list(m["extra"], path, f"{where}.extra") if m.get("extra") is not None else ()
            covs = (key, *ctrl, *extra)
        if not covs:
            raise _err(path, f"{where}.covariates", "no covariates")
        if len(set(covs)) != len(covs):
            raise _err(path, f"{where}.covariates", f"a covariate is listed twice: {list(covs)}")
        if key not in covs:
            raise _err(path, f"{where}.key_term", f"{key!r} is not among the covariates {list(covs)}")
        cluster, group = m.get("cluster"), m.get("group")
        for k, v in (("cluster", cluster), ("group", group)):
            if v is not None and (not isinstance(v, str) or not v):
                raise _err(path, f"{where}.{k}", f"must be a column name or null, got {v!r}")
        if m["estimator"] == "clogit" and not group:
            raise _err(path, f"{where}.group", "a conditional logit needs a 'group' column (e.g. operation_id)")
        if m["estimator"] != "clogit" and group:
            raise _err(path, f"{where}.group", "only a conditional logit ('clogit') takes a group")
        ops = m.get("operations")
        if ops is not None:
            ops = _str_list(ops, path, f"{where}.operations")
        if track == "original" and not isinstance(m.get("dataset"), str):
            raise _err(path, f"{where}.dataset", "required for the original track (which of her files)")
        specs.append(ModelSpec(
            id=mid, label=m["label"], estimator=m["estimator"], outcome=m["outcome"], covariates=tuple(covs),
            key_term=key, cluster=cluster, group=group, operations=ops, dataset=m.get("dataset"),
            note=str(m.get("note") or ""), labels={str(k): str(v) for k, v in labels.items()},
        ))
    return specs


def _status_of(variables: pd.DataFrame | None) -> dict[str, tuple[str, str]]:
    if variables is None or variables.empty:
        return {}
    return {str(v): (str(s), str(n)) for v, s, n in zip(variables["variable"], variables["status"],
                                                        variables["note"])}


def _fit_row(spec: ModelSpec, status: str, message: str, track: str, coding: str, res=None) -> dict:
    row = {"model_id": spec.id, "label": spec.label, "estimator": spec.estimator, "status": status,
           "message": message or "", "n_obs": np.nan, "n_clusters": np.nan, "n_events": np.nan, "n_dropped": np.nan,
           "loglik": np.nan, "pseudo_r2": np.nan, "track": track, "coding": coding}
    if res is not None:
        row.update(n_obs=res.n_obs, n_clusters=res.n_clusters if res.n_clusters is not None else np.nan,
                   n_events=res.n_positive if res.n_positive is not None else np.nan, n_dropped=res.n_dropped,
                   loglik=res.loglik, pseudo_r2=res.pseudo_r2)
    return row


def _unavailable(spec: ModelSpec, data: pd.DataFrame, status: dict[str, tuple[str, str]]) -> str | None:
    problems = []
    for col in spec.columns():
        if col not in data.columns:
            problems.append(f"'{col}' is not a column of the data")
        elif status.get(col, ("", ""))[0] == "not_available":
            problems.append(f"'{col}' is not available ({status[col][1]})")
        elif data[col].notna().sum() == 0:
            problems.append(f"'{col}' has no non-missing value")
    if spec.operations is not None:
        if "operation_id" not in data.columns:
            problems.append("the model selects operations but the data have no 'operation_id' column")
    return "; ".join(problems) if problems else None


def run_models(data: pd.DataFrame, variables: pd.DataFrame | None, specs: Sequence[ModelSpec], *,
               track: str, coding: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fit every spec on ``data``; ``(estimates, fits)`` as described in the module docstring.

    ``variables`` (variable, status, note) marks proxies (``proxy`` column of the estimates) and
    unavailable variables (models using them are ``not_estimable``); ``None`` for the original track.
    ``track`` and ``coding`` (the coding set's name) are copied into every row.
    """
    if track not in TRACKS:
        raise CoalitionsError(f"track must be one of {list(TRACKS)}, got {track!r}")
    status = _status_of(variables)
    est_rows: list[pd.DataFrame] = []
    fit_rows: list[dict] = []
    for spec in specs:
        why = _unavailable(spec, data, status)
        if why:
            fit_rows.append(_fit_row(spec, STATUS_NOT_ESTIMABLE, why, track, coding))
            continue
        df = data
        if spec.operations is not None:
            unknown = sorted(set(spec.operations) - set(data["operation_id"]))
            if unknown:
                fit_rows.append(_fit_row(spec, STATUS_NOT_ESTIMABLE,
                                         f"operation(s) {unknown} are not in the data", track, coding))
                continue
            df = data[data["operation_id"].isin(spec.operations)]
        try:
            if spec.estimator == "clogit":
                res = fit_clogit(df, outcome=spec.outcome, covariates=list(spec.covariates), group=spec.group,
                                 cluster=spec.cluster)
            else:
                fit = fit_logit if spec.estimator == "logit" else fit_probit
                res = fit(df, outcome=spec.outcome, covariates=list(spec.covariates), cluster=spec.cluster)
        except (ValueError, TypeError, KeyError) as exc:
            fit_rows.append(_fit_row(spec, STATUS_FAILED, f"{type(exc).__name__}: {exc}", track, coding))
            continue
        fit_rows.append(_fit_row(spec, res.status, res.message, track, coding, res))
        if res.status != STATUS_OK:
            continue
        tidy = res.tidy()
        tidy.insert(0, "model_id", spec.id)
        tidy["label"] = [("Constant" if t == CONSTANT else spec.labels.get(t, t)) for t in tidy["term"]]
        tidy["proxy"] = [status.get(t, ("", ""))[0] == "proxy" for t in tidy["term"]]
        tidy["key_term"] = tidy["term"] == spec.key_term
        tidy["track"] = track
        tidy["coding"] = coding
        tidy["ame"] = np.nan
        tidy["ame_se"] = np.nan
        if spec.estimator != "clogit":
            ame = res.average_marginal_effect(spec.key_term)
            k = tidy["term"] == spec.key_term
            tidy.loc[k, "ame"] = float(ame["ame"])
            tidy.loc[k, "ame_se"] = float(ame["std_error"])
        est_rows.append(tidy[ESTIMATE_COLUMNS])
    estimates = (pd.concat(est_rows, ignore_index=True) if est_rows
                 else empty_frame(ESTIMATES_SCHEMA, ESTIMATE_COLUMNS))
    return estimates, typed_fits(pd.DataFrame(fit_rows, columns=FIT_COLUMNS))


def typed_fits(fits: pd.DataFrame) -> pd.DataFrame:
    """``fits`` with the types of :data:`FITS_SCHEMA`: counts as nullable integers, loglik and pseudo_r2
    as floats (rows of several sources concatenated as objects come out typed)."""
    fits = fits.copy()
    for c in _COUNTS:
        fits[c] = pd.array(fits[c].astype("float64"), dtype="Float64").round().astype("Int64")
    for c in ("loglik", "pseudo_r2"):
        fits[c] = fits[c].astype("float64")
    return fits


def not_available_fits(specs: Sequence[ModelSpec], *, track: str, coding: str, message: str) -> pd.DataFrame:
    """One ``not_available`` fit row per spec (the data could not be had: ``message`` says why), with the
    model's label and estimator and empty counts, as :data:`FITS_SCHEMA` requires."""
    rows = [_fit_row(s, "not_available", message, track, coding) for s in specs]
    return typed_fits(pd.DataFrame(rows, columns=FIT_COLUMNS))


def load_labels(path: str | Path) -> dict[str, str]:
    doc = read_yaml(Path(path))
    return {str(k): str(v) for k, v in (doc.get("labels") or {}).items()}


PUBLISHED_COLUMNS = ["model_id", "table", "page", "term", "quantity", "value", "column_label", "note"]


def load_published(path: str | Path) -> pd.DataFrame:
    """The file of Henke's published values (``config/published/henke2017.csv``).

    Its numeric cells stay empty until someone reads them from the article (with table and page): they
    are not known here and are never guessed. A non-empty ``value`` must be a number and then needs
    ``table`` and ``page``. Returns the rows with ``value`` as float (NaN when empty).
    """
    path = Path(path)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise CoalitionsError(f"{path}: file of published values not found") from None
    if list(df.columns) != PUBLISHED_COLUMNS:
        raise CoalitionsError(f"{path}: columns must be {PUBLISHED_COLUMNS}, found {list(df.columns)}")
    stripped = df["value"].str.strip()
    values = pd.to_numeric(stripped.where(stripped.ne(""), None), errors="coerce")
    bad = df["value"].str.strip().ne("") & values.isna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise CoalitionsError(f"{path}, line {i + 2}: value {df['value'].iloc[i]!r} is not a number")
    unsourced = values.notna() & (df["table"].str.strip().eq("") | df["page"].str.strip().eq(""))
    if unsourced.any():
        i = int(np.flatnonzero(unsourced.to_numpy())[0])
        raise CoalitionsError(f"{path}, line {i + 2}: a published value needs its table and page")
    out = df.copy()
    out["value"] = values.astype(float)
    return out


def run_rebuilt(tables: Any, operations_path: str | Path, contributors_path: str | Path, specs_path: str | Path,
                coding: Mapping[str, Any] | None = None, *, coding_name: str = "baseline",
                origin: str = "") -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The whole rebuilt track in one call: case files -> dataset -> models.

    ``coding`` is a coding file's ``henke:`` section (validated by ``HenkeCoding.from_dict``; ``origin``
    names it in errors). Returns ``(data, variables, estimates, fits)``.
    """
    from .cases import load_cases
    from .rebuild import HenkeCoding, build_dataset

    hc = HenkeCoding.from_dict(coding, origin=origin)
    ops, con = load_cases(operations_path, contributors_path, tables["cow_states"])
    data, variables = build_dataset(tables, ops, con, hc)
    est, fits = run_models(data, variables, load_specs(specs_path, "rebuilt"), track="rebuilt", coding=coding_name)
    return data, variables, est, fits

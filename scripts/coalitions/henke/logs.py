"""Henke's Stata logs (her Dataverse archive): her published numbers and her model specifications.

Her archive (doi:10.7910/DVN/ZAPWHZ) has no do-file; its two SMCL logs, ``Log_file_2_-_New_dataset
2015-10-0497.R2.smcl`` (registry key ``log_new``, estimations on ``New_dataset ...dta``) and
``Log_file__1_-_Lake_replication 2015-10-0497.R2.smcl`` (``log_lake``, on ``Datset_used_for_Lake_regression
...dta``), record every command she ran and its output. When the archive was obtained:

* :func:`published_from_logs` turns every estimation of the logs into rows of published values (estimate,
  standard error, p-value per term; N and clusters), marked "from the author's log" with the log, the
  estimation's number, its line and its command. They fill the Published column of the paper's Henke tables;
* :func:`log_specs` turns each command into a model of the original track (estimator, outcome, covariates,
  cluster variable as she typed them), so that her data are re-estimated with her own specification. A
  command the estimators here cannot reproduce exactly (another estimator, an ``if``/``in`` condition,
  weights, factor-variable or wildcard syntax, robust errors without clusters) is listed with the reason,
  never approximated.

Model ids are ``<log key>_<nn>`` (``log_new_01``, ...), in the order of the log. A log that says it is a
SYNTHETIC TEST LOG (the test-suite's) is marked as such wherever its numbers appear.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Mapping, Sequence

import pandas as pd

from ..fetch import read_archive_status
from .models import ModelSpec, typed_fits
from .smcl import Estimation, SmclLog, read_smcl

#: registry file keys of the logs -> the registry key of the data file they estimate on
LOG_DATASETS = {"log_new": "new_dataset", "log_lake": "lake_dataset"}
#: estimators of the log that the original track can re-estimate exactly
REPRODUCIBLE = ("logit", "probit", "clogit")
AUTHOR_LOG = "from the author's log"
SYNTHETIC_LOG = "from a SYNTHETIC TEST LOG (not the author's)"
#: how a published-values note that comes from a log begins (the paper words these notes differently)
LOG_NOTE_PREFIXES = (AUTHOR_LOG, SYNTHETIC_LOG)
LOG_MODEL_COLUMNS = ["model_id", "log", "line", "command", "estimator", "outcome", "covariates", "cluster",
                     "dataset", "n_obs", "n_clusters", "reproducible", "reason"]


def model_id(key: str, est: Estimation) -> str:
    return f"{key}_{est.index:02d}"


def archive_logs(archive_dir: str | Path) -> dict[str, SmclLog]:
    """The parsed logs of the fetched archive folder (``resources/original/henke2017``): empty when the
    archive was not obtained or lists no log."""
    archive_dir = Path(archive_dir)
    try:
        status = read_archive_status(archive_dir)
    except Exception:  # no status at all: nothing was obtained
        return {}
    if not status.get("available"):
        return {}
    files = status.get("files") or {}
    out = {}
    for key in LOG_DATASETS:
        if key in files and files[key].get("name"):
            out[key] = read_smcl(archive_dir / files[key]["name"])
    return out


def _source_note(key: str, log: SmclLog, est: Estimation) -> str:
    what = SYNTHETIC_LOG if log.synthetic else AUTHOR_LOG
    return f"{what} {Path(log.path).name}, estimation {est.index} (line {est.line}): {est.command}"


def published_from_logs(logs: Mapping[str, SmclLog]) -> pd.DataFrame:
    """Published values of every estimation of the logs, in the wide layout of the paper's published table
    (``coalitions.paper.gather.read_published``): one row per model and term."""
    rows = []
    for key, log in logs.items():
        for est in log.estimations:
            if not est.coefficients:
                continue
            mid = model_id(key, est)
            for c in est.coefficients:
                term = f"{c.equation}:{c.term}" if c.equation else c.term
                rows.append({
                    "model_id": mid, "term": term, "estimate": c.estimate, "std_error": c.std_error,
                    "p_value": c.p_value, "stars": "", "table": "", "page": None,
                    "source_note": _source_note(key, log, est), "column": f"log estimation {est.index}",
                    "n_subjects": None, "n_failures": None, "n_obs": est.n_obs, "n_events": None,
                    "n_clusters": est.n_clusters,
                })
    cols = ["model_id", "term", "estimate", "std_error", "p_value", "stars", "table", "page", "source_note",
            "column", "n_subjects", "n_failures", "n_obs", "n_events", "n_clusters"]
    return pd.DataFrame(rows, columns=cols)


def published_with_logs(published: pd.DataFrame | None, archive_dir: str | Path) -> pd.DataFrame | None:
    """The published values of ``config/published/henke2017.csv`` plus those read from her logs (when the
    archive holds them). Rows of the file for the same model and term give way to the log's."""
    logs = archive_logs(archive_dir)
    if not logs:
        return published
    from_log = published_from_logs(logs)
    if published is None or published.empty:
        return from_log
    keys = set(zip(from_log["model_id"], from_log["term"]))
    keep = [k not in keys for k in zip(published["model_id"], published["term"])]
    return pd.concat([published[keep], from_log.astype(object)], ignore_index=True)


_NOT_PLAIN = re.compile(r"[.*?~\-#()]")


def _why_not(est: Estimation) -> str:
    if est.estimator not in REPRODUCIBLE:
        return f"estimator '{est.estimator}' is not implemented here (logit, probit and clogit are)"
    if est.condition:
        return f"the sample condition '{est.condition}' is not translated from Stata"
    if est.weight:
        return f"weights {est.weight} are not supported"
    bad = [v for v in (est.outcome, *est.covariates) if _NOT_PLAIN.search(v)]
    if bad:
        return f"factor-variable, wildcard or time-series syntax {bad} is not expanded"
    if est.vce not in ("oim", "cluster"):
        return f"vce({est.vce}) without clusters is not implemented (model-based or clustered errors are)"
    if est.estimator == "clogit" and "group" not in est.options.replace(" ", ""):
        return "clogit without group() cannot be specified"
    if est.coef_label.lower().startswith("odds"):
        return "the log reports odds ratios"
    if not est.coefficients:
        return est.error or "the log shows no results for this command"
    return ""


def log_specs(logs: Mapping[str, SmclLog], labels: Mapping[str, str] | None = None
              ) -> tuple[list[ModelSpec], pd.DataFrame]:
    """Original-track models from the logs' commands, and the table of every log estimation (its settled
    specification, whether it is re-estimated, and why not)."""
    specs, rows = [], []
    for key, log in logs.items():
        for est in log.estimations:
            mid = model_id(key, est)
            why = _why_not(est)
            group = None
            if est.estimator == "clogit" and not why:
                m = re.search(r"\bgroup\(\s*(\w+)\s*\)", est.options)
                group = m.group(1) if m else None
            if not why:
                specs.append(ModelSpec(
                    id=mid, label=f"{est.command} (author's log, estimation {est.index})", estimator=est.estimator,
                    outcome=est.outcome, covariates=tuple(est.covariates), key_term=est.covariates[0],
                    cluster=est.cluster if est.vce == "cluster" else None, group=group, dataset=LOG_DATASETS[key],
                    note=f"specification from {Path(log.path).name}, line {est.line}",
                    labels=dict(labels or {})))
            rows.append({"model_id": mid, "log": Path(log.path).name, "line": est.line, "command": est.command,
                         "estimator": est.estimator, "outcome": est.outcome, "covariates": " ".join(est.covariates),
                         "cluster": est.cluster or "", "dataset": LOG_DATASETS[key], "n_obs": est.n_obs,
                         "n_clusters": est.n_clusters, "reproducible": not why, "reason": why})
    return specs, pd.DataFrame(rows, columns=LOG_MODEL_COLUMNS)


def original_specs(archive_dir: str | Path, config_specs: Sequence[ModelSpec]
                   ) -> tuple[list[ModelSpec], pd.DataFrame]:
    """The original track's models: for a data file whose log is in the archive, the log's commands replace
    the configuration's reading (``config/models/henke.yaml``, ``original:``); the others keep it. Also
    returns the log-models table (empty without logs)."""
    logs = archive_logs(archive_dir)
    labels = config_specs[0].labels if config_specs else {}
    specs, table = log_specs(logs, labels)
    settled = {LOG_DATASETS[k] for k in logs}
    return [s for s in config_specs if s.dataset not in settled] + specs, table


def run_original_track(archive_dir: str | Path, files: Mapping[str, str | Path], config_specs: Sequence[ModelSpec],
                       *, coding: str = "original", allow_synthetic: bool = False
                       ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The original track on her files with the specification her logs settle (:func:`original_specs`):
    ``(estimates, fits, log_models)``. Log estimations that cannot be re-estimated get a ``not_estimable``
    fit row with the reason."""
    from .original import read_original, run_original

    specs, table = original_specs(archive_dir, config_specs)
    # a command on variables her session created (gen, egen, ...) is reported, not an error of the whole track
    from_log = set(table["model_id"])
    columns = {}
    for key in sorted({s_.dataset for s_ in specs if s_.id in from_log}):
        if key in files:
            columns[key] = set(read_original(files[key], allow_synthetic=allow_synthetic).columns)
    keep = []
    for s_ in specs:
        missing = [c for c in s_.columns() if s_.id in from_log and s_.dataset in columns
                   and c not in columns[s_.dataset]]
        if missing:
            i = table.index[table["model_id"] == s_.id]
            table.loc[i, "reproducible"] = False
            table.loc[i, "reason"] = (f"variable(s) {missing} are not in {Path(files[s_.dataset]).name} (created in "
                                      "her Stata session?)")
        else:
            keep.append(s_)
    specs = keep
    est, fits, _ = run_original(files, specs, coding=coding, allow_synthetic=allow_synthetic)
    skipped = table[~table["reproducible"].astype(bool)]
    if len(skipped):
        extra = pd.DataFrame([{c: None for c in fits.columns} | {
            "model_id": r["model_id"], "label": f"{r['command']} (author's log)", "estimator": r["estimator"],
            "status": "not_estimable", "track": "original", "coding": coding,
            "message": f"not re-estimated: {r['reason']}"} for r in skipped.to_dict("records")], columns=fits.columns)
        fits = typed_fits(pd.concat([fits.astype(object), extra.astype(object)], ignore_index=True))
    return est, fits, table

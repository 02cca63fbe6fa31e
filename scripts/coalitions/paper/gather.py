"""Read every result file of the workflow into one plain context for the paper templates.

:func:`gather` is the only place where the paper touches the results: it reads the files named by a
:class:`coalitions.paper.inputs.PaperInputs` (the comparison tables, the per-coding variables,
participants and datasets, the multiverse, the published values, the coding and model files, the
archives' ``status.json``, the provenance records), formats every
number with :mod:`coalitions.paper.fmt` and writes every generated sentence. The templates only lay
the context out; no number is typed into a template.

What is missing is said to be missing: a study without results, an original archive that could not
be obtained, a multiverse that has not been run, a published value nobody could read, each becomes
a clear "not available" sentence or an ``n.a.`` cell, never an error and never a guess.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..registry import Registry, load_registry
from ..util import LOG, CoalitionsError, read_yaml, sha256_file
from . import prose
from .bibtex import BibEntry, cite_label, format_reference, parse_bibtex, sort_key, to_bibtex, year_suffixes
from .fmt import (NA_PROSE, NA_TABLE, count, is_missing, join_words, num, normalise_stars, para,
                  parse_prose, plural, pval, stars, to_float)
from .provenance import data_checksums, file_hashes, software_versions, tex_version
from .explorer import explorer_data
from .answer import VariableStatus, direction, discussion, humanise, proposer_group, study_answer
from .inputs import PaperInputs

TRACKS = ("original", "rebuilt")
TRACK_LABEL = {"original": "Original archive", "rebuilt": "Rebuilt from public data"}
TRACK_WORD = {"original": "original-archive", "rebuilt": "rebuilt"}
OK = "ok"
STATUS_TEXT = {
    "ok": "estimated",
    "not_estimable": "not estimable",
    "not_available": "not available",
    "failed": "estimation failed",
    "missing": "no result",
}
PROXY_MARK = "‡"
PROXY_NOTE = ("‡ proxy: in the marked cells the variable is a proxy built from public data, not the "
              "original variable.")
STARS_NOTE = "† p<0.1, * p<0.05, ** p<0.01 (two-sided)."
HAND_NOTE = ("§ hand-coded: in the marked cells the variable is built from a sourced, hand-coded case file "
             "(config/cases), not from a dataset.")
BATTLE_NOTE = ("War Worsening and Own Trend are rebuilt from dated battles (CDB90 or IWBD, see the variables "
               "table), which cover only some wars and states.")


@dataclass(frozen=True)
class Study:
    """A replicated article: its key in the results layout, archive and citation keys."""

    key: str
    archive: str
    cite: str
    data_cite: str
    name: str
    unit: str          # what a status change is counted in
    units: str


STUDIES = (
    Study("weisiger", "weisiger2016", "weisiger2016exiting", "weisiger2016data", "Weisiger (2016)",
          "participant", "participants"),
    Study("henke", "henke2017", "henke2017politics", "henke2017data", "Henke (2017)",
          "country-operation", "country-operations"),
)

EST_COLS = {
    "weisiger": ["model_id", "table", "column", "term", "label", "estimate", "std_error", "statistic",
                 "p_value", "conf_low", "conf_high", "hazard_ratio", "proxy", "track", "coding", "hand_coded", "measure"],
    "henke": ["model_id", "term", "label", "estimate", "std_error", "statistic", "p_value", "conf_low",
              "conf_high", "ame", "ame_se", "proxy", "track", "coding"],
}
FIT_COLS = {
    "weisiger": ["model_id", "table", "column", "status", "message", "n_obs", "n_subjects", "n_failures",
                 "n_clusters", "loglik", "proxies", "track", "coding", "n_failures_lost"],
    "henke": ["model_id", "status", "message", "n_obs", "n_clusters", "n_events", "loglik", "pseudo_r2",
              "track", "coding"],
}
REQUIRED_EST = ["model_id", "term", "estimate", "track", "coding"]
REQUIRED_FIT = ["model_id", "status", "track", "coding"]
STR_COLS = ["model_id", "table", "column", "term", "label", "track", "coding", "status", "message",
            "proxies", "study", "unit", "baseline_status", "coding_status", "universe_id", "measure"]
STAT_ROWS = {
    "weisiger": [("n_subjects", "Subjects"), ("n_failures", "Failures"),
                 ("n_failures_lost", "Exits lost to missing data")],
    "henke": [("n_obs", "Observations"), ("n_events", "Events (joined)"), ("n_clusters", "Clusters")],
}
#: columns of the multiverse files that are not switches
MV_FIXED = {"universe_id", "model_id", "term", "estimate", "conf_low", "conf_high", "p_value", "status",
            "std_error", "statistic", "label", "message", "study", "track", "coding", "variant", "ame", "ame_se",
            "n_obs", "n_events", "model_status", "is_baseline", "dropped", "proxy", "key_term", "term_sd"}


# =========================================================================== reading helpers
def read_table(path: Path | None, *, required: list[str] = (), columns: list[str] = ()) -> pd.DataFrame | None:
    """Read one CSV of the results layout; None when the file is not given or does not exist.

    ``required`` columns must be present (else an error naming the file and the column); the other
    ``columns`` are added as missing when absent. Identifier columns are read as text.
    """
    if path is None or not path.is_file():
        return None
    try:
        df = pd.read_csv(path, dtype={c: str for c in STR_COLS}, keep_default_na=True)
    except pd.errors.EmptyDataError:
        raise CoalitionsError(f"{path}: the file is empty (no header); re-run the rule that writes it") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise CoalitionsError(f"{path}: not a valid UTF-8 CSV file ({exc}); re-run the rule that writes it") from None
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise CoalitionsError(
            f"{path}: missing column(s) {missing} (has: {', '.join(map(str, df.columns))}); the file must "
            "follow the results layout; re-run the rule that writes it")
    for c in columns:
        if c not in df.columns:
            df[c] = pd.NA
    for c in df.columns:
        if c in STR_COLS:
            df[c] = df[c].fillna("").astype(str).str.strip()
    return df


def _bool(x: Any) -> bool:
    if is_missing(x):
        return False
    if isinstance(x, str):
        return x.strip().lower() in {"true", "1", "yes", "t", "y"}
    return bool(x)


def _text_col(col: pd.Series) -> pd.Series:
    """A column as stripped text with missing values as NA (never the string "nan")."""
    return col.map(lambda v: pd.NA if is_missing(v) else str(v).strip())


def _first(values: Any) -> Any:
    for v in values:
        if not is_missing(v):
            return v
    return None


def _the_coding(label: str) -> str:
    """``the Baseline coding``; a label that already ends in "coding" is not doubled."""
    return f"the {label}" if label.lower().rstrip(". ").endswith("coding") else f"the {label} coding"


def _p_text(p: Any) -> str:
    """``p = 0.042``, ``p < 0.001`` or ``p not available`` (for sentences)."""
    v = pval(p, na=NA_PROSE)
    if v == NA_PROSE:
        return "p not available"
    return f"p {v.replace('<', '< ')}" if v.startswith("<") else f"p = {v}"


def _cap(text: str) -> str:
    """First letter upper-case, the rest untouched (coding labels keep their capitals)."""
    return text[:1].upper() + text[1:]


def _sentence(text: str) -> str:
    """End a message with a full stop unless it already ends with punctuation."""
    text = text.strip()
    return text if not text or text[-1] in ".!?" else text + "."


def _ref(kind: str, ident: str) -> dict[str, str]:
    """A numbered cross-reference segment (Table 3, Figure 2, Section 4)."""
    return {"t": "ref", "kind": kind, "id": ident}


def _text(value: str) -> dict[str, str]:
    """A literal text segment (data may be in it: never parsed as markup)."""
    return {"t": "text", "v": value}


def _slug(*parts: str) -> str:
    s = "-".join(str(p) for p in parts if p)
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-") or "x"


def _read_json(path: Path) -> dict | None:
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, json.JSONDecodeError) as exc:
        raise CoalitionsError(f"{path}: not valid JSON ({exc}); delete it and re-run the rule that writes it") from None
    return d if isinstance(d, dict) else None


def read_published(path: Path | None) -> pd.DataFrame | None:
    """Published values of one article, in one wide frame (one row per model and term).

    Two layouts are accepted: wide (``model_id, term, estimate, std_error, [p_value, stars,
    n_subjects, n_failures, ...], table, page, source_note``) and long (``model_id, term, quantity,
    value, table, page, [column_label], note``, one row per quantity). Empty cells stay missing:
    a published value nobody has read is never filled in.
    """
    wide_cols = ["estimate", "std_error", "p_value", "stars", "table", "page", "source_note", "column",
                 "n_subjects", "n_failures", "n_obs", "n_events", "n_clusters"]
    df = read_table(path, required=["model_id", "term"])
    if df is None:
        return None
    if "quantity" in df.columns:
        if "value" not in df.columns:
            raise CoalitionsError(f"{path}: has a 'quantity' column but no 'value' column; the long layout is "
                                  "model_id, term, quantity, value, table, page, note")
        df = df.assign(quantity=df["quantity"].fillna("").astype(str).str.strip())
        bad = sorted(set(df["quantity"]) - set(wide_cols) - {""})
        if bad:
            raise CoalitionsError(f"{path}: unknown quantity value(s) {bad}; allowed: estimate, std_error, "
                                  "p_value, stars, n_subjects, n_failures, n_obs, n_events, n_clusters")
        keys = ["model_id", "term"]
        meta = df.groupby(keys, sort=False).agg(
            {c: (lambda v: _first(v.replace("", pd.NA)) if v.dtype == object else _first(v))
             for c in ("table", "page", "note", "column_label") if c in df.columns}).reset_index()
        meta = meta.rename(columns={"note": "source_note", "column_label": "column"})
        vals = df[df["quantity"] != ""].pivot_table(index=keys, columns="quantity", values="value",
                                                    aggfunc=lambda v: _first(v), dropna=False)
        vals = vals.reset_index() if len(vals) else pd.DataFrame(columns=keys)
        df = meta.merge(vals, on=keys, how="left", sort=False)
    for c in wide_cols:
        if c not in df.columns:
            df[c] = pd.NA
    for c in ("table", "source_note", "column", "stars"):
        df[c] = df[c].astype(object).where(df[c].notna(), "").astype(str).str.strip()
    return df


def model_config(path: Path | None) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """Models and variable labels of a study's model file (``config/models/{study}.yaml``) when it exists.

    Returns ``({model_id: {table, column, label, estimator, cluster, note}}, {variable: label})``.
    Every list under a ``models`` key is read (Weisiger's single list; Henke's ``rebuilt`` and
    ``original`` lists), with the estimator and cluster of the nearest ``defaults``. Templated ids
    of model families (``fig5_ctrend{K}``) are skipped: their fits carry their table and column.
    """
    if path is None or not path.is_file():
        return {}, {}
    try:
        y = read_yaml(path) or {}
    except CoalitionsError as exc:
        LOG.warning("paper: %s (model labels are taken from the results instead)", exc)
        return {}, {}
    models: dict[str, dict[str, str]] = {}

    def walk(node: Any, defaults: dict[str, Any]) -> None:
        if isinstance(node, dict):
            d = dict(defaults)
            if isinstance(node.get("defaults"), dict):
                d.update(node["defaults"])
            if isinstance(node.get("models"), list):
                for m in node["models"]:
                    if isinstance(m, dict) and isinstance(m.get("id"), str) and "{" not in m["id"]:
                        def g(k: str) -> str:
                            v = m.get(k, d.get(k))
                            return "" if v is None else str(v)
                        models[m["id"]] = {k: g(k) for k in ("table", "column", "group", "label", "estimator",
                                                             "cluster", "note")}
            for k, v in node.items():
                if k not in ("models", "defaults"):
                    walk(v, d)

    walk(y, {})
    labels: dict[str, str] = {}
    for k, v in (y.get("variables") or {}).items() if isinstance(y.get("variables"), dict) else []:
        if isinstance(v, dict) and v.get("label"):
            labels[str(k)] = str(v["label"])
    for k, v in (y.get("labels") or {}).items() if isinstance(y.get("labels"), dict) else []:
        labels[str(k)] = str(v)
    return models, labels


SYNTHETIC_MARK = "synthetic test data"


def synthetic_tracks(variables: dict[tuple[str, str, str], Path], study: str) -> list[str]:
    """Tracks of a study whose data are synthetic test data, not the real data.

    A track is synthetic when its ``variables.csv`` (under any coding; ``variables`` is keyed by
    coding, study and track) carries the marker the readers write for synthetic archives
    ("SYNTHETIC TEST DATA"), or its fits or estimates have a true ``synthetic`` column.
    """
    out = set()
    for (_, st, tr), p in sorted(variables.items(), key=lambda kv: kv[1]):
        if st != study or tr not in TRACKS or tr in out:
            continue
        try:
            if SYNTHETIC_MARK in p.read_text(encoding="utf-8", errors="replace").lower():
                out.add(tr)
        except OSError:
            continue
    return sorted(out)


# =========================================================================== bibliography
class Bib:
    """All BibTeX entries the paper may cite: the registry's and the literature file's."""

    def __init__(self, registry: Registry, literature: Path | None = None):
        self.entries: dict[str, BibEntry] = {}
        self.source_keys: dict[str, list[str]] = {}
        for skey, src in registry.sources.items():
            keys = []
            for e in parse_bibtex(src.bibtex, origin=f"{registry.path}: sources.{skey}.bibtex"):
                self.entries.setdefault(e.key, e)
                keys.append(e.key)
            self.source_keys[skey] = keys
        if literature is not None and literature.is_file():
            for e in parse_bibtex(literature.read_text(encoding="utf-8"), origin=str(literature)):
                self.entries.setdefault(e.key, e)
        self.cited: set[str] = set()

    def paragraph(self, text: str) -> list[dict[str, Any]]:
        """Parse prose markup; citations of unknown keys are dropped (with a warning), known ones recorded."""
        segs = parse_prose(text)
        out: list[dict[str, Any]] = []
        for s in segs:
            if s["t"] in {"citet", "citep"}:
                keys = [k for k in s["keys"] if k in self.entries]
                for k in s["keys"]:
                    if k not in self.entries:
                        LOG.warning("paper: citation key '%s' is in no BibTeX of the registry; left out", k)
                if not keys:
                    if out and out[-1]["t"] == "text":
                        out[-1] = {"t": "text", "v": out[-1]["v"].rstrip()}
                    continue
                self.cited.update(keys)
                out.append({"t": s["t"], "keys": keys})
            else:
                out.append(s)
        return out

    def cite_keys(self, keys: list[str]) -> list[str]:
        known = [k for k in keys if k in self.entries]
        self.cited.update(known)
        return known

    def labels(self) -> dict[str, dict[str, str]]:
        """Author-year labels of every entry; years of cited works by the same authors get natbib's
        suffixes (2017a, 2017b) so both versions of the paper cite alike."""
        suf = year_suffixes([self.entries[k] for k in self.cited])
        out = {}
        for k, e in self.entries.items():
            lab = dict(cite_label(e))
            lab["year"] += suf.get(k, "")
            out[k] = lab
        return out

    def references(self) -> list[dict[str, str]]:
        """The reference list of the HTML version: the cited entries, ordered as plainnat orders them."""
        es = sorted((self.entries[k] for k in self.cited), key=sort_key)
        suf = year_suffixes(es)
        refs = []
        for e in es:
            r = format_reference(e)
            r["year"] += suf.get(e.key, "")
            refs.append(r)
        return refs

    def bibtex(self) -> str:
        """references.bib: every entry once, sorted by key."""
        return "\n\n".join(to_bibtex(self.entries[k]) for k in sorted(self.entries)) + "\n"


# =========================================================================== the study results
class StudyData:
    """Estimates, fits, variables and published values of one study, with lookup helpers."""

    def __init__(self, study: Study, inputs: PaperInputs, status: dict, coding_order: list[str],
                 coding_labels: dict[str, str]):
        self.study = study
        self.status = status
        self.cl = coding_labels
        self.models_cfg, self.cfg_labels = model_config(inputs.models.get(study.key))
        self.est, self.est_file = self._table(inputs, "estimates", EST_COLS[study.key], REQUIRED_EST)
        self.fit, self.fit_file = self._table(inputs, "fits", FIT_COLS[study.key], REQUIRED_FIT)
        self.original_hidden = False
        self.original_hidden_synthetic = False
        self.synthetic_tracks: set[str] = set(synthetic_tracks(inputs.variables, study.key))
        if not status["available"]:
            has_orig = ((self.fit is not None and ((self.fit["track"] == "original") & (self.fit["status"] == OK)).any())
                        or (self.est is not None and ((self.est["track"] == "original")
                                                      & self.est["estimate"].map(to_float).notna()).any()))
            if has_orig:
                self.original_hidden = True
                self.original_hidden_synthetic = "original" in self.synthetic_tracks
                LOG.warning("paper: %s: results of the original-archive track exist but the archive status "
                            "says it was not available; they are not shown", study.key)
            self.est = None if self.est is None else self.est[self.est["track"] != "original"]
            self.fit = None if self.fit is None else self.fit[self.fit["track"] != "original"]
            self.synthetic_tracks.discard("original")
        for df in (self.est, self.fit):
            if df is not None and "synthetic" in df.columns:
                for tr in df.loc[df["synthetic"].map(_bool), "track"].unique():
                    self.synthetic_tracks.add(str(tr))
        if status.get("synthetic") and status["available"]:
            self.synthetic_tracks.add("original")
        self.term_order: dict[str, list[str]] = {}
        #: (model, term) pairs flagged as key terms by the estimates (``key_term``), before variants are chosen
        self.key_flags: list[tuple[str, str]] | None = None
        if self.est is not None:
            for m, t in zip(self.est["model_id"], self.est["term"]):
                lst = self.term_order.setdefault(m, [])
                if t and t not in lst:
                    lst.append(t)
            if "key_term" in self.est.columns:
                flagged = self.est[self.est["key_term"].map(_bool)]
                self.key_flags = list(dict.fromkeys(zip(flagged["model_id"], flagged["term"])))
        self.variants: dict[tuple[str, str, str], dict[str, str]] = {}
        self._choose_variants()
        self._index()
        present = []
        for df in (self.fit, self.est):
            if df is not None:
                present += [c for c in df["coding"].unique() if c]
        self.codings = [c for c in coding_order if c in set(present)] + sorted(set(present) - set(coding_order))
        self.track_codings = {
            tr: [c for c in self.codings if self._has(tr, c)] for tr in TRACKS
        }
        self.published, self.published_file = self._published(inputs.published.get(study.archive))
        self.labels = self._labels()

    # ---- variants
    def _choose_variants(self) -> None:
        """Keep one variant of each model per track and coding.

        The fits may hold several variants of a model (``variant`` column): the model as published
        and, when it cannot be estimated on a track, a *feasible* variant without the variables that
        are missing there (``dropped``). The table shows the model as published when it is
        estimated, else the first estimated variant, and says so in a note (:attr:`variants`).
        """
        if self.fit is None or "variant" not in self.fit.columns:
            return
        keys = ["model_id", "track", "coding"]
        fit = self.fit.assign(variant=self.fit["variant"].fillna("").astype(str),
                              dropped=(self.fit["dropped"] if "dropped" in self.fit.columns else pd.Series("", index=self.fit.index)))
        is_pub = fit["variant"].isin(["as_published", ""])
        is_ok = fit["status"] == OK
        # preference: published and estimated, another estimated variant, published, anything else
        prio = pd.Series(3, index=fit.index).mask(is_pub, 2).mask(is_ok, 1).mask(is_ok & is_pub, 0)
        chosen_rows = fit.assign(_prio=prio).sort_values("_prio", kind="stable").drop_duplicates(keys)
        keep_idx = list(chosen_rows.index)
        chosen = {(m, t, c): v for m, t, c, v in zip(chosen_rows["model_id"], chosen_rows["track"],
                                                      chosen_rows["coding"], chosen_rows["variant"])}
        pub_first = {(r["model_id"], r["track"], r["coding"]): r
                     for r in fit[is_pub].drop_duplicates(keys).to_dict("records")}
        for r in chosen_rows.to_dict("records"):
            key = (r["model_id"], r["track"], r["coding"])
            first = pub_first.get(key)
            if r["variant"] not in ("as_published", "") and first is not None:
                self.variants[key] = {"variant": r["variant"],
                                      "dropped": "" if is_missing(r.get("dropped")) else str(r["dropped"]),
                                      "published_status": str(first["status"]),
                                      "published_message": "" if is_missing(first.get("message")) else str(first["message"])}
        keep_idx = sorted(keep_idx)
        self.fit = self.fit.loc[keep_idx]
        if self.est is not None and "variant" in self.est.columns:
            v = self.est["variant"].fillna("").astype(str)
            want = [chosen.get((m, t, c)) for m, t, c in zip(self.est["model_id"], self.est["track"], self.est["coding"])]
            mask = [w is None or vv == w for vv, w in zip(v, want)]
            self.est = self.est[mask]

    # ---- reading
    def _table(self, inputs: PaperInputs, what: str, cols: list[str], required: list[str]):
        """The study's comparison table ``{study}_{what}`` (every coding and track stacked)."""
        comp = inputs.comparison.get(f"{self.study.key}_{what}")
        df = read_table(comp, required=required, columns=cols)
        return (df, comp) if df is not None else (None, None)

    @staticmethod
    def _published(path: Path | None):
        return read_published(path), (path if path is not None and path.is_file() else None)

    def _has(self, track: str, coding: str) -> bool:
        return any(df is not None and ((df["track"] == track) & (df["coding"] == coding)).any()
                   for df in (self.est, self.fit))

    def _labels(self) -> dict[str, str]:
        labels: dict[str, str] = {}
        if self.est is not None:
            for term, lab in zip(self.est["term"], self.est["label"]):
                if term and term not in labels and lab:
                    labels[term] = lab
        if self.published is not None and "label" in self.published.columns:
            for term, lab in zip(self.published["term"], self.published["label"].fillna("").astype(str)):
                if term and term not in labels and lab.strip():
                    labels[term] = lab.strip()
        for term, lab in self.cfg_labels.items():
            labels.setdefault(term, lab)
        return labels

    def label(self, term: str) -> str:
        return self.labels.get(term, term)

    # ---- models
    def model_ids(self) -> list[str]:
        """Models with a result in some track, or with at least one published number, in the order
        of the model configuration (the article's order), then of the results files."""
        have: list[str] = []
        for df in (self.fit, self.est):
            if df is not None:
                have += [m for m in df["model_id"] if m]
        if self.published is not None:
            pub = self.published
            num_cols = [c for c in ("estimate", "std_error") if c in pub.columns]
            has_num = pub[num_cols].map(to_float).notna().any(axis=1) if num_cols else pd.Series(False, index=pub.index)
            have += [m for m in pub.loc[has_num, "model_id"] if m]
        have_set = set(have)
        ordered = [m for m in self.models_cfg if m in have_set]
        return ordered + [m for m in dict.fromkeys(have) if m not in set(ordered)]

    def published_only(self) -> list[str]:
        """Models listed in the published-values file without any number or result here."""
        if self.published is None:
            return []
        ids = set(self.model_ids())
        return [m for m in dict.fromkeys(self.published["model_id"]) if m and m not in ids]

    def model_meta(self, model_id: str) -> dict[str, str]:
        """Table, column, label, estimator and cluster of a model (from the model configuration,
        the fits, the estimates or the published file)."""
        cache = self.__dict__.setdefault("_meta_cache", {})
        if model_id not in cache:
            cache[model_id] = self._model_meta(model_id)
        return dict(cache[model_id])

    def _model_meta(self, model_id: str) -> dict[str, str]:
        cfg = self.models_cfg.get(model_id, {})
        out = {"table": cfg.get("table", ""), "column": cfg.get("column", ""), "group": cfg.get("group", ""),
               "label": cfg.get("label", ""),
               "estimator": cfg.get("estimator", ""), "cluster": cfg.get("cluster", ""), "note": cfg.get("note", "")}
        for df in (self.fit, self.est, self.published):
            if df is None:
                continue
            sub = df[df["model_id"] == model_id]
            for k in ("table", "column", "label", "estimator"):
                if df is self.est and k == "label":
                    continue            # the estimates' label is the term's
                if not out[k] and k in sub.columns:
                    v = _first(_text_col(sub[k]))
                    out[k] = "" if v is None else str(v)
        return out

    def _index(self) -> None:
        """Look-up tables by (model, track, coding), built once (the tables are read many times)."""
        keys = ["model_id", "track", "coding"]
        self._fit_idx = {} if self.fit is None else {
            k: g.iloc[0].to_dict() for k, g in self.fit.groupby(keys, sort=False)}
        self._est_idx = {} if self.est is None else {k: g for k, g in self.est.groupby(keys, sort=False)}
        self._empty_est = pd.DataFrame(columns=list(self.est.columns) if self.est is not None else EST_COLS[self.study.key])

    def fit_row(self, model_id: str, track: str, coding: str) -> dict[str, Any] | None:
        """The fit of one model in one column (track and coding), or None."""
        return self._fit_idx.get((model_id, track, coding))

    def est_rows(self, model_id: str, track: str, coding: str) -> pd.DataFrame:
        """The estimates of one model in one column (track and coding); empty when there are none."""
        return self._est_idx.get((model_id, track, coding), self._empty_est)

    def status_of(self, model_id: str, track: str, coding: str) -> tuple[str, str]:
        """(status, message) of one model in one column; estimates without a fit row count as ok."""
        f = self.fit_row(model_id, track, coding)
        if f is not None:
            st = str(f.get("status") or "").strip() or "missing"
            return st, str(f.get("message") or "").strip()
        if not self.est_rows(model_id, track, coding).empty:
            return OK, ""
        return "missing", ""

    def terms(self, model_id: str) -> list[str]:
        """Terms of a model in the order of the model as published (every variant and track), then
        terms only the published-values file lists."""
        terms: list[str] = list(self.term_order.get(model_id, []))
        if self.published is not None:
            for t in self.published.loc[self.published["model_id"] == model_id, "term"]:
                if t and t not in terms:
                    terms.append(t)
        return terms


# =========================================================================== columns and cells
def _columns(sd: StudyData) -> tuple[list[dict], list[dict]]:
    """The columns of a study's model tables and the header groups above them."""
    cols: list[dict] = [{"kind": "published", "group": "Published", "label": "Article", "track": None,
                         "coding": None}]
    for tr in TRACKS:
        group = TRACK_LABEL[tr] + (" (synthetic data)" if tr in sd.synthetic_tracks else "")
        codings = sd.track_codings[tr]
        if codings:
            for c in codings:
                cols.append({"kind": "track", "group": group, "label": sd.cl.get(c, c), "track": tr,
                             "coding": c})
        else:
            cols.append({"kind": "na", "group": group, "label": "not available", "track": tr, "coding": None})
    groups: list[dict] = []
    for c in cols:
        if groups and groups[-1]["label"] == c["group"]:
            groups[-1]["span"] += 1
        else:
            groups.append({"label": c["group"], "span": 1})
    return cols, groups


def _cell(est: Any = None, se: Any = None, p: Any = None, *, proxy: bool = False, blank: bool = False,
          star: str | None = None, decimals: str = "coef", hand: bool = False) -> dict[str, Any]:
    """One table cell: the estimate (fixed decimals), stars, standard error in parentheses, proxy mark."""
    if blank:
        return {"est": "", "stars": "", "se": "", "proxy": False, "hand": False}
    e = num(est, decimals)
    return {
        "est": e,
        "stars": (star if star is not None else stars(p)) if e != NA_TABLE else "",
        "se": f"({num(se, 'ame' if decimals == 'ame' else 'se')})" if to_float(se) is not None else "",
        "proxy": bool(proxy) and e != NA_TABLE,
        "hand": bool(hand) and e != NA_TABLE,
    }


def _published_cells(sd: StudyData, model_id: str, terms: list[str]) -> tuple[dict[str, dict], list[str], dict]:
    """Cells of the published column, the table notes about it and published counts (never guessed)."""
    notes: list[str] = []
    cells: dict[str, dict] = {t: _cell(None) for t in terms}
    counts: dict[str, Any] = {}
    src = f"config/published/{sd.study.archive}.csv"
    if sd.published is None:
        notes.append(f"Published values: not available ({src} does not exist).")
        return cells, notes, counts
    sub = sd.published[sd.published["model_id"] == model_id]
    if sub.empty:
        notes.append(f"Published values: not available ({src} has no row for model {model_id}).")
        return cells, notes, counts
    n_num = 0
    for _, r in sub.iterrows():
        t = r["term"]
        if t not in cells:
            continue
        if to_float(r.get("estimate")) is not None:
            n_num += 1
        st = normalise_stars(r.get("stars")) or (stars(r.get("p_value")) if to_float(r.get("p_value")) is not None else "")
        cells[t] = _cell(r.get("estimate"), r.get("std_error"), star=st)
    for k in ("n_subjects", "n_failures", "n_obs", "n_events", "n_clusters"):
        v = _first(sub[k]) if k in sub.columns else None
        if v is not None:
            counts[k] = v
    with_num = sub[sub["estimate"].map(to_float).notna()] if "estimate" in sub.columns else sub.iloc[0:0]
    ref = with_num if len(with_num) else sub
    tab = _first(ref["table"].astype(str).replace("", pd.NA)) if "table" in ref.columns else None
    page = _first(ref["page"]) if "page" in ref.columns else None
    note_src = _first(with_num["source_note"].astype(str).replace("", pd.NA)) if len(with_num) else None
    where = []
    if tab is not None:
        where.append(f"table {tab}")
    if page is not None:
        p = to_float(page)
        where.append(f"p. {int(p) if p is not None and p.is_integer() else page}")
    if n_num == 0:
        notes.append(f"Published values: not available ({src} leaves them empty: the article's table could not "
                     "be read; none is guessed).")
    else:
        missing = sum(1 for t in terms if cells[t]["est"] == NA_TABLE)
        from ..henke.logs import LOG_NOTE_PREFIXES

        if note_src and note_src.startswith(LOG_NOTE_PREFIXES):
            txt = f"Published values: {note_src}"
        else:
            txt = "Published values: from the article" + (f" ({', '.join(where)})" if where else "")
            if note_src:
                txt += f"; {note_src}"
        if missing:
            txt += f"; {plural(missing, 'term')} not available in {src}"
        notes.append(txt + ".")
    return cells, notes, counts


def model_table(sd: StudyData, model_id: str, cols: list[dict], groups: list[dict]) -> dict[str, Any]:
    """One model, side by side: published, original archive, rebuilt, under every coding."""
    key = sd.study.key
    meta = sd.model_meta(model_id)
    terms = sd.terms(model_id)
    pub_cells, notes, pub_counts = _published_cells(sd, model_id, terms)
    rows = [{"label": sd.label(t), "term": t, "cells": []} for t in terms]
    ame_rows: list[dict] = []
    stat_rows = [{"label": lab, "key": k, "cells": []} for k, lab in STAT_ROWS[key]]
    status_cells: list[str] = []
    notes_acc = _LetterNotes()
    any_not_ok = False
    has_proxy = False
    ame_terms = []
    if key == "henke" and sd.est is not None:
        sub = sd.est[(sd.est["model_id"] == model_id)]
        ame_terms = [t for t in terms if sub.loc[sub["term"] == t, "ame"].map(to_float).notna().any()]
        ame_rows = [{"label": f"AME of {sd.label(t)}", "term": t, "cells": []} for t in ame_terms]
    proxies_named: list[str] = []
    hand_named: list[str] = []
    has_battle = False
    for col in cols:
        if col["kind"] == "published":
            for r in rows:
                r["cells"].append(pub_cells[r["term"]])
            for r in ame_rows:
                r["cells"].append(_cell(None))
            for s in stat_rows:
                s["cells"].append(count(pub_counts.get(s["key"])))
            status_cells.append("")
            continue
        if col["kind"] == "na":
            for r in rows + ame_rows:
                r["cells"].append(_cell(blank=True))
            for s in stat_rows:
                s["cells"].append("")
            status_cells.append(STATUS_TEXT["not_available"])
            any_not_ok = True
            continue
        tr, c = col["track"], col["coding"]
        st, msg = sd.status_of(model_id, tr, c)
        est = sd.est_rows(model_id, tr, c).drop_duplicates("term").set_index("term")
        fit = sd.fit_row(model_id, tr, c) or {}
        ok = st == OK
        for r in rows:
            if ok and r["term"] in est.index:
                e = est.loc[r["term"]]
                prox = _bool(e.get("proxy"))
                has_proxy |= prox and to_float(e.get("estimate")) is not None
                if prox and r["label"] not in proxies_named:
                    proxies_named.append(r["label"])
                hand = _bool(e.get("hand_coded")) or str(e.get("measure") or "") == "hand_coded"
                if hand and r["label"] not in hand_named:
                    hand_named.append(r["label"])
                has_battle |= _is_trend(r["term"]) and to_float(e.get("estimate")) is not None
                r["cells"].append(_cell(e.get("estimate"), e.get("std_error"), e.get("p_value"), proxy=prox,
                                        hand=hand))
            else:
                r["cells"].append(_cell(blank=True))
        for r in ame_rows:
            if ok and r["term"] in est.index:
                e = est.loc[r["term"]]
                r["cells"].append(_cell(e.get("ame"), e.get("ame_se"), star="", decimals="ame"))
            else:
                r["cells"].append(_cell(blank=True))
        for s in stat_rows:
            s["cells"].append(count(fit.get(s["key"])) if ok else "")
        var = sd.variants.get((model_id, tr, c))
        if ok and var:
            any_not_ok = True
            pub_st = STATUS_TEXT.get(var["published_status"], var["published_status"].replace("_", " "))
            why = f" ({humanise(var['published_message'], sd.labels)})" if var["published_message"] else ""
            without = f" without {humanise(var['dropped'], sd.labels)}" if var["dropped"] else ""
            same = str(msg).startswith("no change")  # equal to the baseline coding's estimates
            letter = notes_acc.add(f"the model as published is {pub_st}{why}; shown: the {var['variant']} "
                                   f"variant{without}" + (f"; {str(msg).split('; ')[0]}" if same else ""), tr, c)
            status_cells.append(f"{var['variant']} variant{', no change' if same else ''} ({letter})")
        elif ok and str(msg).startswith("no change"):  # equal to the baseline coding's estimates
            any_not_ok = True
            status_cells.append(f"no change ({notes_acc.add(msg, tr, c)})")
        elif ok:
            status_cells.append(STATUS_TEXT[OK])
        else:
            any_not_ok = True
            text = STATUS_TEXT.get(st, st.replace("_", " "))
            if msg:
                status_cells.append(f"{text} ({notes_acc.add(humanise(msg, sd.labels), tr, c)})")
            else:
                status_cells.append(text)
    title = _table_caption(sd, model_id, meta)
    table_notes = [_estimator_note(sd, meta)]
    table_notes += notes
    if has_proxy:
        table_notes.append(PROXY_NOTE + (f" Proxies: {join_words(proxies_named)}." if proxies_named else ""))
    if hand_named:
        table_notes.append(f"{HAND_NOTE} Hand-coded: {join_words(hand_named)}.")
    if has_battle:
        table_notes.append(BATTLE_NOTE)
    if any(col["kind"] == "na" for col in cols):
        for col in cols:
            if col["kind"] == "na":
                table_notes.append(_na_column_note(sd, col["track"]))
    table_notes += notes_acc.notes(sd)
    table_notes.append(STARS_NOTE)
    return {
        "id": _slug("tab", key, model_id),
        "model_id": model_id,
        "title": title,
        "columns": [{"label": c["label"], "group": c["group"]} for c in cols],
        "groups": groups,
        "rows": rows,
        "ame_rows": ame_rows,
        "stat_rows": stat_rows,
        "status_row": {"label": "Status", "cells": status_cells} if any_not_ok else None,
        "notes": table_notes,
        "has_proxy": has_proxy,
        "n_cols": len(cols),
    }


class _LetterNotes:
    """Lettered notes of a table's status row: one letter per distinct message, shared by every
    column with that message, so a reason repeated across codings is printed once."""

    def __init__(self) -> None:
        self.order: list[str] = []
        self.where: dict[str, list[tuple[str, str]]] = {}

    def add(self, message: str, track: str, coding: str) -> str:
        if message not in self.where:
            self.order.append(message)
            self.where[message] = []
        self.where[message].append((track, coding))
        return chr(ord("a") + self.order.index(message)) if len(self.order) <= 26 else str(self.order.index(message) + 1)

    def notes(self, sd: "StudyData") -> list[str]:
        out = []
        for i, msg in enumerate(self.order):
            letter = chr(ord("a") + i) if len(self.order) <= 26 else str(i + 1)
            parts = []
            for tr in TRACKS:
                cods = [c for t, c in self.where[msg] if t == tr]
                if not cods:
                    continue
                if len(cods) > 1 and cods == sd.track_codings[tr]:
                    parts.append(f"{TRACK_LABEL[tr]}, every coding")
                else:
                    parts.append(f"{TRACK_LABEL[tr]}, {join_words([sd.cl.get(c, c) for c in cods])}")
            out.append(_sentence(f"({letter}) {'; '.join(parts)}: {msg}"))
        return out


def _model_title(sd: StudyData, model_id: str, meta: dict) -> str:
    """``Table 2, Full Model`` (Weisiger); the configured label (Henke); else the model id."""
    tab, col = meta["table"], meta["column"]
    if tab and col:
        t = tab if tab.lower().startswith(("fig", "table")) else f"Table {tab}"
        grp = meta.get("group", "")
        return f"{t}, {col}" + (f" ({grp})" if grp and grp.lower() not in col.lower() else "")
    if meta.get("label"):
        return meta["label"]
    return f"Model {model_id}" + (f" ({col})" if col else "")


def _table_caption(sd: StudyData, model_id: str, meta: dict) -> str:
    """Caption of a model table: the study, then the article's table and column (or the model label)."""
    return f"{sd.study.name}: {_model_title(sd, model_id, meta)}"


#: what a cluster variable's units are, in words
CLUSTER_WORDS = {"coalid": "coalition", "ccode": "country", "operation_id": "operation", "warnum": "war"}

ESTIMATORS = {
    "cox": "Cox proportional hazards coefficients (not hazard ratios)",
    "logit": "Logit coefficients",
    "probit": "Probit coefficients",
    "clogit": "Conditional logit coefficients",
}


def _estimator_note(sd: StudyData, meta: dict) -> str:
    """What the numbers are: estimator, standard errors, and the counts under each column."""
    key = sd.study.key
    est = meta.get("estimator") or ("cox" if key == "weisiger" and not meta["table"].upper().startswith("A4")
                                    else ("probit" if key == "weisiger" else "logit"))
    txt = ESTIMATORS.get(est, f"{est} coefficients")
    cl = meta.get("cluster", "")
    if key == "weisiger" and not cl and not meta.get("estimator"):
        cl = "coalid"
    if cl:
        word = CLUSTER_WORDS.get(cl) or sd.label(cl).lower()
        txt += f"; standard errors clustered by {word} in parentheses"
    else:
        txt += "; standard errors in parentheses"
    if key == "weisiger" and est == "cox":
        txt += "; subjects and failures under each column"
    if key == "henke":
        txt += ("; AME = average marginal effect on the probability of joining, its standard error in "
                "parentheses")
    if meta.get("note"):
        txt += f". Model note: {meta['note']}"
    return txt + "."


def _na_column_note(sd: StudyData, track: str) -> str:
    if track == "original":
        st = sd.status
        if not st["available"]:
            return (f"Original archive: not available (the replication archive of {sd.study.name} could not be "
                    "obtained; see the notice on the first page).")
        return "Original archive: not available (the archive was obtained but the workflow wrote no results for it)."
    return "Rebuilt from public data: not available (no results of the rebuilt track)."


def _is_trend(term: str) -> bool:
    """A battlefield trend of Weisiger's models (ctrendK, otrendK)."""
    return bool(re.match(r"^[co]trend\d+$", str(term)))


# =========================================================================== sweeps (Fig. 5)
def sweep_table(sd: StudyData, model_ids: list[str], title: str, cols: list[dict], groups: list[dict]) -> dict:
    """A window sweep (one model per window): one row per model, the term that varies across them."""
    term_sets = {m: set(sd.terms(m)) for m in model_ids}
    common = set.intersection(*term_sets.values()) if term_sets else set()
    rows = []
    focus_terms = []
    has_proxy = False
    n_est = 0
    for m in model_ids:
        own = [t for t in sd.terms(m) if t not in common]
        focus = own[0] if len(own) == 1 else (sd.terms(m)[0] if sd.terms(m) else "")
        focus_terms.append(focus)
        meta = sd.model_meta(m)
        cells = []
        for col in cols:
            if col["kind"] != "track":
                if col["kind"] == "published" and sd.published is not None:
                    sub = sd.published[(sd.published["model_id"] == m) & (sd.published["term"] == focus)]
                    cells.append(_cell(_first(sub["estimate"]), _first(sub["std_error"]),
                                       star=normalise_stars(_first(sub["stars"]))) if not sub.empty else _cell(None))
                else:
                    cells.append(_cell(None) if col["kind"] == "published" else _cell(blank=True))
                continue
            st, _ = sd.status_of(m, col["track"], col["coding"])
            e = sd.est_rows(m, col["track"], col["coding"])
            e = e[e["term"] == focus]
            if st != OK:
                cells.append({"est": STATUS_TEXT.get(st, st), "stars": "", "se": "", "proxy": False})
            elif e.empty:
                cells.append(_cell(blank=True))
            else:
                r = e.iloc[0]
                prox = _bool(r.get("proxy"))
                has_proxy |= prox
                cells.append(_cell(r.get("estimate"), r.get("std_error"), r.get("p_value"), proxy=prox,
                                   hand=str(r.get("measure") or "") == "hand_coded"))
                n_est += to_float(r.get("estimate")) is not None
        rows.append({"label": meta["column"] or sd.label(focus) or m, "term": focus, "cells": cells})
    notes = ["Each row is one model of the family; the cells give the coefficient of the variable that changes "
             "between the rows, with its standard error in parentheses."]
    n_pub = sum(1 for r in rows if r["cells"] and r["cells"][0]["est"] not in (NA_TABLE, ""))
    src = f"config/published/{sd.study.archive}.csv"
    if n_pub == 0:
        notes.append(f"Published values: not available ({src} gives none for these models; none is guessed).")
    elif n_pub < len(rows):
        notes.append(f"Published values: {count(n_pub)} of {count(len(rows))} from {src}; the others are not available.")
    if has_proxy:
        notes.append(PROXY_NOTE)
    if any(c.get("hand") for r in rows for c in r["cells"]):
        notes.append(HAND_NOTE)
    if n_est and any(_is_trend(t) for t in focus_terms):
        notes.append(BATTLE_NOTE)
    for col in cols:
        if col["kind"] == "na":
            notes.append(_na_column_note(sd, col["track"]))
    notes.append(STARS_NOTE)
    return {"id": _slug("tab", sd.study.key, title), "title": title,
            "columns": [{"label": c["label"], "group": c["group"]} for c in cols], "groups": groups,
            "rows": rows, "ame_rows": [], "stat_rows": [], "status_row": None, "notes": notes,
            "has_proxy": has_proxy, "n_cols": len(cols), "model_ids": model_ids, "focus_terms": focus_terms,
            "n_estimated": n_est, "empty": n_est == 0}


# =========================================================================== prose generated from numbers
def _coef_phrase(sd: StudyData, model_id: str, term: str, track: str, coding: str) -> str | None:
    st, msg = sd.status_of(model_id, track, coding)
    if st != OK:
        return None
    e = sd.est_rows(model_id, track, coding)
    e = e[e["term"] == term]
    if e.empty or to_float(e.iloc[0]["estimate"]) is None:
        return None
    r = e.iloc[0]
    fit = sd.fit_row(model_id, track, coding) or {}
    s = f"{num(r['estimate'], 'coef')} (standard error {num(r['std_error'], 'se', na=NA_PROSE)}, {_p_text(r['p_value'])}"
    if sd.study.key == "weisiger":
        s += f"; {count(fit.get('n_subjects'), na=NA_PROSE)} subjects, {count(fit.get('n_failures'), na=NA_PROSE)} failures"
    else:
        s += f"; {count(fit.get('n_obs'), na=NA_PROSE)} observations"
    s += ")"
    if _bool(r.get("proxy")):
        s += ", where the variable is a proxy"
    if sd.study.key == "henke" and to_float(r.get("ame")) is not None:
        s += (f"; its average marginal effect on the probability of joining is {num(r['ame'], 'ame')} "
              f"(standard error {num(r.get('ame_se'), 'ame', na=NA_PROSE)})")
    return s


def headline(sd: StudyData, baseline: str) -> tuple[str | None, str | None]:
    """The model and term the text leads with: Weisiger's Full Model (Table 2) and its first term
    (Common Front); Henke's first model and its embeddedness term. None when nothing is estimated."""
    ids = [m for m in sd.model_ids() if not sd.model_meta(m)["table"].lower().startswith("fig")]
    if not ids:
        return None, None
    model = None
    if sd.study.key == "weisiger":
        for m in ids:
            meta = sd.model_meta(m)
            if meta["table"] == "2" and meta["column"].lower() == "full model":
                model = m
                break
    if model is None:
        estimated = [m for m in ids if sd.status_of(m, "rebuilt", baseline)[0] == OK]
        model = estimated[0] if estimated else ids[0]
    terms = sd.terms(model)
    if not terms:
        return model, None
    return model, (key_term_of_model(sd, model) or terms[0])


def study_paragraphs(sd: StudyData, baseline: str, bib: Bib) -> list[list[dict]]:
    """Generated sentences: how many models were estimated, and the headline coefficient per column."""
    name = sd.study.name
    ids = sd.model_ids()
    paras: list[list[dict]] = []
    pub_only = sd.published_only()
    pub_sent = ""
    if pub_only:
        pub_sent = (f"{plural(len(pub_only), 'further model')} listed in config/published/{sd.study.archive}.csv "
                    f"{'has' if len(pub_only) == 1 else 'have'} neither a result of the workflow nor a published "
                    "value here, so no table is shown for "
                    f"{'it' if len(pub_only) == 1 else 'them'}.")
    if not ids:
        return [para(f"No results of {name} are available: the workflow has written no estimates or fits for "
                     "this study yet.", pub_sent)]
    sent = []
    for tr in TRACKS:
        codings = sd.track_codings[tr]
        if not codings:
            if tr == "original":
                sent.append(_original_absent_sentence(sd))
            else:
                sent.append("The rebuilt track has no results.")
            continue
        for c in ([baseline] if baseline in codings else codings[:1]):
            sts = [sd.status_of(m, tr, c)[0] for m in ids]
            n_ok = sum(s == OK for s in sts)
            bad = {}
            for s in sts:
                if s != OK:
                    bad[STATUS_TEXT.get(s, s)] = bad.get(STATUS_TEXT.get(s, s), 0) + 1
            txt = (f"On the {TRACK_WORD[tr]} track under {_the_coding(sd.cl.get(c, c))}, "
                   f"{count(n_ok)} of the {plural(len(ids), 'model')} could be estimated")
            if bad:
                txt += " (" + join_words([f"{count(n)} {k}" for k, n in sorted(bad.items())]) + ")"
            sent.append(txt + ".")
    sent.append(pub_sent)
    paras.append(para(*sent))
    paras.append([_text("The key terms of the key model, under every coding, are summarised in "),
                  _ref("table", _slug("tab", "answer", sd.study.key, "rebuilt")) if sd.track_codings["rebuilt"]
                  else _text("the answer section"),
                  _text("; the tables below give every model as estimated.")])
    return paras


def _original_absent_sentence(sd: StudyData) -> str:
    if not sd.status["available"]:
        return ("The original-archive track could not be estimated because the archive could not be obtained, "
                "so its columns are empty.")
    return "The original archive was obtained, but the workflow has written no results for it yet."


# =========================================================================== coefficient-plot data
def _ci(r: Any) -> tuple[float | None, float | None, float | None]:
    e = to_float(r.get("estimate"))
    lo, hi = to_float(r.get("conf_low")), to_float(r.get("conf_high"))
    se = to_float(r.get("std_error"))
    if e is not None and (lo is None or hi is None) and se is not None:
        lo, hi = e - 1.959964 * se, e + 1.959964 * se
    return e, lo, hi


#: a study's key variable, recognised in each model by this text in the term or its label (Henke's
#: models each carry their own embeddedness measure: embeddedness, embeddedness_igo_only, ...)
KEY_PATTERN = {"henke": "embed"}


def key_terms_of(sd: StudyData, models: list[str], mv_terms: list[str], override: list[str] | None) -> list[str]:
    """Terms drawn in the coefficient plots: the caller's list; else the multiverse's terms followed
    by the terms that appear in at least half of the models (at most three in all)."""
    all_terms = {t for m in models for t in sd.terms(m)}
    if override:
        return [t for t in override if t in all_terms]
    keep = [t for t in mv_terms if t in all_terms]
    flagged = _flagged_terms(sd, models)
    if flagged is not None:
        return (keep + [t for t in flagged if t not in keep])[:3]
    freq: dict[str, int] = {}
    order: list[str] = []
    for m in models:
        for t in sd.terms(m):
            freq[t] = freq.get(t, 0) + 1
            if t not in order:
                order.append(t)
    frequent = [t for t in order if freq[t] * 2 >= len(models)]
    frequent.sort(key=lambda t: (-freq[t], order.index(t)))
    keep += [t for t in frequent if t not in keep]
    return keep[:3]


def _flagged_terms(sd: StudyData, models: list[str]) -> list[str] | None:
    """Terms the estimates flag as key terms (``key_term`` column), most frequent first; None when
    the estimates have no such column."""
    if sd.key_flags is None:
        return None
    wanted = set(models)
    pairs = [(m, t) for m, t in sd.key_flags if m in wanted]
    order = list(dict.fromkeys(t for _, t in pairs))
    freq = {t: sum(1 for _, x in pairs if x == t) for t in order}
    return sorted(order, key=lambda t: (-freq[t], order.index(t)))


def key_term_of_model(sd: StudyData, model_id: str) -> str | None:
    """The model's own measure of the study's key variable: the first term the estimates flag as key
    term (``key_term``), else the first term matching :data:`KEY_PATTERN`."""
    flagged = _flagged_terms(sd, [model_id])
    if flagged:
        return [t for t in sd.terms(model_id) if t in flagged][0]
    pat = KEY_PATTERN.get(sd.study.key)
    if not pat:
        return None
    for t in sd.terms(model_id):
        if pat in t.lower() or pat in sd.label(t).lower():
            return t
    return None


def coef_plot_data(sd: StudyData, models: list[str], term: str | None, label: str | None = None) -> dict[str, Any]:
    """Estimates with 95% CI of one term in each model, per track and coding (ok fits only).

    ``term=None``: each model's own key-variable measure (:func:`key_term_of_model`); the model
    row then names the measure when it is not the plain one.
    """
    series = []
    for tr in TRACKS:
        for c in sd.track_codings[tr]:
            series.append({"track": tr, "coding": c, "label": f"{TRACK_LABEL[tr]}, {sd.cl.get(c, c)}"})
    out_models = []
    for m in models:
        t = term if term is not None else key_term_of_model(sd, m)
        if t is None or t not in sd.terms(m):
            continue
        pts = []
        for s in series:
            st, _ = sd.status_of(m, s["track"], s["coding"])
            e = sd.est_rows(m, s["track"], s["coding"])
            e = e[e["term"] == t]
            if st != OK or e.empty:
                pts.append(None)
                continue
            est, lo, hi = _ci(e.iloc[0])
            pts.append(None if est is None else {"est": est, "lo": lo, "hi": hi, "proxy": _bool(e.iloc[0].get("proxy"))})
        if not any(pts):
            continue
        title = _model_title(sd, m, sd.model_meta(m))
        if term is None and label and sd.label(t) != label:
            title += f" [{sd.label(t)}]"
        out_models.append({"title": title, "points": pts})
    return {"term": term or "", "label": label or (sd.label(term) if term else ""), "series": series,
            "models": out_models}


# =========================================================================== survival curves
def survival_section(path: Path | None, sd: StudyData | None, baseline: str, figures: dict) -> dict[str, Any]:
    """Predicted survival for Common Front = 1 vs 0 (the article's survival-curve figure).

    ``survival_curves.csv`` has ``coding, track, day, survival`` and the value of Common Front in
    ``foverlap`` (or ``term_value``); when it also names the model (``model_id``), the variant
    (``variant``, ``dropped``) or carries a ``note``, the text says which model the curves come from.
    """
    df = read_table(path, required=["coding", "track", "day", "survival"])
    missing = ("Survival curves for the front-overlap contrast are not available: the workflow has written no "
               "results/comparison/survival_curves.csv yet.")
    if df is None or df.empty:
        return {"paras": [para(missing)], "figure": None}
    value_col = "foverlap" if "foverlap" in df.columns else ("term_value" if "term_value" in df.columns else None)
    if value_col is None:
        raise CoalitionsError(f"{path}: needs a 'foverlap' (or 'term_value') column with the value of Common Front")
    if sd is not None and not sd.status["available"]:
        df = df[df["track"] != "original"]
    df = df.assign(day=pd.to_numeric(df["day"], errors="coerce"), survival=pd.to_numeric(df["survival"], errors="coerce"),
                   foverlap=pd.to_numeric(df[value_col], errors="coerce"))
    df = df.dropna(subset=["day", "survival", "foverlap"])
    df = df[df["foverlap"].isin([0.0, 1.0])]
    if df.empty:
        return {"paras": [para("Survival curves for the front-overlap contrast are not available: "
                               f"{path.name} has no usable rows for Common Front = 0 and 1.")], "figure": None}
    about = []
    model_title = "the Full Model"
    if "model_id" in df.columns:
        models = [m for m in dict.fromkeys(df["model_id"]) if m]
        if models:
            df = df[df["model_id"] == models[0]]
            if sd is not None:
                model_title = f"{sd.study.name.split(' ')[0]}'s {_model_title(sd, models[0], sd.model_meta(models[0]))}"
            if len(models) > 1:
                about.append(f"The file also holds curves of {plural(len(models) - 1, 'other model')}; only the "
                             "first is shown.")
    if "dropped" in df.columns:
        dropped = sorted({str(v) for v in df["dropped"] if not is_missing(v)})
        if dropped:
            dropped = [humanise(d, sd.labels) if sd is not None else d for d in dropped]
            about.append(f"The curves come from the variant of the model without {join_words(dropped, 'or')}, "
                         "the variables that are missing or inestimable on that track.")
    if "note" in df.columns:
        for n in sorted({str(v).strip() for v in df["note"] if not is_missing(v)}):
            about.append(_sentence(f"Note of the workflow: {n}"))
    cl = sd.cl if sd is not None else {}
    order = list(cl) + sorted(set(df["coding"]) - set(cl))
    series = []
    for tr in TRACKS:
        for c in order:
            for fo in (1.0, 0.0):
                sub = df[(df["track"] == tr) & (df["coding"] == c) & (df["foverlap"] == fo)].sort_values("day")
                if sub.empty:
                    continue
                series.append({"track": tr, "coding": c, "coding_label": cl.get(c, c), "foverlap": int(fo),
                               "day": [float(x) for x in sub["day"]], "survival": [float(x) for x in sub["survival"]]})
    sents = []
    others: list[tuple[Any, Any]] = []
    for tr in TRACKS:
        for c in order:
            s1 = next((s for s in series if s["track"] == tr and s["coding"] == c and s["foverlap"] == 1), None)
            s0 = next((s for s in series if s["track"] == tr and s["coding"] == c and s["foverlap"] == 0), None)
            if s1 is None or s0 is None:
                continue
            horizon = min(max(s1["day"]), max(s0["day"]))
            v1, v0 = _step_at(s1, horizon), _step_at(s0, horizon)
            if not sents:
                sents.append(f"On the {TRACK_WORD[tr]} track under {_the_coding(cl.get(c, c))}, the predicted "
                             f"probability that a participant is still in the war after {count(horizon)} days is "
                             f"{num(v1, 'prob', na=NA_PROSE)} when it fights entirely on fronts shared with its partners "
                             f"(Common Front = 1) and {num(v0, 'prob', na=NA_PROSE)} when it fights alone "
                             "(Common Front = 0).")
            else:
                others.append((v1, v0))
    o1 = [to_float(a) for a, _ in others if to_float(a) is not None]
    o0 = [to_float(b) for _, b in others if to_float(b) is not None]
    if o1 and o0:
        sents.append(f"Under the other {plural(len(others), 'combination')} of track and coding the two probabilities "
                     f"range from {num(min(o1), 'prob')} to {num(max(o1), 'prob')} and from {num(min(o0), 'prob')} to "
                     f"{num(max(o0), 'prob')}.")
    fig_id = "survival-weisiger"
    figures[fig_id] = {"id": fig_id, "kind": "survival", "data": {"series": series},
                       "caption": (f"Predicted survival (share of participants still in the war) from {model_title} "
                                   "for Common Front = 1 (solid) and Common Front = 0 (dashed), other covariates as set "
                                   "by the workflow, per track and coding.")}
    head = [_ref("figure", fig_id), _text(f" shows the survival curves implied by {model_title} for a participant "
                                          "that fights only on fronts shared with its partners and for one that fights "
                                          "alone." + ("".join(" " + a for a in about)))]
    return {"paras": [head] + ([para(*sents)] if sents else []), "figure": fig_id}


def _step_at(series: dict, day: float) -> float | None:
    val = None
    for d, s in zip(series["day"], series["survival"]):
        if d <= day:
            val = s
        else:
            break
    return val


# =========================================================================== multiverse
def switch_labels(path: Path | None) -> dict[str, dict[str, str]]:
    """``{study: {switch name: label}}`` from the multiverse file (config/multiverse.yaml; empty when it
    cannot be read)."""
    if path is None or not path.is_file():
        return {}
    try:
        y = read_yaml(path) or {}
    except CoalitionsError as exc:
        LOG.warning("paper: %s (switch names are shown instead of labels)", exc)
        return {}
    out: dict[str, dict[str, str]] = {}
    for study, sec in (y.items() if isinstance(y, dict) else []):
        if isinstance(sec, dict) and isinstance(sec.get("switches"), list):
            out[str(study)] = {str(sw.get("name")): str(sw.get("label") or sw.get("name"))
                               for sw in sec["switches"] if isinstance(sw, dict) and sw.get("name")}
    return out


def multiverse_section(inputs: PaperInputs, sds: dict[str, StudyData], figures: dict) -> dict[str, Any]:
    """The multiverse of each study: one block per track, model and term, with the counts of
    universes by sign and significance, the specification curve and a table by switch setting.

    ``{study}_multiverse.csv`` has one row per universe (and track and term): ``universe_id``,
    ``term``, ``estimate``, ``conf_low``, ``conf_high``, ``p_value``, ``status`` and one column per
    switch; ``track``, ``model_id`` and ``is_baseline`` are used when present. The switches are the
    columns of ``{study}_universes.csv`` (or of the table) that are not among :data:`MV_FIXED`.
    """
    mv_files = inputs.multiverse
    studies = []
    raw: dict[str, dict[str, Any]] = {}
    sw_labels = switch_labels(inputs.multiverse_config)
    for key, sd in sds.items():
        swl = sw_labels.get(key, {})
        uni = read_table(mv_files.get(f"{key}_universes.csv"), required=["universe_id"])
        mv = read_table(mv_files.get(f"{key}_multiverse.csv"), required=["universe_id", "term", "estimate"],
                        columns=["model_id", "conf_low", "conf_high", "p_value", "status", "track"])
        if mv is None:
            studies.append({"study": sd.study.name, "key": key, "available": False, "blocks": [],
                            "paras": [para(f"The multiverse of {sd.study.name} is not available: the workflow has "
                                           f"written no results/multiverse/{key}_multiverse.csv yet.")]})
            continue
        if not sd.status["available"]:
            mv = mv[mv["track"] != "original"]
        switches = [c for c in (uni.columns if uni is not None else mv.columns) if c not in MV_FIXED]
        switches = [c for c in switches if c in mv.columns]
        n_uni = uni["universe_id"].nunique() if uni is not None else mv["universe_id"].nunique()
        intro = []
        src = uni if uni is not None else mv
        if switches:
            desc = []
            for sw in switches:
                vals = list(dict.fromkeys(str(v) for v in src[sw] if not is_missing(v)))
                desc.append(f"{swl.get(sw, sw)} ({', '.join(vals)})")
            intro.append(f"The multiverse of {sd.study.name} crosses {plural(len(switches), 'switch', 'switches')}, "
                         f"{join_words(desc)}, into {plural(n_uni, 'universe')}.")
        else:
            intro.append(f"The multiverse of {sd.study.name} has {plural(n_uni, 'universe')}.")
        if uni is not None and "status" in uni.columns:
            bad = uni[uni["status"].str.lower() != OK]
            if len(bad):
                intro.append(f"{count(len(bad))} of them could not be built or estimated "
                             f"({join_words(sorted({s.replace('_', ' ') or 'no status' for s in bad['status']}))}).")
        primary = ""
        if uni is not None and "track" in uni.columns:
            primary = _first(_text_col(uni["track"])) or ""
        primary = primary or (_first(_text_col(mv["track"])) or "")
        blocks = []
        groups = list(dict.fromkeys(zip(mv["track"], mv["model_id"], mv["term"])))
        multi_model = len({g[1] for g in groups}) > 1
        multi_track = len({g[0] for g in groups}) > 1
        for track, model_id, term in groups:
            sub = mv[(mv["track"] == track) & (mv["model_id"] == model_id) & (mv["term"] == term)].copy()
            blocks.append(_mv_block(sd, key, track, model_id, term, sub, switches, n_uni, multi_model, multi_track,
                                    track == primary, mv_files, figures))
        studies.append({"study": sd.study.name, "key": key, "available": True, "paras": [para(*intro)],
                        "blocks": blocks})
        raw[key] = {"uni": uni, "mv": mv, "switches": switches, "labels": swl}
    return {"intro": [parse_prose(prose.MULTIVERSE)], "studies": studies, "_raw": raw}


def _mv_block(sd: StudyData, key: str, track: str, model_id: str, term: str, sub: pd.DataFrame,
              switches: list[str], n_uni: int, multi_model: bool, multi_track: bool, primary: bool,
              mv_files: dict[str, Path], figures: dict) -> dict[str, Any]:
    sub["est"] = sub["estimate"].map(to_float)
    sub["p"] = sub["p_value"].map(to_float)
    status = sub["status"].str.lower()
    ok = sub[(status.isin([OK, ""])) & sub["est"].notna()]
    # with several models (a switch sets the model), a block covers the universes that fit its model only
    n_total = sub["universe_id"].nunique() if multi_model else max(n_uni, sub["universe_id"].nunique())
    neg = int(((ok["est"] < 0) & (ok["p"] < 0.05)).sum())
    pos = int(((ok["est"] > 0) & (ok["p"] < 0.05)).sum())
    ns = len(ok) - neg - pos
    lab = sd.label(term)
    quals = []
    if multi_model and model_id:
        quals.append(_model_title(sd, model_id, sd.model_meta(model_id)))
    if multi_track and track:
        quals.append(f"{TRACK_WORD.get(track, track)} track")
    where = f" ({', '.join(quals)})" if quals else ""
    s = [f"In {count(neg)} of {count(n_total)} universes the coefficient of {lab}{where} is negative and significant "
         f"at the 5% level; in {count(pos)} it is positive and significant, and in {count(ns)} it is not significant "
         "at that level."]
    n_na = n_total - len(ok)
    if n_na:
        s.append(f"In {count(n_na)} {'universe' if n_na == 1 else 'universes'} it could not be estimated.")
    sds = sub["term_sd"].map(to_float) if "term_sd" in sub.columns else None
    if len(ok) and sds is not None and sds.notna().any() and sds.dropna().nunique() > 1:
        # the universes measure the term in different units: compare effects of one standard deviation
        per_sd = ok["est"] * ok["term_sd"].map(to_float)
        s.append(f"Because the universes measure it in different units, effects are compared per standard "
                 f"deviation of each universe's measure: the median is {num(per_sd.median(), 'coef')}, ranging "
                 f"from {num(per_sd.min(), 'coef')} to {num(per_sd.max(), 'coef')}.")
    elif len(ok):
        s.append(f"The median estimate is {num(ok['est'].median(), 'coef')}, ranging from "
                 f"{num(ok['est'].min(), 'coef')} to {num(ok['est'].max(), 'coef')}.")
    if "is_baseline" in sub.columns:
        base = sub[sub["is_baseline"].map(_bool)]
        if len(base):
            b = base.iloc[0]
            if to_float(b["estimate"]) is not None:
                s.append(f"In the baseline universe (every switch at the published coding) it is "
                         f"{num(b['estimate'], 'coef')} ({_p_text(b['p_value'])}).")
            else:
                s.append("In the baseline universe (every switch at the published coding) it is not available.")
    rows = []
    for sw in switches:
        for val in dict.fromkeys(str(v) for v in sub[sw] if not is_missing(v)):
            part = ok[ok[sw].astype(str) == val]
            allp = sub[sub[sw].astype(str) == val]
            rows.append({"switch": sw, "switch_label": (getattr(sd, "switch_labels", {}) or {}).get(sw, sw), "value": val, "n": count(allp["universe_id"].nunique()),
                         "n_ok": count(len(part)),
                         "neg": count(int(((part["est"] < 0) & (part["p"] < 0.05)).sum())),
                         "pos": count(int(((part["est"] > 0) & (part["p"] < 0.05)).sum())),
                         "median": num(part["est"].median() if len(part) else None, "coef")})
    parts = [key, track if multi_track else "", model_id if multi_model else "", term]
    fig_id = _slug("spec", *parts)
    stem = f"{key}_spec_curve_{term}" if primary or not track else f"{key}_{track}_spec_curve_{term}"
    png, svg = mv_files.get(f"{stem}.png"), mv_files.get(f"{stem}.svg")
    caption = (f"Specification curve of {lab}{where} ({sd.study.name}): estimates with 95% confidence intervals, "
               "sorted; filled markers are significant at the 5% level. Beneath: the switch settings of each universe "
               "(with many universes: a band of the intervals, and the share of universes taking each setting in "
               "bins of the sorted order).")
    if png is not None and png.is_file() and not multi_model:
        figures[fig_id] = {"id": fig_id, "kind": "file", "source_png": str(png),
                           "source_svg": str(svg) if svg is not None and svg.is_file() else None,
                           "caption": caption.replace("; filled markers are significant at the 5% level", "")
                           + " Drawn by the multiverse step."}
    else:
        pts = []
        for _, r in sub.iterrows():
            e, lo, hi = _ci(r)
            pts.append({"universe_id": str(r["universe_id"]), "est": e, "lo": lo, "hi": hi, "p": to_float(r.get("p_value")),
                        "ok": bool(str(r.get("status", "")).lower() in (OK, "") and e is not None),
                        "switches": {sw: str(r[sw]) for sw in switches}})
        if any(p["ok"] for p in pts):
            figures[fig_id] = {"id": fig_id, "kind": "spec_curve", "caption": caption,
                               "data": {"label": lab, "switches": switches, "points": pts}}
        else:
            fig_id = None
    return {"term": term, "label": lab, "model_title": quals[0] if multi_model and model_id else "",
            "paras": [para(*s)], "figure": fig_id, "rows": rows,
            "counts": {"total": n_total, "neg": neg, "pos": pos, "ns": ns, "na": n_na},
            "table_id": _slug("tab", "mv", *parts)}


# =========================================================================== codings
def codings_section(inputs: PaperInputs, bib: Bib) -> dict[str, Any]:
    path = inputs.comparison.get("codings")
    df = read_table(path, required=["coding"], columns=["label", "proposed_by", "why", "file", "sha256"])
    names: list[str] = []
    rows_src: list[dict] = []
    if df is not None:
        rows_src = [r for r in df.to_dict("records")]
        names = [r["coding"] for r in rows_src]
    # without codings.csv (the comparison step has not run), list the coding files of the configuration
    for name, p in sorted(inputs.codings.items(), key=lambda kv: kv[1]) if df is None else []:
        if name not in names and p.is_file():
            try:
                y = read_yaml(p) or {}
            except CoalitionsError as exc:
                LOG.warning("paper: %s", exc)
                y = {}
            rows_src.append({"coding": name, "label": y.get("label", name), "proposed_by": y.get("proposed_by", ""),
                             "why": y.get("why", ""), "file": inputs.shown(p), "sha256": sha256_file(p)})
            names.append(name)
    baseline = "baseline" if "baseline" in names else (names[0] if names else "baseline")
    if df is not None and "baseline" in df.columns:
        flagged = [r["coding"] for r in rows_src if _bool(r.get("baseline"))]
        if flagged:
            baseline = flagged[0]
    names = [baseline] + [n for n in names if n != baseline] if baseline in names else names
    labels: dict[str, str] = {}
    for r in rows_src:
        labels[r["coding"]] = (str(r.get("label") or "").strip() or r["coding"])
    labels.setdefault(baseline, "baseline")
    # counts of status changes: codings.csv columns, else status_changes.csv
    changes = read_table(inputs.comparison.get("status_changes"),
                         required=["study", "coding", "unit", "baseline_status", "coding_status"])
    rows = []
    not_applicable = False
    for n in names:
        r = next(x for x in rows_src if x["coding"] == n)
        settings = _coding_settings(inputs.codings.get(n))
        counts = {}
        applies = None
        if "studies" in r and not is_missing(r.get("studies")):
            applies = {x.strip().lower() for x in re.split(r"[,;\s]+", str(r["studies"])) if x.strip()}
        for st in STUDIES:
            cols = [c for c in r if st.key in str(c).lower() and c != "studies"]
            cols.sort(key=lambda c: (0 if "chang" in c.lower() else 1, c))
            if applies is not None and st.key not in applies:
                counts[st.key] = NA_TABLE
                not_applicable = True
            elif cols:
                counts[st.key] = count(r[cols[0]])
            elif n == baseline:
                counts[st.key] = count(0) if changes is not None or df is not None else NA_TABLE
            elif changes is not None:
                counts[st.key] = count(int(((changes["study"] == st.key) & (changes["coding"] == n)).sum()))
            else:
                counts[st.key] = NA_TABLE
        rows.append({"coding": n, "label": labels.get(n, n), "proposed_by": str(r.get("proposed_by") or ""),
                     "why": str(r.get("why") or "").strip(), "settings": settings,
                     "sha256": str(r.get("sha256") or ""), "file": str(r.get("file") or ""),
                     "is_baseline": n == baseline, "counts": counts})
    if not rows:
        paras = [para("No coding-rule sets are available: the workflow has written no results/comparison/codings.csv "
                      "and config/codings holds no coding file.")]
    else:
        alt = [r["label"] for r in rows if not r["is_baseline"]]
        what = "estimated here" if df is not None else ("defined in config/codings (the comparison step has not "
                                                         "run yet, so no results use them)")
        s = [f" lists the {plural(len(rows), 'coding-rule set')} {what}: the baseline "
             f"({labels.get(baseline, baseline)})"]
        s[0] += (f" and {plural(len(alt), 'alternative')} ({join_words(alt)})." if alt else " only.")
        for st in STUDIES:
            parts = [f"{r['counts'][st.key]} ({r['label']})" for r in rows
                     if not r["is_baseline"] and r["counts"][st.key] != NA_TABLE]
            if parts:
                s.append(f"Relative to the baseline, the codings that apply to {st.name} change the status of "
                         f"{join_words(parts)} {st.units}.")
        s.append("Each alternative changes only the settings listed; everything else keeps the baseline's value.")
        paras = [[_ref("table", "tab-codings"), _text(" " + " ".join(x.strip() for x in s))]]
    notes = ["n.a.: the coding does not apply to that study."] if not_applicable else []
    return {"rows": rows, "baseline": baseline, "paras": paras, "available": bool(rows), "labels": labels,
            "notes": notes,
            "studies": [{"key": st.key, "name": st.name, "units": st.units} for st in STUDIES]}


def _coding_settings(path: Path | None) -> list[str]:
    """The settings a coding file overrides, as ``study: key = value`` lines."""
    if path is None or not path.is_file():
        return []
    try:
        y = read_yaml(path) or {}
    except CoalitionsError as exc:
        LOG.warning("paper: %s", exc)
        return []
    out = []
    for st in STUDIES:
        sec = y.get(st.key) or {}
        if isinstance(sec, dict):
            for k in sorted(sec):
                v = sec[k]
                vs = (json.dumps(v, sort_keys=True, ensure_ascii=False) if isinstance(v, (dict, list, bool)) or v is None
                      else str(v))
                out.append(f"{st.name.split(' ')[0]}: {k} = {vs}")
    return out


def changes_section(path: Path | None, cl: dict[str, str]) -> dict[str, Any]:
    df = read_table(path, required=["study", "coding", "unit", "baseline_status", "coding_status"])
    if df is None:
        return {"available": False, "rows": [],
                "paras": [para("The list of status changes is not available: the workflow has written no "
                               "results/comparison/status_changes.csv yet.")]}
    names = {s.key: s.name for s in STUDIES}
    rows = [{"study": names.get(r["study"], r["study"]), "coding": cl.get(r["coding"], r["coding"]),
             "unit": r["unit"], "baseline_status": r["baseline_status"] or NA_TABLE,
             "coding_status": r["coding_status"] or NA_TABLE} for r in df.to_dict("records")]
    if not rows:
        return {"available": True, "rows": [], "paras": [para("No participant or country-operation changes status "
                                                               "between the codings.")]}
    s = []
    for st in STUDIES:
        parts = []
        for c in dict.fromkeys(df.loc[df["study"] == st.key, "coding"]):
            n = int(((df["study"] == st.key) & (df["coding"] == c)).sum())
            parts.append(f"{count(n)} under {cl.get(c, c)}")
        if parts:
            s.append(f"Relative to the baseline, the {st.units} of {st.name} whose status changes number "
                     f"{join_words(parts)}.")
    return {"available": True, "rows": rows, "paras": [para(*s)]}


# =========================================================================== variables
def variables_tables(variables: dict[tuple[str, str, str], Path], sds: dict[str, StudyData],
                     baseline: str) -> list[dict[str, Any]]:
    out = []
    for key, sd in sds.items():
        df = read_table(variables.get((baseline, key, "rebuilt")), required=["variable", "status"], columns=["note"])
        if df is None:
            continue
        for c in ("variable", "status", "note"):
            df[c] = df[c].fillna("").astype(str)
        rows = [{"variable": r["variable"], "label": sd.label(r["variable"]),
                 "status": r["status"].replace("_", " ") or NA_TABLE,
                 "proxy": r["status"].strip().lower() == "proxy", "note": r["note"].strip()}
                for r in df.to_dict("records")]
        tally = {}
        for r in rows:
            tally[r["status"]] = tally.get(r["status"], 0) + 1
        sent = (f"Of the {plural(len(rows), 'variable')} of {sd.study.name.split(' ')[0]}'s models, the rebuilt data "
                f"({_the_coding(sd.cl.get(baseline, baseline))}) "
                f"hold " + join_words([f"{count(n)} {k.replace('_', ' ')}" for k, n in sorted(tally.items())]) + ".")
        out.append({"id": _slug("tab", "vars", key), "study": sd.study.name, "rows": rows,
                    "has_proxy": any(r["proxy"] for r in rows), "paras": [para(sent)]})
    return out


# =========================================================================== sources and provenance
def sources_table(registry: Registry, bib: Bib, checks: list[dict], statuses: dict[str, dict]) -> list[dict]:
    by_path = {c["path"]: c for c in checks}
    rows = []
    for skey, src in registry.sources.items():
        files = []
        for f in src.files.values():
            if src.kind == "file":
                rec = by_path.get(f.path)
                sha = (rec or {}).get("sha256") or ""
                files.append({"name": f.basename, "sha": sha[:12] if sha else NA_TABLE,
                              "verified": (rec or {}).get("verified_by", "") if rec else "not fetched"})
            else:
                st = statuses.get(skey, {})
                fi = (st.get("files") or {}).get(f.key) or {}
                sha = str(fi.get("sha256") or "")
                files.append({"name": f.basename, "sha": sha[:12] if sha else NA_TABLE,
                              "verified": "md5" if sha else "not obtained"})
        rows.append({"key": skey, "title": src.title, "version": src.version, "provider": src.provider,
                     "terms": src.terms, "cites": bib.cite_keys(bib.source_keys.get(skey, [])),
                     "kind": src.kind, "files": files,
                     "status": ("" if src.kind == "file" else
                                ("obtained" if statuses.get(skey, {}).get("available") else "not obtained"))})
    return rows


def archive_status(inputs: PaperInputs, study: Study) -> dict[str, Any]:
    """status.json of an author's archive; a missing file counts as not available (said so)."""
    path = inputs.archive_file(study.archive, "status.json")
    d = _read_json(path) if path is not None else None
    if d is None:
        where = str(Path(*path.parts[-3:])) if path is not None else "status.json"
        return {"available": False, "reason": f"no record of a download attempt ({where} is missing)",
                "synthetic": False, "files": {}, "dataset_doi": None, "known": False}
    date = d.get("attempted_utc") or d.get("date")
    if not date:
        try:
            date = _dt.datetime.fromtimestamp(path.stat().st_mtime, tz=_dt.timezone.utc).strftime("%Y-%m-%d")
        except OSError:
            date = None
    return {"available": bool(d.get("available")), "reason": d.get("reason"), "synthetic": bool(d.get("synthetic", False)),
            "files": d.get("files") or {}, "dataset_doi": d.get("dataset_doi"), "known": True, "date": date}


def unavailable_phrase(status: dict[str, Any]) -> str:
    """Why an archive is missing, in one human sentence part: ``could not be downloaded: the server was
    unreachable on 2026-12-01; re-run ... once online`` (the raw error goes to the provenance appendix)."""
    reason = str(status.get("reason") or "")
    low = reason.lower()
    date = status.get("date")
    on = f" on {_human_date(date)}" if date else ""
    rerun = "re-run with snakemake --cores 8 --forcerun fetch_archive"
    if not status.get("known", True):
        return f"has no record of a download attempt; {rerun} to fetch it"
    if any(k in low for k in ("connection", "max retries", "resolve", "unreachable", "name or service",
                              "temporary failure", "timed out", "timeout", "offline", "network")):
        return f"could not be downloaded: the server was unreachable{on}; {rerun} once online"
    if "checksum" in low or "md5" in low:
        return (f"could not be verified: its checksum did not match the one Dataverse publishes{on}; delete the "
                f"copy and {rerun}")
    if "mirror" in low and ("missing" in low or "not" in low):
        return f"is not in the mirror folder{on}; add it there or {rerun} once online"
    return f"could not be obtained{on}; {rerun}"


def _human_date(date: Any) -> str:
    try:
        d = _dt.date.fromisoformat(str(date)[:10])
    except ValueError:
        return str(date)
    return f"{d.day} {d.strftime('%B %Y')}"


def _short_reason(reason: Any, limit: int = 240) -> str:
    s = re.sub(r"\s+", " ", str(reason or "no reason recorded")).strip()
    if len(s) <= limit:
        return s
    cut = s[:limit]
    cut = cut[: cut.rfind(" ")] if " " in cut[limit // 2:] else cut
    return cut.rstrip(" ,;:") + " …"


# =========================================================================== abstract and notices
def battle_data_status(inputs: PaperInputs) -> dict[str, Any] | None:
    """status.json of the optional IWBD download (None where the build has no record of it)."""
    path = inputs.archive_file("iwbd", "status.json")
    d = _read_json(path) if path is not None and path.is_file() else None
    if d is None:
        return None
    return {"available": bool(d.get("available")), "reason": d.get("reason"),
            "date": d.get("attempted_utc") or d.get("date"), "known": True}


def notices(sds: dict[str, StudyData], statuses: dict[str, dict], checks: list[dict],
            battle: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    out = []
    if battle is not None:  # which battle data the War Worsening and Own Trend measures come from
        if battle["available"]:
            text = ("War Worsening and Own Trend are rebuilt from dated battles: the CDB90 battles (casualties) by "
                    "default, and the Interstate War Battle Dataset (IWBD, battles won and lost) under the codings "
                    "that choose it.")
        else:
            why = (unavailable_phrase(battle).replace("fetch_archive", "fetch_archive (IWBD)")
                   .replace("could not be downloaded", "was not obtained"))
            text = ("War Worsening and Own Trend are rebuilt from the dated battles of CDB90 (casualties per battle "
                    f"side), which cover only some of the coalition wars and states (trends_coverage.csv of each "
                    f"coding gives the days with battle data per war); the Interstate War Battle Dataset (IWBD) {why}, "
                    "so no trend in this paper uses it.")
        out.append({"kind": "battle_data", "study": "weisiger", "para": para(text)})
    missing = [st for st in STUDIES if not statuses[st.key]["available"]]
    phrases = {st.key: unavailable_phrase(statuses[st.key]) for st in missing}
    if len(missing) > 1 and len(set(phrases.values())) == 1:
        names = join_words([st.name + (f" ({statuses[st.key]['dataset_doi']})" if statuses[st.key].get("dataset_doi")
                                       else "") for st in missing])
        out.append({"kind": "archive_unavailable", "study": ",".join(st.key for st in missing), "para": para(
            f"The original replication archives of {names} {phrases[missing[0].key]}; the paper therefore reports "
            "the rebuilt track only (the raw messages are in the provenance appendix).")})
        missing = []
    for st in missing:
        s = statuses[st.key]
        if not s["available"]:
            doi = f" ({s['dataset_doi']})" if s.get("dataset_doi") else ""
            out.append({"kind": "archive_unavailable", "study": st.key, "para": para(
                f"The original replication archive of {st.name}{doi} {phrases[st.key]}; the paper therefore "
                "reports the rebuilt track only (the raw message is in the provenance appendix).")})
    synth = []
    for st in STUDIES:
        sd = sds.get(st.key)
        if sd is not None and sd.synthetic_tracks:
            synth.append(f"the {join_words(sorted(TRACK_WORD[t] for t in sd.synthetic_tracks))} track of "
                         f"{st.name}")
    synth_files = [c["path"] for c in checks if c.get("synthetic")]
    if synth_files:
        synth.append(f"the data file{'s' if len(synth_files) > 1 else ''} {join_words(synth_files)}")
    if synth:
        out.append({"kind": "synthetic", "study": "", "para": para(prose.SYNTHETIC_WARNING.format(what=join_words(synth)))})
    return out


def abstract(sds: dict[str, StudyData], baseline: str, codings: dict, mv: dict, statuses: dict,
             answers: list[dict] | None = None) -> list[list[dict]]:
    """The abstract: what was re-estimated, and the answer (read from the answer tables)."""
    s = []
    n_cod = len(codings["rows"])
    groups = sorted({proposer_group(r["proposed_by"]) for r in codings["rows"] if not r["is_baseline"]},
                    key=lambda g: (g == "this project", g))
    under = (f"under {plural(n_cod, 'coding-rule set')}" if n_cod else "(no coding-rule set has been run yet)")
    s.append(f"Do the coding rules contested in the 2017 International Studies Quarterly symposium change the "
             f"conclusions of Weisiger's study of coalition exit and of Henke's study of US coalition building? We "
             f"re-estimate both {under}" + (f", proposed by {join_words(groups)}" if groups else "") +
             ", on data rebuilt from public sources and, where they could be obtained, on the authors' replication "
             "archives.")
    unavailable = [st.name for st in STUDIES if not statuses[st.key]["available"]]
    if unavailable:
        s.append(f"The original archive{'s' if len(unavailable) > 1 else ''} of {join_words(unavailable)} could not "
                 "be downloaded for this build.")
    for a in answers or []:
        if not a["available"] or not a["facts"]:
            continue
        f = next((x for x in a["facts"] if x["track"] == "rebuilt"), a["facts"][0])
        for t in f["keys"]:
            lab = sds[a["key"]].label(t)
            b = f["base"][t]
            alts = [x for x in f["facts"][t] if x["coding"] != f["codings"][0]]
            if b is None:
                why = next((x["why"] for x in f["facts"][t] if x["why"]), "")
                s.append(f"{lab} cannot be estimated from the {'rebuilt' if f['track'] == 'rebuilt' else 'original'} "
                         f"data under the baseline" + (f": {why}." if why else "."))
                continue
            same = sum(1 for x in alts if x["verdict"] == "same")
            s.append(f"{lab} is {direction(b['est'], b['p'])} under the baseline and keeps that under "
                     f"{count(same)} of {count(len(alts))} alternative codings.")
    for st in mv.get("studies", []):
        for b in st.get("blocks", [])[:1]:
            c = b["counts"]
            fit = f" that fit {b['model_title']}" if b.get("model_title") else ""
            s.append(f"In the multiverse of {st['study']}, {b['label']} is significant at the 5% level in "
                     f"{count(c['neg'] + c['pos'])} of the {count(c['total'])} universes{fit} ({count(c['neg'])} negative, "
                     f"{count(c['pos'])} positive).")
    s.append("Published coefficients are reported only where they were read from the articles; otherwise they are "
             "marked as not available.")
    return [para(*s)]


# =========================================================================== main entry
def gather(inputs: PaperInputs, *, git_commit: str | None = None, source_date_epoch: int | None = None,
           key_terms: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """Read every result file into the plain context that the paper templates render.

    ``inputs`` names every file read (:class:`coalitions.paper.inputs.PaperInputs`: the registry,
    the comparison tables, the per-coding files, the multiverse, the published values, the coding,
    model and multiverse files, the archives, the provenance records). ``git_commit`` (read by the
    caller; "unknown" when not given) and ``source_date_epoch`` (the date printed on the paper and
    used for the reproducible PDF; default 0) go into the provenance appendix. ``key_terms``
    optionally names, per study, the terms of the coefficient plots.

    Any subset of the results may be missing: the parts that are missing become "not available"
    sentences. A file that exists but does not follow the layout raises :class:`CoalitionsError`
    naming the file and what is wrong.
    """
    reg = load_registry(inputs.registry)
    sde = int(source_date_epoch) if source_date_epoch is not None else 0
    bib = Bib(reg, inputs.literature)
    figures: dict[str, dict] = {}

    statuses = {st.key: archive_status(inputs, st) for st in STUDIES}
    codings = codings_section(inputs, bib)
    baseline = codings["baseline"]
    cl = codings["labels"]
    order = [r["coding"] for r in codings["rows"]]
    sds = {st.key: StudyData(st, inputs, statuses[st.key], order, cl) for st in STUDIES}
    henke_archive = inputs.archives.get("henke2017")
    if henke_archive is not None and statuses["henke"]["available"]:
        from ..henke.logs import published_with_logs  # her published numbers, read from her Stata logs

        sds["henke"].published = published_with_logs(sds["henke"].published, henke_archive)
    for sd in sds.values():
        for c in sd.codings:
            cl.setdefault(c, c)

    for k, lab in switch_labels(inputs.multiverse_config).items():
        if k in sds:
            sds[k].switch_labels = lab
    mv = multiverse_section(inputs, sds, figures)
    checks = data_checksums(inputs.provenance)

    study_ctx = []
    for st in STUDIES:
        sd = sds[st.key]
        cols, groups = _columns(sd)
        ids = sd.model_ids()
        metas = {m: sd.model_meta(m) for m in ids}
        sweep_ids = [m for m in ids if metas[m]["table"].lower().startswith("fig")]
        main_ids = [m for m in ids if m not in sweep_ids and metas[m]["table"] in ("1", "2")]
        rest_ids = [m for m in ids if m not in sweep_ids and m not in main_ids]
        groups_out = []
        if st.key == "weisiger":
            if main_ids:
                groups_out.append({"title": "Main models (the article's Tables 1 and 2)",
                                   "tables": [model_table(sd, m, cols, groups) for m in main_ids]})
            if rest_ids:
                groups_out.append({"title": "Robustness models (the article's appendix)",
                                   "tables": [model_table(sd, m, cols, groups) for m in rest_ids]})
        elif ids:
            groups_out.append({"title": "Models", "tables": [model_table(sd, m, cols, groups) for m in main_ids + rest_ids]})
        sweeps = []
        if sweep_ids:
            by_tab: dict[str, list[str]] = {}
            for m in sweep_ids:
                by_tab.setdefault(metas[m]["table"], []).append(m)
            for tab, ms in by_tab.items():
                t = sweep_table(sd, ms, f"{tab}: window sweep", cols, groups)
                fig_id = _slug("sweep", st.key, tab)
                series = [{"track": tr, "coding": c, "label": f"{TRACK_LABEL[tr]}, {sd.cl.get(c, c)}"}
                          for tr in TRACKS for c in sd.track_codings[tr]]
                pts = []
                for m, ft in zip(ms, t["focus_terms"]):
                    row = []
                    for s_ in series:
                        e = sd.est_rows(m, s_["track"], s_["coding"])
                        e = e[e["term"] == ft]
                        if sd.status_of(m, s_["track"], s_["coding"])[0] != OK or e.empty:
                            row.append(None)
                        else:
                            est, lo, hi = _ci(e.iloc[0])
                            row.append(None if est is None else {"est": est, "lo": lo, "hi": hi})
                    pts.append({"label": metas[m]["column"] or m, "points": row})
                fl = [sd.label(ft) for ft in t["focus_terms"] if ft]
                span = f"{fl[0]} to {fl[-1]}" if len(fl) > 1 else (fl[0] if fl else "")
                if any(p for r_ in pts for p in r_["points"]):
                    figures[fig_id] = {"id": fig_id, "kind": "sweep", "data": {"series": series, "models": pts},
                                       "caption": f"{sd.study.name}, {tab}: coefficient of the variable that changes "
                                                  f"between the {plural(len(ms), 'model')} ({span}), with 95% "
                                                  "confidence intervals, per track and coding."}
                    t["figure"] = fig_id
                    t["paras"] = [[_ref("figure", fig_id),
                                   _text(f" shows the coefficient of the variable that changes between the models of "
                                         f"{tab}; "), _ref("table", t["id"]), _text(" in Appendix C lists the estimates.")]]
                else:
                    t["figure"] = None
                    msgs = []
                    for m in ms:
                        for tr in TRACKS:
                            for c in sd.track_codings[tr]:
                                st_, msg = sd.status_of(m, tr, c)
                                var = sd.variants.get((m, tr, c))
                                if st_ == OK and var:
                                    msg = var["published_message"]
                                if msg and msg not in msgs and (st_ != OK or var):
                                    msgs.append(msg)
                    why = f" (for example: {humanise('; '.join(msgs[:2]), sd.labels)})" if msgs else ""
                    t["paras"] = [para(f"Not one of the {plural(len(ms), 'model')} of {tab} has an estimate of the "
                                       f"variable that changes between them on any track{why}, so neither a figure nor "
                                       "a table of them is shown.")]
                sweeps.append(t)
        mv_terms = []
        for s_ in mv["studies"]:
            if s_["key"] == st.key:
                mv_terms = [b["term"] for b in s_["blocks"]]
        plot_models = [m for m in ids if m not in sweep_ids]
        override = (key_terms or {}).get(st.key)
        plots: list[tuple[str, str | None, str]] = []   # (figure id, term or None, label)
        if st.key in KEY_PATTERN and not override:
            firsts = [key_term_of_model(sd, m) for m in plot_models]
            firsts = [t for t in firsts if t]
            if firsts:
                plots.append((_slug("coef", st.key, KEY_PATTERN[st.key]), None, sd.label(firsts[0])))
        else:
            for t in key_terms_of(sd, plot_models, mv_terms, override):
                plots.append((_slug("coef", st.key, t), t, sd.label(t)))
        coef_figs = []
        for fid, t, lab in plots:
            data = coef_plot_data(sd, plot_models, t, lab)
            if any(p for mm in data["models"] for p in mm["points"]):
                what = lab if t is not None else f"{lab} (each model's measure, named in brackets when it differs)"
                figures[fid] = {"id": fid, "kind": "coef", "data": data,
                                "caption": (f"{sd.study.name}: coefficient of {what} in each model, with 95% "
                                            "confidence intervals, per track and coding (hollow markers: proxy).")}
                coef_figs.append(fid)
        paras = [bib.paragraph(prose.WEISIGER_METHOD if st.key == "weisiger" else prose.HENKE_METHOD)]
        if st.key == "weisiger":
            paras.append(bib.paragraph(prose.WEISIGER_REBUILD))
        elif not statuses["henke"]["available"]:
            paras.append(bib.paragraph(prose.HENKE_SPEC_UNKNOWN))
        paras += study_paragraphs(sd, baseline, bib)
        if st.key == "henke":
            from .henke_check import korea_1950_paragraph  # the 1950 check under every coding

            k50 = korea_1950_paragraph(inputs.comparison.get("henke_korea1950"), cl)
            if k50:
                paras.append(para(k50))
        if sd.original_hidden:
            paras.append(para("Results of the original-archive track were found, but the archive's status record "
                              "says it was not obtained; they are not shown."))
        surv = (survival_section(inputs.comparison.get("survival_curves"), sd, baseline, figures)
                if st.key == "weisiger" else None)
        study_ctx.append({"key": st.key, "name": st.name, "cite": bib.cite_keys([st.cite]),
                          "paras": paras, "groups": groups_out, "sweeps": sweeps,
                          "table_sweeps": [t for t in sweeps if not t["empty"]], "coef_figures": coef_figs,
                          "survival": surv, "has_models": bool(ids)})

    variables = variables_tables(inputs.variables, sds, baseline)
    answers = []
    for st in STUDIES:
        sd = sds[st.key]
        vs = VariableStatus(inputs.variables, st.key, baseline)
        mv_terms = [b["term"] for s_ in mv["studies"] if s_["key"] == st.key for b in s_["blocks"]]
        answers.append(study_answer(sd, vs, baseline, codings["rows"], mv_terms,
                                    controls=st.key == "weisiger"))
    mv_raw = mv.pop("_raw", {})
    changes = changes_section(inputs.comparison.get("status_changes"), cl)
    srcs = sources_table(reg, bib, checks, {k: statuses[s.key] for s in STUDIES for k in [s.archive]})
    intro = [bib.paragraph(p) for p in prose.INTRO]
    data_paras = [bib.paragraph(p) for p in prose.DATA]
    for sd in sds.values():
        bib.cite_keys([sd.study.cite, sd.study.data_cite])

    date = _dt.datetime.fromtimestamp(sde, tz=_dt.timezone.utc)
    coding_files = [inputs.codings[r["coding"]] for r in codings["rows"] if r["coding"] in inputs.codings]
    published_files = [inputs.published[st.archive] for st in STUDIES if st.archive in inputs.published]
    ctx: dict[str, Any] = {
        "meta": {"title": prose.TITLE, "date": f"{date.day} {date.strftime('%B %Y')}",
                 "source_date_epoch": sde, "git_commit": git_commit or "unknown"},
        "notices": notices(sds, statuses, checks, battle_data_status(inputs)),
        "abstract": abstract(sds, baseline, codings, mv, statuses, answers),
        "answer": {"studies": answers, "discussion": discussion(answers, mv, statuses)},
        "explorer": explorer_data(inputs, sds, answers, mv_raw, baseline),
        "intro": intro,
        "data": {"paras": data_paras, "sources": srcs, "variables": variables},
        "codings": codings,
        "studies": study_ctx,
        "multiverse": mv,
        "changes": changes,
        "provenance": {
            "software": software_versions(),
            "tex": tex_version() or "no TeX engine found",
            "git_commit": git_commit or "unknown",
            "date_utc": date.strftime("%Y-%m-%d %H:%M:%S UTC"),
            "source_date_epoch": str(sde),
            "data": [{"path": c["path"], "sha256": c["sha256"] or NA_TABLE, "bytes": count(c["bytes"]),
                      "verified_by": c["verified_by"] or NA_TABLE} for c in checks],
            "archives": [{"study": st.name, "available": "obtained" if statuses[st.key]["available"] else "not obtained",
                          "reason": "" if statuses[st.key]["available"] else _short_reason(statuses[st.key]["reason"], 600),
                          "files": [{"name": str(v.get("name", k)), "sha256": str(v.get("sha256", NA_TABLE))}
                                    for k, v in sorted((statuses[st.key].get("files") or {}).items())]}
                         for st in STUDIES],
            "codings": [{"path": h["path"], "sha256": h["sha256"]} for h in file_hashes(coding_files, inputs.shown)]
                       or [{"path": f"{r['coding']} (recorded in codings.csv)", "sha256": r["sha256"] or NA_TABLE}
                           for r in codings["rows"]],
            "published": file_hashes(published_files, inputs.shown),
            "registry": file_hashes([Path(reg.path)], inputs.shown) if Path(reg.path).is_file() else [],
        },
        "figures": figures,
    }
    ctx["bib"] = {"labels": bib.labels(), "references": bib.references(), "bibtex": bib.bibtex()}
    return ctx

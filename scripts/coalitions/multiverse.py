"""Multiverse analysis: every combination of the contested coding choices, estimated once each.

The debate around Weisiger (2016) and Henke (2017) is about coding rules: what counts as abandoning a
coalition (Morey's entrapment and limited-objectives cases, exits forced by conquest, exits that end
the war), how wide a tolerance COW's dates need, what "diplomatic embeddedness" measures (Poast), which
operations and contributors count. Each contested choice is a *switch* in ``config/multiverse.yaml``;
every combination of one value per switch is a *universe*. For each universe the study's key model is
estimated and the key coefficients, with their 95% confidence intervals, are collected into one tidy
table, from which :mod:`coalitions.speccurve` draws a specification curve per key term. If a finding
keeps its sign and significance across most universes it does not hinge on any one coding rule.

Work is shared between universes. A universe's coding is split into the parameters that change how the
data are *built* and those that can be applied to the built data (a sample restriction, a column
choice): the data are built once per distinct set of build parameters and every universe that shares
them reuses the result; the universes of a study (or of one of its shards, :mod:`coalitions.multiverse_shards`)
run in one process (optionally a small pool of forked workers, one build group per task). What can be applied after the build, and why that is exact:

Weisiger (rebuilt track)
    ``exclude_wars``: the periods of a war are built from that war's own participants, so dropping whole
    wars after the build is the same as never building them (as Stata's ``if warnum != 106 & ...`` in the
    do-file's "No World Wars" column). The other switches change who exits, or when: the participants'
    exit coding is built once per universe group, but a war's periods depend only on that war's
    participants (and the coding's non-exit parameters, :data:`EXIT_FIELDS` aside), so the periods of a war
    coded alike in several universes are built once (64 codings x 38 wars share 63 distinct war pieces).
    The participants themselves depend only on the exit and spell rules, not on the covariate and clock
    fields (:data:`PERIOD_ONLY_FIELDS`: NMC and Polity sources, windows, the new-leader reference, the time
    origin), so build groups that differ only there share one participants table. Every run checks one
    shared participants table and the assembled periods of one group against direct builds and builds
    directly if they differ. ``exclude_sides``/``drop_minor`` are data rules of the coding
    (``coalitions.weisiger.apply``); ``extension_members`` appends Henke's post-2003 cases as the
    ``weisiger_rebuilt`` job does.
Henke
    ``embeddedness`` (every variant is a column of the built data), ``operations`` and
    ``complete_lists_only`` (each operation's risk set and covariates are built independently),
    ``uncertain_contributors`` (``drop`` removes rows), and ``lag_years`` when every covariate of the
    model has a one-year-before column (``*_l1``, built for every row) and ``exclude_targets_allies`` is
    off. ``tests/test_multiverse.py`` checks each shortcut against a direct build on the real data.

Every universe appears in the output exactly once per track and term, with a ``status``: ``ok``,
``not_estimable`` (the data do not identify the term: a variable not available in the track, a term
dropped because it separates the outcome, too few events), ``not_available`` (the track's data could not
be had: the original archive was not downloaded) or ``failed`` (the build or the fit raised; ``message``
says why). Nothing is ever dropped.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import pickle
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .util import LOG, CoalitionsError, read_yaml

__all__ = [
    "STUDIES", "TRACKS", "STATUSES", "TABLE_COLUMNS", "Switch", "TrackSpec", "StudyMultiverse",
    "load_multiverse", "parse_study", "expand_universes", "universe_settings", "case_files",
    "required_tables", "run_study_multiverse", "universe_status", "primary_track", "curve_targets",
    "base_section", "job_inputs", "curve_files", "table_from_csv", "henke_universe_data", "henke_sample_sd",
]

STUDIES = ("weisiger", "henke")
#: tracks each study's multiverse can run on
TRACKS: dict[str, tuple[str, ...]] = {"weisiger": ("rebuilt", "original"), "henke": ("rebuilt",)}
STATUSES = ("ok", "not_estimable", "not_available", "failed")
#: value keys handled by the multiverse itself rather than by the study's coding
RESERVED = ("model",)
#: list-valued coding parameters: values set by several switches are combined, not replaced
LIST_KEYS: dict[str, tuple[str, ...]] = {
    "weisiger": ("censor_case_files", "exclude_wars", "exclude_sides", "censor_cases"),
    "henke": (),
}
_STUDY_KEYS = {"coding", "model", "tracks", "switches", "description"}
_SWITCH_KEYS = {"name", "label", "proposed_by", "why", "baseline", "values"}
_TRACK_KEYS = {"variant", "terms", "scale"}
#: how a specification curve shows a term: its coefficient, or the coefficient times the SD of the term's
#: variable in the universe's estimation sample (comparable across measures in different units)
SCALES = ("coefficient", "per_sd")
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")

#: columns of the tidy table (the switch columns follow)
TABLE_COLUMNS = [
    "universe_id", "study", "track", "model_id", "variant", "term", "estimate", "std_error", "conf_low",
    "conf_high", "p_value", "ame", "ame_se", "term_sd", "n_obs", "n_events", "model_status", "status", "message",
    "is_baseline",
]


# ================================================================================================
# configuration


@dataclass(frozen=True)
class Switch:
    """One contested coding choice: its alternatives, each a mapping of coding parameters.

    ``values`` keeps the file's order (the order of the rows in the specification curve's dot matrix);
    ``baseline`` is the label of the published coding's value.
    """

    name: str
    label: str
    proposed_by: str
    why: str
    baseline: str
    values: tuple[tuple[str, Mapping[str, Any]], ...]

    @property
    def labels(self) -> list[str]:
        return [v for v, _ in self.values]

    def settings(self, value: str) -> Mapping[str, Any]:
        for v, s in self.values:
            if v == value:
                return s
        raise CoalitionsError(f"switch '{self.name}' has no value {value!r}; its values are {self.labels}")

    @property
    def parameters(self) -> list[str]:
        """The coding parameters (and reserved keys) any of its values sets."""
        return sorted({k for _, s in self.values for k in s})


@dataclass(frozen=True)
class TrackSpec:
    """Which variant of the model to read on a track (``as_published``/``feasible``), and which terms."""

    variant: str | None
    terms: tuple[str, ...]
    scale: str = "coefficient"


@dataclass(frozen=True)
class StudyMultiverse:
    """One study's section of ``config/multiverse.yaml``, validated."""

    study: str
    coding: str
    model: str
    tracks: Mapping[str, TrackSpec]
    switches: tuple[Switch, ...]
    origin: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def n_universes(self) -> int:
        return int(np.prod([len(s.values) for s in self.switches])) if self.switches else 1

    def switch(self, name: str) -> Switch:
        for s in self.switches:
            if s.name == name:
                return s
        raise CoalitionsError(f"{self.origin}: no switch named {name!r}")


def _err(origin: str, key: str, msg: str) -> CoalitionsError:
    return CoalitionsError(f"{origin}: {key}: {msg}")


def _text(v: Any, origin: str, key: str, *, required: bool = True) -> str:
    if v is None and not required:
        return ""
    if not isinstance(v, str) or not v.strip():
        raise _err(origin, key, f"must be a non-empty text, got {v!r}")
    return v.strip()


def _check_value(study: str, settings: Mapping[str, Any], origin: str, key: str, root: str | Path) -> None:
    """Validate one switch value's coding parameters with the study's own coding class."""
    coding = {k: v for k, v in settings.items() if k not in RESERVED}
    if "model" in settings and (not isinstance(settings["model"], str) or not settings["model"]):
        raise _err(origin, f"{key}.model", f"must be a model id of config/models/{study}.yaml, "
                                           f"got {settings['model']!r}")
    if study == "weisiger":
        from .weisiger.apply import resolve

        resolve(coding, origin=f"{origin}: {key}", root=root)
    else:
        from .henke.rebuild import HenkeCoding

        HenkeCoding.from_dict(coding, origin=f"{origin}: {key}")


def parse_study(study: str, data: Any, origin: str = "config/multiverse.yaml", root: str | Path = ".",
                model_ids: Iterable[str] | None = None) -> StudyMultiverse:
    """Validate one study's section; every error names ``origin`` and the key (``weisiger.switches[2]...``).

    ``root`` is the folder case-file paths are relative to (they must exist); ``model_ids``, when given,
    are the ids of the study's model file, against which ``model`` keys are checked.
    """
    where = f"{study}"
    if study not in STUDIES:
        raise _err(origin, study, f"unknown study; the multiverse knows {list(STUDIES)}")
    if not isinstance(data, Mapping):
        raise _err(origin, where, "must be a mapping with coding, model, tracks and switches")
    unknown = sorted(set(data) - _STUDY_KEYS)
    if unknown:
        raise _err(origin, f"{where}.{unknown[0]}", f"unknown key; allowed: {sorted(_STUDY_KEYS)}")
    for k in ("model", "tracks", "switches"):
        if k not in data:
            raise _err(origin, f"{where}.{k}", "required")
    coding = _text(data.get("coding", "baseline"), origin, f"{where}.coding")
    model = _text(data["model"], origin, f"{where}.model")
    known_models = set(model_ids) if model_ids is not None else None

    def check_model(mid: str, key: str) -> None:
        if known_models is not None and mid not in known_models:
            raise _err(origin, key, f"unknown model {mid!r} (not in config/models/{study}.yaml)")

    check_model(model, f"{where}.model")

    # ---- tracks
    tracks_raw = data["tracks"]
    if not isinstance(tracks_raw, Mapping) or not tracks_raw:
        raise _err(origin, f"{where}.tracks", f"must be a non-empty mapping of track -> {{variant, terms}}; "
                                              f"tracks: {list(TRACKS[study])}")
    tracks: dict[str, TrackSpec] = {}
    from .weisiger.models import VARIANTS

    for t, spec in tracks_raw.items():
        key = f"{where}.tracks.{t}"
        if t not in TRACKS[study]:
            raise _err(origin, key, f"unknown track; {study} has {list(TRACKS[study])}")
        if not isinstance(spec, Mapping):
            raise _err(origin, key, "must be a mapping with 'terms' (and 'variant' for weisiger)")
        bad = sorted(set(spec) - _TRACK_KEYS)
        if bad:
            raise _err(origin, f"{key}.{bad[0]}", f"unknown key; allowed: {sorted(_TRACK_KEYS)}")
        terms = spec.get("terms")
        if (not isinstance(terms, list) or not terms or not all(isinstance(x, str) and x for x in terms)
                or len(set(terms)) != len(terms)):
            raise _err(origin, f"{key}.terms", f"must be a non-empty list of distinct term names, got {terms!r}")
        variant = spec.get("variant")
        if study == "weisiger":
            if variant not in VARIANTS:
                raise _err(origin, f"{key}.variant", f"must be one of {list(VARIANTS)}, got {variant!r}")
        elif variant is not None:
            raise _err(origin, f"{key}.variant", "Henke's models have no variants; remove the key")
        scale = spec.get("scale", "coefficient")
        if scale not in SCALES:
            raise _err(origin, f"{key}.scale", f"must be one of {list(SCALES)}, got {scale!r}")
        if scale == "per_sd" and study != "henke":
            raise _err(origin, f"{key}.scale", "per_sd needs the estimation sample of each universe, which only "
                                               "the Henke runner records; use 'coefficient'")
        tracks[str(t)] = TrackSpec(variant=variant, terms=tuple(terms), scale=scale)

    # ---- switches
    sw_raw = data["switches"]
    if not isinstance(sw_raw, list) or not sw_raw:
        raise _err(origin, f"{where}.switches", "must be a non-empty list of switches")
    switches: list[Switch] = []
    names: set[str] = set()
    scalar_owner: dict[str, str] = {}
    for i, s in enumerate(sw_raw):
        key = f"{where}.switches[{i}]"
        if not isinstance(s, Mapping):
            raise _err(origin, key, "must be a mapping with name, label, proposed_by, baseline, values")
        bad = sorted(set(s) - _SWITCH_KEYS)
        if bad:
            raise _err(origin, f"{key}.{bad[0]}", f"unknown key; allowed: {sorted(_SWITCH_KEYS)}")
        name = _text(s.get("name"), origin, f"{key}.name")
        if not set(name) <= _NAME_CHARS or not name[0].isalpha():
            raise _err(origin, f"{key}.name", f"must be lower-case letters, digits and _ (a column name), "
                                              f"got {name!r}")
        if name in names:
            raise _err(origin, f"{key}.name", f"switch {name!r} is listed twice")
        if name in TABLE_COLUMNS:
            raise _err(origin, f"{key}.name", f"{name!r} is a column of the results table; choose another name")
        names.add(name)
        key = f"{where}.switches[{name}]"
        label = _text(s.get("label"), origin, f"{key}.label")
        proposed_by = _text(s.get("proposed_by"), origin, f"{key}.proposed_by")
        why = _text(s.get("why"), origin, f"{key}.why", required=False)
        values_raw = s.get("values")
        if not isinstance(values_raw, Mapping) or len(values_raw) < 2:
            raise _err(origin, f"{key}.values", "must map at least two value labels to the coding parameters "
                                                "they set ({} = the base coding)")
        values: list[tuple[str, Mapping[str, Any]]] = []
        for vlabel, settings in values_raw.items():
            vkey = f"{key}.values[{vlabel!r}]"
            if not isinstance(vlabel, str) or not vlabel.strip():
                raise _err(origin, vkey, "a value label must be a non-empty text (quote numbers)")
            settings = {} if settings is None else settings
            if not isinstance(settings, Mapping):
                raise _err(origin, vkey, f"must be a mapping of coding parameters, got {settings!r}")
            _check_value(study, settings, origin, vkey, root)
            if "model" in settings:
                check_model(settings["model"], f"{vkey}.model")
            values.append((vlabel, dict(settings)))
        baseline = s.get("baseline")
        if baseline not in [v for v, _ in values]:
            raise _err(origin, f"{key}.baseline", f"must be one of the switch's value labels "
                                                  f"{[v for v, _ in values]}, got {baseline!r}")
        sw = Switch(name=name, label=label, proposed_by=proposed_by, why=why, baseline=str(baseline),
                    values=tuple(values))
        for p in sw.parameters:
            if p in LIST_KEYS[study]:
                continue
            if p in scalar_owner and scalar_owner[p] != name:
                raise _err(origin, f"{key}.values", f"parameter {p!r} is also set by switch "
                                                    f"'{scalar_owner[p]}'; a scalar parameter can be set by one "
                                                    "switch only (merge the two switches)")
            scalar_owner[p] = name
        switches.append(sw)
    return StudyMultiverse(study=study, coding=coding, model=model, tracks=tracks, switches=tuple(switches),
                           origin=origin, raw=copy.deepcopy(dict(data)))


def load_multiverse(path: str | Path = "config/multiverse.yaml", root: str | Path = ".",
                    models: Mapping[str, str | Path] | None = None) -> dict[str, StudyMultiverse]:
    """Read and validate ``config/multiverse.yaml``: one :class:`StudyMultiverse` per study.

    ``models`` optionally maps a study to its model file, so that model ids are checked too.
    """
    path = Path(path)
    data = read_yaml(path)
    if not isinstance(data, Mapping) or not data:
        raise CoalitionsError(f"{path}: must be a mapping with one section per study ({list(STUDIES)})")
    out = {}
    for study, section in data.items():
        ids = None
        if models and study in models:
            ids = _model_ids(study, models[study])
        out[str(study)] = parse_study(str(study), section, origin=str(path), root=root, model_ids=ids)
    return out


def _model_ids(study: str, path: str | Path) -> list[str]:
    if study == "weisiger":
        from .weisiger.specs import load_specs

        return [s.id for s in load_specs(path)]
    from .henke.models import load_specs as henke_specs

    return [s.id for s in henke_specs(path, "rebuilt")]


def _as_study(config: StudyMultiverse | Mapping[str, Any], study: str | None) -> StudyMultiverse:
    if isinstance(config, StudyMultiverse):
        return config
    if study is None:
        raise CoalitionsError("expand_universes: give the study name with a raw configuration section")
    return parse_study(study, config)


# ================================================================================================
# universes


def _universe_id(study: str, setting: Mapping[str, str]) -> str:
    """A stable id: the study's initial and a hash of the switch settings (independent of file order)."""
    blob = json.dumps({k: setting[k] for k in sorted(setting)}, ensure_ascii=True, separators=(",", ":"))
    return f"{study[0]}{hashlib.sha1(blob.encode()).hexdigest()[:8]}"


def expand_universes(config: StudyMultiverse | Mapping[str, Any], study: str | None = None) -> pd.DataFrame:
    """Every combination of one value per switch: ``universe_id``, one column per switch (the value's
    label), ``is_baseline`` (every switch at its published value). Rows follow the switches' order
    (the last switch varies fastest); ids depend only on the settings, never on the order."""
    sm = _as_study(config, study)
    names = [s.name for s in sm.switches]
    rows = []
    for combo in itertools.product(*[s.labels for s in sm.switches]):
        setting = dict(zip(names, combo))
        rows.append({"universe_id": _universe_id(sm.study, setting), **setting,
                     "is_baseline": all(setting[s.name] == s.baseline for s in sm.switches)})
    df = pd.DataFrame(rows, columns=["universe_id", *names, "is_baseline"])
    if df["universe_id"].duplicated().any():  # pragma: no cover (a 32-bit hash collision)
        raise CoalitionsError(f"{sm.origin}: {sm.study}: two universes got the same id; rename a value label")
    return df


def universe_settings(sm: StudyMultiverse, row: Mapping[str, Any],
                      base: Mapping[str, Any] | None = None) -> tuple[dict[str, Any], str]:
    """The study's coding section of one universe (base coding + every switch's value) and its model id.

    List-valued parameters (:data:`LIST_KEYS`) are combined across the base and the switches, in order
    and without repeats; scalars are set by their (one) switch.
    """
    section: dict[str, Any] = copy.deepcopy(dict(base or {}))
    model = sm.model
    for sw in sm.switches:
        if sw.name not in row:
            raise CoalitionsError(f"universe {row.get('universe_id', '?')}: no value for switch '{sw.name}'")
        for k, v in sw.settings(str(row[sw.name])).items():
            if k == "model":
                model = v
            elif k in LIST_KEYS[sm.study]:
                cur = list(section.get(k) or [])
                section[k] = cur + [x for x in v if x not in cur]
            else:
                section[k] = copy.deepcopy(v)
    return section, model


def case_files(sm: StudyMultiverse, base: Mapping[str, Any] | None = None) -> list[str]:
    """Every case file a universe can read (inputs of the multiverse job, so an edit re-runs it)."""
    sections = [dict(base or {})] + [s for sw in sm.switches for _, s in sw.values]
    files: list[str] = []
    for sec in sections:
        files += list(sec.get("censor_case_files") or [])
        if isinstance(sec.get("extension_members"), str):
            files.append(sec["extension_members"])
    return sorted(dict.fromkeys(files))


def required_tables(sm: StudyMultiverse, base: Mapping[str, Any] | None = None, root: str | Path = ".") -> list[str]:
    """The clean source tables (``results/sources/<name>.parquet``) the study's universes read: those of the
    base coding with each switch value applied in turn (a value that picks another NMC or Polity table
    adds it)."""
    if sm.study == "henke":
        from .entry import HENKE_TABLES

        return list(HENKE_TABLES)
    from .weisiger.apply import resolve
    from .weisiger.rebuild import required_tables as weisiger_tables
    from .weisiger.rebuild_coding import WeisigerCoding

    out: set[str] = set()
    variants = [{}] + [s for sw in sm.switches for _, s in sw.values]
    for settings in variants:
        row = {sw.name: sw.baseline for sw in sm.switches}
        section, _ = universe_settings(sm, row, base)
        section.update({k: v for k, v in settings.items() if k not in RESERVED and k not in LIST_KEYS["weisiger"]})
        resolved = resolve(section, origin=f"{sm.origin}: weisiger", root=root)
        coding = WeisigerCoding.from_dict(resolved["params"])
        out.update(weisiger_tables(coding))
        if resolved.get("extension_members"):
            from .weisiger.extension import required_extension_tables

            out.update(required_extension_tables(coding))
    return sorted(out)


def primary_track(sm: StudyMultiverse) -> str:
    """The first track of the configuration: the one the universes table reports a status for."""
    return next(iter(sm.tracks))


def curve_targets(sm: StudyMultiverse) -> list[tuple[str, str, str]]:
    """(track, term, file stem) of every specification curve: ``{study}_spec_curve_{term}`` on the primary
    track, ``{study}_{track}_spec_curve_{term}`` on the others."""
    first = primary_track(sm)
    out = []
    for track, spec in sm.tracks.items():
        for term in spec.terms:
            stem = f"{sm.study}_spec_curve_{term}" if track == first else f"{sm.study}_{track}_spec_curve_{term}"
            out.append((track, term, stem))
    return out


# ================================================================================================
# running: shared state for the (forked) workers

_STATE: dict[str, Any] = {}


def _row(uid: str, study: str, track: str, model_id: str, variant: str | None, term: str, *,
         status: str, message: str = "", model_status: str | None = None, est: Mapping[str, Any] | None = None,
         n_obs: Any = None, n_events: Any = None) -> dict[str, Any]:
    e = est or {}

    def num(k: str) -> float:
        v = e.get(k)
        return float(v) if v is not None and not pd.isna(v) else np.nan

    return {"universe_id": uid, "study": study, "track": track, "model_id": model_id, "variant": variant or "",
            "term": term, "estimate": num("estimate"), "std_error": num("std_error"), "conf_low": num("conf_low"),
            "conf_high": num("conf_high"), "p_value": num("p_value"), "ame": num("ame"), "ame_se": num("ame_se"),
            "term_sd": num("term_sd"),
            "n_obs": n_obs, "n_events": n_events, "model_status": model_status or status, "status": status,
            "message": message}


#: estimator messages that mean the data do not identify the model (separation, a singular information
#: matrix): the universe is not estimable, not failed
_NOT_IDENTIFIED = ("singular", "not positive definite", "perfectly predict", "separat")


def _int_or_none(v: Any) -> int | None:
    return None if v is None or pd.isna(v) else int(v)


def _terms_rows(uid: str, study: str, track: str, model_id: str, variant: str | None, terms: Sequence[str],
                fit: Mapping[str, Any], est: pd.DataFrame, extra_message: str = "",
                dropped: str = "", n_events_key: str = "n_failures",
                sds: Mapping[str, float] | None = None) -> list[dict]:
    """One row per requested term from a model's fit summary and tidy estimates."""
    status = str(fit.get("status"))
    base_msg = "; ".join(m for m in (str(fit.get("message") or ""), extra_message) if m)
    if status == "failed" and any(k in base_msg for k in _NOT_IDENTIFIED):
        status = "not_estimable"  # the fit ran: the data do not identify the model (no failure of the code)
    n_obs, n_events = _int_or_none(fit.get("n_obs")), _int_or_none(fit.get(n_events_key))
    by_term = {r["term"]: r for r in est.to_dict("records")} if len(est) else {}
    out = []
    for term in terms:
        if status != "ok":
            out.append(_row(uid, study, track, model_id, variant, term, status=status, message=base_msg,
                            model_status=status, n_obs=n_obs, n_events=n_events))
            continue
        r = by_term.get(term)
        if r is None or pd.isna(r.get("estimate")):
            why = next((d for d in dropped.split(", ") if d and d.split(" ")[0] == term), None)
            if why:
                reason = why[len(term):].strip(" ()") or "not available in this track"
                msg = f"{term} was dropped from the {variant} model: {reason}"
            elif r is None:
                msg = f"{term} is not a term of the fitted model {model_id}"
            else:
                msg = f"{term}: no estimate"
            out.append(_row(uid, study, track, model_id, variant, term, status="not_estimable",
                            message="; ".join(m for m in (msg, base_msg) if m), model_status=status,
                            n_obs=n_obs, n_events=n_events))
            continue
        if sds is not None:
            r = {**r, "term_sd": sds.get(term, np.nan)}
        out.append(_row(uid, study, track, model_id, variant, term, status="ok", message=base_msg,
                        model_status=status, est=r, n_obs=n_obs, n_events=n_events))
    return out


def _failure_rows(members: Sequence[Mapping[str, Any]], study: str, tracks: Mapping[str, TrackSpec],
                  exc: BaseException, track_only: str | None = None) -> list[dict]:
    msg = str(exc) if isinstance(exc, CoalitionsError) else f"{type(exc).__name__}: {exc}"
    rows = []
    for m in members:
        for track, spec in tracks.items():
            if track_only is not None and track != track_only:
                continue
            for term in spec.terms:
                rows.append(_row(m["uid"], study, track, m["model"], spec.variant, term, status="failed",
                                 message=msg))
    return rows


# ------------------------------------------------------------------------------------------------
# Weisiger

#: WeisigerCoding parameters applied to the built periods instead of rebuilding (see module docstring)
WEISIGER_POST_BUILD = ("exclude_wars",)


def _weisiger_plan(sm: StudyMultiverse, universes: pd.DataFrame, base: Mapping[str, Any],
                   root: str | Path) -> dict[str, list[dict]]:
    """Group the universes by the parameters that change the build."""
    from .weisiger.apply import resolve

    groups: dict[str, list[dict]] = {}
    read: dict[str, list[dict]] = {}  # each censor case file read and validated once
    for row in universes.to_dict("records"):
        uid = row["universe_id"]
        section, model = universe_settings(sm, row, base)
        member = {"uid": uid, "model": model, "section": section}
        try:
            resolved = resolve(section, origin=f"{sm.origin}: weisiger universe {uid}", root=root, case_cache=read)
        except CoalitionsError as exc:
            member["error"] = exc
            groups.setdefault(f"error:{uid}", []).append(member)
            continue
        params = dict(resolved["params"])
        wars = [int(w) for w in params.pop("exclude_wars", []) or []]
        member.update(resolved=resolved, exclude_wars=wars)
        kp = dict(params)
        if kp.get("foverlap_source") == "theatre":  # the theatre proxy does not weight fronts
            kp.pop("front_weighting", None)
            kp.pop("front_gaps", None)
        key = json.dumps(kp, sort_keys=True, default=str)
        member["build_params"] = params
        groups.setdefault(key, []).append(member)
    return groups


#: WeisigerCoding fields read only by the exit coding of the participants (``build_participants``). The
#: periods of a war are a function of that war's participants and of the other fields, so universes whose
#: codings differ only here share the periods of every war whose participants they code alike (checked
#: against a direct build in every run, see :func:`_weisiger_shared_periods`).
EXIT_FIELDS = ("exit_tolerance_days", "side_change_is_exit", "side_change_max_days", "censor_enemy_surrender",
               "war_ending_exits", "war_ending_exits_as_abandonment", "not_exit_cases", "censor_cases",
               "exclude_wars", "late_join_days")


#: WeisigerCoding fields that ``build_participants`` does not read (they change the periods' covariates or
#: clock only): universes whose codings differ only here share one participants table. Every other field,
#: including any added later, is part of the participants' key.
PERIOD_ONLY_FIELDS = ("time_origin", "recexit_window_days", "recexit2_window_days", "minor_threshold",
                      "demdum_threshold", "newlead_reference", "newlead_window_days", "nmc_table", "nmc_fill_years",
                      "polity_table", "ctrend_windows",
                      # how foverlap and the battlefield trends are measured
                      "foverlap_source", "front_weighting", "front_gaps", "trend_source", "trend_empty_window",
                      "trend_windows")


def _participants_key(params: Mapping[str, Any]) -> str:
    return json.dumps({k: v for k, v in params.items() if k not in PERIOD_ONLY_FIELDS}, sort_keys=True, default=str)


def _period_key(params: Mapping[str, Any]) -> str:
    return json.dumps({k: v for k, v in params.items() if k not in EXIT_FIELDS}, sort_keys=True, default=str)


def _war_hash(part: pd.DataFrame) -> str:
    """A fingerprint of one war's participants (every column): equal fingerprints, equal periods."""
    from pandas.util import hash_pandas_object

    g = part.reset_index(drop=True)
    h = hashlib.sha1(",".join(map(str, g.columns)).encode())
    h.update(hash_pandas_object(g, index=False).to_numpy().tobytes())
    return h.hexdigest()


def _war_hashes(part: pd.DataFrame) -> dict[int, str]:
    """:func:`_war_hash` of every war of a participants table at once (the row hashes are computed once for
    the whole table; a row's hash depends on that row only, so each war's fingerprint is the one
    :func:`_war_hash` gives for that war's rows alone)."""
    from pandas.util import hash_pandas_object

    g = part.reset_index(drop=True)
    cols = ",".join(map(str, g.columns)).encode()
    rows = hash_pandas_object(g, index=False).to_numpy()
    out: dict[int, str] = {}
    for w, idx in g.groupby("warnum", sort=True).indices.items():
        h = hashlib.sha1(cols)
        h.update(rows[idx].tobytes())
        out[int(w)] = h.hexdigest()
    return out


def _group_war_hashes(key: str) -> dict[int, str]:
    """The war fingerprints of a build group's participants (computed once per participants table)."""
    cache = _STATE.setdefault("war_hashes", {})
    pkey = _participants_key(_STATE["groups"][key][0]["build_params"]) if _STATE.get("participants_shared", True) \
        else key
    if pkey not in cache:
        cache[pkey] = _war_hashes(_STATE["participants"][key])
    return cache[pkey]


def _weisiger_participants(key: str) -> tuple[str, Any]:
    """The participants (exit coding) of one build group, or the exception that stopped them."""
    from .weisiger.rebuild import build_participants
    from .weisiger.rebuild_coding import WeisigerCoding

    st = _STATE
    try:
        coding = WeisigerCoding.from_dict(st["groups"][key][0]["build_params"], origin=f"{st['sm'].origin}: weisiger")
        return key, build_participants(st["tables"], coding, st["cases"])
    except Exception as exc:  # noqa: BLE001 -- becomes the status of the group's universes
        LOG.exception("weisiger multiverse: the participants of a build group failed")
        return key, exc


def _fronts() -> pd.DataFrame | None:
    """The front file (config/cases/weisiger_fronts.csv) among the loaded case files, if there is one."""
    from .weisiger.fronts import FRONTS

    return _STATE.get("cases", {}).get(FRONTS)


def _weisiger_pieces(task: tuple[str, list[int]]) -> dict[tuple[str, int, str], Any]:
    """The records of the given wars of one build group, with the hand-coded step applied, one piece per war
    keyed like the shared store: ``(periods, participants, counts)`` of that war, or the exception that
    stopped the wars' build (it fails the rebuilt track of every group that needs one of them)."""
    from .weisiger.rebuild_coding import WeisigerCoding

    key, wars = task
    st = _STATE
    params = st["groups"][key][0]["build_params"]
    part = st["participants"][key]
    sub = part[part["warnum"].isin(wars)]
    pk = _period_key(params)
    hashes = _group_war_hashes(key)
    keys = {int(w): (pk, int(w), hashes[int(w)]) for w in wars}
    try:
        per_h, part_h, counts = _records(sub, WeisigerCoding.from_dict(params))
    except Exception as exc:  # noqa: BLE001 -- becomes the status of the groups that need these wars
        LOG.exception("weisiger multiverse: the records of war(s) %s failed", wars)
        return {k: exc for k in keys.values()}
    return {k: (per_h[per_h["warnum"] == w], part_h[part_h["warnum"] == w], counts[counts["warnum"] == w])
            for w, k in keys.items()}


def _assemble_records(key: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A build group's (periods, participants, counts) after the hand-coded step, from the shared per-war
    pieces, in the order the step gives for all wars at once (records by idvar and war day, participants in
    the group's order)."""
    st = _STATE
    params = st["groups"][key][0]["build_params"]
    part = st["participants"][key]
    pk = _period_key(params)
    hashes = _group_war_hashes(key)
    got = [st["pieces"][(pk, int(w), hashes[int(w)])] for w in sorted(part["warnum"].unique())]
    for g in got:
        if isinstance(g, BaseException):
            raise g
    if not got:
        return st["empty_records"]
    per = pd.concat([g[0] for g in got], ignore_index=True)
    per = per.sort_values(["idvar", "wstart"], kind="stable").reset_index(drop=True)
    ph = pd.concat([g[1] for g in got]).set_index("idvar").loc[part["idvar"]].reset_index()
    counts = pd.concat([g[2] for g in got], ignore_index=True)
    return per, ph[list(got[0][1].columns)], counts


def _weisiger_shared_periods(keys: list[str], workers: int) -> None:
    """Participants of every build group, then the periods of each distinct (war, participants) once.

    Fills ``_STATE["participants"]`` and ``_STATE["pieces"]``. A self-check assembles the group whose
    coding is furthest from the base from the pieces and compares it with a direct ``build_periods``; if
    they differ (the rebuild came to read an exit field in the periods), sharing is switched off and every
    group is built directly.
    """
    from .weisiger.rebuild import build_periods
    from .weisiger.rebuild_coding import WeisigerCoding

    st = _STATE
    ok_keys = [k for k in keys if "error" not in st["groups"][k][0]]
    st["participants"], st["participants_error"] = {}, {}
    # one participants table per distinct participants key (groups differing in period-only fields share it)
    pkeys = {k: _participants_key(st["groups"][k][0]["build_params"]) for k in ok_keys}
    first = list({pk: k for k, pk in reversed(list(pkeys.items()))}.values())
    built_parts = dict(_map(_weisiger_participants, first, workers))
    by_pkey = {pkeys[k]: res for k, res in built_parts.items()}
    for key in ok_keys:
        res = by_pkey[pkeys[key]]
        if isinstance(res, BaseException):
            st["participants_error"][key] = res  # fails the group's rebuilt track only
        else:
            st["participants"][key] = res
    borrowed = [k for k in ok_keys if k not in built_parts and k in st["participants"]]
    if borrowed:
        # self-check: a group that borrowed its participants, against a direct build of its own
        probe = max(borrowed, key=lambda k: (sum(1 for f in PERIOD_ONLY_FIELDS if f in st["groups"][k][0]["build_params"]),
                                             k))
        _, direct = _weisiger_participants(probe)
        same = not isinstance(direct, BaseException)
        if same:
            try:
                pd.testing.assert_frame_equal(st["participants"][probe], direct)
            except AssertionError:
                same = False
        if not same:
            LOG.warning("weisiger multiverse: shared participants differ from a direct build; building the "
                        "participants of every group directly")
            for key, res in _map(_weisiger_participants, ok_keys, workers):
                st["participants"].pop(key, None)
                st["participants_error"].pop(key, None)
                if isinstance(res, BaseException):
                    st["participants_error"][key] = res
                else:
                    st["participants"][key] = res
            st["participants_shared"] = False
    # which group computes which (war, participants) piece: the first that needs it
    todo: dict[str, list[int]] = {}
    seen: set[tuple[str, int, str]] = set()
    for key in ok_keys:
        if key not in st["participants"]:
            continue
        part = st["participants"][key]
        pk = _period_key(st["groups"][key][0]["build_params"])
        for w, h in _group_war_hashes(key).items():
            piece = (pk, int(w), h)
            if piece not in seen:
                seen.add(piece)
                todo.setdefault(key, []).append(int(w))
    st["pieces"] = {}
    for res in _map(_weisiger_pieces, sorted(todo.items(), key=lambda kv: -len(kv[1])), workers):
        st["pieces"].update(res)
    built = [k for k in ok_keys if k in st["participants"]]
    st["shared"] = True
    if built:
        # the self-check: the group that differs most from the base in its exit rules, assembled from the
        # pieces, against the build and the hand-coded step applied to all its wars at once
        probe = max(built, key=lambda k: (sum(1 for f in EXIT_FIELDS if f in st["groups"][k][0]["build_params"]),
                                          k))
        params = st["groups"][probe][0]["build_params"]
        try:
            direct = _direct_records(probe)
        except Exception as exc:  # noqa: BLE001 -- the group fails when it is built; nothing to compare
            LOG.warning("weisiger multiverse: the self-check's group failed (%s); building every group directly",
                        str(exc).splitlines()[0])
            st["shared"] = False
        else:
            st["empty_records"] = (direct[0].iloc[0:0], direct[1].iloc[0:0], direct[2].iloc[0:0])
            try:
                for a, b in zip(_assemble_records(probe), direct):
                    pd.testing.assert_frame_equal(a, b.reset_index(drop=True))
            except Exception as exc:  # noqa: BLE001 -- AssertionError, or a piece's own failure
                LOG.warning("weisiger multiverse: records assembled from shared wars differ from a direct build "
                            "(%s); building every group directly", str(exc).splitlines()[0])
                st["shared"] = False
    LOG.info("weisiger multiverse: %d build group(s), %d distinct war piece(s) of %d, sharing %s",
             len(built), len(seen), sum(st["participants"][k]["warnum"].nunique() for k in built),
             "on" if st["shared"] else "OFF")


def _records(part: pd.DataFrame, coding: Any) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(periods, participants, counts) of the given participants' wars, as ``build_rebuilt`` builds them:
    the periods, then the hand-coded step."""
    from .weisiger.handcoded import handcoded_records
    from .weisiger.rebuild import build_periods

    st = _STATE
    periods, _ = build_periods(st["tables"], part, coding, fronts=_fronts())
    part_h, per_h, _, counts = handcoded_records(st["tables"], part, periods, st["cases"], coding)
    return per_h, part_h, counts


def _direct_records(key: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A build group's records built for all its wars at once (the self-check's reference, and the build
    when sharing is off)."""
    from .weisiger.rebuild_coding import WeisigerCoding

    st = _STATE
    coding = WeisigerCoding.from_dict(st["groups"][key][0]["build_params"], origin=f"{st['sm'].origin}: weisiger")
    return _records(st["participants"][key], coding)


def _weisiger_data(key: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(periods, variables) of one build group: assembled from the shared per-war pieces (or built
    directly), with the hand-coded variables and missing-data rules, validated as ``build_rebuilt``
    validates them."""
    from .schema import validate
    from .weisiger.battle_periods import trend_source_used
    from .weisiger.handcoded import handcoded_variables_from_counts
    from .weisiger.rebuild import PARTICIPANTS_SCHEMA, PERIODS_SCHEMA, VARIABLES_SCHEMA, variables_table
    from .weisiger.rebuild_coding import WeisigerCoding

    st = _STATE
    members = st["groups"][key]
    if key in st.get("participants_error", {}):
        raise st["participants_error"][key]
    coding = WeisigerCoding.from_dict(members[0]["build_params"], origin=f"{st['sm'].origin}: weisiger")
    periods, part, counts = _assemble_records(key) if st.get("shared") else _direct_records(key)
    variables = handcoded_variables_from_counts(variables_table(coding, trend_source_used(st["tables"], coding)),
                                                st["cases"], coding, part, counts)
    validate(part, PARTICIPANTS_SCHEMA, "rebuilt Weisiger participants")
    validate(periods, PERIODS_SCHEMA, "rebuilt Weisiger periods")
    validate(variables, VARIABLES_SCHEMA, "rebuilt Weisiger variables")
    missing = [v for v in variables["column"] if v not in periods.columns]
    if missing:
        raise CoalitionsError(f"rebuilt Weisiger periods lack the variable column(s) {missing}")
    return periods, variables


def _with_extension(periods: pd.DataFrame, members_file: str, coding: Any) -> pd.DataFrame:
    """Append Henke's post-2003 extension (``extension_members``), as the weisiger_rebuilt job does."""
    from .weisiger.extension import build_extension_periods

    cache = _STATE.setdefault("extension", {})
    k = (members_file, json.dumps(coding.to_dict(), sort_keys=True, default=str))
    if k not in cache:
        _, ext, _ = build_extension_periods(Path(_STATE.get("root", ".")) / members_file, _STATE["tables"], coding,
                                            cases=_STATE.get("cases"))
        cache[k] = ext
    ext = cache[k]
    return pd.concat([periods, ext[[c for c in periods.columns if c in ext.columns]]], ignore_index=True)


def _weisiger_group(key: str) -> list[dict]:
    """Build one dataset and fit every universe that shares it (rebuilt track, then original)."""
    from .weisiger.apply import apply_data_rules, apply_to_original, applicability
    from .weisiger.models import run_models
    from .weisiger.rebuild_coding import WeisigerCoding

    st = _STATE
    sm: StudyMultiverse = st["sm"]
    members = st["groups"][key]
    rows: list[dict] = []
    if "error" in members[0]:
        return _failure_rows(members, "weisiger", sm.tracks, members[0]["error"])
    specs = st["specs"]
    memo = st.setdefault("weisiger_fits", {})
    data = None
    if "rebuilt" in sm.tracks:
        spec_t = sm.tracks["rebuilt"]
        try:
            data = _weisiger_data(key)
        except Exception as exc:  # noqa: BLE001 -- recorded as the universes' status, never dropped
            LOG.exception("weisiger multiverse: building the data of %d universe(s) failed", len(members))
            rows += _failure_rows(members, "weisiger", sm.tracks, exc, track_only="rebuilt")
        if data is not None:
            periods_all, variables = data
            for m in members:
                try:
                    coding = WeisigerCoding.from_dict(m["resolved"]["params"], origin=f"universe {m['uid']}")
                    periods = periods_all
                    if m["resolved"].get("extension_members"):
                        periods = _with_extension(periods, m["resolved"]["extension_members"], coding)
                    periods = apply_data_rules(periods, m["resolved"], coding)
                    if m["exclude_wars"]:
                        periods = periods[~periods["warnum"].isin(m["exclude_wars"])].reset_index(drop=True)
                    spec = specs[m["model"]]
                    feasible = spec_t.variant == "feasible"
                    # universes whose model sees the same data share one fit (the fit gets only the
                    # columns the key covers)
                    fkey = weisiger_fit_key(spec, periods, variables, "rebuilt", feasible)
                    if fkey not in memo:
                        memo[fkey] = run_models(periods[weisiger_model_columns(spec, periods)], variables, [spec],
                                                track="rebuilt", coding=m["uid"], feasible=feasible)
                    est, fits = memo[fkey]
                    rows += _weisiger_fit_rows(m, "rebuilt", spec_t, est, fits, extra=_trend_note(coding))
                except Exception as exc:  # noqa: BLE001
                    LOG.exception("weisiger multiverse: universe %s failed", m["uid"])
                    rows += _failure_rows([m], "weisiger", {"rebuilt": spec_t}, exc)
    if "original" in sm.tracks:
        spec_t = sm.tracks["original"]
        archive = st.get("archive")
        for m in members:
            if archive is None:
                rows += [_row(m["uid"], "weisiger", "original", m["model"], spec_t.variant, term,
                              status="not_available", message=st.get("archive_reason") or "original archive not obtained")
                         for term in spec_t.terms]
                continue
            try:
                coding = WeisigerCoding.from_dict(m["resolved"]["params"], origin=f"universe {m['uid']}")
                periods = apply_data_rules(apply_to_original(archive.periods, coding), m["resolved"], coding)
                est, fits = run_models(periods, archive.variables, [specs[m["model"]]], track="original",
                                       coding=m["uid"], feasible=spec_t.variant == "feasible")
                app = applicability(m["resolved"], coding, "original")
                notes = []
                na = app.loc[app["status"] == "not_applicable", "rule"].tolist()
                if na:
                    notes.append("not applicable to the original archive (no COW dates): " + ", ".join(na))
                if archive.is_synthetic:
                    notes.insert(0, "SYNTHETIC TEST ARCHIVE, not Weisiger's data")
                rows += _weisiger_fit_rows(m, "original", spec_t, est, fits, extra="; ".join(notes))
            except Exception as exc:  # noqa: BLE001
                LOG.exception("weisiger multiverse: universe %s failed on the original track", m["uid"])
                rows += _failure_rows([m], "weisiger", {"original": spec_t}, exc)
    return rows


def _trend_note(coding: Any) -> str:
    """Says so when the coding asks for IWBD and the trends had to come from CDB90."""
    from .weisiger.battle_periods import trend_source_used

    if trend_source_used(_STATE["tables"], coding) != coding.trend_source:
        return ("IWBD could not be obtained: the battlefield trends come from CDB90, so this universe equals its "
                "CDB90 counterpart")
    return ""


def _weisiger_fit_rows(m: Mapping[str, Any], track: str, spec_t: TrackSpec, est: pd.DataFrame,
                       fits: pd.DataFrame, extra: str = "") -> list[dict]:
    want = spec_t.variant or "as_published"
    f = fits[fits["variant"] == want]
    if f.empty:  # nothing was missing, so the feasible variant is the model as published
        f = fits[fits["variant"] == "as_published"]
        want = "as_published"
    fit = f.iloc[0].to_dict()
    e = est[est["variant"] == want]
    return _terms_rows(m["uid"], "weisiger", track, m["model"], want, spec_t.terms, fit, e, extra_message=extra,
                       dropped=str(fit.get("dropped") or ""), n_events_key="n_failures")


# ------------------------------------------------------------------------------------------------
# Henke

#: HenkeCoding parameters applied to the built data instead of rebuilding (see module docstring)
HENKE_POST_BUILD = ("embeddedness", "operations", "complete_lists_only", "uncertain_contributors", "lag_years")


def _henke_lag_after_build(hc: Any, spec: Any) -> bool:
    """Whether lag_years can be applied by swapping in the ``*_l1`` columns (exact, see module docstring)."""
    from .henke.rebuild import LAGGED

    return (not hc.exclude_targets_allies) and all(c in LAGGED for c in spec.covariates)


def _henke_plan(sm: StudyMultiverse, universes: pd.DataFrame, base: Mapping[str, Any],
                specs: Mapping[str, Any]) -> dict[str, list[dict]]:
    from .henke.rebuild import HenkeCoding

    defaults = HenkeCoding()
    groups: dict[str, list[dict]] = {}
    for row in universes.to_dict("records"):
        uid = row["universe_id"]
        section, model = universe_settings(sm, row, base)
        member = {"uid": uid, "model": model, "section": section}
        try:
            hc = HenkeCoding.from_dict(section, origin=f"{sm.origin}: henke universe {uid}")
            if model not in specs:
                raise CoalitionsError(f"{sm.origin}: henke universe {uid}: unknown model {model!r}")
        except CoalitionsError as exc:
            member["error"] = exc
            groups.setdefault(f"error:{uid}", []).append(member)
            continue
        post = list(HENKE_POST_BUILD)
        if not _henke_lag_after_build(hc, specs[model]):
            post.remove("lag_years")
        build = hc.to_dict()
        for k in post:
            build[k] = getattr(defaults, k) if not isinstance(getattr(defaults, k), tuple) else list(getattr(defaults, k))
        member.update(coding=hc, build=build, lag_after=("lag_years" in post))
        groups.setdefault(json.dumps(build, sort_keys=True, default=str), []).append(member)
    return groups


def henke_universe_data(data: pd.DataFrame, variables: pd.DataFrame, operations: pd.DataFrame, hc: Any,
                        lag_after: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply the post-build Henke parameters of a universe to data built with their defaults.

    Rows: the coding's operations (and complete lists), without single-source contributors under
    ``uncertain_contributors="drop"``. Columns: with ``lag_after`` and ``lag_years == 1`` every lagged
    covariate takes its ``*_l1`` value (measured one year before the start, as a build with
    ``lag_years=1`` measures it); ``embeddedness`` becomes the coding's variant, and its row of the
    variables table takes that variant's status (proxy / not_available).
    """
    from .henke.rebuild import LAGGED, select_operations

    ops = select_operations(operations, hc)
    keep = data["operation_id"].isin(ops["operation_id"])
    if hc.uncertain_contributors == "drop":
        keep &= ~(data["joined"].eq(1) & data["certainty"].eq("single_source"))
    d = data.loc[keep].copy()
    if lag_after and hc.lag_years == 1:
        for c in LAGGED:
            d[c] = d[f"{c}_l1"]
        d["cov_year"] = d["start_year"] - 1
    d["embeddedness"] = d[f"embeddedness_{hc.embeddedness}"]
    v = variables.copy()
    src = v.loc[v["variable"] == f"embeddedness_{hc.embeddedness}"]
    if len(src):
        i = v.index[v["variable"] == "embeddedness"]
        v.loc[i, "status"] = src["status"].iloc[0]
        v.loc[i, "note"] = f"embeddedness as coded ({hc.embeddedness}): {src['note'].iloc[0]}"
    return d.reset_index(drop=True), v


def henke_sample_sd(data: pd.DataFrame, spec: Any, terms: Sequence[str]) -> tuple[dict[str, float], int]:
    """Standard deviation of each term's variable in the model's estimation sample: complete cases of the
    model's columns (within its operations), and for a conditional logit only the groups whose outcome
    varies (the others carry no information and are dropped by the estimator). A coefficient times this
    SD is the change in log-odds for a one-SD difference: comparable across embeddedness measures whose
    units differ (counts of ties vs a share of memberships)."""
    d = data
    if spec.operations is not None:
        d = d[d["operation_id"].isin(spec.operations)]
    cols = [c for c in spec.columns() if c in d.columns]
    d = d.dropna(subset=cols)
    if spec.estimator == "clogit" and spec.group:
        y = d[spec.outcome]
        varies = y.groupby(d[spec.group]).transform("nunique") > 1
        d = d[varies]
    sds = {t: float(d[t].astype(float).std(ddof=1)) if t in d.columns and len(d) > 1 else np.nan for t in terms}
    return sds, len(d)


def _digest_columns(h: Any, data: pd.DataFrame, cols: Sequence[str]) -> None:
    """Feed ``cols`` of ``data`` (name, dtype, every value in row order; absent columns marked) into the hash
    ``h``: the bytes of numeric and date columns, the pickled values of the others."""
    h.update(f"\0rows\0{len(data)}".encode())
    for c in cols:
        h.update(b"\0col\0" + str(c).encode())
        if c not in data.columns:
            h.update(b"\0absent")
            continue
        arr = data[c].to_numpy()
        h.update(f"\0{data[c].dtype}\0".encode())
        if arr.dtype.kind in "biufcmM":
            h.update(np.ascontiguousarray(arr).tobytes())
        else:
            h.update(pickle.dumps(arr.tolist(), protocol=4))


def henke_fit_key(spec: Any, data: pd.DataFrame, variables: pd.DataFrame, terms: Sequence[str]) -> bytes:
    """A digest of everything a universe's model fit and term scales are computed from: the model, the
    data's columns that the model (and its operations filter) and the terms use, value for value in row
    order, and those columns' rows of the variables table (status and note). Universes whose digests are
    equal (e.g. IGO membership statuses under a diplomatic-only embeddedness measure, which uses no IGO)
    have the same estimates, so the fit is computed once (per process) and its rows copied; the digest
    covers the exact values (bytes of numbers, pickled objects), not a hash of them."""
    h = hashlib.sha256(repr(spec).encode())
    cols = list(dict.fromkeys([*spec.columns(), *terms, *(["operation_id"] if spec.operations is not None else [])]))
    _digest_columns(h, data, cols)
    rows = variables.loc[variables["variable"].isin(cols), ["variable", "status", "note"]]
    _digest_columns(h, rows.reset_index(drop=True), ["variable", "status", "note"])
    return h.digest()


def weisiger_model_columns(spec: Any, periods: pd.DataFrame) -> list[str]:
    """The columns of ``periods`` a Weisiger model is estimated from: its variables (outcome, covariates,
    subject, cluster, sample filter and recode variables) and the analysis-time interval."""
    from .weisiger.models import START, STOP

    return [c for c in dict.fromkeys([*spec.variables, START, STOP]) if c in periods.columns]


def weisiger_fit_key(spec: Any, periods: pd.DataFrame, variables: pd.DataFrame, track: str, feasible: bool) -> bytes:
    """A digest of a Weisiger model fit's inputs: the model, the track, the feasible flag, the periods'
    columns the model is estimated from (:func:`weisiger_model_columns`, value for value in row order; the
    fit is given only those columns, so nothing else can change it) and the whole variables table."""
    h = hashlib.sha256(f"{spec!r}\0{spec.labels!r}\0{track}\0{feasible}".encode())  # (labels: not in the repr)
    _digest_columns(h, periods, weisiger_model_columns(spec, periods))
    _digest_columns(h, variables.reset_index(drop=True), list(variables.columns))
    return h.digest()


def _henke_group(key: str) -> list[dict]:
    from .henke.models import run_models
    from .henke.rebuild import HenkeCoding, build_dataset

    st = _STATE
    sm: StudyMultiverse = st["sm"]
    members = st["groups"][key]
    if "error" in members[0]:
        return _failure_rows(members, "henke", sm.tracks, members[0]["error"])
    spec_t = sm.tracks["rebuilt"]
    try:
        hc = HenkeCoding.from_dict(members[0]["build"], origin=f"{sm.origin}: henke")
        data, variables = build_dataset(st["tables"], st["operations"], st["contributors"], hc)
    except Exception as exc:  # noqa: BLE001
        LOG.exception("henke multiverse: building the data of %d universe(s) failed", len(members))
        return _failure_rows(members, "henke", sm.tracks, exc)
    rows: list[dict] = []
    memo = st.setdefault("henke_fits", {})
    for m in members:
        try:
            d, v = henke_universe_data(data, variables, st["operations"], m["coding"], m["lag_after"])
            spec = st["specs"][m["model"]]
            key = henke_fit_key(spec, d, v, spec_t.terms)
            if key not in memo:
                est, fits = run_models(d, v, [spec], track="rebuilt", coding=m["uid"])
                memo[key] = (est, fits.iloc[0].to_dict(), henke_sample_sd(d, spec, spec_t.terms))
            est, fit, (sds, n) = memo[key]
            if fit["status"] == "ok" and (pd.isna(fit["n_obs"]) or int(fit["n_obs"]) != n):
                # the sample is not the estimator's: leave the scale empty rather than report a wrong one
                LOG.warning("henke universe %s: estimation sample %s != %d rows; term_sd left empty",
                            m["uid"], fit["n_obs"], n)
                sds = {t: np.nan for t in sds}
            rows += _terms_rows(m["uid"], "henke", "rebuilt", m["model"], None, spec_t.terms, fit, est,
                                n_events_key="n_events", sds=sds)
        except Exception as exc:  # noqa: BLE001
            LOG.exception("henke multiverse: universe %s failed", m["uid"])
            rows += _failure_rows([m], "henke", sm.tracks, exc)
    return rows


# ------------------------------------------------------------------------------------------------


def _map(fn, items: list, workers: int) -> list:
    """``[fn(x) for x in items]``, over ``workers`` forked processes when there is more than one (they
    inherit the tables and everything else in ``_STATE`` without copying)."""
    if workers <= 1 or len(items) <= 1:
        return [fn(x) for x in items]
    import multiprocessing as mp

    try:
        ctx = mp.get_context("fork")
    except ValueError:  # pragma: no cover (no fork on this platform: run in this process)
        return [fn(x) for x in items]
    with ctx.Pool(processes=min(workers, len(items))) as pool:
        return pool.map(fn, items, chunksize=1)


def _run_groups(fn, keys: list[str], workers: int) -> list[dict]:
    # the largest groups first, so that the workers finish together
    order = sorted(keys, key=lambda k: -len(_STATE["groups"][k]))
    return [r for part in _map(fn, order, workers) for r in part]


def run_study_multiverse(study: str, universes: pd.DataFrame, tables: Mapping[str, pd.DataFrame], *,
                         config: StudyMultiverse, models_path: str | Path, base: Mapping[str, Any] | None = None,
                         cases_dir: str | Path | None = None, archive_dir: str | Path | None = None,
                         operations_path: str | Path | None = None, contributors_path: str | Path | None = None,
                         root: str | Path = ".", workers: int = 1) -> pd.DataFrame:
    """Estimate the study's key model in every universe of ``universes`` (rows of :func:`expand_universes`,
    possibly a subset) and return the tidy table (:data:`TABLE_COLUMNS` + one column per switch).

    ``tables``: the clean source tables by name (a mapping; ``ParquetTables`` reads them on demand).
    ``base``: the study's section of the base coding file (``config.coding``). Weisiger needs
    ``cases_dir`` (the ``weisiger_*.csv`` case files) and, for the original track, ``archive_dir``
    (``resources/original/weisiger2016``, whose status.json says whether the archive was obtained);
    Henke needs ``operations_path`` and ``contributors_path``. ``workers`` > 1 spreads the build groups
    over that many forked processes.
    """
    sm = config
    if study != sm.study:
        raise CoalitionsError(f"run_study_multiverse: the configuration is {sm.study!r}'s, not {study!r}'s")
    if "universe_id" not in universes.columns:
        raise CoalitionsError("run_study_multiverse: universes need a universe_id column (see expand_universes)")
    missing = [s.name for s in sm.switches if s.name not in universes.columns]
    if missing:
        raise CoalitionsError(f"run_study_multiverse: universes lack the switch column(s) {missing}")
    if universes["universe_id"].duplicated().any():
        raise CoalitionsError("run_study_multiverse: duplicate universe ids")
    t0 = time.perf_counter()
    _STATE.clear()
    _STATE["sm"] = sm
    _STATE["tables"] = tables
    base = dict(base or {})
    if study == "weisiger":
        from .weisiger.rebuild_cases import load_cases
        from .weisiger.specs import load_model_config

        mc = load_model_config(models_path)
        _STATE["specs"] = {s.id: s for s in mc.specs}
        if cases_dir is None:
            raise CoalitionsError("run_study_multiverse(weisiger): cases_dir (config/cases) is required")
        if "rebuilt" in sm.tracks:
            _STATE["cases"] = load_cases(cases_dir, tables["cow_war_participants"])
        if "original" in sm.tracks:
            _load_archive(archive_dir, list(mc.specs), mc.labels())
        groups = _weisiger_plan(sm, universes, base, root)
        for members in groups.values():
            for m in members:
                if "error" not in m and m["model"] not in _STATE["specs"]:
                    m["error"] = CoalitionsError(f"{sm.origin}: weisiger universe {m['uid']}: unknown model "
                                                 f"{m['model']!r} (not in {models_path})")
        # a group's members share the build; an unknown model only fails its own universe
        groups = _split_errors(groups)
        fn = _weisiger_group
    else:
        from .henke.cases import load_cases as henke_cases
        from .henke.models import load_specs

        if operations_path is None or contributors_path is None:
            raise CoalitionsError("run_study_multiverse(henke): operations_path and contributors_path are required")
        specs = {s.id: s for s in load_specs(models_path, "rebuilt")}
        _STATE["specs"] = specs
        _STATE["operations"], _STATE["contributors"] = henke_cases(operations_path, contributors_path,
                                                                   tables["cow_states"])
        groups = _henke_plan(sm, universes, base, specs)
        fn = _henke_group
    _STATE["groups"] = groups
    _STATE["root"] = str(root)
    keys = list(groups)
    LOG.info("%s multiverse: %d universe(s) in %d build group(s), %d worker(s)", study, len(universes),
             len(keys), max(1, min(workers, len(keys))))
    if study == "weisiger" and "rebuilt" in sm.tracks:
        _weisiger_shared_periods(keys, workers)
    try:
        rows = _run_groups(fn, keys, workers)
    finally:
        _STATE.clear()
    out = _assemble(rows, universes, sm)
    for track in sm.tracks:
        t = out[out["track"] == track]
        if len(t) and t["status"].eq("failed").all():
            raise CoalitionsError(f"{study} multiverse: every universe failed on the {track} track; first "
                                  f"message: {t['message'].iloc[0]}")
    LOG.info("%s multiverse done in %.1f s: %s", study, time.perf_counter() - t0,
             out.groupby(["track", "status"]).size().to_dict())
    return out


def _split_errors(groups: dict[str, list[dict]]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for key, members in groups.items():
        ok = [m for m in members if "error" not in m]
        if ok:
            out[key] = ok
        for m in members:
            if "error" in m:
                out[f"error:{m['uid']}"] = [m]
    return out


def _load_archive(archive_dir: str | Path | None, specs: list, labels: Mapping[str, str]) -> None:
    if archive_dir is None:
        _STATE["archive"] = None
        _STATE["archive_reason"] = "no original archive folder was given"
        return
    from .fetch import read_archive_status
    from .weisiger.original import read_archive

    status = read_archive_status(archive_dir)
    if not status.get("available"):
        _STATE["archive"] = None
        _STATE["archive_reason"] = ("original archive not obtained: " + str(status.get("reason") or "see its status.json"))
        return
    name = status["files"]["data"]["name"]
    _STATE["archive"] = read_archive(Path(archive_dir) / name, specs, labels=labels)


def _assemble(rows: list[dict], universes: pd.DataFrame, sm: StudyMultiverse) -> pd.DataFrame:
    """The tidy table in a fixed order (universes, tracks, terms), with the switch columns; checks that
    every universe has exactly one row per track and term."""
    df = pd.DataFrame(rows, columns=[c for c in TABLE_COLUMNS if c != "is_baseline"])
    sw_cols = [s.name for s in sm.switches]
    u = universes[["universe_id", *sw_cols]].copy()
    u["is_baseline"] = universes["is_baseline"].astype(bool) if "is_baseline" in universes else [
        all(r[s.name] == s.baseline for s in sm.switches) for r in universes.to_dict("records")]
    u["_u"] = np.arange(len(u))
    df = df.merge(u, on="universe_id", how="left", validate="many_to_one")
    track_order = {t: i for i, t in enumerate(sm.tracks)}
    df["_t"] = df["track"].map(track_order)
    term_order = {(t, term): i for t, spec in sm.tracks.items() for i, term in enumerate(spec.terms)}
    df["_k"] = [term_order.get((t, k), 99) for t, k in zip(df["track"], df["term"])]
    df = df.sort_values(["_u", "_t", "_k"], kind="stable").drop(columns=["_u", "_t", "_k"]).reset_index(drop=True)
    expected = len(universes) * sum(len(s.terms) for s in sm.tracks.values())
    counts = df.groupby(["universe_id", "track", "term"]).size()
    if len(df) != expected or (counts != 1).any():  # pragma: no cover (a bug, not a data problem)
        raise CoalitionsError(f"{sm.study} multiverse: expected {expected} rows (one per universe, track and "
                              f"term), got {len(df)}")
    for c in ("n_obs", "n_events"):
        df[c] = pd.array(df[c].astype("float64"), dtype="Float64").round().astype("Int64")
    return df[[*TABLE_COLUMNS, *sw_cols]]


def universe_status(table: pd.DataFrame, universes: pd.DataFrame, sm: StudyMultiverse) -> pd.DataFrame:
    """The universes table with the model's status on the primary track (``status``, ``message``,
    ``n_obs``, ``n_events``): one row per universe, in the universes' order."""
    track = primary_track(sm)
    t = table[table["track"] == track].drop_duplicates("universe_id")
    info = t.set_index("universe_id")[["model_id", "model_status", "n_obs", "n_events", "message"]]
    out = universes.copy()
    out = out.join(info, on="universe_id")
    out = out.rename(columns={"model_status": "status"})
    out["track"] = track
    return out[["universe_id", *[s.name for s in sm.switches], "is_baseline", "track", "model_id", "status",
                "n_obs", "n_events", "message"]]


def table_from_csv(path: str | Path) -> pd.DataFrame:
    """Read a ``{study}_multiverse.csv`` back with its types (switch labels stay text)."""
    df = pd.read_csv(path, dtype={"universe_id": str, "message": str}, keep_default_na=True)
    df["message"] = df["message"].fillna("")
    return df


# ================================================================================================
# helpers for rules/multiverse.smk (kept here so that the rules file holds rules only)


def base_section(sm: StudyMultiverse, codings: Mapping[str, Any] | None = None,
                 folder: str | Path = "config/codings") -> dict[str, Any]:
    """The study's section of the coding file every universe starts from (``sm.coding``), as plain data;
    taken from the workflow's loaded ``codings`` when there, else read (and validated) from ``folder``."""
    from .codings import load_coding

    coding = (codings or {}).get(sm.coding) or load_coding(Path(folder) / f"{sm.coding}.yaml")
    return copy.deepcopy(dict(getattr(coding, sm.study) or {}))


def job_inputs(sm: StudyMultiverse, base: Mapping[str, Any], weisiger_case_files: Sequence[str] = (),
               sources: str = "results/sources") -> dict[str, Any]:
    """Inputs of the study's multiverse job: source tables, model file, case files (and the original archive
    folder, or Henke's operation and contributor files)."""
    inputs: dict[str, Any] = {
        "tables": [f"{sources}/{t}.parquet" for t in required_tables(sm, base)],
        "models": f"config/models/{sm.study}.yaml",
        "case_files": case_files(sm, base),
    }
    if sm.study == "weisiger":
        from .weisiger.battle_periods import battle_case_files

        from .weisiger.battle_periods import IWBD_ARCHIVE

        inputs["cases"] = list(weisiger_case_files)
        inputs["battle_cases"] = battle_case_files()
        if any(s.get("trend_source") == "iwbd" for sw in sm.switches for _, s in sw.values) or \
                (base or {}).get("trend_source") == "iwbd":
            inputs["iwbd"] = IWBD_ARCHIVE
        if "original" in sm.tracks:
            inputs["archive"] = "resources/original/weisiger2016"
    else:
        inputs["operations"] = "config/cases/henke_operations.csv"
        inputs["contributors"] = "config/cases/henke_contributors.csv"
    return inputs


def curve_files(sm: StudyMultiverse, folder: str = "results/multiverse") -> list[str]:
    """Every specification-curve file of the study (PNG and SVG)."""
    return [f"{folder}/{stem}.{ext}" for _, _, stem in curve_targets(sm) for ext in ("png", "svg")]

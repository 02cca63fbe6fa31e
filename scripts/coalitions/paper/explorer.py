"""Inline data of the HTML explorer: result tables, the case browser and the multiverse explorer.

Everything is read from the results files (the same :class:`~coalitions.paper.gather.StudyData` as
the tables of the paper, the per-coding ``participants.csv`` and ``dataset.csv``, the case files of
``config/cases`` for the sources of Henke's contributors, and ``results/multiverse``) and written in a
compact, column-wise JSON that the page's plain JavaScript reads (``templates/paper_explorer.js``):

* ``results``: one row per model, term, track and coding (estimate, SE, p, counts, status);
* ``cases``: per study, every unit (participant; country-operation) with its coded status under each
  coding, coded once per distinct (status, reason, case file, source, note) in ``coded``;
* ``mv``: per study, the switches and their values, each universe as one character per switch, and
  per term the estimates and standard errors of every universe (4 decimals).

Nothing here is a number typed by hand; a part whose files are missing is simply empty.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from .fmt import is_missing, to_float

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _r(x: Any, d: int = 4) -> float | None:
    v = to_float(x)
    return None if v is None else round(v, d)


def _s(x: Any) -> str:
    return "" if is_missing(x) else str(x).strip()


class _Strings:
    """A table of distinct strings: rows refer to them by index (keeps the inline data small)."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self._idx: dict[Any, int] = {}

    def __call__(self, v: Any) -> int:
        key = json.dumps(v, sort_keys=True, ensure_ascii=False)
        if key not in self._idx:
            self._idx[key] = len(self.items)
            self.items.append(v)
        return self._idx[key]


def _results(sds: dict[str, Any], answers: list[dict]) -> dict[str, Any]:
    from .gather import OK, STATUS_TEXT, TRACKS, TRACK_LABEL, _model_title

    verdicts: dict[tuple, str] = {}
    for a in answers:
        for t in a.get("tables", []):
            for g in t["groups"]:
                for c in g["codings"]:
                    for r in c["rows"]:
                        verdicts[(a["key"], a["model"], r["term"], t["track"], c["coding"])] = r["verdict"]
    rows = []
    for key, sd in sds.items():
        for m in sd.model_ids():
            title = _model_title(sd, m, sd.model_meta(m))
            for tr in TRACKS:
                for c in sd.track_codings[tr]:
                    st, msg = sd.status_of(m, tr, c)
                    fit = sd.fit_row(m, tr, c) or {}
                    n1 = fit.get("n_subjects") if key == "weisiger" else fit.get("n_obs")
                    n2 = fit.get("n_failures") if key == "weisiger" else fit.get("n_events")
                    e = sd.est_rows(m, tr, c)
                    if st != OK or e.empty:
                        rows.append([sd.study.name, title, "", TRACK_LABEL[tr], sd.cl.get(c, c), None, None, None,
                                     None, None, STATUS_TEXT.get(st, st), ""])
                        continue
                    for r in e.drop_duplicates("term").to_dict("records"):
                        rows.append([sd.study.name, title, sd.label(r["term"]), TRACK_LABEL[tr], sd.cl.get(c, c),
                                     _r(r.get("estimate")), _r(r.get("std_error")), _r(r.get("p_value")),
                                     None if to_float(n1) is None else int(to_float(n1)),
                                     None if to_float(n2) is None else int(to_float(n2)),
                                     STATUS_TEXT[OK] + (" (proxy)" if str(r.get("proxy")).lower() in ("true", "1")
                                                        else ""),
                                     verdicts.get((key, m, r["term"], tr, c), "")])
    return {"cols": ["Study", "Model", "Term", "Track", "Coding", "Estimate", "SE", "p", "N", "Events", "Status",
                     "Verdict"], "rows": rows}


def _weisiger_cases(participants: dict[str, Path], sd: Any) -> dict[str, Any]:
    codings = [c for c in sd.track_codings.get("rebuilt", [])
               if c in participants and participants[c].is_file()]
    strings = _Strings()
    units: dict[str, dict] = {}
    order: list[str] = []
    for j, c in enumerate(codings):
        df = pd.read_csv(participants[c], dtype=str, keep_default_na=False)
        if "participant" not in df.columns:
            continue
        for r in df.to_dict("records"):
            pid = _s(r.get("participant"))
            if pid not in units:
                units[pid] = {"info": [pid, _s(r.get("war_name")), _s(r.get("state_name")), _s(r.get("side")),
                                       _s(r.get("entry_date"))[:10]], "coded": [None] * len(codings)}
                order.append(pid)
            exit_ = "exit" if _s(r.get("exit")) in ("1", "1.0", "True", "true") else "censored"
            units[pid]["coded"][j] = strings([exit_, _s(r.get("exit_date"))[:10], _s(r.get("exit_reason")),
                                              _s(r.get("case_file")), _s(r.get("case_source")),
                                              _s(r.get("case_note"))])
    return {"unit": "participant", "cols": ["Participant", "War", "State", "Side", "Entry"],
            "coded_cols": ["Status", "Exit date", "Reason", "Case file", "Source", "Note"],
            "codings": [sd.cl.get(c, c) for c in codings], "coded": strings.items,
            "rows": [units[p]["info"] + [units[p]["coded"]] for p in order]}


def _henke_sources(cases: dict[str, Path]) -> dict[tuple[str, str], str]:
    out: dict[tuple[str, str], str] = {}
    for name, op_col in (("henke_contributors.csv", "operation_id"), ("henke_iraq_afghanistan_members.csv", "operation")):
        p = cases.get(name)
        if p is None or not p.is_file():
            continue
        try:
            df = pd.read_csv(p, dtype=str, keep_default_na=False, comment="#")
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
            continue
        if op_col not in df.columns or "ccode" not in df.columns:
            continue
        for r in df.to_dict("records"):
            src = _s(r.get("source"))
            det = _s(r.get("source_detail"))
            k = (_s(r.get(op_col)), _s(r.get("ccode")))
            if src and k not in out:
                out[k] = f"{src} ({det})" if det else src
    return out


def _henke_cases(datasets: dict[str, Path], cases: dict[str, Path], sd: Any) -> dict[str, Any]:
    codings = [c for c in sd.track_codings.get("rebuilt", []) if c in datasets and datasets[c].is_file()]
    sources = _henke_sources(cases)
    strings = _Strings()
    units: dict[tuple, dict] = {}
    order: list[tuple] = []
    for j, c in enumerate(codings):
        df = pd.read_csv(datasets[c], dtype=str, keep_default_na=False)
        op = "operation_id" if "operation_id" in df.columns else ("operation" if "operation" in df.columns else None)
        if op is None or "ccode" not in df.columns or "joined" not in df.columns:
            continue
        for r in df.to_dict("records"):
            k = (_s(r.get(op)), _s(r.get("ccode")))
            if k not in units:
                units[k] = {"info": [f"{k[0]}-{k[1]}", k[0], _s(r.get("state_name")) or k[1],
                                     _s(r.get("start_date"))[:10]], "coded": [None] * len(codings)}
                order.append(k)
            joined = "joined" if _s(r.get("joined")) in ("1", "1.0", "True", "true") else "not joined"
            src = sources.get(k, "") if joined == "joined" else ""
            units[k]["coded"][j] = strings([joined, src])
    return {"unit": "country-operation", "cols": ["Country-operation", "Operation", "State", "Start"],
            "coded_cols": ["Status", "Source"], "codings": [sd.cl.get(c, c) for c in codings],
            "coded": strings.items, "rows": [units[k]["info"] + [units[k]["coded"]] for k in order]}


def _multiverse(raw: dict[str, Any], sds: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, r in raw.items():
        mv, uni, switches, labels = r["mv"], r["uni"], r["switches"], r["labels"]
        if mv is None or mv.empty:
            continue
        src = uni if uni is not None else mv.drop_duplicates("universe_id")
        ids = list(dict.fromkeys(_s(u) for u in src["universe_id"]))
        values = {sw: list(dict.fromkeys(_s(v) for v in src[sw] if not is_missing(v))) for sw in switches}
        by_id = {_s(u): row for u, row in zip(src["universe_id"], src.to_dict("records"))}
        codes = []
        for u in ids:
            row = by_id[u]
            codes.append("".join(_DIGITS[values[sw].index(_s(row[sw]))] if _s(row[sw]) in values[sw] else "-"
                                 for sw in switches))
        base = None
        if "is_baseline" in src.columns:
            hit = [i for i, v in enumerate(src["is_baseline"]) if _s(v).lower() in ("true", "1")]
            base = hit[0] if hit else None
        terms = []
        sd = sds[key]
        for (tr, m, t), sub in mv.groupby(["track", "model_id", "term"], sort=False):
            pos = {u: i for i, u in enumerate(ids)}
            est = [None] * len(ids)
            se = [None] * len(ids)
            for row in sub.to_dict("records"):
                i = pos.get(_s(row["universe_id"]))
                if i is None:
                    continue
                ok = _s(row.get("status")).lower() in ("ok", "")
                e = to_float(row.get("estimate")) if ok else None
                s = to_float(row.get("std_error"))
                if s is None and e is not None:
                    lo, hi = to_float(row.get("conf_low")), to_float(row.get("conf_high"))
                    s = (hi - lo) / (2 * 1.959964) if lo is not None and hi is not None else None
                est[i], se[i] = _r(e), _r(s) if e is not None else None
            terms.append({"term": t, "label": sd.label(t), "track": tr, "model": m, "est": est, "se": se})
        out[key] = {"study": sd.study.name,
                    "switches": [{"name": sw, "label": labels.get(sw, sw), "values": values[sw]} for sw in switches],
                    "ids": ids, "codes": codes, "baseline": base, "terms": terms}
    return out


def explorer_data(inputs: Any, sds: dict[str, Any], answers: list[dict], mv_raw: dict,
                  baseline: str) -> dict[str, Any]:
    """The explorer's inline data (see the module doc); ``inputs`` is the paper's
    :class:`~coalitions.paper.inputs.PaperInputs` (participants, Henke's datasets and case files)."""
    cases = {}
    if "weisiger" in sds:
        cases["weisiger"] = {"study": sds["weisiger"].study.name, **_weisiger_cases(inputs.participants, sds["weisiger"])}
    if "henke" in sds:
        cases["henke"] = {"study": sds["henke"].study.name,
                          **_henke_cases(inputs.henke_datasets, inputs.cases, sds["henke"])}
    return {"results": _results(sds, answers), "cases": cases, "mv": _multiverse(mv_raw, sds)}


def to_inline_json(data: dict[str, Any]) -> str:
    """Compact JSON that is safe inside a ``<script type="application/json">`` element."""
    s = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=False, allow_nan=False)
    return s.replace("<", "\\u003c")

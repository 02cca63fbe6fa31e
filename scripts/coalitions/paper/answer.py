"""The paper's answer: does each coding rule change each study's conclusions?

Built only from the results files (through :class:`coalitions.paper.gather.StudyData`): the key
model of each study (Weisiger's Full Model, Henke's first estimated embeddedness model), its key
terms (the ``key_term`` column of ``estimates.csv``, else the model's first term), the other terms of
the model as published (the controls), the fit's status and counts, and ``variables.csv`` for the
status of each variable (``rebuilt``, ``hand_coded``, ``proxy``, ``not_available``).

For every coding, track and term the answer gives the estimate, its standard error, its
significance, the counts of the fit, and a *verdict* against the reference (the published value
where one was read, for the baseline; the baseline of the same track for every other coding):

* ``same``: the same sign and the same side of the 5% level;
* ``weaker``: significant at 5% in the reference, not here;
* ``stronger``: not significant at 5% in the reference, significant here with the same sign;
* ``reversed``: significant at 5% with the opposite sign;
* ``not estimable: why``: the model or the term cannot be estimated here, with the reason.

The sentences summarise across codings ("Under 9 of 10 codings ...; under X it ...") so that no
sentence is repeated with only a coding's name changed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from .fmt import NA_TABLE, count, is_missing, join_words, num, plural, pval, stars, to_float

SIG = 0.05
VERDICTS = ("same", "weaker", "stronger", "reversed", "not estimable")
#: variable status strings of variables.csv and how a table marks them
STATUS_WORDS = {"rebuilt": "rebuilt", "hand_coded": "hand-coded", "proxy": "proxy",
                "not_available": "not available", "original": "original"}
PROXY_MARK = "‡"
HAND_MARK = "§"


# =========================================================================== variable status
class VariableStatus:
    """The status of every variable of one study, per coding and track (``variables.csv``).

    Understands the status strings ``rebuilt``, ``hand_coded``, ``proxy`` and ``not_available``
    (and ``original`` for an author's archive); anything else is kept as written. A coding without
    its own file uses the baseline's.
    """

    def __init__(self, variables: Mapping[tuple[str, str, str], Path], study: str, baseline: str):
        self.study, self.baseline = study, baseline
        self._by: dict[tuple[str, str], dict[str, dict[str, str]]] = {}
        for (coding, st, track), p in sorted(variables.items(), key=lambda kv: kv[1]):
            if st != study or not p.is_file():
                continue
            try:
                df = pd.read_csv(p, dtype=str, keep_default_na=False)
            except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError):
                continue
            if "variable" not in df.columns or "status" not in df.columns:
                continue
            rows = {}
            for r in df.to_dict("records"):
                v = str(r.get("variable", "")).strip()
                if v:
                    rows[v] = {"status": str(r.get("status", "")).strip().lower(),
                               "note": str(r.get("note", "") or "").strip(),
                               "label": str(r.get("label", "") or "").strip()}
            self._by[(coding, track)] = rows

    def get(self, variable: str, track: str, coding: str) -> dict[str, str] | None:
        rows = self._by.get((coding, track)) or self._by.get((self.baseline, track)) or {}
        return rows.get(variable)

    def status(self, variable: str, track: str, coding: str) -> str:
        r = self.get(variable, track, coding)
        return r["status"] if r else ""

    def is_proxy(self, variable: str, track: str, coding: str) -> bool:
        return self.status(variable, track, coding) == "proxy"

    def is_hand_coded(self, variable: str, track: str, coding: str) -> bool:
        return self.status(variable, track, coding) == "hand_coded"

    def tracks(self) -> set[str]:
        return {t for _, t in self._by}


# =========================================================================== words
_IDENT = re.compile(r"\b[a-z][a-z0-9_]*\d*\b")


def humanise(text: str, labels: dict[str, str]) -> str:
    """A workflow message with variable names replaced by their labels.

    ``ctrend60 (War Worsening) cannot be rebuilt`` -> ``War Worsening cannot be rebuilt``;
    ``without ctrend60, sepdum`` -> ``without War Worsening, No Separate Peace``.
    """
    if not text:
        return ""
    names = {k: v for k, v in labels.items() if k and v and k != v and re.fullmatch(r"[a-z][a-z0-9_]*", k)
             and len(k) > 2}
    if not names:
        return text

    def rep(m: re.Match) -> str:
        w = m.group(0)
        return names.get(w, w)

    out = _IDENT.sub(rep, text)
    for lab in set(names.values()):
        out = out.replace(f"{lab} ({lab})", lab)
    return out


def _dropped_tokens(dropped: str) -> dict[str, str]:
    """``ctrend60, foverlap (separation)`` -> {ctrend60: "", foverlap: "separation"}."""
    out = {}
    for tok in re.split(r"[,;]\s*", dropped or ""):
        tok = tok.strip()
        if not tok:
            continue
        m = re.match(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?", tok)
        if m:
            out[m.group(1)] = (m.group(2) or "").strip()
    return out


def direction(est: float | None, p: float | None) -> str:
    """``negative and significant at 5%`` / ``positive, not significant at 5%``."""
    if est is None:
        return "not available"
    sign = "negative" if est < 0 else "positive"
    if p is not None and p < SIG:
        return f"{sign} and significant at 5%"
    return f"{sign}, not significant at 5%"


def verdict(ref: tuple[float | None, float | None] | None, cur: tuple[float | None, float | None]) -> str:
    """The verdict of ``cur`` (estimate, p) against ``ref`` at the 5% level (see the module doc)."""
    ce, cp = cur
    if ce is None:
        return "not estimable"
    if ref is None or ref[0] is None:
        return "no reference"
    re_, rp = ref
    rs, cs = (rp is not None and rp < SIG), (cp is not None and cp < SIG)
    same_sign = (re_ < 0) == (ce < 0)
    if rs and cs:
        return "same" if same_sign else "reversed"
    if rs and not cs:
        return "weaker"
    if not rs and cs:
        return "stronger" if same_sign else "reversed"
    return "same"


def proposer_group(proposed_by: str) -> str:
    """Who proposed a coding, for grouping: the first name before a year, comma or parenthesis
    (``Morey (2017), ISQ online symposium`` -> ``Morey``; ``This project, after Poast`` -> ``This project``)."""
    s = (proposed_by or "").strip()
    if not s:
        return "Not stated"
    s = re.split(r"[;,(]| \d{4}", s, maxsplit=1)[0].strip()
    if s.lower() == "this project":
        return "this project"
    return s or "Not stated"


# =========================================================================== the answer
def _key_model(sd: Any, baseline: str) -> str | None:
    from .gather import headline

    model, _ = headline(sd, baseline)
    return model


def _terms(sd: Any, model: str, mv_terms: list[str]) -> tuple[list[str], list[str]]:
    """(key terms, controls) of the key model: flagged key terms first (else the first term); the
    controls are the other terms of the model as published."""
    terms = sd.terms(model)
    keys = []
    if sd.key_flags is not None:
        keys = [t for m, t in sd.key_flags if m == model and t in terms]
    if not keys:
        from .gather import key_term_of_model

        k = key_term_of_model(sd, model)
        keys = [k] if k else terms[:1]
    keys = list(dict.fromkeys(keys))
    controls = [t for t in terms if t not in keys]
    return keys, controls


def _why(sd: Any, vs: VariableStatus, model: str, term: str, track: str, coding: str) -> str:
    """Why a term has no estimate in one column, in words (labels, not variable names)."""
    from .gather import OK, STATUS_TEXT

    labels = sd.labels
    st, msg = sd.status_of(model, track, coding)
    if st == "missing":
        return "no result for this coding and track"
    if st != OK:
        return humanise(msg, labels) or STATUS_TEXT.get(st, st)
    var = sd.variants.get((model, track, coding))
    v = vs.get(term, track, coding)
    if v and v["status"] == "not_available":
        note = humanise(v.get("note", ""), labels).rstrip(". ")
        base = "not measurable from public data" if track == "rebuilt" else "not in the data"
        return f"{sd.label(term)} is {base}" + (f": {note[:1].lower() + note[1:]}" if note else "")
    if var and var.get("dropped"):
        toks = _dropped_tokens(var["dropped"])
        why = toks.get(term)
        if why is not None:
            if "separat" in why:
                prox = " (the proxy)" if v and v["status"] == "proxy" else ""
                return f"{sd.label(term)}{prox} separates exits perfectly, so it has no finite estimate"
            return why or "left out of the estimable variant"
    return "no coefficient in the estimated model"


def _counts(sd: Any, model: str, track: str, coding: str) -> str:
    fit = sd.fit_row(model, track, coding) or {}
    from .gather import OK

    if sd.status_of(model, track, coding)[0] != OK:
        return ""
    if sd.study.key == "weisiger":
        return f"{count(fit.get('n_subjects'))} / {count(fit.get('n_failures'))}"
    return f"{count(fit.get('n_obs'))} / {count(fit.get('n_events'))}"


def _value(sd: Any, model: str, term: str, track: str, coding: str) -> dict[str, Any] | None:
    from .gather import OK

    if sd.status_of(model, track, coding)[0] != OK:
        return None
    e = sd.est_rows(model, track, coding)
    e = e[e["term"] == term]
    if e.empty or to_float(e.iloc[0]["estimate"]) is None:
        return None
    r = e.iloc[0]
    return {"est": to_float(r["estimate"]), "se": to_float(r.get("std_error")), "p": to_float(r.get("p_value")),
            "proxy_flag": str(r.get("proxy", "")).strip().lower() in {"true", "1", "yes"}}


def _published(sd: Any, model: str, term: str) -> tuple[float | None, float | None] | None:
    if sd.published is None:
        return None
    sub = sd.published[(sd.published["model_id"] == model) & (sd.published["term"] == term)]
    if sub.empty or to_float(sub.iloc[0].get("estimate")) is None:
        return None
    r = sub.iloc[0]
    p = to_float(r.get("p_value"))
    if p is None:
        st = str(r.get("stars") or "").strip()
        p = 0.001 if st == "**" else (0.03 if st == "*" else (0.07 if st in ("†", "+", "dagger") else None))
        if p is None:
            se = to_float(r.get("std_error"))
            if se:
                from scipy.stats import norm

                p = float(2 * norm.sf(abs(to_float(r["estimate"]) / se)))
    return to_float(r["estimate"]), p


def study_answer(sd: Any, vs: VariableStatus, baseline: str, coding_rows: list[dict], mv_terms: list[str],
                 *, controls: bool = True) -> dict:
    """The answer table(s) of one study (one per track with results) and the sentences about them."""
    from .gather import TRACK_LABEL, TRACK_WORD, _model_title, _slug

    key = sd.study.key
    model = _key_model(sd, baseline)
    out: dict[str, Any] = {"key": key, "name": sd.study.name, "tables": [], "paras": [], "facts": [],
                           "model": model or "", "available": bool(model)}
    if not model:
        out["paras"] = [[{"t": "text", "v": f"No results of {sd.study.name} are available, so the question cannot "
                                             "be answered for this study yet."}]]
        return out
    title = _model_title(sd, model, sd.model_meta(model))
    out["model_title"] = title
    keys, ctrl = _terms(sd, model, mv_terms)
    controls = ctrl if controls else []
    terms = keys + controls
    info = {r["coding"]: r for r in coding_rows}
    n_word = ("subjects / failures" if key == "weisiger" else "observations / joiners")
    for tr in [t for t in ("original", "rebuilt") if sd.track_codings[t]]:
        codings = sd.track_codings[tr]
        groups: list[dict] = []
        letters: list[str] = []
        base_vals = {t: _value(sd, model, t, tr, baseline) for t in terms}
        facts: dict[str, list[dict]] = {t: [] for t in terms}
        has_proxy = has_hand = False
        ordered = [baseline] + [c for c in codings if c != baseline] if baseline in codings else list(codings)
        for c in ordered:
            meta = info.get(c, {})
            grp_name = "Baseline" if c == baseline else proposer_group(meta.get("proposed_by", ""))
            g = next((x for x in groups if x["label"] == grp_name), None)
            if g is None:
                g = {"label": grp_name, "codings": []}
                groups.append(g)
            rows = []
            identical = c != baseline
            for t in terms:
                v = _value(sd, model, t, tr, c)
                b = base_vals[t]
                if c == baseline:
                    pub = _published(sd, model, t)
                    ref = pub
                else:
                    ref = (b["est"], b["p"]) if b else None
                if v is None:
                    why = _why(sd, vs, model, t, tr, c)
                    if why not in letters:
                        letters.append(why)
                    letter = chr(ord("a") + letters.index(why)) if len(letters) <= 26 else str(letters.index(why) + 1)
                    vd = f"not estimable ({letter})"
                    vword = "not estimable"
                    if b is not None:
                        identical = False
                else:
                    vword = verdict(ref, (v["est"], v["p"]))
                    if c == baseline:
                        vword = "reference" if ref is None else {"same": "same as published", "weaker": "weaker than published",
                                                                 "stronger": "stronger than published",
                                                                 "reversed": "reversed from published"}.get(vword, vword)
                    vd = vword
                    if b is None or abs(v["est"] - b["est"]) > 1e-9 or (v["se"] or 0) != (b["se"] or 0):
                        identical = False
                    why = ""
                proxy = v is not None and (vs.is_proxy(t, tr, c) or v["proxy_flag"])
                hand = v is not None and vs.is_hand_coded(t, tr, c)
                has_proxy |= proxy
                has_hand |= hand
                rows.append({"term": t, "label": sd.label(t), "key": t in keys,
                             "est": num(v["est"], "coef") if v else NA_TABLE,
                             "stars": stars(v["p"]) if v else "",
                             "se": f"({num(v['se'], 'se')})" if v and v["se"] is not None else "",
                             "p": pval(v["p"]) if v else "",
                             "proxy": proxy, "hand": hand,
                             "mark": (PROXY_MARK if proxy else "") + (HAND_MARK if hand else ""),
                             "verdict": vd})
                facts[t].append({"coding": c, "label": meta.get("label") or sd.cl.get(c, c),
                                 "proposer": grp_name, "verdict": vword, "why": why,
                                 "est": v["est"] if v else None, "p": v["p"] if v else None})
            for t in terms:
                base_missing = base_vals[t] is None
                cur_missing = all(r["term"] != t or r["est"] == NA_TABLE for r in rows)
                if base_missing != cur_missing:
                    identical = False
            g["codings"].append({"coding": c, "label": meta.get("label") or sd.cl.get(c, c),
                                 "is_baseline": c == baseline, "n": _counts(sd, model, tr, c),
                                 "identical": identical and any(r["est"] != NA_TABLE for r in rows),
                                 "rows": rows})
        notes = [f"{sd.study.name}, {title}, {TRACK_LABEL[tr].lower()}: each coding rule's estimates of the key terms "
                 f"(first) and of the other terms of the model, with standard errors in parentheses; N = {n_word}. "
                 "Verdict: against the baseline of the same track at the 5% level (same sign and significance: "
                 "same; significance lost: weaker; significance gained: stronger; significant with the other sign: "
                 "reversed); the baseline itself is compared with the published value where one was read."]
        notes += [f"({chr(ord('a') + i) if len(letters) <= 26 else i + 1}) not estimable: {w}." for i, w in enumerate(letters)]
        if has_proxy:
            notes.append(f"{PROXY_MARK} proxy: the variable is approximated from public data, not the original variable.")
        if has_hand:
            notes.append(f"{HAND_MARK} hand-coded: the variable is coded by hand from the sources of the case files.")
        notes.append("= baseline: every estimate equals the baseline's.")
        notes.append("† p<0.1, * p<0.05, ** p<0.01 (two-sided).")
        tid = _slug("tab", "answer", key, tr)
        out["tables"].append({"id": tid, "track": tr, "track_label": TRACK_LABEL[tr], "groups": groups,
                              "notes": notes, "n_word": n_word, "title":
                              f"Does the coding rule change the result? {sd.study.name}, {title}, "
                              f"{TRACK_LABEL[tr].lower()}"})
        out["facts"].append({"track": tr, "terms": terms, "keys": keys, "facts": facts,
                             "base": base_vals, "codings": ordered})
        out["paras"].append(_summary(sd, tr, TRACK_WORD[tr], keys, controls, facts, base_vals, baseline, tid))
    return out


def _summary(sd: Any, tr: str, trword: str, keys: list[str], controls: list[str], facts: dict,
             base: dict, baseline: str, tid: str) -> list[dict]:
    """Sentences that summarise one answer table across codings (no sentence per coding)."""
    segs: list[dict] = [{"t": "ref", "kind": "table", "id": tid}]
    s: list[str] = []
    alts_all = [f for f in facts[keys[0]] if f["coding"] != baseline] if keys else []
    n_alt = len(alts_all)
    s.append(f" gives the answer for the {trword} track under the baseline and {plural(n_alt, 'alternative coding')}.")
    for t in keys:
        s.append(_term_sentence(sd, t, facts[t], base[t], baseline))
    if controls and n_alt:
        steady, moved, never = [], [], []
        for t in controls:
            alts = [f for f in facts[t] if f["coding"] != baseline]
            if base[t] is None and all(f["est"] is None for f in alts):
                never.append(sd.label(t))
            elif base[t] is not None and alts and all(f["verdict"] == "same" for f in alts):
                steady.append(sd.label(t))
            else:
                ch = [f for f in alts if f["verdict"] not in ("same",)]
                moved.append(f"{sd.label(t)} ({_changes_phrase(ch)})")
        parts = []
        if steady:
            parts.append(f"{join_words(steady)} keep{'s' if len(steady) == 1 else ''} their baseline sign and "
                         "significance under every alternative coding")
        if moved:
            parts.append(f"{'; '.join(moved)}")
        if never:
            parts.append(f"{join_words(never)} cannot be estimated on this track under any coding")
        if parts:
            s.append("Of the other terms, " + "; ".join(parts) + ".")
    segs.append({"t": "text", "v": " ".join(x.strip() if i else x for i, x in enumerate(s))})
    return segs


def _changes_phrase(ch: list[dict]) -> str:
    by: dict[str, list[str]] = {}
    for f in ch:
        by.setdefault(f["verdict"], []).append(f["label"])
    parts = []
    for vword in ("weaker", "stronger", "reversed", "not estimable", "no reference"):
        if vword in by:
            w = {"not estimable": "not estimable", "no reference": "estimable only"}[vword] if vword in (
                "not estimable", "no reference") else vword
            parts.append(f"{w} under {join_words(by[vword])}")
    return "; ".join(parts) if parts else "unchanged"


def _term_sentence(sd: Any, term: str, facts: list[dict], base: dict | None, baseline: str) -> str:
    lab = sd.label(term)
    alts = [f for f in facts if f["coding"] != baseline]
    n = len(alts)
    if base is None:
        whys = [f["why"] for f in facts if f["est"] is None]
        est_alts = [f for f in alts if f["est"] is not None]
        why = max(set(whys), key=whys.count) if whys else "no estimate"
        if not est_alts:
            return (f"{lab} cannot be estimated under the baseline or any alternative coding, so whether the coding "
                    f"rules change it cannot be said from these data; the reason: {why}.")
        return (f"{lab} cannot be estimated under the baseline, so there is no reference for a verdict; it is "
                f"estimated only under {join_words([f['label'] for f in est_alts])}. The reason: {why}.")
    bdesc = f"{direction(base['est'], base['p'])} under the baseline ({num(base['est'], 'coef')}, SE {num(base['se'], 'se')})"
    if n == 0:
        return f"{lab} is {bdesc}; no alternative coding has been run."
    same = [f for f in alts if f["verdict"] == "same"]
    others = [f for f in alts if f["verdict"] != "same"]
    sign = "negative" if base["est"] < 0 else "positive"
    sig = base["p"] is not None and base["p"] < SIG
    stay = f"stays {sign} and significant at 5%" if sig else f"stays not significant at 5%"
    if not others:
        every = "the one alternative coding" if n == 1 else f"all {count(n)} alternative codings"
        return f"{lab} is {bdesc}, and under {every} it {stay}."
    head = f"{lab} is {bdesc}; under {count(len(same))} of {count(n)} alternative codings it {stay}"
    parts = []
    for vword, phrase in (("weaker", "it loses significance"), ("stronger", "it becomes significant"),
                          ("reversed", "its sign reverses"), ("not estimable", "it cannot be estimated")):
        fs = [f for f in others if f["verdict"] == vword]
        if not fs:
            continue
        names = join_words([f["label"] for f in fs])
        if vword in ("weaker", "stronger", "reversed"):
            vals = ", ".join(num(f["est"], "coef") for f in fs)
            parts.append(f"under {names} {phrase} ({vals})")
        else:
            parts.append(f"under {names} {phrase}")
    return head + "; " + "; ".join(parts) + "."


# =========================================================================== discussion
def discussion(answers: list[dict], mv: dict, statuses: dict) -> list[list[dict]]:
    """A short discussion generated from the numbers of the answer tables and the multiverse."""
    paras: list[list[dict]] = []
    for a in answers:
        if not a["available"]:
            continue
        for f in a["facts"]:
            changed: dict[str, set[str]] = {}
            n_pairs = n_changed = n_ne = 0
            for t in f["keys"]:
                for x in f["facts"][t]:
                    if x["coding"] == f["codings"][0]:
                        continue
                    n_pairs += 1
                    if x["verdict"] in ("weaker", "stronger", "reversed"):
                        n_changed += 1
                        changed.setdefault(x["proposer"], set()).add(x["label"])
                    elif x["verdict"] in ("not estimable", "no reference"):
                        n_ne += 1
            keys = join_words([a_lab for a_lab in (x for x in f["keys"])])
            labs = [next((r["label"] for g in a["tables"][0]["groups"] for c in g["codings"] for r in c["rows"]
                          if r["term"] == t), t) for t in f["keys"]]
            keys = join_words(labs)
            trw = "rebuilt" if f["track"] == "rebuilt" else "original-archive"
            n_judged = n_pairs - n_ne
            if n_pairs and not n_judged:
                s = [f"For {a['name']} on the {trw} track, none of the {count(n_pairs)} combinations of an alternative "
                     f"coding and a key term ({keys}) can be judged: the key terms cannot be estimated there, so the "
                     "question stays open until they can be measured."]
            else:
                s = [f"For {a['name']} on the {trw} track, {count(n_changed)} of the {count(n_judged)} combinations of an "
                     f"alternative coding and a key term ({keys}) that can be estimated change the conclusion at the 5% "
                     "level"]
                if changed:
                    s[0] += ": " + "; ".join(f"the changes come from {join_words(sorted(v))} ({k})"
                                             for k, v in changed.items())
                s[0] += "."
                if n_ne:
                    s.append(f"In {count(n_ne)} further {'combination' if n_ne == 1 else 'combinations'} the key term "
                             "cannot be estimated, so the question stays open there.")
            ctrl = [t for t in f["terms"] if t not in f["keys"]]
            c_pairs = [x for t in ctrl for x in f["facts"][t] if x["coding"] != f["codings"][0] and x["est"] is not None
                       and x["verdict"] not in ("no reference",)]
            if c_pairs:
                moved = [x for x in c_pairs if x["verdict"] in ("weaker", "stronger", "reversed")]
                s.append(f"Of the {count(len(c_pairs))} estimable combinations of an alternative coding and another term of "
                         f"the model, {count(len(moved))} change sign or significance at 5%.")
            paras.append([{"t": "text", "v": " ".join(s)}])
    for st in mv.get("studies", []):
        for b in st.get("blocks", [])[:1]:
            c = b["counts"]
            if not c["total"]:
                continue
            share = (c["neg"] + c["pos"]) / c["total"]
            paras.append([{"t": "text", "v":
                           f"Across the {count(c['total'])} universes of the multiverse of {st['study']}"
                           + (f" that fit {b['model_title']}" if b.get("model_title") else "")
                           + f", {b['label']} is "
                           f"significant at 5% in {count(c['neg'] + c['pos'])} ({num(100 * share, 0)}%): "
                           f"{count(c['neg'])} negative and {count(c['pos'])} positive; "
                           f"{count(c['na'])} could not be estimated."}])
    missing = [s for s, v in statuses.items() if not v["available"]]
    if missing:
        paras.append([{"t": "text", "v":
                       "Without the authors' archives, the comparison with the original data rests on the rebuilt track "
                       "alone; the original-archive tables fill in once the archives can be downloaded."}])
    return paras

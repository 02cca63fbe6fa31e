"""Hand-coded variables of the rebuilt Weisiger track, and the rules for missing source data.

Weisiger's models need variables that no public dataset gives. They are coded by hand in five
sourced case files (``config/cases/``), validated strictly on every build, and turned into
participant or participant-period values here:

``weisiger_voluntary.csv`` (``warnum, ccode, side, state_name, exit_date, volunt, how, contested, note, source``)
    Every exit classified as chosen (``volunt`` 1) or forced (0; ``how``: conquest, occupation,
    collapse, ...). An exit without a row takes ``WeisigerCoding.volunt_default``; an exit in
    ``conquest_exits.csv`` (the conquest censor file) and not here is forced.
``weisiger_separate_peace.csv`` (``warnum, agreement, date_signed, ccode, side, state_name, bound_from, bound_to, ...``)
    One row per state bound by a pledge not to make a separate peace; ``bound_from`` empty = from
    the signature, ``bound_to`` empty = to the end of the war.
``weisiger_leaders.csv`` (``ccode, state_name, leader, start_date, end_date, ...``)
    Leaders before Archigos' coverage (before 1875) and in its gaps; an empty ``end_date`` (not
    sourced) = in office until the file's next leader of the state takes over.
``weisiger_integrated_command.csv`` (``warnum, side, command, ccode, state_name, start_date, end_date, ...``)
    Members of an integrated command per spell (``end_date`` empty = to the member's end); no row = 0.
``weisiger_war_aims.csv`` (``warnum, ccode, side, state_name, terraim, regaim, ...``)
    Territorial and regime war aims per participant (0/1; empty = unknown).

Every row has ``contested`` (yes/no, with a ``note`` when yes) and a ``source`` naming author,
title and year. Validation errors name the file and the line (the header is line 1).

Computed variables (see :func:`apply_handcoded`):

* ``volunt``: 1 on the last record of a participant whose exit was chosen, 0 elsewhere (a forced
  exit is censored for the voluntary-exit outcome, as in Stata's ``stset ..., f(volunt)``).
* ``sepdum``: 1 on the days the participant is bound by a no-separate-peace pledge together with
  at least one *active* partner (a member of its side fighting on that day, bound by the same
  agreement); ``seppc``: the share of its active partners it is so bound to (0 with no partner).
* ``intdum``: 1 on the days the participant belongs to an integrated command with at least one
  active partner.
* ``terraim``/``regaim``: per participant, from the war-aims file (missing when unknown).
* ``newlead``: where Archigos has no leader for the date, from the leaders file.
* ``polity2``/``demdum`` in Polity's interruption, interregnum and transition years (-66, -77,
  -88) and for states Polity does not list: ``WeisigerCoding.polity_gaps`` and ``polity_unlisted``.

Records are split at the dates where one of these values changes (:func:`split_at_dates`), so the
values are constant within a record. :func:`missing_reasons` says, for every record with a missing
model variable, which variable and why; the model rule lists every record a model drops with it.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..util import LOG, CoalitionsError, derived

__all__ = [
    "VOLUNTARY", "SEPARATE_PEACE", "LEADERS", "INTEGRATED_COMMAND", "WAR_AIMS", "HANDCODED_FILES",
    "EXTENSION_WARNUMS", "read_handcoded", "validate_handcoded", "check_extension_rows", "split_at_dates",
    "apply_handcoded", "handcoded_records", "handcoded_variables", "handcoded_variables_from_counts",
    "COUNT_COLUMNS", "MISSING_COLUMNS", "required_handcoded_tables",
]

VOLUNTARY = "weisiger_voluntary"
SEPARATE_PEACE = "weisiger_separate_peace"
LEADERS = "weisiger_leaders"
INTEGRATED_COMMAND = "weisiger_integrated_command"
WAR_AIMS = "weisiger_war_aims"

#: the columns of each hand-coded file, in file order (the historian's fixed formats)
HANDCODED_FILES: dict[str, tuple[str, ...]] = {
    VOLUNTARY: ("warnum", "ccode", "side", "state_name", "exit_date", "volunt", "how", "contested", "note", "source"),
    SEPARATE_PEACE: ("warnum", "agreement", "date_signed", "ccode", "side", "state_name", "bound_from", "bound_to",
                     "contested", "note", "source"),
    LEADERS: ("ccode", "state_name", "leader", "start_date", "end_date", "contested", "note", "source"),
    INTEGRATED_COMMAND: ("warnum", "side", "command", "ccode", "state_name", "start_date", "end_date", "contested",
                         "note", "source"),
    WAR_AIMS: ("warnum", "ccode", "side", "state_name", "terraim", "regaim", "contested", "note", "source"),
}
#: columns that identify a row: a second row with the same values is a duplicate
_KEYS: dict[str, tuple[str, ...]] = {
    VOLUNTARY: ("warnum", "ccode", "side", "exit_date"),
    SEPARATE_PEACE: ("warnum", "agreement", "ccode", "side"),
    LEADERS: ("ccode", "start_date"),
    INTEGRATED_COMMAND: ("warnum", "side", "command", "ccode", "start_date"),
    WAR_AIMS: ("warnum", "ccode", "side"),
}
#: synthetic war numbers of the post-2003 extension (coalitions.weisiger.extension.OPERATIONS)
EXTENSION_WARNUMS = (9001, 9002)
#: hand-coded time-varying covariates (a record boundary is kept where one of them changes)
HANDCODED_TIME_VARYING = ("sepdum", "seppc", "intdum")
#: columns of the missing-reasons table (one row per record and missing model variable)
MISSING_COLUMNS = ["idvar", "start", "variable", "reason"]

_YEAR = re.compile(r"\b(?:1[5-9]\d\d|20\d\d)\b")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH = re.compile(r"^\d{4}-\d{2}$")
#: day on which a month-precision date of the extension is placed (ExtensionOptions.month_day's default)
MONTH_DAY = 15


def required_handcoded_tables() -> list[str]:
    """Source tables the missing-data rules read besides the rebuild's own (Polity's special codes)."""
    return ["polity5"]


# =====================================================================================================
# reading and validation


def _err(origin: str, line: int | None, msg: str) -> CoalitionsError:
    return CoalitionsError(f"{origin}" + (f", line {line}" if line is not None else "") + f": {msg}")


def read_handcoded(path: str | Path) -> pd.DataFrame:
    """Read one hand-coded case file as text, with ``_line`` = the line on which each row starts.

    Line numbers are those of the file (header = line 1), also where a quoted field spans lines.
    Blank lines are skipped; a row with the wrong number of fields is an error naming its line.
    """
    p = Path(path)
    if not p.is_file():
        raise CoalitionsError(f"{p}: case file not found")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CoalitionsError(f"{p}: cannot be read as UTF-8 ({exc})") from None
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise CoalitionsError(f"{p}: the file is empty (it needs a header line)") from None
    header = [h.strip().lstrip("\ufeff") for h in header]
    rows, lines = [], []
    last = reader.line_num
    try:
        for rec in reader:
            start = last + 1
            last = reader.line_num
            if not any(c.strip() for c in rec):
                continue
            if len(rec) != len(header):
                raise _err(str(p), start, f"{len(rec)} field(s) where the header has {len(header)}; quote "
                                          f"texts that contain commas")
            rows.append(rec)
            lines.append(start)
    except csv.Error as exc:
        raise _err(str(p), last + 1, f"not valid CSV ({exc})") from None
    df = pd.DataFrame(rows, columns=header, dtype=object) if rows else pd.DataFrame(columns=header, dtype=object)
    df["_line"] = lines
    return df


def _norm(name: str) -> str:
    s = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode().casefold()
    return re.sub(r"[^a-z0-9]", "", s)


def _tokens(name: str) -> set[str]:
    s = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode().casefold()
    return {t for t in re.split(r"[^a-z0-9]+", s) if t and t not in ("of", "the", "and")}


def _same_state(given: str, cow: str) -> bool:
    """The file's name is COW's (ignoring case, accents and punctuation), or all the words of one are in the other."""
    a, b = _tokens(given), _tokens(cow)
    return _norm(given) == _norm(cow) or (bool(a) and bool(b) and (a <= b or b <= a))


class _War:
    """The COW war participants (and optionally the extension's members) for validation."""

    def __init__(self, war: pd.DataFrame, extension: pd.DataFrame | None = None):
        w = war.rename(columns={"war_num": "warnum"}).copy()
        for c in ("warnum", "ccode", "side"):
            w[c] = w[c].astype("int64")
        w["last_end"] = w["end2"].fillna(w["end1"]) if "end2" in w.columns else w["end1"]
        rows = w[["warnum", "ccode", "side", "state_name", "start1", "last_end"]].rename(
            columns={"start1": "entry", "last_end": "end"})
        if extension is not None and len(extension):
            e = extension.rename(columns={"entry_date": "entry", "exit_date": "end"})
            rows = pd.concat([rows, e[["warnum", "ccode", "side", "state_name", "entry", "end"]]], ignore_index=True)
        self.rows = rows
        self.wars = rows.groupby("warnum").agg(start=("entry", "min"), end=("end", "max"))
        self.names: dict[int, set[str]] = {}
        for cc, nm in rows[["ccode", "state_name"]].itertuples(index=False):
            self.names.setdefault(int(cc), set()).add(str(nm))
        self.war_names = (w.groupby("warnum")["war_name"].first().to_dict() if "war_name" in w.columns else {})

    def spells(self, warnum: int, ccode: int, side: int) -> pd.DataFrame:
        r = self.rows
        return r[(r["warnum"] == warnum) & (r["ccode"] == ccode) & (r["side"] == side)]

    def participants_text(self, warnum: int) -> str:
        r = self.rows[self.rows["warnum"] == warnum]
        return ", ".join(f"{a} {b} (side {c})" for a, b, c in
                         r[["ccode", "state_name", "side"]].drop_duplicates().itertuples(index=False))


def _text(df: pd.DataFrame, c: str) -> pd.Series:
    return df[c].astype("string").fillna("").str.strip().astype(str)


def validate_handcoded(df: pd.DataFrame, name: str, origin: str, war: pd.DataFrame,
                       extension: pd.DataFrame | None = None) -> pd.DataFrame:
    """Check one hand-coded table (text columns, as :func:`read_handcoded` gives) and type it.

    Errors (``CoalitionsError``, naming ``origin`` and the line): missing or unknown columns; a
    number, date (YYYY-MM-DD), 0/1 or yes/no value that is not one; ``contested`` yes without a
    note; a source without author, title and year; an unknown war, or a (war, country, side) that is
    not a participant; a country code COW does not know; a state name that is not COW's name of the
    code; dates outside the war or the participant's spell; an end before its start; duplicates and
    overlapping spells. Rows of the post-2003 extension (war 9001, 9002) are checked against
    ``extension`` (its participants) when it is given, else only their format is checked here (the
    extension build checks them: :func:`check_extension_rows`).
    """
    cols = HANDCODED_FILES[name]
    out = df.copy()
    if "_line" not in out.columns:
        out["_line"] = np.arange(len(out)) + 2
    present = [c for c in out.columns if c not in ("_line", "_month")]
    missing = [c for c in cols if c not in present]
    extra = [c for c in present if c not in cols]
    if missing or extra:
        raise _err(origin, 1, f"the header must be {','.join(cols)}" + (f"; missing {missing}" if missing else "")
                   + (f"; unknown {extra}" if extra else ""))
    W = _War(war, extension)
    line = out["_line"].astype(int).tolist()
    for c in cols:
        out[c] = _text(out, c)

    def fail(i: int, msg: str) -> CoalitionsError:
        return _err(origin, line[i], msg)

    def ints(c: str, allowed: tuple[int, ...] | None = None) -> None:
        vals = []
        for i, v in enumerate(out[c]):
            if not re.fullmatch(r"-?\d+", v):
                raise fail(i, f"column '{c}' must be a whole number, found {v!r}")
            n = int(v)
            if allowed is not None and n not in allowed:
                raise fail(i, f"column '{c}' must be one of {list(allowed)}, found {n}")
            vals.append(n)
        out[c] = pd.array(vals, dtype="int64") if vals else pd.array([], dtype="int64")

    month_only: set[tuple[int, str]] = set()

    def dates(c: str, required: bool) -> None:
        vals = []
        for i, v in enumerate(out[c]):
            if v == "":
                if required:
                    raise fail(i, f"column '{c}' is empty: a date YYYY-MM-DD from the source is required")
                vals.append(pd.NaT)
                continue
            t = pd.to_datetime(v, format="%Y-%m-%d", errors="coerce") if _DATE.match(v) else pd.NaT
            ext = "warnum" in cols and int(out["warnum"].iloc[i]) in EXTENSION_WARNUMS
            if pd.isna(t) and ext and _MONTH.match(v):
                # the extension's members file sources some dates to the month only; it places them on the
                # 15th (ExtensionOptions.month_day), and so does this file, so that the two match
                t = pd.to_datetime(v + f"-{MONTH_DAY:02d}", format="%Y-%m-%d", errors="coerce")
                month_only.add((i, c))
            if pd.isna(t):
                raise fail(i, f"column '{c}' must be a date YYYY-MM-DD"
                              + (" (or YYYY-MM where the source gives the month only)" if ext else "")
                              + f", found {v!r}")
            vals.append(t)
        out[c] = pd.to_datetime(pd.Series(vals, index=out.index, dtype="datetime64[ns]"))

    def flags(c: str, empty_ok: bool) -> None:
        vals = []
        for i, v in enumerate(out[c]):
            if v == "" and empty_ok:
                vals.append(np.nan)
            elif v in ("0", "1"):
                vals.append(float(v))
            else:
                raise fail(i, f"column '{c}' must be 0 or 1{' or empty (unknown)' if empty_ok else ''}, found {v!r}")
        out[c] = pd.Series(vals, index=out.index, dtype=float)

    for c in ("warnum", "ccode"):
        if c in cols:
            ints(c)
    if "side" in cols:
        ints("side", (1, 2))
    for i, v in enumerate(out["contested"]):
        if v.lower() not in ("yes", "no"):
            raise fail(i, f"column 'contested' must be yes or no, found {v!r}")
        if v.lower() == "yes" and out["note"].iloc[i] == "":
            raise fail(i, "contested is yes but the note is empty: say where and why historians disagree")
    out["contested"] = out["contested"].str.lower().eq("yes")
    for i, v in enumerate(out["source"]):
        if v == "" or not _YEAR.search(v):
            raise fail(i, f"every row needs its source (author, title, year); found {v!r}")
    if name == VOLUNTARY:
        dates("exit_date", True)
        flags("volunt", False)
        for i, (v, how) in enumerate(zip(out["volunt"], out["how"])):
            if v == 0 and how == "":
                raise fail(i, "volunt is 0 (forced) but 'how' is empty: conquest, occupation, collapse, ...")
    elif name == SEPARATE_PEACE:
        dates("date_signed", True)
        dates("bound_from", False)
        dates("bound_to", False)
        for i, a in enumerate(out["agreement"]):
            if a == "":
                raise fail(i, "the 'agreement' column is empty: name the pledge or treaty")
        out["bound_from"] = out["bound_from"].fillna(out["date_signed"])
        for i in range(len(out)):
            r = out.iloc[i]
            if r["bound_from"] < r["date_signed"]:
                raise fail(i, f"bound_from {r['bound_from'].date()} is before the signature {r['date_signed'].date()}")
            if pd.notna(r["bound_to"]) and r["bound_to"] < r["bound_from"]:
                raise fail(i, f"bound_to {r['bound_to'].date()} is before bound_from {r['bound_from'].date()}")
    elif name == LEADERS:
        dates("start_date", True)
        dates("end_date", False)
        for i in range(len(out)):
            r = out.iloc[i]
            if r["leader"] == "":
                raise fail(i, "the 'leader' column is empty")
            if pd.notna(r["end_date"]) and r["end_date"] < r["start_date"]:
                raise fail(i, f"end_date {r['end_date'].date()} is before start_date {r['start_date'].date()}")
    elif name == INTEGRATED_COMMAND:
        dates("start_date", False)
        dates("end_date", False)
        for i in range(len(out)):
            r = out.iloc[i]
            if r["command"] == "":
                raise fail(i, "the 'command' column is empty: name the integrated command")
            if pd.isna(r["start_date"]) and (r["note"] == "" or pd.isna(r["end_date"])):
                raise fail(i, "start_date is empty: an unknown start needs an end_date and a note saying what the "
                              "sources give (intdum is then missing until the end_date)")
            if pd.notna(r["end_date"]) and pd.notna(r["start_date"]) and r["end_date"] < r["start_date"]:
                raise fail(i, f"end_date {r['end_date'].date()} is before start_date {r['start_date'].date()}")
    elif name == WAR_AIMS:
        flags("terraim", True)
        flags("regaim", True)
    for i, s in enumerate(out["state_name"]):
        if s == "":
            raise fail(i, "the 'state_name' column is empty")

    # ---- against the war data
    for i in range(len(out)):
        r = out.iloc[i]
        cc = int(r["ccode"])
        if name != LEADERS and int(r["warnum"]) in EXTENSION_WARNUMS and extension is None:
            continue  # checked by the extension build (check_extension_rows)
        if cc not in W.names:
            raise fail(i, f"ccode {cc} is not a state of the COW war data")
        if not any(_same_state(r["state_name"], n) for n in W.names[cc]):
            raise fail(i, f"state_name {r['state_name']!r} is not COW's name of ccode {cc} "
                          f"({' / '.join(sorted(W.names[cc]))}); check the code")
        if name == LEADERS:
            continue
        wn = int(r["warnum"])
        if wn not in W.wars.index:
            hint = (" (the post-2003 extension's operations are 9001 Iraq and 9002 Afghanistan)"
                    if wn not in EXTENSION_WARNUMS else "")
            raise fail(i, f"war {wn} is not a COW inter-state war{hint}")
        ws, we = W.wars.loc[wn, "start"], W.wars.loc[wn, "end"]
        sides = [int(r["side"])]
        sp = W.spells(wn, cc, sides[0])
        if sp.empty:
            raise fail(i, f"war {wn}, ccode {cc}, side {sides[0]} is not a participant; participants of that war: "
                          f"{W.participants_text(wn)}")
        entry, end = sp["entry"].min(), sp["end"].max()

        def inside(c: str, lo: pd.Timestamp, hi: pd.Timestamp, what: str) -> None:
            t = r[c]
            if pd.notna(t) and (i, c) in month_only and pd.notna(lo) and pd.notna(hi):
                # a month-precision date is inside when its month overlaps; it is placed within the spell
                m0 = t.replace(day=1)
                m1 = m0 + pd.offsets.MonthEnd(0)
                if m1 >= lo and m0 <= hi:
                    out.loc[out.index[i], c] = min(max(t, lo), hi)
                    return
            if pd.notna(t) and not lo <= t <= hi:
                raise fail(i, f"{c} {t.date()} lies outside {what} ({lo.date()} to {hi.date()})")

        if name == VOLUNTARY:
            inside("exit_date", entry, end, f"the participation of ccode {cc} in war {wn}")
        elif name == SEPARATE_PEACE:
            inside("date_signed", pd.Timestamp.min, we, f"the war {wn} (a pledge signed after its end binds nobody)")
            inside("bound_to", ws, we, f"the war {wn}")
            lo, hi = r["bound_from"], r["bound_to"] if pd.notna(r["bound_to"]) else we
            if lo > end or hi < entry:
                raise fail(i, f"the binding ({lo.date()} to {hi.date()}) never overlaps the participation of "
                              f"ccode {cc} in war {wn} ({entry.date()} to {end.date()})")
        elif name == INTEGRATED_COMMAND:
            inside("start_date", entry, end, f"the participation of ccode {cc} in war {wn}")
            inside("end_date", entry, end, f"the participation of ccode {cc} in war {wn}")

    # ---- duplicates and overlaps
    key = list(_KEYS[name])
    dup = out.duplicated(key, keep="first")
    if dup.any():
        i = int(np.nonzero(dup.to_numpy())[0][0])
        first = out.loc[out[key].eq(out.iloc[i][key]).all(axis=1), "_line"].iloc[0]
        raise fail(i, f"duplicate of line {first} (same {', '.join(key)}); keep one row")
    if name == LEADERS:
        # an empty end_date (not sourced) = in office until the next leader of the file takes over
        o = out.sort_values(["ccode", "start_date"])
        nxt = o.groupby("ccode")["start_date"].shift(-1) - pd.Timedelta(days=1)
        out["end_effective"] = o["end_date"].fillna(nxt).fillna(pd.Timestamp.max).reindex(out.index)
    if name in (LEADERS, INTEGRATED_COMMAND):
        grp = ["ccode"] if name == LEADERS else ["warnum", "side", "command", "ccode"]
        end = out["end_effective"] if name == LEADERS else out["end_date"].fillna(pd.Timestamp.max)
        o = out.assign(_end=end).sort_values([*grp, "start_date"])
        for _, g in o.groupby(grp, sort=False):
            prev_end, prev_line = None, None
            for st, en, ln in zip(g["start_date"], g["_end"], g["_line"]):
                if prev_end is not None and st < prev_end:  # a handover on the same day is no overlap
                    raise _err(origin, int(ln), f"spell starting {st.date()} overlaps the spell of line "
                                                f"{prev_line}; one leader (member) at a time")
                prev_end, prev_line = en, int(ln)
    out["_month"] = [";".join(c for c in cols if (i, c) in month_only) for i in range(len(out))]
    return out.reset_index(drop=True)


def check_extension_rows(cases: Mapping[str, pd.DataFrame], war: pd.DataFrame, extension: pd.DataFrame) -> None:
    """Validate the rows of the post-2003 extension (wars 9001, 9002) against its participants."""
    for name, df in cases.items():
        if name not in HANDCODED_FILES or name == LEADERS or df.empty:
            continue
        ext = df[df["warnum"].isin(EXTENSION_WARNUMS)]
        if len(ext):
            raw = ext.copy()
            month = raw["_month"].fillna("").str.split(";") if "_month" in raw.columns else None
            for c in raw.columns:
                if c not in ("_line", "_month"):
                    raw[c] = raw[c].map(_back_to_text)
                    if month is not None:  # month-precision dates are checked as months again
                        m = month.map(lambda ms, c=c: c in ms).to_numpy()
                        raw.loc[m, c] = raw.loc[m, c].str[:7]
            raw = raw.drop(columns=[c for c in ("_month", "end_effective") if c in raw.columns])
            validate_handcoded(raw, name, f"config/cases/{name}.csv", war, extension)


def _back_to_text(v: Any) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT:
        return ""
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d")
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


# =====================================================================================================
# splitting records at dates


def split_at_dates(periods: pd.DataFrame, cuts: pd.DataFrame) -> pd.DataFrame:
    """Split counting-process records where a value changes.

    ``cuts`` has ``idvar`` and ``day``: the war day (days since the war's first day, as ``wstart``)
    from which a new value holds. A record ``(wstart, wstop)`` covering war days ``wstart .. wstop-1``
    with ``wstart < day < wstop`` becomes two records, ``wstart .. day-1`` and ``day .. wstop-1``;
    analysis time (``start``/``stop``/``warday``) moves with the war days, ``withdraw`` and
    ``finalobs`` stay on the last piece, ``firstobs`` on the first, ``date_from``/``date_to``
    follow. Every other column is copied. Cuts outside a participant's records change nothing.
    """
    if cuts is None or cuts.empty or periods.empty:
        return periods
    c = cuts[["idvar", "day"]].dropna().astype("int64").drop_duplicates()
    per = periods.reset_index(drop=True)
    # the cut days strictly inside each record (wstart < day < wstop), from each participant's sorted days
    days_of = {i: np.sort(g.to_numpy()) for i, g in c.groupby("idvar")["day"]}
    by_rec: dict[int, list[int]] = {}
    for i, g in per.groupby("idvar", sort=False).indices.items():
        days = days_of.get(i)
        if days is None or not len(days):
            continue
        ws_g, we_g = per["wstart"].to_numpy()[g], per["wstop"].to_numpy()[g]
        lo_g, hi_g = np.searchsorted(days, ws_g, side="right"), np.searchsorted(days, we_g, side="left")
        for r, a, b in zip(g, lo_g, hi_g):
            if b > a:
                by_rec[int(r)] = [int(x) for x in days[a:b]]
    if not by_rec:
        return periods
    by_rec = dict(sorted(by_rec.items()))
    ws0 = per["date_from"] - pd.to_timedelta(per["wstart"], unit="D")
    # every piece of every split record at once: piece j of record i covers bounds[j] .. bounds[j+1]-1
    # of bounds = [wstart, *days, wstop] (the same values as splitting one record at a time)
    recs = np.fromiter(by_rec.keys(), dtype=np.int64, count=len(by_rec))
    ks = np.array([len(d) + 1 for d in by_rec.values()], dtype=np.int64)
    rec = np.repeat(recs, ks)
    j = np.arange(len(rec)) - np.repeat(np.cumsum(ks) - ks, ks)
    kk = np.repeat(ks, ks)
    ws_r, we_r = per["wstart"].to_numpy()[recs].astype(np.int64), per["wstop"].to_numpy()[recs].astype(np.int64)
    lo = np.concatenate([np.r_[a, d] for a, d in zip(ws_r, by_rec.values())]).astype(np.int64)
    hi = np.concatenate([np.r_[d, b] for b, d in zip(we_r, by_rec.values())]).astype(np.int64)
    offset = (per["stop"].to_numpy()[rec].astype(np.int64) - per["wstop"].to_numpy()[rec].astype(np.int64))
    first, last = j == 0, j == kk - 1
    rep = per.iloc[rec].copy()
    rep["wstart"] = lo
    rep["wstop"] = hi
    rep["stop"] = hi + offset
    rep["start"] = np.where(first, per["start"].to_numpy()[rec].astype(np.int64), lo + offset)
    rep["warday"] = rep["stop"]
    for col in ("withdraw", "finalobs"):
        if col in rep.columns:
            rep[col] = np.where(last, per[col].to_numpy()[rec].astype(np.int64), 0)
    if "volunt" in rep.columns:
        v = per["volunt"].to_numpy()[rec]
        rep["volunt"] = np.where(last, v, np.where(pd.isna(v), np.nan, 0.0))
    if "firstobs" in rep.columns:
        rep["firstobs"] = np.where(first, per["firstobs"].to_numpy()[rec].astype(np.int64), 0)
    base = ws0.iloc[rec].reset_index(drop=True)
    rep["date_from"] = (base + pd.to_timedelta(pd.Series(lo), unit="D")).to_numpy()
    rep["date_to"] = (base + pd.to_timedelta(pd.Series(hi - 1), unit="D")).to_numpy()
    rep["_order"] = rec + j / (kk + 1.0)
    pieces = [rep]
    keep = per.drop(index=list(by_rec)).assign(_order=lambda d: d.index.astype(float))
    out = pd.concat([keep, *pieces]).sort_values("_order", kind="stable").drop(columns="_order")
    for col in ("start", "stop", "warday", "wstart", "wstop"):
        out[col] = out[col].astype("int64")
    for col in ("withdraw", "finalobs", "firstobs"):
        if col in out.columns:
            out[col] = out[col].astype("int64")
    return out.reset_index(drop=True)


def merge_unchanged(periods: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Merge consecutive records of a participant whose ``columns`` are all equal (the reverse of
    :func:`split_at_dates` where a cut changed nothing). The participant's first record (its first
    day, Weisiger's ``warday == 1``) always stays on its own, as in the rebuild."""
    cols = [c for c in columns if c in periods.columns]
    df = periods.sort_values(["idvar", "wstart"], kind="stable").reset_index(drop=True)
    first = df["idvar"].ne(df["idvar"].shift())
    second = (~first) & first.shift(fill_value=False)
    change = pd.Series(False, index=df.index)
    for c in cols:
        a, prev = df[c], df[c].shift()
        change |= ~((a == prev) | (a.isna() & prev.isna()))
    new = (first | second | change).to_numpy()
    if new.all():
        return periods
    starts = np.nonzero(new)[0]
    ends = np.r_[starts[1:] - 1, len(df) - 1]
    out = df.iloc[starts].reset_index(drop=True)
    for c in ("wstop", "stop", "warday", "date_to", "withdraw", "finalobs", "volunt"):
        if c in df.columns:
            out[c] = df[c].to_numpy()[ends]
    return out


# =====================================================================================================
# applying the files


def _units_frame(participants: pd.DataFrame) -> pd.DataFrame:
    """Active spells of the participants: idvar, warnum, ccode, side, coalid, entry, end, first_entry."""
    u = participants[["idvar", "warnum", "ccode", "side", "coalid", "entry_date", "exit_date"]].copy()
    u["first_entry"] = participants["first_entry_date"] if "first_entry_date" in participants.columns \
        else participants["entry_date"]
    return u.rename(columns={"entry_date": "entry", "exit_date": "end"})


def _volunt(participants: pd.DataFrame, cases: Mapping[str, pd.DataFrame], coding: Any,
            conquest: pd.DataFrame | None) -> pd.DataFrame:
    """volunt, volunt_how, volunt_source, volunt_contested for every exit of ``participants``."""
    p = participants.copy()
    p["volunt"] = np.nan
    p["volunt_how"] = pd.Series([None] * len(p), index=p.index, dtype=object)
    p["volunt_source"] = pd.Series([None] * len(p), index=p.index, dtype=object)
    p["volunt_contested"] = pd.Series([None] * len(p), index=p.index, dtype=object)
    vol = cases.get(VOLUNTARY)
    used: set[int] = set()
    defaulted = []
    for j in np.nonzero(p["exit"].to_numpy() == 1)[0]:
        r = p.iloc[j]
        hit = None
        if vol is not None and len(vol):
            cand = vol[(vol["warnum"] == r["warnum"]) & (vol["ccode"] == r["ccode"]) & (vol["side"] == r["side"])]
            end = r["cow_end_date"] if "cow_end_date" in p.columns else r["exit_date"]
            cand = cand[(cand["exit_date"] >= r["entry_date"]) & (cand["exit_date"] <= max(end, r["exit_date"]))]
            if len(cand):
                hit = cand.iloc[int(np.argmin(np.abs((cand["exit_date"] - r["exit_date"]).dt.days.to_numpy())))]
        con = None
        if conquest is not None and len(conquest):
            c = conquest[(conquest["warnum"] == r["warnum"]) & (conquest["ccode"] == r["ccode"])
                         & (conquest["side"] == r["side"])]
            con = c.iloc[0] if len(c) else None
        if hit is not None:
            if con is not None and hit["volunt"] == 1:
                raise CoalitionsError(f"config/cases/{VOLUNTARY}.csv, line {int(hit['_line'])}: war {r['warnum']}, "
                                      f"ccode {r['ccode']} is coded as a chosen exit (volunt 1) but "
                                      f"conquest_exits.csv codes it as forced by conquest; make the files agree")
            used.add(int(hit["_line"]))
            p.iat[j, p.columns.get_loc("volunt")] = float(hit["volunt"])
            p.iat[j, p.columns.get_loc("volunt_how")] = hit["how"]
            p.iat[j, p.columns.get_loc("volunt_source")] = f"{VOLUNTARY}.csv line {int(hit['_line'])}: {hit['source']}"
            p.iat[j, p.columns.get_loc("volunt_contested")] = "yes" if hit["contested"] else "no"
        elif con is not None:
            p.iat[j, p.columns.get_loc("volunt")] = 0.0
            p.iat[j, p.columns.get_loc("volunt_how")] = str(con.get("rule", "conquest"))
            p.iat[j, p.columns.get_loc("volunt_source")] = f"conquest_exits.csv: {con['source']}"
            p.iat[j, p.columns.get_loc("volunt_contested")] = "yes" if bool(con.get("contested")) else "no"
        else:
            defaulted.append(j)
    rule = coding.volunt_default
    if defaulted:
        names = ", ".join(f"war {p.iloc[j]['warnum']} ccode {p.iloc[j]['ccode']} side {p.iloc[j]['side']}"
                          for j in defaulted[:8])
        if rule == "error":
            raise CoalitionsError(f"{len(defaulted)} exit(s) have no row in config/cases/{VOLUNTARY}.csv ({names}"
                                  f"{', ...' if len(defaulted) > 8 else ''}); add them, or set the coding parameter "
                                  f"volunt_default to voluntary, forced or missing")
        val = {"voluntary": 1.0, "forced": 0.0, "missing": np.nan}[rule]
        for j in defaulted:
            p.iat[j, p.columns.get_loc("volunt")] = val
            p.iat[j, p.columns.get_loc("volunt_how")] = None if rule == "missing" else "default"
            p.iat[j, p.columns.get_loc("volunt_source")] = f"default: not in {VOLUNTARY}.csv (volunt_default = {rule})"
        LOG.info("volunt: %d exit(s) not in %s.csv take the default %r: %s", len(defaulted), VOLUNTARY, rule, names)
    return p


def _spell_day(t: pd.Timestamp, ws: pd.Timestamp) -> int:
    return int((t - ws).days)


def _polity_classes(tables: Mapping[str, pd.DataFrame]) -> tuple[dict[tuple[int, int], int], dict[int, set[int]]]:
    """Polity5's special codes (-66/-77/-88) by (COW ccode, year), and the years Polity lists each state.

    Polity's own country codes equal COW's except Serbia (Polity 342 before 1921, COW 345).
    """
    p5 = tables.get("polity5")
    if p5 is None:
        raise CoalitionsError("the Polity rules need the source table 'polity5' (Polity's special codes); build "
                              "results/sources/polity5.parquet first")
    d = p5[["ccode", "year", "polity_special"]].dropna(subset=["ccode", "year"])
    codes: dict[tuple[int, int], int] = {}
    years: dict[int, set[int]] = {}
    for cc, y, s in d.itertuples(index=False):
        cc, y = int(cc), int(y)
        cow = 345 if cc == 342 and y < 1921 else cc
        years.setdefault(cow, set()).add(y)
        if pd.notna(s):
            codes[(cow, y)] = int(s)
    return codes, years


#: What the hand-coded step filled in, per war (the variables table's notes give the totals): records whose
#: newlead comes from the leaders file, from an Archigos interregnum, and records whose polity2 was carried
#: over a Polity gap or whose demdum was coded 0 for a state Polity does not list.
COUNT_COLUMNS = ("n_lead", "n_gap", "n_pol_carried", "n_pol_unlisted")


def apply_handcoded(tables: Mapping[str, pd.DataFrame], participants: pd.DataFrame, periods: pd.DataFrame,
                    variables: pd.DataFrame, cases: Mapping[str, pd.DataFrame], coding: Any,
                    conquest: pd.DataFrame | None = None, track: str = "rebuilt"
                    ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Add the hand-coded variables and apply the missing-data rules.

    Returns ``(participants, periods, variables, missing)``: participants with ``volunt`` and its
    provenance (``volunt_how``, ``volunt_source``, ``volunt_contested``); periods split where a
    hand-coded value changes, with ``volunt``, ``sepdum``, ``seppc``, ``intdum``, ``terraim``,
    ``regaim`` filled, ``newlead`` completed from the leaders file and ``polity2``/``demdum``
    completed by the Polity rules; the variables table with the statuses and notes; and the
    missing-reasons table (:data:`MISSING_COLUMNS`).
    """
    part, per, missing, counts = handcoded_records(tables, participants, periods, cases, coding, conquest)
    return part, per, handcoded_variables_from_counts(variables, cases, coding, part, counts), missing


def handcoded_variables_from_counts(variables: pd.DataFrame, cases: Mapping[str, Any], coding: Any,
                                    participants: pd.DataFrame, counts: pd.DataFrame) -> pd.DataFrame:
    """:func:`handcoded_variables` with the totals of the per-war ``counts`` of :func:`handcoded_records`."""
    tot = {c: int(counts[c].sum()) if len(counts) else 0 for c in COUNT_COLUMNS}
    return handcoded_variables(variables, cases, coding, participants, n_lead=tot["n_lead"], n_gap=tot["n_gap"],
                               n_pol={"carried": tot["n_pol_carried"], "unlisted": tot["n_pol_unlisted"]})


def handcoded_records(tables: Mapping[str, pd.DataFrame], participants: pd.DataFrame, periods: pd.DataFrame,
                      cases: Mapping[str, pd.DataFrame], coding: Any, conquest: pd.DataFrame | None = None
                      ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The record-level part of :func:`apply_handcoded`: ``(participants, periods, missing, counts)``,
    ``counts`` one row per war with :data:`COUNT_COLUMNS`.

    Everything here is computed war by war (a record's values depend on its own war's participants and
    records, the case files, the source tables and the coding only), so the step applied to each war alone
    gives that war's rows of the step applied to all wars (the multiverse relies on it and checks it).
    """
    cases = dict(cases or {})
    if conquest is None and "conquest_exits" in cases:
        conquest = cases["conquest_exits"]
    part = _volunt(participants, cases, coding, conquest)
    units = _units_frame(part)
    per = periods.copy()
    ws_of = (per["date_from"] - pd.to_timedelta(per["wstart"], unit="D")).groupby(per["idvar"]).first()
    units["ws"] = units["idvar"].map(ws_of)
    units = units[units["ws"].notna()]

    sep = cases.get(SEPARATE_PEACE)
    cmd = cases.get(INTEGRATED_COMMAND)
    lead = cases.get(LEADERS)
    aims = cases.get(WAR_AIMS)
    war_end = units.groupby("warnum")["end"].max()

    # ---- cut points: every date where a hand-coded value or a partner's activity changes
    cuts = []
    # per coalition: its war's first day and the war days on which the partner and pledge/command values
    # below can change (the cut days, and the day after the war's end, which ends an open-ended pledge)
    segments: dict[int, tuple[pd.Timestamp, np.ndarray]] = {}
    for cid, g in units.groupby("coalid"):
        ws = g["ws"].iloc[0]
        change = set(_spell_day(t, ws) for t in g["entry"]) | set(_spell_day(t, ws) + 1 for t in g["end"])
        wn, side = int(g["warnum"].iloc[0]), int(g["side"].iloc[0])
        for tab, a, b in ((sep, "bound_from", "bound_to"), (cmd, "start_date", "end_date")):
            if tab is None or tab.empty:
                continue
            t = tab[(tab["warnum"] == wn) & (tab["side"] == side)]
            change |= {_spell_day(x, ws) for x in t[a] if pd.notna(x)}
            change |= {_spell_day(x, ws) + 1 for x in t[b] if pd.notna(x)}
        cuts += [(i, d) for i in g["idvar"] for d in change]
        we = war_end.get(wn)
        bounds = change | ({_spell_day(we, ws) + 1} if we is not None and pd.notna(we) else set())
        segments[int(cid)] = (ws, np.array(sorted(bounds), dtype=np.int64))
    nan_lead = per.loc[per["newlead"].isna(), "idvar"].unique()
    if lead is not None and len(lead) and len(nan_lead):
        for i in nan_lead:
            u = units[units["idvar"] == i].iloc[0]
            ls = lead[lead["ccode"] == u["ccode"]]
            for t in ls["start_date"]:
                cuts.append((i, _spell_day(t, u["ws"])))
                if coding.newlead_window_days is not None:
                    cuts.append((i, _spell_day(t, u["ws"]) + coding.newlead_window_days))
            for t in ls["end_effective"]:
                if t < pd.Timestamp("2200-01-01"):
                    cuts.append((i, _spell_day(t, u["ws"]) + 1))
    nan_pol = per.loc[per["polity2"].isna(), ["idvar", "date_from", "date_to"]]
    for i, a, b in nan_pol.itertuples(index=False):
        ws = ws_of[i]
        cuts += [(i, _spell_day(pd.Timestamp(year=y, month=1, day=1), ws)) for y in range(a.year + 1, b.year + 1)]
    per = split_at_dates(per, pd.DataFrame(cuts, columns=["idvar", "day"]))

    # ---- record-level values
    n = len(per)
    idv = per["idvar"].to_numpy()
    d0 = per["date_from"].to_numpy()
    u_idx = units.set_index("idvar")
    sepdum = np.zeros(n)
    seppc = np.zeros(n)
    intdum = np.zeros(n)
    terraim = np.full(n, np.nan)
    regaim = np.full(n, np.nan)
    reasons: list[tuple[int, int, str, str]] = []
    unit_rows = {int(k): v for k, v in u_idx.iterrows()}
    by_coal = {int(c): g for c, g in units.groupby("coalid")}

    def bindings(tab: pd.DataFrame | None, wn: int, side: int, a: str, b: str, group: str) -> dict[int, list]:
        out: dict[int, list] = {}
        if tab is None or tab.empty:
            return out
        t = tab[(tab["warnum"] == wn) & (tab["side"] == side)]
        for r in t.itertuples(index=False):
            hi = getattr(r, b)
            out.setdefault(int(r.ccode), []).append((getattr(r, group), getattr(r, a),
                                                     hi if pd.notna(hi) else war_end.get(wn, pd.Timestamp.max)))
        return out

    cache: dict[int, tuple[dict, dict]] = {}
    cmd_unknown = cmd is not None and bool(cmd["start_date"].isna().any())
    int_why: dict[int, str] = {}
    # the units' fields and each coalition's members as plain values and arrays (the same comparisons as on
    # the frames, NaT never active, without building a frame per record)
    unit_key = {i: (int(c), int(w), int(s), cc) for i, c, w, s, cc in
                zip(units["idvar"].astype(int), units["coalid"], units["warnum"], units["side"], units["ccode"])}
    coal_arrays = {cid: (g["ccode"].to_numpy(), g["entry"].to_numpy(), g["end"].to_numpy())
                   for cid, g in by_coal.items()}

    def on(spells: list, day: pd.Timestamp) -> set:
        return {grp for grp, lo, hi in spells if pd.notna(lo) and lo <= day <= hi}

    def maybe_on(spells: list, day: pd.Timestamp) -> set:
        return {grp for grp, lo, hi in spells if pd.isna(lo) and day <= hi}

    # the values are those of the record's first day; between two consecutive change days of its coalition
    # they cannot change, so a participant's records in one such segment share them (computed once)
    rec_cid = [unit_key[int(i)][0] for i in idv]
    rec_ws = np.array([segments[c][0].to_datetime64() for c in rec_cid], dtype="datetime64[ns]") if n else \
        np.array([], dtype="datetime64[ns]")
    rec_day = ((d0.astype("datetime64[ns]") - rec_ws) // np.timedelta64(1, "D")).astype(np.int64)
    seg_memo: dict[tuple[int, int], tuple[float, float, float, str | None]] = {}
    for k in range(n):
        cid, wn_k, side_k, cc_k = unit_key[int(idv[k])]
        seg = (int(idv[k]), int(np.searchsorted(segments[cid][1], rec_day[k], side="right")))
        hit = seg_memo.get(seg)
        if hit is not None:
            sepdum[k], seppc[k], intdum[k], why = hit
            if why is not None:
                int_why[k] = why
            continue
        me = int(cc_k)
        if cid not in cache:
            cache[cid] = (bindings(sep, wn_k, side_k, "bound_from", "bound_to", "agreement"),
                          bindings(cmd, wn_k, side_k, "start_date", "end_date", "command"))
        sb, cb = cache[cid]
        d = pd.Timestamp(d0[k])
        g_cc, g_entry, g_end = coal_arrays[cid]
        dk = d0[k]
        act = (g_cc != cc_k) & (g_entry <= dk) & (g_end >= dk)
        partners = set(int(c) for c in g_cc[act])
        mine = on(sb.get(me, []), d)
        # (a member bound by nothing, or in no command, shares none with a partner: no need to look)
        bound = {j for j in partners if mine & on(sb.get(j, []), d)} if mine else set()
        sepdum[k] = float(bool(bound))
        seppc[k] = len(bound) / len(partners) if partners else 0.0
        myc = on(cb.get(me, []), d)
        intdum[k] = float(any(myc & on(cb.get(j, []), d) for j in partners)) if myc else 0.0
        if intdum[k] == 0 and cmd_unknown:
            # a spell whose start the sources do not give: 1 would be possible, so the value is unknown
            mym = maybe_on(cb.get(me, []), d)
            if any((mym & (on(cb.get(j, []), d) | maybe_on(cb.get(j, []), d))) | (myc & maybe_on(cb.get(j, []), d))
                   for j in partners):
                intdum[k] = np.nan
                int_why[k] = "member of an integrated command from a date the sources do not give (" \
                             f"{INTEGRATED_COMMAND}.csv: start_date empty)"
        seg_memo[seg] = (sepdum[k], seppc[k], intdum[k], int_why.get(k))
    if aims is not None and len(aims):
        a = aims.set_index(["warnum", "ccode", "side"])
        key = list(zip(per["warnum"], per["ccode"], per["side"]))
        if a.index.is_unique:  # one aims row per participant: a dictionary look-up, as .get would find
            t_of = dict(zip(a.index, a["terraim"]))
            r_of = dict(zip(a.index, a["regaim"]))
            terraim = np.array([t_of.get(x, np.nan) for x in key], dtype=float)
            regaim = np.array([r_of.get(x, np.nan) for x in key], dtype=float)
        else:
            terraim = np.array([a["terraim"].get(x, np.nan) for x in key], dtype=float)
            regaim = np.array([a["regaim"].get(x, np.nan) for x in key], dtype=float)
    have = {SEPARATE_PEACE: sep is not None, INTEGRATED_COMMAND: cmd is not None, WAR_AIMS: aims is not None}
    per["sepdum"] = sepdum if have[SEPARATE_PEACE] else np.nan
    per["seppc"] = seppc if have[SEPARATE_PEACE] else np.nan
    per["intdum"] = intdum if have[INTEGRATED_COMMAND] else np.nan
    per["terraim"] = terraim
    per["regaim"] = regaim

    # ---- volunt: 1 on the last record of a chosen exit
    pv = part.set_index("idvar")["volunt"]
    v = per["idvar"].map(pv).to_numpy(dtype=float)
    fin = per["withdraw"].to_numpy() == 1
    per["volunt"] = np.where(fin, v, 0.0)

    # ---- newlead from the leaders file where Archigos has none; then Archigos' short interregna
    lead_k: list[int] = []
    gap_k: list[int] = []
    arch = tables.get("archigos_leaders")
    arch_by = derived("archigos_by_gwcode", [arch], lambda: {int(g): d.sort_values("start")
                                                            for g, d in arch.groupby("gwcode")}) \
        if arch is not None else {}
    miss = np.nonzero(per["newlead"].isna().to_numpy())[0]
    col = per.columns.get_loc("newlead")
    if lead is not None and len(lead):
        # each state's leaders as arrays (the same comparisons as on the frame; NaT dates never match)
        lead_by = {cc: (g["start_date"].to_numpy(), g["end_effective"].to_numpy())
                   for cc, g in lead.groupby("ccode", sort=False)}
    for k in miss:
        u = unit_rows[int(idv[k])]
        d = pd.Timestamp(d0[k])
        cur = None
        if lead is not None and len(lead):
            lst, lend = lead_by.get(u["ccode"], (None, None))
            if lst is not None:
                hit = (lst <= d0[k]) & (lend >= d0[k])
                if hit.any():
                    cur = pd.Timestamp(lst[hit].max())
                    lead_k.append(k)
        if cur is None and coding.archigos_gap_days and arch_by:
            from .rebuild_sources import cow_to_gw

            a = arch_by.get(cow_to_gw(int(u["ccode"]), d))
            if a is not None:
                before, after = a[a["end"] < d], a[a["start"] > d]
                if len(before) and len(after) and (after["start"].min() - before["end"].max()).days \
                        <= coding.archigos_gap_days:
                    cur = before.loc[before["end"].idxmax(), "start"]  # the outgoing leader until the next one
                    gap_k.append(k)
        if cur is None:
            continue
        ref = u["first_entry"] if coding.newlead_reference == "entry" else u["ws"]
        new = cur > ref
        if coding.newlead_window_days is not None:
            new = new and (d - cur).days < coding.newlead_window_days
        per.iat[k, col] = float(new)

    # ---- Polity: interruption/interregnum/transition years and states Polity does not list
    miss = np.nonzero(per["polity2"].isna().to_numpy())[0]
    special, p5years = derived("polity_classes", [tables.get("polity5")], lambda: _polity_classes(tables)) \
        if len(miss) else ({}, {})
    pol_tab = tables.get(coding.polity_table)
    series: dict[int, pd.Series] = {}
    if pol_tab is not None and len(miss):
        series = derived("polity2_by_ccode", [pol_tab], lambda: {
            int(cc): g.set_index("year")["polity2"].astype(float).sort_index()
            for cc, g in pol_tab[["ccode", "year", "polity2"]].dropna().groupby("ccode")})
    pol_why: dict[int, str] = {}
    pol_k: dict[str, list[int]] = {"carried": [], "unlisted": []}
    pc, dc = per.columns.get_loc("polity2"), per.columns.get_loc("demdum")
    carried: dict[tuple[int, int], float | None] = {}
    ccode_col = per["ccode"].to_numpy()
    for k in miss:
        cc, y = int(ccode_col[k]), pd.Timestamp(d0[k]).year
        code = special.get((cc, y))
        listed_year = y in p5years.get(cc, set())
        if code is not None:
            what = {-66: "foreign interruption (-66)", -77: "interregnum (-77)", -88: "transition (-88)"}[code]
            if coding.polity_gaps == "carry_last":
                if (cc, y) not in carried:  # the value depends on the state and year only
                    s = series.get(cc)
                    val = None
                    if s is not None and len(s):
                        before = s[(s.index < y) & (s.index >= y - coding.polity_fill_years)]
                        after = s[(s.index > y) & (s.index <= y + coding.polity_fill_years)]
                        if len(before):
                            val = float(before.iloc[-1])
                        elif len(after) and (s.index < y).sum() == 0:
                            val = float(after.iloc[0])  # a new state: its first value
                    carried[(cc, y)] = val
                val = carried[(cc, y)]
                if val is not None:
                    per.iat[k, pc] = val
                    per.iat[k, dc] = float(val >= coding.demdum_threshold)
                    pol_k["carried"].append(k)
                    continue
                pol_why[k] = (f"Polity codes {y} as {what} and no polity2 within {coding.polity_fill_years} years "
                              f"before (polity_gaps = carry_last)")
            else:
                pol_why[k] = f"Polity codes {y} as {what} (polity_gaps = missing)"
        elif not listed_year:
            if coding.polity_unlisted == "nondemocracy":
                per.iat[k, dc] = 0.0
                pol_k["unlisted"].append(k)
                pol_why[k] = f"Polity does not list ccode {cc} in {y}; demdum = 0 by polity_unlisted = nondemocracy"
            else:
                pol_why[k] = f"Polity does not list ccode {cc} in {y} (polity_unlisted = missing)"
        else:
            pol_why[k] = f"no polity2 for ccode {cc} in {y} in {coding.polity_table}"
    if pol_k["carried"] or pol_k["unlisted"]:
        LOG.info("Polity rules: %d record(s) carry the last polity2 over an interruption; %d record(s) of states "
                 "Polity does not list coded demdum = 0", len(pol_k["carried"]), len(pol_k["unlisted"]))
    # what was filled in, per war (counted on the records before the unchanged ones are merged again)
    war_col = per["warnum"].to_numpy()
    counts = pd.DataFrame({"warnum": np.unique(war_col)})
    for c, ks in (("n_lead", lead_k), ("n_gap", gap_k), ("n_pol_carried", pol_k["carried"]),
                  ("n_pol_unlisted", pol_k["unlisted"])):
        hit = pd.Series(war_col[np.asarray(ks, dtype=np.int64)]).value_counts() if ks else pd.Series(dtype="int64")
        counts[c] = counts["warnum"].map(hit).fillna(0).astype("int64")

    # ---- missing reasons
    leaders_file = f"Archigos 4.1" + (f" or {LEADERS}.csv" if lead is not None else "")
    vsrc = part.set_index("idvar")["volunt_source"]
    # the columns read below, once (the loop only reads them)
    col_ = {c: per[c].to_numpy() for c in ("start", "polity2", "demdum", "newlead", "volunt", "terraim", "regaim",
                                            "warnum", "ccode", "side")}
    aims_why: dict[tuple, str] = {}
    for k in range(n):
        r_id, r_st = int(idv[k]), int(col_["start"][k])
        for c, why in (("polity2", pol_why.get(k)), ("demdum", pol_why.get(k))):
            if why and np.isnan(col_[c][k]):
                reasons.append((r_id, r_st, c, why))
        if k in int_why:
            reasons.append((r_id, r_st, "intdum", int_why[k]))
        if np.isnan(col_["newlead"][k]):
            reasons.append((r_id, r_st, "newlead", f"no leader in {leaders_file} on {pd.Timestamp(d0[k]).date()} "
                                                    f"(and no Archigos interregnum of at most "
                                                    f"{coding.archigos_gap_days} days)"))
        if fin[k] and np.isnan(col_["volunt"][k]):
            reasons.append((r_id, r_st, "volunt", str(vsrc.get(r_id))))
        for c in ("terraim", "regaim"):
            if np.isnan(col_[c][k]):
                if aims is None:
                    why = f"no {WAR_AIMS}.csv case file"
                else:
                    ak = (col_["warnum"][k], col_["ccode"][k], col_["side"][k])
                    if ak not in aims_why:
                        hit = aims[(aims["warnum"] == ak[0]) & (aims["ccode"] == ak[1]) & (aims["side"] == ak[2])]
                        aims_why[ak] = (f"unknown (empty in {WAR_AIMS}.csv line {int(hit['_line'].iloc[0])})"
                                        if len(hit) else f"participant not in {WAR_AIMS}.csv")
                    why = aims_why[ak]
                reasons.append((r_id, r_st, c, why))
    for c, why in (("pvict", "NMC CINC missing for a member (beyond nmc_fill_years)"),
                   ("imptce", "NMC CINC missing (beyond nmc_fill_years)"),
                   ("contribpc", "NMC military personnel missing (beyond nmc_fill_years)"),
                   ("cinc", "NMC CINC missing (beyond nmc_fill_years)"),
                   ("actpc", "no active partner on the record's days (share undefined)"),
                   ("cooppc", "no active partner on the record's days (share undefined)"),
                   ("lnodead", "COW battle deaths unknown (-9)"),
                   ("lnodead2", "COW battle deaths unknown (-9) or NMC population missing")):
        if c in per.columns:
            m = per[c].isna()
            reasons += [(int(a), int(b), c, why) for a, b in zip(per.loc[m, "idvar"], per.loc[m, "start"])]
    missing = pd.DataFrame(reasons, columns=MISSING_COLUMNS).drop_duplicates(["idvar", "start", "variable"])
    # cuts where nothing changed are merged again (a record boundary is a real change)
    from .rebuild import TIME_VARYING
    from .battle_periods import trend_term

    merged = merge_unchanged(per, [*TIME_VARYING, *HANDCODED_TIME_VARYING, *(c for c in per.columns if trend_term(c))])
    if len(merged) < len(per):
        keep = set(zip(merged["idvar"], merged["start"]))
        missing = missing[[k in keep for k in zip(missing["idvar"], missing["start"])]].reset_index(drop=True)
        per = merged

    LOG.info("hand-coded variables: %d records after splitting (from %d); newlead from the leaders file on %d "
             "record(s)", len(per), len(periods), len(lead_k))
    return part, per, missing, counts


def handcoded_variables(variables: pd.DataFrame, cases: Mapping[str, Any], coding: Any, participants: pd.DataFrame,
                        n_lead: int = 0, n_pol: Mapping[str, int] | None = None, n_gap: int = 0) -> pd.DataFrame:
    """The variables table with the hand-coded statuses and the stated rules."""
    v = variables.set_index("variable").copy()
    n_pol = dict(n_pol or {})
    exits = participants[participants["exit"] == 1]
    n_file = int(exits["volunt_source"].astype(str).str.startswith(VOLUNTARY).sum())
    n_conq = int(exits["volunt_source"].astype(str).str.startswith("conquest_exits").sum())
    n_def = int(exits["volunt_source"].astype(str).str.startswith("default").sum())

    def set_(name: str, status: str, note: str) -> None:
        if name in v.index:
            v.loc[name, "status"] = status
            v.loc[name, "note"] = note

    if VOLUNTARY in cases or "conquest_exits" in cases:
        set_("volunt", "hand_coded",
             f"1 on the last record of an exit the state chose, 0 for a forced exit (conquest, occupation, collapse) "
             f"and on every other record: {n_file} exit(s) from {VOLUNTARY}.csv, {n_conq} from conquest_exits.csv, "
             f"{n_def} not in either file coded by the rule volunt_default = {coding.volunt_default} (see "
             f"participants.volunt_source).")
    if SEPARATE_PEACE in cases:
        set_("sepdum", "hand_coded", f"1 on the days the participant is bound by a pledge not to make a separate peace "
                                     f"({SEPARATE_PEACE}.csv) together with at least one active partner, else 0.")
        set_("seppc", "hand_coded", f"Share of the active partners the participant is bound to by a no-separate-peace "
                                    f"pledge ({SEPARATE_PEACE}.csv) on the record's days; 0 with no active partner.")
    if INTEGRATED_COMMAND in cases:
        set_("intdum", "hand_coded", f"1 on the days the participant belongs to an integrated command "
                                     f"({INTEGRATED_COMMAND}.csv) with at least one active partner, else 0.")
    if WAR_AIMS in cases:
        set_("terraim", "hand_coded", f"Territorial war aim of the participant ({WAR_AIMS}.csv); missing = unknown.")
        set_("regaim", "hand_coded", f"Regime war aim of the participant ({WAR_AIMS}.csv); missing = unknown.")
    if "newlead" in v.index and v.loc["newlead", "status"] != "not_available":
        if n_lead:
            v.loc["newlead", "status"] = "hand_coded"
        v.loc["newlead", "note"] = (str(v.loc["newlead", "note"]).split("; missing where")[0]
                                    + f"; where Archigos has no leader for the date (before 1875 for most states, "
                                      f"and its gaps) the leader from {LEADERS}.csv ({n_lead} record(s)); in a gap "
                                      f"of at most {coding.archigos_gap_days} days between two Archigos leaders "
                                      f"(archigos_gap_days) the outgoing leader until the next takes office "
                                      f"({n_gap} record(s)); missing otherwise.")
    rule = (f" Polity's interruption, interregnum and transition years (-66/-77/-88) with no polity2: "
            + ("the state's last polity2 before the gap (its first one after, for a new state) within "
               f"{coding.polity_fill_years} years" if coding.polity_gaps == "carry_last" else "missing")
            + f" (polity_gaps = {coding.polity_gaps}; {n_pol.get('carried', 0)} record(s)); states Polity does not "
              f"list: " + ("demdum = 0, polity2 missing" if coding.polity_unlisted == "nondemocracy" else "missing")
            + f" (polity_unlisted = {coding.polity_unlisted}; {n_pol.get('unlisted', 0)} record(s)).")
    for name in ("demdum", "polity2"):
        if name in v.index and v.loc[name, "status"] != "not_available":
            v.loc[name, "note"] = str(v.loc[name, "note"]) + rule
    for name in ("pvict", "imptce", "contribpc"):
        if name in v.index and v.loc[name, "status"] != "not_available":
            v.loc[name, "note"] = (str(v.loc[name, "note"]) + f" NMC gaps: a missing state-year value takes the "
                                   f"state's nearest year with data within {coding.nmc_fill_years} years "
                                   f"(nmc_fill_years), else it stays missing and the record is listed in dropped.csv.")
    return v.reset_index()[list(variables.columns)]


# =====================================================================================================
# the post-2003 extension, dropped records, codings without change


def apply_extension_handcoded(tables: Mapping[str, pd.DataFrame], participants: pd.DataFrame, periods: pd.DataFrame,
                              variables: pd.DataFrame, cases: Mapping[str, pd.DataFrame], coding: Any,
                              war: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """:func:`apply_handcoded` for the post-2003 extension (wars 9001, 9002), after checking the case
    files' rows of the extension against its participants (file and line named on error)."""
    ext = participants.copy()
    if "withdrawal_date" in ext.columns:  # the file's complete-withdrawal date may follow a partial exit
        ext["exit_date"] = ext[["exit_date", "withdrawal_date"]].max(axis=1)
    check_extension_rows(cases, war, ext)
    mine = {k: (v[v["warnum"].isin(EXTENSION_WARNUMS)] if k != LEADERS and "warnum" in v.columns else v)
            for k, v in cases.items() if k in HANDCODED_FILES or k == "conquest_exits"}
    part, per, var, why = apply_handcoded(tables, participants, periods, variables, mine, coding)
    na = {r["variable"]: r["note"] for r in var.to_dict("records") if r["status"] == "not_available"}
    # variables public data cannot give for 2001-2014 are missing for a structural reason: say it
    why = why[~why["variable"].isin(na)]
    rows = [(int(i), int(s), c, f"not available for the post-2003 extension: {na[c]}")
            for c in na if c in per.columns for i, s in zip(per.loc[per[c].isna(), "idvar"],
                                                           per.loc[per[c].isna(), "start"])]
    why = pd.concat([why, pd.DataFrame(rows, columns=MISSING_COLUMNS)], ignore_index=True)
    return part, per, var, why


def extension_variable_notes(base: pd.DataFrame, ext: pd.DataFrame) -> pd.DataFrame:
    """The variables table of a coding that appends the extension: the COW rebuild's statuses, with
    what differs for the extension's records said in the note (a status that is not the same for both
    is the COW rebuild's, and the note names the extension's)."""
    out = base.copy()
    e = ext.set_index("variable")
    for i, r in out.iterrows():
        v = r["variable"]
        if v not in e.index:
            continue
        es, en = e.loc[v, "status"], str(e.loc[v, "note"])
        if es != r["status"] and es in ("not_available", "proxy"):
            out.loc[i, "note"] = f"{r['note']} Post-2003 extension (Iraq, Afghanistan): {es.replace('_', ' ')}: {en}"
    return out


DROPPED_COLUMNS = ["model_id", "variant", "idvar", "warnum", "ccode", "side", "date_from", "date_to", "start", "stop",
                   "withdraw", "variable", "reason"]


def dropped_table(periods: pd.DataFrame, drops: list, why: pd.DataFrame | None,
                  variables: pd.DataFrame | None) -> pd.DataFrame:
    """Every record each model dropped for missing values, one row per missing variable, with why.

    ``drops`` is what :func:`coalitions.weisiger.models.run_models` appended to ``dropped_out``;
    ``why`` the rebuild's missing-reasons table (idvar, start, variable, reason); where it has no
    reason the variables table's status and note are given.
    """
    if not drops:
        return pd.DataFrame(columns=DROPPED_COLUMNS)
    d = pd.concat(drops, ignore_index=True)
    d["variable"] = d["variables"].str.split(", ")
    d = d.explode("variable")
    d = d[d["variable"].notna() & (d["variable"] != "")]
    cols = [c for c in ("idvar", "warnum", "ccode", "side", "date_from", "date_to", "start", "stop", "withdraw")
            if c in periods.columns]
    if all(c in d.columns for c in cols):  # run_models gives the records (rows of the data each model used)
        rec = d[cols].reset_index(drop=True)
    else:
        rec = periods.reset_index(drop=True)[cols].iloc[d["row"].to_numpy()].reset_index(drop=True)
    out = pd.concat([d[["model_id", "variant", "variable"]].reset_index(drop=True), rec], axis=1)
    reason = pd.Series([None] * len(out), dtype=object)
    if why is not None and len(why):
        w = why.drop_duplicates(["idvar", "start", "variable"]).set_index(["idvar", "start", "variable"])["reason"]
        reason = pd.Series([w.get((int(a), int(b), c)) for a, b, c in
                            zip(out["idvar"], out["start"], out["variable"])], dtype=object)
    notes = {}
    if variables is not None and len(variables):
        notes = {r["variable"]: f"missing in the data ({r['status'].replace('_', ' ')}: {r.get('note', '')})"
                 for r in variables.to_dict("records")}
    out["reason"] = [r if isinstance(r, str) and r else notes.get(v, "missing in the data")
                     for r, v in zip(reason, out["variable"])]
    for c in DROPPED_COLUMNS:
        if c not in out.columns:
            out[c] = np.nan
    return out[DROPPED_COLUMNS].sort_values(["model_id", "variant", "idvar", "start"], kind="stable")


NO_CHANGE = ("no change: the same sample (records, subjects, failures) and the same estimates as the baseline coding; "
             "what this coding changes is not used by this model (its outcome, covariates and sample are unchanged)")


def mark_no_change(est: pd.DataFrame, fits: pd.DataFrame, base_est: pd.DataFrame, base_fits: pd.DataFrame,
                   tol: float = 1e-9) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Say "no change" (column ``no_change`` and the fit's message) where a coding's estimated model
    equals the baseline coding's exactly (sample sizes, coefficients and standard errors)."""
    fits = fits.copy()
    est = est.copy()
    fits["no_change"] = ""
    est["no_change"] = ""
    bf = base_fits.set_index(["model_id", "variant"])
    for i, r in fits.iterrows():
        k = (r["model_id"], r["variant"])
        if r["status"] != "ok" or k not in bf.index or bf.loc[k, "status"] != "ok":
            continue
        b = bf.loc[k]
        if any(pd.isna(r[c]) or pd.isna(b[c]) or int(r[c]) != int(b[c]) for c in ("n_obs", "n_subjects", "n_clusters")):
            continue
        if not (pd.isna(r["n_failures"]) and pd.isna(b["n_failures"])) and r["n_failures"] != b["n_failures"]:
            continue
        e = est[(est["model_id"] == k[0]) & (est["variant"] == k[1])].set_index("term")
        be = base_est[(base_est["model_id"] == k[0]) & (base_est["variant"] == k[1])].set_index("term")
        if set(e.index) != set(be.index):
            continue
        same = all(np.isclose(e.loc[t, c], be.loc[t, c], rtol=tol, atol=tol, equal_nan=True)
                   for t in e.index for c in ("estimate", "std_error"))
        if same:
            fits.loc[i, "no_change"] = NO_CHANGE
            fits.loc[i, "message"] = NO_CHANGE + ("; " + r["message"] if isinstance(r["message"], str) and r["message"]
                                                  else "")
            est.loc[(est["model_id"] == k[0]) & (est["variant"] == k[1]), "no_change"] = NO_CHANGE
    return est, fits


def check_against_members(cases: Mapping[str, pd.DataFrame], war: pd.DataFrame, members_path: str | Path) -> None:
    """Validate the case files' rows of the post-2003 extension against its members file on every build
    (also under codings that do not append the extension)."""
    from .extension import ExtensionOptions, _units, load_members

    opts = ExtensionOptions()
    part = _units(load_members(members_path, opts.month_day), opts)
    part["exit_date"] = part[["exit_date", "withdrawal_date"]].max(axis=1)
    check_extension_rows(cases, war, part)

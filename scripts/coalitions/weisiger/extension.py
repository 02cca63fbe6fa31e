"""Alternative exit codings as sourced case files, and Henke's post-2003 extension of Weisiger's data.

Two things the 2017 ISQ symposium on Weisiger's "Exiting the Coalition" asks for,
built on the rebuilt Weisiger track (:mod:`coalitions.weisiger.rebuild`):

1. **Censor case files** (``config/cases/morey_entrapment.csv``, ``morey_limited_objectives.csv``,
   ``conquest_exits.csv``): exits of the rebuilt participants table that a critic argues are not
   abandonment -- Morey's *entrapment* (the coalition's aims grew beyond those the member joined
   for) and *limited objectives* (the member stopped after reaching its own limited aims), and exits
   *forced by conquest or occupation* (the rebuilt-track analogue of Weisiger's ``volunt`` outcome,
   which separates voluntary exits from forced ones). Every row names the exit it recodes (warnum,
   ccode, side, state_name and the rebuilt ``exit_date``), the rule, whether the case is
   ``contested``, a description and its historical source. :func:`load_censor_case_file` checks a
   file against the rebuilt participants and turns it into
   :class:`~coalitions.weisiger.rebuild_coding.CensorCase` objects for
   ``WeisigerCoding.censor_cases`` (the same reason text as
   :func:`coalitions.weisiger.apply.read_censor_cases`, which coding files use).

2. **Henke's extension past 2003** (``config/cases/henke_iraq_afghanistan_members.csv``): the members
   of the US-led coalitions in Iraq (2003-2011) and Afghanistan (2001-2014), hand-coded with their
   entry, complete withdrawal, the end of their main ground or combat role (``partial_end_date``:
   Henke's point that abandonment can be partial), the reason their membership ended, their
   approximate peak strength and the sources. :func:`build_extension_periods` turns the file into
   participants, counting-process periods and a variables table in the shape of the rebuilt Weisiger
   track, so that :func:`coalitions.weisiger.models.run_models` can estimate every model whose
   variables exist in 2001-2014 (the others are reported ``not_estimable``).

Coding of the extension (``config/cases/henke_iraq_afghanistan_members.csv``)
----------------------------------------------------------------------------
* A *member* is a state whose armed forces (including gendarmeries with military status, such as
  Portugal's GNR) served in the US-led force: in Iraq the invasion force, CJTF-7 and the
  Multi-National Force - Iraq (later US Forces - Iraq); in Afghanistan Operation Enduring Freedom or
  ISAF. The NATO Training Mission - Iraq, UN missions and embassy guards do not count. One row per
  member and spell (a state that left and came back, like Bulgaria in Iraq, has two spells).
* ``entry_date``: the first contingent's deployment (COW's start date for the states COW lists in
  wars 225 and 227). ``withdrawal_date``: the day the member's last military personnel in the
  coalition left or ended their service -- *complete* withdrawal, Weisiger's definition in his reply;
  empty when the member stayed to the operation's end. ``partial_end_date``: the day the member's
  main ground or combat unit left while others stayed (empty if there was no such step).
* ``end_reason``: ``withdrew_early`` (left by its own decision while the coalition fought on),
  ``mandate_end`` (left when the legal basis of its presence ended: in Iraq the expiry of the UN
  mandate, UNSCR 1790, on 31 December 2008 -- departures in December 2008 and January 2009 -- or the
  end of the bilateral arrangements that replaced it for the UK, Australia and Romania), or
  ``operation_end`` (present at the end: censored).
* Dates are ``YYYY-MM-DD`` or, where only the month is sourced, ``YYYY-MM``; ``date_precision`` says
  which (``entry=day;withdrawal=month;partial=day``). A month is placed on
  :attr:`ExtensionOptions.month_day` (the 15th), never before the operation's start.
* ``certainty``: ``confirmed`` (a dated report from a news agency, government or official history)
  or ``uncertain`` (a date inferred from bounds, read only in a secondary copy, or sources disagree);
  ``notes`` say which.

The operations get synthetic war numbers outside COW's range (9001 Iraq, 9002 Afghanistan); they are
not COW wars, and COW's own wars 225 and 227 (the invasions) stay untouched in the rebuilt track.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from ..schema import Col, TableSchema, validate
from ..util import CoalitionsError
from .rebuild import (
    NOT_AVAILABLE_BASE,
    PERIODS_SCHEMA,
    REGIONS,
    _collapse,
    _Context,
    _war_periods,
    ctrend_names,
    finish_periods,
    variables_table,
)
from .rebuild_coding import NMC_TABLES, CensorCase, WeisigerCoding
from .rebuild_sources import alliance_lookup, coalition_history, nearest_fill

__all__ = [
    "CENSOR_CASE_COLUMNS", "CENSOR_RULES", "read_censor_case_file", "validate_censor_cases", "load_censor_case_file",
    "censor_cases_from_files", "Operation", "OPERATIONS", "MEMBER_COLUMNS", "END_REASONS", "CERTAINTY",
    "load_members", "validate_members", "ExtensionOptions", "build_extension_periods", "extension_variables",
    "required_extension_tables", "summarise_extension", "EXT_PARTICIPANTS_SCHEMA", "EXIT_REASONS_EXT",
]

# =====================================================================================================
# censor case files

#: columns of a censor case file, in file order
CENSOR_CASE_COLUMNS = ("warnum", "ccode", "side", "state_name", "exit_date", "rule", "contested", "description",
                       "source")
#: rules a censor case file may name
CENSOR_RULES = ("entrapment", "limited_objectives", "conquest")
_YEAR = re.compile(r"\b(?:1[5-9]\d\d|20\d\d)\b")


def _fail(origin: str, line: int | None, msg: str) -> CoalitionsError:
    return CoalitionsError(f"{origin}" + (f", row {line}" if line is not None else "") + f": {msg}")


def _first(mask: pd.Series | np.ndarray) -> int:
    return int(np.asarray(mask).nonzero()[0][0])


def _read_csv(path: str | Path) -> pd.DataFrame:
    p = Path(path)
    if not p.is_file():
        raise CoalitionsError(f"{p}: case file not found")
    try:
        return pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8")
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise CoalitionsError(f"{p}: cannot be read as a UTF-8 CSV file ({exc})") from None


def validate_censor_cases(df: pd.DataFrame, origin: str, participants: pd.DataFrame | None = None) -> pd.DataFrame:
    """Check a censor case table and return it typed (``exit_date`` as a date, ``contested`` as bool).

    Checks, each failing with the file and row (line number, the header being line 1): the columns;
    whole-number warnum/ccode/side (side 1 or 2); a known ``rule``; ``contested`` yes/no; a date; a
    non-empty description; a source naming at least a title and a year; no ``#`` (coding files read
    these files with ``#`` as comment marker); no duplicate case. With ``participants`` (the rebuilt
    participants table under the default coding) every row must be an *exit* there (``exit == 1``)
    with the same ``exit_date`` and state name -- a censor rule can only recode an exit that exists.
    """
    missing = [c for c in CENSOR_CASE_COLUMNS if c not in df.columns]
    if missing:
        raise _fail(origin, None, f"required column(s) missing: {missing}; the file has {list(df.columns)}")
    out = df.copy()
    for c in CENSOR_CASE_COLUMNS:
        out[c] = out[c].astype("string").fillna("").str.strip()
    for c in ("warnum", "ccode", "side"):
        v = pd.to_numeric(out[c], errors="coerce")
        bad = v.isna() | (v != v.round())
        if bad.any():
            i = _first(bad)
            raise _fail(origin, i + 2, f"column '{c}' must be a whole number, found {out[c].iloc[i]!r}")
        out[c] = v.astype("int64")
    bad = ~out["side"].isin([1, 2])
    if bad.any():
        i = _first(bad)
        raise _fail(origin, i + 2, f"side must be 1 or 2, found {out['side'].iloc[i]}")
    bad = ~out["rule"].isin(CENSOR_RULES)
    if bad.any():
        i = _first(bad)
        raise _fail(origin, i + 2, f"rule must be one of {list(CENSOR_RULES)}, found {out['rule'].iloc[i]!r}")
    bad = ~out["contested"].str.lower().isin(["yes", "no"])
    if bad.any():
        i = _first(bad)
        raise _fail(origin, i + 2, f"contested must be 'yes' or 'no', found {out['contested'].iloc[i]!r}")
    dates = pd.to_datetime(out["exit_date"], format="%Y-%m-%d", errors="coerce")
    bad = dates.isna()
    if bad.any():
        i = _first(bad)
        raise _fail(origin, i + 2, f"exit_date must be YYYY-MM-DD (the exit date of the rebuilt participants "
                                   f"table), found {out['exit_date'].iloc[i]!r}")
    for c in ("state_name", "description"):
        bad = out[c] == ""
        if bad.any():
            raise _fail(origin, _first(bad) + 2, f"the '{c}' column is empty")
    src = out["source"]
    bad = (src == "") | ~src.str.contains(_YEAR, regex=True)
    if bad.any():
        i = _first(bad)
        raise _fail(origin, i + 2, "every case needs its historical source: author, title and year "
                                   f"(found {src.iloc[i]!r})")
    hashed = out[list(CENSOR_CASE_COLUMNS)].apply(lambda s: s.astype(str).str.contains("#", regex=False)).any(axis=1)
    if hashed.any():
        raise _fail(origin, _first(hashed) + 2, "the character '#' is not allowed (coding files read case files "
                                                "with '#' as comment marker); rephrase the text")
    dup = out.duplicated(["warnum", "ccode", "side"], keep="first")
    if dup.any():
        i = _first(dup)
        raise _fail(origin, i + 2, f"duplicate case for war {out['warnum'].iloc[i]}, ccode {out['ccode'].iloc[i]}, "
                                   f"side {out['side'].iloc[i]}; keep one row")
    out["exit_date"] = dates
    out["contested"] = out["contested"].str.lower().eq("yes").astype(bool)
    for c in ("state_name", "rule", "description", "source"):
        out[c] = out[c].astype(str)
    if participants is not None:
        _check_against_participants(out, origin, participants)
    return out.reset_index(drop=True)


def _check_against_participants(cases: pd.DataFrame, origin: str, participants: pd.DataFrame) -> None:
    p = participants.loc[participants["exit"] == 1, ["warnum", "ccode", "side", "state_name", "exit_date"]]
    for i, r in cases.iterrows():
        hit = p[(p["warnum"] == r["warnum"]) & (p["ccode"] == r["ccode"]) & (p["side"] == r["side"])]
        if hit.empty:
            others = participants[(participants["warnum"] == r["warnum"]) & (participants["exit"] == 1)]
            hint = ("; exits of that war in the rebuilt table: " + ", ".join(
                f"{a} {b} (side {c}, {d.date()})" for a, b, c, d in
                others[["ccode", "state_name", "side", "exit_date"]].itertuples(index=False))) if len(others) else \
                "; that war has no exit in the rebuilt table"
            raise _fail(origin, i + 2, f"war {r['warnum']}, ccode {r['ccode']}, side {r['side']} is not an exit of the "
                                       f"rebuilt participants table{hint}. A censor rule can only recode an exit.")
        if not (hit["exit_date"] == r["exit_date"]).any():
            raise _fail(origin, i + 2, f"exit_date {r['exit_date'].date()} differs from the rebuilt exit date "
                                       f"{', '.join(str(d.date()) for d in hit['exit_date'])} of war {r['warnum']}, "
                                       f"ccode {r['ccode']}; correct the date")
        names = set(hit["state_name"])
        if r["state_name"] not in names:
            raise _fail(origin, i + 2, f"state_name {r['state_name']!r} differs from the COW name {sorted(names)} of "
                                       f"ccode {r['ccode']} in war {r['warnum']}")
        # CensorCase acts on the participant's last spell (see build_participants): the exit must be it
        last = participants[(participants["warnum"] == r["warnum"]) & (participants["ccode"] == r["ccode"])
                            & (participants["side"] == r["side"])]
        last = last.loc[last["spell"] == last["spell"].max()]
        if not ((last["exit"] == 1) & (last["exit_date"] == r["exit_date"])).any():
            raise _fail(origin, i + 2, f"the exit of {r['exit_date'].date()} is not the last spell of war "
                                       f"{r['warnum']}, ccode {r['ccode']}, side {r['side']}; a censor case recodes "
                                       f"the last spell only and would miss it")


def read_censor_case_file(path: str | Path, participants: pd.DataFrame | None = None) -> pd.DataFrame:
    """Read and validate one censor case file (see :func:`validate_censor_cases`)."""
    return validate_censor_cases(_read_csv(path), str(path), participants)


def load_censor_case_file(path: str | Path, participants: pd.DataFrame | None = None,
                          include_contested: bool = True) -> tuple[CensorCase, ...]:
    """The file's cases as :class:`CensorCase` objects for ``WeisigerCoding.censor_cases``.

    ``include_contested=False`` leaves out the rows marked ``contested`` (a stricter version of the
    critic's rule). The reason text is ``"<rule> (<file stem>)"``, as in coding files.
    """
    df = read_censor_case_file(path, participants)
    if not include_contested:
        df = df[~df["contested"]]
    stem = Path(path).stem
    return tuple(CensorCase(int(r.warnum), int(r.ccode), int(r.side), f"{r.rule} ({stem})")
                 for r in df.itertuples(index=False))


def censor_cases_from_files(paths: Iterable[str | Path], participants: pd.DataFrame | None = None,
                            include_contested: bool = True) -> tuple[CensorCase, ...]:
    """The cases of several files together; the same exit in two files is an error naming both."""
    out: list[CensorCase] = []
    seen: dict[tuple[int, int, int], str] = {}
    for path in paths:
        for c in load_censor_case_file(path, participants, include_contested):
            key = (c.warnum, c.ccode, c.side)
            if key in seen:
                raise CoalitionsError(f"{path}: war {c.warnum}, ccode {c.ccode}, side {c.side} is also censored by "
                                      f"{seen[key]}; keep the case in one file")
            seen[key] = str(path)
            out.append(c)
    return tuple(out)


# =====================================================================================================
# the extension: operations and the members file


@dataclass(frozen=True)
class Operation:
    """A US-led operation of the extension, treated as one coalition (one 'war' with one side)."""

    name: str
    warnum: int
    label: str
    start: pd.Timestamp
    end: pd.Timestamp
    region: str
    source: str


OPERATIONS: dict[str, Operation] = {
    "iraq": Operation(
        "iraq", 9001, "Iraq 2003-2011: US-led invasion force and Multi-National Force - Iraq (extension)",
        pd.Timestamp("2003-03-19"), pd.Timestamp("2011-12-18"), "Middle East",
        "start: COW war 227 (Sarkees and Wayman 2010); end: the last US troops left Iraq on 18 Dec 2011 "
        "(Wikipedia, 'Multi-National Force - Iraq')"),
    "afghanistan": Operation(
        "afghanistan", 9002, "Afghanistan 2001-2014: Operation Enduring Freedom and ISAF (extension)",
        pd.Timestamp("2001-10-07"), pd.Timestamp("2014-12-28"), "Asia",
        "start: COW war 225 (Sarkees and Wayman 2010); end: ISAF's closing ceremony, 28 Dec 2014 "
        "(Wikipedia, 'International Security Assistance Force')"),
}
_WARNUM_OP = {op.warnum: op for op in OPERATIONS.values()}

MEMBER_COLUMNS = ("operation", "ccode", "state_name", "spell", "entry_date", "withdrawal_date", "partial_end_date",
                  "date_precision", "end_reason", "peak_troops", "certainty", "source", "notes")
END_REASONS = ("withdrew_early", "mandate_end", "operation_end")
CERTAINTY = ("confirmed", "uncertain")
_DATE_KEYS = {"entry": "entry_date", "withdrawal": "withdrawal_date", "partial": "partial_end_date"}
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH = re.compile(r"^\d{4}-\d{2}$")


def _precision_of(text: str) -> str | None:
    if _DAY.match(text):
        return "day"
    if _MONTH.match(text):
        return "month"
    return None


def _resolve(text: str, precision: str, month_day: int) -> pd.Timestamp:
    if precision == "day":
        return pd.Timestamp(text)
    first = pd.Timestamp(text + "-01")
    return first + pd.Timedelta(days=min(month_day, first.days_in_month) - 1)


def validate_members(df: pd.DataFrame, origin: str, month_day: int = 15) -> pd.DataFrame:
    """Check the members table and return it typed, with dates resolved to days.

    Errors name ``origin`` and the row (line number; line 1 is the header). Checks: the columns; a
    known operation; whole-number ccode and spell; non-empty state_name and source (with a year);
    dates ``YYYY-MM-DD`` or ``YYYY-MM`` matching ``date_precision``; an end_reason and a certainty
    from the vocabulary; ``withdrawal_date`` empty exactly when the member stayed to the end
    (``operation_end``); all dates inside the operation; entry before the partial end and before the
    withdrawal; spells of one state numbered 1, 2, ... in time order and not overlapping.

    Resolved columns: ``entry``, ``withdrawal``, ``partial_end`` (a month-precision date is put on
    day ``month_day`` of its month, an entry never before the operation's start) and
    ``entry_precision``, ``withdrawal_precision``, ``partial_precision``.
    """
    if not 1 <= month_day <= 28:
        raise CoalitionsError(f"{origin}: month_day must be between 1 and 28, got {month_day}")
    missing = [c for c in MEMBER_COLUMNS if c not in df.columns]
    if missing:
        raise _fail(origin, None, f"required column(s) missing: {missing}; the file has {list(df.columns)}")
    out = df.copy()
    for c in MEMBER_COLUMNS:
        out[c] = out[c].astype("string").fillna("").str.strip()
    line = lambda i: i + 2  # noqa: E731
    bad = ~out["operation"].isin(list(OPERATIONS))
    if bad.any():
        i = _first(bad)
        raise _fail(origin, line(i), f"operation must be one of {list(OPERATIONS)}, "
                                     f"found {out['operation'].iloc[i]!r}")
    for c in ("ccode", "spell"):
        v = pd.to_numeric(out[c], errors="coerce")
        badv = v.isna() | (v != v.round()) | (v < 1)
        if badv.any():
            i = _first(badv)
            raise _fail(origin, line(i), f"column '{c}' must be a positive whole number, found {out[c].iloc[i]!r}")
        out[c] = v.astype("int64")
    for c in ("state_name", "source"):
        badv = out[c] == ""
        if badv.any():
            raise _fail(origin, line(_first(badv)), f"the '{c}' column is empty; every member needs "
                                                    + ("its source (author or agency, title, date)" if c == "source"
                                                       else "its name"))
    badv = ~out["source"].str.contains(_YEAR, regex=True)
    if badv.any():
        raise _fail(origin, line(_first(badv)), "the source must give a date or year of publication")
    badv = ~out["end_reason"].isin(END_REASONS)
    if badv.any():
        i = _first(badv)
        raise _fail(origin, line(i), f"end_reason must be one of {list(END_REASONS)}, "
                                     f"found {out['end_reason'].iloc[i]!r}")
    badv = ~out["certainty"].isin(CERTAINTY)
    if badv.any():
        i = _first(badv)
        raise _fail(origin, line(i), f"certainty must be one of {list(CERTAINTY)}, found {out['certainty'].iloc[i]!r}")
    peak = pd.to_numeric(out["peak_troops"].replace("", pd.NA), errors="coerce")
    badv = (out["peak_troops"] != "") & (peak.isna() | (peak <= 0) | (peak != peak.round()))
    if badv.any():
        i = _first(badv)
        raise _fail(origin, line(i), f"peak_troops must be empty or a positive whole number, found "
                                     f"{out['peak_troops'].iloc[i]!r}")
    out["peak_troops"] = peak.astype("Int64")

    resolved: dict[str, list[Any]] = {k: [] for k in ("entry", "withdrawal", "partial_end", "entry_precision",
                                                      "withdrawal_precision", "partial_precision")}
    for i, r in out.iterrows():
        op = OPERATIONS[r["operation"]]
        declared: dict[str, str] = {}
        for part in [p for p in r["date_precision"].split(";") if p.strip()]:
            k, _, v = part.partition("=")
            k, v = k.strip(), v.strip()
            if k not in _DATE_KEYS or v not in ("day", "month"):
                raise _fail(origin, line(i), f"date_precision must read like 'entry=day;withdrawal=month;partial=day' "
                                             f"(keys {list(_DATE_KEYS)}, values day/month), found {r['date_precision']!r}")
            declared[k] = v
        vals: dict[str, pd.Timestamp | None] = {}
        for key, col in _DATE_KEYS.items():
            text = r[col]
            if text == "":
                if key in declared:
                    raise _fail(origin, line(i), f"date_precision gives '{key}' but {col} is empty")
                vals[key] = None
                resolved[f"{key}_precision"].append("")
                continue
            prec = _precision_of(text)
            if prec is None:
                raise _fail(origin, line(i), f"{col} must be YYYY-MM-DD or YYYY-MM, found {text!r}")
            if declared.get(key) != prec:
                raise _fail(origin, line(i), f"{col} {text!r} has {prec} precision but date_precision says "
                                             f"{declared.get(key, 'nothing')!r} for '{key}'; make them agree")
            try:
                d = _resolve(text, prec, month_day)
            except ValueError:
                raise _fail(origin, line(i), f"{col} {text!r} is not a calendar date") from None
            if key == "entry" and prec == "month":
                d = max(d, op.start)
            if not op.start <= d <= op.end:
                raise _fail(origin, line(i), f"{col} {text} lies outside the operation {op.name} "
                                             f"({op.start.date()} to {op.end.date()})")
            vals[key] = d
            resolved[f"{key}_precision"].append(prec)
        if vals["entry"] is None:
            raise _fail(origin, line(i), "entry_date is empty; every member needs its entry")
        stayed = r["end_reason"] == "operation_end"
        if stayed and vals["withdrawal"] is not None:
            raise _fail(origin, line(i), "end_reason is operation_end but withdrawal_date is given; empty it, or give "
                                         "the reason the member left")
        if not stayed and vals["withdrawal"] is None:
            raise _fail(origin, line(i), f"end_reason {r['end_reason']!r} needs a withdrawal_date")
        last = vals["withdrawal"] if vals["withdrawal"] is not None else op.end
        if last <= vals["entry"]:
            raise _fail(origin, line(i), f"withdrawal ({last.date()}) must come after entry ({vals['entry'].date()})")
        if vals["partial"] is not None and not vals["entry"] < vals["partial"] <= last:
            raise _fail(origin, line(i), f"partial_end_date {vals['partial'].date()} must lie after entry and not after "
                                         f"the withdrawal ({vals['entry'].date()} to {last.date()})")
        resolved["entry"].append(vals["entry"])
        resolved["withdrawal"].append(vals["withdrawal"] if vals["withdrawal"] is not None else pd.NaT)
        resolved["partial_end"].append(vals["partial"] if vals["partial"] is not None else pd.NaT)
    for k, v in resolved.items():
        out[k] = pd.to_datetime(pd.Series(v, index=out.index)) if k in ("entry", "withdrawal", "partial_end") else v

    dup = out.duplicated(["operation", "ccode", "spell"], keep="first")
    if dup.any():
        i = _first(dup)
        raise _fail(origin, line(i), f"duplicate row for {out['operation'].iloc[i]}, ccode {out['ccode'].iloc[i]}, "
                                     f"spell {out['spell'].iloc[i]}")
    for (opn, cc), g in out.groupby(["operation", "ccode"], sort=False):
        g = g.sort_values("spell")
        if list(g["spell"]) != list(range(1, len(g) + 1)):
            raise _fail(origin, line(int(g.index[0])), f"spells of {opn}, ccode {cc} must be numbered 1, 2, ..., found "
                                                       f"{list(g['spell'])}")
        end = g["withdrawal"].fillna(OPERATIONS[opn].end)
        overlap = g["entry"].iloc[1:].to_numpy() <= end.iloc[:-1].to_numpy()
        if overlap.any():
            j = int(g.index[1 + _first(overlap)])
            raise _fail(origin, line(j), f"spell {out['spell'].loc[j]} of {opn}, ccode {cc} begins before the previous "
                                         f"spell ended")
    return out.reset_index(drop=True)


def load_members(path: str | Path, month_day: int = 15) -> pd.DataFrame:
    """Read and validate the members file (see :func:`validate_members`)."""
    return validate_members(_read_csv(path), str(path), month_day)


# =====================================================================================================
# building the extension's participants, periods and variables


@dataclass(frozen=True)
class ExtensionOptions:
    """Coding choices of the extension (the rest comes from :class:`WeisigerCoding`).

    exit_definition
        ``"complete"`` (default): a member exits on its complete withdrawal (Weisiger's definition in
        his reply). ``"partial"``: on the end of its main ground or combat role where the file gives
        one (``partial_end_date``), even if some personnel stayed (Henke's objection: abandonment can
        be partial); members without a partial end exit on their complete withdrawal as before.
    mandate_end_is_exit
        True (default; what COW-style dates say: it left while the coalition fought on): a member
        leaving when the legal basis of its presence ended exits. False: such departures are
        censored, since the member did not choose to leave its partners.
    month_day
        Day of the month on which a month-precision date is placed.
    nmc_table
        NMC release for CINC and military personnel (NMC 7.0 covers 1816-2022; NMC 5.0 ends in 2012).
    second_spells, pause_max_days
        How a member's second spell is treated: ``"separate"`` (default: a complete withdrawal such as
        Bulgaria's in 2005 stays an exit, its return a new at-risk unit), ``"merge"``, or ``"auto"``
        (merge pauses of at most ``pause_max_days``, as the rebuilt track does for truces).
    include_uncertain
        False drops the members whose coding is marked ``uncertain``.
    """

    exit_definition: str = "complete"
    mandate_end_is_exit: bool = True
    month_day: int = 15
    nmc_table: str = "cow_nmc7"
    second_spells: str = "separate"
    pause_max_days: int = 365
    include_uncertain: bool = True

    def __post_init__(self) -> None:
        bad = []
        if self.exit_definition not in ("complete", "partial"):
            bad.append(f"exit_definition must be 'complete' or 'partial', got {self.exit_definition!r}")
        if not isinstance(self.mandate_end_is_exit, bool):
            bad.append(f"mandate_end_is_exit must be true or false, got {self.mandate_end_is_exit!r}")
        if not isinstance(self.include_uncertain, bool):
            bad.append(f"include_uncertain must be true or false, got {self.include_uncertain!r}")
        if not (isinstance(self.month_day, int) and 1 <= self.month_day <= 28):
            bad.append(f"month_day must be a whole number from 1 to 28, got {self.month_day!r}")
        if self.nmc_table not in NMC_TABLES:
            bad.append(f"nmc_table must be one of {list(NMC_TABLES)}, got {self.nmc_table!r}")
        if self.second_spells not in ("separate", "merge", "auto"):
            bad.append(f"second_spells must be 'separate', 'merge' or 'auto', got {self.second_spells!r}")
        if not (isinstance(self.pause_max_days, int) and self.pause_max_days >= 0):
            bad.append(f"pause_max_days must be a whole number >= 0, got {self.pause_max_days!r}")
        if bad:
            raise CoalitionsError("extension options: " + "; ".join(bad))

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None, origin: str = "extension options") -> "ExtensionOptions":
        d = dict(d or {})
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise CoalitionsError(f"{origin}: unknown extension option(s) {unknown}; known: {sorted(names)}")
        try:
            return cls(**d)
        except CoalitionsError as exc:
            raise CoalitionsError(f"{origin}: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


#: exit_reason of the extension's participants (the first three are exits)
EXIT_REASONS_EXT: dict[str, str] = {
    "withdrew_early": "withdrew completely by its own decision while the coalition fought on (exit)",
    "mandate_end": "withdrew when the legal basis of its presence ended (exit under mandate_end_is_exit)",
    "partial_withdrawal": "ended its main ground or combat role while others fought on (exit under "
                          "exit_definition = partial)",
    "censored_mandate_end": "withdrew when the legal basis of its presence ended (censored)",
    "censored_operation_end": "present at the end of the operation (censored)",
}
_EXIT_1 = ("withdrew_early", "mandate_end", "partial_withdrawal")


def _check_ext_reason(df: pd.DataFrame) -> str | None:
    bad = ~df["exit_reason"].isin(list(EXIT_REASONS_EXT))
    if bad.any():
        return f"exit_reason outside {list(EXIT_REASONS_EXT)}:\n" + df.loc[bad, ["idvar", "exit_reason"]].to_string()
    bad = df["exit"].eq(1) != df["exit_reason"].isin(_EXIT_1)
    if bad.any():
        return "exit disagrees with exit_reason:\n" + df.loc[bad, ["idvar", "exit", "exit_reason"]].to_string()
    if (df["exit_date"] <= df["entry_date"]).any():
        return "a participant ends on or before its entry"
    return None


EXT_PARTICIPANTS_SCHEMA = TableSchema(
    name="weisiger_extension_participants",
    description="Members of the US-led coalitions in Iraq and Afghanistan as Weisiger participants (extension).",
    key=("idvar",),
    columns={
        "idvar": Col("int", False, description="warnum*100000 + ccode*100 + side*10 + spell"),
        "participant": Col("str", False), "warnum": Col("int", False, allowed=(9001, 9002)),
        "war_name": Col("str", False), "operation": Col("str", False, allowed=tuple(OPERATIONS)),
        "ccode": Col("int", False, 2, 999), "state_name": Col("str", False),
        "side": Col("int", False, allowed=(1,)), "coalid": Col("int", False), "spell": Col("int", False, 1),
        "entry_date": Col("date", False), "exit_date": Col("date", False),
        "withdrawal_date": Col("date", True), "partial_end_date": Col("date", True),
        "end_reason": Col("str", False, allowed=END_REASONS),
        "exit": Col("int", False, allowed=(0, 1)), "exit_reason": Col("str", False),
        "latejoin": Col("int", False, allowed=(0, 1)),
        "certainty": Col("str", False, allowed=CERTAINTY), "source": Col("str", False),
    },
    checks=(_check_ext_reason,),
)


def required_extension_tables(coding: WeisigerCoding | None = None,
                              options: ExtensionOptions | None = None) -> list[str]:
    """The clean source tables the extension reads (``results/sources/<name>.parquet``)."""
    coding = coding or WeisigerCoding()
    options = options or ExtensionOptions()
    return ["cow_war_participants", options.nmc_table, coding.polity_table, "archigos_leaders", "atop_dyad_year",
            *(["polity5"] if coding.polity_table != "polity5" else [])]  # polity5: Polity's -66/-77/-88 codes


def _units(members: pd.DataFrame, options: ExtensionOptions) -> pd.DataFrame:
    """At-risk units: one per member spell, or merged spells (``second_spells``), with exit coding."""
    m = members.sort_values(["operation", "ccode", "spell"]).reset_index(drop=True)
    rows: list[dict[str, Any]] = []
    for (opn, cc), g in m.groupby(["operation", "ccode"], sort=True):
        op = OPERATIONS[opn]
        spells = [r for _, r in g.iterrows()]
        groups: list[list[pd.Series]] = [[spells[0]]]
        for r in spells[1:]:
            prev = groups[-1][-1]
            pause = (r["entry"] - prev["withdrawal"]).days if pd.notna(prev["withdrawal"]) else 0
            merge = options.second_spells == "merge" or (options.second_spells == "auto"
                                                          and pause <= options.pause_max_days)
            if merge:
                groups[-1].append(r)
            else:
                groups.append([r])
        for k, grp in enumerate(groups, start=1):
            first, last = grp[0], grp[-1]
            reason = last["end_reason"]
            partial = last["partial_end"]
            if options.exit_definition == "partial" and pd.notna(partial):
                end, exit_reason = partial, "partial_withdrawal"
            elif reason == "operation_end":
                end, exit_reason = op.end, "censored_operation_end"
            elif reason == "mandate_end" and not options.mandate_end_is_exit:
                end, exit_reason = last["withdrawal"], "censored_mandate_end"
            else:
                end, exit_reason = last["withdrawal"], reason
            rows.append({
                "operation": opn, "warnum": op.warnum, "war_name": op.label, "ccode": int(cc),
                "state_name": first["state_name"], "side": 1, "spell": k, "n_spells": len(groups),
                "merged_spells": ",".join(str(int(x["spell"])) for x in grp),
                "entry_date": first["entry"], "exit_date": end, "operation_start": op.start, "operation_end": op.end,
                "withdrawal_date": last["withdrawal"], "partial_end_date": partial, "end_reason": reason,
                "exit_reason": exit_reason, "exit": int(exit_reason in _EXIT_1),
                "entry_precision": first["entry_precision"], "withdrawal_precision": last["withdrawal_precision"],
                "partial_precision": last["partial_precision"],
                "peak_troops": pd.Series([x["peak_troops"] for x in grp], dtype="Int64").max(),
                "certainty": "uncertain" if any(x["certainty"] == "uncertain" for x in grp) else "confirmed",
                "source": " | ".join(x["source"] for x in grp), "notes": " | ".join(x["notes"] for x in grp),
            })
    u = pd.DataFrame(rows)
    u["idvar"] = (u["warnum"] * 100000 + u["ccode"] * 100 + u["side"] * 10 + u["spell"]).astype("int64")
    u["coalid"] = (u["warnum"] * 10 + u["side"]).astype("int64")
    u["participant"] = u["warnum"].astype(str) + "-" + u["ccode"].astype(str) + "-" + u["side"].astype(str)
    return u


def build_extension_periods(members: pd.DataFrame | str | Path, tables: Mapping[str, pd.DataFrame],
                            coding: WeisigerCoding | None = None, options: ExtensionOptions | None = None,
                            cases: Mapping[str, pd.DataFrame] | None = None
                            ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Participants, counting-process periods and variables of the Iraq/Afghanistan extension.

    ``members`` is the validated members table (:func:`load_members`) or the path of the file.
    ``coding`` gives the parameters shared with the rebuilt track (analysis time origin, recent-exit
    windows, late-join threshold, democracy threshold, new-leader rule, Polity table, NMC filling);
    ``options`` the extension's own choices (:class:`ExtensionOptions`).

    Each operation is one coalition (``coalid`` = warnum*10 + 1) whose members are at risk from their
    own entry; the records cover ``(start, stop]`` days of analysis time and split where a covariate
    changes (a member joins or leaves, a new calendar year, a new leader, a partner's exit entering or
    leaving the recent-exit window). Built covariates: ``imptce`` (CINC share of the active members),
    ``contribpc`` (share of their military personnel, a proxy), ``recexit``/``recexit2``, ``demdum``/
    ``polity2``, ``newlead`` (Archigos 4.1, to 2015), ``actdum``/``actpc`` (ATOP, to 2018),
    ``cooppc`` (fought on the same side in an earlier COW war) and ``latejoin``. ``pvict`` (the enemy
    is an insurgency with no CINC), ``foverlap`` (all members fight in one country) and the battle-death
    variables are ``not_available`` (all-missing columns). With ``cases`` (the validated
    ``weisiger_*.csv`` case files, :func:`coalitions.weisiger.rebuild_cases.load_cases`) the
    hand-coded variables are added where the files cover the extension's members (wars 9001, 9002)
    and the Polity rules applied (:func:`coalitions.weisiger.handcoded.apply_extension_handcoded`);
    ``periods.attrs["why_missing"]`` then says why each missing value is missing. Without ``cases``
    the hand-coded variables are ``not_available``.
    """
    coding = coding or WeisigerCoding()
    options = options or ExtensionOptions()
    if not isinstance(members, pd.DataFrame):
        members = load_members(members, options.month_day)
    if not options.include_uncertain:
        members = members[members["certainty"] != "uncertain"]
    if members.empty:
        raise CoalitionsError("extension: no members left to build (check the members file and include_uncertain)")
    part = _units(members, options)
    part["latejoin"] = ((part["entry_date"] - part["operation_start"]).dt.days > coding.late_join_days).astype("int64")

    need_tabs = required_extension_tables(coding, options)
    for t in need_tabs:
        if t not in tables:
            raise CoalitionsError(f"extension: source table '{t}' is missing; build results/sources/{t}.parquet first")
    war = tables["cow_war_participants"].rename(columns={"war_num": "warnum"}).copy()
    war["ccode"] = war["ccode"].astype("int64")

    need = pd.DataFrame([(c, y) for c, a, z in part[["ccode", "entry_date", "exit_date"]].itertuples(index=False)
                         for y in range(a.year, z.year + 1)], columns=["ccode", "year"])
    nmc = nearest_fill(tables[options.nmc_table], ["cinc", "milper", "tpop"], need, coding.nmc_fill_years)
    pol = tables[coding.polity_table][["ccode", "year", "polity2"]].astype({"ccode": "int64", "year": "int64"})
    pol = pol.assign(polity2=pol["polity2"].astype(float)).drop_duplicates(["ccode", "year"])
    arch = tables["archigos_leaders"]
    leaders = {int(g): (d["start"].to_numpy().astype("datetime64[D]"), d["end"].to_numpy().astype("datetime64[D]"))
               for g, d in arch.sort_values("start").groupby("gwcode")}
    ctx = _Context(nmc=nmc.set_index(["ccode", "year"]), polity=pol.set_index(["ccode", "year"]), leaders=leaders,
                   allied=alliance_lookup(tables["atop_dyad_year"], part["ccode"].unique()),
                   history=coalition_history(war))

    pieces = []
    bit = {r: 1 << i for i, r in enumerate(REGIONS)}
    for opn, g in part.groupby("operation", sort=True):
        op = OPERATIONS[opn]
        u = pd.DataFrame({
            "idvar": g["idvar"].to_numpy(), "ccode": g["ccode"].to_numpy(), "side": g["side"].to_numpy(),
            "unit_start": g["entry_date"].to_numpy(), "unit_end": g["exit_date"].to_numpy(),
            "first_entry_date": g["entry_date"].to_numpy(), "exit": g["exit"].to_numpy(),
            "regions_mask": bit[op.region], "war_start_date": op.start,
        })
        pieces.append(_war_periods(u, ctx, coding))
    per = _collapse(pd.concat(pieces, ignore_index=True))

    p = part.set_index("idvar")
    for c in ("warnum", "ccode", "side", "coalid", "spell", "latejoin"):
        per[c] = per["idvar"].map(p[c]).astype("int64")
    per["latejoin"] = per["latejoin"].astype(float)
    finish_periods(per, p["exit"], coding)
    # not measurable for these operations: all-missing, as the variables table says
    for c in [*NOT_AVAILABLE_BASE, *ctrend_names(coding), "otrend60", "pvict", "foverlap", "lnodead", "lnodead2"]:
        per[c] = np.nan
    cols = ["idvar", "warnum", "ccode", "side", "coalid", "spell", "start", "stop", "warday", "wstart", "wstop",
            "date_from", "date_to", "firstobs", "finalobs", "withdraw", "volunt",
            "foverlap", *ctrend_names(coding), "otrend60", "pvict", "imptce", "contribpc", "minor", "recexit",
            "recexit2", "demdum", "polity2", "newlead", "sepdum", "seppc", "actdum", "actpc", "intdum", "cooppc",
            "lnodead", "lnodead2", "latejoin", "terraim", "regaim", "cinc", "milper"]
    per = per[cols].sort_values(["warnum", "coalid", "idvar", "start"], kind="stable").reset_index(drop=True)

    pcols = ["idvar", "participant", "warnum", "war_name", "operation", "ccode", "state_name", "side", "coalid", "spell",
             "n_spells", "merged_spells", "entry_date", "exit_date", "operation_start", "operation_end",
             "withdrawal_date", "partial_end_date", "end_reason", "exit", "exit_reason", "latejoin",
             "entry_precision", "withdrawal_precision", "partial_precision", "peak_troops", "certainty", "source",
             "notes"]
    participants = part[pcols].sort_values(["warnum", "entry_date", "ccode", "spell"], kind="stable")
    participants = participants.reset_index(drop=True)
    variables = extension_variables(coding, options)
    # ---- hand-coded variables and the missing-data rules (coalitions.weisiger.handcoded) ----
    why_missing = None
    if cases is not None:
        from .handcoded import apply_extension_handcoded

        participants, per, variables, why_missing = apply_extension_handcoded(
            tables, participants, per, variables, cases, coding, tables["cow_war_participants"])
    # ---- end of the hand-coded hook ----
    validate(participants, EXT_PARTICIPANTS_SCHEMA, "extension participants")
    validate(per, PERIODS_SCHEMA, "extension periods")
    per.attrs["why_missing"] = why_missing
    return participants, per, variables


def extension_variables(coding: WeisigerCoding | None = None,
                        options: ExtensionOptions | None = None) -> pd.DataFrame:
    """The variables table of the extension: the rebuilt track's, with what differs after 2001."""
    coding = coding or WeisigerCoding()
    options = options or ExtensionOptions()
    v = variables_table(replace(coding, nmc_table=options.nmc_table)).set_index("variable")
    definition = ("complete withdrawal" if options.exit_definition == "complete"
                  else "end of the main ground or combat role where sourced, else complete withdrawal")
    mandate = "counted as exits" if options.mandate_end_is_exit else "censored"
    overrides = {
        "withdraw": ("rebuilt", f"Hand-coded members file (config/cases/henke_iraq_afghanistan_members.csv): exit = "
                                f"{definition}; departures at the end of the legal mandate {mandate}; members present "
                                f"at the operation's end censored. On the participant's last record only."),
        "volunt": ("not_available", "Whether a withdrawal was forced is not coded for the extension."),
        "foverlap": ("not_available", "All members of an operation fight in the same country, so the theatre proxy "
                                      "is constant (1) and carries no information; the front-level measure needs "
                                      "hand coding."),
        "pvict": ("not_available", "The coalition fights insurgents (and, in 2001 and 2003, the target state only "
                                   "for weeks): the enemy has no CINC, so the capability balance cannot be built."),
        "lnodead": ("not_available", "COW lists battle deaths only for the invasion wars 225 and 227, not for the "
                                     "members of the stabilisation and counter-insurgency coalitions."),
        "lnodead2": ("not_available", "No battle deaths per member (see lnodead)."),
        "cooppc": ("rebuilt", "Share of active partners that fought on the same side as the member in a COW "
                              "inter-state war that began before the operation (e.g. the Gulf War 1991; the 2001 "
                              "Afghanistan war counts for Iraq)."),
        "latejoin": ("rebuilt", f"1 if the member entered more than {coding.late_join_days} days after the "
                                f"operation's start (COW start of war 225 or 227)."),
    }
    for name in [*ctrend_names(coding), "otrend60"]:
        overrides[name] = ("not_available", "No dated battles of these operations in the battle data (CDB90 ends "
                                            "in 1973, IWBD in 2003).")
    for name, (status, note) in overrides.items():
        v.loc[name, "status"] = status
        v.loc[name, "note"] = note
    return v.reset_index()[["variable", "label", "status", "note", "column"]]


def summarise_extension(participants: pd.DataFrame) -> pd.DataFrame:
    """Members, at-risk units, exits and censored units per operation (and by exit reason)."""
    rows = []
    for opn, g in participants.groupby("operation", sort=True):
        rows.append({"operation": opn, "warnum": int(g["warnum"].iloc[0]), "members": int(g["ccode"].nunique()),
                     "at_risk_units": len(g), "exits": int(g["exit"].sum()), "censored": int((g["exit"] == 0).sum()),
                     "uncertain": int((g["certainty"] == "uncertain").sum()),
                     "exits_by_reason": {k: int(n) for k, n in g.loc[g["exit"] == 1, "exit_reason"].value_counts()
                                         .sort_index().items()}})
    return pd.DataFrame(rows)

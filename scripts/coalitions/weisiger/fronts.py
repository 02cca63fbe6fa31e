"""Weisiger's Common Front (``foverlap``) from a sourced file of fronts.

``config/cases/weisiger_fronts.csv`` has one row per participant x front x spell of activity on
that front, with the columns :data:`FRONT_COLUMNS`:

``warnum, ccode, side``
    the participant, as in the rebuilt participants table (a COW war participant on a coalition side);
``state_name``
    the state's name (for the reader; a name that differs from COW's is reported, not an error);
``front``
    the front's name, spelt the same way for every participant of the war;
``start_date, end_date``
    the days (YYYY-MM-DD, both inclusive) on which the participant fought on that front, from the
    sources (not from COW): a date outside the participant's COW participation is *flagged* in the
    coverage report and clipped to it. A date the sources do not give stays empty: it is flagged
    (``start_date_missing``/``end_date_missing``) and the row then starts (ends) with the
    participant's COW participation;
``share``
    optional, 0-1: the participant's share of its forces on that front when a source gives it;
``contested``
    ``yes``/``no``; ``note`` is required when ``yes`` (what historians disagree about);
``source``
    a citation (author, title, year).

:func:`read_fronts` checks the file on its own (every error names the file and its line);
:func:`check_fronts` checks it against the COW war data and the rebuilt sample and returns the rows to
use with the flags; :func:`front_overlap` computes ``foverlap`` on given days; :func:`fronts_coverage`
reports, per at-risk unit, which fronts and how many of its days the file covers.

Definition (Weisiger 2016): on each day, the weighted share of the participant's active fronts on
which at least one other member of its side is also active. The weights are the file's shares when
the coding says so (``front_weighting: share``) and every active front of that day has one, else
equal weights (``front_weighting: equal`` always uses equal weights). On a day on which the file gives
the participant no active front :func:`front_overlap` returns a missing value; the rebuild then
carries the nearest earlier front day's value or leaves it missing (``front_gaps``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from ..util import CoalitionsError

FRONTS = "weisiger_fronts"
FRONT_COLUMNS = ("warnum", "ccode", "side", "state_name", "front", "start_date", "end_date", "share",
                 "contested", "note", "source")
#: tolerance on the sum of the shares of a participant's simultaneous fronts
SHARE_TOLERANCE = 1e-6

__all__ = ["FRONTS", "FRONT_COLUMNS", "read_fronts", "validate_fronts", "check_fronts", "front_overlap",
           "front_boundaries", "fronts_coverage", "participant_fronts"]


def _fail(origin: str, line: int | None, msg: str) -> CoalitionsError:
    return CoalitionsError(f"{origin}" + (f", line {line}" if line is not None else "") + f": {msg}")


def read_fronts(path: str | Path) -> pd.DataFrame:
    """Read and check the front file (format only; see :func:`check_fronts` for the war data)."""
    path = Path(path)
    if not path.is_file():
        raise CoalitionsError(f"{path}: front file not found (it should hold one row per participant x front x "
                              f"spell; see coalitions.weisiger.fronts)")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise CoalitionsError(f"{path}: cannot be read as a UTF-8 CSV file ({str(exc).strip()})") from None
    return validate_fronts(df, str(path))


def _norm_front(name: str) -> str:
    return re.sub(r"[\s\-_/]+", " ", name.casefold()).strip()


def validate_fronts(df: pd.DataFrame, origin: str) -> pd.DataFrame:
    """Check the front table's format and return it typed, with its file ``line`` numbers.

    Errors (each naming ``origin`` and the line): missing or unknown columns; warnum, ccode, side not
    whole numbers or side not 1/2; empty front; dates not YYYY-MM-DD or end before start; share not
    empty or in (0, 1]; contested not yes/no; contested without a note; empty source; two spellings of
    one front in a war; overlapping rows of one participant on one front; shares of a participant's
    simultaneous fronts summing to more than 1.
    """
    missing = [c for c in FRONT_COLUMNS if c not in df.columns]
    if missing:
        raise _fail(origin, 1, f"required column(s) missing: {missing}; the header must be {','.join(FRONT_COLUMNS)}")
    extra = [c for c in df.columns if c not in FRONT_COLUMNS]
    if extra:
        raise _fail(origin, 1, f"unknown column(s) {extra}; the header must be {','.join(FRONT_COLUMNS)}")
    out = df[list(FRONT_COLUMNS)].copy().reset_index(drop=True)
    for c in FRONT_COLUMNS:
        out[c] = out[c].astype(str).str.strip()
    out.insert(0, "line", np.arange(len(out), dtype=np.int64) + 2)
    lines = out["line"].to_numpy()

    def first(mask: pd.Series | np.ndarray) -> int:
        return int(lines[np.asarray(mask).nonzero()[0][0]])

    for c in ("warnum", "ccode", "side"):
        v = pd.to_numeric(out[c], errors="coerce")
        bad = v.isna() | (v != v.round())
        if bad.any():
            i = int(bad.to_numpy().nonzero()[0][0])
            raise _fail(origin, int(lines[i]), f"column '{c}' must be a whole number, found {out[c].iloc[i]!r}")
        out[c] = v.astype("int64")
    bad = ~out["side"].isin([1, 2])
    if bad.any():
        raise _fail(origin, first(bad), f"side must be 1 or 2, found {out.loc[bad, 'side'].iloc[0]}")
    bad = out["front"] == ""
    if bad.any():
        raise _fail(origin, first(bad), "the 'front' column is empty: name the front")
    for c in ("start_date", "end_date"):
        d = pd.to_datetime(out[c].where(out[c] != ""), format="%Y-%m-%d", errors="coerce")
        bad = (out[c] != "") & (d.isna() | ~out[c].str.fullmatch(r"\d{4}-\d{2}-\d{2}"))
        if bad.any():
            raise _fail(origin, first(bad), f"{c} must be a date YYYY-MM-DD (or empty where the sources give "
                                            f"none), found {out.loc[bad, c].iloc[0]!r}")
        out[c] = d
    bad = out["start_date"].notna() & out["end_date"].notna() & (out["end_date"] < out["start_date"])
    if bad.any():
        i = bad.to_numpy().nonzero()[0][0]
        raise _fail(origin, int(lines[i]), f"end_date {out['end_date'].iloc[i].date()} is before start_date "
                                           f"{out['start_date'].iloc[i].date()}")
    share = pd.to_numeric(out["share"].where(out["share"] != ""), errors="coerce")
    bad = ((out["share"] != "") & share.isna()) | (share.notna() & ~share.between(0, 1, inclusive="right"))
    if bad.any():
        raise _fail(origin, first(bad), f"share must be empty or a number in (0, 1], found "
                                        f"{out.loc[bad, 'share'].iloc[0]!r}")
    out["share"] = share.astype(float)
    con = out["contested"].str.lower()
    bad = ~con.isin(["yes", "no"])
    if bad.any():
        raise _fail(origin, first(bad), f"contested must be yes or no, found {out.loc[bad, 'contested'].iloc[0]!r}")
    out["contested"] = con.eq("yes")
    bad = out["contested"] & (out["note"] == "")
    if bad.any():
        raise _fail(origin, first(bad), "contested is yes but the note is empty: say what the sources disagree about")
    bad = out["source"] == ""
    if bad.any():
        raise _fail(origin, first(bad), "the 'source' column is empty: every row must cite its source "
                                        "(author, title, year)")
    # one spelling per front and war
    norm = out["front"].map(_norm_front)
    spell = out.groupby(["warnum", norm])["front"].nunique()
    if (spell > 1).any():
        w, n = spell[spell > 1].index[0]
        names = sorted(out.loc[(out["warnum"] == w) & (norm == n), "front"].unique())
        i = out.index[(out["warnum"] == w) & (norm == n) & (out["front"] == names[1])][0]
        raise _fail(origin, int(lines[i]), f"war {w} spells one front in several ways {names}; use one name")
    # overlapping rows of one participant on one front (a missing date reaches as far as it can)
    s = out.assign(start_date=out["start_date"].fillna(pd.Timestamp.min),
                   end_date=out["end_date"].fillna(pd.Timestamp.max))
    s = s.sort_values(["warnum", "ccode", "side", "front", "start_date"], kind="stable")
    same = s[["warnum", "ccode", "side", "front"]].eq(s[["warnum", "ccode", "side", "front"]].shift()).all(axis=1)
    prev_end = s["end_date"].shift()
    bad = same & (s["start_date"] <= prev_end)
    if bad.any():
        j = bad.to_numpy().nonzero()[0][0]
        r, p = s.iloc[j], s.iloc[j - 1]
        raise _fail(origin, int(r["line"]), f"war {r['warnum']}, ccode {r['ccode']}, side {r['side']}, front "
                                            f"{r['front']!r}: {_span(r)} overlaps line {p['line']} ({_span(p)}); "
                                            f"merge the rows or correct the dates")
    # shares of simultaneous fronts
    sh = s[s["share"].notna()]
    for _key, g in sh.groupby(["warnum", "ccode", "side"], sort=False):
        if len(g) < 2:
            continue
        for t in g["start_date"]:
            on = g[(g["start_date"] <= t) & (g["end_date"] >= t)]
            if on["share"].sum() > 1 + SHARE_TOLERANCE:
                raise _fail(origin, int(on["line"].max()),
                            f"the shares of war {on['warnum'].iloc[0]}, ccode {on['ccode'].iloc[0]}, side "
                            f"{on['side'].iloc[0]} on {t.date()} sum to {on['share'].sum():g} > 1 (lines "
                            f"{', '.join(map(str, on['line']))}); correct the shares")
    out.attrs["origin"] = origin
    return out


def _span(r) -> str:
    def d(x):
        return "?" if pd.isna(x) or x in (pd.Timestamp.min, pd.Timestamp.max) else str(x.date())
    return f"{d(r['start_date'])} to {d(r['end_date'])}"


def check_fronts(fronts: pd.DataFrame, war: pd.DataFrame, participants: pd.DataFrame,
                 exclude_wars: tuple[int, ...] = (), origin: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Check the front rows against the COW war data and the rebuilt sample.

    ``war``: the clean COW war participants (warnum or war_num, ccode, side, state_name, start1, end1,
    end2); ``participants``: the rebuilt participants. Errors: a war that is not a COW war, a
    (warnum, ccode, side) that is not a COW participant, or one that is not in the rebuilt sample (a
    side needs two states fighting at once); rows of ``exclude_wars`` are dropped. Returns (rows to
    use, clipped to the COW participation, with ``a``/``b`` the first and last day; flags: one row per
    file line with something a reader should check -- dates outside the COW participation, a state
    name that differs from COW's).
    """
    origin = origin or fronts.attrs.get("origin", f"config/cases/{FRONTS}.csv")
    w = war.rename(columns={"war_num": "warnum"}).copy()
    for c in ("warnum", "ccode", "side"):
        w[c] = w[c].astype("int64")
    f = fronts[~fronts["warnum"].isin(list(exclude_wars))].copy()
    wars = set(w["warnum"])
    bad = ~f["warnum"].isin(wars)
    if bad.any():
        r = f[bad].iloc[0]
        raise _fail(origin, int(r["line"]), f"war {r['warnum']} is not a COW inter-state war")
    cow = w.groupby(["warnum", "ccode", "side"]).agg(cow_name=("state_name", "first"), cow_start=("start1", "min"),
                                                     cow_end1=("end1", "max"), cow_end2=("end2", "max"))
    cow["cow_end"] = cow["cow_end2"].fillna(cow["cow_end1"])
    f = f.merge(cow[["cow_name", "cow_start", "cow_end"]].reset_index(), on=["warnum", "ccode", "side"], how="left")
    bad = f["cow_start"].isna()
    if bad.any():
        r = f[bad].iloc[0]
        inwar = w[w["warnum"] == r["warnum"]]
        raise _fail(origin, int(r["line"]), f"war {r['warnum']}, ccode {r['ccode']}, side {r['side']} is not a COW "
                                            f"participant; participants of that war: " + ", ".join(
                                                f"{a} {b} (side {c})" for a, b, c in
                                                inwar[["ccode", "state_name", "side"]].itertuples(index=False)))
    sample = set(map(tuple, participants[["warnum", "ccode", "side"]].astype("int64").to_numpy().tolist()))
    key = list(zip(f["warnum"], f["ccode"], f["side"]))
    bad = np.array([k not in sample for k in key], dtype=bool)
    if bad.any():
        r = f[bad].iloc[0]
        raise _fail(origin, int(r["line"]), f"war {r['warnum']}, ccode {r['ccode']}, side {r['side']} "
                                            f"({r['state_name']}) is not in the rebuilt sample (its side is not a "
                                            f"coalition: no two states fought on it at once); remove the row")
    flags = []
    for r in f.itertuples(index=False):
        for c, v in (("start_date", r.start_date), ("end_date", r.end_date)):
            if pd.isna(v):
                flags.append({"line": r.line, "warnum": r.warnum, "ccode": r.ccode, "side": r.side, "front": r.front,
                              "flag": f"{c}_missing", "detail": f"the sources give no {c}; the COW participation's "
                                                                f"{'start' if c == 'start_date' else 'end'} is used"})
        if (pd.notna(r.start_date) and r.start_date < r.cow_start) or (pd.notna(r.end_date) and r.end_date > r.cow_end):
            flags.append({"line": r.line, "warnum": r.warnum, "ccode": r.ccode, "side": r.side, "front": r.front,
                          "flag": "dates_outside_cow_spell",
                          "detail": f"{_span(r._asdict())} vs COW {r.cow_start.date()} to "
                                    f"{r.cow_end.date()}; clipped to the COW participation"})
        if r.state_name and str(r.cow_name).casefold() != r.state_name.casefold():
            flags.append({"line": r.line, "warnum": r.warnum, "ccode": r.ccode, "side": r.side, "front": r.front,
                          "flag": "state_name_differs", "detail": f"{r.state_name!r} vs COW {r.cow_name!r}"})
    f["a"] = f["start_date"].fillna(f["cow_start"]).where(lambda x: x > f["cow_start"], f["cow_start"])
    f["b"] = f["end_date"].fillna(f["cow_end"]).where(lambda x: x < f["cow_end"], f["cow_end"])
    outside = f["a"] > f["b"]
    for r in f[outside].itertuples(index=False):
        flags.append({"line": r.line, "warnum": r.warnum, "ccode": r.ccode, "side": r.side, "front": r.front,
                      "flag": "entirely_outside_cow_spell", "detail": "row not used"})
    f = f[~outside].drop(columns=["cow_name"]).reset_index(drop=True)
    fl = pd.DataFrame(flags, columns=["line", "warnum", "ccode", "side", "front", "flag", "detail"])
    return f, fl.sort_values(["line", "flag"], kind="stable").reset_index(drop=True)


def front_boundaries(rows: pd.DataFrame, war_start: pd.Timestamp) -> list[int]:
    """Days (offsets from ``war_start``) on which some participant's set of fronts changes."""
    if rows is None or rows.empty:
        return []
    a = (rows["a"] - war_start).dt.days.to_numpy()
    b = (rows["b"] - war_start).dt.days.to_numpy() + 1
    return sorted(set(a.tolist()) | set(b.tolist()))


def front_overlap(rows: pd.DataFrame, war_start: pd.Timestamp, ccode: np.ndarray, side: np.ndarray,
                  days: np.ndarray, weighting: str = "share") -> np.ndarray:
    """``foverlap`` of each unit (``ccode[m]``, ``side[m]``) on each day offset ``days[s]``: (M, S).

    ``rows``: one war's front rows from :func:`check_fronts`. NaN where the unit has no active front.
    """
    M, S = len(ccode), len(days)
    out = np.full((M, S), np.nan)
    if rows is None or rows.empty:
        return out
    a = (rows["a"] - war_start).dt.days.to_numpy()
    b = (rows["b"] - war_start).dt.days.to_numpy()
    rc = rows["ccode"].to_numpy().astype(np.int64)
    rs = rows["side"].to_numpy().astype(np.int64)
    fr = pd.factorize(rows["front"])[0]
    share = rows["share"].to_numpy(dtype=float)
    act = (a[:, None] <= days[None, :]) & (days[None, :] <= b[:, None])  # R x S
    partner = (rs[:, None] == rs[None, :]) & (rc[:, None] != rc[None, :]) & (fr[:, None] == fr[None, :])
    shared = (partner.astype(float) @ act.astype(float)) > 0  # R x S: a partner is on this row's front
    has_share = ~np.isnan(share)
    for m in range(M):
        mine = (rc == ccode[m]) & (rs == side[m])
        if not mine.any():
            continue
        am = act[mine]
        n = am.sum(axis=0)
        if weighting == "share":
            no_share = (am & ~has_share[mine][:, None]).any(axis=0)
            w = np.where(no_share[None, :], 1.0, np.nan_to_num(share[mine])[:, None]) * am
        else:
            w = am.astype(float)
        tot = w.sum(axis=0)
        num = (w * shared[mine]).sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[m] = np.where((n > 0) & (tot > 0), num / np.where(tot > 0, tot, 1.0), np.nan)
    return out


def participant_fronts(rows: pd.DataFrame) -> dict[tuple[int, int, int], str]:
    """(warnum, ccode, side) -> its fronts in the order of their first day, joined by '; '."""
    if rows is None or rows.empty:
        return {}
    s = rows.sort_values(["a", "front"], kind="stable")
    return {(int(k[0]), int(k[1]), int(k[2])): "; ".join(dict.fromkeys(g["front"]))
            for k, g in s.groupby(["warnum", "ccode", "side"], sort=False)}


def fronts_coverage(rows: pd.DataFrame | None, participants: pd.DataFrame, periods: pd.DataFrame | None = None,
                    flags: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per at-risk unit of the rebuilt sample: its fronts, its days and how many the file covers.

    Columns: idvar, participant, warnum, ccode, state_name, side, fronts, n_rows, days, days_covered,
    covered (every day of the unit's participation has at least one active front), flags (lines
    flagged by :func:`check_fronts`), foverlap_mean (day-weighted, from ``periods`` when given).
    """
    p = participants[["idvar", "participant", "warnum", "ccode", "state_name", "side", "entry_date",
                      "exit_date"]].copy()
    names = participant_fronts(rows)
    out = []
    for r in p.itertuples(index=False):
        k = (int(r.warnum), int(r.ccode), int(r.side))
        days = int((r.exit_date - r.entry_date).days) + 1
        mine = rows[(rows["warnum"] == k[0]) & (rows["ccode"] == k[1]) & (rows["side"] == k[2])] \
            if rows is not None and len(rows) else None
        cov = 0
        if mine is not None and len(mine):
            grid = np.zeros(days, dtype=bool)
            for a, b in zip(mine["a"], mine["b"]):
                lo = max(0, (a - r.entry_date).days)
                hi = min(days - 1, (b - r.entry_date).days)
                if hi >= lo:
                    grid[lo:hi + 1] = True
            cov = int(grid.sum())
        fl = ""
        if flags is not None and len(flags):
            hit = flags[(flags["warnum"] == k[0]) & (flags["ccode"] == k[1]) & (flags["side"] == k[2])]
            fl = "; ".join(f"line {a}: {b}" for a, b in zip(hit["line"], hit["flag"]))
        out.append({"idvar": r.idvar, "participant": r.participant, "warnum": k[0], "ccode": k[1],
                    "state_name": r.state_name, "side": k[2], "fronts": names.get(k, ""),
                    "n_rows": 0 if mine is None else len(mine), "days": days, "days_covered": cov,
                    "covered": cov == days, "flags": fl})
    cov = pd.DataFrame(out)
    cov["foverlap_mean"] = np.nan
    if periods is not None and len(periods) and len(cov):
        cov["foverlap_mean"] = cov["idvar"].map(mean_by_unit(periods, "foverlap"))
    return cov


def mean_by_unit(periods: pd.DataFrame, col: str) -> Mapping[int, float]:
    """Day-weighted mean of ``col`` per idvar over the records where it is not missing."""
    d = periods[["idvar", "wstart", "wstop", col]].dropna(subset=[col])
    wt = (d["wstop"] - d["wstart"]).astype(float)
    num = (d[col] * wt).groupby(d["idvar"]).sum()
    den = wt.groupby(d["idvar"]).sum()
    return (num / den).to_dict()

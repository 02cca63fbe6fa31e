"""The battlefield trends (``ctrendK``, ``otrend60``) in the counting-process periods.

The trends themselves are built by :mod:`coalitions.weisiger.trends` from dated battles (CDB90 or
IWBD) as step functions: one row per at-risk unit (``idvar``), window and day on which the value
changes (``date``), with the coalition's (``ctrend``) and the participant's own (``otrend``) trend
from that day on. This module puts them into the periods, in two ways:

* the windows of ``WeisigerCoding.ctrend_windows`` (ctrend60 always) and otrend60 are columns of the
  periods table built by the rebuild, with a record boundary wherever one of them changes
  (:func:`step_boundaries`, :func:`step_values`, used while the periods are built);
* any other window (the Figure 5 sweep, 15-120 days) is attached to a copy of the periods for the
  model that uses it only (:func:`attach_window`), the records split at that window's steps.

Why per model: ``ctrendK`` changes on every battle day and K and 2K days after it, so a table with
record boundaries for all 106 windows at once would carry the union of all their change days (several
times the records of the one-window table) into every model, and the build would compute and
collapse them for every coding; splitting per model keeps the periods table (and every model that
does not use another window) as small as before, and each sweep model pays only for its own window.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from ..util import CoalitionsError

STEP_COLUMNS = ("idvar", "window", "date", "ctrend", "otrend")
_TREND = re.compile(r"^(ctrend|otrend)(\d+)$")

__all__ = ["STEP_COLUMNS", "trend_term", "period_windows", "build_steps", "StepIndex", "attach_window",
           "attach_terms", "battle_case_files", "battle_case_tables"]


def trend_tables(coding) -> list[str]:
    """The clean source tables (``results/sources``) the trends of ``coding`` read: CDB90's always, since
    it stands in when IWBD (an optional download) cannot be had."""
    from .trends import required_tables

    return ["cow_war_participants", *required_tables("cdb90")]


#: where the optional IWBD download lands (fetched like the authors' archives, with a status.json)
IWBD_ARCHIVE = "resources/original/iwbd"
IWBD_BASENAME = "iwbd.csv"


def iwbd_inputs(coding) -> list[str]:
    """The IWBD folder when the coding asks for IWBD (an input of the jobs that build the trends)."""
    return [IWBD_ARCHIVE] if coding.trend_source == "iwbd" else []


def iwbd_tables(paths: "str | Path | list") -> dict[str, pd.DataFrame]:
    """``{"iwbd_battles": table}`` when the IWBD folder among ``paths`` holds the file; else empty, logged."""
    from ..readers.iwbd import load_iwbd
    from ..util import LOG

    for p in [paths] if isinstance(paths, (str, Path)) else paths:
        table, reason = load_iwbd(p, IWBD_BASENAME)
        if table is not None:
            return {"iwbd_battles": table}
        LOG.warning("IWBD is not available (%s): the battlefield trends use CDB90", reason)
    return {}


def trend_source_used(tables: Mapping[str, pd.DataFrame], coding) -> str:
    """The battle source the trends are built from: the coding's, or CDB90 when IWBD was not obtained."""
    if coding.trend_source == "iwbd" and "iwbd_battles" not in tables:
        return "cdb90"
    return coding.trend_source


def battle_case_files() -> list[str]:
    """The reviewed mapping files the battle sources need (config/cases/cdb90_actors.csv)."""
    from .trends import case_files

    return sorted({f for src in ("cdb90", "iwbd") for f in case_files(src)})


def battle_case_tables(paths) -> dict[str, pd.DataFrame]:
    """The mapping tables of ``paths`` by the name :func:`coalitions.weisiger.trends.battle_events` reads
    (the file's stem: ``cdb90_actors``, ``cdb90_corrections``)."""
    from pathlib import Path

    from ..readers import cdb90

    by_path = {str(Path(p)): p for p in paths}
    out: dict[str, pd.DataFrame] = {}
    actors = next((p for p in by_path if Path(p).name == Path(cdb90.ACTOR_MAP).name), None)
    if actors is not None:
        out["cdb90_actors"] = cdb90.read_actor_map(actors)
    corr = next((p for p in by_path if Path(p).name == Path(cdb90.CORRECTIONS).name), None)
    if corr is not None:
        out["cdb90_corrections"] = cdb90.read_corrections(corr, out.get("cdb90_actors"))
    return out


def trend_term(name: str) -> tuple[str, int] | None:
    """('ctrend', 60) for 'ctrend60', None for a name that is not a trend."""
    m = _TREND.match(name)
    return (m.group(1), int(m.group(2))) if m else None


def period_windows(coding) -> list[int]:
    """Windows whose trends are columns of the periods: ctrend_windows, 60 (ctrend60, otrend60)."""
    return sorted({60, *coding.ctrend_windows})


#: battle events by source and the identity of the tables they were read from (the tables are kept
#: alive with them, so an id cannot be reused while its entry exists)
_EVENTS: dict[tuple, tuple[pd.DataFrame, list]] = {}


def battle_events(tables: Mapping[str, pd.DataFrame], source: str) -> pd.DataFrame:
    """:func:`coalitions.weisiger.trends.battle_events`, read once per source and set of tables."""
    from . import trends

    names = ["cow_war_participants", *trends.required_tables(source), "cdb90_actors", "cdb90_corrections"]
    objs = [tables[n] for n in names if n in tables]
    key = (source, tuple(id(o) for o in objs))
    hit = _EVENTS.get(key)
    if hit is None:
        if len(_EVENTS) > 8:
            _EVENTS.clear()
        hit = (trends.battle_events(tables, source), objs)
        _EVENTS[key] = hit
    return hit[0]


def build_steps(tables: Mapping[str, pd.DataFrame], participants: pd.DataFrame, coding,
                windows: list[int] | None = None, coverage: bool = True) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """(steps, coverage) from the battle data of ``coding.trend_source`` for ``windows`` (coverage None
    when not asked for: the periods need the steps only)."""
    from . import trends

    events = battle_events(tables, trend_source_used(tables, coding))
    units = participants
    steps = trends.trend_steps(events, units, list(windows or coding.trend_windows), coding.trend_empty_window)
    missing = [c for c in STEP_COLUMNS if c not in steps.columns]
    if missing:
        raise CoalitionsError(f"battlefield trends: the step table lacks column(s) {missing}")
    steps = steps[list(STEP_COLUMNS)].copy()
    steps["date"] = pd.to_datetime(steps["date"])
    steps["idvar"] = steps["idvar"].astype("int64")
    steps["window"] = steps["window"].astype("int64")
    return steps.sort_values(["idvar", "window", "date"], kind="stable").reset_index(drop=True), \
        (trends.coverage(events, units) if coverage else None)


_OFF = 200_000  # epoch days + _OFF > 0 for every date from 1420 on
_BIG = 1 << 19  # > the largest epoch day + _OFF of any date before 2400


class StepIndex:
    """Step functions by window and idvar, as sorted arrays (key = idvar * _BIG + day + _OFF)."""

    def __init__(self, steps: pd.DataFrame | None):
        self._w: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}
        if steps is None or steps.empty:
            return
        win = steps["window"].to_numpy(dtype=np.int64)
        idv = steps["idvar"].to_numpy(dtype=np.int64)
        day = steps["date"].to_numpy().astype("datetime64[D]").astype(np.int64)
        ct = steps["ctrend"].to_numpy(dtype=float)
        ot = steps["otrend"].to_numpy(dtype=float)
        order = np.lexsort((day, idv, win))
        win, idv, day, ct, ot = win[order], idv[order], day[order], ct[order], ot[order]
        key = idv * _BIG + day + _OFF
        ws, first = np.unique(win, return_index=True)
        last = np.r_[first[1:], len(win)]
        for w, lo, hi in zip(ws, first, last):
            self._w[int(w)] = (key[lo:hi], day[lo:hi], ct[lo:hi], ot[lo:hi])

    def window(self, window: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
        """(key, epoch day, ctrend, otrend) of every step of ``window``, sorted by idvar and day."""
        return self._w.get(int(window))

    def days(self, idvar: int, window: int) -> np.ndarray:
        """Epoch days on which the unit's value changes."""
        w = self._w.get(int(window))
        if w is None:
            return np.empty(0, dtype=np.int64)
        lo, hi = np.searchsorted(w[0], [int(idvar) * _BIG, (int(idvar) + 1) * _BIG])
        return w[1][lo:hi]

    def lookup(self, idvars: np.ndarray, window: int, kind: str, epoch_days: np.ndarray) -> np.ndarray:
        """The step function's value of unit ``idvars[i]`` on ``epoch_days[i]`` (NaN before its first step)."""
        out = np.full(len(epoch_days), np.nan)
        w = self._w.get(int(window))
        if w is None or not len(epoch_days):
            return out
        key, _, ct, ot = w
        q = np.asarray(idvars, dtype=np.int64) * _BIG + np.asarray(epoch_days, dtype=np.int64) + _OFF
        i = np.searchsorted(key, q, side="right") - 1
        ok = (i >= 0) & (key[np.maximum(i, 0)] // _BIG == np.asarray(idvars, dtype=np.int64))
        vals = ct if kind == "ctrend" else ot
        out[ok] = vals[i[ok]]
        return out

    def values(self, idvar: int, window: int, kind: str, epoch_days: np.ndarray) -> np.ndarray:
        """The step function's value on each epoch day (NaN before its first step)."""
        return self.lookup(np.full(len(epoch_days), int(idvar), dtype=np.int64), window, kind, epoch_days)


def _epoch(ts: pd.Timestamp) -> int:
    return int(np.datetime64(ts.date(), "D").astype(np.int64))


def step_boundaries(index: StepIndex, idvars, windows, war_start: pd.Timestamp) -> list[int]:
    """Day offsets from ``war_start`` on which a trend of one of ``idvars`` changes."""
    base = _epoch(war_start)
    out: set[int] = set()
    for i in idvars:
        for w in windows:
            out.update((index.days(i, w) - base).tolist())
    return sorted(out)


def step_values(index: StepIndex, idvars, window: int, kind: str, war_start: pd.Timestamp,
                days: np.ndarray) -> np.ndarray:
    """(M, S) values of the trend ``kind`` of each unit on each day offset (NaN for no idvar)."""
    base = _epoch(war_start)
    out = np.full((len(idvars), len(days)), np.nan)
    for m, i in enumerate(idvars):
        if i is None or (isinstance(i, float) and np.isnan(i)):
            continue
        out[m] = index.values(int(i), window, kind, days + base)
    return out


def attach_window(periods: pd.DataFrame, index: StepIndex, kind: str, window: int) -> pd.DataFrame:
    """A copy of ``periods`` with the column ``<kind><window>``, each record split at its steps.

    A record covering days ``wstart .. wstop-1`` (``date_from .. date_to``) is cut at every day on
    which the unit's trend changes; the pieces keep the record's other values, the analysis-time
    bounds shift with them, ``firstobs`` stays on the first piece and ``finalobs``, ``withdraw`` on
    the last.
    """
    col = f"{kind}{window}"
    if periods.empty:
        return periods.assign(**{col: pd.Series(dtype=float)})
    idv = periods["idvar"].to_numpy(dtype=np.int64)
    d0 = periods["date_from"].to_numpy().astype("datetime64[D]").astype(np.int64)
    d1 = periods["date_to"].to_numpy().astype("datetime64[D]").astype(np.int64)
    w = index.window(window)
    if w is None:
        return periods.assign(**{col: np.nan})
    key, sday = w[0], w[1]
    # the steps of each record's unit strictly after its first day and not after its last
    lo = np.searchsorted(key, idv * _BIG + d0 + _OFF, side="right")
    hi = np.searchsorted(key, idv * _BIG + d1 + _OFF, side="right")
    ncut = hi - lo
    reps = ncut + 1
    rows = np.repeat(np.arange(len(periods)), reps)
    first_of = np.cumsum(reps) - reps
    pos = np.arange(len(rows)) - np.repeat(first_of, reps)  # 0 = the record's first piece
    cut_lo = np.repeat(lo, reps)
    n = np.repeat(ncut, reps)
    piece_from = np.where(pos == 0, d0[rows], sday[np.minimum(cut_lo + pos - 1, len(sday) - 1)])
    piece_to = np.where(pos == n, d1[rows], sday[np.minimum(cut_lo + pos, len(sday) - 1)] - 1)
    first_piece, last_piece = pos == 0, pos == n
    out = periods.iloc[rows].reset_index(drop=True)
    shift_from = piece_from - d0[rows]
    shift_to = piece_to - d1[rows]
    for c in ("wstart", "start"):
        if c in out.columns:
            out[c] = np.where(first_piece, out[c].to_numpy(), out[c].to_numpy() + shift_from).astype("int64")
    for c in ("wstop", "stop", "warday"):
        if c in out.columns:
            out[c] = (out[c].to_numpy() + shift_to).astype("int64")
    out["date_from"] = pd.to_datetime(piece_from.astype("datetime64[D]"))
    out["date_to"] = pd.to_datetime(piece_to.astype("datetime64[D]"))
    if "firstobs" in out.columns:
        out["firstobs"] = np.where(first_piece, out["firstobs"].to_numpy(), 0).astype("int64")
    for c in ("finalobs", "withdraw"):
        if c in out.columns:
            out[c] = np.where(last_piece, out[c].to_numpy(), 0).astype(out[c].dtype)
    out[col] = index.lookup(idv[rows], window, kind, piece_from)
    return out


def attach_terms(periods: pd.DataFrame, index: StepIndex, names) -> pd.DataFrame:
    """``periods`` with every trend column of ``names`` that it lacks attached (see attach_window)."""
    out = periods
    for n in names:
        t = trend_term(n)
        if t is not None and n not in out.columns:
            out = attach_window(out, index, t[0], t[1])
    return out

"""Look-ups from the public source tables for the rebuilt Weisiger covariates.

* NMC capabilities by state-year, with missing values filled from the nearest year with data;
* polity2 by state-year;
* Archigos leaders, which are keyed by Gleditsch-Ward codes: :func:`cow_to_gw` maps a COW code on a
  date to the GW code Archigos uses;
* ATOP defense/offense pacts by directed dyad-year;
* coalition history: for every pair of states, the start of the first COW war in which they fought
  on the same side.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

_GERMANY_UNIFIED = pd.Timestamp("1990-10-03")
_YUGOSLAVIA_FORMED = pd.Timestamp("1918-12-01")
_SERBIA_AGAIN = pd.Timestamp("2006-06-05")


def cow_to_gw(ccode: int, date: pd.Timestamp) -> int:
    """The Gleditsch-Ward code of COW state ``ccode`` on ``date`` (for Archigos).

    Known differences between the two lists (Gleditsch & Ward 1999; Archigos 4.1 uses GW):

    * Germany: COW 255 is Prussia/Germany to 1945 *and* united Germany from 3 Oct 1990; GW keeps 255
      to 1945 and gives West and united Germany 260 (COW's 260 is West Germany 1955-1990).
    * Serbia/Yugoslavia: COW 345 from 1878 to 2006 (Serbia, then Yugoslavia); GW 340 for Serbia to
      1918 and after June 2006, 345 for Yugoslavia in between.
    * Yemen: COW 679 (united Yemen from 1990); GW keeps 678 for North and united Yemen.
    * Vietnam: COW 816 (North/united) and 817 (South) are the same in GW.
    """
    c = int(ccode)
    if c == 255:
        return 260 if date >= _GERMANY_UNIFIED else 255
    if c == 345:
        return 345 if _YUGOSLAVIA_FORMED <= date < _SERBIA_AGAIN else 340
    if c == 679:
        return 678
    return c


def nearest_fill(df: pd.DataFrame, cols: Iterable[str], needed: pd.DataFrame, max_gap: int) -> pd.DataFrame:
    """Values of ``cols`` for every needed (ccode, year), filled from the nearest year with data.

    ``df`` has ccode, year and ``cols``; ``needed`` has ccode, year. A missing value takes the
    state's value of the nearest year (the earlier one on a tie) no more than ``max_gap`` years
    away; otherwise it stays missing. Returns needed's rows with ``cols`` and, for each column,
    ``<col>_filled`` (True where the value came from another year).
    """
    cols = list(cols)
    need = needed[["ccode", "year"]].drop_duplicates().astype("int64")
    if need.empty:
        return need.assign(**{c: np.nan for c in cols}, **{f"{c}_filled": False for c in cols})
    codes = need["ccode"].unique()
    lo, hi = int(need["year"].min()) - max_gap, int(need["year"].max()) + max_gap
    src = df.loc[df["ccode"].isin(codes) & df["year"].between(lo, hi), ["ccode", "year", *cols]].copy()
    src["ccode"] = src["ccode"].astype("int64")
    src["year"] = src["year"].astype("int64")
    grid = pd.MultiIndex.from_product([codes, np.arange(lo, hi + 1)], names=["ccode", "year"])
    g = src.set_index(["ccode", "year"]).reindex(grid).sort_index()
    out = need.set_index(["ccode", "year"])
    for c in cols:
        s = g[c].astype(float)
        have = s.notna()
        yr = pd.Series(g.index.get_level_values("year"), index=g.index, dtype=float)
        src_year = yr.where(have)
        prev_y = src_year.groupby(level="ccode").ffill()
        next_y = src_year.groupby(level="ccode").bfill()
        prev_v = s.groupby(level="ccode").ffill()
        next_v = s.groupby(level="ccode").bfill()
        d_prev = yr - prev_y
        d_next = next_y - yr
        use_prev = d_prev.notna() & ((d_next.isna()) | (d_prev <= d_next))
        val = np.where(use_prev, prev_v, np.where(d_next.notna(), next_v, np.nan))
        dist = np.where(use_prev, d_prev, d_next)
        val = np.where(np.nan_to_num(dist, nan=np.inf) <= max_gap, val, np.nan)
        filled = pd.Series(val, index=g.index)
        out[c] = filled.reindex(out.index).to_numpy()
        out[f"{c}_filled"] = (~have.reindex(out.index).to_numpy()) & out[c].notna().to_numpy()
    return out.reset_index()


def alliance_lookup(atop: pd.DataFrame, ccodes: Iterable[int]) -> set[tuple[int, int, int]]:
    """Directed dyad-years (ccode1, ccode2, year) with an ATOP defense or offense pact."""
    codes = set(int(c) for c in ccodes)
    a = atop.loc[(atop["atop_defense"].astype(int).eq(1) | atop["atop_offense"].astype(int).eq(1))
                 & atop["ccode1"].isin(codes) & atop["ccode2"].isin(codes), ["ccode1", "ccode2", "year"]]
    return set(map(tuple, a.astype("int64").to_numpy().tolist()))


def coalition_history(war: pd.DataFrame) -> dict[tuple[int, int], pd.Timestamp]:
    """For every pair of states that fought on the same side of a COW war: the earliest such war's start.

    The war's start is its first participant's entry date. Both orders (a, b) and (b, a) are keys.
    """
    w = war.rename(columns={"war_num": "warnum"})[["warnum", "ccode", "side", "start1"]].copy()
    w["ccode"] = w["ccode"].astype("int64")
    w["war_start"] = w.groupby("warnum")["start1"].transform("min")
    pairs = w.merge(w, on=["warnum", "side"], suffixes=("_a", "_b"))
    pairs = pairs[pairs["ccode_a"] != pairs["ccode_b"]]
    first = pairs.groupby(["ccode_a", "ccode_b"])["war_start_a"].min()
    return {(int(a), int(b)): t for (a, b), t in first.items()}

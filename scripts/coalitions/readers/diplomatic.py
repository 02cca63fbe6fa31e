"""Reader for the COW Diplomatic Exchange data, v2006.1 (Bayer 2006): directed dyad-years.

The file (``Diplomatic_Exchange_2006v1.csv``) has CRLF line endings, a quoted header and seven columns:
``ccode1, ccode2, year, DR_at_1, DR_at_2, DE, version``. Facts from its codebook (documentation of
18 May 2007) that the table is checked against:

* ``DR_at_1`` is the level of side 2's representation at side 1, ``DR_at_2`` the level of side 1's at
  side 2: 0 no evidence of diplomatic exchange, 1 chargé d'affaires, 2 minister, 3 ambassador, 9 other
  (interest sections, interests served by another country, address only, temporary embassy closings,
  consulate-generals).
* ``DE`` = 1 when either side is represented at the other at level 1, 2 or 3; in 1950-1965, when the
  level was not recorded and every exchange is coded 9, a 9 counts as representation too.
* Waves: 1817, 1824, 1827, 1832, 1836, 1840, every five years 1844-1914, 1920-1940 and 1950-2005
  (no 1945 wave: the gap after 1940 is ten years).
* From 1985 only resident accreditations are recorded (non-resident ambassadors are not counted), so
  levels before 1985 are more inclusive than after.
* ``version`` is stored as a single-precision float (2006.0999755859375 for 2006.1).

The data are directed: each dyad-year (a, b) has its mirror (b, a) with ``DR_at_1(a, b) = DR_at_2(b, a)``
(and the same ``DE``). The table's checks enforce the mirror, the code sets, the waves, the ``DE`` rule and
the all-9 coding of 1950-1965: a file that breaks any of them is refused with the rows that break it (the
v2006.1 release satisfies every one; the consumers read one direction and rely on the mirror).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..fetch import read_bytes_normalised
from ..schema import Col, TableSchema
from .common import to_int

#: the waves of v2006.1 (codebook): no 1945 wave
WAVES: tuple[int, ...] = (1817, 1824, 1827, 1832, 1836, 1840, *range(1844, 1915, 5), *range(1920, 1941, 5),
                          *range(1950, 2006, 5))
#: representation codes (codebook): level of one side's representation at the other
LEVELS = {0: "no evidence of diplomatic exchange", 1: "chargé d'affaires", 2: "minister", 3: "ambassador",
          9: "other (interest section, interests served by another country, address only, temporary "
             "closing, consulate-general)"}
#: waves in which every exchange is coded 9 (the level was not recorded)
LEVEL_UNRECORDED = (1950, 1965)
#: from this wave on only resident accreditations are recorded
RESIDENT_ONLY_FROM = 1985
VERSION = 2006.0999755859375


def represented(code: pd.Series | np.ndarray, year: pd.Series | np.ndarray) -> np.ndarray:
    """Whether a representation code counts as representation (the codebook's ``DE`` rule, one direction):
    levels 1-3, or 9 in the waves 1950-1965 where levels were not recorded."""
    c = np.asarray(code, dtype=float)
    y = np.asarray(year, dtype=float)
    lo, hi = LEVEL_UNRECORDED
    return np.isin(c, (1, 2, 3)) | ((c == 9) & (y >= lo) & (y <= hi))


def _complete(check):
    """Run a cross-row check only on complete rows of the right columns (the column checks report the rest)."""
    cols = ["ccode1", "ccode2", "year", "dr_at_1", "dr_at_2", "de"]

    def run(df: pd.DataFrame) -> str | None:
        if any(c not in df.columns for c in cols) or df[cols].isna().any().any():
            return None
        return check(df.astype({c: "int64" for c in cols}))

    run.__name__ = check.__name__
    return run


def _show(df: pd.DataFrame, mask, n: int = 5) -> str:
    return df.loc[mask, ["ccode1", "ccode2", "year", "dr_at_1", "dr_at_2", "de"]].head(n).to_string()


def _check_mirror(df: pd.DataFrame) -> str | None:
    """Each directed dyad-year (a, b) has its mirror (b, a) with DR_at_1(a, b) = DR_at_2(b, a), same DE."""
    keys = ["ccode1", "ccode2", "year"]
    rev = df.rename(columns={"ccode1": "ccode2", "ccode2": "ccode1", "dr_at_1": "m_dr_at_2", "dr_at_2": "m_dr_at_1",
                             "de": "m_de"})[keys + ["m_dr_at_1", "m_dr_at_2", "m_de"]]
    m = df[keys + ["dr_at_1", "dr_at_2", "de"]].merge(rev, on=keys, how="left")
    missing = m["m_de"].isna().to_numpy()
    if missing.any():
        return (f"{int(missing.sum())} directed dyad-year(s) have no mirror (b, a) row; the file is not the "
                f"directed v2006.1 release:\n" + _show(df, missing))
    bad = ((m["dr_at_1"] != m["m_dr_at_1"]) | (m["dr_at_2"] != m["m_dr_at_2"]) | (m["de"] != m["m_de"])).to_numpy()
    if bad.any():
        return (f"{int(bad.sum())} directed dyad-year(s) disagree with their mirror (DR_at_1(a,b) must equal "
                f"DR_at_2(b,a), and DE be the same):\n" + _show(df, bad))
    return None


def _check_de_rule(df: pd.DataFrame) -> str | None:
    want = (represented(df["dr_at_1"], df["year"]) | represented(df["dr_at_2"], df["year"])).astype(int)
    bad = want != df["de"].to_numpy(dtype=int)
    if bad.any():
        return (f"{int(bad.sum())} row(s) break the codebook's DE rule (DE = 1 iff either side is represented at "
                f"level 1-3, or 9 in 1950-1965):\n" + _show(df, bad))
    return None


def _check_unrecorded_levels(df: pd.DataFrame) -> str | None:
    lo, hi = LEVEL_UNRECORDED
    in_period = df["year"].between(lo, hi)
    bad = (in_period & (~df["dr_at_1"].isin([0, 9]) | ~df["dr_at_2"].isin([0, 9]))).to_numpy()
    if bad.any():
        return (f"{int(bad.sum())} row(s) of 1950-1965 carry a level 1-3; the codebook codes every exchange of "
                f"those waves 9:\n" + _show(df, bad))
    return None


def _check_self_dyads(df: pd.DataFrame) -> str | None:
    bad = (df["ccode1"] == df["ccode2"]).to_numpy()
    return f"{int(bad.sum())} row(s) pair a state with itself:\n" + _show(df, bad) if bad.any() else None


SCHEMA = TableSchema(
    name="cow_diplomatic_exchange",
    description="COW Diplomatic Exchange v2006.1, directed dyad-years (waves 1817-2005). dr_at_1: side 2's "
                "representation at side 1; dr_at_2: side 1's at side 2 (0 none, 1 charge d'affaires, 2 minister, "
                "3 ambassador, 9 other); de: either side represented (levels 1-3, or 9 in 1950-1965).",
    key=("ccode1", "ccode2", "year"),
    columns={
        "ccode1": Col("int", False, 2, 999, description="COW code of side 1"),
        "ccode2": Col("int", False, 2, 999, description="COW code of side 2"),
        "year": Col("int", False, allowed=WAVES, description="wave year"),
        "dr_at_1": Col("int", False, allowed=tuple(LEVELS), description="level of side 2's representation at side 1"),
        "dr_at_2": Col("int", False, allowed=tuple(LEVELS), description="level of side 1's representation at side 2"),
        "de": Col("int", False, allowed=(0, 1), description="any diplomatic exchange (codebook's DE)"),
        "version": Col("float", False, 2006.09, 2006.11, description="release (2006.1, stored as float32)"),
    },
    strict=True,
    checks=tuple(_complete(c) for c in (_check_self_dyads, _check_mirror, _check_de_rule, _check_unrecorded_levels)),
)


def read_diplomatic_exchange(path: str) -> pd.DataFrame:
    """The CSV (CRLF line endings normalised, quoted header) as a typed table; codes kept as published."""
    raw = pd.read_csv(read_bytes_normalised(path), dtype=str, keep_default_na=False)
    def _float(v: str) -> float:  # exact (round-trip) parsing: pandas' fast parser is off in the last bit
        try:
            return float(v)
        except ValueError:
            return float("nan")

    version = raw["version"].map(_float).astype(float)
    return pd.DataFrame({
        "ccode1": to_int(raw["ccode1"]), "ccode2": to_int(raw["ccode2"]), "year": to_int(raw["year"]),
        "dr_at_1": to_int(raw["DR_at_1"]), "dr_at_2": to_int(raw["DR_at_2"]), "de": to_int(raw["DE"]),
        "version": version,
    })

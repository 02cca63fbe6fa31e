"""Helpers shared by the dataset readers."""

from __future__ import annotations

from typing import Iterable

import pandas as pd

from ..util import CoalitionsError


def to_int(s: pd.Series) -> pd.Series:
    """Whole numbers as a nullable integer column (Int64); non-integral values are an error."""
    v = pd.to_numeric(s, errors="coerce")
    ok = v.notna()
    frac = ok & (v != v.where(ok, 0).round())
    if frac.any():
        raise CoalitionsError(f"column '{s.name}' has non-integer values: {v[frac].head().tolist()}")
    return v.where(ok, 0).round().astype("Int64").mask(~ok)


def codes_to_na(s: pd.Series, codes: Iterable[float]) -> pd.Series:
    """Turn the source's missing-value codes (COW: -9 unknown, -8 not applicable, ...) into NA."""
    v = pd.to_numeric(s, errors="coerce")
    return v.mask(v.isin(list(codes)))


def assemble_date(df: pd.DataFrame, year: str, month: str, day: str) -> pd.Series:
    """A date from year/month/day columns; missing where any part is missing or a code (< 1)."""
    parts = pd.DataFrame({
        "year": pd.to_numeric(df[year], errors="coerce"),
        "month": pd.to_numeric(df[month], errors="coerce"),
        "day": pd.to_numeric(df[day], errors="coerce"),
    })
    parts = parts.where(parts >= 1)
    ok = parts.notna().all(axis=1)
    out = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")
    if ok.any():
        out[ok] = pd.to_datetime(parts[ok].astype(int), errors="raise")
    return out


def read_rda(path: str) -> pd.DataFrame:
    """The single data frame inside an R data file."""
    import pyreadr

    try:
        res = pyreadr.read_r(path)
    except Exception as exc:  # pyreadr raises its own error types
        raise CoalitionsError(f"{path}: cannot read this R data file ({exc})") from None
    if len(res) != 1:
        raise CoalitionsError(f"{path}: expected one data frame, found {list(res)}")
    return next(iter(res.values()))

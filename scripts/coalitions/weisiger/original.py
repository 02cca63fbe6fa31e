"""The ORIGINAL-archive track: Weisiger's own ``coalition_exit_final.dta``, as Stata would use it.

The file has one record per participant-period: a participant is a country in a war (``idvar``),
``warday`` is the day of the war at which the record ends, ``finalobs`` marks the participant's
last record and ``withdraw`` (or ``volunt``) is 1 on the record at whose end the country abandoned
its coalition. The author's do-file declares the data with ``stset warday, id(idvar) f(withdraw)``,
so each record covers the time interval

    (warday of the participant's previous record, its own warday]

and a participant's first record starts at day 0. :func:`build_periods` constructs exactly these
``(start, stop]`` intervals (the counting-process form that :func:`coalitions.estimators.fit_cox`
takes); :func:`read_archive` reads the file, checks that it holds what the models need and returns
the periods with a table of variables in the same shape as the rebuilt track's (every variable
here has status ``"original"``).

A file made by :mod:`coalitions.weisiger.synthetic` carries the marker
:data:`SYNTHETIC_MARKER` in its Stata data label; :func:`read_archive` sets ``is_synthetic`` so
that no result computed from it can be taken for a replication of the article.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from ..schema import Col, TableSchema
from ..util import LOG, CoalitionsError
from .specs import ModelSpec, required_columns

__all__ = [
    "SYNTHETIC_MARKER",
    "ID",
    "TIME",
    "STRUCTURE_COLUMNS",
    "BINARY_COLUMNS",
    "OriginalArchive",
    "read_archive",
    "read_dta",
    "check_columns",
    "build_periods",
    "variables_table",
    "PERIODS_SCHEMA",
    "VARIABLES_SCHEMA",
    "VARIABLE_STATUSES",
]

#: written into the Stata data label (and a variable label) of every synthetic test archive
SYNTHETIC_MARKER = "SYNTHETIC TEST DATA - not Weisiger's archive"
ID = "idvar"
TIME = "warday"
#: columns without which no record can be placed in time or attributed to a participant
STRUCTURE_COLUMNS = (ID, TIME, "finalobs")
#: 0/1 codes; a missing withdraw/volunt is a censored record (Stata's rule for failure variables)
BINARY_COLUMNS = ("withdraw", "volunt", "finalobs")
#: statuses of a variable in a track (shared with the rebuilt track)
VARIABLE_STATUSES = ("original", "rebuilt", "proxy", "not_available")

PERIODS_SCHEMA = TableSchema(
    name="weisiger_original_periods",
    description="Weisiger's participant-periods with their (start, stop] intervals in war days",
    columns={
        ID: Col("number", nullable=False, description="participant (country in a war)"),
        "start": Col("number", nullable=False, min=0, description="previous record's warday (0 for the first)"),
        "stop": Col("number", nullable=False, min=0, description="the record's warday"),
        "finalobs": Col("number", nullable=False, allowed=(0, 1), description="1 on the last record"),
    },
    key=(ID, "stop"),
    checks=(lambda d: None if (d["stop"] > d["start"]).all() else "some record has stop <= start",),
)

VARIABLES_SCHEMA = TableSchema(
    name="weisiger_variables",
    description="Status of each variable in a track: original / rebuilt / proxy / not_available",
    columns={
        "variable": Col("str", nullable=False),
        "label": Col("str", nullable=False),
        "status": Col("str", nullable=False, allowed=VARIABLE_STATUSES),
        "note": Col("str", nullable=False),
        "column": Col("str", nullable=False),
    },
    key=("variable",),
    strict=True,
)


@dataclass(frozen=True)
class OriginalArchive:
    """What :func:`read_archive` returns.

    ``periods``: one row per record, sorted by ``idvar`` and ``warday``, with ``start``/``stop``
    and every original column. ``variables``: variable, label, status (``"original"``), note, column.
    ``is_synthetic``: the file is a synthetic test archive, NOT the author's data.
    """

    path: str
    periods: pd.DataFrame
    variables: pd.DataFrame
    is_synthetic: bool
    data_label: str

    @property
    def n_subjects(self) -> int:
        return int(self.periods[ID].nunique())


def read_dta(path: str | os.PathLike) -> tuple[pd.DataFrame, str, dict[str, str]]:
    """Read a Stata file: (data, data label, variable labels). Value labels are NOT applied, so
    coded variables stay numeric as the do-file uses them."""
    path = Path(path)
    if not path.is_file():
        raise CoalitionsError(f"{path}: Weisiger's archive file not found (fetch it from doi:10.7910/DVN/DUFHM1)")
    try:
        with pd.read_stata(path, iterator=True, convert_categoricals=False, convert_missing=False,
                           preserve_dtypes=True) as reader:
            df = reader.read()
            label = reader.data_label or ""
            vlabels = dict(reader.variable_labels())
    except (ValueError, OSError, EOFError, UnicodeDecodeError) as exc:
        raise CoalitionsError(f"{path}: not a readable Stata .dta file ({type(exc).__name__}: {exc})") from None
    return df, label, vlabels


def check_columns(df: pd.DataFrame, specs: Iterable[ModelSpec] = (), origin: str = "") -> None:
    """Every column a model needs exists and is numeric; else an error naming the columns and models."""
    where = origin or "Weisiger archive"
    need = required_columns(specs)
    for c in STRUCTURE_COLUMNS:
        need.setdefault(c, []).insert(0, "(interval construction)")
    missing = {c: ids for c, ids in need.items() if c not in df.columns}
    if missing:
        lines = [f"  {c}: needed by {', '.join(ids[:6])}{' ...' if len(ids) > 6 else ''} ({len(ids)} model(s))"
                 for c, ids in sorted(missing.items())]
        raise CoalitionsError(f"{where}: {len(missing)} column(s) the models need are missing:\n" + "\n".join(lines)
                              + "\nIs this Weisiger's coalition_exit_final.dta?")
    bad = {c: str(df[c].dtype) for c in need
           if not (pd.api.types.is_numeric_dtype(df[c].dtype) and not pd.api.types.is_bool_dtype(df[c].dtype))}
    if bad:
        raise CoalitionsError(f"{where}: column(s) must be numeric: {bad} (value labels applied? read with "
                              "convert_categoricals=False)")


def _rows(idx: Iterable[int]) -> str:
    return ", ".join(str(int(i) + 1) for i in idx)


def build_periods(df: pd.DataFrame, origin: str = "") -> pd.DataFrame:
    """The ``(start, stop]`` interval of every record, as ``stset warday, id(idvar)`` defines it.

    Records are ordered by ``idvar`` and ``warday`` (Stata sorts the same way); ``stop`` is the
    record's ``warday`` and ``start`` the ``warday`` of the same participant's previous record, 0 for
    its first record. Errors (naming the participant and the 1-based row of the file): missing
    ``idvar``/``warday``; two records of one participant ending on the same day (equal to the previous
    record's warday: the interval would be empty); a first record ending on or before day 0;
    ``finalobs`` not 0/1 or not exactly one ``finalobs == 1`` per participant; ``withdraw``/``volunt``
    not 0/1. Returns a new frame: all original columns plus ``start`` and ``stop``.
    """
    where = origin or "Weisiger archive"
    for c in STRUCTURE_COLUMNS:
        if c not in df.columns:
            raise CoalitionsError(f"{where}: column {c!r} is missing; it is needed to build the intervals")
    for c in ("start", "stop"):
        if c in df.columns:
            raise CoalitionsError(f"{where}: the file already has a column {c!r}; it would be overwritten")
    ids = df[ID].to_numpy(dtype=float, na_value=np.nan)
    day = pd.to_numeric(df[TIME], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    for name, v in ((ID, ids), (TIME, day)):
        bad = np.flatnonzero(np.isnan(v))
        if bad.size:
            raise CoalitionsError(f"{where}: {bad.size} record(s) have a missing {name} (row(s) {_rows(bad[:10])}); "
                                  "every record needs a participant and a war day")
    for c in BINARY_COLUMNS:
        if c not in df.columns:
            continue
        v = df[c].to_numpy(dtype=float, na_value=np.nan)
        bad = np.flatnonzero(~(np.isin(v, (0.0, 1.0)) | (np.isnan(v) & (c != "finalobs"))))
        if bad.size:
            i = bad[0]
            raise CoalitionsError(f"{where}: {c} must be coded 0/1 (row {i + 1}, idvar {ids[i]:g}: {v[i]!r}; "
                                  f"{bad.size} record(s) in all)")

    order = np.lexsort((day, ids))  # by idvar, then warday; stable
    if not np.array_equal(order, np.arange(len(df))):
        LOG.info("%s: records are not in (idvar, warday) order in the file; sorted as Stata's stset does", where)
    sid, sday = ids[order], day[order]
    first = np.ones(len(df), dtype=bool)
    first[1:] = sid[1:] != sid[:-1]
    prev = np.empty_like(sday)
    prev[0] = 0.0
    prev[1:] = sday[:-1]
    start = np.where(first, 0.0, prev)

    bad = np.flatnonzero(~first & (sday <= start))
    if bad.size:
        j = bad[0]
        raise CoalitionsError(
            f"{where}: idvar {sid[j]:g}: the record in row {order[j] + 1} ends on warday {sday[j]:g}, not after the "
            f"participant's previous record (row {order[j - 1] + 1}, warday {start[j]:g}); two records of a "
            f"participant cannot end on the same day ({bad.size} such record(s) in all). Fix or drop the duplicate."
        )
    bad = np.flatnonzero(first & (sday <= 0))
    if bad.size:
        j = bad[0]
        raise CoalitionsError(
            f"{where}: idvar {sid[j]:g}: its first record (row {order[j] + 1}) ends on warday {sday[j]:g}; "
            "records cover (previous warday, warday] from day 0, so a first record must end after day 0"
        )

    fin = df["finalobs"].to_numpy(dtype=float)[order]
    codes, uniq = pd.factorize(sid, sort=False)
    nfin = np.bincount(codes, weights=(fin == 1).astype(float), minlength=len(uniq))
    badg = np.flatnonzero(nfin != 1)
    if badg.size:
        show = ", ".join(f"{uniq[g]:g} ({int(nfin[g])})" for g in badg[:8])
        raise CoalitionsError(f"{where}: every participant needs exactly one record with finalobs == 1; "
                              f"{badg.size} do not, e.g. idvar (count): {show}")
    last = np.ones(len(df), dtype=bool)
    last[:-1] = sid[1:] != sid[:-1]
    off = np.flatnonzero((fin == 1) & ~last)
    if off.size:
        LOG.warning("%s: for %d participant(s) finalobs == 1 is not on the last record (e.g. idvar %g)",
                    where, off.size, sid[off[0]])
    for c in ("withdraw", "volunt"):
        if c in df.columns:
            v = df[c].to_numpy(dtype=float, na_value=np.nan)[order]
            early = np.flatnonzero((v == 1) & ~last)
            if early.size:
                LOG.warning("%s: %d record(s) have %s == 1 before the participant's last record (e.g. idvar %g); "
                            "as in Stata, later records are not at risk for that outcome", where, early.size, c,
                            sid[early[0]])

    out = df.iloc[order].reset_index(drop=True)
    out.insert(0, "stop", sday)
    out.insert(0, "start", start)
    return out


def variables_table(columns: Iterable[str], *, labels: Mapping[str, str] | None = None,
                    stata_labels: Mapping[str, str] | None = None, synthetic: bool = False) -> pd.DataFrame:
    """variable / label / status / note / column for every column of the archive (status ``"original"``),
    the same shape as the rebuilt track's variables table."""
    labels = labels or {}
    stata_labels = stata_labels or {}
    rows = []
    for c in columns:
        parts = []
        if synthetic:
            parts.append(SYNTHETIC_MARKER)
        if c in labels:
            parts.append(f"table label: {labels[c]}")
        if stata_labels.get(c):
            parts.append(f"Stata label: {stata_labels[c]}")
        parts.append("as published in Weisiger's archive" if not synthetic else "generated")
        label = labels.get(c) or stata_labels.get(c) or str(c)
        if synthetic and SYNTHETIC_MARKER in label:
            label = str(c)
        rows.append({"variable": str(c), "label": label, "status": "original", "note": "; ".join(parts),
                     "column": str(c)})
    return pd.DataFrame(rows, columns=["variable", "label", "status", "note", "column"])


def read_archive(path: str | os.PathLike, specs: Iterable[ModelSpec] = (),
                 labels: Mapping[str, str] | None = None) -> OriginalArchive:
    """Read ``coalition_exit_final.dta``, check it against the models and build the periods.

    ``specs``: the models that will be run (their columns must all exist; the error lists the
    missing columns and which models need them). ``labels``: table labels for the variables table
    (e.g. ``load_model_config(...).labels()``).
    """
    path = Path(path)
    specs = list(specs)
    df, data_label, vlabels = read_dta(path)
    synthetic = SYNTHETIC_MARKER in data_label or any(SYNTHETIC_MARKER in (v or "") for v in vlabels.values())
    if synthetic:
        LOG.warning("%s is a SYNTHETIC test archive, not Weisiger's data", path)
    check_columns(df, specs, origin=str(path))
    periods = build_periods(df, origin=str(path))
    periods.attrs["is_synthetic"] = bool(synthetic)
    periods.attrs["source"] = str(path)
    variables = variables_table(df.columns, labels=labels, stata_labels=vlabels, synthetic=synthetic)
    return OriginalArchive(path=str(path), periods=periods, variables=variables, is_synthetic=synthetic,
                           data_label=data_label)

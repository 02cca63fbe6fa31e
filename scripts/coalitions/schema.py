"""Typed, validated tables.

Every intermediate table is written through :func:`write_table`, which checks it against a
:class:`TableSchema` (required columns and their types, unique key, ranges, allowed values,
missingness) and only then moves the parquet file into place. A violation raises an error that
names the table, the column and the first offending rows.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from .util import CoalitionsError, atomic_path, write_csv_atomic

_KINDS = {
    "int": lambda s: pd.api.types.is_integer_dtype(s.dtype),
    "float": lambda s: pd.api.types.is_float_dtype(s.dtype),
    "number": lambda s: pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype),
    "bool": lambda s: pd.api.types.is_bool_dtype(s.dtype),
    "str": lambda s: pd.api.types.is_string_dtype(s.dtype) or s.dtype == object,
    "date": lambda s: pd.api.types.is_datetime64_any_dtype(s.dtype),
    "any": lambda s: True,
}


@dataclass(frozen=True)
class Col:
    kind: str = "any"
    nullable: bool = True
    min: float | None = None
    max: float | None = None
    allowed: tuple[Any, ...] | None = None
    description: str = ""


@dataclass(frozen=True)
class TableSchema:
    name: str
    columns: dict[str, Col]
    key: tuple[str, ...] = ()
    rows: int | None = None  # exact number of rows, when the source fixes it
    min_rows: int = 1
    strict: bool = False  # no columns beyond those listed
    description: str = ""
    checks: tuple[Any, ...] = field(default_factory=tuple)  # callables df -> str|None


def _show(df: pd.DataFrame, mask: pd.Series, cols: Sequence[str], n: int = 5) -> str:
    rows = df.loc[mask, list(dict.fromkeys(c for c in cols if c in df.columns))].head(n)
    return rows.to_string(index=True, max_colwidth=40)


def validate(df: pd.DataFrame, schema: TableSchema, origin: str = "") -> pd.DataFrame:
    where = f"table '{schema.name}'" + (f" (from {origin})" if origin else "")
    problems: list[str] = []
    missing = [c for c in schema.columns if c not in df.columns]
    if missing:
        raise CoalitionsError(f"{where}: required column(s) missing: {missing}; got {list(df.columns)}")
    if schema.strict:
        extra = [c for c in df.columns if c not in schema.columns]
        if extra:
            problems.append(f"unexpected column(s) {extra}")
    if schema.rows is not None and len(df) != schema.rows:
        problems.append(f"expected {schema.rows} rows, found {len(df)}")
    if len(df) < schema.min_rows:
        problems.append(f"expected at least {schema.min_rows} rows, found {len(df)}")
    key_cols = list(schema.key)
    for name, col in schema.columns.items():
        s = df[name]
        if not _KINDS[col.kind](s):
            problems.append(f"column '{name}' should be {col.kind}, is {s.dtype}")
            continue
        na = s.isna()
        if not col.nullable and na.any():
            problems.append(f"column '{name}' has {int(na.sum())} missing value(s):\n"
                            + _show(df, na, key_cols + [name]))
        if col.min is not None or col.max is not None:
            v = pd.to_numeric(s, errors="coerce") if col.kind != "date" else s
            lo = col.min if col.min is not None else -np.inf
            hi = col.max if col.max is not None else np.inf
            if col.kind == "date":
                lo = pd.Timestamp(col.min) if col.min is not None else pd.Timestamp.min
                hi = pd.Timestamp(col.max) if col.max is not None else pd.Timestamp.max
            bad = (~na) & ((v < lo) | (v > hi))
            if bad.any():
                problems.append(f"column '{name}' has {int(bad.sum())} value(s) outside [{col.min}, {col.max}]:\n"
                                + _show(df, bad, key_cols + [name]))
        if col.allowed is not None:
            bad = (~na) & ~s.isin(list(col.allowed))
            if bad.any():
                problems.append(f"column '{name}' has {int(bad.sum())} value(s) not in {list(col.allowed)}:\n"
                                + _show(df, bad, key_cols + [name]))
    if key_cols:
        dup = df.duplicated(key_cols, keep=False)
        if dup.any():
            problems.append(f"key {key_cols} is not unique ({int(dup.sum())} rows):\n" + _show(df, dup, key_cols))
        knull = df[key_cols].isna().any(axis=1)
        if knull.any():
            problems.append(f"key {key_cols} has missing values:\n" + _show(df, knull, key_cols))
    for check in schema.checks:
        msg = check(df)
        if msg:
            problems.append(msg)
    if problems:
        raise CoalitionsError(f"{where} fails its schema:\n- " + "\n- ".join(problems))
    return df


def write_table(df: pd.DataFrame, path: str | os.PathLike, schema: TableSchema | None = None,
                origin: str = "") -> None:
    """Validate ``df`` (when a schema is given) and write it to parquet atomically."""
    if schema is not None:
        validate(df, schema, origin)
    df = df.reset_index(drop=True)
    with atomic_path(path, suffix=".parquet.partial") as tmp:
        df.to_parquet(tmp, index=False, engine="pyarrow", compression="zstd")


def coefficient_columns() -> dict[str, Col]:
    """The columns of a coefficient in both studies' estimates tables, in their order: estimate, standard
    error, test statistic, p-value and the 95% interval."""
    return {"estimate": Col("float"), "std_error": Col("float", min=0), "statistic": Col("float"),
            "p_value": Col("float", min=0, max=1), "conf_low": Col("float"), "conf_high": Col("float")}


#: the dtype of an empty column of each kind (:func:`empty_frame`)
_EMPTY_DTYPES = {"int": "Int64", "float": "float64", "number": "float64", "bool": "bool", "str": "object",
                 "date": "datetime64[ns]", "any": "object"}


def empty_frame(schema: TableSchema, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """A table with no rows whose columns (``columns``, else the schema's) have the schema's types."""
    cols = list(columns) if columns is not None else list(schema.columns)
    return pd.DataFrame({c: pd.Series(dtype=_EMPTY_DTYPES[schema.columns[c].kind] if c in schema.columns
                                      else "object") for c in cols})


def check_table(df: pd.DataFrame, schema: TableSchema, path: str | os.PathLike) -> None:
    """:func:`validate` ``df``, to be written to ``path``, with a one-line error naming the file, the table
    and the column(s) of every violation."""
    try:
        validate(df, schema, origin=str(path))
    except CoalitionsError as exc:
        lines = str(exc).splitlines()
        items = [line[2:] for line in lines[1:] if line.startswith("- ")]
        head = lines[0].removesuffix(":") if items else lines[0]
        raise CoalitionsError(f"{head}: {'; '.join(items)}; not written" if items
                              else f"{head}; not written") from None


def write_csv_tables(items: Sequence[tuple[pd.DataFrame, str | os.PathLike, TableSchema]], **kwargs: Any) -> None:
    """Check every ``(df, path, schema)`` (:func:`check_table`), then write each as CSV atomically
    (:func:`coalitions.util.write_csv_atomic`): a violation in any of them writes none."""
    for df, path, schema in items:
        check_table(df, schema, path)
    for df, path, _ in items:
        write_csv_atomic(df, path, **kwargs)


def write_csv_table(df: pd.DataFrame, path: str | os.PathLike, schema: TableSchema, **kwargs: Any) -> None:
    """One table: :func:`write_csv_tables` of ``[(df, path, schema)]``."""
    write_csv_tables([(df, path, schema)], **kwargs)


def read_table(path: str | os.PathLike, columns: Iterable[str] | None = None) -> pd.DataFrame:
    try:
        return pd.read_parquet(path, columns=list(columns) if columns is not None else None)
    except FileNotFoundError:
        raise CoalitionsError(f"{path}: table not found; build it with snakemake first") from None

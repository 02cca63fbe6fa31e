"""The hand-coded case files of the Henke replication, validated on load.

``config/cases/henke_operations.csv``
    One row per US-led multilateral operation: its dates, the states it was directed against
    (``targets``) and the states it defended or was deployed in (``hosts``). This is the project's list,
    not Henke's: her own list is in a Word file of her archive that could not be read here.
``config/cases/henke_contributors.csv``
    One row per state that joined an operation, each with its source. A state in the COW system at an
    operation's start that has no row here is coded as not having joined.

Lines starting with ``#`` are comments (the files explain themselves there). Every problem found is
reported at once, each with the file, the line and what to do; a file with any problem raises
:class:`~coalitions.util.CoalitionsError`.

What is checked: required columns (and no unknown ones, which are usually typos), non-empty ids and
sources, ISO dates, ``;``-separated COW country codes that exist in the COW state list and are in the
system at the operation's start, a state name that matches COW's name for the code (a cheap guard against
a mistyped code), duplicate rows, contributors to operations the operations file does not have, and
contributors that are the United States, a target or a host of the operation.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Iterable

import pandas as pd

from ..util import CoalitionsError

US = 2
OPERATION_COLUMNS = ("operation_id", "name", "start_date", "end_date", "targets", "hosts",
                     "contributors_list", "description", "source")
CONTRIBUTOR_COLUMNS = ("operation_id", "ccode", "state_name", "joined", "contribution", "certainty",
                       "source", "source_detail")
CONTRIBUTOR_LISTS = ("complete", "partial")
CONTRIBUTIONS = ("combat", "noncombat", "unspecified")
CERTAINTIES = ("confirmed", "single_source")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_MAX_SHOWN = 25


class _Problems:
    """Collects the problems of one file; raises them together."""

    def __init__(self, path: Path, what: str):
        self.path, self.what, self.items = path, what, []

    def add(self, line: int | None, msg: str) -> None:
        self.items.append(f"line {line}: {msg}" if line is not None else msg)

    def raise_if_any(self) -> None:
        if self.items:
            shown = self.items[:_MAX_SHOWN]
            more = f"\n- ... and {len(self.items) - _MAX_SHOWN} more" if len(self.items) > _MAX_SHOWN else ""
            raise CoalitionsError(
                f"{self.path}: {len(self.items)} problem(s) in the {self.what} case file; correct the "
                "rows named below (see the comment lines at the top of the file for the columns):\n- "
                + "\n- ".join(shown) + more
            )


def read_case_csv(path: str | Path, columns: Iterable[str], what: str) -> pd.DataFrame:
    """Read a case CSV (``#`` comment lines allowed) as strings, with a ``line`` column (1-based line in the file).

    Raises when the file is missing, has no header, lacks required columns or has unknown ones, or a
    record spans several lines (line numbers in messages would then be wrong).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CoalitionsError(f"{path}: {what} case file not found") from None
    except UnicodeDecodeError as exc:
        raise CoalitionsError(f"{path}: not UTF-8 text ({exc}); save the file as UTF-8") from None
    lines = text.splitlines()
    data_lines = [(i + 1, ln) for i, ln in enumerate(lines) if ln.strip() and not ln.lstrip().startswith("#")]
    if not data_lines:
        raise CoalitionsError(f"{path}: no header line; the first non-comment line must name the columns")
    rows = list(csv.reader(io.StringIO("\n".join(ln for _, ln in data_lines))))
    if len(rows) != len(data_lines):
        raise CoalitionsError(f"{path}: a quoted field spans several lines; keep every record on one line")
    header = [h.strip() for h in rows[0]]
    columns = tuple(columns)
    missing = [c for c in columns if c not in header]
    unknown = [c for c in header if c not in columns]
    if missing or unknown:
        raise CoalitionsError(
            f"{path} (line {data_lines[0][0]}): the header must have exactly the columns {list(columns)}; "
            f"missing {missing}, unknown {unknown}"
        )
    if len(set(header)) != len(header):
        raise CoalitionsError(f"{path} (line {data_lines[0][0]}): duplicated column names in {header}")
    records = []
    for (lineno, _), row in zip(data_lines[1:], rows[1:]):
        if len(row) != len(header):
            raise CoalitionsError(
                f"{path}, line {lineno}: {len(row)} fields, the header has {len(header)}; quote fields "
                "that contain commas"
            )
        rec = {h: v.strip() for h, v in zip(header, row)}
        rec["line"] = lineno
        records.append(rec)
    return pd.DataFrame.from_records(records, columns=[*columns, "line"])


def _parse_date(value: str) -> pd.Timestamp | None:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return None
    try:
        return pd.Timestamp(value)
    except ValueError:
        return None


def _parse_codes(value: str) -> tuple[int, ...] | None:
    if value == "":
        return ()
    parts = [p.strip() for p in value.split(";")]
    if not all(re.fullmatch(r"\d+", p) for p in parts):
        return None
    return tuple(int(p) for p in parts)


def in_system(states: pd.DataFrame, ccode: int, date: pd.Timestamp) -> bool:
    """Is ``ccode`` a member of the COW state system on ``date`` (COW state list spells, inclusive)?"""
    s = states[states["ccode"] == ccode]
    return bool(((s["start"] <= date) & (s["end"] >= date)).any())


def _cow_names(states: pd.DataFrame) -> dict[int, str]:
    return {int(c): str(n) for c, n in zip(states["ccode"], states["statenme"])}


def load_operations(path: str | Path, states: pd.DataFrame) -> pd.DataFrame:
    """Read and validate the operations file against the COW state list (``cow_states`` table).

    Returns one row per operation: ``start_date``/``end_date`` as timestamps (``end_date`` NaT when not
    sourced), ``targets``/``hosts`` as tuples of COW codes, and ``line`` (the file line, for messages).
    """
    path = Path(path)
    df = read_case_csv(path, OPERATION_COLUMNS, "operations")
    prob = _Problems(path, "operations")
    names = _cow_names(states)
    starts, ends, targets, hosts = [], [], [], []
    seen: dict[str, int] = {}
    for r in df.itertuples(index=False):
        ln, oid = r.line, r.operation_id
        where = f"operation '{oid}'"
        if not _ID.match(oid):
            prob.add(ln, f"operation_id '{oid}' must be lower-case letters, digits and '_' (starting with a letter)")
        if oid in seen:
            prob.add(ln, f"duplicate operation_id '{oid}' (first on line {seen[oid]}); ids must be unique")
        seen.setdefault(oid, ln)
        for col in ("name", "description", "source"):
            if not getattr(r, col):
                prob.add(ln, f"{where}: '{col}' is empty; every operation needs a {col}")
        start = _parse_date(r.start_date)
        if start is None:
            prob.add(ln, f"{where}: start_date '{r.start_date}' is not an ISO date (YYYY-MM-DD)")
        end = None
        if r.end_date:
            end = _parse_date(r.end_date)
            if end is None:
                prob.add(ln, f"{where}: end_date '{r.end_date}' is not an ISO date (YYYY-MM-DD) or empty")
            elif start is not None and end < start:
                prob.add(ln, f"{where}: end_date {r.end_date} is before start_date {r.start_date}")
        if r.contributors_list not in CONTRIBUTOR_LISTS:
            prob.add(ln, f"{where}: contributors_list '{r.contributors_list}' must be one of {list(CONTRIBUTOR_LISTS)}")
        parsed = {}
        for col in ("targets", "hosts"):
            codes = _parse_codes(getattr(r, col))
            if codes is None:
                prob.add(ln, f"{where}: {col} '{getattr(r, col)}' must be COW country codes separated by ';'")
                codes = ()
            for c in codes:
                if c == US:
                    prob.add(ln, f"{where}: the United States (2) cannot be in {col}")
                elif c not in names:
                    prob.add(ln, f"{where}: unknown COW country code {c} in {col}")
                elif start is not None and not in_system(states, c, start):
                    prob.add(ln, f"{where}: {col} state {c} ({names[c]}) is not in the COW system on {start.date()}")
            if len(set(codes)) != len(codes):
                prob.add(ln, f"{where}: {col} lists a country code twice")
            parsed[col] = codes
        both = set(parsed["targets"]) & set(parsed["hosts"])
        if both:
            prob.add(ln, f"{where}: code(s) {sorted(both)} are both target and host; list each state once")
        starts.append(start)
        ends.append(end)
        targets.append(parsed["targets"])
        hosts.append(parsed["hosts"])
    prob.raise_if_any()
    out = df.copy()
    out["start_date"] = pd.to_datetime(pd.Series(starts, index=df.index))
    out["end_date"] = pd.to_datetime(pd.Series(ends, index=df.index, dtype="object"))
    out["targets"] = targets
    out["hosts"] = hosts
    out["line"] = out["line"].astype(int)
    return out.reset_index(drop=True)


def load_contributors(path: str | Path, operations: pd.DataFrame, states: pd.DataFrame) -> pd.DataFrame:
    """Read and validate the contributors file against the (validated) operations and the COW state list."""
    path = Path(path)
    df = read_case_csv(path, CONTRIBUTOR_COLUMNS, "contributors")
    prob = _Problems(path, "contributors")
    names = _cow_names(states)
    ops = operations.set_index("operation_id")
    ccodes = []
    seen: dict[tuple[str, int], int] = {}
    for r in df.itertuples(index=False):
        ln, oid = r.line, r.operation_id
        code = int(r.ccode) if re.fullmatch(r"\d+", r.ccode) else None
        where = f"operation '{oid}', ccode {r.ccode}"
        ccodes.append(code)
        if oid not in ops.index:
            prob.add(ln, f"{where}: operation_id '{oid}' is not in the operations file; add the operation "
                         "there or correct the id")
        if code is None:
            prob.add(ln, f"{where}: ccode '{r.ccode}' is not a COW country code (a whole number)")
        elif code not in names:
            prob.add(ln, f"{where}: unknown COW country code {code}")
        else:
            if r.state_name != names[code]:
                prob.add(ln, f"{where}: state_name '{r.state_name}' differs from COW's name for {code} "
                             f"('{names[code]}'); check the code")
            if code == US:
                prob.add(ln, f"{where}: the United States leads the operations and is not a contributor")
            if oid in ops.index:
                op = ops.loc[oid]
                if code in op["targets"] or code in op["hosts"]:
                    role = "target" if code in op["targets"] else "host"
                    prob.add(ln, f"{where}: {names[code]} is a {role} of the operation and cannot be a contributor")
                if not in_system(states, code, op["start_date"]):
                    prob.add(ln, f"{where}: {names[code]} is not in the COW system on the operation's start "
                                 f"({op['start_date'].date()})")
            key = (oid, code)
            if key in seen:
                prob.add(ln, f"{where}: duplicate row (first on line {seen[key]}); one row per state and operation")
            seen.setdefault(key, ln)
        if r.joined != "1":
            prob.add(ln, f"{where}: joined must be 1 (the file lists contributors only), found '{r.joined}'")
        if r.contribution not in CONTRIBUTIONS:
            prob.add(ln, f"{where}: contribution '{r.contribution}' must be one of {list(CONTRIBUTIONS)}")
        if r.certainty not in CERTAINTIES:
            prob.add(ln, f"{where}: certainty '{r.certainty}' must be one of {list(CERTAINTIES)}")
        for col in ("source", "source_detail"):
            if not getattr(r, col):
                prob.add(ln, f"{where}: '{col}' is empty; every contributor row needs its {col}")
    prob.raise_if_any()
    out = df.copy()
    out["ccode"] = pd.array(ccodes, dtype="Int64")
    out["joined"] = 1
    out["line"] = out["line"].astype(int)
    return out.reset_index(drop=True)


def load_cases(operations_path: str | Path, contributors_path: str | Path,
               states: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both case files, validated: ``(operations, contributors)``."""
    ops = load_operations(operations_path, states)
    return ops, load_contributors(contributors_path, ops, states)

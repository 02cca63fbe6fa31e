"""Hand-coded, sourced case files of the rebuilt Weisiger track (``config/cases/weisiger_*.csv``).

COW dates alone get some coalition exits wrong. Where a documented rule cannot
see the truth, a small CSV file records the case by hand, and every row names its historical source,
so a reader can check each decision. Two files are known to the rebuild:

``weisiger_war_ending_exits.csv``
    Exits that ended the whole war and are therefore invisible in COW, where every member of the
    winning side ends on the same day (Weisiger's appendix: "withdrawal that results in war
    termination"; his do-file recodes every exit in wars 22, 28 and 155). Columns: warnum, ccode,
    side, exit_date (may be empty: the COW end date), coding ("abandonment" or "not_abandonment"),
    description, source.

``weisiger_not_exits.csv``
    Participants whose COW participation ends before their side's although they did not stop
    fighting (their forces fought on under a partner's command after their state merged into it).
    Columns: warnum, ccode, side, reason, description, source.

``weisiger_fronts.csv``
    The fronts of every participant, one row per participant x front x spell, from which
    ``foverlap`` is computed: read and checked by :mod:`coalitions.weisiger.fronts`.

The hand-coded variables' files (``weisiger_voluntary``, ``weisiger_separate_peace``,
``weisiger_leaders``, ``weisiger_integrated_command``, ``weisiger_war_aims``) are read and validated
by :mod:`coalitions.weisiger.handcoded`. Any other ``weisiger_*.csv`` file must at least have warnum,
ccode, side and source.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

import pandas as pd

from ..util import CoalitionsError
from .fronts import FRONTS, read_fronts, validate_fronts

WAR_ENDING_EXITS = "weisiger_war_ending_exits"
NOT_EXITS = "weisiger_not_exits"

#: columns every case file needs
COMMON_COLUMNS = ("warnum", "ccode", "side", "source")
#: columns of the case files the rebuild knows, in their file order
KNOWN_COLUMNS: dict[str, tuple[str, ...]] = {
    WAR_ENDING_EXITS: ("warnum", "ccode", "side", "exit_date", "coding", "description", "source"),
    NOT_EXITS: ("warnum", "ccode", "side", "reason", "description", "source"),
}
WAR_ENDING_CODINGS = ("abandonment", "not_abandonment")


def _fail(path: str, row: int | None, msg: str) -> CoalitionsError:
    where = f"{path}" + (f", row {row}" if row is not None else "")
    return CoalitionsError(f"{where}: {msg}")


def _row_no(i: int) -> int:
    """The file's line number of data row ``i`` (line 1 is the header)."""
    return i + 2


def validate_case_table(df: pd.DataFrame, name: str, origin: str,
                        war_participants: pd.DataFrame | None = None) -> pd.DataFrame:
    """Check one case table and return it with typed columns.

    Checks: required columns; warnum/ccode/side whole numbers; a non-empty ``source`` on every
    row; no duplicate (warnum, ccode, side); file-specific values (``coding``, ``exit_date``); and,
    when the COW war table is given, that each (warnum, ccode, side) is a COW war participant and
    any ``exit_date`` falls inside its participation.
    """
    required = KNOWN_COLUMNS.get(name, COMMON_COLUMNS)
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise _fail(origin, None, f"required column(s) missing: {missing}; the file has {list(df.columns)}. "
                                  f"Add them (header line) and fill every row.")
    out = df.copy()
    for c in ("warnum", "ccode", "side"):
        v = pd.to_numeric(out[c], errors="coerce")
        bad = v.isna() | (v != v.round())
        if bad.any():
            i = int(bad.to_numpy().nonzero()[0][0])
            raise _fail(origin, _row_no(i), f"column '{c}' must be a whole number, found {df[c].iloc[i]!r}")
        out[c] = v.astype("int64")
    bad_side = ~out["side"].isin([1, 2])
    if bad_side.any():
        i = int(bad_side.to_numpy().nonzero()[0][0])
        raise _fail(origin, _row_no(i), f"side must be 1 or 2, found {out['side'].iloc[i]}")
    src = out["source"].astype("string").str.strip()
    empty = src.isna() | (src == "")
    if empty.any():
        i = int(empty.to_numpy().nonzero()[0][0])
        raise _fail(origin, _row_no(i), "the 'source' column is empty: every hand-coded case must name its "
                                        "historical source (author, title, year)")
    out["source"] = src.astype(str)
    dup = out.duplicated(["warnum", "ccode", "side"], keep="first")
    if dup.any():
        i = int(dup.to_numpy().nonzero()[0][0])
        raise _fail(origin, _row_no(i), f"duplicate case for war {out['warnum'].iloc[i]}, ccode "
                                        f"{out['ccode'].iloc[i]}, side {out['side'].iloc[i]}; keep one row")
    for c in ("description", "reason", "coding"):
        if c in out.columns:
            out[c] = out[c].astype("string").fillna("").str.strip().astype(str)
    if name == WAR_ENDING_EXITS:
        bad = ~out["coding"].isin(WAR_ENDING_CODINGS)
        if bad.any():
            i = int(bad.to_numpy().nonzero()[0][0])
            raise _fail(origin, _row_no(i), f"coding must be one of {list(WAR_ENDING_CODINGS)}, "
                                            f"found {out['coding'].iloc[i]!r}")
        raw = out["exit_date"].astype("string").fillna("").str.strip()
        dates = pd.to_datetime(raw.where(raw != ""), format="%Y-%m-%d", errors="coerce")
        bad = (raw != "") & dates.isna()
        if bad.any():
            i = int(bad.to_numpy().nonzero()[0][0])
            raise _fail(origin, _row_no(i), f"exit_date must be YYYY-MM-DD or empty, found {raw.iloc[i]!r}")
        out["exit_date"] = dates
    if name == NOT_EXITS:
        bad = out["reason"] == ""
        if bad.any():
            i = int(bad.to_numpy().nonzero()[0][0])
            raise _fail(origin, _row_no(i), "the 'reason' column is empty")
    if war_participants is not None:
        check_cases_against_war(out, origin, war_participants)
    return out.reset_index(drop=True)


def check_cases_against_war(cases: pd.DataFrame, origin: str, war: pd.DataFrame) -> None:
    """Every (warnum, ccode, side) of a case file must be a participant of the COW war data."""
    w = war.rename(columns={"war_num": "warnum"})
    keys = w[["warnum", "ccode", "side"]].astype("int64")
    m = cases[["warnum", "ccode", "side"]].merge(keys.assign(_ok=True), how="left",
                                                  on=["warnum", "ccode", "side"])
    bad = m["_ok"].isna().to_numpy()
    if bad.any():
        i = int(bad.nonzero()[0][0])
        r = cases.iloc[i]
        in_war = w.loc[w["warnum"] == r["warnum"], ["ccode", "state_name", "side"]]
        hint = ("; participants of that war: " + ", ".join(
            f"{a} {b} (side {c})" for a, b, c in in_war.itertuples(index=False))) if len(in_war) else \
            "; there is no COW inter-state war with that number"
        raise _fail(origin, _row_no(i), f"war {r['warnum']}, ccode {r['ccode']}, side {r['side']} is not a "
                                        f"participant in the COW war data{hint}")
    if "exit_date" in cases.columns:
        m = cases.merge(w[["warnum", "ccode", "side", "start1", "end1", "end2"]], how="left",
                        on=["warnum", "ccode", "side"])
        last_end = m["end2"].fillna(m["end1"])
        bad = (m["exit_date"].notna() & ((m["exit_date"] < m["start1"]) | (m["exit_date"] > last_end))).to_numpy()
        if bad.any():
            i = int(bad.nonzero()[0][0])
            raise _fail(origin, _row_no(i), f"exit_date {m['exit_date'].iloc[i].date()} lies outside the COW "
                                            f"participation ({m['start1'].iloc[i].date()} to "
                                            f"{last_end.iloc[i].date()}) of war {m['warnum'].iloc[i]}, ccode "
                                            f"{m['ccode'].iloc[i]}")


def load_cases(folder: str | os.PathLike,
               war_participants: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """Read and validate every ``weisiger_*.csv`` case file of ``folder``.

    Returns ``{file stem: table}``. With ``war_participants`` (the clean COW war table) each case is
    also checked against the war data. Errors name the file and the row (its line number).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise CoalitionsError(f"{folder}: case folder not found (it should hold the weisiger_*.csv case files)")
    from .handcoded import HANDCODED_FILES, read_handcoded, validate_handcoded

    out: dict[str, pd.DataFrame] = {}
    for path in sorted(folder.glob("weisiger_*.csv")):
        if path.stem == FRONTS:  # many rows per participant: its own format and checks
            out[path.stem] = read_fronts(path)
            continue
        if path.stem in HANDCODED_FILES:
            if war_participants is None:
                raise CoalitionsError(f"{path}: the hand-coded case files are validated against the COW war data; "
                                      f"pass the war participants table")
            out[path.stem] = validate_handcoded(read_handcoded(path), path.stem, str(path), war_participants)
            continue
        from .case_guard import read_case_csv  # empty file, non-UTF-8 byte, bad line: file and line named

        df = read_case_csv(path)
        out[path.stem] = validate_case_table(df, path.stem, str(path), war_participants)
    return out


def validate_cases(cases: Mapping[str, pd.DataFrame], war: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Validate case tables handed over in memory (e.g. built in a test) against the war data.

    Hand-coded tables already validated by :func:`load_cases` (they carry ``_line``) pass as they are.
    """
    from .handcoded import HANDCODED_FILES, validate_handcoded

    out = {}
    for name, df in cases.items():
        if name in HANDCODED_FILES:
            typed = "_line" in df.columns and pd.api.types.is_integer_dtype(df.get("ccode", pd.Series(dtype=object)))
            out[name] = df if typed else validate_handcoded(df, name, f"case table '{name}'", war)
        elif name == "conquest_exits":
            out[name] = df
        elif name == FRONTS:  # checked against the rebuilt sample when the periods are built
            out[name] = df if "line" in df.columns else validate_fronts(df, f"case table '{name}'")
        else:
            out[name] = validate_case_table(df, name, f"case table '{name}'", war)
    return out

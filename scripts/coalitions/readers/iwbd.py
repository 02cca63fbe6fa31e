"""Reader for IWBD, the Interstate War Battle Dataset (Min 2021, Journal of Peace Research).

IWBD is an optional source: it is on Harvard Dataverse only (doi:10.7910/DVN/KLQFAP, registry source
``iwbd``), fetched and verified like the authors' archives into ``resources/original/iwbd/`` with a
``status.json`` that says whether it could be had. :func:`load_iwbd` reads it when it is there and
returns None (with the reason) when not; the battlefield trends then use CDB90.

The file has one row per battle with twelve columns: ``cowNum`` (COW war number), ``iwdNum``,
``warName``, ``battleName``, ``attacker``, ``defender`` (state names, or coalition names such as
"Allies" or "Central Powers"), ``startDate``, ``endDate``, ``battleLength`` (days), ``victor``,
``victorWarLevel`` and ``victorBattleLevel``. It has no casualties. The clean table keeps the
columns under their IWBD names (dates parsed, numbers typed) and adds ``battle_id`` (the row's
number in the file, from 1).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd

from ..fetch import read_bytes_normalised
from ..schema import Col, TableSchema, validate
from ..util import CoalitionsError
from .common import to_int

IWBD_COLUMNS = ("cowNum", "iwdNum", "warName", "battleName", "attacker", "defender", "startDate", "endDate",
                "battleLength", "victor", "victorWarLevel", "victorBattleLevel")
_MISSING = {"", "-9", "-8", "-9.0", "-8.0", "na", "n/a", "nan", "."}


def _check(df: pd.DataFrame) -> str | None:
    bad = df["endDate"].notna() & df["startDate"].notna() & (df["endDate"] < df["startDate"])
    if bad.any():
        return f"battles ending before they start: rows {df.loc[bad, 'battle_id'].head().tolist()}"
    return None


IWBD_SCHEMA = TableSchema(
    name="iwbd_battles",
    description="IWBD (Min 2021): one row per battle of a COW inter-state war, with attacker, defender, dates, victor.",
    key=("battle_id",),
    columns={
        "battle_id": Col("int", False, 1, description="row number in the IWBD file (from 1)"),
        "cowNum": Col("int", False, description="COW war number (-9 where IWBD has none)"),
        "iwdNum": Col("int", True, description="IWD parent-war number"),
        "warName": Col("str", True), "battleName": Col("str", False),
        "attacker": Col("str", False), "defender": Col("str", False),
        "startDate": Col("date", True, description="first day of the battle"),
        "endDate": Col("date", True, description="last day of the battle"),
        "battleLength": Col("int", True, 0, description="length in days"),
        "victor": Col("str", True), "victorWarLevel": Col("str", True), "victorBattleLevel": Col("str", True),
    },
    checks=(_check,),
)


def _text(s: pd.Series) -> pd.Series:
    t = s.astype(str).str.strip()
    return t.where(~t.str.lower().isin(_MISSING), None).astype(object)


def _dates(s: pd.Series, path: str) -> pd.Series:
    t = _text(s)
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    have = t.notna()
    if not have.any():
        return out
    for fmt in ("%Y-%m-%d", "%m/%d/%Y", "%d%b%Y", "%Y%m%d", "%Y-%m-%d %H:%M:%S"):
        parsed = pd.to_datetime(t[have], format=fmt, errors="coerce")
        if parsed.notna().all():
            out[have] = parsed
            return out
    parsed = pd.to_datetime(t[have], format="mixed", errors="coerce")
    bad = parsed.isna()
    if bad.any():
        i = bad[bad].index[0]
        raise CoalitionsError(f"{path}: column '{s.name}', row {i + 2}: '{t[i]}' is not a date; fetch iwbd again")
    out[have] = parsed
    return out


def read_iwbd(path: str) -> pd.DataFrame:
    """The IWBD file (CSV or tab-separated text, or Stata) as a typed, validated table."""
    p = Path(path)
    if p.suffix.lower() == ".dta":
        raw = pd.read_stata(p, convert_categoricals=False).astype(str)
    else:
        data = read_bytes_normalised(p).getvalue()
        text = data.decode("utf-8-sig", errors="strict") if _is_utf8(data) else data.decode("latin-1")
        head = text.split("\n", 1)[0]
        sep = "\t" if head.count("\t") > head.count(",") else ","
        raw = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    raw.columns = [str(c).strip() for c in raw.columns]
    missing = [c for c in IWBD_COLUMNS if c not in raw.columns]
    if missing:
        raise CoalitionsError(f"{path}: IWBD column(s) {missing} not found (found {list(raw.columns)}); this is "
                              f"not the IWBD release that config/sources.yaml names, fetch it again")
    num = lambda c: to_int(pd.to_numeric(_text(raw[c]), errors="raise").rename(c))  # noqa: E731
    try:
        df = pd.DataFrame({
            "battle_id": pd.Series(range(1, len(raw) + 1), dtype="int64"),
            "cowNum": num("cowNum").fillna(-9).astype("int64"),
            "iwdNum": num("iwdNum"),
            "warName": _text(raw["warName"]), "battleName": _text(raw["battleName"]),
            "attacker": _text(raw["attacker"]), "defender": _text(raw["defender"]),
            "startDate": _dates(raw["startDate"], path), "endDate": _dates(raw["endDate"], path),
            "battleLength": num("battleLength"),
            "victor": _text(raw["victor"]), "victorWarLevel": _text(raw["victorWarLevel"]),
            "victorBattleLevel": _text(raw["victorBattleLevel"]),
        })
    except ValueError as exc:
        raise CoalitionsError(f"{path}: a numeric IWBD column holds text ({exc}); fetch iwbd again") from None
    return validate(df, IWBD_SCHEMA, path)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def load_iwbd(archive_dir: str | Path, basename: str) -> tuple[pd.DataFrame | None, str | None]:
    """(table, None) when the fetched IWBD file is there, else (None, the reason from status.json)."""
    d = Path(archive_dir)
    try:
        status = json.loads((d / "status.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, f"{d / 'status.json'} is missing (IWBD was not fetched)"
    except json.JSONDecodeError as exc:
        raise CoalitionsError(f"{d / 'status.json'}: not JSON ({exc}); delete the folder and fetch IWBD again") from None
    if not status.get("available"):
        return None, str(status.get("reason") or "not available (no reason recorded)")
    f = d / basename
    if not f.is_file():
        raise CoalitionsError(f"{f}: status.json says IWBD is available but the file is missing; fetch it again")
    return read_iwbd(str(f)), None

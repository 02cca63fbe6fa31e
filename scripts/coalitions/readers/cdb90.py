"""Readers for CDB90, the CAA Database of Battles (tidy edition by J. B. Arnold), and its actor mapping.

One clean table per CDB90 file that the battlefield trends use (field meanings from the edition's
``datapackage.json``):

* ``cdb90_battles``: one row per battle (``isqno``) with its war, name, campaign, theatre
  (``war4_theater``, for the larger wars), COW war number (``cow_warno``, for battles of COW wars)
  and ``parent`` (the ``isqno`` of the battle it duplicates: a sub-battle of a battle that is also
  in the data);
* ``cdb90_belligerents``: one row per battle side (``attacker`` true/false) with the strength
  (``str``) and casualties (``cas``), which the file stores as text, read here as whole numbers
  (missing where the file has none), and the actors (states) of the side;
* ``cdb90_battle_actors``: the states on each battle side, one row each;
* ``cdb90_active_periods``: the dated phases of each battle (start and end, each as a minimum and a
  maximum time). The dates run from 1600, before the range of nanosecond timestamps, so they are
  kept at second resolution.

The actor mapping (``config/cases/cdb90_actors.csv``, :func:`read_actor_map`) gives each CDB90 actor
name its COW country code; an actor with no COW code (a polity before 1816, a non-state actor)
has an empty ``ccode`` and a note saying why. It is reviewed data: every row names its source and
carries a ``contested`` flag.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..fetch import read_bytes_normalised
from ..schema import Col, TableSchema, validate
from ..util import CoalitionsError
from .common import to_int

# ---------------------------------------------------------------------------------------------
# battles.csv

BATTLES_SCHEMA = TableSchema(
    name="cdb90_battles",
    description="CDB90 battles, one row per battle.",
    key=("isqno",),
    columns={
        "isqno": Col("int", False, 1, description="battle sequence (line or serial) number"),
        "war": Col("str", False, description="war in which the battle was fought (CDB90's name)"),
        "name": Col("str", False, description="name of battle"),
        "locn": Col("str", True, description="location"),
        "campgn": Col("str", True, description="campaign"),
        "war4": Col("str", True, description="war classification of the tidy edition (COW names after 1816)"),
        "war4_theater": Col("str", True, description="war theatre (only for the larger wars)"),
        "cow_warno": Col("int", True, 1, 1000, description="COW war number of the war of the battle"),
        "cow_warname": Col("str", True, description="COW war name of the war of the battle"),
        "parent": Col("int", True, 1, description="isqno of the battle this one duplicates (a sub-battle)"),
    },
)


def _text(s: pd.Series) -> pd.Series:
    """Stripped text; empty strings become missing."""
    out = s.astype("string").str.strip()
    return out.mask(out == "").astype(object).where(out.notna(), None)


def _read(path: str) -> pd.DataFrame:
    return pd.read_csv(read_bytes_normalised(path), dtype=str, keep_default_na=False, encoding="utf-8")


def _bool01(s: pd.Series, path: str) -> pd.Series:
    v = s.str.strip().str.lower()
    ok = v.isin(["0", "1", "true", "false"])
    if not ok.all():
        raise CoalitionsError(f"{path}: column '{s.name}' must be 0/1 (true/false), found "
                              f"{sorted(set(v[~ok]))[:5]}; fetch cdb90 again")
    return v.isin(["1", "true"])


def read_battles(path: str) -> pd.DataFrame:
    raw = _read(path)
    df = pd.DataFrame({
        "isqno": to_int(raw["isqno"]),
        "war": _text(raw["war"]),
        "name": _text(raw["name"]),
        "locn": _text(raw["locn"]),
        "campgn": _text(raw["campgn"]),
        "war4": _text(raw["war4"]),
        "war4_theater": _text(raw["war4_theater"]),
        "cow_warno": to_int(raw["cow_warno"]),
        "cow_warname": _text(raw["cow_warname"]),
        "parent": to_int(raw["parent"]),
    })
    return df.sort_values("isqno", kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# belligerents.csv


def _check_belligerents(df: pd.DataFrame) -> str | None:
    n = df.groupby("isqno")["attacker"].agg(["size", "sum"])
    bad = n[(n["size"] != 2) | (n["sum"] != 1)]
    if len(bad):
        return f"every battle needs one attacker and one defender row; not so for isqno {bad.index[:10].tolist()}"
    return None


BELLIGERENTS_SCHEMA = TableSchema(
    name="cdb90_belligerents",
    description="CDB90 belligerents, one row per battle side (strength and casualties as whole numbers).",
    key=("isqno", "attacker"),
    columns={
        "isqno": Col("int", False, 1, description="battle sequence number"),
        "attacker": Col("bool", False, description="the attacking side of the battle"),
        "nam": Col("str", True, description="designation of the forces"),
        "co": Col("str", True, description="commanders"),
        "str": Col("int", True, 0, description="total personnel strength (CDB90 'str', text in the file)"),
        "code": Col("float", True, description="how the total personnel strength is to be read"),
        "intst": Col("int", True, 0, description="initial personnel strength"),
        "rerp": Col("int", True, description="personnel reinforcements/replacements during battle"),
        "cas": Col("int", True, 0, description="battle casualties (CDB90 'cas', text in the file)"),
        "finst": Col("int", True, 0, description="personnel strength at battle's end"),
        "actors": Col("str", False, description="actor(s) of the side, separated by ' & '"),
    },
    checks=(_check_belligerents,),
)


def _whole(s: pd.Series, path: str) -> pd.Series:
    """Whole numbers stored as text; anything that is not a number (or empty) is an error."""
    t = s.str.strip().str.replace(",", "", regex=False)
    num = pd.to_numeric(t.mask(t == ""), errors="coerce")
    bad = num.isna() & (t != "")
    if bad.any():
        raise CoalitionsError(f"{path}: column '{s.name}' has non-numeric values {t[bad].head().tolist()} "
                              f"(rows {(bad[bad].index[:5] + 2).tolist()}); fetch cdb90 again")
    return to_int(num.rename(s.name))


def read_belligerents(path: str) -> pd.DataFrame:
    raw = _read(path)
    code = pd.to_numeric(raw["code"].str.strip().mask(raw["code"].str.strip() == ""), errors="coerce")
    df = pd.DataFrame({
        "isqno": to_int(raw["isqno"]),
        "attacker": _bool01(raw["attacker"], path),
        "nam": _text(raw["nam"]),
        "co": _text(raw["co"]),
        "str": _whole(raw["str"], path),
        "code": code.astype(float),
        "intst": _whole(raw["intst"], path),
        "rerp": _whole(raw["rerp"], path),
        "cas": _whole(raw["cas"], path),
        "finst": _whole(raw["finst"], path),
        "actors": _text(raw["actors"]),
    })
    return df.sort_values(["isqno", "attacker"], kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# battle_actors.csv

BATTLE_ACTORS_SCHEMA = TableSchema(
    name="cdb90_battle_actors",
    description="CDB90 battle actors: the states on each battle side, one row each.",
    key=("isqno", "attacker", "n"),
    columns={
        "isqno": Col("int", False, 1), "attacker": Col("bool", False, description="on the attacking side"),
        "n": Col("int", False, 1, description="number of the actor on its side"),
        "actor": Col("str", False, description="name of the actor"),
    },
)


def read_battle_actors(path: str) -> pd.DataFrame:
    raw = _read(path)
    df = pd.DataFrame({
        "isqno": to_int(raw["isqno"]), "attacker": _bool01(raw["attacker"], path),
        "n": to_int(raw["n"]), "actor": _text(raw["actor"]),
    })
    return df.sort_values(["isqno", "attacker", "n"], kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# active_periods.csv

_TIMES = ("start_time_min", "start_time_max", "end_time_min", "end_time_max")


def _check_periods(df: pd.DataFrame) -> str | None:
    probs = []
    for a, b in (("start_time_min", "start_time_max"), ("end_time_min", "end_time_max"),
                 ("start_time_min", "end_time_max")):
        bad = df[a].notna() & df[b].notna() & (df[a] > df[b])
        if bad.any():
            probs.append(f"{a} after {b} for isqno {df.loc[bad, 'isqno'].head().tolist()}")
    return "; ".join(probs) or None


ACTIVE_PERIODS_SCHEMA = TableSchema(
    name="cdb90_active_periods",
    description="CDB90 active periods: the dated phases of each battle (times at second resolution).",
    key=("isqno", "atp_number"),
    columns={
        "isqno": Col("int", False, 1), "atp_number": Col("int", False, 1, description="active period number"),
        "start_time_min": Col("date", True, description="start of the active period (earliest)"),
        "start_time_max": Col("date", True, description="start of the active period (latest)"),
        "end_time_min": Col("date", False, description="end of the active period (earliest)"),
        "end_time_max": Col("date", False, description="end of the active period (latest)"),
        "duration_min": Col("float", True, 0, description="duration in minutes (min)"),
        "duration_max": Col("float", True, 0, description="duration in minutes (max)"),
        "duration_only": Col("bool", False, description="duration given, start and end times unknown"),
    },
    checks=(_check_periods,),
)


def _times(s: pd.Series, path: str) -> pd.Series:
    t = s.str.strip()
    try:
        arr = np.array([x if x else "NaT" for x in t.tolist()], dtype="datetime64[s]")
    except ValueError as exc:
        raise CoalitionsError(f"{path}: column '{s.name}' has a value that is not an ISO date-time ({exc}); "
                              f"fetch cdb90 again") from None
    return pd.Series(arr, index=s.index, name=s.name)


def read_active_periods(path: str) -> pd.DataFrame:
    raw = _read(path)
    df = pd.DataFrame({
        "isqno": to_int(raw["isqno"]), "atp_number": to_int(raw["atp_number"]),
        **{c: _times(raw[c], path) for c in _TIMES},
        "duration_min": pd.to_numeric(raw["duration_min"].mask(raw["duration_min"] == ""), errors="raise").astype(float),
        "duration_max": pd.to_numeric(raw["duration_max"].mask(raw["duration_max"] == ""), errors="raise").astype(float),
        "duration_only": _bool01(raw["duration_only"], path),
    })
    return df.sort_values(["isqno", "atp_number"], kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# the actor mapping (config/cases/cdb90_actors.csv)

ACTOR_MAP = "config/cases/cdb90_actors.csv"
ACTOR_MAP_COLUMNS = ("actor", "ccode", "cow_state_name", "contested", "note", "source")

ACTOR_MAP_SCHEMA = TableSchema(
    name="cdb90_actors",
    description="CDB90 actor name -> COW country code (empty where the actor has none), with its source.",
    key=("actor",),
    columns={
        "actor": Col("str", False, description="actor name exactly as in CDB90's battle_actors.csv"),
        "ccode": Col("int", True, 2, 999, description="COW country code; empty: no COW code (see note)"),
        "cow_state_name": Col("str", True, description="the state's name in the COW state system"),
        "contested": Col("bool", False), "note": Col("str", False), "source": Col("str", False),
    },
    strict=True,
)


def read_actor_map(path: str) -> pd.DataFrame:
    """The reviewed CDB90 actor mapping; a malformed row is an error naming the file and line."""
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except FileNotFoundError:
        raise CoalitionsError(f"{path}: the CDB90 actor mapping is missing (it maps every CDB90 actor to "
                              f"its COW country code)") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise CoalitionsError(f"{path}: cannot be read as a UTF-8 CSV file ({exc})") from None
    if list(raw.columns) != list(ACTOR_MAP_COLUMNS):
        raise CoalitionsError(f"{path}: columns must be {list(ACTOR_MAP_COLUMNS)}, found {list(raw.columns)}")
    raw = raw.apply(lambda s: s.str.strip())
    for i, r in raw.iterrows():
        line = i + 2
        if not r["actor"]:
            raise CoalitionsError(f"{path} line {line}: empty actor name")
        if r["ccode"] and not r["ccode"].isdigit():
            raise CoalitionsError(f"{path} line {line} ({r['actor']}): ccode '{r['ccode']}' is not a COW code")
        if r["contested"] not in ("0", "1"):
            raise CoalitionsError(f"{path} line {line} ({r['actor']}): contested must be 0 or 1")
        if not r["source"]:
            raise CoalitionsError(f"{path} line {line} ({r['actor']}): no source; every mapping names its source")
        if not r["note"]:
            raise CoalitionsError(f"{path} line {line} ({r['actor']}): no note; say why this code (or none)")
        if bool(r["ccode"]) != bool(r["cow_state_name"]):
            raise CoalitionsError(f"{path} line {line} ({r['actor']}): ccode and cow_state_name go together")
    dup = raw["actor"].duplicated(keep=False)
    if dup.any():
        raise CoalitionsError(f"{path}: actor(s) listed twice: {sorted(set(raw.loc[dup, 'actor']))}")
    df = pd.DataFrame({
        "actor": raw["actor"].astype(object),
        "ccode": to_int(raw["ccode"].mask(raw["ccode"] == "")),
        "cow_state_name": raw["cow_state_name"].mask(raw["cow_state_name"] == "").astype(object),
        "contested": raw["contested"].eq("1"),
        "note": raw["note"].astype(object),
        "source": raw["source"].astype(object),
    })
    return validate(df, ACTOR_MAP_SCHEMA, path)


def check_actor_map(actor_map: pd.DataFrame, states: pd.DataFrame, origin: str = ACTOR_MAP) -> None:
    """Every mapped code is a COW state (``cow_states``) and its name is the state's COW name."""
    known = states.drop_duplicates("ccode").set_index("ccode")["statenme"]
    for r in actor_map.itertuples(index=False):
        if pd.isna(r.ccode):
            continue
        if int(r.ccode) not in known.index:
            raise CoalitionsError(f"{origin}: actor '{r.actor}' has ccode {r.ccode}, which is not a COW state")
        if known[int(r.ccode)] != r.cow_state_name:
            raise CoalitionsError(f"{origin}: actor '{r.actor}': ccode {r.ccode} is '{known[int(r.ccode)]}' in the "
                                  f"COW state system, not '{r.cow_state_name}'")


# ---------------------------------------------------------------------------------------------
# corrections of the tidy edition's actors (config/cases/cdb90_corrections.csv)

CORRECTIONS = "config/cases/cdb90_corrections.csv"
CORRECTIONS_COLUMNS = ("isqno", "attacker", "actors", "contested", "note", "source")


def read_corrections(path: str, actor_map: pd.DataFrame | None = None) -> pd.DataFrame:
    """Battle sides whose actors the tidy edition gives wrongly (against CDB90's own force designation).

    ``actors``: the replacement actor names, separated by `` & `` (each must be in the actor mapping),
    or empty: a force of the side opposite the other battle side whose state is not known.
    """
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except FileNotFoundError:
        raise CoalitionsError(f"{path}: the CDB90 corrections file is missing") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise CoalitionsError(f"{path}: cannot be read as a UTF-8 CSV file ({exc})") from None
    if list(raw.columns) != list(CORRECTIONS_COLUMNS):
        raise CoalitionsError(f"{path}: columns must be {list(CORRECTIONS_COLUMNS)}, found {list(raw.columns)}")
    raw = raw.apply(lambda s: s.str.strip())
    known = set(actor_map["actor"]) if actor_map is not None else None
    for i, r in raw.iterrows():
        line = i + 2
        if not r["isqno"].isdigit():
            raise CoalitionsError(f"{path} line {line}: isqno '{r['isqno']}' is not a CDB90 battle number")
        if r["attacker"] not in ("0", "1") or r["contested"] not in ("0", "1"):
            raise CoalitionsError(f"{path} line {line}: attacker and contested must be 0 or 1")
        if not r["source"] or not r["note"]:
            raise CoalitionsError(f"{path} line {line}: every correction needs a note and a source")
        if r["contested"] == "1" and "CONTESTED" not in r["note"]:
            raise CoalitionsError(f"{path} line {line}: a contested correction says so (CONTESTED) in its note")
        if known is not None and r["actors"]:
            bad = [a for a in r["actors"].split(" & ") if a not in known]
            if bad:
                raise CoalitionsError(f"{path} line {line}: actor(s) {bad} are not in the actor mapping {ACTOR_MAP}")
    key = raw[["isqno", "attacker"]].duplicated(keep=False)
    if key.any():
        raise CoalitionsError(f"{path}: battle side(s) corrected twice: {raw.loc[key, ['isqno', 'attacker']].values.tolist()}")
    return pd.DataFrame({
        "isqno": raw["isqno"].astype("int64"), "attacker": raw["attacker"].eq("1"),
        "actors": raw["actors"].astype(object), "contested": raw["contested"].eq("1"),
        "note": raw["note"].astype(object), "source": raw["source"].astype(object),
    })

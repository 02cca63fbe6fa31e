"""Readers for the Correlates of War files: wars, state system, capabilities, contiguity, trade, IGOs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..fetch import read_bytes_normalised
from ..schema import Col, TableSchema
from .common import assemble_date, codes_to_na, read_rda, to_int

# ---------------------------------------------------------------------------------------------
# Inter-State War v4.0, participant level

WHERE_FOUGHT = {
    1: "W. Hemisphere", 2: "Europe", 4: "Africa", 6: "Middle East", 7: "Asia", 9: "Oceania",
    11: "Europe & Middle East", 12: "Europe & Asia", 13: "W. Hemisphere & Asia",
    14: "Europe, Africa & Middle East", 15: "Europe, Africa, Middle East & Asia",
    16: "Africa, Middle East, Asia & Oceania", 17: "Asia & Oceania", 18: "Africa & Middle East",
    19: "All but W. Hemisphere",
}
#: WhereFought code -> set of the basic regions it covers (used by the theatre-overlap proxy)
WHERE_FOUGHT_REGIONS = {
    1: {"W. Hemisphere"}, 2: {"Europe"}, 4: {"Africa"}, 6: {"Middle East"}, 7: {"Asia"}, 9: {"Oceania"},
    11: {"Europe", "Middle East"}, 12: {"Europe", "Asia"}, 13: {"W. Hemisphere", "Asia"},
    14: {"Europe", "Africa", "Middle East"}, 15: {"Europe", "Africa", "Middle East", "Asia"},
    16: {"Africa", "Middle East", "Asia", "Oceania"}, 17: {"Asia", "Oceania"},
    18: {"Africa", "Middle East"}, 19: {"Europe", "Africa", "Middle East", "Asia", "Oceania"},
}
OUTCOME = {
    1: "winner", 2: "loser", 3: "compromise/tied", 4: "transformed into another type of war",
    5: "ongoing", 6: "stalemate", 7: "continues below war level", 8: "changed sides",
}


def _war_checks(df: pd.DataFrame) -> str | None:
    bad = df["end1"].notna() & df["start1"].notna() & (df["end1"] < df["start1"])
    bad |= df["start2"].notna() & df["end1"].notna() & (df["start2"] < df["end1"])
    if bad.any():
        return "spells out of order (end before start, or second spell before the first ends):\n" + \
            df.loc[bad, ["war_num", "ccode", "side", "start1", "end1", "start2", "end2"]].to_string()
    return None


WAR_SCHEMA = TableSchema(
    name="cow_war_participants",
    description="COW Inter-State War v4.0, one row per war participant (state x side).",
    key=("war_num", "ccode", "side"),
    columns={
        "war_num": Col("int", False, 1, 1000, description="COW war number"),
        "war_name": Col("str", False, description="COW war name"),
        "war_type": Col("int", False, allowed=(1,)),
        "ccode": Col("int", False, 2, 999, description="COW country code"),
        "state_name": Col("str", False),
        "side": Col("int", False, allowed=(1, 2)),
        "start1": Col("date", False, "1816-01-01", "2010-12-31", description="start of first spell"),
        "end1": Col("date", False, "1816-01-01", "2010-12-31", description="end of first spell"),
        "start2": Col("date", True, "1816-01-01", "2010-12-31", description="start of second spell (if any)"),
        "end2": Col("date", True, "1816-01-01", "2010-12-31", description="end of second spell (if any)"),
        "trans_from": Col("int", True),
        "where_fought": Col("int", False, allowed=tuple(WHERE_FOUGHT)),
        "initiator": Col("bool", False),
        "outcome": Col("int", False, allowed=tuple(OUTCOME)),
        "trans_to": Col("int", True),
        "bat_death": Col("int", True, 0, None, description="battle deaths (missing where COW codes -9)"),
        "version": Col("float", False),
    },
    checks=(_war_checks,),
)


def read_cow_war(path: str) -> pd.DataFrame:
    """COW's file has bare CR line endings and no final newline, in latin-1: normalise first."""
    raw = pd.read_csv(read_bytes_normalised(path), encoding="latin-1")
    df = pd.DataFrame({
        "war_num": to_int(raw["WarNum"]),
        "war_name": raw["WarName"].str.strip(),
        "war_type": to_int(raw["WarType"]),
        "ccode": to_int(raw["ccode"]),
        "state_name": raw["StateName"].str.strip(),
        "side": to_int(raw["Side"]),
        "start1": assemble_date(raw, "StartYear1", "StartMonth1", "StartDay1"),
        "end1": assemble_date(raw, "EndYear1", "EndMonth1", "EndDay1"),
        "start2": assemble_date(raw, "StartYear2", "StartMonth2", "StartDay2"),
        "end2": assemble_date(raw, "EndYear2", "EndMonth2", "EndDay2"),
        "trans_from": to_int(codes_to_na(raw["TransFrom"], (-8, -9))),
        "where_fought": to_int(raw["WhereFought"]),
        "initiator": raw["Initiator"].eq(1),
        "outcome": to_int(raw["Outcome"]),
        "trans_to": to_int(codes_to_na(raw["TransTo"], (-8, -9))),
        "bat_death": to_int(codes_to_na(raw["BatDeath"], (-8, -9))),
        "version": raw["Version"].astype(float),
    })
    return df.sort_values(["war_num", "side", "ccode"], kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# State system membership 2016

STATES_SCHEMA = TableSchema(
    name="cow_states",
    description="COW state system membership spells (states2016).",
    key=("ccode", "start"),
    columns={
        "ccode": Col("int", False, 2, 999), "stateabb": Col("str", False), "statenme": Col("str", False),
        "start": Col("date", False, "1816-01-01", "2016-12-31"),
        "end": Col("date", False, "1816-01-01", "2016-12-31"),
        "version": Col("int", False),
    },
)
SYSTEM_SCHEMA = TableSchema(
    name="cow_system", description="COW state system membership, state-years (system2016).",
    key=("ccode", "year"),
    columns={"ccode": Col("int", False, 2, 999), "stateabb": Col("str", False),
             "year": Col("int", False, 1816, 2016), "version": Col("int", False)},
)
MAJORS_SCHEMA = TableSchema(
    name="cow_majors", description="COW major power spells (majors2016).", key=("ccode", "start"),
    columns={"ccode": Col("int", False, 2, 999), "stateabb": Col("str", False),
             "start": Col("date", False, "1816-01-01", "2016-12-31"),
             "end": Col("date", False, "1816-01-01", "2016-12-31"), "version": Col("int", False)},
)


def read_cow_states(path: str) -> pd.DataFrame:
    raw = pd.read_csv(read_bytes_normalised(path), encoding="latin-1")
    return pd.DataFrame({
        "ccode": to_int(raw["ccode"]), "stateabb": raw["stateabb"].str.strip(),
        "statenme": raw["statenme"].str.strip(),
        "start": assemble_date(raw, "styear", "stmonth", "stday"),
        "end": assemble_date(raw, "endyear", "endmonth", "endday"),
        "version": to_int(raw["version"]),
    })


def read_cow_system(path: str) -> pd.DataFrame:
    raw = pd.read_csv(read_bytes_normalised(path), encoding="latin-1")
    return pd.DataFrame({"ccode": to_int(raw["ccode"]), "stateabb": raw["stateabb"].str.strip(),
                         "year": to_int(raw["year"]), "version": to_int(raw["version"])})


def read_cow_majors(path: str) -> pd.DataFrame:
    raw = pd.read_csv(read_bytes_normalised(path), encoding="latin-1")
    return pd.DataFrame({
        "ccode": to_int(raw["ccode"]), "stateabb": raw["stateabb"].str.strip(),
        "start": assemble_date(raw, "styear", "stmonth", "stday"),
        "end": assemble_date(raw, "endyear", "endmonth", "endday"),
        "version": to_int(raw["version"]),
    })


# ---------------------------------------------------------------------------------------------
# National Material Capabilities

NMC_COLS = ["milex", "milper", "irst", "pec", "tpop", "upop"]


def nmc_schema(name: str, version: str) -> TableSchema:
    cols = {"ccode": Col("int", False, 2, 999), "year": Col("int", False, 1816, 2030)}
    for c in NMC_COLS:
        cols[c] = Col("float", True, 0, None, description=f"NMC {c} (missing where COW codes -9)")
    cols["cinc"] = Col("float", True, 0, 1, description="Composite Index of National Capability")
    return TableSchema(name=name, description=f"COW National Material Capabilities {version}",
                       key=("ccode", "year"), columns=cols)


def read_nmc_csv(path: str) -> pd.DataFrame:
    raw = pd.read_csv(read_bytes_normalised(path), encoding="latin-1")
    df = pd.DataFrame({"ccode": to_int(raw["ccode"]), "year": to_int(raw["year"])})
    for c in NMC_COLS:
        df[c] = codes_to_na(raw[c], (-9,)).astype(float)
    df["cinc"] = codes_to_na(raw["cinc"], (-9,)).astype(float)
    return df


# ---------------------------------------------------------------------------------------------
# Direct contiguity 3.2

CONTIGUITY_TYPES = (1, 2, 3, 4, 5)
CONTDIR_SCHEMA = TableSchema(
    name="cow_contdir", description="COW direct contiguity, master records (one row per dyad spell).",
    key=("dyad", "start"),
    columns={"dyad": Col("int", False), "ccode_low": Col("int", False), "ccode_high": Col("int", False),
             "conttype": Col("int", False, allowed=CONTIGUITY_TYPES),
             "start": Col("date", False), "end": Col("date", False), "notes": Col("str", True)},
)
CONTDIRD_SCHEMA = TableSchema(
    name="cow_contdird",
    description="COW direct contiguity, directed dyad-years (a dyad whose contiguity type changed within a "
                "year has one row per type).",
    key=("ccode1", "ccode2", "year", "conttype"),
    columns={"ccode1": Col("int", False), "ccode2": Col("int", False), "year": Col("int", False, 1816, 2016),
             "conttype": Col("int", False, allowed=CONTIGUITY_TYPES)},
)
CONTDIRS_SCHEMA = TableSchema(
    name="cow_contdirs", description="COW direct contiguity, state-year totals.", key=("ccode", "year"),
    columns={"ccode": Col("int", False), "year": Col("int", False, 1816, 2016),
             "total": Col("int", False, 0), "land": Col("int", False, 0), "sea": Col("int", False, 0)},
)


def _yyyymm(s: pd.Series) -> pd.Series:
    v = to_int(s)
    return pd.to_datetime(
        pd.DataFrame({"year": v // 100, "month": v % 100, "day": 1}), errors="coerce"
    )


def read_contdir(path: str) -> pd.DataFrame:
    raw = pd.read_csv(read_bytes_normalised(path), encoding="latin-1")
    return pd.DataFrame({
        "dyad": to_int(raw["dyad"]), "ccode_low": to_int(raw["statelno"]), "ccode_high": to_int(raw["statehno"]),
        "conttype": to_int(raw["conttype"]), "start": _yyyymm(raw["begin"]), "end": _yyyymm(raw["end"]),
        "notes": raw["notes"].astype("string"),
    })


def read_contdird(path: str) -> pd.DataFrame:
    raw = pd.read_csv(read_bytes_normalised(path), encoding="latin-1")
    return pd.DataFrame({"ccode1": to_int(raw["state1no"]), "ccode2": to_int(raw["state2no"]),
                         "year": to_int(raw["year"]), "conttype": to_int(raw["conttype"])})


def read_contdirs(path: str) -> pd.DataFrame:
    raw = pd.read_csv(read_bytes_normalised(path), encoding="latin-1")
    return pd.DataFrame({"ccode": to_int(raw["stateno"]), "year": to_int(raw["year"]),
                         "total": to_int(raw["total"]), "land": to_int(raw["land"]), "sea": to_int(raw["sea"])})


# ---------------------------------------------------------------------------------------------
# Trade 4.0, national totals

TRADE_SCHEMA = TableSchema(
    name="cow_trade_national", description="COW Trade 4.0 national totals (current US millions).",
    key=("ccode", "year"),
    columns={"ccode": Col("int", False), "year": Col("int", False, 1870, 2014),
             "imports": Col("float", True, 0), "exports": Col("float", True, 0),
             "alt_imports": Col("float", True, 0), "alt_exports": Col("float", True, 0)},
)


def read_trade(path: str) -> pd.DataFrame:
    raw = pd.read_csv(read_bytes_normalised(path), encoding="latin-1")
    df = pd.DataFrame({"ccode": to_int(raw["ccode"]), "year": to_int(raw["year"])})
    for c in ("imports", "exports", "alt_imports", "alt_exports"):
        df[c] = codes_to_na(raw[c], (-9,)).astype(float)
    return df


# ---------------------------------------------------------------------------------------------
# IGO v3 (R data files): long tables of memberships

IGO_STATUS = {1: "full", 2: "associate", 3: "observer"}
IGO_SY_SCHEMA = TableSchema(
    name="cow_igo_memberships",
    description="COW IGO v3 memberships, one row per state x year x IGO where the state was a member "
                "(full, associate or observer). Before 1965 the data come in five-year waves.",
    key=("ccode", "year", "igo"),
    columns={"ccode": Col("int", False), "year": Col("int", False, 1816, 2014), "igo": Col("str", False),
             "status": Col("int", False, allowed=tuple(IGO_STATUS))},
)
IGO_IY_SCHEMA = TableSchema(
    name="cow_igo_years",
    description="COW IGO v3 IGO-years with attributes and the number of member states by status.",
    key=("ioname", "year"),
    columns={"ioname": Col("str", False), "year": Col("int", False, 1816, 2014),
             "ionum": Col("int", True), "sdate": Col("int", True), "deaddate": Col("int", True),
             "n_full": Col("int", False, 0), "n_associate": Col("int", False, 0),
             "n_observer": Col("int", False, 0)},
)
_IGO_SY_META = {"ccode", "year", "state", "version", "ccode1"}


def read_igo_state_year(path: str) -> pd.DataFrame:
    raw = read_rda(path)
    id_cols = [c for c in raw.columns if c in _IGO_SY_META]
    igo_cols = [c for c in raw.columns if c not in _IGO_SY_META]
    values = raw[igo_cols].to_numpy(dtype=float)
    ccode = to_int(raw["ccode"]).to_numpy()
    year = to_int(raw["year"]).to_numpy()
    # codes: 0 not a member, 1 full, 2 associate, 3 observer, -9 missing, -1 state not in system
    r, c = np.nonzero(np.isin(values, (1.0, 2.0, 3.0)))
    out = pd.DataFrame({
        "ccode": pd.array(ccode[r], dtype="Int64"), "year": pd.array(year[r], dtype="Int64"),
        "igo": np.asarray(igo_cols, dtype=object)[c], "status": pd.array(values[r, c].astype(int), dtype="Int64"),
    })
    del id_cols
    return out.sort_values(["ccode", "year", "igo"], kind="stable").reset_index(drop=True)


_IGO_IY_META = {"ioname", "orgname", "year", "sdate", "deaddate", "dead", "integrated", "replaced",
                "longorgname", "ionum", "igocode", "version", "accuracyofpre1965membershipdates",
                "sourcesandnotes", "imputed", "political", "social", "economic"}


def read_igo_year(path: str) -> pd.DataFrame:
    raw = read_rda(path)
    states = [c for c in raw.columns if c not in _IGO_IY_META]
    v = raw[states].to_numpy(dtype=float)
    return pd.DataFrame({
        "ioname": raw["ioname"].astype(str), "year": to_int(raw["year"]),
        "ionum": to_int(raw["ionum"]), "sdate": to_int(raw["sdate"]), "deaddate": to_int(raw["deaddate"]),
        "n_full": pd.array((v == 1).sum(axis=1), dtype="Int64"),
        "n_associate": pd.array((v == 2).sum(axis=1), dtype="Int64"),
        "n_observer": pd.array((v == 3).sum(axis=1), dtype="Int64"),
    })

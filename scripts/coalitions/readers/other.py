"""Readers for ATOP, Polity5, the UN General Assembly ideal points and peacesciencer's files."""

from __future__ import annotations

import pandas as pd

from ..fetch import read_bytes_normalised
from ..schema import Col, TableSchema
from .common import codes_to_na, read_rda, to_int

# ---------------------------------------------------------------------------------------------
# ATOP 5.1 state-year

ATOP_SY_SCHEMA = TableSchema(
    name="atop_state_year",
    description="ATOP 5.1 state-years in which the state had at least one alliance "
                "(absent state-years: no ATOP alliance).",
    key=("ccode", "year"),
    columns={
        "ccode": Col("int", False), "year": Col("int", False, 1815, 2018),
        "defense": Col("bool", False), "offense": Col("bool", False), "neutral": Col("bool", False),
        "nonagg": Col("bool", False), "consul": Col("bool", False),
        "n_alliances": Col("int", False, 1), "atopids": Col("str", False,
                                                              description="ATOP ids, space separated"),
    },
)


def read_atop_sy(path: str) -> pd.DataFrame:
    raw = pd.read_csv(read_bytes_normalised(path))
    ids = [c for c in raw.columns if c.startswith("atopid")]
    idv = raw[ids].apply(pd.to_numeric, errors="coerce")
    return pd.DataFrame({
        "ccode": to_int(raw["state"]), "year": to_int(raw["year"]),
        **{k: raw[k].eq(1) for k in ("defense", "offense", "neutral", "nonagg", "consul")},
        "n_alliances": to_int(raw["number"]),
        "atopids": idv.apply(lambda r: " ".join(str(int(x)) for x in r.dropna()), axis=1).astype(str),
    })


# ---------------------------------------------------------------------------------------------
# Polity5

POLITY_SCHEMA = TableSchema(
    name="polity5",
    description="Polity5 annual (p5v2018). polity: -66/-77/-88 (interruption, interregnum, transition) "
                "set to missing, with the code kept in polity_special; polity2 as published.",
    key=("ccode", "year"),
    columns={
        "ccode": Col("int", False), "scode": Col("str", False), "country": Col("str", False),
        "year": Col("int", False, 1776, 2020),
        "democ": Col("int", True, 0, 10), "autoc": Col("int", True, 0, 10),
        "polity": Col("int", True, -10, 10), "polity_special": Col("int", True, allowed=(-66, -77, -88)),
        "polity2": Col("int", True, -10, 10), "durable": Col("int", True, 0),
    },
)


def read_polity(path: str) -> pd.DataFrame:
    raw = pd.read_csv(read_bytes_normalised(path), encoding="latin-1")
    pol = pd.to_numeric(raw["polity"], errors="coerce")
    special = pol.where(pol.isin([-66, -77, -88]))
    return pd.DataFrame({
        "ccode": to_int(raw["ccode"]), "scode": raw["scode"].astype(str).str.strip(),
        "country": raw["country"].astype(str).str.strip(), "year": to_int(raw["year"]),
        "democ": to_int(codes_to_na(raw["democ"], (-66, -77, -88))),
        "autoc": to_int(codes_to_na(raw["autoc"], (-66, -77, -88))),
        "polity": to_int(pol.mask(pol.isin([-66, -77, -88]))),
        "polity_special": to_int(special),
        "polity2": to_int(raw["polity2"]), "durable": to_int(raw["durable"]),
    })


# ---------------------------------------------------------------------------------------------
# UNGA ideal points (Stata file)

UNGA_SCHEMA = TableSchema(
    name="unga_idealpoints",
    description="UN General Assembly ideal points, state-years (Bailey, Strezhnev and Voeten).",
    key=("ccode", "year"),
    columns={"ccode": Col("int", False), "iso3c": Col("str", True), "countryname": Col("str", True),
             "year": Col("int", False, 1946, 2030),
             "idealpoint_all": Col("float", True), "idealpoint_fp": Col("float", True),
             "idealpoint_legacy": Col("float", True), "nvotes_all": Col("float", True, 0)},
)


def read_unga(path: str) -> pd.DataFrame:
    raw = pd.read_stata(path, convert_categoricals=False)
    return pd.DataFrame({
        "ccode": to_int(raw["ccode"]), "iso3c": raw["iso3c"].astype("string"),
        "countryname": raw["countryname"].astype("string"), "year": to_int(raw["year"]),
        "idealpoint_all": raw["idealpointall"].astype(float),
        "idealpoint_fp": raw["idealpointfp"].astype(float),
        "idealpoint_legacy": raw["idealpointlegacy"].astype(float),
        "nvotes_all": raw["nvotesall"].astype(float),
    })


# ---------------------------------------------------------------------------------------------
# peacesciencer R data files (derived data; cite peacesciencer and the underlying source)


def _int_cols(df: pd.DataFrame, cols) -> pd.DataFrame:
    df = df.copy()
    for c in cols:
        df[c] = to_int(df[c])
    return df


def read_ps_atop_alliance(path: str) -> pd.DataFrame:
    df = _int_cols(read_rda(path), ["ccode1", "ccode2", "year"])
    for c in ("atop_defense", "atop_offense", "atop_neutral", "atop_nonagg", "atop_consul"):
        df[c] = to_int(df[c])
    return df


PS_ATOP_SCHEMA = TableSchema(
    name="atop_dyad_year", description="ATOP 5.1 directed dyad-years with an alliance (via peacesciencer).",
    key=("ccode1", "ccode2", "year"),
    columns={"ccode1": Col("int", False), "ccode2": Col("int", False), "year": Col("int", False, 1815, 2030),
             **{c: Col("int", False, allowed=(0, 1)) for c in
                ("atop_defense", "atop_offense", "atop_neutral", "atop_nonagg", "atop_consul")}},
)


def read_ps_nmc(path: str) -> pd.DataFrame:
    return _int_cols(read_rda(path), ["ccode", "year"])


def read_ps_igo_sy(path: str) -> pd.DataFrame:
    df = _int_cols(read_rda(path), ["ccode", "year"])
    for c in ("sum_igo_full", "sum_igo_associate", "sum_igo_observer", "sum_igo_anytype"):
        df[c] = to_int(df[c])
    return df


PS_IGO_SY_SCHEMA = TableSchema(
    name="igo_counts_state_year", description="Counts of IGO memberships per state-year (via peacesciencer).",
    key=("ccode", "year"),
    columns={"ccode": Col("int", False), "year": Col("int", False, 1816, 2014),
             **{c: Col("int", True, 0) for c in
                ("sum_igo_full", "sum_igo_associate", "sum_igo_observer", "sum_igo_anytype")}},
)


def read_ps_igo_ndy(path: str) -> pd.DataFrame:
    df = _int_cols(read_rda(path), ["ccode1", "ccode2", "year"])
    df["dyadigos"] = to_int(df["dyadigos"])
    return df


PS_IGO_NDY_SCHEMA = TableSchema(
    name="igo_shared_dyad_year",
    description="Shared IGO memberships, non-directed dyad-years, ccode1 < ccode2 (via peacesciencer).",
    key=("ccode1", "ccode2", "year"),
    columns={"ccode1": Col("int", False), "ccode2": Col("int", False), "year": Col("int", False, 1816, 2014),
             "dyadigos": Col("int", True, 0)},
)


def read_ps_democracy(path: str) -> pd.DataFrame:
    df = _int_cols(read_rda(path), ["ccode", "year"])
    df["polity2"] = to_int(df["polity2"])
    return df


PS_DEMOCRACY_SCHEMA = TableSchema(
    name="democracy_state_year", description="V-Dem polyarchy, Polity polity2 and UDS (via peacesciencer).",
    key=("ccode", "year"),
    columns={"ccode": Col("int", False), "year": Col("int", False), "v2x_polyarchy": Col("float", True, 0, 1),
             "polity2": Col("int", True, -10, 10), "xm_qudsest": Col("float", True)},
)


def read_ps_capitals(path: str) -> pd.DataFrame:
    df = read_rda(path)
    return pd.DataFrame({
        "ccode": to_int(df["ccode"]), "statenme": df["statenme"].astype(str), "capital": df["capital"].astype(str),
        "start": pd.to_datetime(df["stdate"]), "end": pd.to_datetime(df["enddate"]),
        "lat": df["lat"].astype(float), "lng": df["lng"].astype(float),
    })


PS_CAPITALS_SCHEMA = TableSchema(
    name="capitals", description="COW state capitals with coordinates (via peacesciencer).",
    key=("ccode", "start"),
    columns={"ccode": Col("int", False), "statenme": Col("str", False), "capital": Col("str", False),
             "start": Col("date", False), "end": Col("date", False),
             "lat": Col("float", False, -90, 90), "lng": Col("float", False, -180, 180)},
)


def read_ps_mindist(path: str) -> pd.DataFrame:
    df = _int_cols(read_rda(path), ["ccode1", "ccode2", "year"])
    df["mindist"] = df["mindist"].astype(float)
    return df


PS_MINDIST_SCHEMA = TableSchema(
    name="mindist_dyad_year", description="Minimum distance (km) between states, cshapes 2.0 (via peacesciencer).",
    key=("ccode1", "ccode2", "year"),
    columns={"ccode1": Col("int", False), "ccode2": Col("int", False), "year": Col("int", False, 1886, 2019),
             "mindist": Col("float", True, 0)},
)


def read_ps_archigos(path: str) -> pd.DataFrame:
    df = read_rda(path)
    return pd.DataFrame({
        "obsid": df["obsid"].astype(str), "gwcode": to_int(df["gwcode"]), "leadid": df["leadid"].astype(str),
        "leader": df["leader"].astype(str), "start": pd.to_datetime(df["startdate"]),
        "end": pd.to_datetime(df["enddate"]), "entry": df["entry"].astype("string"),
        "exit": df["exit"].astype("string"), "exitcode": df["exitcode"].astype("string"),
    })


PS_ARCHIGOS_SCHEMA = TableSchema(
    name="archigos_leaders",
    description="Archigos 4.1 leader spells, keyed by Gleditsch-Ward code (via peacesciencer).",
    key=("obsid",),
    columns={"obsid": Col("str", False), "gwcode": Col("int", False), "leadid": Col("str", False),
             "leader": Col("str", False), "start": Col("date", False), "end": Col("date", False),
             "entry": Col("str", True), "exit": Col("str", True), "exitcode": Col("str", True)},
)


def read_ps_gml(path: str) -> pd.DataFrame:
    df = read_rda(path)
    out = pd.DataFrame({"dispnum": to_int(df["dispnum"]), "ccode": to_int(df["ccode"])})
    for c in ("styear", "stmon", "endyear", "endmon", "sidea", "hiact", "orig"):
        out[c] = to_int(df[c])
    out["stday"] = to_int(codes_to_na(df["stday"], (-9,)))
    out["endday"] = to_int(codes_to_na(df["endday"], (-9,)))
    return out


PS_GML_SCHEMA = TableSchema(
    name="gml_mid_participants", description="Gibler-Miller-Little MID participants (via peacesciencer).",
    key=(),
    columns={"dispnum": Col("int", False), "ccode": Col("int", False), "styear": Col("int", False),
             "stmon": Col("int", True), "stday": Col("int", True, 1, 31), "endyear": Col("int", False),
             "endmon": Col("int", True), "endday": Col("int", True, 1, 31), "sidea": Col("int", False, allowed=(0, 1)),
             "hiact": Col("int", True), "orig": Col("int", True)},
)


def read_ps_versions(path: str) -> pd.DataFrame:
    return read_rda(path).astype(str)


PS_VERSIONS_SCHEMA = TableSchema(
    name="peacesciencer_versions", description="peacesciencer's own table of data versions (partly stale).",
    key=("category", "data"),
    columns={"category": Col("str", False), "data": Col("str", False), "version": Col("str", False),
             "bibtexkey": Col("str", False)},
)

"""The rebuilt Henke (2017) dataset: one row per potential contributor and US-led operation.

Unit of analysis (the project's reading of Henke, to be confirmed against her Stata logs): every state in
the COW system on an operation's start date, except the United States, the operation's targets and (by
default) its hosts, is a potential contributor. The outcome ``joined`` is 1 when the hand-coded
contributors file lists the state for the operation, else 0.

Diplomatic embeddedness (Henke: the count of all bilateral and multilateral institutional ties between the
US and a third country at the date of the intervention) cannot be rebuilt in full: the bilateral
agreements (treaties, executive agreements) have no public source in the offline mirror. What can be
counted are the two multilateral/security components and, as a proxy for the bilateral half, diplomatic
representation:

``joint_igos``
    IGOs in which both the US and the state are members (COW IGO v3; full members by default, or full and
    associate members). COW records IGO memberships before 1965 in five-year waves (1945, 1950, ...):
    under the default ``igo_waves="five_year_before_1965"`` rule a covariate year before 1965 uses the
    latest wave at or before it; ``igo_year_used`` records the year actually used. (The v3 release also
    carries annual rows before 1965, but for many IGOs their dates are only "within 5 years" accurate;
    ``igo_waves="annual"`` uses them as they are.) A state not in the COW system in the wave year has no
    value (NaN), not zero.
``alliance_ties``
    ATOP ties with the US. ``alliance_measure="obligation_types"`` (default): the number of the ATOP
    obligation types (defense, offense, neutrality, non-aggression, consultation; the
    ``alliance_components`` to count are configurable) that link the state and the US in either
    direction (ATOP directed dyad-years, 0-5). ``"shared_alliances"``: the number of ATOP alliances (ids)
    both belong to.
``diplomatic_ties`` (a **proxy** for the bilateral component)
    Diplomatic representation between the US and the state, both directions (COW Diplomatic Exchange
    v2006.1): the US's representation at the state (``dipl_us_at_state``) and the state's at the US
    (``dipl_state_at_us``), codes 0 none, 1 chargé d'affaires, 2 minister, 3 ambassador, 9 other. The data
    come in waves (every five years from 1950; none in 1945): a covariate year uses the latest wave at or
    before it, recorded in ``dipl_year_used`` (1950-1954 use 1950, 1990-1994 use 1990, 1945-1949 use 1940).
    A state without a dyad with the US in that wave (not yet a state then) has no value (NaN), never zero.
    ``diplomatic_measure="presence"`` (default): the number of directions in which a side is represented
    (``dipl_presence``, 0-2; levels 1-3 count, and 9 only in 1950-1965, the codebook's ``DE`` rule).
    ``"levels"``: the sum of the two levels (``dipl_level``, 0-6), missing where a direction is coded 9 (its
    level is not known: in 1950-1965 COW recorded no levels, so every 1950-1965 wave is missing under
    levels). From 1985 COW counts only resident ambassadors. Henke counted bilateral treaties and
    agreements, which have no source in the data; diplomatic representation is a different, observable
    bilateral tie, so every measure that uses it is labelled a proxy.

Embeddedness variants (columns ``embeddedness_<variant>``; ``embeddedness`` is the one the coding picks):

* ``igo_plus_alliances`` (baseline) = ``joint_igos + alliance_ties``;
* ``igo_only`` = ``joint_igos``;
* ``without_security_ties`` = joint IGOs other than security organisations (``security_igos``: NATO,
  SEATO, CENTO, ANZUS, WEU, the Inter-American Defense Board, ...) and no alliance ties;
* ``normalised`` = ``joint_igos / total_igos`` (share of the state's own IGO memberships that it shares
  with the US: separates ties to the US from a state's general propensity to join institutions, the
  concern Poast raises about cooperation on both sides of the regression);
* ``agreements_only`` = bilateral agreements with the US: **not available**, the column is NaN and models
  using it are not estimable (no source of US treaties and agreements is in the data; diplomatic
  representation is not an agreement: its bilateral-only variant is ``diplomatic_only``). Missing data are
  never replaced by zeros;
* ``igo_alliances_diplomatic`` = ``joint_igos + alliance_ties + diplomatic_ties`` (proxy: the bilateral
  part is diplomatic representation, not treaties);
* ``diplomatic_only`` = ``diplomatic_ties`` (the bilateral component alone, proxy).

Controls at the covariate year (the start year, or ``lag_years`` before it): ATOP defence tie with the US
(``defense``), Polity5 ``polity2``, CINC (NMC 6.0 by default), great-circle distance between capitals
valid at the date, absolute distance between UN General Assembly ideal points (Voeten; none before 1946
or for non-members), the state's total trade (COW trade, log; a proxy: Henke's trade measure, if any, is
not known and trade with the US is not in the mirror), direct contiguity with the US and COW region.
Columns ending in ``_l1`` hold the same covariates one year before the start (the lagged variant).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Iterator, Mapping

import numpy as np
import pandas as pd

from ..util import CoalitionsError, derived
from .cases import CONTRIBUTIONS, US

EMBEDDEDNESS_VARIANTS = ("igo_plus_alliances", "igo_only", "agreements_only", "without_security_ties",
                         "normalised", "igo_alliances_diplomatic", "diplomatic_only")
DIPLOMATIC_MEASURES = ("presence", "levels")
ALLIANCE_TYPES = ("defense", "offense", "neutral", "nonagg", "consul")
ALLIANCE_MEASURES = ("obligation_types", "shared_alliances")
IGO_STATUS_SETS = {"full": (1,), "full_associate": (1, 2)}
IGO_WAVE_RULES = ("five_year_before_1965", "annual")
#: security organisations among the IGOs the US belonged to (COW IGO v3 codes); the project's list
DEFAULT_SECURITY_IGOS = ("nato", "seato", "cento", "anzus", "weu", "iadefb", "eapc", "osce", "mfo", "wassen")
NMC_TABLES = ("cow_nmc6", "cow_nmc5", "cow_nmc7")
IDEALPOINT_COLUMNS = ("idealpoint_all", "idealpoint_fp", "idealpoint_legacy")
UNCERTAIN_RULES = ("count", "drop")
EARTH_RADIUS_KM = 6371.0088

STATUSES = ("rebuilt", "proxy", "not_available")


def _fail(origin: str, key: str, msg: str) -> CoalitionsError:
    where = f"{origin}: " if origin else ""
    return CoalitionsError(f"{where}key '{key}': {msg}")


@dataclass(frozen=True)
class HenkeCoding:
    """The coding choices of the rebuilt Henke dataset (defaults = the project's baseline reading).

    embeddedness
        which embeddedness variant the column ``embeddedness`` holds (see the module docstring);
        ``agreements_only`` makes every model using ``embeddedness`` not estimable.
    diplomatic_measure
        ``presence`` (directions with representation, 0-2) or ``levels`` (sum of the representation
        levels, 0-6; no value where the level is not known) for ``diplomatic_ties``.
    alliance_components, alliance_measure
        which ATOP obligation types count as alliance ties, and whether ties are obligation types
        (``obligation_types``) or shared ATOP alliances (``shared_alliances``; components then unused).
    igo_statuses
        ``full`` (only full members on both sides) or ``full_associate``.
    igo_waves
        ``five_year_before_1965`` (use COW's waves before 1965) or ``annual``.
    security_igos
        COW IGO codes treated as security organisations by ``without_security_ties``.
    lag_years
        0: covariates in the operation's start year; 1: the year before.
    operations
        ``"all"`` or a list of operation ids to keep.
    complete_lists_only
        keep only operations whose contributor list is marked complete.
    contribution_types
        contributions that count as joining; contributors of other types are dropped from the data
        (coding them 0 would claim they stayed out).
    uncertain_contributors
        ``count`` single-source contributors as joiners, or ``drop`` them from the data.
    exclude_hosts
        remove the states an operation defended or was deployed in from its potential contributors.
    exclude_targets_allies
        remove states with an ATOP defence tie to a target of the operation in the covariate year.
    nmc_table, idealpoint
        the CINC source table and the UN ideal-point column.
    """

    embeddedness: str = "igo_plus_alliances"
    diplomatic_measure: str = "presence"
    alliance_components: tuple[str, ...] = ALLIANCE_TYPES
    alliance_measure: str = "obligation_types"
    igo_statuses: str = "full"
    igo_waves: str = "five_year_before_1965"
    security_igos: tuple[str, ...] = DEFAULT_SECURITY_IGOS
    lag_years: int = 0
    operations: str | tuple[str, ...] = "all"
    complete_lists_only: bool = False
    contribution_types: tuple[str, ...] = CONTRIBUTIONS
    uncertain_contributors: str = "count"
    exclude_hosts: bool = True
    exclude_targets_allies: bool = False
    nmc_table: str = "cow_nmc6"
    idealpoint: str = "idealpoint_all"

    # ------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None, origin: str = "") -> "HenkeCoding":
        """Build from a mapping (a coding file's ``henke:`` section); unknown keys, wrong types and
        values raise :class:`CoalitionsError` naming ``origin`` and the key. Missing keys keep defaults."""
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise _fail(origin, unknown[0], f"unknown key; the keys of a henke coding are {sorted(known)}")
        kw: dict[str, Any] = {}

        def choice(key: str, allowed: tuple[str, ...]) -> None:
            if key in data:
                v = data[key]
                if not isinstance(v, str) or v not in allowed:
                    raise _fail(origin, key, f"must be one of {list(allowed)}, got {v!r}")
                kw[key] = v

        def flag(key: str) -> None:
            if key in data:
                if not isinstance(data[key], bool):
                    raise _fail(origin, key, f"must be true or false, got {data[key]!r}")
                kw[key] = data[key]

        def str_list(key: str, allowed: tuple[str, ...] | None, nonempty: bool = True) -> None:
            if key in data:
                v = data[key]
                if not isinstance(v, (list, tuple)) or not all(isinstance(x, str) for x in v):
                    raise _fail(origin, key, f"must be a list of strings, got {v!r}")
                if nonempty and not v:
                    raise _fail(origin, key, "must not be empty")
                if len(set(v)) != len(v):
                    raise _fail(origin, key, f"lists a value twice: {list(v)}")
                if allowed is not None:
                    bad = [x for x in v if x not in allowed]
                    if bad:
                        raise _fail(origin, key, f"unknown value(s) {bad}; allowed: {list(allowed)}")
                kw[key] = tuple(v)

        choice("embeddedness", EMBEDDEDNESS_VARIANTS)
        choice("diplomatic_measure", DIPLOMATIC_MEASURES)
        str_list("alliance_components", ALLIANCE_TYPES)
        choice("alliance_measure", ALLIANCE_MEASURES)
        choice("igo_statuses", tuple(IGO_STATUS_SETS))
        choice("igo_waves", IGO_WAVE_RULES)
        str_list("security_igos", None, nonempty=False)
        if "lag_years" in data:
            v = data["lag_years"]
            if isinstance(v, bool) or v not in (0, 1):
                raise _fail(origin, "lag_years", f"must be 0 or 1, got {v!r}")
            kw["lag_years"] = int(v)
        if "operations" in data:
            v = data["operations"]
            if v == "all":
                kw["operations"] = "all"
            else:
                str_list("operations", None)
        flag("complete_lists_only")
        str_list("contribution_types", CONTRIBUTIONS)
        choice("uncertain_contributors", UNCERTAIN_RULES)
        flag("exclude_hosts")
        flag("exclude_targets_allies")
        choice("nmc_table", NMC_TABLES)
        choice("idealpoint", IDEALPOINT_COLUMNS)
        return cls(**kw)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items()}


# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------
_TABLES_NEEDED = ("cow_states", "cow_system", "cow_igo_memberships", "igo_counts_state_year",
                  "atop_dyad_year", "atop_state_year",
                  "polity5", "capitals", "unga_idealpoints", "cow_trade_national", "cow_contdird",
                  "cow_diplomatic_exchange")


def _table(tables: Any, name: str) -> pd.DataFrame:
    try:
        return tables[name]
    except KeyError:
        raise CoalitionsError(f"the Henke dataset needs the clean table '{name}' (results/sources/{name}.parquet); "
                              "build it with snakemake first") from None


def igo_wave_year(year: pd.Series | np.ndarray, rule: str) -> np.ndarray:
    """The IGO data year used for a covariate year: before 1965 the latest five-year wave at or before
    it (COW records memberships in 1945, 1950, 1955, 1960), from 1965 on the year itself."""
    y = np.asarray(year, dtype=int)
    if rule == "annual":
        return y.copy()
    if rule != "five_year_before_1965":
        raise ValueError(f"unknown IGO wave rule {rule!r}")
    return np.where(y < 1965, y - y % 5, y)


def region_of(ccode: pd.Series) -> pd.Series:
    """COW region from the country code (Americas 2-165, Europe 200-399, Africa 400-626, Middle East
    630-698, Asia 700-899, Oceania 900-990)."""
    c = pd.to_numeric(ccode).to_numpy()
    out = np.select(
        [c < 200, c < 400, c < 630, c < 700, c < 900],
        ["americas", "europe", "africa", "middle_east", "asia"], default="oceania",
    )
    return pd.Series(out, index=ccode.index, dtype="object")


def haversine_km(lat1, lng1, lat2, lng2) -> np.ndarray:
    """Great-circle distance in km (spherical Earth, mean radius 6371.0088 km)."""
    p1, p2 = np.radians(np.asarray(lat1, float)), np.radians(np.asarray(lat2, float))
    dphi = p2 - p1
    dl = np.radians(np.asarray(lng2, float) - np.asarray(lng1, float))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def _capital_at(capitals: pd.DataFrame, keys: pd.DataFrame, ccode_col: str, date_col: str) -> pd.DataFrame:
    """lat/lng of each key's capital valid on its date (NaN when none is)."""
    k = keys[[ccode_col, date_col]].reset_index().rename(columns={ccode_col: "ccode", date_col: "date"})
    k["ccode"] = k["ccode"].astype("int64")
    cap = derived("henke_capitals", [capitals], lambda: capitals[["ccode", "start", "end", "lat", "lng"]].astype(
        {"ccode": "int64"}))
    m = k.merge(cap, on="ccode", how="left")
    valid = (m["start"] <= m["date"]) & (m["end"] >= m["date"])
    m = m[valid].drop_duplicates("index", keep="last").set_index("index")
    return m[["lat", "lng"]].reindex(keys.index)


# ----------------------------------------------------------------------------------------------
# covariates
# ----------------------------------------------------------------------------------------------
#: COW IGO v3 records West Germany's memberships under Germany (255) from 1990, while the COW state
#: list keeps the German Federal Republic (260) until 3 October 1990: look 260 up as 255 in such years.
IGO_CODE_ALIASES = {260: 255}


def _igo_lookup_codes(ccode: np.ndarray, year: np.ndarray, frame_keys: set) -> np.ndarray:
    out = ccode.copy()
    for a, b in IGO_CODE_ALIASES.items():
        m = np.array([(c == a) and ((a, y) not in frame_keys) and ((b, y) in frame_keys)
                      for c, y in zip(ccode, year)], dtype=bool)
        out[m] = b
    return out


def _igo_counts(memberships: pd.DataFrame, statuses, sec: set) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Joint IGOs with the US, joint non-security IGOs and total IGOs of every state-year with a
    membership of one of ``statuses``."""
    mem = memberships[memberships["status"].isin(statuses)]
    mem = mem[["ccode", "year", "igo"]].astype({"ccode": "int64", "year": "int64"})
    us = mem[mem["ccode"] == US][["year", "igo"]]
    joint = mem.merge(us, on=["year", "igo"])
    joint_n = joint.groupby(["ccode", "year"]).size().rename("joint_igos")
    joint_ns = joint[~joint["igo"].isin(sec)].groupby(["ccode", "year"]).size().rename("joint_igos_nonsecurity")
    total = mem.groupby(["ccode", "year"]).size().rename("total_igos")
    return joint_n, joint_ns, total


def _igo_covariates(memberships: pd.DataFrame, frame: pd.DataFrame, system: pd.DataFrame,
                    keys: pd.DataFrame, coding: HenkeCoding) -> pd.DataFrame:
    """Joint, total and non-security joint IGO memberships. ``frame`` is the IGO data's own state-year
    frame (``igo_counts_state_year``); a state-year outside it or outside the COW system has no value."""
    statuses = IGO_STATUS_SETS[coding.igo_statuses]
    wave = igo_wave_year(keys["cov_year"], coding.igo_waves)
    out = pd.DataFrame(index=keys.index)
    out["igo_year_used"] = wave
    frame_keys = derived("igo_frame_keys", [frame], lambda: set(zip(frame["ccode"].astype("int64"),
                                                                     frame["year"].astype("int64"))))
    lookup = _igo_lookup_codes(keys["ccode"].astype("int64").to_numpy(), wave, frame_keys)
    need = pd.DataFrame({"ccode": lookup, "year": wave}).drop_duplicates()
    sec = tuple(sorted(set(coding.security_igos)))
    # the counts of every state-year (computed once per statuses and security IGOs), looked up for the keys
    joint_n, joint_ns, total = derived(f"igo_counts:{sorted(statuses)}:{sec}", [memberships],
                                       lambda: _igo_counts(memberships, statuses, set(sec)))
    agg = need.set_index(["ccode", "year"]).join([joint_n, joint_ns, total]).fillna(0)
    # no value (NaN) where the IGO data do not cover the year or the state was not in the system then
    sys_keys = derived("system_keys", [system], lambda: set(zip(system["ccode"].astype("int64"),
                                                                 system["year"].astype("int64"))))
    idx = agg.index.to_frame(index=False)
    ok = np.array([((c, y) in frame_keys) and ((c, y) in sys_keys) for c, y in zip(idx["ccode"], idx["year"])],
                  dtype=bool)
    agg.loc[~ok, :] = np.nan
    m = pd.DataFrame({"ccode": lookup, "year": wave}, index=keys.index)
    m = m.join(agg, on=["ccode", "year"])
    for c in ("joint_igos", "joint_igos_nonsecurity", "total_igos"):
        out[c] = m[c].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["joint_igos_share"] = np.where(out["total_igos"] > 0, out["joint_igos"] / out["total_igos"], np.nan)
    return out


def diplomatic_wave_year(year: pd.Series | np.ndarray, waves) -> np.ndarray:
    """The Diplomatic Exchange wave used for a covariate year: the latest wave at or before it (float; NaN
    before the first wave). COW's waves are five years apart from 1950, with none in 1945."""
    y = np.asarray(year, dtype=float)
    w = np.sort(np.unique(np.asarray(waves, dtype=float)))
    if w.size == 0:
        raise ValueError("no Diplomatic Exchange waves")
    i = np.searchsorted(w, y, side="right") - 1
    return np.where(i >= 0, w[np.clip(i, 0, None)], np.nan)


def _diplomatic_covariates(dipl: pd.DataFrame, keys: pd.DataFrame, coding: HenkeCoding) -> pd.DataFrame:
    """Diplomatic representation between each key's state and the US in the wave at or before its year.

    Reads the directed dyad (state, US): ``dr_at_1`` is the US's representation at the state, ``dr_at_2`` the
    state's at the US (the reader has checked that the mirror dyad (US, state) agrees)."""
    from ..readers.diplomatic import represented

    wave = diplomatic_wave_year(keys["cov_year"], dipl["year"].astype("int64").unique())
    out = pd.DataFrame(index=keys.index)
    out["dipl_year_used"] = wave
    d = dipl[dipl["ccode2"] == US][["ccode1", "year", "dr_at_1", "dr_at_2", "de"]].astype("int64")
    d = d.set_index(["ccode1", "year"])
    w_int = np.where(np.isnan(wave), -1, wave).astype("int64")
    idx = pd.MultiIndex.from_arrays([keys["ccode"].astype("int64").to_numpy(), w_int])
    got = d.reindex(idx)
    us_at, at_us = got["dr_at_1"].to_numpy(dtype=float), got["dr_at_2"].to_numpy(dtype=float)
    out["dipl_us_at_state"] = us_at
    out["dipl_state_at_us"] = at_us
    out["dipl_exchange"] = got["de"].to_numpy(dtype=float)
    known = ~np.isnan(us_at) & ~np.isnan(at_us)
    pres = represented(us_at, wave).astype(float) + represented(at_us, wave).astype(float)
    out["dipl_presence"] = np.where(known, pres, np.nan)
    level_known = known & (us_at != 9) & (at_us != 9)
    out["dipl_level"] = np.where(level_known, us_at + at_us, np.nan)
    out["diplomatic_ties"] = out["dipl_presence" if coding.diplomatic_measure == "presence" else "dipl_level"]
    return out


def _atop_us_ties(atop_dyad: pd.DataFrame, keys: pd.DataFrame, partner: int | pd.Series = US) -> pd.DataFrame:
    """ATOP obligation indicators between each key's state and ``partner`` in the covariate year,
    either direction (max over the two directed dyads); 0 when no ATOP dyad-year exists inside ATOP's
    coverage, NaN outside it."""
    cols = [f"atop_{t}" for t in ALLIANCE_TYPES]
    a = derived("atop_dyad_int", [atop_dyad], lambda: atop_dyad[["ccode1", "ccode2", "year", *cols]].astype("int64"))
    lo, hi = int(a["year"].min()), int(a["year"].max())
    p = np.asarray(partner, dtype="int64")
    if p.ndim == 0:  # one partner: only its dyads can match
        one = int(p)
        a = derived(f"atop_dyads_of:{one}", [atop_dyad], lambda: a[(a["ccode1"] == one) | (a["ccode2"] == one)])
        p = np.full(len(keys), one)
    k = pd.DataFrame({"c": keys["ccode"].astype("int64").to_numpy(), "p": p,
                      "year": keys["cov_year"].astype("int64").to_numpy()}, index=keys.index)
    d1 = k.reset_index().merge(a, left_on=["c", "p", "year"], right_on=["ccode1", "ccode2", "year"], how="left")
    d2 = k.reset_index().merge(a, left_on=["p", "c", "year"], right_on=["ccode1", "ccode2", "year"], how="left")
    d1 = d1.set_index("index")[cols].fillna(0)
    d2 = d2.set_index("index")[cols].fillna(0)
    res = np.maximum(d1, d2).reindex(keys.index).astype(float)
    outside = (k["year"] < lo) | (k["year"] > hi)
    res.loc[outside, :] = np.nan
    return res


def _shared_with_us(atop_sy: pd.DataFrame) -> pd.Series:
    """Number of ATOP alliances shared with the US of every state-year that shares one."""
    s = atop_sy[["ccode", "year", "atopids"]].copy()
    s["atopid"] = s["atopids"].astype(str).str.split()
    s = s.explode("atopid").dropna(subset=["atopid"])
    s = s.astype({"ccode": "int64", "year": "int64"})
    us = s[s["ccode"] == US][["year", "atopid"]]
    return s.merge(us, on=["year", "atopid"]).groupby(["ccode", "year"]).size().rename("n")


def _shared_alliances(atop_sy: pd.DataFrame, keys: pd.DataFrame) -> pd.Series:
    shared = derived("atop_shared_with_us", [atop_sy], lambda: _shared_with_us(atop_sy))
    k = pd.DataFrame({"ccode": keys["ccode"].astype("int64").to_numpy(),
                      "year": keys["cov_year"].astype("int64").to_numpy()}, index=keys.index)
    out = k.join(shared, on=["ccode", "year"])["n"].fillna(0).astype(float)
    lo, hi = int(atop_sy["year"].min()), int(atop_sy["year"].max())
    out[(k["year"] < lo) | (k["year"] > hi)] = np.nan
    return out


def _state_year_value(table: pd.DataFrame, keys: pd.DataFrame, column: str, year_col: str = "cov_year",
                      ccode: int | None = None) -> pd.Series:
    def index() -> pd.Series:
        t = table[["ccode", "year", column]].dropna(subset=["ccode", "year"])
        t = t.astype({"ccode": "int64", "year": "int64"}).drop_duplicates(["ccode", "year"])
        return t.set_index(["ccode", "year"])[column]

    t = derived(f"state_year_value:{column}", [table], index)
    c = keys["ccode"].astype("int64") if ccode is None else pd.Series(ccode, index=keys.index, dtype="int64")
    idx = pd.MultiIndex.from_arrays([c.to_numpy(), keys[year_col].astype("int64").to_numpy()])
    return pd.Series(pd.to_numeric(t.reindex(idx), errors="coerce").to_numpy(dtype=float), index=keys.index)


def covariates(tables: Any, keys: pd.DataFrame, coding: HenkeCoding) -> pd.DataFrame:
    """All covariates for ``keys`` (columns ``ccode``, ``cov_year``, ``ref_date``), indexed like ``keys``."""
    system = _table(tables, "cow_system")
    out = _igo_covariates(_table(tables, "cow_igo_memberships"), _table(tables, "igo_counts_state_year"),
                          system, keys, coding)
    atop = _atop_us_ties(_table(tables, "atop_dyad_year"), keys)
    for t in ALLIANCE_TYPES:
        out[f"atop_{t}_us"] = atop[f"atop_{t}"]
    out["shared_atop_alliances"] = _shared_alliances(_table(tables, "atop_state_year"), keys)
    if coding.alliance_measure == "obligation_types":
        out["alliance_ties"] = out[[f"atop_{t}_us" for t in coding.alliance_components]].sum(axis=1, min_count=1)
    else:
        out["alliance_ties"] = out["shared_atop_alliances"]
    out["defense"] = out["atop_defense_us"]
    out["bilateral_agreements"] = np.nan
    out["embeddedness_igo_plus_alliances"] = out["joint_igos"] + out["alliance_ties"]
    out["embeddedness_igo_only"] = out["joint_igos"]
    out["embeddedness_without_security_ties"] = out["joint_igos_nonsecurity"]
    out["embeddedness_normalised"] = out["joint_igos_share"]
    out["embeddedness_agreements_only"] = out["bilateral_agreements"]
    dip = _diplomatic_covariates(_table(tables, "cow_diplomatic_exchange"), keys, coding)
    for c in dip.columns:
        out[c] = dip[c]
    out["embeddedness_igo_alliances_diplomatic"] = out["joint_igos"] + out["alliance_ties"] + out["diplomatic_ties"]
    out["embeddedness_diplomatic_only"] = out["diplomatic_ties"]
    out["embeddedness"] = out[f"embeddedness_{coding.embeddedness}"]
    # controls
    out["polity2"] = _state_year_value(_table(tables, "polity5"), keys, "polity2")
    nmc = _table(tables, coding.nmc_table)
    out["cinc"] = _state_year_value(nmc, keys, "cinc")
    with np.errstate(divide="ignore"):
        out["log_cinc"] = np.where(out["cinc"] > 0, np.log(out["cinc"]), np.nan)
    caps = _table(tables, "capitals")
    own = _capital_at(caps, keys, "ccode", "ref_date")
    usk = pd.DataFrame({"ccode": US, "ref_date": keys["ref_date"]}, index=keys.index)
    usc = _capital_at(caps, usk, "ccode", "ref_date")
    out["distance_km"] = haversine_km(own["lat"], own["lng"], usc["lat"], usc["lng"])
    out["distance_1000km"] = out["distance_km"] / 1000.0
    unga = _table(tables, "unga_idealpoints")
    ip = _state_year_value(unga, keys, coding.idealpoint)
    ip_us = _state_year_value(unga, keys, coding.idealpoint, ccode=US)
    out["idealpoint_distance"] = (ip - ip_us).abs()
    raw_trade = _table(tables, "cow_trade_national")
    trade = derived("trade_total", [raw_trade], lambda: raw_trade.assign(
        total_trade=raw_trade["imports"] + raw_trade["exports"]))
    out["trade_total"] = _state_year_value(trade, keys, "total_trade")
    out["log_trade"] = np.log1p(out["trade_total"])
    cont = _table(tables, "cow_contdird")

    def contiguity() -> pd.DataFrame:
        cus = cont[cont["ccode1"] == US].rename(columns={"ccode2": "ccode"})
        return cus.assign(contig=(cus["conttype"] <= 5).astype(float))

    cus = derived("contiguity_us", [cont], contiguity)
    v = _state_year_value(cus, keys, "contig").fillna(0.0)
    lo, hi = int(cont["year"].min()), int(cont["year"].max())
    v[(keys["cov_year"] < lo) | (keys["cov_year"] > hi)] = np.nan
    out["contiguous_us"] = v
    return out


#: covariates repeated one year before the start (suffix ``_l1``) for the lagged variant
LAGGED = ("embeddedness", "embeddedness_igo_plus_alliances", "embeddedness_igo_only",
          "embeddedness_without_security_ties", "embeddedness_normalised", "embeddedness_agreements_only",
          "joint_igos", "alliance_ties", "igo_year_used", "defense", "polity2", "cinc", "log_cinc",
          "distance_1000km", "idealpoint_distance", "log_trade",
          "embeddedness_igo_alliances_diplomatic", "embeddedness_diplomatic_only", "diplomatic_ties",
          "dipl_year_used")

_NOTES: dict[str, tuple[str, str]] = {
    "operation_id": ("rebuilt", "operation (config/cases/henke_operations.csv; the project's list, not Henke's)"),
    "ccode": ("rebuilt", "COW country code of the potential contributor (in the COW system on the start date; "
                         "US, targets and hosts removed)"),
    "state_name": ("rebuilt", "COW state name"),
    "start_date": ("rebuilt", "operation start date (case file)"),
    "start_year": ("rebuilt", "year of the start date"),
    "cov_year": ("rebuilt", "year the covariates are measured in (start year minus lag_years)"),
    "joined": ("rebuilt", "1 = listed as a contributor in config/cases/henke_contributors.csv (COW war "
                          "participants plus sourced hand-coded lists), else 0"),
    "contribution": ("rebuilt", "contributor's type of contribution (combat/noncombat/unspecified); empty for non-joiners"),
    "certainty": ("rebuilt", "contributor row certainty (confirmed/single_source); empty for non-joiners"),
    "contributors_list": ("rebuilt", "whether the operation's contributor list is complete or known to be partial"),
    "igo_year_used": ("rebuilt", "COW IGO year used: before 1965 the latest five-year wave at or before the "
                                 "covariate year (igo_waves rule)"),
    "joint_igos": ("rebuilt", "IGOs with both the US and the state as members (COW IGO v3; statuses per "
                              "igo_statuses); NaN if the state was not in the system in the IGO year"),
    "joint_igos_nonsecurity": ("rebuilt", "joint IGOs other than the coding's security_igos"),
    "total_igos": ("rebuilt", "the state's own IGO memberships (same statuses)"),
    "joint_igos_share": ("rebuilt", "joint_igos / total_igos"),
    "alliance_ties": ("rebuilt", "ATOP ties with the US (obligation types in either direction, or shared "
                                 "ATOP alliances; alliance_measure)"),
    "shared_atop_alliances": ("rebuilt", "number of ATOP alliances (atopids) shared with the US"),
    "bilateral_agreements": ("not_available", "US bilateral treaties and agreements with the state: no public "
                                              "source in the offline mirror; left missing, never zero"),
    "embeddedness_igo_plus_alliances": ("proxy", "joint_igos + alliance_ties: Henke's embeddedness without "
                                                 "the bilateral agreements"),
    "embeddedness_igo_only": ("proxy", "joint_igos only"),
    "embeddedness_without_security_ties": ("proxy", "joint non-security IGOs, no alliance ties"),
    "embeddedness_normalised": ("proxy", "joint_igos / total_igos (share of the state's IGOs shared with the US)"),
    "embeddedness_agreements_only": ("not_available", "bilateral treaties and agreements only: not available (no "
                                                      "source of US treaties and agreements in the data; diplomatic "
                                                      "representation, a different bilateral tie, is the "
                                                      "diplomatic_only variant)"),
    "dipl_year_used": ("rebuilt", "COW Diplomatic Exchange wave used: the latest wave at or before the covariate "
                                  "year (five-yearly from 1950, none in 1945)"),
    "dipl_us_at_state": ("rebuilt", "level of US representation at the state (COW Diplomatic Exchange DR_at_1 of "
                                    "the dyad (state, US): 0 none, 1 charge d'affaires, 2 minister, 3 ambassador, 9 "
                                    "other); NaN if the state has no dyad with the US in the wave"),
    "dipl_state_at_us": ("rebuilt", "level of the state's representation at the US (DR_at_2 of the dyad (state, "
                                    "US); same codes)"),
    "dipl_exchange": ("rebuilt", "COW's DE: either side represented (levels 1-3, or 9 in 1950-1965)"),
    "dipl_presence": ("proxy", "directions with diplomatic representation between the US and the state (0-2); a "
                               "proxy for Henke's bilateral ties: she counted treaties and agreements, this counts "
                               "diplomatic representation"),
    "dipl_level": ("proxy", "sum of the two representation levels (0-6), missing where a side is coded 9 (level "
                            "not recorded, as in every exchange of 1950-1965); a proxy for Henke's bilateral ties "
                            "(diplomatic representation, not treaties and agreements)"),
    "diplomatic_ties": ("proxy", "diplomatic representation with the US as coded (diplomatic_measure: dipl_presence "
                                 "or dipl_level); a proxy: Henke counted treaties and agreements, this counts "
                                 "diplomatic representation"),
    "embeddedness_igo_alliances_diplomatic": ("proxy", "joint_igos + alliance_ties + diplomatic_ties: the bilateral "
                                                       "part is diplomatic representation, a proxy for Henke's "
                                                       "treaties and agreements"),
    "embeddedness_diplomatic_only": ("proxy", "diplomatic_ties only (diplomatic representation with the US, a proxy "
                                              "for Henke's bilateral treaties and agreements)"),
    "defense": ("rebuilt", "ATOP defence obligation between the state and the US (either direction)"),
    "polity2": ("rebuilt", "Polity5 polity2 (missing for states under 500,000 people)"),
    "cinc": ("rebuilt", "CINC (COW National Material Capabilities; table per nmc_table)"),
    "log_cinc": ("rebuilt", "log CINC"),
    "distance_km": ("rebuilt", "great-circle distance between the capitals valid at the date (peacesciencer "
                               "COW capitals), km"),
    "distance_1000km": ("rebuilt", "distance_km / 1000"),
    "idealpoint_distance": ("rebuilt", "|ideal point - US ideal point| (Voeten UNGA; missing before 1946 and "
                                       "for non-members)"),
    "trade_total": ("proxy", "the state's total trade, imports + exports (COW trade 4.0, current US$ millions); "
                             "a proxy: trade with the US is not in the mirror"),
    "log_trade": ("proxy", "log(1 + trade_total)"),
    "contiguous_us": ("rebuilt", "direct contiguity with the US (COW direct contiguity, any type 1-5)"),
    "region": ("rebuilt", "COW region from the country code"),
}


def _variables_table(data: pd.DataFrame, coding: HenkeCoding) -> pd.DataFrame:
    rows = []
    for col in data.columns:
        base = col[:-3] if col.endswith("_l1") else col
        if base == "embeddedness":
            status, note = _NOTES[f"embeddedness_{coding.embeddedness}"]
            note = f"embeddedness as coded ({coding.embeddedness}): {note}"
            if coding.embeddedness in ("igo_alliances_diplomatic", "diplomatic_only"):
                note += f" (diplomatic_measure: {coding.diplomatic_measure})"
        elif base.startswith("atop_") and base.endswith("_us"):
            status, note = "rebuilt", f"ATOP {base[5:-3]} obligation with the US (either direction, 0/1)"
        elif base in _NOTES:
            status, note = _NOTES[base]
        else:
            raise AssertionError(f"no variables-table entry for column {col!r}")
        if col.endswith("_l1"):
            note = f"{note} -- one year before the start"
        rows.append({"variable": col, "status": status, "note": note,
                     "n_missing": int(data[col].isna().sum()) if col in data else 0})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------------------------
# the dataset
# ----------------------------------------------------------------------------------------------
def select_operations(operations: pd.DataFrame, coding: HenkeCoding) -> pd.DataFrame:
    ops = operations
    if coding.operations != "all":
        unknown = sorted(set(coding.operations) - set(ops["operation_id"]))
        if unknown:
            raise CoalitionsError(f"henke coding: key 'operations': unknown operation id(s) {unknown}; "
                                  f"known: {ops['operation_id'].tolist()}")
        ops = ops[ops["operation_id"].isin(coding.operations)]
    if coding.complete_lists_only:
        ops = ops[ops["contributors_list"] == "complete"]
    if ops.empty:
        raise CoalitionsError("henke coding: no operation left after the 'operations'/'complete_lists_only' choices")
    return ops


def risk_set(operations: pd.DataFrame, contributors: pd.DataFrame, states: pd.DataFrame,
             coding: HenkeCoding) -> pd.DataFrame:
    """Potential contributors x operations with the outcome ``joined``: every state in the COW system on
    the start date (COW state-list spells), minus the US, the targets and (``exclude_hosts``) the hosts.
    Contributors whose contribution type does not count, or single-source ones under
    ``uncertain_contributors="drop"``, are removed (not coded 0)."""
    ops = operations[["operation_id", "start_date", "targets", "hosts", "contributors_list"]]
    st = states[["ccode", "statenme", "start", "end"]].copy()
    st["ccode"] = st["ccode"].astype("int64")
    pairs = ops.merge(st, how="cross")
    pairs = pairs[(pairs["start"] <= pairs["start_date"]) & (pairs["end"] >= pairs["start_date"])]
    pairs = pairs.drop_duplicates(["operation_id", "ccode"])
    excluded = np.array([c == US or c in t or (coding.exclude_hosts and c in h)
                         for c, t, h in zip(pairs["ccode"], pairs["targets"], pairs["hosts"])], dtype=bool)
    pairs = pairs[~excluded]
    con = contributors[["operation_id", "ccode", "contribution", "certainty"]].copy()
    con["ccode"] = con["ccode"].astype("int64")
    d = pairs.merge(con, on=["operation_id", "ccode"], how="left", validate="one_to_one")
    d["joined"] = d["contribution"].notna().astype("int64")
    drop = d["joined"].eq(1) & ~d["contribution"].isin(coding.contribution_types)
    if coding.uncertain_contributors == "drop":
        drop |= d["joined"].eq(1) & d["certainty"].eq("single_source")
    d = d[~drop]
    d = d.rename(columns={"statenme": "state_name"})
    d["contribution"] = d["contribution"].fillna("")
    d["certainty"] = d["certainty"].fillna("")
    return d[["operation_id", "ccode", "state_name", "start_date", "targets", "contributors_list", "joined",
              "contribution", "certainty"]].reset_index(drop=True)


def build_dataset(tables: Any, operations: pd.DataFrame, contributors: pd.DataFrame,
                  coding: HenkeCoding | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rebuilt dataset and its variables table.

    ``tables``: mapping of clean-table name to DataFrame (``cow_states``, ``cow_system``,
    ``cow_igo_memberships``, ``igo_counts_state_year``, ``atop_dyad_year``, ``atop_state_year``, ``polity5``, the coding's NMC
    table, ``capitals``, ``unga_idealpoints``, ``cow_trade_national``, ``cow_contdird``).
    ``operations``/``contributors``: the validated case files (:func:`coalitions.henke.cases.load_cases`).

    Returns ``(data, variables)``: one row per potential contributor x operation, and one row per
    column of ``data`` with its ``status`` (rebuilt / proxy / not_available), a note and its number
    of missing values.
    """
    coding = coding or HenkeCoding()
    missing = []
    for name in (*_TABLES_NEEDED, coding.nmc_table):
        try:
            tables[name]
        except KeyError:
            missing.append(name)
    if missing:
        raise CoalitionsError(f"the Henke dataset needs the clean table(s) {missing} "
                              "(results/sources/<table>.parquet); build them with snakemake first")
    ops = select_operations(operations, coding)
    d = risk_set(ops, contributors, _table(tables, "cow_states"), coding)
    d["start_year"] = d["start_date"].dt.year.astype("int64")
    d["cov_year"] = d["start_year"] - coding.lag_years
    keys = pd.DataFrame({"ccode": d["ccode"], "cov_year": d["cov_year"],
                         "ref_date": d["start_date"] - pd.DateOffset(years=coding.lag_years)})
    cov = covariates(tables, keys, coding)
    keys1 = pd.DataFrame({"ccode": d["ccode"], "cov_year": d["start_year"] - 1,
                          "ref_date": d["start_date"] - pd.DateOffset(years=1)})
    cov1 = covariates(tables, keys1, coding)[list(LAGGED)].add_suffix("_l1")
    if coding.exclude_targets_allies:
        allied = pd.Series(False, index=d.index)
        tgt = d[["ccode", "cov_year", "targets"]].explode("targets").dropna(subset=["targets"])
        if not tgt.empty:
            rows = tgt.index.to_numpy()
            tgt = tgt.reset_index(drop=True)
            ties = _atop_us_ties(_table(tables, "atop_dyad_year"), tgt, partner=tgt["targets"].astype("int64"))
            hit = ties["atop_defense"].fillna(0).gt(0).groupby(rows).any()
            allied.loc[hit.index] = hit.to_numpy()
        keep = ~allied
        d, cov, cov1 = d[keep], cov[keep], cov1[keep]
    data = pd.concat([d.drop(columns=["targets"]), cov, cov1], axis=1)
    data["region"] = region_of(data["ccode"])
    data["ccode"] = data["ccode"].astype("int64")
    data = data.sort_values(["start_date", "ccode"], kind="stable").reset_index(drop=True)
    return data, _variables_table(data, coding)


class ParquetTables(Mapping):
    """The clean tables of a folder (``results/sources``) as a read-on-demand mapping, for
    :func:`build_dataset`: ``tables["cow_states"]`` reads ``<folder>/cow_states.parquet`` once."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self._cache: dict[str, pd.DataFrame] = {}

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self._cache:
            path = self.folder / f"{name}.parquet"
            if not path.is_file():
                raise KeyError(name)
            self._cache[name] = pd.read_parquet(path)
        return self._cache[name]

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(p.stem for p in self.folder.glob("*.parquet")))

    def __len__(self) -> int:
        return len(list(self.folder.glob("*.parquet")))

"""The REBUILT track of Weisiger (2016): participant-period data built from public sources only.

Weisiger's own data (``coalition_exit_final.dta``) can only be had from Dataverse. This module
rebuilds what public data allow, in three steps:

1. :func:`build_participants`: one row per coalition participant (an *at-risk unit*) with its entry,
   its end and whether that end was an *exit* (abandonment of the coalition) or censored, and why.
   A coalition is a war side on which at least two states fought at the same time. A state on both
   sides of one war (Italy, Romania, Bulgaria in WWII) is two participants. The exit rules, in order:

   * ``censored_side_end``: it fought until its side stopped (within ``exit_tolerance_days``);
   * ``side_change``: it left and later fought on the other side of the same war (an exit unless
     ``side_change_is_exit`` is false: ``censored_side_change``);
   * ``censored_enemy_surrender``: its fighting ended on the day the last enemy in its theatre
     stopped (Brazil, 7 May 1945);
   * ``exit_before_side_end``: otherwise it stopped while its side fought on: an exit.

   Then the sourced case files (``config/cases/weisiger_*.csv``) and the coding's own case rules
   override the date rules, each recording its source: ``war_ending_exit (case file)`` (exits that
   ended the whole war, invisible in COW), ``censored_not_exit (case file): <reason>`` and
   ``censored_case_rule: <reason>``. ``rule_exit_reason`` keeps what the dates alone said.

2. :func:`build_periods`: counting-process records ``(start, stop]`` per at-risk unit, split only
   where a covariate really changes (a member of either side joins or leaves, a new calendar year
   brings new CINC/Polity/ATOP values, a new leader takes office, a partner's exit enters or leaves
   the recent-exit window) plus the participant's first day (Weisiger's ``warday == 1`` record).

3. :func:`build_rebuilt` runs both and adds the ``variables`` table: for every variable of
   Weisiger's models whether it is rebuilt, a proxy or not available, and how.

Coding parameters: :class:`~coalitions.weisiger.rebuild_coding.WeisigerCoding`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

from ..readers.cow import WHERE_FOUGHT_REGIONS
from ..schema import Col, TableSchema, validate, write_table
from ..util import LOG, CoalitionsError, derived
from .rebuild_cases import NOT_EXITS, WAR_ENDING_EXITS, load_cases, validate_cases
from .rebuild_coding import CensorCase, WeisigerCoding
from .rebuild_sources import alliance_lookup, coalition_history, cow_to_gw, nearest_fill
from .battle_periods import (StepIndex, build_steps, period_windows, step_boundaries, step_values, trend_source_used,
                             trend_term)
from .trends import METHOD_NOTE
from .fronts import FRONTS, check_fronts, front_boundaries, front_overlap, fronts_coverage

__all__ = [
    "WeisigerCoding", "CensorCase", "RebuiltData", "build_participants", "build_periods", "build_rebuilt",
    "load_cases", "required_tables", "variables_table", "write_rebuilt", "summarise",
    "PARTICIPANTS_SCHEMA", "PERIODS_SCHEMA", "VARIABLES_SCHEMA", "EXIT_REASONS",
]

#: the basic regions of COW's WhereFought codes (a theatre is a set of them)
REGIONS: tuple[str, ...] = ("W. Hemisphere", "Europe", "Africa", "Middle East", "Asia", "Oceania")
_REGION_BIT = {r: 1 << i for i, r in enumerate(REGIONS)}
REGION_MASK: dict[int, int] = {code: sum(_REGION_BIT[r] for r in regs) for code, regs in WHERE_FOUGHT_REGIONS.items()}

#: controlled vocabulary of exit_reason (the last three carry a ": <reason>" suffix)
EXIT_REASONS: dict[str, str] = {
    "exit_before_side_end": "stopped fighting while its side fought on (exit)",
    "side_change": "left its side and later fought on the other side of the same war (exit)",
    "censored_side_change": "changed sides; not counted as an exit under this coding",
    "censored_side_end": "fought until its side stopped (censored)",
    "censored_enemy_surrender": "stopped on the day the last enemy in its theatre stopped (censored)",
    "war_ending_exit (case file)": "its exit ended the whole war (case file; exit)",
    "war_ending_exit_not_abandonment (case file)": "its exit ended the whole war, coded as no abandonment",
    "censored_not_exit (case file)": "COW end date is not an exit (case file; censored)",
    "censored_case_rule": "an alternative coding rule censors this exit (coding: censor_cases)",
}
_EXIT_REASONS_1 = {"exit_before_side_end", "side_change", "war_ending_exit (case file)"}

#: time-varying covariates: a record boundary is kept only where one of them changes
TIME_VARYING = ("foverlap", "pvict", "imptce", "contribpc", "recexit", "recexit2", "demdum", "polity2",
                "newlead", "cooppc", "actdum", "actpc", "cinc", "milper")
#: Weisiger variables that public data cannot give (all-missing columns of the periods table)
NOT_AVAILABLE_BASE = ("volunt", "sepdum", "seppc", "intdum", "terraim", "regaim")


def ctrend_names(coding: WeisigerCoding) -> list[str]:
    names = [f"ctrend{k}" for k in coding.ctrend_windows]
    return names if "ctrend60" in names else ["ctrend60", *names]


def required_tables(coding: WeisigerCoding | None = None) -> list[str]:
    """The clean source tables (``results/sources/<name>.parquet``) the rebuild reads."""
    coding = coding or WeisigerCoding()
    from .battle_periods import trend_tables

    tables = ["cow_war_participants", coding.nmc_table, coding.polity_table, "archigos_leaders", "atop_dyad_year",
              *(["polity5"] if coding.polity_table != "polity5" else [])]  # polity5: Polity's -66/-77/-88 codes
    return tables + [t for t in trend_tables(coding) if t not in tables]


def _table(tables: Mapping[str, pd.DataFrame], name: str, why: str) -> pd.DataFrame:
    try:
        return tables[name]
    except KeyError:
        raise CoalitionsError(f"rebuilt Weisiger data: source table '{name}' is missing ({why}); build "
                              f"results/sources/{name}.parquet first") from None


def _war_table(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    w = _table(tables, "cow_war_participants", "the COW war participants").rename(columns={"war_num": "warnum"})
    w = w.copy()
    for c in ("warnum", "ccode", "side", "where_fought"):
        w[c] = w[c].astype("int64")
    return w


# ================================================================================================
# participants


def _units(war: pd.DataFrame, coding: WeisigerCoding) -> pd.DataFrame:
    """Spells of every war participant (both sides) after the second-spell rule.

    A participant with a second COW spell gives one unit (the pause merged into its participation)
    or two (``spell`` 1 and 2), following ``coding.second_spells`` and ``pause_max_days``.
    """
    w = war.copy()
    has2 = w["start2"].notna()
    w["pause_days"] = (w["start2"] - w["end1"]).dt.days.astype("Int64")
    if coding.second_spells == "merge":
        merge = has2
    elif coding.second_spells == "separate":
        merge = pd.Series(False, index=w.index)
    else:
        merge = has2 & (w["pause_days"] <= coding.pause_max_days).fillna(False)
    w["n_cow_spells"] = np.where(has2, 2, 1)
    w["war_start_date"] = w.groupby("warnum")["start1"].transform("min")
    keep = ["warnum", "war_name", "ccode", "state_name", "side", "where_fought", "outcome", "bat_death",
            "n_cow_spells", "pause_days", "war_start_date", "start1"]
    one = w.loc[~has2 | merge, keep].assign(
        spell=1, merged=has2[~has2 | merge].to_numpy(),
        unit_start=w.loc[~has2 | merge, "start1"], unit_end=w.loc[~has2 | merge, "end2"].fillna(w["end1"]))
    sep = w.loc[has2 & ~merge]
    first = sep[keep].assign(spell=1, merged=False, unit_start=sep["start1"], unit_end=sep["end1"])
    second = sep[keep].assign(spell=2, merged=False, unit_start=sep["start2"], unit_end=sep["end2"])
    u = pd.concat([one, first, second], ignore_index=True)
    u = u.rename(columns={"start1": "first_entry_date"})
    u["regions_mask"] = u["where_fought"].map(REGION_MASK).astype("int64")
    return u.sort_values(["warnum", "side", "unit_start", "ccode", "spell"], kind="stable").reset_index(drop=True)


def _max_simultaneous(g: pd.DataFrame) -> int:
    """The largest number of distinct states of one side fighting on the same day."""
    start, end = g["unit_start"].to_numpy(), g["unit_end"].to_numpy()
    ccode = g["ccode"].to_numpy()
    on = (start[None, :] <= start[:, None]) & (end[None, :] >= start[:, None])  # row: a start day t
    return max((len(np.unique(ccode[row])) for row in on), default=0)


def coalition_sides(units: pd.DataFrame) -> pd.DataFrame:
    """Every war side with its number of participants and the largest number fighting at once."""
    rows = []
    for (warnum, side), g in units.groupby(["warnum", "side"], sort=True):
        rows.append({"warnum": warnum, "side": side, "n_participants": g["ccode"].nunique(),
                     "max_simultaneous": _max_simultaneous(g)})
    out = pd.DataFrame(rows)
    out["coalition"] = out["max_simultaneous"] >= 2
    return out


def _regions_text(mask: int) -> str:
    return ", ".join(r for r in REGIONS if mask & _REGION_BIT[r])


def build_participants(tables: Mapping[str, pd.DataFrame], coding: WeisigerCoding,
                       cases: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per coalition participant (per at-risk unit), with its exit coding and the reason.

    Columns (the table is meant to be read case by case): idvar, participant ("war-ccode-side"),
    warnum, war_name, ccode, state_name, side, coalid, spell, n_cow_spells, pause_days, merged,
    war_start_date, first_entry_date, entry_date, exit_date, cow_end_date, side_end_date,
    days_before_side_end, last_enemy_end_in_theatre, other_side_entry_date, where_fought, regions,
    outcome, bat_death, latejoin, exit, exit_reason, rule_exit_reason, volunt (missing: public data
    cannot say whether an exit was forced by conquest), case_file, case_source, case_note.
    """
    war = _war_table(tables)
    raw_war = tables["cow_war_participants"]
    names = sorted(cases)
    # the case tables' validation, the units and the sides are computed once per set of tables in a
    # process (the multiverse builds many codings from the same ones); a side's coalition status
    # depends on its own units only, so the sides of all wars are filtered by the excluded wars
    cases = derived(f"validated_cases:{names}", [raw_war, *(cases[k] for k in names)],
                    lambda: validate_cases(dict(cases), war))
    units_key = f"units:{coding.second_spells}:{coding.pause_max_days}"
    all_units = derived(units_key, [raw_war], lambda: _units(war, coding))
    sides = derived(f"sides:{units_key}", [raw_war], lambda: coalition_sides(all_units))
    units = all_units[~all_units["warnum"].isin(coding.exclude_wars)]
    sides = sides[~sides["warnum"].isin(coding.exclude_wars)]
    coal = sides.loc[sides["coalition"], ["warnum", "side"]]
    p = units.merge(coal, on=["warnum", "side"]).copy()

    side_end = units.groupby(["warnum", "side"])["unit_end"].max().rename("side_end_date")
    p = p.merge(side_end.reset_index(), on=["warnum", "side"], how="left")
    p["days_before_side_end"] = (p["side_end_date"] - p["unit_end"]).dt.days.astype("int64")

    # the same state's next appearance on the other side of the war (a side change)
    key = p[["warnum", "ccode", "side", "spell", "unit_end"]]
    other = key.merge(units[["warnum", "ccode", "side", "unit_start"]], on=["warnum", "ccode"], suffixes=("", "_o"))
    other = other[(other["side_o"] != other["side"]) & (other["unit_start"] >= other["unit_end"])
                  & ((other["unit_start"] - other["unit_end"]).dt.days <= coding.side_change_max_days)]
    nxt = other.groupby(["warnum", "ccode", "side", "spell"])["unit_start"].min().rename("other_side_entry_date")
    p = p.merge(nxt.reset_index(), on=["warnum", "ccode", "side", "spell"], how="left")

    # the last enemy in the participant's theatre (enemies sharing a WhereFought region)
    k2 = p[["warnum", "ccode", "side", "spell", "regions_mask"]]
    en = k2.merge(units[["warnum", "ccode", "side", "regions_mask", "unit_end"]], on="warnum", suffixes=("", "_e"))
    en = en[(en["side_e"] != en["side"]) & (en["ccode_e"] != en["ccode"])
            & ((en["regions_mask"] & en["regions_mask_e"]) > 0)]
    last_en = en.groupby(["warnum", "ccode", "side", "spell"])["unit_end"].max().rename("last_enemy_end_in_theatre")
    p = p.merge(last_en.reset_index(), on=["warnum", "ccode", "side", "spell"], how="left")

    tol = coding.exit_tolerance_days
    at_side_end = p["days_before_side_end"] <= tol
    side_change = p["other_side_entry_date"].notna()
    enemy_gap = (p["last_enemy_end_in_theatre"] - p["unit_end"]).dt.days.abs()
    enemy_surr = coding.censor_enemy_surrender & enemy_gap.le(tol).fillna(False)
    p["rule_exit_reason"] = np.select(
        [at_side_end, side_change & coding.side_change_is_exit, side_change, enemy_surr],
        ["censored_side_end", "side_change", "censored_side_change", "censored_enemy_surrender"],
        default="exit_before_side_end")
    p["exit_reason"] = p["rule_exit_reason"]
    p["exit_date"] = p["unit_end"]
    p["cow_end_date"] = p["unit_end"]
    p["case_file"] = pd.Series([None] * len(p), dtype=object)
    p["case_source"] = pd.Series([None] * len(p), dtype=object)
    p["case_note"] = pd.Series([None] * len(p), dtype=object)

    last_spell = p.groupby(["warnum", "ccode", "side"])["spell"].transform("max") == p["spell"]

    def locate(warnum: int, ccode: int, side: int, what: str) -> int | None:
        hit = p.index[(p["warnum"] == warnum) & (p["ccode"] == ccode) & (p["side"] == side) & last_spell]
        if len(hit):
            return int(hit[0])
        if warnum in coding.exclude_wars:
            return None
        raise CoalitionsError(f"{what}: war {warnum}, ccode {ccode}, side {side} is not a participant of a "
                              f"coalition in the rebuilt data (a side needs two states fighting at once); "
                              f"remove the case or correct it")

    if coding.war_ending_exits:
        if WAR_ENDING_EXITS not in cases:
            raise CoalitionsError(f"coding war_ending_exits is true but the case file {WAR_ENDING_EXITS}.csv "
                                  f"was not given (config/cases/{WAR_ENDING_EXITS}.csv)")
        for i, r in cases[WAR_ENDING_EXITS].iterrows():
            j = locate(r["warnum"], r["ccode"], r["side"], f"{WAR_ENDING_EXITS}.csv row {i + 2}")
            if j is None:
                continue
            if pd.notna(r["exit_date"]):
                if not p.at[j, "unit_start"] <= r["exit_date"] <= p.at[j, "unit_end"]:
                    raise CoalitionsError(f"{WAR_ENDING_EXITS}.csv row {i + 2}: exit_date {r['exit_date'].date()} "
                                          f"is outside the participant's spell ({p.at[j, 'unit_start'].date()} "
                                          f"to {p.at[j, 'unit_end'].date()})")
                p.at[j, "exit_date"] = r["exit_date"]
            abandon = coding.war_ending_exits_as_abandonment and r["coding"] == "abandonment"
            p.at[j, "exit_reason"] = ("war_ending_exit (case file)" if abandon
                                      else "war_ending_exit_not_abandonment (case file)")
            p.at[j, "case_file"] = f"{WAR_ENDING_EXITS}.csv"
            p.at[j, "case_source"] = r["source"]
            p.at[j, "case_note"] = r["description"]
    if coding.not_exit_cases:
        if NOT_EXITS not in cases:
            raise CoalitionsError(f"coding not_exit_cases is true but the case file {NOT_EXITS}.csv was not "
                                  f"given (config/cases/{NOT_EXITS}.csv)")
        for i, r in cases[NOT_EXITS].iterrows():
            j = locate(r["warnum"], r["ccode"], r["side"], f"{NOT_EXITS}.csv row {i + 2}")
            if j is None:
                continue
            p.at[j, "exit_reason"] = f"censored_not_exit (case file): {r['reason']}"
            p.at[j, "case_file"] = f"{NOT_EXITS}.csv"
            p.at[j, "case_source"] = r["source"]
            p.at[j, "case_note"] = r["description"]
    for i, c in enumerate(coding.censor_cases):
        j = locate(c.warnum, c.ccode, c.side, f"coding censor_cases[{i}]")
        if j is None:
            continue
        p.at[j, "exit_reason"] = f"censored_case_rule: {c.reason}"
        p.at[j, "case_file"] = "coding: censor_cases"
        p.at[j, "case_source"] = None
        p.at[j, "case_note"] = c.reason

    p["exit"] = p["exit_reason"].isin(_EXIT_REASONS_1).astype("int64")
    p["entry_date"] = p["unit_start"]
    p["idvar"] = (p["warnum"] * 100000 + p["ccode"] * 100 + p["side"] * 10 + p["spell"]).astype("int64")
    p["coalid"] = (p["warnum"] * 10 + p["side"]).astype("int64")
    p["participant"] = (p["warnum"].astype(str) + "-" + p["ccode"].astype(str) + "-" + p["side"].astype(str))
    p["regions"] = p["regions_mask"].map(_regions_text)
    p["latejoin"] = ((p["first_entry_date"] - p["war_start_date"]).dt.days > coding.late_join_days).astype("int64")
    p["volunt"] = np.nan
    p["bat_death"] = p["bat_death"].astype("Int64")
    p["pause_days"] = p["pause_days"].astype("Int64")
    cols = ["idvar", "participant", "warnum", "war_name", "ccode", "state_name", "side", "coalid", "spell",
            "n_cow_spells", "pause_days", "merged", "war_start_date", "first_entry_date", "entry_date",
            "exit_date", "cow_end_date", "side_end_date", "days_before_side_end", "last_enemy_end_in_theatre",
            "other_side_entry_date", "where_fought", "regions", "outcome", "bat_death", "latejoin", "exit",
            "exit_reason", "rule_exit_reason", "volunt", "case_file", "case_source", "case_note"]
    out = p[cols].sort_values(["warnum", "side", "entry_date", "ccode", "spell"], kind="stable")
    for c in ("warnum", "ccode", "side", "spell", "n_cow_spells", "where_fought", "outcome"):
        out[c] = out[c].astype("int64")
    out["merged"] = out["merged"].astype(bool)
    return out.reset_index(drop=True)


# ================================================================================================
# periods


@dataclass
class _Context:
    """Source look-ups shared by all wars."""

    nmc: pd.DataFrame  # index (ccode, year): cinc, milper, tpop
    polity: pd.DataFrame  # index (ccode, year): polity2
    leaders: dict[int, tuple[np.ndarray, np.ndarray]]  # gwcode -> (start, end) as datetime64[D]
    allied: set[tuple[int, int, int]]
    history: dict[tuple[int, int], pd.Timestamp]
    fronts: pd.DataFrame | None = None  # checked front rows (coalitions.weisiger.fronts.check_fronts)
    trends: StepIndex | None = None  # battlefield trends of the period windows (battle_periods)


def _grid(frame: pd.DataFrame, col: str, codes: np.ndarray, years: np.ndarray) -> np.ndarray:
    """``frame[col]`` (indexed by ccode, year) as a (len(codes), len(years)) float array."""
    idx = pd.MultiIndex.from_arrays([np.repeat(codes, len(years)), np.tile(years, len(codes))])
    return frame[col].reindex(idx).to_numpy(dtype=float).reshape(len(codes), len(years))


def _share(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _war_periods(u: pd.DataFrame, ctx: _Context, coding: WeisigerCoding) -> pd.DataFrame:
    """Records of every coalition unit of one war, one per war segment (collapsed later)."""
    ws = u["war_start_date"].iloc[0]
    M = len(u)
    ds = (u["unit_start"] - ws).dt.days.to_numpy()
    de = (u["unit_end"] - ws).dt.days.to_numpy()
    side = u["side"].to_numpy()
    cc = u["ccode"].to_numpy().astype(np.int64)
    coal = u["idvar"].notna().to_numpy()
    exitf = u["exit"].fillna(0).to_numpy().astype(bool) & coal
    last = int(de.max())

    # ---- leaders of the coalition units (Archigos), as day offsets
    lead: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for m in np.nonzero(coal)[0]:
        gw = cow_to_gw(cc[m], u["unit_start"].iloc[m])
        if gw in ctx.leaders:
            st, en = ctx.leaders[gw]
            base = np.datetime64(ws.date(), "D")
            lead[m] = ((st - base).astype(np.int64), (en - base).astype(np.int64))

    # ---- segment boundaries: every real change point
    b = {0, last + 1}
    b.update(ds.tolist())
    b.update((de + 1).tolist())
    b.update((ds[coal] + 1).tolist())  # the participant's first day is its own record (warday 1)
    for y in range(ws.year + 1, (ws + pd.Timedelta(days=last)).year + 1):
        b.add((pd.Timestamp(year=y, month=1, day=1) - ws).days)
    for k in (coding.recexit_window_days, coding.recexit2_window_days):
        b.update((de[exitf] + 1 + k).tolist())
    for m, (st, _en) in lead.items():
        inside = st[(st > ds[m]) & (st <= de[m])]
        b.update(inside.tolist())
        if coding.newlead_window_days is not None:
            b.update((st + coding.newlead_window_days).tolist())
    war_fronts = None
    if coding.foverlap_source == "fronts" and ctx.fronts is not None:
        war_fronts = ctx.fronts[ctx.fronts["warnum"] == u["warnum"].iloc[0]]
        b.update(front_boundaries(war_fronts, ws))
    idvars = [int(i) if pd.notna(i) else None for i in u["idvar"]]
    windows = period_windows(coding)
    if ctx.trends is not None:
        b.update(step_boundaries(ctx.trends, [i for i in idvars if i is not None], windows, ws))
    B = np.array(sorted(x for x in b if 0 <= x <= last + 1), dtype=np.int64)
    s0, s1 = B[:-1], B[1:]
    S = len(s0)
    dates = ws + pd.to_timedelta(s0, unit="D")
    years = dates.year.to_numpy()
    uy = np.unique(years)
    yidx = np.searchsorted(uy, years)

    act = (ds[:, None] <= s0[None, :]) & (s0[None, :] <= de[:, None])  # M x S
    actf = act.astype(float)
    same = side[:, None] == side[None, :]
    partner = same & (cc[:, None] != cc[None, :])
    partf = partner.astype(float)
    n_part = partf @ actf

    def by_year(frame: pd.DataFrame, col: str) -> np.ndarray:
        return _grid(frame, col, cc, uy)[:, yidx]

    cinc = by_year(ctx.nmc, "cinc")
    milper = by_year(ctx.nmc, "milper")
    polity2 = by_year(ctx.polity, "polity2")

    cinc_a = np.where(act, np.nan_to_num(cinc), 0.0)
    side_cinc = same.astype(float) @ cinc_a
    pvict = _share(side_cinc, cinc_a.sum(axis=0)[None, :].repeat(M, 0))
    imptce = _share(cinc, side_cinc)
    mil_a = np.where(act, np.nan_to_num(milper), 0.0)
    contribpc = _share(milper, same.astype(float) @ mil_a)

    # theatre-overlap proxy: share of own regions shared with at least one active partner
    has = np.array([[bool(mask & bit) for bit in _REGION_BIT.values()] for mask in u["regions_mask"]], dtype=float)
    cnt = np.einsum("mj,js,jr->mrs", partf, actf, has)
    shared = ((cnt > 0) & (has[:, :, None] > 0)).sum(axis=1)
    foverlap = shared / has.sum(axis=1)[:, None]
    if coding.foverlap_source == "fronts":  # Weisiger's measure, from the sourced front file
        foverlap = front_overlap(war_fronts, ws, cc, side, s0, coding.front_weighting)
        if coding.front_gaps == "carry":  # days without an active front: the nearest earlier (else first) value
            foverlap = pd.DataFrame(foverlap).ffill(axis=1).bfill(axis=1).to_numpy()
    trend_cols = {f"ctrend{k}": step_values(ctx.trends, idvars, k, "ctrend", ws, s0) for k in windows
                  if ctx.trends is not None and f"ctrend{k}" in ctrend_names(coding)}
    if ctx.trends is not None:
        trend_cols["otrend60"] = step_values(ctx.trends, idvars, 60, "otrend", ws, s0)

    # coalition history: partners it fought alongside in an earlier COW war
    C = np.array([[ctx.history.get((int(a), int(c)), pd.Timestamp.max) < ws for c in cc] for a in cc], dtype=float)
    cooppc = _share((partf * C) @ actf, n_part)

    # ATOP defense/offense pact with current partners, in the year
    A = np.zeros((M, M, len(uy)), dtype=float)
    for yi, y in enumerate(uy):
        for m in range(M):
            for j in range(M):
                if partner[m, j] and (int(cc[m]), int(cc[j]), int(y)) in ctx.allied:
                    A[m, j, yi] = 1.0
    n_allied = np.einsum("mjs,js->ms", A[:, :, yidx] * partf[:, :, None], actf)
    actpc = _share(n_allied, n_part)
    actdum = (n_allied > 0).astype(float)

    # another member of the coalition exited in the last k days
    def recent(k: int) -> np.ndarray:
        cond = exitf[:, None] & (de[:, None] < s0[None, :]) & (s0[None, :] <= de[:, None] + k)
        return ((partf @ cond.astype(float)) > 0).astype(float)

    recexit, recexit2 = recent(coding.recexit_window_days), recent(coding.recexit2_window_days)

    # new leader
    newlead = np.full((M, S), np.nan)
    for m, (st, en) in lead.items():
        ref = (u["first_entry_date"].iloc[m] - ws).days if coding.newlead_reference == "entry" else 0
        on = (st[:, None] <= s0[None, :]) & (s0[None, :] <= en[:, None])
        cur = np.where(on, st[:, None], np.iinfo(np.int64).min).max(axis=0)
        known = on.any(axis=0)
        new = cur > ref
        if coding.newlead_window_days is not None:
            new &= (s0 - cur) < coding.newlead_window_days
        newlead[m] = np.where(known, new.astype(float), np.nan)

    demdum = np.where(np.isnan(polity2), np.nan, (polity2 >= coding.demdum_threshold).astype(float))

    pieces = []
    for m in np.nonzero(coal)[0]:
        sel = np.nonzero(act[m])[0]
        pieces.append(pd.DataFrame({
            "idvar": np.int64(u["idvar"].iloc[m]), "entry_day": ds[m],
            "wstart": s0[sel], "wstop": s1[sel],
            "foverlap": foverlap[m, sel], "pvict": pvict[m, sel], "imptce": imptce[m, sel],
            "contribpc": contribpc[m, sel], "recexit": recexit[m, sel], "recexit2": recexit2[m, sel],
            "demdum": demdum[m, sel], "polity2": polity2[m, sel], "newlead": newlead[m, sel],
            "cooppc": cooppc[m, sel], "actdum": actdum[m, sel], "actpc": actpc[m, sel],
            "cinc": cinc[m, sel], "milper": milper[m, sel],
            **{k: v[m, sel] for k, v in trend_cols.items()},
        }))
    out = pd.concat(pieces, ignore_index=True)
    out["war_start_date"] = ws
    return out


def _collapse(df: pd.DataFrame) -> pd.DataFrame:
    """Merge consecutive records of a unit whose time-varying covariates are all equal.

    The first record (the participant's first day) is always kept on its own.
    """
    df = df.sort_values(["idvar", "wstart"], kind="stable").reset_index(drop=True)
    first = df["idvar"].ne(df["idvar"].shift())
    second = (~first) & first.shift(fill_value=False)
    change = pd.Series(False, index=df.index)
    for c in [*TIME_VARYING, *(c for c in df.columns if trend_term(c))]:
        a, prev = df[c], df[c].shift()
        change |= ~((a == prev) | (a.isna() & prev.isna()))
    new = first | second | change
    starts = np.nonzero(new.to_numpy())[0]
    ends = np.r_[starts[1:] - 1, len(df) - 1]
    out = df.iloc[starts].reset_index(drop=True)
    out["wstop"] = df["wstop"].to_numpy()[ends]
    return out



def finish_periods(per: pd.DataFrame, exits: pd.Series, coding: WeisigerCoding) -> None:
    """Analysis time and record flags of counting-process periods, in place (shared by the COW
    rebuild and the post-2003 extension).

    ``per`` has one row per record with ``idvar``, ``wstart``/``wstop`` (days since the war's or
    operation's start), ``entry_day``, ``war_start_date`` and ``contribpc``; ``exits`` maps idvar to
    0/1. Adds ``minor``, ``start``/``stop`` on the coding's time origin, ``firstobs``/``finalobs``,
    ``warday`` (= stop), ``withdraw`` (on the last record of an exiting participant only) and the
    calendar dates each record covers.
    """
    per["minor"] = np.where(per["contribpc"].isna(), np.nan, (per["contribpc"] <= coding.minor_threshold).astype(float))
    if coding.time_origin == "own_entry":
        per["start"] = per["wstart"] - per["entry_day"]
        per["stop"] = per["wstop"] - per["entry_day"]
    else:
        per["start"] = per["wstart"]
        per["stop"] = per["wstop"]
    grp = per.groupby("idvar", sort=False)
    per["firstobs"] = grp.cumcount().eq(0).astype("int64")
    per["finalobs"] = grp.cumcount(ascending=False).eq(0).astype("int64")
    if coding.time_origin == "war_start":
        per.loc[per["firstobs"] == 1, "start"] = 0
    per["warday"] = per["stop"]
    per["withdraw"] = (per["finalobs"].eq(1) & per["idvar"].map(exits).eq(1)).astype("int64")
    per["date_from"] = per["war_start_date"] + pd.to_timedelta(per["wstart"], unit="D")
    per["date_to"] = per["war_start_date"] + pd.to_timedelta(per["wstop"] - 1, unit="D")
    for c in ("start", "stop", "warday", "wstart", "wstop"):
        per[c] = per[c].astype("int64")

def build_periods(tables: Mapping[str, pd.DataFrame], participants: pd.DataFrame,
                  coding: WeisigerCoding, fronts: pd.DataFrame | None = None,
                  trends: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Counting-process participant periods and the variables table.

    Each record covers the days ``(start, stop]`` of analysis time (see ``coding.time_origin``;
    ``wstart``/``wstop`` always count days since the war's first day, ``date_from``/``date_to`` are
    the calendar days covered). Covariates are those of the record's days; a record ends only where
    one of them changes. ``withdraw`` is 1 on the last record of a unit whose participation ended in
    an exit. See :func:`variables_table` for how each variable is built.

    ``fronts``: the front file (coalitions.weisiger.fronts; needed when ``foverlap_source`` is
    ``"fronts"``), checked here against the participants' wars. ``trends``: the battlefield trend steps
    of the period windows (coalitions.weisiger.battle_periods.build_steps); built from ``tables`` when
    not given.
    """
    war = _war_table(tables)
    raw_war = tables["cow_war_participants"]
    units = derived(f"units:{coding.second_spells}:{coding.pause_max_days}", [raw_war], lambda: _units(war, coding))
    units = units[units["warnum"].isin(participants["warnum"].unique())]
    pk = participants[["warnum", "ccode", "side", "spell", "idvar", "exit", "exit_date"]]
    units = units.merge(pk, on=["warnum", "ccode", "side", "spell"], how="left")
    unmatched = set(participants["idvar"]) - set(units["idvar"].dropna().astype("int64"))
    if unmatched:
        raise CoalitionsError(f"rebuilt Weisiger periods: participants {sorted(unmatched)[:5]} have no spell in the "
                              f"war data under this coding; build participants and periods with the same coding "
                              f"(second_spells = {coding.second_spells!r})")
    units["unit_end"] = units["exit_date"].fillna(units["unit_end"])

    need = pd.DataFrame([(c, y) for c, a, z in units[["ccode", "unit_start", "unit_end"]].itertuples(index=False)
                         for y in range(a.year, z.year + 1)], columns=["ccode", "year"])
    nmc = _table(tables, coding.nmc_table, "CINC, military personnel and population")
    nmc_f = nearest_fill(nmc, ["cinc", "milper", "tpop"], need, coding.nmc_fill_years)
    for c in ("cinc", "milper", "tpop"):
        n = int(nmc_f[f"{c}_filled"].sum())
        if n:
            LOG.info("rebuild: %d state-year value(s) of NMC %s filled from the nearest year (<= %d years)",
                     n, c, coding.nmc_fill_years)
    pol = _table(tables, coding.polity_table, "polity2")
    pol = pol[["ccode", "year", "polity2"]].astype({"ccode": "int64", "year": "int64"})
    pol = pol.assign(polity2=pol["polity2"].astype(float)).drop_duplicates(["ccode", "year"])
    arch = _table(tables, "archigos_leaders", "new leaders")
    leaders = derived("archigos_spells", [arch], lambda: {
        int(g): (d["start"].to_numpy().astype("datetime64[D]"), d["end"].to_numpy().astype("datetime64[D]"))
        for g, d in arch.sort_values("start").groupby("gwcode")})
    atop = _table(tables, "atop_dyad_year", "ATOP alliances")
    ctx = _Context(nmc=nmc_f.set_index(["ccode", "year"]), polity=pol.set_index(["ccode", "year"]),
                   leaders=leaders, allied=alliance_lookup(atop, units["ccode"].unique()),
                   history=derived("coalition_history", [raw_war], lambda: coalition_history(war)))
    if coding.foverlap_source == "fronts":
        if fronts is None:
            raise CoalitionsError(f"rebuilt Weisiger periods: foverlap_source is 'fronts' but the front file "
                                  f"config/cases/{FRONTS}.csv was not given; add it or use foverlap_source: theatre")
        wars = participants["warnum"].unique()
        ctx.fronts, _ = check_fronts(fronts[fronts["warnum"].isin(wars)], war, participants, coding.exclude_wars)
    if trends is None:
        trends, _ = build_steps(tables, participants, coding, period_windows(coding), coverage=False)
    ctx.trends = StepIndex(trends[trends["window"].isin(period_windows(coding))])

    raw = pd.concat([_war_periods(g, ctx, coding) for _, g in units.groupby("warnum", sort=True)],
                    ignore_index=True)
    per = _collapse(raw)

    part = participants.set_index("idvar")
    for c in ("warnum", "ccode", "side", "coalid", "spell", "latejoin"):
        per[c] = per["idvar"].map(part[c]).astype("int64")
    # battle deaths: COW total over the participation (time-invariant), population from NMC
    deaths = per["idvar"].map(part["bat_death"]).astype(float)
    entry_year = per["idvar"].map(part["first_entry_date"]).dt.year
    tpop = ctx.nmc["tpop"].reindex(pd.MultiIndex.from_arrays([per["ccode"], entry_year])).to_numpy(dtype=float)
    per["lnodead"] = np.log1p(deaths)
    with np.errstate(divide="ignore", invalid="ignore"):
        per["lnodead2"] = np.where(tpop > 0, np.log((deaths + 1.0) / (tpop * 1000.0)), np.nan)
    per["latejoin"] = per["latejoin"].astype(float)
    finish_periods(per, part["exit"], coding)
    for c in [*NOT_AVAILABLE_BASE, *ctrend_names(coding), "otrend60"]:
        if c not in per.columns:
            per[c] = np.nan
    cols = ["idvar", "warnum", "ccode", "side", "coalid", "spell", "start", "stop", "warday", "wstart", "wstop",
            "date_from", "date_to", "firstobs", "finalobs", "withdraw", "volunt",
            "foverlap", *ctrend_names(coding), "otrend60", "pvict", "imptce", "contribpc", "minor", "recexit",
            "recexit2", "demdum", "polity2", "newlead", "sepdum", "seppc", "actdum", "actpc", "intdum", "cooppc",
            "lnodead", "lnodead2", "latejoin", "terraim", "regaim", "cinc", "milper"]
    per = per[cols].sort_values(["warnum", "coalid", "idvar", "start"], kind="stable").reset_index(drop=True)
    return per, variables_table(coding, trend_source_used(tables, coding))


# ================================================================================================
# variables


_LABELS = {
    "withdraw": "Exit", "volunt": "Voluntary Exit", "foverlap": "Common Front", "otrend60": "Own Trend",
    "pvict": "Relative Capabilities", "imptce": "Importance", "contribpc": "Importance (Soldiers)",
    "recexit": "Recent Ally Exit", "recexit2": "Alt. Recent Exit", "demdum": "Democracy",
    "polity2": "Polity Score", "newlead": "New Leader", "sepdum": "No Separate Peace",
    "seppc": "% No Sep. Peace", "actdum": "Alliance Agreement", "actpc": "% Allied",
    "intdum": "Integrated Command", "cooppc": "Coalition History", "lnodead": "log(Battle Deaths)",
    "lnodead2": "log(Battle Deaths/Pop.)", "latejoin": "Late Joiner", "terraim": "Territorial War Aim",
    "regaim": "Regime War Aim",
}


def _foverlap_row(c: WeisigerCoding) -> tuple[str, str, str]:
    if c.foverlap_source == "theatre":
        return ("foverlap", "proxy", "Theatre proxy, not Weisiger's front-level measure: share of the participant's "
                                     "COW WhereFought regions in which at least one active partner also fought (0 "
                                     "when alone).")
    w = ("weighted by the participant's force shares where the file gives one for every active front of the day, "
         "else equally" if c.front_weighting == "share" else "fronts weighted equally")
    return ("foverlap", "hand_coded", f"Weisiger's Common Front from the sourced front file "
                                      f"config/cases/{FRONTS}.csv (one row per participant, front and spell, each with "
                                      f"its source): on each day the share of the participant's active fronts on which "
                                      f"another member of its side is also active ({w}); "
                                      + ("a day on which the file gives it no front takes the value of its nearest "
                                         "earlier front day (its first before any)" if c.front_gaps == "carry" else
                                         "missing on days the file gives it no front")
                                      + " (see fronts_coverage.csv).")


_TREND_SOURCES = {"cdb90": "CDB90 (CAA/HERO battles, Arnold's tidy edition)",
                  "iwbd": "IWBD (Min 2021, Interstate War Battle Dataset)"}


def _trend_row(c: WeisigerCoding, name: str, used: str | None = None) -> tuple[str, str, str]:
    kind, k = trend_term(name)
    used = used or c.trend_source
    src = _TREND_SOURCES[used] + (" (IWBD was asked for but could not be obtained)" if used != c.trend_source
                                  else "")
    share = METHOD_NOTE[used].rstrip(".")
    who = ("The coalition's (all members of the participant's side)" if kind == "ctrend"
           else "The participant's own (its own battles)")
    empty = ("a window without battles is missing" if c.trend_empty_window == "missing"
             else "a window without battles counts as no change (0)")
    status = "rebuilt" if used == "cdb90" else "proxy"
    extra = (" The other windows of the Fig. 5 sweep (ctrend15-ctrend120) are built the same way and attached "
             "to the model that uses them (records split at that window's steps)." if name == "ctrend60" else "")
    return (name, status, f"{who} battlefield trend over {k} days from {src}: the loss share in the window minus "
                          f"the same share in the {k} days before (positive = worsening); {empty}. {share}. Covers "
                          f"only the wars and states with dated battles in the source (see trends_coverage.csv)."
                          f"{extra}")


def variables_table(coding: WeisigerCoding, trend_source: str | None = None) -> pd.DataFrame:
    """For every Weisiger variable: rebuilt / proxy / not_available, with how it was built or why not.

    ``trend_source``: the battle source the trends were built from when it is not the coding's (IWBD
    asked for but not obtained)."""
    c = coding
    nmc = {"cow_nmc5": "NMC 5.0", "cow_nmc6": "NMC 6.0", "cow_nmc7": "NMC 7.0"}[c.nmc_table]
    pol = "peacesciencer's COW-coded Polity polity2" if c.polity_table == "democracy_state_year" else "Polity5"
    ref = "its entry into the war" if c.newlead_reference == "entry" else "the war's start"
    win = f" within the last {c.newlead_window_days} days" if c.newlead_window_days else ""
    rows = [
        ("withdraw", "rebuilt", "COW Inter-State War dates with the exit rules of the coding and the sourced case "
                                "files (see participants.exit_reason); on the participant's last record only."),
        ("volunt", "not_available", "Needs a hand-coded flag for exits forced by conquest or defeat, which no "
                                    "public dataset gives."),
        _foverlap_row(c),
    ]
    for name in ctrend_names(c):
        rows.append(_trend_row(c, name, trend_source))
    rows += [
        _trend_row(c, "otrend60", trend_source),
        ("pvict", "rebuilt", f"Coalition's share of the summed CINC ({nmc}) of the active members of both sides, "
                             f"by calendar year; changes when a member of either side joins or leaves."),
        ("imptce", "rebuilt", f"Participant's CINC ({nmc}) share of its coalition's active members, by year."),
        ("contribpc", "proxy", f"Participant's share of the military personnel ({nmc} milper, yearly peacetime "
                               f"and wartime totals, not troops committed) of the coalition's active members."),
        ("recexit", "rebuilt", f"1 if another member of the coalition exited (withdraw) within the last "
                               f"{c.recexit_window_days} days (window is our choice; Weisiger's is undocumented)."),
        ("recexit2", "rebuilt", f"As recexit with a {c.recexit2_window_days}-day window (window is our choice)."),
        ("demdum", "rebuilt", f"1 if polity2 >= {c.demdum_threshold} in the calendar year ({pol})."),
        ("polity2", "rebuilt", f"{pol} in the calendar year."),
        ("newlead", "rebuilt", f"1 if the leader in office (Archigos 4.1, GW codes mapped to COW) took office after "
                               f"{ref}{win}; missing where Archigos has no leader for the date (before 1875 "
                               f"for most states)."),
        ("sepdum", "not_available", "Needs hand coding of no-separate-peace agreements between partners."),
        ("seppc", "not_available", "Needs hand coding of no-separate-peace agreements between partners."),
        ("actdum", "rebuilt", "1 if the participant has an ATOP 5.1 defense or offense pact with at least one "
                              "active partner in the calendar year (0 when alone)."),
        ("actpc", "rebuilt", "Share of active partners with which the participant has an ATOP 5.1 defense or "
                             "offense pact in the year (missing when it has no active partner)."),
        ("intdum", "not_available", "Needs hand coding of integrated military command."),
        ("cooppc", "rebuilt", "Share of active partners that fought on the same side as the participant in an "
                              "earlier COW inter-state war (missing when it has no active partner)."),
        ("lnodead", "rebuilt", "ln(1 + COW battle deaths of the participant in the war), time-invariant."),
        ("lnodead2", "rebuilt", f"ln((1 + COW battle deaths) / population), population = {nmc} tpop in the "
                                f"entry year (persons), time-invariant."),
        ("latejoin", "rebuilt", f"1 if the participant entered more than {c.late_join_days} days after the war's "
                                f"first day (threshold is our choice)."),
        ("terraim", "not_available", "Needs hand coding of war aims."),
        ("regaim", "not_available", "Needs hand coding of war aims."),
    ]
    out = pd.DataFrame(rows, columns=["variable", "status", "note"])
    out.insert(1, "label", out["variable"].map(lambda v: _LABELS.get(v, f"War Worsening ({v[6:]} days)"
                                                                        if v.startswith("ctrend") else v)))
    out["column"] = out["variable"]
    return out


# ================================================================================================
# schemas


def _check_exit_reason(df: pd.DataFrame) -> str | None:
    base = df["exit_reason"].astype(str).str.split(":").str[0].str.strip()
    ok = base.isin([k.split(":")[0] for k in EXIT_REASONS])
    if not ok.all():
        return f"exit_reason outside the vocabulary {list(EXIT_REASONS)}:\n" + \
            df.loc[~ok, ["idvar", "exit_reason"]].head().to_string()
    bad = df["exit"].eq(1) != df["exit_reason"].isin(_EXIT_REASONS_1)
    if bad.any():
        return "exit disagrees with exit_reason:\n" + df.loc[bad, ["idvar", "exit", "exit_reason"]].head().to_string()
    return None


def _check_periods(df: pd.DataFrame) -> str | None:
    d = df.sort_values(["idvar", "wstart"], kind="stable")
    same = d["idvar"].eq(d["idvar"].shift())
    gap = same & d["wstart"].ne(d["wstop"].shift())
    if gap.any():
        return "records of a participant are not contiguous (start != previous stop):\n" + \
            d.loc[gap, ["idvar", "start", "stop"]].head().to_string()
    if (d["stop"] <= d["start"]).any():
        return "zero- or negative-length records:\n" + d.loc[d["stop"] <= d["start"], ["idvar", "start", "stop"]].head().to_string()
    nfin = d.groupby("idvar")["finalobs"].sum()
    if (nfin != 1).any():
        return f"participants without exactly one final record: {nfin[nfin != 1].index.tolist()[:5]}"
    if ((d["withdraw"] == 1) & (d["finalobs"] != 1)).any():
        return "withdraw = 1 on a record that is not the participant's last"
    return None


PARTICIPANTS_SCHEMA = TableSchema(
    name="weisiger_rebuilt_participants",
    description="Rebuilt Weisiger participants: one row per coalition participant spell, with the exit coding.",
    key=("idvar",),
    columns={
        "idvar": Col("int", False, description="at-risk unit: warnum*100000 + ccode*100 + side*10 + spell"),
        "participant": Col("str", False, description="war-ccode-side"),
        "warnum": Col("int", False, 1, 1000), "war_name": Col("str", False),
        "ccode": Col("int", False, 2, 999), "state_name": Col("str", False),
        "side": Col("int", False, allowed=(1, 2)),
        "coalid": Col("int", False, description="warnum*10 + side"),
        "spell": Col("int", False, allowed=(1, 2)),
        "entry_date": Col("date", False), "exit_date": Col("date", False),
        "cow_end_date": Col("date", False), "side_end_date": Col("date", False),
        "days_before_side_end": Col("int", False, 0),
        "exit": Col("int", False, allowed=(0, 1)),
        "exit_reason": Col("str", False), "rule_exit_reason": Col("str", False),
        "volunt": Col("float", True, description="exits: 1 chosen, 0 forced (weisiger_voluntary.csv or volunt_default); else missing"),
        "latejoin": Col("int", False, allowed=(0, 1)),
        "case_file": Col("str", True), "case_source": Col("str", True),
    },
    checks=(_check_exit_reason,),
)

_PERIOD_COLS: dict[str, Col] = {
    "idvar": Col("int", False), "warnum": Col("int", False), "ccode": Col("int", False),
    "side": Col("int", False, allowed=(1, 2)), "coalid": Col("int", False), "spell": Col("int", False),
    "start": Col("int", False, 0), "stop": Col("int", False, 1), "warday": Col("int", False, 1),
    "wstart": Col("int", False, 0), "wstop": Col("int", False, 1),
    "date_from": Col("date", False), "date_to": Col("date", False),
    "firstobs": Col("int", False, allowed=(0, 1)), "finalobs": Col("int", False, allowed=(0, 1)),
    "withdraw": Col("int", False, allowed=(0, 1)),
}
for _c in ("foverlap", "pvict", "imptce", "contribpc", "actpc", "cooppc", "minor"):
    _PERIOD_COLS[_c] = Col("float", True, 0, 1)
for _c in ("recexit", "recexit2", "demdum", "newlead", "actdum", "latejoin"):
    _PERIOD_COLS[_c] = Col("float", True, allowed=(0.0, 1.0))
_PERIOD_COLS["polity2"] = Col("float", True, -10, 10)
for _c in ("lnodead", "lnodead2", "volunt", "otrend60", "sepdum", "seppc", "intdum", "terraim", "regaim"):
    _PERIOD_COLS[_c] = Col("float", True)

PERIODS_SCHEMA = TableSchema(
    name="weisiger_rebuilt_periods",
    description="Rebuilt Weisiger participant periods (counting process, intervals (start, stop]).",
    key=("idvar", "start"),
    columns=_PERIOD_COLS,
    checks=(_check_periods,),
)

VARIABLES_SCHEMA = TableSchema(
    name="weisiger_rebuilt_variables",
    description="How each Weisiger variable is rebuilt from public data.",
    key=("variable",),
    columns={"variable": Col("str", False), "label": Col("str", False),
             "status": Col("str", False, allowed=("rebuilt", "hand_coded", "proxy", "not_available")),
             "note": Col("str", False), "column": Col("str", False)},
)


# ================================================================================================
# the whole track


@dataclass
class RebuiltData:
    """The rebuilt Weisiger data: participants (exit coding), periods (model data), variables."""

    participants: pd.DataFrame
    periods: pd.DataFrame
    variables: pd.DataFrame
    coding: WeisigerCoding
    missing: pd.DataFrame | None = None  # why a model variable is missing, per record (handcoded.MISSING_COLUMNS)
    fronts_coverage: pd.DataFrame | None = None  # per unit: fronts, days covered, flags, mean foverlap
    fronts_flags: pd.DataFrame | None = None  # front-file lines a reader should check
    trend_steps: pd.DataFrame | None = None  # battlefield trends of the period windows
    trend_coverage: pd.DataFrame | None = None  # per war: days with battle data


def build_rebuilt(tables: Mapping[str, pd.DataFrame], coding: WeisigerCoding,
                  cases: Mapping[str, pd.DataFrame]) -> RebuiltData:
    """Participants, periods and the variables table, each validated against its schema."""
    t0 = time.perf_counter()
    participants = build_participants(tables, coding, cases)
    fronts = cases.get(FRONTS)
    rows = flags = None
    if fronts is not None:  # strict: every row must be a participant of the rebuilt sample
        rows, flags = check_fronts(fronts, _war_table(tables), participants, coding.exclude_wars)
        for f in flags.itertuples(index=False):
            LOG.warning("%s line %d: %s (%s)", FRONTS, f.line, f.flag, f.detail)
    steps, trend_cov = build_steps(tables, participants, coding, period_windows(coding))
    periods, variables = build_periods(tables, participants, coding, fronts=fronts, trends=steps)
    cov = fronts_coverage(rows, participants, periods, flags)
    participants = participants.merge(cov[["idvar", "fronts", "foverlap_mean"]], on="idvar", how="left")
    # ---- hand-coded variables and the missing-data rules (coalitions.weisiger.handcoded) ----
    from .handcoded import apply_handcoded

    participants, periods, variables, why_missing = apply_handcoded(tables, participants, periods, variables,
                                                                validate_cases(dict(cases), _war_table(tables)), coding)
    # ---- end of the hand-coded hook ----
    validate(participants, PARTICIPANTS_SCHEMA, "rebuilt Weisiger participants")
    validate(periods, PERIODS_SCHEMA, "rebuilt Weisiger periods")
    validate(variables, VARIABLES_SCHEMA, "rebuilt Weisiger variables")
    missing = [v for v in variables["column"] if v not in periods.columns]
    if missing:
        raise CoalitionsError(f"rebuilt Weisiger periods lack the variable column(s) {missing}")
    data = RebuiltData(participants, periods, variables, coding, missing=why_missing, fronts_coverage=cov,
                       fronts_flags=flags, trend_steps=steps, trend_coverage=trend_cov)
    LOG.info("rebuilt Weisiger data in %.1f s: %s", time.perf_counter() - t0, summarise(data))
    return data


def summarise(data: RebuiltData) -> dict[str, object]:
    """Headline figures: wars with coalitions, participants, exits, censored by reason, records."""
    p = data.participants
    censored = p.loc[p["exit"] == 0, "exit_reason"].str.split(":").str[0].value_counts().sort_index()
    return {
        "wars_with_coalitions": int(p["warnum"].nunique()),
        "coalitions": int(p["coalid"].nunique()),
        "participants": int(p["participant"].nunique()),
        "at_risk_units": int(len(p)),
        "exits": int(p["exit"].sum()),
        "exits_by_reason": {k: int(v) for k, v in p.loc[p["exit"] == 1, "exit_reason"].value_counts().sort_index().items()},
        "censored_by_reason": {k: int(v) for k, v in censored.items()},
        "records": int(len(data.periods)),
    }


def write_rebuilt(data: RebuiltData, participants_path: str, periods_path: str, variables_path: str) -> None:
    """Write the three tables (validated, atomic parquet)."""
    write_table(data.participants, participants_path, PARTICIPANTS_SCHEMA, "rebuilt Weisiger participants")
    write_table(data.periods, periods_path, PERIODS_SCHEMA, "rebuilt Weisiger periods")
    write_table(data.variables, variables_path, VARIABLES_SCHEMA, "rebuilt Weisiger variables")

"""Battlefield trends from dated battles: Weisiger's ``ctrendK`` (War Worsening) and ``otrendK``.

Pure functions; the rebuild puts their result into the participant periods
(:mod:`coalitions.weisiger.battle_periods`).

:func:`battle_events`
    Tidy battle-side rows from one battle source: ``warnum, battle_id, start_date, end_date, side,
    ccode, casualties, lost, source`` (plus ``battle_name`` and ``actor`` for reading case by case).
    ``side`` is the COW war side, ``ccode`` the state's COW code (missing for a side named only as a
    coalition or an actor without a COW code). One row per battle segment x side x state:

    * ``"cdb90"`` (CDB90, casualties per battle side): battles of the COW coalition wars
      (``cow_warno``); sub-battles that CDB90 marks as duplicates of another battle (``parent``)
      are dropped. Dates from the battle's active periods: each period covers the calendar days
      from its earliest start to its latest end; overlapping or adjacent periods are merged into
      one segment, and a battle with separate phases has one segment per phase, its casualties
      split between them in proportion to their days. ``casualties`` is the side's CDB90 ``cas``
      divided equally among the side's states (CDB90 gives one figure per side), so the rows of a
      battle side sum to CDB90's figure; missing where CDB90 has none. ``lost`` is missing.
    * ``"iwbd"`` (Min 2021, no casualties): ``lost`` is 1 for the side that lost the battle, 0 for
      the victor, 0.5 for both sides of an inconclusive battle, missing where the victor is not
      known; ``casualties`` is missing.

:func:`trend_steps`
    The step functions of every unit: ``idvar, window, date, ctrend, otrend``.

:func:`coverage`
    Per war: battles, days with battle data, first and last battle, participants with own battles.

The definition (Weisiger's War Worsening, rebuilt): for a window of ``k`` days ending on day ``t``
(days ``t-k+1 .. t``), the coalition's *loss share* is its losses over its own plus its enemies'
losses in the battles of the window, where a battle's losses are the sides' casualties (CDB90) or
the battles lost (IWBD: the share of battles lost, an inconclusive battle counting half to each
side). The trend is that share minus the same share in the ``k`` days before (days
``t-2k+1 .. t-k``): positive = worsening. ``ctrend`` uses every battle of the participant's war
side; ``otrend`` only the battles the participant itself fought (those with a row of its
``ccode`` on its side), still with its whole side's and the enemy's losses in those battles.

A battle of several days counts on each of its days, its losses spread evenly over them (a
battle of 4 days with 1,000 casualties on a side adds 250 on each day); so a window that holds
part of a battle holds that part of its losses. A battle whose losses are unknown on either
side adds nothing (it is not a battle with data). A window without battle data has no loss
share; a trend needs both windows' shares, and when one is missing the coding parameter
``empty_window`` decides: ``"missing"`` (the trend is missing) or ``"no_change"`` (the trend is 0,
as if the battlefield had not moved). Default: :data:`DEFAULT_EMPTY_WINDOW`.

Record boundaries: ``ctrendK`` (and ``otrendK``) changes only on a day on which a battle day
enters the window (a battle day), or leaves the current window into the earlier one (K days after a
battle day) or leaves the earlier one (2K days after it). The step table lists, per window, only the
days on which a value changes, so a caller can split its records for the one window it models
(``window == K``) rather than for all 106 windows at once.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..util import LOG, CoalitionsError

__all__ = [
    "SOURCES", "EMPTY_WINDOW_RULES", "DEFAULT_EMPTY_WINDOW", "WINDOWS", "EVENT_COLUMNS", "STEP_COLUMNS",
    "COVERAGE_COLUMNS", "METHOD_NOTE", "required_tables", "case_files", "coalition_wars", "battle_events", "trend_steps",
    "coverage", "IWBD_COALITIONS",
]

SOURCES = ("cdb90", "iwbd")
EMPTY_WINDOW_RULES = ("missing", "no_change")
#: A window without battle data counts as no change (a trend of 0). Why: with CDB90 most coalition
#: wars and most days have no dated battle (25 of the 38 coalition wars have none), so "missing"
#: would drop from every model with ctrendK all records outside the covered days, i.e. most of the
#: sample, and the trend models would be estimated on a different, much smaller sample than the
#: others. "no_change" keeps the sample and reads "no recorded battles" as "no recorded change";
#: "missing" is the coding switch for the reading that absence of data is not evidence.
DEFAULT_EMPTY_WINDOW = "no_change"
WINDOWS: tuple[int, ...] = tuple(range(15, 121))  # Figure 5's sweep
EVENT_COLUMNS = ("warnum", "battle_id", "start_date", "end_date", "side", "ccode", "casualties", "lost", "source")
STEP_COLUMNS = ("idvar", "window", "date", "ctrend", "otrend")
COVERAGE_COLUMNS = ("warnum", "source", "battles", "battle_days", "first_battle", "last_battle", "war_days",
                    "participants", "participants_with_own_battles")

#: how the trends are built, in one sentence per point (for variables.csv and the paper's notes)
METHOD_NOTE = {
    "cdb90": "Loss share: the side's casualties over both sides' in the CDB90 battles dated in the window "
             "(a battle of several days counts on each day, its casualties spread evenly over its days; a "
             "battle with unknown casualties adds nothing; CDB90 sub-battles that duplicate another are dropped).",
    "iwbd": "Loss share: the share of the IWBD battles dated in the window that the side lost (an inconclusive "
            "battle counts half to each side; a battle of several days counts on each day, spread evenly; a "
            "battle with no known victor adds nothing). IWBD has no casualties: a proxy for Weisiger's "
            "casualty-based trend.",
}

CDB90_TABLES = ("cdb90_battles", "cdb90_belligerents", "cdb90_battle_actors", "cdb90_active_periods")
IWBD_TABLES = ("iwbd_battles",)


def required_tables(source: str) -> list[str]:
    """The source tables :func:`battle_events` reads for ``source``.

    CDB90's are clean tables (``results/sources/<name>.parquet``). IWBD's (``iwbd_battles``) is not:
    it is an optional download, read by :func:`coalitions.readers.iwbd.load_iwbd` from
    ``resources/original/iwbd/`` when its status.json says it could be had (CDB90 stands in otherwise).

    Besides these, ``tables`` must hold ``cow_war_participants`` (read by the rebuild anyway) and,
    for CDB90, ``cdb90_actors`` and ``cdb90_corrections``: the reviewed actor mapping and its
    battle-side corrections, read by :func:`coalitions.readers.cdb90.read_actor_map` and
    :func:`coalitions.readers.cdb90.read_corrections` from the files of :func:`case_files` (config
    files, not source tables: the rule that calls this passes them as inputs). For IWBD,
    ``cdb90_actors`` and ``cow_states`` are used as name aliases when given.
    """
    _check_source(source)
    return list(CDB90_TABLES) if source == "cdb90" else list(IWBD_TABLES)


def case_files(source: str) -> list[str]:
    """The reviewed mapping files :func:`battle_events` needs (paths relative to the project)."""
    from ..readers.cdb90 import ACTOR_MAP, CORRECTIONS

    _check_source(source)
    # IWBD's state names are also resolved with the CDB90 aliases
    return [ACTOR_MAP, CORRECTIONS] if source == "cdb90" else [ACTOR_MAP]


def _check_source(source: str) -> None:
    if source not in SOURCES:
        raise CoalitionsError(f"battle source '{source}' is not one of {list(SOURCES)}")


def _check_empty(rule: str) -> None:
    if rule not in EMPTY_WINDOW_RULES:
        raise CoalitionsError(f"empty_window '{rule}' is not one of {list(EMPTY_WINDOW_RULES)}")


def _table(tables: Mapping[str, pd.DataFrame], name: str, why: str) -> pd.DataFrame:
    try:
        return tables[name]
    except KeyError:
        raise CoalitionsError(f"battlefield trends: table '{name}' is missing ({why})") from None


# ================================================================================================
# COW participation: coalition wars, the side of a state on a date


def _spells(war: pd.DataFrame) -> pd.DataFrame:
    """One row per COW spell: warnum, ccode, side, start, end, state_name."""
    w = war.rename(columns={"war_num": "warnum"})
    a = w[["warnum", "ccode", "side", "state_name", "start1", "end1"]].rename(columns={"start1": "start", "end1": "end"})
    b = w.loc[w["start2"].notna(), ["warnum", "ccode", "side", "state_name", "start2", "end2"]]
    b = b.rename(columns={"start2": "start", "end2": "end"})
    out = pd.concat([a, b], ignore_index=True)
    for c in ("warnum", "ccode", "side"):
        out[c] = out[c].astype("int64")
    return out


def coalition_wars(war: pd.DataFrame) -> list[int]:
    """COW wars with a coalition: a side on which two or more states fought on the same day."""
    sp = _spells(war)
    out = set()
    for (warnum, _side), g in sp.groupby(["warnum", "side"]):
        if g["ccode"].nunique() < 2:
            continue
        s, e, c = g["start"].to_numpy(), g["end"].to_numpy(), g["ccode"].to_numpy()
        for i in range(len(g)):
            if ((s <= e[i]) & (e >= s[i]) & (c != c[i])).any():
                out.add(int(warnum))
                break
    return sorted(out)


def _side_on(sp: pd.DataFrame, warnum: int, ccode: int, day: pd.Timestamp) -> tuple[int | None, bool]:
    """(side, certain): the COW side of ``ccode`` in war ``warnum`` on ``day``.

    Certain: the side of a spell holding the day, or for a state on one side only, that side.
    Uncertain (a state on both sides, the day outside its spells, e.g. Italy in September 1943):
    the side of the nearest spell, used only when the other battle side does not settle it.
    """
    g = sp[(sp["warnum"] == warnum) & (sp["ccode"] == ccode)]
    if g.empty:
        return None, False
    inside = g[(g["start"] <= day) & (g["end"] >= day)]
    if inside["side"].nunique() == 1:
        return int(inside["side"].iloc[0]), True
    if g["side"].nunique() == 1:
        return int(g["side"].iloc[0]), True
    dist = np.minimum((g["start"] - day).abs(), (g["end"] - day).abs())
    return int(g["side"].to_numpy()[int(np.argmin(dist.to_numpy()))]), False


def _resolve_sides(groups: pd.DataFrame, sp: pd.DataFrame, what: str,
                   known: Mapping[tuple, int] | None = None) -> dict[tuple, int]:
    """COW side of each battle side ``(battle_id, attacker)`` from its states' sides on the battle's day.

    ``groups``: battle_id, attacker, warnum, day, ccode (nullable). In order: the sides its states are
    certainly on (:func:`_side_on`); else the side opposite to the other battle side's (an actor with no
    COW code, a both-sides state between its spells); else the side of the nearest spell.
    ``known``: battle sides whose COW side is given (IWBD's coalition names).
    """
    certain: dict[tuple, set[int]] = {}
    guess: dict[tuple, set[int]] = {}
    for r in groups.itertuples(index=False):
        key = (r.battle_id, bool(r.attacker))
        certain.setdefault(key, set())
        guess.setdefault(key, set())
        if pd.notna(r.ccode):
            s, sure = _side_on(sp, int(r.warnum), int(r.ccode), r.day)
            if s is not None:
                (certain if sure else guess)[key].add(s)
    for key, s in (known or {}).items():
        certain.setdefault(key, set()).add(int(s))
        guess.setdefault(key, set())
    out: dict[tuple, int] = {}
    for (bid, att), sides in certain.items():
        if len(sides) > 1:
            raise CoalitionsError(f"{what} battle {bid}: the states of the {'attacking' if att else 'defending'} "
                                  f"side are on different COW sides of the war ({sorted(sides)}); correct the "
                                  f"actor mapping")
        if sides:
            out[(bid, att)] = next(iter(sides))
    for (bid, att) in certain:
        if (bid, att) not in out and (bid, not att) in out:
            out[(bid, att)] = 3 - out[(bid, not att)]
    for (bid, att) in certain:
        if (bid, att) not in out and len(guess[(bid, att)]) == 1:
            out[(bid, att)] = next(iter(guess[(bid, att)]))
            if (bid, not att) in certain and (bid, not att) not in out:
                out[(bid, not att)] = 3 - out[(bid, att)]
    for (bid, att) in certain:
        if (bid, att) not in out:
            raise CoalitionsError(f"{what} battle {bid}: no state of the COW war fixes the COW side of its "
                                  f"{'attacking' if att else 'defending'} side; correct the actor mapping")
    for bid in {k[0] for k in out}:
        if (bid, True) in out and (bid, False) in out and out[(bid, True)] == out[(bid, False)]:
            raise CoalitionsError(f"{what} battle {bid}: both battle sides map to COW side {out[(bid, True)]}; "
                                  f"correct the actor mapping")
    return out


# ================================================================================================
# battle events: CDB90


def _merge_days(d0: np.ndarray, d1: np.ndarray) -> list[tuple[np.datetime64, np.datetime64]]:
    """Merge overlapping or adjacent day ranges [d0, d1]."""
    order = np.argsort(d0, kind="stable")
    out: list[list] = []
    for i in order:
        a, b = d0[i], d1[i]
        if out and a <= out[-1][1] + np.timedelta64(1, "D"):
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def _war_key(name: object) -> str:
    """A COW war name without CDB90's "of 1914-1918" and the words "War"/"War of" (for comparison)."""
    n = re.sub(r"\s+of\s+\d{4}(-\d{4})?$", "", str(name or "")).strip().lower()
    n = re.sub(r"^war of\s+", "", n)
    return re.sub(r"\s+war$", "", n)


def _check_cow_wars(b: pd.DataFrame, war: pd.DataFrame) -> None:
    """CDB90's cow_warno must name the same war as COW (same name), and the battles fall in its span."""
    w = war.rename(columns={"war_num": "warnum"})
    names = w.groupby("warnum")["war_name"].first()
    for no, cdb_name in b.drop_duplicates("cow_warno")[["cow_warno", "cow_warname"]].itertuples(index=False):
        if _war_key(cdb_name) != _war_key(names.get(int(no))):
            raise CoalitionsError(f"CDB90: cow_warno {no} is '{cdb_name}' in CDB90 but '{names.get(int(no))}' in the "
                                  f"COW war data; the two do not number the wars alike")


def _check_battle_dates(seg: pd.DataFrame, b: pd.DataFrame, war: pd.DataFrame) -> None:
    w = war.rename(columns={"war_num": "warnum"})
    span = pd.DataFrame({"start": w.groupby("warnum")["start1"].min(),
                         "end": pd.concat([w["end1"], w["end2"]]).groupby(pd.concat([w["warnum"]] * 2)).max()})
    m = seg.merge(b[["isqno", "warnum", "name"]], on="isqno").merge(span, left_on="warnum", right_index=True)
    out = (pd.to_datetime(m["end_date"]) < m["start"]) | (pd.to_datetime(m["start_date"]) > m["end"])
    if out.any():
        r = m[out].iloc[0]
        raise CoalitionsError(f"CDB90 battle {r['isqno']} '{r['name']}' ({pd.Timestamp(r['start_date']).date()}) lies "
                              f"outside COW war {r['warnum']} ({r['start'].date()} to {r['end'].date()}); its cow_warno "
                              f"is wrong")


def _cdb90_events(tables: Mapping[str, pd.DataFrame], wars: Sequence[int]) -> pd.DataFrame:
    from ..readers.cdb90 import ACTOR_MAP, CORRECTIONS

    battles = _table(tables, "cdb90_battles", "CDB90 battles")
    bel = _table(tables, "cdb90_belligerents", "CDB90 belligerents")
    act = _table(tables, "cdb90_battle_actors", "CDB90 battle actors")
    per = _table(tables, "cdb90_active_periods", "CDB90 active periods")
    amap = _table(tables, "cdb90_actors", f"the CDB90 actor mapping, {ACTOR_MAP}; read it with "
                                          f"coalitions.readers.cdb90.read_actor_map")
    war = _table(tables, "cow_war_participants", "the COW war participants")
    sp = _spells(war)

    b = battles[battles["cow_warno"].isin(list(wars)) & battles["parent"].isna()]
    _check_cow_wars(b, war)
    b = b[["isqno", "name", "cow_warno"]].rename(columns={"cow_warno": "warnum"}).copy()
    b["warnum"] = b["warnum"].astype("int64")
    b["isqno"] = b["isqno"].astype("int64")

    # the tidy edition's actors, with the reviewed corrections (config/cases/cdb90_corrections.csv)
    a = act[["isqno", "attacker", "actor"]].copy()
    a["attacker"] = a["attacker"].astype(bool)
    a["isqno"] = a["isqno"].astype("int64")
    corr = tables.get("cdb90_corrections")
    if corr is None:
        raise CoalitionsError(f"battlefield trends: table 'cdb90_corrections' is missing (the reviewed corrections "
                              f"of CDB90's actors, {CORRECTIONS}; read it with "
                              f"coalitions.readers.cdb90.read_corrections)")
    if len(corr):
        keys = set(zip(corr["isqno"].astype("int64"), corr["attacker"].astype(bool)))
        a = a[[k not in keys for k in zip(a["isqno"], a["attacker"])]]
        new = [(int(r.isqno), bool(r.attacker), x or None) for r in corr.itertuples(index=False)
               for x in (r.actors.split(" & ") if r.actors else [""])]
        a = pd.concat([a, pd.DataFrame(new, columns=["isqno", "attacker", "actor"])], ignore_index=True)
    # every actor of these battles must be in the mapping (an empty ccode there is a decision)
    a = a.merge(b, on="isqno")
    known = set(amap["actor"])
    missing = a[a["actor"].notna() & ~a["actor"].isin(known)]
    if len(missing):
        r = missing.iloc[0]
        others = sorted(set(missing["actor"]) - {r["actor"]})
        raise CoalitionsError(
            f"{ACTOR_MAP}: CDB90 actor '{r['actor']}' (battle {r['isqno']} '{r['name']}', COW war {r['warnum']}) "
            f"is not in the actor mapping" + (f" (nor are {others})" if others else "")
            + "; add a row with its COW country code (or an empty ccode and a note saying why it has none)")
    a = a.merge(amap[["actor", "ccode"]], on="actor", how="left")
    a["attacker"] = a["attacker"].astype(bool)

    # dates: the battle's active periods as day segments
    p = per[per["isqno"].isin(b["isqno"])].copy()
    start = p["start_time_min"].fillna(p["end_time_min"])
    p["d0"] = start.to_numpy().astype("datetime64[D]")
    p["d1"] = p["end_time_max"].to_numpy().astype("datetime64[D]")
    segs = []
    for isq, g in p.groupby("isqno", sort=True):
        merged = _merge_days(g["d0"].to_numpy(), g["d1"].to_numpy())
        total = sum(int((e - s).astype(int)) + 1 for s, e in merged)
        for s, e in merged:
            segs.append((int(isq), s, e, (int((e - s).astype(int)) + 1) / total))
    seg = pd.DataFrame(segs, columns=["isqno", "start_date", "end_date", "weight"])
    nodate = sorted(set(b["isqno"]) - set(seg["isqno"]))
    if nodate:
        raise CoalitionsError(f"CDB90 battle(s) {nodate[:5]} of a COW coalition war have no active period (no date); "
                              f"fetch cdb90 again")
    _check_battle_dates(seg, b, war)
    first = seg.groupby("isqno")["start_date"].min().rename("day")

    g = a.merge(first.reset_index(), on="isqno").rename(columns={"isqno": "battle_id"})
    g["day"] = pd.to_datetime(g["day"])
    sides = _resolve_sides(g[["battle_id", "attacker", "warnum", "day", "ccode"]], sp, "CDB90")
    a["side"] = [sides[(i, att)] for i, att in zip(a["isqno"], a["attacker"])]

    cas = bel[["isqno", "attacker", "cas"]].copy()
    cas["attacker"] = cas["attacker"].astype(bool)
    a = a.merge(cas, on=["isqno", "attacker"], how="left")
    n_act = a.groupby(["isqno", "attacker"])["actor"].transform("size")
    a["share"] = a["cas"].astype(float) / n_act
    ev = a.merge(seg, on="isqno")
    out = pd.DataFrame({
        "warnum": ev["warnum"].astype("int64"),
        "battle_id": ev["isqno"].astype("int64"),
        "battle_name": ev["name"].astype(object),
        "start_date": pd.to_datetime(ev["start_date"]).astype("datetime64[ns]"),
        "end_date": pd.to_datetime(ev["end_date"]).astype("datetime64[ns]"),
        "side": ev["side"].astype("int64"),
        "ccode": ev["ccode"].astype("Int64"),
        "actor": ev["actor"].astype(object),
        "casualties": (ev["share"] * ev["weight"]).astype(float),
        "lost": np.nan,
        "source": "cdb90",
    })
    return out


# ================================================================================================
# battle events: IWBD

#: coalition names in IWBD's attacker/defender columns -> COW states whose side the name stands for
#: (the first of them that fought in the war gives the side)
IWBD_COALITIONS: dict[str, tuple[int, ...]] = {
    "allies": (200, 220, 2, 365),           # WWI/WWII Allies: the side of the UK, France, the US, Russia
    "allied powers": (200, 220, 2, 365),
    "entente": (200, 220, 365),
    "axis": (255, 740, 325),                 # Germany, Japan, Italy
    "central powers": (255, 300),            # Germany, Austria-Hungary
    "balkan league": (345, 355, 350),        # Serbia, Bulgaria, Greece
    "arab states": (651, 652, 663, 645),     # Egypt, Syria, Jordan, Iraq
    "arab coalition": (651, 652, 663, 645),
    "nato": (2, 200, 220),
    "un": (2,), "united nations": (2,), "coalition": (2,),
}
_SPLIT = re.compile(r"\s*(?:;|/|&|\+|,|\band\b)\s*", flags=re.IGNORECASE)


def _norm(name: object) -> str:
    s = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    s = re.sub(r"[^a-z0-9 ]+", " ", s.lower())
    s = re.sub(r"\s+", " ", s).strip()
    return re.sub(r"^the ", "", s)


def _iwbd_names(sp: pd.DataFrame, states: pd.DataFrame | None, amap: pd.DataFrame | None) -> dict[str, int]:
    """Normalised name -> ccode: COW participant names, COW state names/abbreviations, CDB90 aliases."""
    names: dict[str, int] = {}
    if amap is not None:
        for r in amap.dropna(subset=["ccode"]).itertuples(index=False):
            names.setdefault(_norm(r.actor), int(r.ccode))
    if states is not None:
        for r in states.drop_duplicates("ccode").itertuples(index=False):
            names.setdefault(_norm(r.statenme), int(r.ccode))
            names.setdefault(_norm(r.stateabb), int(r.ccode))
    for r in sp.drop_duplicates("ccode").itertuples(index=False):
        names[_norm(r.state_name)] = int(r.ccode)
    return names


def _iwbd_side_members(label: str, warnum: int, sp: pd.DataFrame, names: dict[str, int],
                       what: str) -> list[tuple[int | None, int | None]]:
    """[(ccode, fixed side)] for one IWBD side label: a coalition name gives (None, side)."""
    n = _norm(label)
    war_sp = sp[sp["warnum"] == warnum]
    if n in IWBD_COALITIONS:
        for c in IWBD_COALITIONS[n]:
            s = war_sp.loc[war_sp["ccode"] == c, "side"].unique()
            if len(s) == 1:
                return [(None, int(s[0]))]
        raise CoalitionsError(f"{what}: the coalition name '{label}' stands for none of the states of COW war "
                              f"{warnum}; correct IWBD_COALITIONS")
    out: list[tuple[int | None, int | None]] = []
    parts = [x for x in _SPLIT.split(str(label)) if x.strip()] if n not in names else [label]
    for part in parts:
        pn = _norm(part)
        if pn in IWBD_COALITIONS:
            out.extend(_iwbd_side_members(part, warnum, sp, names, what))
            continue
        if pn not in names:
            raise CoalitionsError(f"{what}: side '{label}': the name '{part}' is neither a COW state nor a known "
                                  f"coalition name; add it to {_amap_name()} (an alias row) or to IWBD_COALITIONS")
        out.append((names[pn], None))
    return out


def _amap_name() -> str:
    from ..readers.cdb90 import ACTOR_MAP

    return ACTOR_MAP


_VICTOR_WORDS = {"attacker": "attacker", "attack": "attacker", "defender": "defender", "defense": "defender",
                 "inconclusive": "draw", "draw": "draw", "tie": "draw", "stalemate": "draw", "indecisive": "draw"}


def _iwbd_victor(r) -> str | None:
    """'attacker', 'defender', 'draw' or None (no victor recorded) for one IWBD battle.

    From ``victorBattleLevel`` when it is a word this reader knows (attacker, defender,
    inconclusive, ...), else from ``victor`` when it names the attacker or the defender or a draw.
    A victor recorded in a form neither column explains is an error naming the battle (a silent
    "unknown" would quietly empty the trend).
    """
    lvl = _norm(r.victorBattleLevel) if pd.notna(r.victorBattleLevel) else ""
    if lvl in _VICTOR_WORDS:
        return _VICTOR_WORDS[lvl]
    v = _norm(r.victor) if pd.notna(r.victor) else ""
    if v and v == _norm(r.attacker):
        return "attacker"
    if v and v == _norm(r.defender):
        return "defender"
    if v in _VICTOR_WORDS:
        return _VICTOR_WORDS[v]
    if v or lvl:
        raise CoalitionsError(
            f"IWBD battle {r.battle_id} '{r.battleName}': cannot tell who won (victor '{r.victor}', "
            f"victorBattleLevel '{r.victorBattleLevel}', attacker '{r.attacker}', defender '{r.defender}'); "
            f"extend the victor words of coalitions.weisiger.trends (_VICTOR_WORDS)")
    return None


def _iwbd_events(tables: Mapping[str, pd.DataFrame], wars: Sequence[int]) -> pd.DataFrame:
    iw = _table(tables, "iwbd_battles", "the IWBD battles (optional source; read with "
                                        "coalitions.readers.iwbd.read_iwbd)")
    war = _table(tables, "cow_war_participants", "the COW war participants")
    sp = _spells(war)
    names = _iwbd_names(sp, tables.get("cow_states"), tables.get("cdb90_actors"))
    iw = iw[iw["cowNum"].isin(list(wars))]
    undated = iw["startDate"].isna()
    if undated.any():
        LOG.warning("IWBD: %d battle(s) of the coalition wars have no start date and are left out of the trends "
                    "(battle ids %s)", int(undated.sum()), iw.loc[undated, "battle_id"].head(10).tolist())
        iw = iw[~undated]
    rows = []
    groups = []
    for r in iw.itertuples(index=False):
        what = f"IWBD battle {r.battle_id} '{r.battleName}' (COW war {r.cowNum})"
        start = r.startDate
        if pd.notna(r.endDate):
            end = r.endDate
        elif pd.notna(r.battleLength) and int(r.battleLength) >= 1:
            end = start + pd.Timedelta(days=int(r.battleLength) - 1)
        else:
            end = start
        vic = _iwbd_victor(r)
        for att, label in ((True, r.attacker), (False, r.defender)):
            members = _iwbd_side_members(label, int(r.cowNum), sp, names, what)
            lost = np.nan if vic is None else (0.5 if vic == "draw" else
                                              float((vic == "attacker") != att))
            for ccode, fixed in members:
                rows.append((int(r.cowNum), int(r.battle_id), r.battleName, start, end, att, ccode, fixed,
                             str(label), lost))
                groups.append((int(r.battle_id), att, int(r.cowNum), start, ccode, fixed))
    cols = ["warnum", "battle_id", "battle_name", "start_date", "end_date", "attacker", "ccode", "fixed", "actor", "lost"]
    ev = pd.DataFrame(rows, columns=cols)
    if ev.empty:
        return _empty_events("iwbd")
    g = pd.DataFrame(groups, columns=["battle_id", "attacker", "warnum", "day", "ccode", "fixed"])
    # a coalition name fixes its side directly; states by their COW side on the day
    pre = {(r.battle_id, r.attacker): int(r.fixed) for r in g.dropna(subset=["fixed"]).itertuples(index=False)}
    sides = _resolve_sides(g[["battle_id", "attacker", "warnum", "day", "ccode"]], sp, "IWBD", known=pre)
    ev["side"] = [sides[(b, a)] for b, a in zip(ev["battle_id"], ev["attacker"])]
    return pd.DataFrame({
        "warnum": ev["warnum"].astype("int64"), "battle_id": ev["battle_id"].astype("int64"),
        "battle_name": ev["battle_name"].astype(object),
        "start_date": pd.to_datetime(ev["start_date"]).astype("datetime64[ns]"),
        "end_date": pd.to_datetime(ev["end_date"]).astype("datetime64[ns]"),
        "side": ev["side"].astype("int64"), "ccode": pd.array(ev["ccode"], dtype="Int64"),
        "actor": ev["actor"].astype(object), "casualties": np.nan, "lost": ev["lost"].astype(float),
        "source": "iwbd",
    })


def _empty_events(source: str) -> pd.DataFrame:
    return pd.DataFrame({
        "warnum": pd.Series(dtype="int64"), "battle_id": pd.Series(dtype="int64"),
        "battle_name": pd.Series(dtype=object),
        "start_date": pd.Series(dtype="datetime64[ns]"), "end_date": pd.Series(dtype="datetime64[ns]"),
        "side": pd.Series(dtype="int64"), "ccode": pd.Series(dtype="Int64"), "actor": pd.Series(dtype=object),
        "casualties": pd.Series(dtype=float), "lost": pd.Series(dtype=float), "source": pd.Series(dtype=object),
    })


def battle_events(tables: Mapping[str, pd.DataFrame], source: str, *,
                  wars: Iterable[int] | None = None) -> pd.DataFrame:
    """Tidy battle-side rows of ``source`` (``"cdb90"`` or ``"iwbd"``) for the COW coalition wars.

    ``wars``: the war numbers to cover (default: every COW war with a coalition,
    :func:`coalition_wars`). An actor of a battle of these wars that is not in the actor mapping is
    an error naming it (CDB90); an IWBD side name that is neither a COW state nor a known coalition
    name likewise. Columns: :data:`EVENT_COLUMNS` plus ``battle_name`` and ``actor``.
    """
    _check_source(source)
    war = _table(tables, "cow_war_participants", "the COW war participants")
    wars = sorted(set(int(w) for w in wars)) if wars is not None else coalition_wars(war)
    ev = _cdb90_events(tables, wars) if source == "cdb90" else _iwbd_events(tables, wars)
    bad = ev["end_date"] < ev["start_date"]
    if bad.any():
        raise CoalitionsError(f"{source}: battle {ev.loc[bad, 'battle_id'].iloc[0]} ends before it starts")
    return ev.sort_values(["warnum", "start_date", "battle_id", "side", "ccode"], kind="stable").reset_index(drop=True)


# ================================================================================================
# the trend


def _loss_column(events: pd.DataFrame) -> str:
    src = set(events["source"].unique())
    if len(src) > 1:
        raise CoalitionsError(f"battlefield trends: events from more than one source {sorted(src)}; use one")
    return "lost" if src == {"iwbd"} else "casualties"


def _battle_sides(ev: pd.DataFrame, qcol: str) -> pd.DataFrame:
    """Per battle segment: the day range and the loss of side 1 and side 2 (NaN unknown).

    CDB90: a battle side's rows share its casualties, so its loss is their sum (unknown if any row's
    is). IWBD: every row of a battle side carries the side's outcome (unknown if they differ).
    """
    key = ["battle_id", "start_date", "end_date", "side"]
    g = ev.groupby(key)[qcol]
    n, known = g.size(), g.count()
    if qcol == "lost":
        lo, hi = g.min(), g.max()
        q = lo.where((n == known) & (lo == hi))
    else:
        q = g.sum().where(n == known)
    q = q.unstack("side")
    for side in (1, 2):
        if side not in q.columns:
            q[side] = np.nan
    return q[[1, 2]].rename(columns={1: "l1", 2: "l2"}).reset_index()


_NO_SEGMENTS = pd.DataFrame({"battle_id": pd.Series(dtype="int64"), "start_date": pd.Series(dtype="datetime64[ns]"),
                             "end_date": pd.Series(dtype="datetime64[ns]"), "l1": pd.Series(dtype=float),
                             "l2": pd.Series(dtype=float)})


def _daily(seg: pd.DataFrame, origin: np.datetime64, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Daily loss of side 1, total loss, and the number of battle segments with data, on days 0..n-1."""
    ok = seg["l1"].notna() & seg["l2"].notna() & ((seg["l1"] + seg["l2"]) > 0)
    seg = seg[ok]
    l1 = np.zeros(n + 1)
    tot = np.zeros(n + 1)
    cnt = np.zeros(n + 1, dtype=np.int64)
    if len(seg):
        d0 = (seg["start_date"].to_numpy().astype("datetime64[D]") - origin).astype(np.int64)
        d1 = (seg["end_date"].to_numpy().astype("datetime64[D]") - origin).astype(np.int64)
        days = (d1 - d0 + 1).astype(float)
        v1 = seg["l1"].to_numpy(float) / days
        vt = (seg["l1"].to_numpy(float) + seg["l2"].to_numpy(float)) / days
        np.add.at(l1, d0, v1)
        np.add.at(l1, d1 + 1, -v1)
        np.add.at(tot, d0, vt)
        np.add.at(tot, d1 + 1, -vt)
        np.add.at(cnt, d0, 1)
        np.add.at(cnt, d1 + 1, -1)
    # a day outside every battle is exactly 0 (no floating residue from the running sums)
    c = np.cumsum(cnt)[:n]
    a = np.where(c > 0, np.cumsum(l1)[:n], 0.0)
    t = np.where(c > 0, np.cumsum(tot)[:n], 0.0)
    return a, t, c


class _Series:
    """Running sums of one daily loss series (own loss, total loss, battle-day indicator)."""

    def __init__(self, own: np.ndarray, tot: np.ndarray, cnt: np.ndarray):
        self.co = np.concatenate([[0.0], np.cumsum(own, dtype=float)])
        self.ct = np.concatenate([[0.0], np.cumsum(tot, dtype=float)])
        self.cc = np.concatenate([[0], np.cumsum(cnt > 0)])
        self.any = bool(self.cc[-1] > 0)

    def trend(self, ks: np.ndarray, t: np.ndarray, no_change: bool) -> np.ndarray:
        """(len(ks), len(t)): trend[k, t] = share(t-k+1..t) - share(t-2k+1..t-k), on day indices ``t``.

        Days before day 0 have no battles (day 0 lies 2 * max(ks) days before anything happens).
        """
        fill = 0.0 if no_change else np.nan
        if not self.any:
            return np.full((len(ks), len(t)), fill)
        co, ct, cc = self.co, self.ct, self.cc
        hi = (t + 1)[None, :]
        mid = np.maximum(hi - ks[:, None], 0)
        lo = np.maximum(hi - 2 * ks[:, None], 0)
        hi = np.broadcast_to(hi, mid.shape)
        ok = ((cc[hi] - cc[mid]) > 0) & ((cc[mid] - cc[lo]) > 0)
        out = np.full(mid.shape, fill)
        if ok.any():
            h, m, lo_ = hi[ok], mid[ok], lo[ok]
            now = (co[h] - co[m]) / (ct[h] - ct[m])
            prev = (co[m] - co[lo_]) / (ct[m] - ct[lo_])
            out[ok] = np.round(now - prev, 12)
        return out


def _units(units: pd.DataFrame) -> pd.DataFrame:
    u = units.copy()
    if "end_date" not in u.columns and "exit_date" in u.columns:
        u = u.rename(columns={"exit_date": "end_date"})
    need = ["idvar", "warnum", "side", "ccode", "entry_date", "end_date"]
    miss = [c for c in need if c not in u.columns]
    if miss:
        raise CoalitionsError(f"battlefield trends: the units table lacks column(s) {miss} (one row per "
                              f"participant: {need})")
    u = u[need].copy()
    for c in ("idvar", "warnum", "side", "ccode"):
        u[c] = u[c].astype("int64")
    u["entry_date"] = pd.to_datetime(u["entry_date"])
    u["end_date"] = pd.to_datetime(u["end_date"])
    if (u["end_date"] < u["entry_date"]).any():
        r = u[u["end_date"] < u["entry_date"]].iloc[0]
        raise CoalitionsError(f"battlefield trends: unit {r['idvar']} ends before it enters")
    if u["idvar"].duplicated().any():
        raise CoalitionsError("battlefield trends: idvar is not unique in the units table")
    return u


def trend_steps(events: pd.DataFrame, units: pd.DataFrame, windows: Iterable[int] = WINDOWS,
                empty_window: str = DEFAULT_EMPTY_WINDOW) -> pd.DataFrame:
    """The coalition (``ctrend``) and own (``otrend``) trend of every unit as step functions.

    ``units``: one row per participant (at-risk unit) with ``idvar, warnum, side, ccode,
    entry_date, end_date`` (``exit_date`` is taken for ``end_date`` when that is absent: the
    participants table of :func:`coalitions.weisiger.rebuild.build_participants`). ``windows``: the
    window lengths ``k`` in days (15..120 for Figure 5's sweep). ``empty_window``: ``"missing"`` or
    ``"no_change"`` (see the module docstring).

    Returns one row per unit, window and day on which a value changes, from the unit's entry to its
    end: ``idvar, window, date, ctrend, otrend``; each value holds from ``date`` until the unit's next
    ``date`` for the same window. The first row of each unit and window is on its entry date.
    Changes happen only on battle days and K and 2K days after them (see the module docstring).
    """
    _check_empty(empty_window)
    windows = sorted({int(k) for k in windows})
    if not windows or windows[0] < 1:
        raise CoalitionsError(f"battlefield trends: windows must be positive day counts, got {windows}")
    u = _units(units)
    empty = pd.DataFrame({"idvar": pd.Series(dtype="int64"), "window": pd.Series(dtype="int64"),
                          "date": pd.Series(dtype="datetime64[ns]"), "ctrend": pd.Series(dtype=float),
                          "otrend": pd.Series(dtype=float)})
    if u.empty:
        return empty
    qcol = _loss_column(events) if len(events) else "casualties"
    no_change = empty_window == "no_change"
    kmax = windows[-1]
    ks = np.asarray(windows, dtype=np.int64)
    cols: dict[str, list[np.ndarray]] = {"idvar": [], "window": [], "date": [], "ctrend": [], "otrend": []}
    for warnum, uw in u.groupby("warnum", sort=True):
        ev = events[events["warnum"] == warnum]
        lo = uw["entry_date"].min()
        hi = uw["end_date"].max()
        if len(ev):
            lo = min(lo, ev["start_date"].min())
            hi = max(hi, ev["end_date"].max())
        origin = np.datetime64(lo.date(), "D") - np.timedelta64(2 * kmax, "D")
        n = int((np.datetime64(hi.date(), "D") - origin).astype(np.int64)) + 1
        seg = _battle_sides(ev, qcol) if len(ev) else _NO_SEGMENTS
        a1, tot, cnt = _daily(seg, origin, n)
        span = np.arange(n)
        side_trend = {1: _Series(a1, tot, cnt).trend(ks, span, no_change),
                      2: _Series(tot - a1, tot, cnt).trend(ks, span, no_change)}
        own_ids = (ev.dropna(subset=["ccode"]).groupby(["side", "ccode"])["battle_id"].unique().to_dict()
                   if len(ev) else {})
        for r in uw.itertuples(index=False):
            mine = own_ids.get((r.side, r.ccode))
            if mine is not None:
                o1, otot, ocnt = _daily(seg[seg["battle_id"].isin(mine)], origin, n)
                own = _Series(o1 if r.side == 1 else otot - o1, otot, ocnt)
            else:
                own = _Series(np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64))
            i0 = int((np.datetime64(r.entry_date.date(), "D") - origin).astype(np.int64))
            i1 = int((np.datetime64(r.end_date.date(), "D") - origin).astype(np.int64))
            t = np.arange(i0, i1 + 1)
            days = origin + t.astype("timedelta64[D]")
            c = side_trend[r.side][:, i0:i1 + 1]
            o = own.trend(ks, t, no_change)
            chg = np.ones(c.shape, dtype=bool)
            chg[:, 1:] = ~(_same(c[:, 1:], c[:, :-1]) & _same(o[:, 1:], o[:, :-1]))
            ki, ti = np.nonzero(chg)
            cols["idvar"].append(np.full(len(ki), r.idvar, dtype=np.int64))
            cols["window"].append(ks[ki])
            cols["date"].append(days[ti])
            cols["ctrend"].append(c[ki, ti])
            cols["otrend"].append(o[ki, ti])
    if not cols["idvar"]:
        return empty
    out = pd.DataFrame({c: np.concatenate(v) for c, v in cols.items()})
    out["date"] = pd.to_datetime(out["date"]).astype("datetime64[ns]")
    return out.sort_values(["idvar", "window", "date"], kind="stable").reset_index(drop=True)


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a == b) | (np.isnan(a) & np.isnan(b))


# ================================================================================================
# coverage


def coverage(events: pd.DataFrame, units: pd.DataFrame) -> pd.DataFrame:
    """Per war of ``units``: how much battle data the trends rest on.

    Columns: warnum, source, battles (distinct battles with data on both sides' losses), battle_days
    (calendar days on which at least one such battle was fought), first_battle, last_battle,
    war_days (days from the first entry to the last end of the war's units), participants (units),
    participants_with_own_battles (units with at least one battle of their own, with data, between
    their entry and end).
    """
    u = _units(units)
    qcol = _loss_column(events) if len(events) else "casualties"
    src = events["source"].iloc[0] if len(events) else ""
    rows = []
    for warnum, uw in u.groupby("warnum", sort=True):
        ev = events[events["warnum"] == warnum]
        seg = _battle_sides(ev, qcol) if len(ev) else _NO_SEGMENTS
        ok = seg[seg["l1"].notna() & seg["l2"].notna() & ((seg["l1"] + seg["l2"]) > 0)] if len(seg) else seg
        days: set = set()
        for r in ok.itertuples(index=False):
            days.update(pd.date_range(r.start_date, r.end_date, freq="D"))
        good = set(ok["battle_id"]) if len(ok) else set()
        n_own = 0
        for r in uw.itertuples(index=False):
            mine = ev[(ev["side"] == r.side) & (ev["ccode"] == r.ccode).fillna(False)
                      & ev["battle_id"].isin(good)
                      & (ev["end_date"] >= r.entry_date) & (ev["start_date"] <= r.end_date)]
            n_own += int(len(mine) > 0)
        rows.append({
            "warnum": int(warnum), "source": src, "battles": len(good), "battle_days": len(days),
            "first_battle": ok["start_date"].min() if len(ok) else pd.NaT,
            "last_battle": ok["end_date"].max() if len(ok) else pd.NaT,
            "war_days": int((uw["end_date"].max() - uw["entry_date"].min()).days) + 1,
            "participants": len(uw), "participants_with_own_battles": n_own,
        })
    out = pd.DataFrame(rows, columns=list(COVERAGE_COLUMNS))
    for c in ("first_battle", "last_battle"):
        out[c] = pd.to_datetime(out[c])
    return out

"""A small synthetic ``coalition_exit_final.dta`` for tests and for machines without the archive.

Weisiger's archive is on Harvard Dataverse, not in the offline mirror, so the original-archive
track is tested on a file made here: the same columns, the same structure (participants = countries
in wars, several records per participant ending on shared war days, coalitions on one or both sides,
late joiners, exits and censored participants) and exits drawn from a KNOWN proportional hazard in
which fighting on a common front lowers and a worsening war raises the risk of abandoning the
coalition (:data:`TRUE_COEFFICIENTS`). Fitting the Full Model to it must therefore give a negative
Common Front and a positive War Worsening coefficient.

Wars 22, 28, 106, 108, 139 and 155 are always present, so that every sample restriction and recode
of the models changes the sample: in 22, 28 and 155 an exit ends the whole war (Table A1's recode);
106 and 139 are the World Wars (Table 2's "No World Wars"); 108 has a coalition on side 2 (Table
A1's "No Non-Coord."). Some ``contribpc`` values are small or missing (Table A1's "No Minor
Participants" and Stata's rule for missing values).

THE FILE IS NOT WEISIGER'S DATA. Its Stata data label and the label of ``idvar`` say
:data:`~coalitions.weisiger.original.SYNTHETIC_MARKER`, and
:func:`coalitions.weisiger.original.read_archive` reports ``is_synthetic=True`` for it.
"""

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..util import atomic_path
from .original import SYNTHETIC_MARKER

__all__ = [
    "TRUE_COEFFICIENTS",
    "BASELINE_HAZARD",
    "REQUIRED_WARS",
    "WAR_ENDING_WARS",
    "TREND_WINDOWS",
    "SYNTHETIC_COLUMNS",
    "synthetic_frame",
    "make_synthetic_archive",
]

#: log hazard ratios of the data-generating model (per unit of each variable)
TRUE_COEFFICIENTS: dict[str, float] = {
    "foverlap": -1.5,   # a common front with allies makes abandonment less likely
    "ctrend60": 0.8,    # a worsening war makes it more likely
    "pvict": -1.5,
    "imptce": -1.0,
    "recexit": 0.7,
    "demdum": 0.3,
    "newlead": 0.6,
    "sepdum": -0.7,
}
#: baseline hazard of exit per war day
BASELINE_HAZARD = 1.0 / 250.0
REQUIRED_WARS = (22, 28, 106, 108, 139, 155)
#: wars in which an exit ended the whole war (the recode of Table A1)
WAR_ENDING_WARS = (22, 28, 155)
_OTHER_WARS = (1, 7, 43, 58, 79, 115, 151, 163, 169, 187, 199, 211, 67, 91, 97, 142, 147, 176, 193, 202)
TREND_WINDOWS = tuple(range(15, 121))
_CCODES = (2, 20, 200, 205, 210, 211, 220, 230, 235, 255, 290, 300, 310, 325, 339, 345, 350, 355, 360, 365,
           640, 645, 651, 663, 710, 740, 750, 770, 800, 816, 840, 900, 920)
_INT_COLS = ("idvar", "warnum", "ccode", "side", "coalid", "warday", "finalobs", "withdraw", "volunt", "recexit",
             "recexit2", "demdum", "polity2", "newlead", "sepdum", "actdum", "intdum", "latejoin", "terraim",
             "regaim", "year", "month", "day")
SYNTHETIC_COLUMNS = (
    ("idvar", "warnum", "ccode", "side", "coalid", "warday", "year", "month", "day", "finalobs", "withdraw",
     "volunt", "foverlap")
    + tuple(f"ctrend{k}" for k in TREND_WINDOWS)
    + ("otrend60", "pvict", "imptce", "contribpc", "recexit", "recexit2", "demdum", "polity2", "newlead", "sepdum",
       "seppc", "actdum", "actpc", "intdum", "cooppc", "lnodead", "lnodead2", "latejoin", "terraim", "regaim")
)
_LABELS = {
    "idvar": f"participant id [{SYNTHETIC_MARKER}]",
    "foverlap": "Common Front", "ctrend60": "War Worsening", "pvict": "Relative Capabilities",
    "imptce": "Importance", "recexit": "Recent Ally Exit", "recexit2": "Alt. Recent Exit", "demdum": "Democracy",
    "polity2": "Polity Score", "newlead": "New Leader", "sepdum": "No Separate Peace",
    "lnodead": "log(Battle Deaths)", "lnodead2": "log(Battle Deaths/Pop.)", "seppc": "% No Sep. Peace",
    "actdum": "Alliance Agreement", "actpc": "% Allied", "latejoin": "Late Joiner", "terraim": "Territorial War Aim",
    "regaim": "Regime War Aim", "cooppc": "Coalition History", "intdum": "Integrated Command",
    "contribpc": "Importance (Soldiers)",
}


def _war_numbers(n_wars: int) -> list[int]:
    if n_wars < len(REQUIRED_WARS):
        raise ValueError(f"n_wars must be at least {len(REQUIRED_WARS)} (wars {REQUIRED_WARS} are always present)")
    extra = list(_OTHER_WARS) + [300 + i for i in range(max(0, n_wars - len(REQUIRED_WARS) - len(_OTHER_WARS)))]
    return sorted(list(REQUIRED_WARS) + extra[: n_wars - len(REQUIRED_WARS)])


def _draw_overlap(rng: np.random.Generator) -> float:
    u = rng.random()
    if u < 0.45:
        return 1.0
    if u < 0.65:
        return 0.0
    return float(np.round(rng.uniform(0.1, 0.9), 3))


def _trend(walk: np.ndarray, days: np.ndarray, k: int) -> np.ndarray:
    """Change of the cumulative battlefield balance over the last k days, per sqrt(day)."""
    return (walk[days] - walk[np.maximum(days - k, 0)]) / np.sqrt(k)


def synthetic_frame(seed: int = 0, n_wars: int = 20, record_every: int = 30) -> pd.DataFrame:
    """Simulate the archive's records (see the module docstring); rows in (warnum, ccode, warday) order."""
    rng = np.random.default_rng(seed)
    beta = TRUE_COEFFICIENTS
    rows: list[dict] = []
    idvar = 0
    coalid = 0
    windows = np.array(TREND_WINDOWS)
    for warnum in _war_numbers(n_wars):
        if warnum in (106, 139):
            length = int(rng.integers(1400, 2200))
        else:
            length = int(rng.integers(200, 1300))
        start_date = _dt.date(int(rng.integers(1820, 2000)), int(rng.integers(1, 13)), int(rng.integers(1, 29)))
        pool = list(rng.permutation(_CCODES))
        sides = {1: int(rng.integers(2, 6))}
        if warnum in (106, 139):
            sides = {1: 5, 2: 3}
        elif warnum == 108 or rng.random() < 0.4:
            sides[2] = int(rng.integers(2, 5))
        grid = np.unique(np.concatenate([np.arange(record_every, length + 1, record_every), [length]]))
        war_members: list[dict] = []
        for side, m in sides.items():
            coalid += 1
            walk = np.concatenate([[0.0], np.cumsum(rng.normal(rng.normal(0, 0.05), 1.0, length))])
            p0 = rng.normal(0, 0.8)
            intdum = int(rng.random() < 0.3)
            cinc = rng.dirichlet(np.full(m, 0.8))
            troops = rng.dirichlet(np.ones(m))
            for j in range(m):
                idvar += 1
                late = rng.random() < 0.25
                join = int(rng.integers(30, max(31, length // 2))) if late else 0
                first_day = join if late else 1
                days = np.unique(np.concatenate([[first_day], grid[grid > first_day]]))
                extra = rng.integers(first_day + 1, length) if length - first_day > 2 and rng.random() < 0.5 else None
                if extra is not None:
                    days = np.unique(np.append(days, extra))
                f0 = _draw_overlap(rng)
                change = int(rng.integers(first_day, length)) if rng.random() < 0.5 else length + 1
                f1 = _draw_overlap(rng)
                polity2 = int(rng.integers(-10, 11))
                lead_changes = np.cumsum(rng.exponential(700.0, 6)) - 200.0
                sep0 = int(rng.random() < _phi(-0.6 + 1.4 * f0))
                sep_day = int(rng.integers(first_day, length)) if (not sep0 and rng.random() < 0.3) else None
                actdum = int(rng.random() < 0.5)
                contrib = float(troops[j]) if rng.random() > 0.1 else np.nan
                own = walk + np.concatenate([[0.0], np.cumsum(rng.normal(0, 0.7, length))])
                deaths = float(np.exp(rng.uniform(np.log(100), np.log(1e6))))
                war_members.append(dict(
                    idvar=idvar, side=side, coalid=coalid, ccode=int(pool.pop()), days=days, walk=walk, own=own,
                    p0=p0, intdum=intdum, imptce=float(cinc[j]), contribpc=contrib, latejoin=int(late), f0=f0, f1=f1,
                    change=change, polity2=polity2, lead_changes=lead_changes, sep0=sep0, sep_day=sep_day,
                    actdum=actdum, actpc=float(np.clip(rng.beta(2, 2) + 0.3 * actdum - 0.15, 0, 1)),
                    cooppc=float(rng.uniform(0, 1)), lnodead=np.log(deaths),
                    lnodead2=np.log(deaths) - rng.uniform(np.log(1e6), np.log(2e8)),
                    terraim=int(rng.random() < 0.4), regaim=int(rng.random() < 0.2), m=m,
                ))
        # the share of a coalition's members that have pledged no separate peace at the start
        for mem in war_members:
            mates = [o for o in war_members if o["coalid"] == mem["coalid"] and o is not mem]
            mem["seppc"] = float(np.mean([o["sep0"] for o in mates])) if mates else 0.0

        # simulate exits on the war's common calendar of record days
        exits: dict[int, int] = {}  # idvar -> exit day
        war_end = length
        all_days = np.unique(np.concatenate([mem["days"] for mem in war_members]))
        records: dict[int, list[dict]] = {mem["idvar"]: [] for mem in war_members}
        prev_day = {mem["idvar"]: 0 for mem in war_members}
        for t in all_days:
            if t > war_end:
                break
            for mem in war_members:
                i = mem["idvar"]
                if i in exits or t not in set(mem["days"].tolist()):
                    continue
                x = _covariates(mem, int(t), war_members, exits, windows, rng)
                lin = sum(beta[k] * x[k] for k in beta)
                p_exit = 1.0 - np.exp(-BASELINE_HAZARD * np.exp(lin) * (t - prev_day[i]))
                x["withdraw"] = int(rng.random() < p_exit)
                x["warday"] = int(t)
                records[i].append(x)
                prev_day[i] = int(t)
                if x["withdraw"]:
                    exits[i] = int(t)
            if warnum in WAR_ENDING_WARS and exits:
                war_end = min(exits.values())  # the exit ends the war: everybody stops here
                break
        if warnum in WAR_ENDING_WARS and not exits:
            # nobody left before the end: the war ends with one member's separate peace
            mem = next(m_ for m_ in war_members if m_["side"] == 1)
            recs = records[mem["idvar"]]
            recs[-1]["withdraw"] = 1
            exits[mem["idvar"]] = recs[-1]["warday"]
            war_end = recs[-1]["warday"]
        for mem in war_members:
            recs = [r for r in records[mem["idvar"]] if r["warday"] <= war_end]
            if not recs:
                continue
            if warnum in WAR_ENDING_WARS and recs[-1]["warday"] < war_end and mem["idvar"] not in exits:
                x = _covariates(mem, war_end, war_members, exits, windows, rng)
                x.update(withdraw=0, warday=war_end)
                recs.append(x)
            for r in recs:
                r["volunt"] = int(r["withdraw"] == 1 and (warnum in WAR_ENDING_WARS or rng.random() < 0.75))
                r["finalobs"] = 0
                date = start_date + _dt.timedelta(days=int(r["warday"]))
                r.update(idvar=mem["idvar"], warnum=warnum, ccode=mem["ccode"], side=mem["side"],
                         coalid=mem["coalid"], year=date.year, month=date.month, day=date.day)
            recs[-1]["finalobs"] = 1
            rows.extend(recs)
    df = pd.DataFrame(rows)
    df = df[list(SYNTHETIC_COLUMNS)].sort_values(["warnum", "ccode", "warday"], kind="stable").reset_index(drop=True)
    for c in _INT_COLS:
        df[c] = df[c].astype(np.int32 if c in ("idvar", "warday", "year", "ccode", "coalid") else np.int16)
    return df


def _phi(x: float) -> float:
    from math import erf, sqrt

    return 0.5 * (1.0 + erf(x / sqrt(2.0)))


def _covariates(mem: dict, t: int, members: list[dict], exits: dict[int, int], windows: np.ndarray,
                rng: np.random.Generator) -> dict:
    """The participant's covariates on war day ``t`` (its record ending on that day)."""
    walk = mem["walk"]
    day = np.array([t])
    trends = {f"ctrend{k}": float(_trend(walk, day, int(k))[0]) for k in windows}
    ally_exits = [d for i, d in exits.items() if i != mem["idvar"]
                  and any(o["idvar"] == i and o["coalid"] == mem["coalid"] for o in members)]
    sep = mem["sep0"] or (mem["sep_day"] is not None and t >= mem["sep_day"])
    x = {
        "foverlap": mem["f0"] if t < mem["change"] else mem["f1"],
        **trends,
        "otrend60": float(_trend(mem["own"], day, 60)[0]),
        "pvict": float(np.clip(1.0 / (1.0 + np.exp(-(mem["p0"] - 0.05 * walk[t]))), 0.02, 0.98)),
        "imptce": mem["imptce"],
        "contribpc": mem["contribpc"],
        "recexit": int(any(t - 60 <= d < t for d in ally_exits)),
        "recexit2": int(any(t - 120 <= d < t for d in ally_exits)),
        "polity2": mem["polity2"],
        "demdum": int(mem["polity2"] >= 6),
        "newlead": int(np.any((mem["lead_changes"] <= t) & (mem["lead_changes"] > t - 180))),
        "sepdum": int(sep),
        "seppc": mem["seppc"],
        "actdum": mem["actdum"],
        "actpc": mem["actpc"],
        "intdum": mem["intdum"],
        "cooppc": mem["cooppc"],
        "lnodead": mem["lnodead"],
        "lnodead2": mem["lnodead2"],
        "latejoin": mem["latejoin"],
        "terraim": mem["terraim"],
        "regaim": mem["regaim"],
    }
    return x


def make_synthetic_archive(path: str | os.PathLike, seed: int = 0, n_wars: int = 20) -> Path:
    """Write a synthetic ``coalition_exit_final.dta`` (Stata 118) to ``path`` and return the path.

    The data label and ``idvar``'s variable label carry the synthetic marker; the file is written
    atomically. ``n_wars`` >= 6 (the six wars the models single out are always included).
    """
    df = synthetic_frame(seed=seed, n_wars=n_wars)
    path = Path(path)
    labels = {c: _LABELS.get(c, c) for c in df.columns}
    for k in TREND_WINDOWS:
        labels.setdefault(f"ctrend{k}", f"coalition trend, {k}-day window")
    labels["ctrend60"] = "War Worsening"
    with atomic_path(path, suffix=".dta.partial") as tmp:
        df.to_stata(tmp, write_index=False, data_label=SYNTHETIC_MARKER, variable_labels=labels, version=118)
    return path

"""SYNTHETIC hand-coded case files and a tiny coalition, for the tests of coalitions.weisiger.handcoded.

The case files are valid rows about COW war 106 (World War I) in the fixed formats of the
project's hand-coded files, written so that a test can break one line and expect the error to
name that file and line. Their sources name the COW data guide (a real publication) and say that
the row is a test row; they are not research and never enter config/cases.

:func:`tiny_coalition` is a made-up war (number 1, three members of side 1, one enemy) with
hand-worked counting-process records, for checking each variable's computation by hand.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

SOURCE = ("SYNTHETIC TEST ROW; Meredith Reid Sarkees and Frank Whelon Wayman, Resort to War (Washington, DC: "
          "CQ Press, 2010)")

#: valid rows of each file (WWI, COW war 106: Russia 365 and Romania 360 exit, UK 200 and France 220 fight on)
VALID: dict[str, list[dict[str, str]]] = {
    "weisiger_voluntary": [
        {"warnum": "106", "ccode": "365", "side": "1", "state_name": "Russia", "exit_date": "1917-12-05",
         "volunt": "1", "how": "armistice", "contested": "no", "note": "", "source": SOURCE},
        {"warnum": "106", "ccode": "360", "side": "1", "state_name": "Romania", "exit_date": "1917-12-09",
         "volunt": "0", "how": "occupation", "contested": "yes", "note": "test note", "source": SOURCE},
    ],
    "weisiger_separate_peace": [
        {"warnum": "106", "agreement": "Declaration of London", "date_signed": "1914-09-05", "ccode": "200",
         "side": "1", "state_name": "United Kingdom", "bound_from": "1914-09-05", "bound_to": "", "contested": "no",
         "note": "", "source": SOURCE},
        {"warnum": "106", "agreement": "Declaration of London", "date_signed": "1914-09-05", "ccode": "220",
         "side": "1", "state_name": "France", "bound_from": "", "bound_to": "", "contested": "no", "note": "",
         "source": SOURCE},
    ],
    "weisiger_leaders": [
        {"ccode": "200", "state_name": "United Kingdom", "leader": "Test leader A", "start_date": "1850-01-01",
         "end_date": "1852-02-01", "contested": "no", "note": "", "source": SOURCE},
        {"ccode": "200", "state_name": "United Kingdom", "leader": "Test leader B", "start_date": "1852-02-01",
         "end_date": "", "contested": "no", "note": "", "source": SOURCE},
    ],
    "weisiger_integrated_command": [
        {"warnum": "106", "side": "1", "command": "Supreme War Council", "ccode": "200", "state_name": "United Kingdom",
         "start_date": "1918-03-26", "end_date": "", "contested": "no", "note": "", "source": SOURCE},
        {"warnum": "106", "side": "1", "command": "Supreme War Council", "ccode": "220", "state_name": "France",
         "start_date": "1918-03-26", "end_date": "1918-11-11", "contested": "no", "note": "", "source": SOURCE},
    ],
    "weisiger_war_aims": [
        {"warnum": "106", "ccode": "220", "side": "1", "state_name": "France", "terraim": "1", "regaim": "0",
         "contested": "no", "note": "", "source": SOURCE},
        {"warnum": "106", "ccode": "200", "side": "1", "state_name": "United Kingdom", "terraim": "", "regaim": "",
         "contested": "no", "note": "", "source": SOURCE},
    ],
}


def write_case_file(folder: Path, name: str, rows: list[dict[str, str]] | None = None) -> Path:
    """Write ``rows`` (default: the valid rows) as ``folder/<name>.csv``; returns the path."""
    from coalitions.weisiger.handcoded import HANDCODED_FILES

    folder.mkdir(parents=True, exist_ok=True)
    df = pd.DataFrame(rows if rows is not None else VALID[name], columns=list(HANDCODED_FILES[name]))
    path = folder / f"{name}.csv"
    df.to_csv(path, index=False)
    return path


def with_change(name: str, row: int, **changes: str) -> list[dict[str, str]]:
    """The valid rows of ``name`` with ``changes`` applied to row ``row`` (0-based; file line row+2)."""
    rows = [dict(r) for r in VALID[name]]
    rows[row].update(changes)
    return rows


def tiny_coalition() -> tuple[pd.DataFrame, pd.DataFrame]:
    """A made-up war 1 starting 2000-01-01: members A (ccode 2), B (20), C (200) of side 1.

    A fights days 0-39 and exits on day 39 (2000-02-09); B fights days 0-59; C enters on day 15
    (2000-01-16) and fights to day 59. Each member has one record per war segment given by the
    entries and exits only (as the rebuild makes them), with polity2 and newlead known.
    Returns (participants, periods) in the rebuild's shapes.
    """
    ws = pd.Timestamp("2000-01-01")
    spans = {2: (0, 39, 1), 20: (0, 59, 0), 200: (15, 59, 0)}
    part, per = [], []
    for cc, (a, z, ex) in spans.items():
        idvar = 1 * 100000 + cc * 100 + 10 + 1
        part.append({"idvar": idvar, "participant": f"1-{cc}-1", "warnum": 1, "ccode": cc, "side": 1, "coalid": 11,
                     "spell": 1, "entry_date": ws + pd.Timedelta(days=a), "first_entry_date": ws + pd.Timedelta(days=a),
                     "exit_date": ws + pd.Timedelta(days=z), "cow_end_date": ws + pd.Timedelta(days=z),
                     "exit": ex, "state_name": str(cc)})
        cuts = sorted({a, z + 1, *[d for d in (15, 40) if a < d <= z]})
        for k, (s0, s1) in enumerate(zip(cuts[:-1], cuts[1:])):
            last = s1 == z + 1
            per.append({"idvar": idvar, "warnum": 1, "ccode": cc, "side": 1, "coalid": 11, "spell": 1,
                        "start": s0 - a, "stop": s1 - a, "warday": s1 - a, "wstart": s0, "wstop": s1,
                        "date_from": ws + pd.Timedelta(days=s0), "date_to": ws + pd.Timedelta(days=s1 - 1),
                        "firstobs": int(k == 0), "finalobs": int(last), "withdraw": int(last and ex == 1),
                        "volunt": float("nan"), "polity2": 10.0, "demdum": 1.0, "newlead": 0.0,
                        "sepdum": float("nan"), "seppc": float("nan"), "intdum": float("nan"),
                        "terraim": float("nan"), "regaim": float("nan")})
    return pd.DataFrame(part), pd.DataFrame(per)

"""A small IWBD file made up for the tests, with IWBD's twelve columns: SYNTHETIC TEST DATA.

The real file is on Harvard Dataverse only and cannot be had offline. These rows are invented
(every battle name starts with "SYNTHETIC"); they exercise the reader (dates, missing codes,
coalition names) and the battle-lost trend, whose expected values are worked out by hand in
tests/test_trends.py.
"""

from __future__ import annotations

import csv
from pathlib import Path

COLUMNS = ("cowNum", "iwdNum", "warName", "battleName", "attacker", "defender", "startDate", "endDate",
           "battleLength", "victor", "victorWarLevel", "victorBattleLevel")

#: (cowNum, battleName, attacker, defender, startDate, endDate, battleLength, victor, victorBattleLevel)
ROWS = [
    # World War II (COW 139), June 1944: the hand-worked trend of tests/test_trends.py
    (139, "SYNTHETIC A", "United Kingdom", "Germany", "1944-05-25", "1944-05-25", 1, "Germany", "defender"),
    (139, "SYNTHETIC B6", "United Kingdom", "Germany", "1944-06-03", "1944-06-03", 1, "United Kingdom", "attacker"),
    (139, "SYNTHETIC B1", "Allies", "Germany", "1944-06-06", "", 1, "Allies", ""),
    (139, "SYNTHETIC UNKNOWN", "Allies", "Germany", "1944-06-07", "1944-06-07", 1, "-9", "-9"),
    (139, "SYNTHETIC B2", "Germany", "United States of America", "1944-06-08", "1944-06-09", 2, "Germany", ""),
    (139, "SYNTHETIC B3", "Italy", "Germany", "1944-06-10", "1944-06-10", 1, "", "inconclusive"),
    # Italy on the other side in 1941, and a coalition name
    (139, "SYNTHETIC B5", "United Kingdom", "Italy", "1941-03-28", "1941-03-29", 2, "United Kingdom", "attacker"),
    (139, "SYNTHETIC B4", "Axis", "USSR", "1941-06-22", "1941-06-30", 9, "Axis", "attacker"),
    # World War I (COW 106), the First Balkan War (100), Yom Kippur (181), Kosovo (221)
    (106, "SYNTHETIC W1", "Central Powers", "Allies", "1916-02-21", "1916-12-18", 302, "Allies", "defender"),
    (106, "SYNTHETIC W2", "France/United Kingdom", "Germany", "1916-07-01", "1916-11-18", 141, "", "inconclusive"),
    (100, "SYNTHETIC K1", "Balkan League", "Turkey", "1912-10-22", "1912-10-24", 3, "Balkan League", "attacker"),
    (181, "SYNTHETIC Y1", "Arab States", "Israel", "1973-10-06", "1973-10-08", 3, "Arab States", "attacker"),
    (221, "SYNTHETIC N1", "NATO", "Yugoslavia", "1999-03-24", "1999-06-10", 79, "NATO", "attacker"),
    # a war that is not a coalition war (Russo-Japanese, COW 85)
    (85, "SYNTHETIC R1", "Japan", "Russia", "1904-08-10", "1904-08-10", 1, "Japan", "attacker"),
]


def write_synthetic_iwbd(path: str | Path, rows=ROWS, sep: str = ",") -> Path:
    """Write the synthetic IWBD file (CSV by default) and return its path."""
    path = Path(path)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, delimiter=sep, lineterminator="\n")
        w.writerow(COLUMNS)
        for i, (cow, name, att, dfn, s, e, n, vic, lvl) in enumerate(rows):
            wl = "attacker" if vic and vic == att else ("defender" if vic and vic == dfn else "")
            w.writerow([cow, 900 + i, "SYNTHETIC TEST DATA", name, att, dfn, s, e, n, vic, wl, lvl])
    return path

"""A small SYNTHETIC front file for the tests of coalitions.weisiger.fronts.

The rows are test data, not historical claims: the fronts and dates are chosen so that foverlap can be
worked out by hand, and every ``source`` says so. They use the real COW participants of the Seven
Weeks War (war 55, 15 June to 26 July 1866), so that the rows can be checked against the COW data.

Hand-worked values (equal weights unless said otherwise):

* Italy (325, side 1): Venetia only, no partner there -> 0 on every day.
* Germany (255, side 1): Bohemia (alone) and Main; Mecklenburg Schwerin (280) on the Main from
  1 July -> 0 until 30 June, then 1/2 (one of two fronts shared); Mecklenburg -> 1 from 1 July
  (its only front is shared), missing before (no front in the file).
* Austria (300, side 2): Bohemia with Saxony (269) and Venetia alone -> 1/2 with equal weights; with
  the shares 0.75 (Bohemia) and 0.25 (Venetia), ``front_weighting: share`` gives 0.75.
* Saxony: Bohemia with Austria -> 1.
"""

from __future__ import annotations

from pathlib import Path

from coalitions.weisiger.fronts import FRONT_COLUMNS

SOURCE = "synthetic test row (not a historical claim)"

ROWS = [
    # warnum, ccode, side, state_name, front, start, end, share, contested, note
    (55, 325, 1, "Italy", "Venetia", "1866-06-20", "1866-07-26", "", "no", ""),
    (55, 255, 1, "Germany", "Bohemia", "1866-06-15", "1866-07-26", "", "no", ""),
    (55, 255, 1, "Germany", "Main", "1866-06-15", "1866-07-26", "", "no", ""),
    (55, 280, 1, "Mecklenburg Schwerin", "Main", "1866-07-01", "1866-07-26", "", "no", ""),
    (55, 300, 2, "Austria", "Bohemia", "1866-06-15", "1866-07-26", "0.75", "no", ""),
    (55, 300, 2, "Austria", "Venetia", "1866-06-15", "1866-07-26", "0.25", "yes", "synthetic: share disputed"),
    (55, 269, 2, "Saxony", "Bohemia", "1866-06-15", "1866-07-26", "", "no", ""),
]


def csv_text(rows=ROWS, header=FRONT_COLUMNS) -> str:
    lines = [",".join(header)]
    for r in rows:
        lines.append(",".join(str(v) for v in r) + f",{SOURCE}")
    return "\n".join(lines) + "\n"


def write_fronts(path: Path, rows=ROWS) -> Path:
    """Write the synthetic front file (or ``rows``: tuples of the first ten columns) to ``path``."""
    path.write_text(csv_text(rows), encoding="utf-8")
    return path

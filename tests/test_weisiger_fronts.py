"""Common Front (foverlap) from the front file: the file's checks, hand-worked values, record boundaries,
coverage, and the real config/cases/weisiger_fronts.csv (on the COW data of the mirror)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from coalitions.util import CoalitionsError
from coalitions.weisiger.fronts import FRONTS, check_fronts, front_overlap, read_fronts, validate_fronts
from coalitions.weisiger.rebuild import WeisigerCoding, build_participants, build_rebuilt, required_tables
from coalitions.weisiger.rebuild_cases import load_cases

from helpers.fronts import ROWS, SOURCE, csv_text, write_fronts
from helpers.sources import weisiger_sources


@pytest.fixture(scope="module")
def src(tables, root):
    return weisiger_sources(tables, root, required_tables(WeisigerCoding()))


@pytest.fixture(scope="module")
def cases(root, src):
    c = load_cases(root / "config" / "cases", src["cow_war_participants"])
    c.pop(FRONTS, None)
    return c


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    return read_fronts(write_fronts(tmp_path_factory.mktemp("fronts") / f"{FRONTS}.csv"))


@pytest.fixture(scope="module")
def built(src, cases, synthetic):
    return {w: build_rebuilt(src, WeisigerCoding(front_weighting=w), {**cases, FRONTS: synthetic})
            for w in ("share", "equal")}


def unit(data, ccode: int, side: int, warnum: int = 55) -> pd.DataFrame:
    p = data.periods
    return p[(p["warnum"] == warnum) & (p["ccode"] == ccode) & (p["side"] == side)].sort_values("start")


def value_on(per: pd.DataFrame, col: str, day: str) -> float:
    d = pd.Timestamp(day)
    hit = per[(per["date_from"] <= d) & (per["date_to"] >= d)]
    assert len(hit) == 1, f"expected one record covering {day}, found {len(hit)}"
    return float(hit[col].iloc[0])


# ------------------------------------------------------------------------------------------ the file


def test_synthetic_file_reads_with_lines_and_types(synthetic):
    assert len(synthetic) == len(ROWS)
    assert synthetic["line"].tolist() == list(range(2, len(ROWS) + 2))
    assert synthetic["contested"].sum() == 1 and synthetic["share"].notna().sum() == 2
    assert (synthetic["source"] == SOURCE).all()


def _bad(tmp_path, rows, header=None):
    p = tmp_path / f"{FRONTS}.csv"
    p.write_text(csv_text(rows, header) if header else csv_text(rows), encoding="utf-8")
    return p


@pytest.mark.parametrize("change, line, pattern", [
    (lambda r: r.__setitem__(1, (55, 255, 3, "Germany", "Bohemia", "1866-06-15", "1866-07-26", "", "no", "")),
     3, "side must be 1 or 2"),
    (lambda r: r.__setitem__(2, (55, 255, 1, "Germany", "Bohemia", "1866-07-01", "1866-07-10", "", "no", "")),
     4, "overlaps line 3"),
    (lambda r: r.__setitem__(4, (55, 300, 2, "Austria", "Bohemia", "1866-06-15", "1866-07-26", "0.9", "no", "")),
     7, "sum to 1.15 > 1"),
    (lambda r: r.__setitem__(0, (55, 325, 1, "Italy", "Venetia", "1866-06-20", "1866-07-26", "", "yes", "")),
     2, "note is empty"),
    (lambda r: r.__setitem__(0, (55, 325, 1, "Italy", "Venetia", "1866-6-20", "1866-07-26", "", "no", "")),
     2, "start_date must be a date YYYY-MM-DD"),
    (lambda r: r.__setitem__(0, (55, 325, 1, "Italy", "Venetia", "1866-07-20", "1866-07-01", "", "no", "")),
     2, "before start_date"),
    (lambda r: r.__setitem__(0, (55, 325, 1, "Italy", "venetia ", "1866-06-20", "1866-07-26", "", "no", "")),
     2, "spells one front in several ways"),
    (lambda r: r.__setitem__(0, (55, 325, 1, "Italy", "Venetia", "1866-06-20", "1866-07-26", "1.5", "no", "")),
     2, r"share must be empty or a number in \(0, 1\]"),
    (lambda r: r.__setitem__(0, (55, 325, 1, "Italy", "Venetia", "1866-06-20", "1866-07-26", "", "maybe", "")),
     2, "contested must be yes or no"),
])
def test_format_errors_name_file_and_line(tmp_path, change, line, pattern):
    rows = list(ROWS)
    change(rows)
    p = _bad(tmp_path, rows)
    with pytest.raises(CoalitionsError, match=rf"{FRONTS}\.csv, line {line}: .*{pattern}"):
        read_fronts(p)


def test_missing_source_and_missing_column(tmp_path):
    p = tmp_path / f"{FRONTS}.csv"
    p.write_text(csv_text(ROWS).replace(SOURCE, "", 1), encoding="utf-8")  # line 2 loses its source
    with pytest.raises(CoalitionsError, match=rf"{FRONTS}\.csv, line 2: the 'source' column is empty"):
        read_fronts(p)
    df = pd.read_csv(write_fronts(tmp_path / "x.csv"), dtype=str, keep_default_na=False).drop(columns=["share"])
    with pytest.raises(CoalitionsError, match=r"x\.csv, line 1: required column\(s\) missing: \['share'\]"):
        validate_fronts(df, "x.csv")


def test_rows_are_checked_against_cow_and_the_sample(src, cases, synthetic):
    war = src["cow_war_participants"]
    part = build_participants(src, WeisigerCoding(), cases)
    rows, flags = check_fronts(synthetic, war, part)
    assert len(rows) == len(synthetic) and flags.empty

    def with_row(r):
        return validate_fronts(pd.concat([synthetic[list(synthetic.columns[1:])].astype(str),
                                          pd.DataFrame([dict(zip(synthetic.columns[1:], r))])],
                                         ignore_index=True).replace({"nan": "", "False": "no", "True": "yes",
                                                                     "NaT": ""}), "t.csv")

    base = ["Venetia", "1866-06-20", "1866-07-26", "", "no", "", SOURCE]
    with pytest.raises(CoalitionsError, match=r"t\.csv, line 9: war 9999 is not a COW inter-state war"):
        check_fronts(with_row([9999, 325, 1, "Italy", *base]), war, part)
    with pytest.raises(CoalitionsError, match=r"line 9: war 55, ccode 2, side 1 is not a COW participant"):
        check_fronts(with_row([55, 2, 1, "United States", *base]), war, part)
    # France fought the Franco-Prussian war (58) alone on its side: a COW participant, not in the sample
    with pytest.raises(CoalitionsError, match=r"line 9: war 58, ccode 220, side 2 .* not in the rebuilt sample"):
        check_fronts(with_row([58, 220, 2, "France", "Lorraine", "1870-07-19", "1870-08-01", "", "no", "", SOURCE]),
                     war, part)
    # dates outside the COW participation are flagged and clipped, not an error
    rows, flags = check_fronts(with_row([55, 245, 2, "Bavaria", "Main", "1866-06-01", "1866-08-02", "", "no", "",
                                         SOURCE]), war, part)
    assert flags["flag"].tolist() == ["dates_outside_cow_spell"] and flags["line"].tolist() == [9]
    r = rows[rows["line"] == 9].iloc[0]
    assert r["a"] == pd.Timestamp("1866-06-15") and r["b"] == pd.Timestamp("1866-07-26")
    # a date the sources do not give stays empty: flagged, and the COW participation's bound is used
    rows, flags = check_fronts(with_row([55, 245, 2, "Bavaria", "Main", "", "1866-07-20", "", "no", "", SOURCE]),
                               war, part)
    assert flags["flag"].tolist() == ["start_date_missing"]
    r = rows[rows["line"] == 9].iloc[0]
    assert r["a"] == pd.Timestamp("1866-06-15") and r["b"] == pd.Timestamp("1866-07-20")
    # an excluded war is not checked against the sample
    rows, _ = check_fronts(synthetic, war, part[part["warnum"] != 55], exclude_wars=(55,))
    assert rows.empty


# ------------------------------------------------------------------------------------------ foverlap


def test_front_overlap_by_hand_small_arrays():
    rows = pd.DataFrame({
        "warnum": 1, "ccode": [10, 10, 20, 30], "side": [1, 1, 1, 2], "front": ["A", "B", "A", "B"],
        "a": pd.to_datetime(["2000-01-01", "2000-01-01", "2000-01-05", "2000-01-01"]),
        "b": pd.to_datetime(["2000-01-10", "2000-01-10", "2000-01-10", "2000-01-10"]),
        "share": [0.2, 0.6, np.nan, np.nan]})
    ws = pd.Timestamp("2000-01-01")
    days = np.array([0, 3, 4, 9, 10])
    eq = front_overlap(rows, ws, np.array([10, 20, 30]), np.array([1, 1, 2]), days, "equal")
    # state 10: A (shared with 20 from day 4) and B (enemy 30 only): 0 then 1/2; gone after day 9
    np.testing.assert_allclose(eq[0], [0, 0, 0.5, 0.5, np.nan])
    np.testing.assert_allclose(eq[1], [np.nan, np.nan, 1, 1, np.nan])  # 20 only on A, with 10
    np.testing.assert_allclose(eq[2], [0, 0, 0, 0, np.nan])  # an enemy is not a partner
    sh = front_overlap(rows, ws, np.array([10]), np.array([1]), days, "share")
    np.testing.assert_allclose(sh[0], [0, 0, 0.25, 0.25, np.nan])  # 0.2 / (0.2 + 0.6)


def test_foverlap_hand_worked_on_the_seven_weeks_war(built):
    eq, sh = built["equal"], built["share"]
    assert unit(eq, 325, 1)["foverlap"].eq(0).all()  # Italy alone in Venetia
    g = unit(eq, 255, 1)
    assert value_on(g, "foverlap", "1866-06-30") == 0 and value_on(g, "foverlap", "1866-07-01") == 0.5
    assert (g["date_from"] == pd.Timestamp("1866-07-01")).any(), "a record boundary where foverlap changes"
    m = unit(eq, 280, 1)  # no front before 1 July: its first front day's value (front_gaps: carry)
    assert value_on(m, "foverlap", "1866-06-20") == 1 and value_on(m, "foverlap", "1866-07-01") == 1
    assert value_on(unit(eq, 300, 2), "foverlap", "1866-07-10") == 0.5
    assert value_on(unit(sh, 300, 2), "foverlap", "1866-07-10") == 0.75
    assert unit(sh, 269, 2)["foverlap"].eq(1).all()
    assert eq.variables.set_index("variable").at["foverlap", "status"] == "hand_coded"


def test_days_without_a_front_are_carried_or_missing(src, cases, synthetic):
    gaps = [r for r in ROWS if r[1] != 280] + [
        (55, 280, 1, "Mecklenburg Schwerin", "Main", "1866-06-20", "1866-06-25", "", "no", ""),
        (55, 280, 1, "Mecklenburg Schwerin", "Bohemia", "1866-07-01", "1866-07-10", "", "no", "")]
    f = validate_fronts(pd.DataFrame([dict(zip(synthetic.columns[1:], [*r, SOURCE])) for r in gaps]).astype(str),
                        "gaps.csv")
    carry = build_rebuilt(src, WeisigerCoding(), {**cases, FRONTS: f})
    miss = build_rebuilt(src, WeisigerCoding(front_gaps="missing"), {**cases, FRONTS: f})
    mc, mm = unit(carry, 280, 1), unit(miss, 280, 1)
    # Main (with Germany) 20-25 June: 1; Bohemia (with Germany) 1-10 July: 1 -- but Germany's Bohemia
    # front is shared only with Mecklenburg; gaps before 20 June, 26-30 June and after 10 July
    assert value_on(mc, "foverlap", "1866-06-16") == 1 and np.isnan(value_on(mm, "foverlap", "1866-06-16"))
    assert value_on(mc, "foverlap", "1866-06-28") == 1 and np.isnan(value_on(mm, "foverlap", "1866-06-28"))
    assert value_on(mc, "foverlap", "1866-07-20") == 1 and np.isnan(value_on(mm, "foverlap", "1866-07-20"))
    g = unit(carry, 255, 1)  # Germany: Bohemia and Main, each shared with Mecklenburg part of the time
    assert value_on(g, "foverlap", "1866-06-22") == 0.5 and value_on(g, "foverlap", "1866-06-28") == 0
    assert value_on(g, "foverlap", "1866-07-05") == 0.5


def test_theatre_proxy_stays_available(src, cases, synthetic):
    d = build_rebuilt(src, WeisigerCoding(foverlap_source="theatre"), {**cases, FRONTS: synthetic})
    assert d.variables.set_index("variable").at["foverlap", "status"] == "proxy"
    assert d.periods["foverlap"].notna().all()
    with pytest.raises(CoalitionsError, match=r"foverlap_source is 'fronts' but the front file"):
        build_rebuilt(src, WeisigerCoding(), cases)


def test_coverage_and_participants_table(built):
    d = built["equal"]
    cov = d.fronts_coverage.set_index("participant")
    assert cov.at["55-300-2", "fronts"] == "Bohemia; Venetia" and cov.at["55-300-2", "covered"]
    assert not cov.at["55-280-1", "covered"] and cov.at["55-280-1", "days_covered"] == 26
    assert not cov.at["55-245-2", "covered"] and cov.at["55-245-2", "n_rows"] == 0
    p = d.participants.set_index("participant")
    assert p.at["55-300-2", "foverlap_mean"] == pytest.approx(0.5)
    assert p.at["55-325-1", "foverlap_mean"] == 0 and p.at["55-325-1", "fronts"] == "Venetia"
    # Germany: 16 days at 0 (15-30 June), 26 at 1/2 (1-26 July)
    assert p.at["55-255-1", "foverlap_mean"] == pytest.approx(0.5 * 26 / 42)


# ------------------------------------------------------------------------------------------ the real file


def test_the_real_front_file(root, src, cases):
    path = root / "config" / "cases" / f"{FRONTS}.csv"
    if not path.exists():
        pytest.skip(f"config/cases/{FRONTS}.csv is not there yet")
    fronts = read_fronts(path)  # format, sources, contested notes, no overlaps, share sums
    part = build_participants(src, WeisigerCoding(), cases)
    rows, flags = check_fronts(fronts, src["cow_war_participants"], part)
    d = build_rebuilt(src, WeisigerCoding(), {**cases, FRONTS: fronts})
    cov = d.fronts_coverage
    # every participant of every war of the rebuilt sample has at least one front
    wars = set(fronts["warnum"])
    assert wars == set(part["warnum"])
    gaps = cov[cov["n_rows"] == 0]
    assert gaps.empty, f"participants without a front: {gaps['participant'].tolist()}"
    assert len(cov) == len(part)
    # flagged dates are reported in the coverage table, line by line
    for f in flags.itertuples(index=False):
        hit = cov[(cov["warnum"] == f.warnum) & (cov["ccode"] == f.ccode) & (cov["side"] == f.side)]
        assert hit["flags"].str.contains(f"line {f.line}: {f.flag}").all()
    # a unit covered on every day has foverlap (0-1) on every record
    full = set(cov.loc[cov["covered"], "idvar"])
    fo = d.periods.loc[d.periods["idvar"].isin(full), "foverlap"]
    assert fo.notna().all() and fo.between(0, 1).all()

"""Henke case files: the real files load and are sourced; every validation rule fires with file and line."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from coalitions.henke.cases import (
    CONTRIBUTOR_COLUMNS,
    OPERATION_COLUMNS,
    load_cases,
    load_contributors,
    load_operations,
)
from coalitions.util import CoalitionsError

ROOT = Path(__file__).resolve().parents[1]
OPS = ROOT / "config" / "cases" / "henke_operations.csv"
CON = ROOT / "config" / "cases" / "henke_contributors.csv"

CANDIDATE_OPERATIONS = {"korea1950", "vietnam1965", "domrep1965", "lebanon1982", "grenada1983", "gulf1990",
                    "somalia1992", "haiti1994", "bosnia1995", "kosovo1999", "afghanistan2001", "iraq2003"}


@pytest.fixture(scope="module")
def states(tables) -> pd.DataFrame:
    return tables["cow_states"]


@pytest.fixture(scope="module")
def cases(states):
    return load_cases(OPS, CON, states)


def test_real_files_load_and_cover_the_candidate_operations(cases):
    ops, con = cases
    assert set(ops["operation_id"]) == CANDIDATE_OPERATIONS
    assert set(con["operation_id"]) <= set(ops["operation_id"])
    # every operation has at least one contributor, every row a source and a detail
    assert set(con["operation_id"]) == CANDIDATE_OPERATIONS
    assert (con["source"].str.len() > 10).all() and (con["source_detail"].str.len() > 3).all()
    assert "NOT HENKE'S" in OPS.read_text(encoding="utf-8").upper()


def test_cow_war_rows_match_the_cow_table(cases, tables):
    """Rows citing COW must be US-side participants of the cited war (hosts excluded by design)."""
    _, con = cases
    war = tables["cow_war_participants"]
    cow_rows = con[con["source"].str.startswith("COW Inter-State War")]
    assert len(cow_rows) > 30
    for r in cow_rows.itertuples():
        num = int(r.source_detail.split()[1].rstrip(","))
        side = int(r.source_detail.split("side ")[1].split(",")[0])
        us_side = war[(war["war_num"] == num) & (war["ccode"] == 2)]["side"]
        assert list(us_side) == [side], r
        hit = war[(war["war_num"] == num) & (war["ccode"] == r.ccode) & (war["side"] == side)]
        assert len(hit) == 1, f"{r.operation_id} {r.ccode} is not on side {side} of COW war {num}"
        assert str(hit["start1"].iloc[0].date()) in r.source_detail


def test_cow_war_numbers_of_the_operations(tables):
    """The expected COW war numbers, checked against the COW table (US participation and dates)."""
    war = tables["cow_war_participants"]
    us = war[war["ccode"] == 2].set_index("war_num")
    expected = {151: ("Korean", "1950-06-27"), 163: ("Vietnam War, Phase 2", "1965-02-07"),
                211: ("Gulf War", "1991-01-16"), 221: ("War for Kosovo", "1999-03-24"),
                225: ("Invasion of Afghanistan", "2001-10-07"), 227: ("Invasion of Iraq", "2003-03-19")}
    for num, (name, start) in expected.items():
        assert us.loc[num, "war_name"] == name
        assert str(us.loc[num, "start1"].date()) == start


def test_korea_has_the_sixteen_combat_states_and_five_medical(cases):
    _, con = cases
    k = con[con["operation_id"] == "korea1950"]
    combat = set(k.loc[k["contribution"] == "combat", "ccode"])
    # 16 sending combat forces = the US + these 15 (South Korea is the host)
    assert combat == {20, 100, 200, 210, 211, 212, 220, 350, 530, 560, 640, 800, 840, 900, 920}
    assert set(k.loc[k["contribution"] == "noncombat", "ccode"]) == {325, 380, 385, 390, 750}


# ----------------------------------------------------------------------------------------------
# validation errors
# ----------------------------------------------------------------------------------------------
def _write(path: Path, columns, rows, comment="# test file\n"):
    """A case file: one comment line, the header (line 2), data from line 3."""
    df = pd.DataFrame(rows, columns=list(columns))
    path.write_text(comment + df.to_csv(index=False), encoding="utf-8")
    return path


OP_ROW = ["op1", "Test operation", "1991-01-16", "1991-04-11", "645", "690", "complete", "desc", "src"]
CON_ROW = ["op1", "200", "United Kingdom", "1", "combat", "confirmed", "src", "detail"]


@pytest.fixture()
def ops_file(tmp_path):
    return _write(tmp_path / "ops.csv", OPERATION_COLUMNS, [OP_ROW, ["op2", "Other", "1950-06-27", "", "731", "732",
                                                                     "partial", "d", "s"]])


def _con_error(tmp_path, ops_file, states, rows) -> str:
    ops = load_operations(ops_file, states)
    path = _write(tmp_path / "con.csv", CONTRIBUTOR_COLUMNS, rows)
    with pytest.raises(CoalitionsError) as exc:
        load_contributors(path, ops, states)
    msg = str(exc.value)
    assert str(path) in msg
    return msg


def test_valid_minimal_files_load(tmp_path, ops_file, states):
    ops = load_operations(ops_file, states)
    assert ops.loc[0, "targets"] == (645,) and ops.loc[1, "hosts"] == (732,)
    assert pd.isna(ops.loc[1, "end_date"])
    path = _write(tmp_path / "con.csv", CONTRIBUTOR_COLUMNS, [CON_ROW])
    con = load_contributors(path, ops, states)
    assert con["ccode"].tolist() == [200]


def test_unknown_country_code(tmp_path, ops_file, states):
    msg = _con_error(tmp_path, ops_file, states, [CON_ROW, ["op1", "999", "Nowhere", "1", "combat", "confirmed",
                                                           "s", "d"]])
    assert "line 4" in msg and "unknown COW country code 999" in msg


def test_contributor_not_in_system_at_start(tmp_path, ops_file, states):
    # Bangladesh (771) entered the COW system in 1971: it cannot have joined an operation of 1950
    msg = _con_error(tmp_path, ops_file, states, [["op2", "771", "Bangladesh", "1", "combat", "confirmed", "s", "d"]])
    assert "line 3" in msg and "not in the COW system" in msg and "1950-06-27" in msg


def test_duplicate_rows(tmp_path, ops_file, states):
    msg = _con_error(tmp_path, ops_file, states, [CON_ROW, CON_ROW])
    assert "line 4" in msg and "duplicate row (first on line 3)" in msg


def test_operation_not_in_operations_file(tmp_path, ops_file, states):
    msg = _con_error(tmp_path, ops_file, states, [["op9", "200", "United Kingdom", "1", "combat", "confirmed",
                                                   "s", "d"]])
    assert "line 3" in msg and "'op9' is not in the operations file" in msg


def test_name_mismatch_target_host_and_us(tmp_path, ops_file, states):
    msg = _con_error(tmp_path, ops_file, states, [
        ["op1", "220", "United Kingdom", "1", "combat", "confirmed", "s", "d"],  # 220 is France
        ["op1", "645", "Iraq", "1", "combat", "confirmed", "s", "d"],           # target
        ["op1", "690", "Kuwait", "1", "combat", "confirmed", "s", "d"],         # host
        ["op1", "2", "United States of America", "1", "combat", "confirmed", "s", "d"],
        ["op1", "210", "Netherlands", "0", "war", "maybe", "", ""],
    ])
    assert "line 3" in msg and "differs from COW's name for 220 ('France')" in msg
    assert "line 4" in msg and "is a target" in msg
    assert "line 5" in msg and "is a host" in msg
    assert "line 6" in msg and "leads the operations" in msg
    for bit in ("joined must be 1", "contribution 'war'", "certainty 'maybe'", "'source' is empty"):
        assert bit in msg


def test_operation_file_errors(tmp_path, states):
    path = _write(tmp_path / "ops.csv", OPERATION_COLUMNS, [
        OP_ROW,
        ["op1", "Dup", "1991-13-01", "1990-01-01", "645;xx", "", "complete", "d", "s"],
        ["Bad Id", "x", "2003-03-19", "2003-01-01", "2", "645", "maybe", "", "s"],
    ])
    with pytest.raises(CoalitionsError) as exc:
        load_operations(path, states)
    msg = str(exc.value)
    assert str(path) in msg
    assert "line 4: duplicate operation_id 'op1' (first on line 3)" in msg
    assert "start_date '1991-13-01' is not an ISO date" in msg
    assert "targets '645;xx' must be COW country codes" in msg
    assert "line 5" in msg and "operation_id 'Bad Id'" in msg
    assert "end_date 2003-01-01 is before start_date" in msg
    assert "United States (2) cannot be in targets" in msg
    assert "contributors_list 'maybe'" in msg
    assert "'description' is empty" in msg


def test_target_not_in_system(tmp_path, states):
    # Bosnia (346) entered in 1992; it cannot be the target of a 1950 operation
    path = _write(tmp_path / "ops.csv", OPERATION_COLUMNS,
                  [["op1", "x", "1950-06-27", "", "346", "", "complete", "d", "s"]])
    with pytest.raises(CoalitionsError, match=r"line 3: .*targets state 346 .* not in the COW system"):
        load_operations(path, states)


def test_header_problems(tmp_path, states):
    path = tmp_path / "ops.csv"
    path.write_text("# c\noperation_id,name,start,end_date\nop1,x,1950-01-01,\n", encoding="utf-8")
    with pytest.raises(CoalitionsError, match=r"ops.csv \(line 2\): the header must have exactly the columns"):
        load_operations(path, states)
    with pytest.raises(CoalitionsError, match="not found"):
        load_operations(tmp_path / "missing.csv", states)

"""Censor case files of the alternative coding rules (Morey's entrapment and limited objectives, exits forced by
conquest), checked against the rebuilt Weisiger participants built from the real COW data."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from coalitions.util import CoalitionsError
from coalitions.weisiger.extension import (
    CENSOR_CASE_COLUMNS,
    censor_cases_from_files,
    load_censor_case_file,
    read_censor_case_file,
)
from coalitions.weisiger.rebuild import WeisigerCoding, build_participants, load_cases, required_tables

CASE_FILES = ("morey_entrapment.csv", "morey_limited_objectives.csv", "conquest_exits.csv")
RULE_OF = {"morey_entrapment.csv": "entrapment", "morey_limited_objectives.csv": "limited_objectives",
           "conquest_exits.csv": "conquest"}


@pytest.fixture(scope="module")
def src(tables):
    return {name: tables[name] for name in required_tables(WeisigerCoding())}


@pytest.fixture(scope="module")
def cases(root, src):
    return load_cases(root / "config" / "cases", src["cow_war_participants"])


@pytest.fixture(scope="module")
def participants(src, cases):
    return build_participants(src, WeisigerCoding(), cases)


def case_path(root: Path, name: str) -> Path:
    return root / "config" / "cases" / name


# ------------------------------------------------------------------------------------------ the files


@pytest.mark.parametrize("name", CASE_FILES)
def test_every_case_is_an_exit_of_the_rebuilt_table(root, participants, name):
    df = read_censor_case_file(case_path(root, name), participants)
    assert len(df) >= 1 and list(df.columns[: len(CENSOR_CASE_COLUMNS)]) == list(CENSOR_CASE_COLUMNS)
    assert set(df["rule"]) == {RULE_OF[name]}
    exits = participants[participants["exit"] == 1]
    m = df.merge(exits, on=["warnum", "ccode", "side", "exit_date"], how="left", suffixes=("", "_p"))
    assert m["idvar"].notna().all(), m.loc[m["idvar"].isna(), ["warnum", "ccode", "side", "exit_date"]]
    assert (m["state_name"] == m["state_name_p"]).all()


@pytest.mark.parametrize("name", CASE_FILES)
def test_every_row_names_its_source(root, name):
    df = read_censor_case_file(case_path(root, name))
    for r in df.itertuples(index=False):
        assert re.search(r"\b(1[5-9]\d\d|20\d\d)\b", r.source), r.source  # a year of publication
        assert "," in r.source and len(r.source) > 30  # author, title
        assert len(r.description) > 80
        # a contested row says so, and why, in its description
        assert r.contested == ("CONTESTED" in r.description), (r.state_name, r.contested)


def test_entrapment_has_weisigers_concession(root, participants):
    df = read_censor_case_file(case_path(root, "morey_entrapment.csv"), participants)
    fr = df[(df["warnum"] == 22) & (df["ccode"] == 220) & (df["side"] == 1)]
    assert len(fr) == 1 and not fr["contested"].iloc[0]
    assert "Weisiger" in fr["source"].iloc[0] and "Morey" in fr["source"].iloc[0]


def test_conquest_file_has_the_overrun_states_of_1939_41(root, participants):
    df = read_censor_case_file(case_path(root, "conquest_exits.csv"), participants)
    ww2 = set(df.loc[(df["warnum"] == 139) & (df["side"] == 1), "ccode"])
    assert {290, 385, 210, 211, 350, 345} <= ww2  # Poland, Norway, Netherlands, Belgium, Greece, Yugoslavia
    # every one of them is an exit under the default coding, which the conquest rule then censors
    p = participants.set_index(["warnum", "ccode", "side"]).sort_index()
    for cc in (290, 385, 210, 211, 350, 345):
        assert p.loc[(139, cc, 1), "exit"].max() == 1


@pytest.mark.parametrize("name", CASE_FILES)
def test_censor_cases_recode_exactly_these_exits(root, src, cases, participants, name):
    path = case_path(root, name)
    cc = load_censor_case_file(path, participants)
    p2 = build_participants(src, WeisigerCoding(censor_cases=cc), cases)
    key = ["warnum", "ccode", "side", "spell"]
    both = participants.merge(p2, on=key, suffixes=("_0", "_1"))
    changed = both[both["exit_0"] != both["exit_1"]]
    assert len(changed) == len(cc)
    assert (changed["exit_0"] == 1).all() and (changed["exit_1"] == 0).all()
    assert changed["exit_reason_1"].str.startswith(f"censored_case_rule: {RULE_OF[name]} ({path.stem})").all()
    assert int(p2["exit"].sum()) == int(participants["exit"].sum()) - len(cc)


def test_contested_rows_can_be_left_out(root, participants):
    path = case_path(root, "conquest_exits.csv")
    df = read_censor_case_file(path)
    allc = load_censor_case_file(path, participants)
    strict = load_censor_case_file(path, participants, include_contested=False)
    assert len(allc) == len(df) and len(strict) == int((~df["contested"]).sum())
    assert 0 < len(strict) < len(allc)
    assert {(c.warnum, c.ccode) for c in allc} - {(c.warnum, c.ccode) for c in strict} == \
        set(map(tuple, df.loc[df["contested"], ["warnum", "ccode"]].to_numpy().tolist()))


def test_files_together_and_as_coding_files_read_them(root, participants):
    paths = [case_path(root, n) for n in CASE_FILES]
    together = censor_cases_from_files(paths, participants)
    assert len({(c.warnum, c.ccode, c.side) for c in together}) == len(together)  # no exit in two files
    apply = pytest.importorskip("coalitions.weisiger.apply")
    for path in paths:
        theirs = apply.read_censor_cases(path, origin="test")
        ours = load_censor_case_file(path)
        assert [(d["warnum"], d["ccode"], d["side"], d["reason"]) for d in theirs] == \
            [(c.warnum, c.ccode, c.side, c.reason) for c in ours]


# ------------------------------------------------------------------------------------------ errors


def _edit(root: Path, tmp_path: Path, name: str, row: int, **changes) -> Path:
    df = pd.read_csv(case_path(root, name), dtype=str, keep_default_na=False)
    for k, v in changes.items():
        df.loc[row, k] = v
    out = tmp_path / name
    df.to_csv(out, index=False)
    return out


def test_a_row_that_is_not_an_exit_is_an_error_naming_file_and_row(root, tmp_path, participants):
    # the UK fought WWII to the end: censored, not an exit
    bad = _edit(root, tmp_path, "conquest_exits.csv", 1, warnum="139", ccode="200", side="1",
                state_name="United Kingdom", exit_date="1945-08-14")
    with pytest.raises(CoalitionsError, match=r"conquest_exits\.csv, row 3: war 139, ccode 200, side 1 is not an exit"):
        read_censor_case_file(bad, participants)


def test_wrong_date_name_and_spell_are_errors(root, tmp_path, participants):
    bad = _edit(root, tmp_path, "morey_entrapment.csv", 0, exit_date="1856-03-30")
    with pytest.raises(CoalitionsError, match=r"morey_entrapment\.csv, row 2: exit_date 1856-03-30 differs"):
        read_censor_case_file(bad, participants)
    bad = _edit(root, tmp_path, "morey_entrapment.csv", 0, state_name="Sardinia")
    with pytest.raises(CoalitionsError, match=r"row 2: state_name 'Sardinia' differs"):
        read_censor_case_file(bad, participants)
    bad = _edit(root, tmp_path, "morey_entrapment.csv", 0, exit_date="1 March 1856")
    with pytest.raises(CoalitionsError, match=r"row 2: exit_date must be YYYY-MM-DD"):
        read_censor_case_file(bad)
    # France's defeat of 1940 is an exit, but of its first spell: a censor case (last spell) would miss it
    bad = _edit(root, tmp_path, "morey_entrapment.csv", 0, warnum="139", exit_date="1940-06-22")
    with pytest.raises(CoalitionsError, match=r"row 2: the exit of 1940-06-22 is not the last spell"):
        read_censor_case_file(bad, participants)


def test_missing_source_rule_and_hash_are_errors(root, tmp_path):
    bad = _edit(root, tmp_path, "morey_limited_objectives.csv", 1, source="")
    with pytest.raises(CoalitionsError, match=r"morey_limited_objectives\.csv, row 3: every case needs its historical source"):
        read_censor_case_file(bad)
    bad = _edit(root, tmp_path, "morey_limited_objectives.csv", 1, source="my notes")
    with pytest.raises(CoalitionsError, match=r"row 3: every case needs its historical source"):
        read_censor_case_file(bad)
    bad = _edit(root, tmp_path, "morey_limited_objectives.csv", 0, rule="defection")
    with pytest.raises(CoalitionsError, match=r"row 2: rule must be one of"):
        read_censor_case_file(bad)
    bad = _edit(root, tmp_path, "morey_limited_objectives.csv", 2, description="see note #4 for details of the case")
    with pytest.raises(CoalitionsError, match=r"row 4: the character '#' is not allowed"):
        read_censor_case_file(bad)
    bad = _edit(root, tmp_path, "morey_limited_objectives.csv", 2, contested="maybe")
    with pytest.raises(CoalitionsError, match=r"row 4: contested must be 'yes' or 'no'"):
        read_censor_case_file(bad)


def test_the_same_exit_in_two_files_is_an_error(root, tmp_path, participants):
    dup = tmp_path / "conquest_copy.csv"
    shutil.copy(case_path(root, "conquest_exits.csv"), dup)
    with pytest.raises(CoalitionsError, match=r"conquest_copy\.csv: war 55, ccode 240, side 2 is also censored by"):
        censor_cases_from_files([case_path(root, "conquest_exits.csv"), dup], participants)
    with pytest.raises(CoalitionsError, match="case file not found"):
        read_censor_case_file(tmp_path / "nowhere.csv")

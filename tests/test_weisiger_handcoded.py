"""The hand-coded Weisiger variables: strict validation of each case file (errors name file and line), each
variable's computation on hand-worked cases, the missing-data rules, the dropped-records table, the
post-2003 extension's behaviour, and the real case files on the real mirror data."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coalitions.util import CoalitionsError
from coalitions.weisiger.handcoded import (
    HANDCODED_FILES,
    LEADERS,
    SEPARATE_PEACE,
    INTEGRATED_COMMAND,
    VOLUNTARY,
    WAR_AIMS,
    apply_handcoded,
    dropped_table,
    mark_no_change,
    read_handcoded,
    split_at_dates,
    validate_handcoded,
)
from coalitions.weisiger.rebuild import WeisigerCoding, build_rebuilt, required_tables
from coalitions.weisiger.rebuild_cases import load_cases
from helpers.handcoded import VALID, tiny_coalition, with_change, write_case_file
from helpers.sources import weisiger_sources


@pytest.fixture(scope="module")
def src(tables, root):
    return weisiger_sources(tables, root, required_tables())


@pytest.fixture(scope="module")
def war(src):
    return src["cow_war_participants"]


def _load(tmp_path, war, name, rows=None):
    path = write_case_file(tmp_path, name, rows)
    return validate_handcoded(read_handcoded(path), name, str(path), war)


# ------------------------------------------------------------------------------------------ validation


@pytest.mark.parametrize("name", list(HANDCODED_FILES))
def test_valid_synthetic_files_load(tmp_path, war, name):
    df = _load(tmp_path, war, name)
    assert len(df) == len(VALID[name]) and df["_line"].tolist() == [2, 3]
    assert df["contested"].dtype == bool


@pytest.mark.parametrize("name, row, changes, message", [
    (VOLUNTARY, 1, {"source": ""}, r"line 3: every row needs its source"),
    (VOLUNTARY, 0, {"source": "a book without a year"}, r"line 2: every row needs its source"),
    (VOLUNTARY, 0, {"warnum": "777"}, r"line 2: war 777 is not a COW inter-state war"),
    (VOLUNTARY, 0, {"ccode": "2", "state_name": "United States of America", "side": "2"},
     r"line 2: war 106, ccode 2, side 2 is not a participant"),
    (VOLUNTARY, 0, {"ccode": "999"}, r"line 2: ccode 999 is not a state of the COW war data"),
    (VOLUNTARY, 0, {"state_name": "Prussia"}, r"line 2: state_name 'Prussia' is not COW's name of ccode 365"),
    (VOLUNTARY, 0, {"exit_date": "1918-12-05"}, r"line 2: exit_date 1918-12-05 lies outside the participation"),
    (VOLUNTARY, 0, {"exit_date": "5 Dec 1917"}, r"line 2: column 'exit_date' must be a date YYYY-MM-DD"),
    (VOLUNTARY, 0, {"volunt": "yes"}, r"line 2: column 'volunt' must be 0 or 1"),
    (VOLUNTARY, 0, {"volunt": "0", "how": ""}, r"line 2: volunt is 0 \(forced\) but 'how' is empty"),
    (VOLUNTARY, 1, {"note": ""}, r"line 3: contested is yes but the note is empty"),
    (VOLUNTARY, 1, {"contested": "maybe"}, r"line 3: column 'contested' must be yes or no"),
    (VOLUNTARY, 1, {"ccode": "365", "state_name": "Russia", "exit_date": "1917-12-05"}, r"line 3: duplicate of line 2"),
    (SEPARATE_PEACE, 0, {"bound_to": "1919-01-01"}, r"line 2: bound_to 1919-01-01 lies outside the war 106"),
    (SEPARATE_PEACE, 0, {"bound_from": "1914-09-01"}, r"line 2: bound_from 1914-09-01 is before the signature"),
    (SEPARATE_PEACE, 0, {"date_signed": "1919-06-28", "bound_from": ""}, r"line 2: date_signed 1919-06-28 lies outside"),
    (SEPARATE_PEACE, 1, {"agreement": ""}, r"line 3: the 'agreement' column is empty"),
    (SEPARATE_PEACE, 1, {"ccode": "200", "state_name": "United Kingdom"}, r"line 3: duplicate of line 2"),
    (LEADERS, 1, {"start_date": "1851-06-01"}, r"line 3: spell starting 1851-06-01 overlaps the spell of line 2"),
    (LEADERS, 0, {"end_date": "1849-01-01"}, r"line 2: end_date 1849-01-01 is before start_date"),
    (LEADERS, 0, {"leader": ""}, r"line 2: the 'leader' column is empty"),
    (LEADERS, 0, {"ccode": "998"}, r"line 2: ccode 998 is not a state of the COW war data"),
    (INTEGRATED_COMMAND, 0, {"start_date": "1914-07-01"}, r"line 2: start_date 1914-07-01 lies outside the participation"),
    (INTEGRATED_COMMAND, 1, {"end_date": "1918-03-01"}, r"line 3: end_date 1918-03-01 is before start_date"),
    (INTEGRATED_COMMAND, 0, {"side": "3"}, r"line 2: column 'side' must be one of \[1, 2\]"),
    (WAR_AIMS, 0, {"terraim": "2"}, r"line 2: column 'terraim' must be 0 or 1 or empty"),
    (WAR_AIMS, 1, {"ccode": "220", "state_name": "France"}, r"line 3: duplicate of line 2"),
])
def test_bad_rows_are_errors_naming_file_and_line(tmp_path, war, name, row, changes, message):
    with pytest.raises(CoalitionsError, match=rf"{name}\.csv, " + message):
        _load(tmp_path, war, name, with_change(name, row, **changes))


def test_header_and_field_count_errors(tmp_path, war):
    path = tmp_path / f"{WAR_AIMS}.csv"
    path.write_text("warnum,ccode,side,state_name,terraim,regaim,contested,note\n106,220,1,France,1,0,no,\n")
    with pytest.raises(CoalitionsError, match=r"weisiger_war_aims\.csv, line 1: the header must be .*missing \['source'\]"):
        validate_handcoded(read_handcoded(path), WAR_AIMS, str(path), war)
    # a quoted note over two lines: the next row's line number is still the file's
    path.write_text('warnum,ccode,side,state_name,terraim,regaim,contested,note,source\n'
                    '106,220,1,France,1,0,yes,"two\nlines",Author, Title (2000)\n'
                    '106,200,1,United Kingdom,1,0,no,,"A. Author, Title (2000)"\n')
    with pytest.raises(CoalitionsError, match=r"line 2: 10 field\(s\) where the header has 9"):
        read_handcoded(path)


def test_load_cases_validates_every_file_of_the_folder(tmp_path, war):
    for name in HANDCODED_FILES:
        write_case_file(tmp_path, name)
    cases = load_cases(tmp_path, war)
    assert set(HANDCODED_FILES) <= set(cases)
    write_case_file(tmp_path, VOLUNTARY, with_change(VOLUNTARY, 1, source=""))
    with pytest.raises(CoalitionsError, match=r"weisiger_voluntary\.csv, line 3"):
        load_cases(tmp_path, war)


def test_extension_rows_are_checked_against_the_extension(tmp_path, war):
    rows = VALID[VOLUNTARY] + [{"warnum": "9001", "ccode": "230", "side": "1", "state_name": "Spain",
                                "exit_date": "2004-05", "volunt": "1", "how": "government decision",
                                "contested": "no", "note": "", "source": VALID[VOLUNTARY][0]["source"]}]
    df = _load(tmp_path, war, VOLUNTARY, rows)  # format only: month precision allowed for the extension
    assert df.loc[2, "exit_date"] == pd.Timestamp("2004-05-15")
    ext = pd.DataFrame({"warnum": [9001], "ccode": [230], "side": [1], "state_name": ["Spain"],
                        "entry_date": [pd.Timestamp("2003-08-01")], "exit_date": [pd.Timestamp("2004-04-30")]})
    with pytest.raises(CoalitionsError, match=r"line 4: exit_date 2004-05-15 lies outside the participation"):
        validate_handcoded(read_handcoded(tmp_path / f"{VOLUNTARY}.csv"), VOLUNTARY, "v.csv", war, ext)
    # every build checks them against the extension's members file (Spain left Iraq in May 2004)
    from coalitions.weisiger.handcoded import check_against_members

    members = Path(__file__).resolve().parents[1] / "config" / "cases" / "henke_iraq_afghanistan_members.csv"
    check_against_members({VOLUNTARY: df}, war, members)
    late = [dict(r) for r in rows]
    late[2]["exit_date"] = "2004-09-01"
    with pytest.raises(CoalitionsError, match=r"weisiger_voluntary\.csv, line 4: exit_date 2004-09-01 lies outside"):
        check_against_members({VOLUNTARY: _load(tmp_path, war, VOLUNTARY, late)}, war, members)
    bad = [dict(r) for r in rows]
    bad[2]["exit_date"] = "2004-05"
    bad[0]["exit_date"] = "1917-12"
    with pytest.raises(CoalitionsError, match=r"line 2: column 'exit_date' must be a date YYYY-MM-DD, found"):
        _load(tmp_path, war, VOLUNTARY, bad)


# ------------------------------------------------------------------------------------------ computations


def _typed(name: str, rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    df["_line"] = np.arange(len(df)) + 2
    for c in ("warnum", "ccode", "side"):
        if c in df.columns:
            df[c] = df[c].astype("int64")
    for c in ("bound_from", "bound_to", "date_signed", "start_date", "end_date", "exit_date", "end_effective"):
        if c in df.columns:
            df[c] = pd.to_datetime(df[c])
    df["contested"] = False
    df["source"] = "SYNTHETIC"
    return df


VARS = pd.DataFrame({"variable": ["volunt", "sepdum", "seppc", "intdum", "terraim", "regaim", "newlead", "demdum",
                                  "polity2"], "label": "x", "status": "not_available", "note": "n", "column": "x"})
VARS["column"] = VARS["variable"]
VARS.loc[VARS["variable"].isin(["newlead", "demdum", "polity2"]), "status"] = "rebuilt"


def _tiny(cases, coding=None, tables=None):
    part, per = tiny_coalition()
    return apply_handcoded(tables or {}, part, per, VARS, cases, coding or WeisigerCoding())


def _on(per, ccode, day):
    d = pd.Timestamp("2000-01-01") + pd.Timedelta(days=day)
    r = per[(per["ccode"] == ccode) & (per["date_from"] <= d) & (per["date_to"] >= d)]
    assert len(r) == 1, (ccode, day, len(r))
    return r.iloc[0]


def test_sepdum_and_seppc_day_by_day():
    # A (2) and B (20) pledge from day 10 to day 29; C (200) enters on day 15 and accedes on day 20
    sep = _typed(SEPARATE_PEACE, [
        {"warnum": 1, "agreement": "P", "date_signed": "2000-01-11", "ccode": 2, "side": 1,
         "bound_from": "2000-01-11", "bound_to": "2000-01-30"},
        {"warnum": 1, "agreement": "P", "date_signed": "2000-01-11", "ccode": 20, "side": 1,
         "bound_from": "2000-01-11", "bound_to": None},
        {"warnum": 1, "agreement": "P", "date_signed": "2000-01-11", "ccode": 200, "side": 1,
         "bound_from": "2000-01-21", "bound_to": None}])
    part, per, var, _ = _tiny({SEPARATE_PEACE: sep})
    # hand-worked: (ccode, day) -> (sepdum, seppc)
    expect = {(2, 5): (0, 0), (2, 10): (1, 1), (2, 16): (1, 0.5), (2, 25): (1, 1.0), (2, 35): (0, 0),
              (20, 5): (0, 0), (20, 12): (1, 1), (20, 16): (1, 0.5), (20, 22): (1, 1.0), (20, 32): (1, 0.5),
              (20, 45): (1, 1.0), (200, 16): (0, 0), (200, 21): (1, 1.0), (200, 31): (1, 0.5), (200, 50): (1, 1.0)}
    for (cc, day), (sd, pc) in expect.items():
        r = _on(per, cc, day)
        assert (r["sepdum"], r["seppc"]) == (sd, pytest.approx(pc)), (cc, day, r["sepdum"], r["seppc"])
    assert var.set_index("variable").loc["sepdum", "status"] == "hand_coded"
    # the records are contiguous, and exits stay on the last record
    for _, g in per.sort_values("wstart").groupby("idvar"):
        assert (g["wstart"].iloc[1:].to_numpy() == g["wstop"].iloc[:-1].to_numpy()).all()
        assert g["finalobs"].sum() == 1 and g["finalobs"].iloc[-1] == 1 and g["firstobs"].iloc[0] == 1
    assert per["withdraw"].sum() == 1 and per.loc[per["withdraw"] == 1, "ccode"].item() == 2


def test_intdum_needs_an_active_partner_in_the_same_command():
    cmd = _typed(INTEGRATED_COMMAND, [
        {"warnum": 1, "side": 1, "command": "K", "ccode": 2, "start_date": "2000-01-06", "end_date": None},
        {"warnum": 1, "side": 1, "command": "K", "ccode": 200, "start_date": "2000-01-16", "end_date": "2000-01-25"},
        {"warnum": 1, "side": 1, "command": "L", "ccode": 20, "start_date": "2000-01-01", "end_date": None}])
    _, per, _, _ = _tiny({INTEGRATED_COMMAND: cmd})
    assert _on(per, 2, 10)["intdum"] == 0  # alone in K
    assert _on(per, 2, 20)["intdum"] == 1 and _on(per, 200, 20)["intdum"] == 1
    assert _on(per, 2, 30)["intdum"] == 0 and _on(per, 200, 30)["intdum"] == 0  # C left K on day 24
    assert (per.loc[per["ccode"] == 20, "intdum"] == 0).all()  # B is in another command
    # B joins K on a day the sources do not give, until day 49: unknown while A or C could share it with B
    cmd2 = pd.concat([cmd, _typed(INTEGRATED_COMMAND, [{"warnum": 1, "side": 1, "command": "K", "ccode": 20,
                                                       "start_date": None, "end_date": "2000-02-19"}])])
    _, per, _, why = _tiny({INTEGRATED_COMMAND: cmd2})
    assert np.isnan(_on(per, 20, 10)["intdum"]) and np.isnan(_on(per, 2, 10)["intdum"])
    assert _on(per, 2, 20)["intdum"] == 1  # known: C shares K with A
    assert _on(per, 20, 55)["intdum"] == 0  # after the end date B is in L only
    assert why.loc[why["variable"] == "intdum", "reason"].str.contains("start_date empty").all()


def test_volunt_war_aims_and_the_default_rule():
    vol = _typed(VOLUNTARY, [{"warnum": 1, "ccode": 2, "side": 1, "exit_date": "2000-02-09", "volunt": 0.0,
                              "how": "conquest"}])
    aims = _typed(WAR_AIMS, [{"warnum": 1, "ccode": 2, "side": 1, "terraim": 1.0, "regaim": np.nan}])
    part, per, var, why = _tiny({VOLUNTARY: vol, WAR_AIMS: aims})
    a = part.set_index("ccode")
    assert a.loc[2, "volunt"] == 0 and a.loc[2, "volunt_how"] == "conquest"
    assert "weisiger_voluntary.csv line 2" in a.loc[2, "volunt_source"]
    assert per["volunt"].eq(0).all()  # a forced exit is not a voluntary exit
    assert (per.loc[per["ccode"] == 2, "terraim"] == 1).all() and per.loc[per["ccode"] == 20, "terraim"].isna().all()
    reasons = why[why["variable"] == "regaim"]
    assert reasons["reason"].str.contains("unknown \\(empty in weisiger_war_aims.csv line 2\\)").any()
    assert reasons["reason"].str.contains("participant not in weisiger_war_aims.csv").any()
    # an exit without a row: the documented default, or an error
    part, per, var, _ = _tiny({VOLUNTARY: vol.iloc[:0]})
    assert part.set_index("ccode").loc[2, "volunt"] == 1 and per.loc[per["withdraw"] == 1, "volunt"].item() == 1
    assert "volunt_default = voluntary" in var.set_index("variable").loc["volunt", "note"]
    with pytest.raises(CoalitionsError, match=r"1 exit\(s\) have no row in config/cases/weisiger_voluntary\.csv"):
        _tiny({VOLUNTARY: vol.iloc[:0]}, WeisigerCoding(volunt_default="error"))
    part, per, _, why = _tiny({VOLUNTARY: vol.iloc[:0]}, WeisigerCoding(volunt_default="missing"))
    assert np.isnan(per.loc[per["withdraw"] == 1, "volunt"].item())
    assert (why["variable"] == "volunt").sum() == 1


def test_newlead_from_the_leaders_file_where_archigos_has_none():
    lead = _typed(LEADERS, [{"ccode": 20, "leader": "x", "start_date": "1999-01-01", "end_date": "2000-01-20"},
                            {"ccode": 20, "leader": "y", "start_date": "2000-01-20", "end_date": None}])
    lead["end_effective"] = lead["end_date"].fillna(pd.Timestamp.max)
    part, per = tiny_coalition()
    per.loc[per["ccode"] == 20, "newlead"] = np.nan  # Archigos has no leader of B
    _, out, var, why = apply_handcoded({}, part, per, VARS, {LEADERS: lead}, WeisigerCoding())
    assert _on(out, 20, 5)["newlead"] == 0 and _on(out, 20, 18)["newlead"] == 0
    assert _on(out, 20, 19)["newlead"] == 1 and _on(out, 20, 50)["newlead"] == 1  # new leader from 20 January
    assert (out.loc[out["ccode"] == 2, "newlead"] == 0).all()  # Archigos values are kept
    assert var.set_index("variable").loc["newlead", "status"] == "hand_coded"
    assert not (why["variable"] == "newlead").any()


def test_newlead_in_a_short_archigos_interregnum():
    part, per = tiny_coalition()
    gap = (per["ccode"] == 2) & (per["wstart"] == 15)  # A's record of days 15-39 (16 Jan - 9 Feb 2000)
    per.loc[gap, "newlead"] = np.nan
    arch = pd.DataFrame({"gwcode": [2, 2], "leader": ["L1", "L2"],
                         "start": pd.to_datetime(["1999-01-01", "2000-02-15"]),
                         "end": pd.to_datetime(["2000-01-10", "2001-01-01"])})
    _, out, var, why = apply_handcoded({"archigos_leaders": arch}, part, per, VARS, {}, WeisigerCoding())
    assert np.isnan(_on(out, 2, 20)["newlead"])  # a 36-day gap is longer than archigos_gap_days = 31
    assert "no Archigos interregnum of at most 31 days" in why.loc[why["variable"] == "newlead", "reason"].iloc[0]
    _, out, var, _ = apply_handcoded({"archigos_leaders": arch}, part, per, VARS, {},
                                     WeisigerCoding(archigos_gap_days=40))
    assert _on(out, 2, 20)["newlead"] == 0  # the outgoing leader (in office before A entered) until L2
    assert "archigos_gap_days" in var.set_index("variable").loc["newlead", "note"]


def test_polity_rules_for_interruptions_and_unlisted_states():
    part, per = tiny_coalition()
    per.loc[per["ccode"].isin([2, 200]), "polity2"] = np.nan
    per.loc[per["ccode"].isin([2, 200]), "demdum"] = np.nan
    p5 = pd.DataFrame({"ccode": [2, 2], "year": [1999, 2000], "polity_special": [pd.NA, -66]})
    pol = pd.DataFrame({"ccode": [2, 2], "year": [1999, 2000], "polity2": [8.0, np.nan]})
    tabs = {"polity5": p5, "democracy_state_year": pol}
    _, out, var, why = apply_handcoded(tabs, part, per, VARS, {}, WeisigerCoding())
    assert (out.loc[out["ccode"] == 2, "polity2"] == 8).all() and (out.loc[out["ccode"] == 2, "demdum"] == 1).all()
    c = out[out["ccode"] == 200]  # not listed by Polity: demdum 0, polity2 missing
    assert (c["demdum"] == 0).all() and c["polity2"].isna().all()
    assert why.loc[why["variable"] == "polity2", "reason"].str.contains("Polity does not list ccode 200").all()
    assert "polity_gaps = carry_last" in var.set_index("variable").loc["demdum", "note"]
    _, out, _, why = apply_handcoded(tabs, part, per, VARS, {}, WeisigerCoding(polity_gaps="missing",
                                                                               polity_unlisted="missing"))
    assert out.loc[out["ccode"].isin([2, 200]), "demdum"].isna().all()
    assert why.loc[why["variable"] == "demdum", "reason"].str.contains("foreign interruption \\(-66\\)").any()


def test_split_at_dates_keeps_time_and_flags():
    _, per = tiny_coalition()
    a = per[per["ccode"] == 200].reset_index(drop=True)  # C: one record, war days 15-59, analysis time (0, 45]
    out = split_at_dates(a, pd.DataFrame({"idvar": [a["idvar"].iloc[0]] * 3, "day": [30, 15, 70]}))
    # C has two records (A's exit on day 39 is a boundary); a cut on day 30 splits the first of them
    a = a.assign(firstobs=[1, 0])
    assert out[["wstart", "wstop", "start", "stop"]].values.tolist() == [[15, 30, 0, 15], [30, 40, 15, 25],
                                                                          [40, 60, 25, 45]]
    assert out["firstobs"].tolist() == [1, 0, 0] and out["finalobs"].tolist() == [0, 0, 1]
    assert out["date_to"].iloc[0] == pd.Timestamp("2000-01-30") and out["date_from"].iloc[1] == pd.Timestamp("2000-01-31")


def test_dropped_table_and_no_change():
    _, per = tiny_coalition()
    drops = [pd.DataFrame({"model_id": "m", "variant": "feasible", "row": [0, 1], "variables": ["newlead", "demdum, x"]})]
    why = pd.DataFrame({"idvar": [per["idvar"].iloc[0]], "start": [per["start"].iloc[0]], "variable": ["newlead"],
                        "reason": ["no leader"]})
    d = dropped_table(per, drops, why, VARS)
    assert d["variable"].tolist() == ["newlead", "demdum", "x"]
    assert d["reason"].tolist()[0] == "no leader" and d["reason"].iloc[1].startswith("missing in the data (rebuilt")
    est = pd.DataFrame({"model_id": "m", "variant": "feasible", "term": ["a"], "estimate": [1.0], "std_error": [0.5]})
    fits = pd.DataFrame({"model_id": ["m"], "variant": ["feasible"], "status": ["ok"], "message": [""], "n_obs": [10],
                         "n_subjects": [3], "n_clusters": [2], "n_failures": [1]})
    e2, f2 = mark_no_change(est, fits, est, fits)
    assert f2["no_change"].iloc[0].startswith("no change") and f2["message"].iloc[0].startswith("no change")
    e3, f3 = mark_no_change(est.assign(estimate=1.1), fits, est, fits)
    assert f3["no_change"].iloc[0] == "" and e3["no_change"].iloc[0] == ""


# ------------------------------------------------------------------------------------------ the real files


@pytest.fixture(scope="module")
def real(root, src, war):
    from coalitions.weisiger.extension import read_censor_case_file

    cases = load_cases(root / "config" / "cases", war)
    cases["conquest_exits"] = read_censor_case_file(root / "config" / "cases" / "conquest_exits.csv")
    return cases, build_rebuilt(src, WeisigerCoding(), cases)


def test_real_case_files_validate_and_cover_every_exit(real):
    cases, data = real
    exits = data.participants[data.participants["exit"] == 1]
    assert exits["volunt"].isin([0, 1]).all()
    if VOLUNTARY in cases:
        coded = exits["volunt_source"].str.startswith(("weisiger_voluntary", "conquest_exits"))
        assert coded.mean() > 0.9, exits.loc[~coded, ["warnum", "ccode", "side"]]
        # the conquest file and the voluntary file agree: every conquest exit is forced
        con = cases["conquest_exits"]
        for r in con.itertuples():
            hit = exits[(exits["warnum"] == r.warnum) & (exits["ccode"] == r.ccode) & (exits["side"] == r.side)]
            assert (hit["volunt"] == 0).all()
    for name in cases:
        if name in HANDCODED_FILES:
            assert cases[name]["source"].str.len().gt(10).all()


def test_no_exit_lost_in_the_feasible_full_model(real, root):
    from coalitions.weisiger.models import run_models
    from coalitions.weisiger.specs import load_specs, select_specs

    _, data = real
    specs = select_specs(load_specs(root / "config" / "models" / "weisiger.yaml"), ids=["t2_full"])
    drops: list = []
    _, fits = run_models(data.periods, data.variables, specs, track="rebuilt", feasible=True, dropped_out=drops)
    # with the front file and the battle trends the Full Model is estimated as published
    f = fits[fits["variant"] == "as_published"].iloc[0]
    assert f["status"] == "ok"
    assert f["n_subjects"] == data.participants["idvar"].nunique()
    assert f["n_failures"] == int(data.participants["exit"].sum()) and f["n_failures_lost"] == 0
    assert "sepdum" not in str(f["dropped"]) and "sepdum" in f["hand_coded"] and "newlead" in f["hand_coded"]
    d = dropped_table(data.periods, drops, data.missing, data.variables)
    assert d["reason"].str.len().gt(10).all()
    assert len(d) == len(d.drop_duplicates(["idvar", "start", "variable"]))


def test_extension_records_must_enter_or_the_model_is_not_estimable(real, src, root, tables):
    from coalitions.weisiger.extension import build_extension_periods, required_extension_tables
    from coalitions.weisiger.models import run_models
    from coalitions.weisiger.specs import load_specs, select_specs

    cases, data = real
    tabs = {**src, **{t: tables[t] for t in required_extension_tables()}}
    part, per, var = build_extension_periods(root / "config" / "cases" / "henke_iraq_afghanistan_members.csv", tabs,
                                             WeisigerCoding(), cases=cases)
    why = per.attrs["why_missing"]
    assert why.loc[why["variable"] == "pvict", "reason"].str.startswith("not available for the post-2003").all()
    if VOLUNTARY in cases and (cases[VOLUNTARY]["warnum"] == 9001).any():
        spain = part[(part["warnum"] == 9001) & (part["ccode"] == 230)].iloc[0]
        assert spain["volunt"] == 1 and spain["volunt_source"].startswith("weisiger_voluntary")
    both = pd.concat([data.periods, per[data.periods.columns]], ignore_index=True)
    ext = both["warnum"].isin([9001, 9002]).to_numpy()
    specs = select_specs(load_specs(root / "config" / "models" / "weisiger.yaml"), ids=["t2_full"])
    _, fits = run_models(both, data.variables, specs, track="rebuilt", feasible=True,
                         must_use=("the post-2003 extension's records", ext))
    f = fits.iloc[0]  # the model as published (every variable exists in the rebuilt track)
    assert f["status"] == "not_estimable" and "the post-2003 extension's records lack" in f["message"]
    assert "pvict" in f["message"] and "foverlap" in f["message"]
    # a model the extension's records can enter is estimated with them
    spec = replace(specs[0], id="x", covariates=("recexit", "demdum"), key_terms=())
    _, fits = run_models(both, data.variables, [spec], track="rebuilt", must_use=("the extension", ext))
    assert fits["status"].iloc[0] == "ok"
    assert fits["n_subjects"].iloc[0] == both["idvar"].nunique()

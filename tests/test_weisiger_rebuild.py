"""The rebuilt Weisiger track: participants (exit coding), periods and the variables table, on real COW data."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from coalitions.schema import read_table
from coalitions.util import CoalitionsError
from coalitions.weisiger.handcoded import HANDCODED_TIME_VARYING
from coalitions.weisiger.rebuild import (
    EXIT_REASONS,
    TIME_VARYING,
    WeisigerCoding,
    build_participants,
    build_rebuilt,
    load_cases,
    required_tables,
    summarise,
    write_rebuilt,
)
from coalitions.weisiger.rebuild_sources import cow_to_gw
from helpers.sources import weisiger_sources

# every Weisiger variable of the article (the sweep's other ctrend windows are attached per model)
WEISIGER_VARIABLES = ["withdraw", "volunt", "foverlap", "ctrend60", "otrend60",
                   "pvict", "imptce", "contribpc", "recexit", "recexit2", "demdum", "polity2", "newlead", "sepdum",
                   "seppc", "actdum", "actpc", "intdum", "cooppc", "lnodead", "lnodead2", "latejoin", "terraim",
                   "regaim"]


@pytest.fixture(scope="module")
def src(tables, root):
    return weisiger_sources(tables, root, required_tables(WeisigerCoding()))


@pytest.fixture(scope="module")
def cases(root, src):
    return load_cases(root / "config" / "cases", src["cow_war_participants"])


@pytest.fixture(scope="module")
def rebuilt(src, cases):
    return build_rebuilt(src, WeisigerCoding(), cases)


def one(p: pd.DataFrame, warnum: int, ccode: int, side: int, spell: int = 1) -> pd.Series:
    hit = p[(p["warnum"] == warnum) & (p["ccode"] == ccode) & (p["side"] == side) & (p["spell"] == spell)]
    assert len(hit) == 1, f"expected one participant {warnum}/{ccode}/{side}/{spell}, found {len(hit)}"
    return hit.iloc[0]


# ------------------------------------------------------------------------------------------ coding


def test_coding_round_trip_and_errors():
    c = WeisigerCoding()
    assert WeisigerCoding.from_dict(c.to_dict()) == c
    alt = WeisigerCoding.from_dict({"exit_tolerance_days": 3, "censor_cases": [
        {"warnum": 22, "ccode": 220, "side": 1, "reason": "entrapment"}], "exclude_wars": [108]}, origin="alt.yaml")
    assert alt.exit_tolerance_days == 3 and alt.censor_cases[0].ccode == 220 and alt.exclude_wars == (108,)
    with pytest.raises(CoalitionsError, match=r"alt\.yaml.*unknown.*exit_tolerance"):
        WeisigerCoding.from_dict({"exit_tolerance": 3}, origin="alt.yaml")
    with pytest.raises(CoalitionsError, match=r"alt\.yaml.*time_origin"):
        WeisigerCoding.from_dict({"time_origin": "yesterday"}, origin="alt.yaml")
    with pytest.raises(CoalitionsError, match="whole number"):
        WeisigerCoding.from_dict({"exit_tolerance_days": "3"})
    with pytest.raises(CoalitionsError, match="true or false"):
        WeisigerCoding.from_dict({"side_change_is_exit": 1})
    with pytest.raises(CoalitionsError, match=r"censor_cases\[0\].*reason"):
        WeisigerCoding.from_dict({"censor_cases": [{"warnum": 22, "ccode": 220, "side": 1}]})
    with pytest.raises(CoalitionsError, match=">= 0"):
        WeisigerCoding(exit_tolerance_days=-1)


def test_cow_to_gw_known_differences():
    assert cow_to_gw(255, pd.Timestamp("1914-08-01")) == 255
    assert cow_to_gw(255, pd.Timestamp("1999-03-24")) == 260
    assert cow_to_gw(345, pd.Timestamp("1914-07-29")) == 340
    assert cow_to_gw(345, pd.Timestamp("1941-04-06")) == 345
    assert cow_to_gw(679, pd.Timestamp("1994-05-01")) == 678
    assert cow_to_gw(817, pd.Timestamp("1965-02-07")) == 817
    assert cow_to_gw(2, pd.Timestamp("1941-12-07")) == 2


# ------------------------------------------------------------------------------------------ participants


def test_russia_leaves_wwi_as_an_exit(rebuilt):
    r = one(rebuilt.participants, 106, 365, 1)
    assert r["exit"] == 1 and r["exit_reason"] == "exit_before_side_end"
    assert r["exit_date"] == pd.Timestamp("1917-12-05")


def test_end_of_wwii_is_censored(rebuilt):
    p = rebuilt.participants
    brazil = one(p, 139, 140, 1)
    assert brazil["exit"] == 0 and brazil["exit_reason"] == "censored_enemy_surrender"
    assert brazil["exit_date"] == pd.Timestamp("1945-05-07") < brazil["side_end_date"]
    for ccode, spell in ((2, 1), (200, 1), (220, 2)):  # US, UK, France (after its return in 1944)
        r = one(p, 139, ccode, 1, spell)
        assert r["exit"] == 0 and r["exit_reason"] == "censored_side_end", r.to_dict()
    france40 = one(p, 139, 220, 1, 1)  # France's defeat in 1940, then Vichy on the other side
    assert france40["exit"] == 1 and france40["exit_date"] == pd.Timestamp("1940-06-22")


def test_enemy_surrender_rule_can_be_switched_off(src, cases):
    p = build_participants(src, WeisigerCoding(censor_enemy_surrender=False), cases)
    assert one(p, 139, 140, 1)["exit"] == 1


def test_states_on_both_sides_are_two_participants(rebuilt, src, cases):
    p = rebuilt.participants
    for ccode in (325, 360, 355):  # Italy, Romania, Bulgaria in WWII
        rows = p[(p["warnum"] == 139) & (p["ccode"] == ccode)]
        assert sorted(rows["side"]) == [1, 2]
        assert rows["idvar"].nunique() == 2 and rows["participant"].nunique() == 2
        axis = rows[rows["side"] == 2].iloc[0]
        assert axis["exit"] == 1 and axis["exit_reason"] == "side_change"
    p2 = build_participants(src, WeisigerCoding(side_change_is_exit=False), cases)
    assert one(p2, 139, 325, 2)["exit_reason"] == "censored_side_change"


def test_war_ending_exits_come_from_the_case_file(src, cases, rebuilt):
    p = rebuilt.participants
    case = cases["weisiger_war_ending_exits"]
    assert set(case["warnum"]) == {22, 28, 155}
    assert case["source"].str.len().gt(20).all()
    ended = p[p["warnum"].isin([22, 28, 155]) & (p["exit"] == 1)]
    assert set(zip(ended["warnum"], ended["ccode"], ended["side"])) == \
        set(zip(case["warnum"], case["ccode"], case["side"]))
    assert (ended["exit_reason"] == "war_ending_exit (case file)").all()
    assert ended["case_source"].notna().all() and ended["case_file"].eq("weisiger_war_ending_exits.csv").all()
    # the COW dates alone see no exit in these wars: every member ends with its side
    assert (ended["rule_exit_reason"] == "censored_side_end").all()
    villafranca = one(p, 28, 220, 1)
    assert villafranca["exit_date"] == pd.Timestamp("1859-07-11") < villafranca["cow_end_date"]
    off = build_participants(src, WeisigerCoding(war_ending_exits=False), cases)
    assert off.loc[off["warnum"].isin([22, 28, 155]), "exit"].sum() == 0
    recode = build_participants(src, WeisigerCoding(war_ending_exits_as_abandonment=False), cases)
    r = one(recode, 28, 220, 1)
    assert r["exit"] == 0 and r["exit_reason"].startswith("war_ending_exit_not_abandonment")


def test_every_coalition_has_two_members_fighting_at_once(rebuilt):
    p = rebuilt.participants
    assert p.groupby("coalid")["ccode"].nunique().min() >= 2
    for _, g in p.groupby("coalid"):
        overlap = [(a["ccode"] != b["ccode"]) and a["entry_date"] <= b["exit_date"] and b["entry_date"] <= a["exit_date"]
                   for _, a in g.iterrows() for _, b in g.iterrows()]
        assert any(overlap)
    assert set(p["exit_reason"].str.split(":").str[0]) <= {k.split(":")[0] for k in EXIT_REASONS}


def test_censor_cases_and_exclude_wars(src, cases):
    c = WeisigerCoding.from_dict({"censor_cases": [{"warnum": 22, "ccode": 220, "side": 1, "reason": "entrapment"}],
                                  "exclude_wars": [108]})
    p = build_participants(src, c, cases)
    r = one(p, 22, 220, 1)
    assert r["exit"] == 0 and r["exit_reason"] == "censored_case_rule: entrapment"
    assert 108 not in set(p["warnum"])
    bad = WeisigerCoding.from_dict({"censor_cases": [{"warnum": 22, "ccode": 2, "side": 1, "reason": "x"}]})
    with pytest.raises(CoalitionsError, match=r"censor_cases\[0\].*war 22, ccode 2"):
        build_participants(src, bad, cases)


# ------------------------------------------------------------------------------------------ case files


def test_case_file_errors_name_file_and_row(tmp_path, src):
    war = src["cow_war_participants"]
    good = ("warnum,ccode,side,exit_date,coding,description,source\n"
            "28,220,1,1859-07-11,abandonment,Villafranca,\"Mack Smith, Cavour (1985)\"\n")
    f = tmp_path / "weisiger_war_ending_exits.csv"
    f.write_text(good)
    assert len(load_cases(tmp_path, war)["weisiger_war_ending_exits"]) == 1
    f.write_text(good + "155,200,1,,abandonment,Suez, \n")
    with pytest.raises(CoalitionsError, match=r"weisiger_war_ending_exits\.csv, row 3.*source"):
        load_cases(tmp_path, war)
    f.write_text(good + "155,999,1,,abandonment,Suez,Kyle (1991)\n")
    with pytest.raises(CoalitionsError, match=r"row 3: war 155, ccode 999, side 1 is not a participant"):
        load_cases(tmp_path, war)
    f.write_text(good + "28,325,1,1860-01-01,abandonment,late,Coppa (1992)\n")
    with pytest.raises(CoalitionsError, match=r"row 3: exit_date 1860-01-01 lies outside"):
        load_cases(tmp_path, war)
    f.write_text(good.replace(",coding", ",code"))
    with pytest.raises(CoalitionsError, match=r"weisiger_war_ending_exits\.csv: required column.*coding"):
        load_cases(tmp_path, war)


def test_missing_case_file_is_an_error(src, cases):
    with pytest.raises(CoalitionsError, match="weisiger_war_ending_exits"):
        build_participants(src, WeisigerCoding(), {k: v for k, v in cases.items() if k != "weisiger_war_ending_exits"})


# ------------------------------------------------------------------------------------------ periods


def test_periods_are_contiguous_counting_process_records(rebuilt):
    per = rebuilt.periods.sort_values(["idvar", "start"])
    same = per["idvar"].eq(per["idvar"].shift())
    assert (per.loc[same, "start"].to_numpy() == per["stop"].shift()[same].to_numpy()).all()
    assert (per["stop"] > per["start"]).all()
    assert (per.groupby("idvar")["start"].min() == 0).all()  # own-entry clock
    assert (per["warday"] == per["stop"]).all()
    w = per.groupby("idvar")["withdraw"].sum()
    assert w.max() <= 1
    assert (per.loc[per["withdraw"] == 1, "finalobs"] == 1).all()
    assert (per.groupby("idvar")["finalobs"].sum() == 1).all()
    exits = rebuilt.participants.set_index("idvar")["exit"]
    assert (w.reindex(exits.index) == exits).all()
    # the participant's first day is its own record (Weisiger's `warday == 1`)
    assert (per.loc[per["firstobs"] == 1, "warday"] == 1).all()


def test_far_fewer_records_than_days(rebuilt):
    p = rebuilt.participants
    days = (p["exit_date"] - p["entry_date"]).dt.days + 1
    # the battlefield trends of the world wars change on most days (every battle day, and 60 and 120 days
    # after it, for every member of the side); elsewhere the records stay far fewer than the days
    ww = p["warnum"].isin([106, 139])
    per = rebuilt.periods
    assert (~per["warnum"].isin([106, 139])).sum() < days[~ww].sum() / 20
    assert len(per) < days.sum() / 3
    span = p.set_index("idvar")["exit_date"] - p.set_index("idvar")["entry_date"]
    n = rebuilt.periods.groupby("idvar").size().reindex(span.index)
    assert (n <= 1 + span.dt.days).all()


def test_covariates_change_only_at_real_change_points(rebuilt, src):
    """pvict (and imptce) differ between consecutive records only where a member joined or left or the year changed."""
    war = src["cow_war_participants"]
    part = rebuilt.participants
    joins_leaves: dict[int, set] = {}
    for r in war.itertuples():
        s = joins_leaves.setdefault(int(r.war_num), set())
        s.add(r.start1)
        s.add(r.end1 + pd.Timedelta(days=1))
        if pd.notna(r.start2):
            s.update({r.start2, r.end2 + pd.Timedelta(days=1), r.end1 + pd.Timedelta(days=1)})
    for r in part.itertuples():  # case-file exit dates move a participant's last day
        joins_leaves[int(r.warnum)].add(r.exit_date + pd.Timedelta(days=1))
    per = rebuilt.periods.sort_values(["idvar", "start"]).reset_index(drop=True)
    prev = per.shift()
    same = per["idvar"].eq(prev["idvar"])
    for col in ("pvict", "imptce"):
        changed = same & ~np.isclose(per[col], prev[col], equal_nan=True)
        assert changed.sum() > 100
        for i in np.nonzero(changed.to_numpy())[0]:
            new_year = per.at[i, "date_from"].year != per.at[i - 1, "date_to"].year
            member = per.at[i, "date_from"] in joins_leaves[int(per.at[i, "warnum"])]
            assert new_year or member, per.loc[i - 1:i, ["idvar", "date_from", "date_to", col]].to_string()
    # and conversely: a record boundary (other than the first-day split) is a change of some covariate,
    # the hand-coded ones (no-separate-peace pledges, integrated command) and the trends included
    cols = [*TIME_VARYING, *HANDCODED_TIME_VARYING, "ctrend60", "otrend60"]
    later = same & prev["firstobs"].ne(1)
    a, b = per.loc[later, cols].to_numpy(float), prev.loc[later, cols].to_numpy(float)
    assert (~((a == b) | (np.isnan(a) & np.isnan(b)))).any(axis=1).all()


def test_pvict_is_complementary_across_sides(rebuilt):
    per = rebuilt.periods
    for warnum, day in ((106, pd.Timestamp("1916-06-01")), (139, pd.Timestamp("1943-06-01"))):
        on = per[(per["warnum"] == warnum) & (per["date_from"] <= day) & (per["date_to"] >= day)]
        v1 = on.loc[on["side"] == 1, "pvict"].unique()
        v2 = on.loc[on["side"] == 2, "pvict"].unique()
        assert len(v1) == 1 and len(v2) == 1
        assert v1[0] + v2[0] == pytest.approx(1.0)
        imp = on.groupby("side")["imptce"].sum()
        assert imp.to_numpy() == pytest.approx([1.0, 1.0])


def test_own_entry_clock_matches_the_do_file_labels(rebuilt):
    """The do-file labels warday 260 as 1/1/1918 for the US in WWI and 756 as 1/1/1944 in WWII."""
    per = rebuilt.periods
    for warnum, day, warday in ((106, "1918-01-01", 260), (139, "1944-01-01", 756)):
        us = per[(per["warnum"] == warnum) & (per["ccode"] == 2)]
        rec = us[(us["date_from"] <= day) & (us["date_to"] >= day)]
        assert len(rec) == 1
        assert rec["start"].iloc[0] < warday <= rec["stop"].iloc[0]
        assert warday - rec["start"].iloc[0] == (pd.Timestamp(day) - rec["date_from"].iloc[0]).days + 1


def test_newlead_recexit_and_latejoin(rebuilt):
    per = rebuilt.periods
    us = per[(per["warnum"] == 139) & (per["ccode"] == 2)]
    truman = pd.Timestamp("1945-04-12")
    assert (us.loc[us["date_to"] < truman, "newlead"] == 0).all()
    assert (us.loc[us["date_from"] >= truman, "newlead"] == 1).all()
    assert us["latejoin"].eq(1).all()
    # Romania left WWI on 9 Dec 1917, four days after Russia: a recent ally exit
    romania = per[(per["warnum"] == 106) & (per["ccode"] == 360)].sort_values("start")
    assert romania["recexit"].iloc[-1] == 1 and romania["recexit"].iloc[0] == 0
    assert romania["withdraw"].iloc[-1] == 1


def test_variables_table_covers_every_variable(rebuilt):
    v = rebuilt.variables.set_index("variable")
    assert set(WEISIGER_VARIABLES) <= set(v.index)
    assert v.loc["foverlap", "status"] == "hand_coded"
    assert v.loc["ctrend60", "status"] == "rebuilt" and v.loc["otrend60", "status"] == "rebuilt"
    assert v["note"].str.len().gt(20).all()
    per = rebuilt.periods
    for name, row in v.iterrows():
        assert row["column"] in per.columns
        if row["status"] == "not_available":
            assert per[row["column"]].isna().all() and per[row["column"]].dtype == float
        elif name != "foverlap":  # foverlap: where the front file covers the participant (test_weisiger_fronts)
            assert per[row["column"]].notna().mean() > 0.5, name


def test_alternative_time_origins_and_spells(src, cases):
    ws = build_rebuilt(src, WeisigerCoding(time_origin="war_start"), cases).periods
    assert (ws.groupby("idvar")["start"].min() == 0).all()
    en = build_rebuilt(src, WeisigerCoding(time_origin="entry"), cases).periods
    first = en[en["firstobs"] == 1]
    assert (first["start"] == first["wstart"]).all() and first["start"].max() > 1000
    merged = build_rebuilt(src, WeisigerCoding(second_spells="merge"), cases)
    assert len(merged.participants[(merged.participants["warnum"] == 139) & (merged.participants["ccode"] == 220)
                                   & (merged.participants["side"] == 1)]) == 1
    sep = build_rebuilt(src, WeisigerCoding(second_spells="separate"), cases)
    assert sep.participants["spell"].max() == 2


def test_write_and_read_back(rebuilt, src, cases, tmp_path):
    # speed is measured by scripts/benchmark.py, not here
    data = build_rebuilt(src, WeisigerCoding(), cases)
    write_rebuilt(data, tmp_path / "p.parquet", tmp_path / "r.parquet", tmp_path / "v.parquet")
    back = read_table(tmp_path / "r.parquet")
    assert len(back) == len(data.periods)
    s = summarise(data)
    assert s["participants"] == data.participants["participant"].nunique()
    assert s["exits"] == int(data.periods["withdraw"].sum())
    broken = dataclasses.replace(data, periods=data.periods.assign(withdraw=1))
    with pytest.raises(CoalitionsError, match="not the participant's last"):
        write_rebuilt(broken, tmp_path / "p2.parquet", tmp_path / "r2.parquet", tmp_path / "v2.parquet")

"""Henke's extension of Weisiger's data past 2003: the hand-coded members of the US-led coalitions in Iraq and
Afghanistan, built into participants and counting-process periods from the real NMC, Polity, Archigos and ATOP data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coalitions.util import CoalitionsError
from coalitions.weisiger.extension import (
    END_REASONS,
    OPERATIONS,
    ExtensionOptions,
    build_extension_periods,
    load_members,
    required_extension_tables,
    summarise_extension,
)
from coalitions.weisiger.rebuild import WeisigerCoding

MEMBERS = Path("config") / "cases" / "henke_iraq_afghanistan_members.csv"


@pytest.fixture(scope="module")
def src(tables):
    return {name: tables[name] for name in required_extension_tables()}


@pytest.fixture(scope="module")
def members(root):
    return load_members(root / MEMBERS)


@pytest.fixture(scope="module")
def built(members, src):
    return build_extension_periods(members, src, WeisigerCoding())


def unit(participants: pd.DataFrame, operation: str, ccode: int, spell: int = 1) -> pd.Series:
    hit = participants[(participants["operation"] == operation) & (participants["ccode"] == ccode)
                       & (participants["spell"] == spell)]
    assert len(hit) == 1, (operation, ccode, spell, len(hit))
    return hit.iloc[0]


# ------------------------------------------------------------------------------------------ the members file


def test_members_file_is_sourced_and_has_the_cases_henke_names(members):
    assert set(members["operation"]) == set(OPERATIONS)
    assert (members["source"].str.len() > 20).all()
    assert members["end_reason"].isin(END_REASONS).all()
    iraq = set(members.loc[members["operation"] == "iraq", "state_name"])
    afgh = set(members.loc[members["operation"] == "afghanistan", "state_name"])
    assert {"Spain", "Philippines", "Nicaragua", "Italy", "United States of America"} <= iraq
    assert {"Netherlands", "Canada", "France", "United States of America"} <= afgh
    spain = members[(members["operation"] == "iraq") & (members["ccode"] == 230)].iloc[0]
    assert spain["withdrawal"] == pd.Timestamp("2004-05-21") and spain["withdrawal_precision"] == "day"
    assert 1300 <= spain["peak_troops"] <= 1432  # Henke (2017): about 1,300; AFP's last count 1,432
    # month-precision dates are put on the 15th, an entry never before the operation's start
    ukr = members[(members["operation"] == "iraq") & (members["ccode"] == 369)].iloc[0]
    assert ukr["entry"] == pd.Timestamp("2003-09-15") and ukr["entry_precision"] == "month"
    pol = members[(members["operation"] == "iraq") & (members["ccode"] == 290)].iloc[0]
    assert pol["entry"] == OPERATIONS["iraq"].start


def test_operation_numbers_are_outside_cows_range(src):
    cow = set(src["cow_war_participants"]["war_num"].astype(int))
    for op in OPERATIONS.values():
        assert op.warnum not in cow and op.warnum > max(cow)
        assert "extension" in op.label


# ------------------------------------------------------------------------------------------ participants


def test_spain_leaving_iraq_in_2004_is_an_exit(built):
    part, per, _ = built
    spain = unit(part, "iraq", 230)
    assert spain["exit"] == 1 and spain["exit_reason"] == "withdrew_early"
    assert spain["exit_date"] == pd.Timestamp("2004-05-21") and spain["warnum"] == 9001
    rec = per[per["idvar"] == spain["idvar"]]
    assert rec["withdraw"].sum() == 1 and rec.loc[rec["finalobs"] == 1, "withdraw"].item() == 1
    assert rec["date_to"].max() == pd.Timestamp("2004-05-21")
    # own-entry clock: day 1 is the entry day (15 August 2003, a month-precision date)
    assert rec["start"].min() == 0 and rec["stop"].max() == (spain["exit_date"] - spain["entry_date"]).days + 1
    for ccode in (840, 93):  # the Philippines and Nicaragua (Henke 2017)
        assert unit(part, "iraq", ccode)["exit"] == 1


def test_members_present_at_the_end_are_censored(built, members):
    part, per, _ = built
    stayed = part[part["end_reason"] == "operation_end"]
    assert len(stayed) == int((members["end_reason"] == "operation_end").sum()) >= 2
    assert (stayed["exit"] == 0).all() and (stayed["exit_reason"] == "censored_operation_end").all()
    for r in stayed.itertuples(index=False):
        assert r.exit_date == OPERATIONS[r.operation].end
        assert per.loc[per["idvar"] == r.idvar, "withdraw"].sum() == 0
    us = unit(part, "iraq", 2)
    assert us["exit"] == 0 and us["exit_date"] == pd.Timestamp("2011-12-18")
    assert unit(part, "afghanistan", 20)["exit"] == 1  # Canada left in March 2014, before ISAF ended


def test_periods_are_contiguous_and_end_at_the_exit(built):
    part, per, _ = built
    per = per.sort_values(["idvar", "start"])
    g = per.groupby("idvar")
    same = per["idvar"].eq(per["idvar"].shift())
    assert (per.loc[same, "start"].to_numpy() == per["stop"].shift()[same].to_numpy()).all()
    assert (per["stop"] > per["start"]).all()
    assert (g["finalobs"].sum() == 1).all() and (g["firstobs"].sum() == 1).all()
    assert (g["start"].min() == 0).all()
    p = part.set_index("idvar")
    length = (p["exit_date"] - p["entry_date"]).dt.days + 1
    assert (g["stop"].max().reindex(p.index) == length).all()
    assert int(per["withdraw"].sum()) == int(part["exit"].sum())
    assert set(per["idvar"]) == set(part["idvar"])


def test_covariates_follow_their_definitions(built):
    part, per, variables = built
    status = dict(zip(variables["variable"], variables["status"]))
    for v in ("imptce", "recexit", "recexit2", "demdum", "polity2", "newlead", "latejoin", "actdum", "cooppc"):
        assert status[v] in ("rebuilt", "proxy") and per[v].notna().mean() > 0.95, v
    for v in ("pvict", "foverlap", "sepdum", "ctrend60", "otrend60", "volunt", "lnodead"):
        assert status[v] == "not_available" and per[v].isna().all(), v
    # imptce: CINC shares of the active members sum to one on every day
    day = pd.Timestamp("2004-01-01")
    on = per[(per["date_from"] <= day) & (per["date_to"] >= day) & (per["warnum"] == 9001)]
    assert len(on) == on["idvar"].nunique() > 20
    assert on["imptce"].sum() == pytest.approx(1.0)
    assert on.loc[on["ccode"] == 2, "imptce"].item() > 0.5
    # recexit: another member exited in the 30 days before the record's first day
    exits = part.loc[part["exit"] == 1, ["warnum", "idvar", "exit_date"]]
    for r in per.sample(300, random_state=1).itertuples(index=False):
        e = exits[(exits["warnum"] == r.warnum) & (exits["idvar"] != r.idvar)]
        expected = ((e["exit_date"] < r.date_from) & (e["exit_date"] >= r.date_from - pd.Timedelta(days=30))).any()
        assert r.recexit == float(expected), (r.idvar, r.date_from)
    # latejoin: entered more than 30 days after the operation's start
    late = unit(part, "iraq", 740)  # Japan, January 2004
    assert late["latejoin"] == 1 and unit(part, "iraq", 200)["latejoin"] == 0


def test_alternative_codings(members, src):
    base = build_extension_periods(members, src, WeisigerCoding())[0]
    # Henke: abandonment can be partial -- the Dutch, French and British ends of combat roles become exits
    part = build_extension_periods(members, src, WeisigerCoding(), ExtensionOptions(exit_definition="partial"))[0]
    nl = unit(part, "afghanistan", 210)
    assert nl["exit"] == 1 and nl["exit_reason"] == "partial_withdrawal" and nl["exit_date"] == pd.Timestamp("2010-08-01")
    assert unit(part, "afghanistan", 220)["exit_date"] == pd.Timestamp("2012-12-15")
    assert unit(base, "afghanistan", 210)["exit"] == 0
    # departures at the end of the legal mandate censored
    cens = build_extension_periods(members, src, WeisigerCoding(), ExtensionOptions(mandate_end_is_exit=False))[0]
    jp = unit(cens, "iraq", 740)
    assert jp["exit"] == 0 and jp["exit_reason"] == "censored_mandate_end"
    assert int(cens["exit"].sum()) == int(base["exit"].sum()) - int((base["exit_reason"] == "mandate_end").sum())
    # Bulgaria left Iraq in 2005 and came back in 2006: two units, or one when spells are merged
    assert unit(base, "iraq", 355, 1)["exit"] == 1 and unit(base, "iraq", 355, 2)["exit"] == 1
    merged = build_extension_periods(members, src, WeisigerCoding(), ExtensionOptions(second_spells="merge"))[0]
    bg = unit(merged, "iraq", 355)
    assert bg["merged_spells"] == "1,2" and bg["entry_date"] == pd.Timestamp("2003-08-15")
    assert bg["exit_date"] == pd.Timestamp("2008-12-15")
    strict = build_extension_periods(members, src, WeisigerCoding(), ExtensionOptions(include_uncertain=False))[0]
    assert (strict["certainty"] == "confirmed").all() and len(strict) < len(base)


def test_summary_figures(built, members):
    s = summarise_extension(built[0]).set_index("operation")
    for op in OPERATIONS:
        m = members[members["operation"] == op]
        assert s.loc[op, "members"] == m["ccode"].nunique()
        assert s.loc[op, "exits"] + s.loc[op, "censored"] == s.loc[op, "at_risk_units"] == len(m)


def test_weisigers_models_run_where_their_variables_exist(built, root):
    from coalitions.weisiger.models import run_models
    from coalitions.weisiger.specs import load_specs, select_specs

    _, per, variables = built
    specs = select_specs(load_specs(root / "config" / "models" / "weisiger.yaml"), ids=["t2_full", "t1_exit_coalition_trend"])
    est, fits = run_models(per, variables, specs, track="extension", feasible=True)
    pub = fits[fits["variant"] == "as_published"].set_index("model_id")
    assert (pub["status"] == "not_estimable").all()
    assert "pvict (not_available)" in pub.loc["t2_full", "message"]
    feas = fits[(fits["variant"] == "feasible") & (fits["model_id"] == "t2_full")].iloc[0]
    assert feas["status"] == "ok" and feas["n_failures"] == int(built[0]["exit"].sum())
    assert set(feas["dropped"].split(", ")) == {"foverlap", "ctrend60", "pvict", "sepdum"}
    terms = est[(est["model_id"] == "t2_full") & (est["variant"] == "feasible")]
    assert set(terms["term"]) == {"imptce", "recexit", "demdum", "newlead"} and terms["estimate"].notna().all()


# ------------------------------------------------------------------------------------------ errors


def _edit(root: Path, tmp_path: Path, row: int, **changes) -> Path:
    df = pd.read_csv(root / MEMBERS, dtype=str, keep_default_na=False)
    for k, v in changes.items():
        df.loc[row, k] = v
    out = tmp_path / "members.csv"
    df.to_csv(out, index=False)
    return out


@pytest.mark.parametrize("row, changes, message", [
    (2, {"source": ""}, r"row 4: the 'source' column is empty"),
    (0, {"operation": "vietnam"}, r"row 2: operation must be one of"),
    (4, {"withdrawal_date": "21/05/2004"}, r"row 6: withdrawal_date must be YYYY-MM-DD or YYYY-MM"),
    (4, {"withdrawal_date": "2004-05"}, r"row 6: withdrawal_date '2004-05' has month precision but date_precision says 'day'"),
    (4, {"date_precision": "entry=month;withdrawal=exact"}, r"row 6: date_precision must read like"),
    (0, {"withdrawal_date": "2011-12-18", "date_precision": "entry=day;withdrawal=day"},
     r"row 2: end_reason is operation_end but withdrawal_date is given"),
    (4, {"end_reason": "defected"}, r"row 6: end_reason must be one of"),
    (4, {"withdrawal_date": "2012-05-21"}, r"row 6: withdrawal_date 2012-05-21 lies outside the operation iraq"),
    (4, {"partial_end_date": "2004-06-28"}, r"row 6: partial_end_date 2004-06-28 must lie after entry"),
    (10, {"entry_date": "2005-11"}, r"row 12: spell 2 of iraq, ccode 355 begins before the previous spell ended"),
    (3, {"peak_troops": "many"}, r"row 5: peak_troops must be empty or a positive whole number"),
])
def test_members_file_errors_name_file_and_row(root, tmp_path, row, changes, message):
    bad = _edit(root, tmp_path, row, **changes)
    with pytest.raises(CoalitionsError, match=r"members\.csv, " + message):
        load_members(bad)


def test_bad_options_are_errors():
    with pytest.raises(CoalitionsError, match=r"alt\.yaml: unknown extension option"):
        ExtensionOptions.from_dict({"exit_rule": "partial"}, origin="alt.yaml")
    with pytest.raises(CoalitionsError, match="exit_definition must be"):
        ExtensionOptions(exit_definition="some")
    with pytest.raises(CoalitionsError, match="nmc_table must be one of"):
        ExtensionOptions(nmc_table="cow_nmc4")
    assert ExtensionOptions.from_dict(ExtensionOptions().to_dict()) == ExtensionOptions()


def test_missing_source_table_is_an_error(members, src):
    partial = {k: v for k, v in src.items() if k != "archigos_leaders"}
    with pytest.raises(CoalitionsError, match="source table 'archigos_leaders' is missing"):
        build_extension_periods(members, partial, WeisigerCoding())
    assert np.isfinite(len(src))

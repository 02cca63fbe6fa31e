"""The battlefield trends (ctrendK, otrendK): a hand-worked battle series, an independent day-by-day
reference, the IWBD battle-lost trend on a synthetic file, and the coverage of the real CDB90 data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from coalitions.readers.cdb90 import ACTOR_MAP, CORRECTIONS, read_actor_map, read_corrections
from coalitions.readers.iwbd import read_iwbd
from coalitions.util import CoalitionsError
from coalitions.weisiger import trends
from helpers.battles import write_synthetic_iwbd

D = pd.Timestamp


def ev_rows(rows, source="cdb90"):
    """Events from (battle_id, start, end, side, ccode, casualties)."""
    df = pd.DataFrame(rows, columns=["battle_id", "start_date", "end_date", "side", "ccode", "casualties"])
    df["warnum"] = 1
    df["start_date"] = pd.to_datetime(df["start_date"])
    df["end_date"] = pd.to_datetime(df["end_date"])
    df["ccode"] = df["ccode"].astype("Int64")
    df["lost"] = np.nan
    df["source"] = source
    return df[list(trends.EVENT_COLUMNS)]


# A war between side 1 (states 10 and 11) and side 2 (state 20), window k = 10 days.
#   B1  3 Jan, one day:       side 1 (state 10) 100 casualties, side 2 300
#   B2  14-15 Jan, two days:  side 1 (state 11) 400 (200 a day), side 2 200 (100 a day)
#   B3  20 Jan:               side 1 (state 10) 50, side 2 50
#   B4  5 Jan:                side 1 (state 10) 80, side 2 unknown -> no data, adds nothing
HAND = ev_rows([
    (1, "2000-01-03", "2000-01-03", 1, 10, 100.0), (1, "2000-01-03", "2000-01-03", 2, 20, 300.0),
    (2, "2000-01-14", "2000-01-15", 1, 11, 400.0), (2, "2000-01-14", "2000-01-15", 2, 20, 200.0),
    (3, "2000-01-20", "2000-01-20", 1, 10, 50.0), (3, "2000-01-20", "2000-01-20", 2, 20, 50.0),
    (4, "2000-01-05", "2000-01-05", 1, 10, 80.0), (4, "2000-01-05", "2000-01-05", 2, 20, np.nan),
])
UNITS = pd.DataFrame({
    "idvar": [1, 2, 3], "warnum": 1, "side": [1, 1, 2], "ccode": [10, 11, 20],
    "entry_date": pd.to_datetime(["2000-01-01"] * 3), "end_date": pd.to_datetime(["2000-03-31"] * 3),
})

# ctrend10 of side 1, by hand. Window "now" = days t-9..t, "before" = t-19..t-10.
#   1 Jan: no battle in either window                                   -> empty
#  14 Jan: now B2 day 1: 200/(200+100) = 2/3; before B1: 100/400 = 1/4   -> 2/3 - 1/4 = 5/12
#  15 Jan: now both days of B2: 400/600 = 2/3; before B1                 -> 5/12 (no change, no step)
#  20 Jan: now B2 + B3: 450/700 = 9/14; before B1                        -> 9/14 - 1/4 = 11/28
#  23 Jan: before (4..13 Jan) holds no battle                             -> empty
#  24 Jan: now B2 day 2 + B3: 250/400 = 5/8; before B2 day 1: 2/3        -> 5/8 - 2/3 = -1/24
#  25 Jan: now B3: 1/2; before both days of B2: 2/3                      -> -1/6
#  30 Jan: now (21..30 Jan) holds no battle                               -> empty, to the end
C1 = [(D("2000-01-01"), None), (D("2000-01-14"), 5 / 12), (D("2000-01-20"), 11 / 28), (D("2000-01-23"), None),
      (D("2000-01-24"), -1 / 24), (D("2000-01-25"), -1 / 6), (D("2000-01-30"), None)]
# otrend10 of state 10 (own battles B1, B3): 20-22 Jan now B3 1/2, before B1 1/4 -> 1/4; else empty.
O10 = {D("2000-01-20"): 0.25, D("2000-01-23"): None}
# otrend10 of state 11 (own battle B2 only): on 24 Jan now = B2 day 2 (2/3), before = B2 day 1 (2/3)
# -> exactly 0 (a real 0, not an empty window), on that day only.
O11 = [(D("2000-01-01"), None), (D("2000-01-24"), 0.0), (D("2000-01-25"), None)]


def _unit(steps, idvar, k=10):
    s = steps[(steps["idvar"] == idvar) & (steps["window"] == k)]
    return s.set_index("date")


def _val(x, empty):
    return empty if x is None else x


@pytest.mark.parametrize("rule", ["missing", "no_change"])
def test_hand_worked_series(rule):
    empty = np.nan if rule == "missing" else 0.0
    steps = trends.trend_steps(HAND, UNITS, [10], rule)
    assert list(steps.columns) == list(trends.STEP_COLUMNS)
    u1 = _unit(steps, 1)
    # the step dates of state 10: its ctrend's changes (its otrend changes on 20 and 23 Jan too)
    assert list(u1.index) == [d for d, _ in C1]
    np.testing.assert_allclose(u1["ctrend"].to_numpy(), [_val(v, empty) for _, v in C1], atol=1e-12)
    ot = {d: _val(v, empty) for d, v in [(D("2000-01-01"), None), (D("2000-01-14"), None),
                                         (D("2000-01-20"), 0.25), (D("2000-01-23"), None),
                                         (D("2000-01-24"), None), (D("2000-01-25"), None),
                                         (D("2000-01-30"), None)]}
    np.testing.assert_allclose(u1["otrend"].to_numpy(), [ot[d] for d in u1.index], atol=1e-12)
    # state 11 has the same coalition trend; its own trend is 0 on 24 Jan only
    u2 = _unit(steps, 2)
    np.testing.assert_allclose(u2.loc[[d for d, _ in C1], "ctrend"].to_numpy(), u1["ctrend"].to_numpy())
    got = [(d, u2.loc[d, "otrend"]) for d in u2.index]
    want = {d: _val(v, empty) for d, v in O11}
    for d, v in got:  # between its steps the value holds
        prev = [w for dd, w in sorted(want.items()) if dd <= d][-1]
        assert v == pytest.approx(prev, abs=1e-12) or (np.isnan(v) and np.isnan(prev)), d
    assert u2.loc[D("2000-01-24"), "otrend"] == 0.0
    # the enemy's coalition trend is the mirror image; every battle is its own (B1-B3)
    u3 = _unit(steps, 3)
    np.testing.assert_allclose(u3.loc[[d for d, _ in C1], "ctrend"].to_numpy(),
                               -u1["ctrend"].to_numpy(), atol=1e-12)
    np.testing.assert_allclose(u3["otrend"].to_numpy(), u3["ctrend"].to_numpy(), atol=1e-12)
    # the battle with unknown casualties (B4, 5 Jan) makes no step
    assert D("2000-01-05") not in steps["date"].tolist()


def test_missing_and_no_change_differ_only_on_empty_windows():
    a = trends.trend_steps(HAND, UNITS, [10], "missing")
    b = trends.trend_steps(HAND, UNITS, [10], "no_change")
    assert list(a["date"]) == list(b["date"])
    empty = a["ctrend"].isna()
    assert empty.any() and (b.loc[empty, "ctrend"] == 0).all()
    np.testing.assert_allclose(a.loc[~empty, "ctrend"], b.loc[~empty, "ctrend"])


def test_a_unit_without_any_battle_gets_one_row_at_entry():
    units = pd.DataFrame({"idvar": [9], "warnum": [2], "side": [1], "ccode": [10],
                          "entry_date": [D("2001-01-01")], "end_date": [D("2001-02-01")]})
    for rule, v in (("missing", np.nan), ("no_change", 0.0)):
        s = trends.trend_steps(HAND, units, [15, 60], rule)
        assert len(s) == 2 and set(s["window"]) == {15, 60} and (s["date"] == D("2001-01-01")).all()
        np.testing.assert_array_equal(s["ctrend"].to_numpy(), [v, v])


def test_exit_date_is_accepted_for_end_date_and_bad_input_is_named():
    p = UNITS.rename(columns={"end_date": "exit_date"})
    pd.testing.assert_frame_equal(trends.trend_steps(HAND, p, [10]), trends.trend_steps(HAND, UNITS, [10]))
    with pytest.raises(CoalitionsError, match="empty_window 'zero'"):
        trends.trend_steps(HAND, UNITS, [10], "zero")
    with pytest.raises(CoalitionsError, match="lacks column"):
        trends.trend_steps(HAND, UNITS.drop(columns="ccode"), [10])
    mixed = pd.concat([HAND, HAND.assign(source="iwbd")])
    with pytest.raises(CoalitionsError, match="more than one source"):
        trends.trend_steps(mixed, UNITS, [10])


# ------------------------------------------------------------------------------------------------
# an independent reference: loop over days and windows, no running sums


def _reference(events, unit, k, rule):
    """ctrend and otrend of ``unit`` on every day of its spell, computed the slow, obvious way."""
    daily = []  # (day, side-1 loss, side-2 loss, battle_id)
    for (bid, s, e), g in events.groupby(["battle_id", "start_date", "end_date"]):
        l = {side: g.loc[g["side"] == side, "casualties"] for side in (1, 2)}
        if any(x.isna().any() or x.empty for x in l.values()):
            continue
        l1, l2 = l[1].sum(), l[2].sum()
        if l1 + l2 <= 0:
            continue
        n = (e - s).days + 1
        for d in pd.date_range(s, e):
            daily.append((d, l1 / n, l2 / n, bid))
    own_ids = set(events.loc[(events["side"] == unit["side"]) & (events["ccode"] == unit["ccode"]), "battle_id"])

    def share(lo, hi, ids):
        mine = other = 0.0
        found = False
        for d, l1, l2, bid in daily:
            if lo <= d <= hi and (ids is None or bid in ids):
                found = True
                mine += l1 if unit["side"] == 1 else l2
                other += l2 if unit["side"] == 1 else l1
        return mine / (mine + other) if found else None

    out = []
    for t in pd.date_range(unit["entry_date"], unit["end_date"]):
        row = []
        for ids in (None, own_ids):
            now = share(t - pd.Timedelta(days=k - 1), t, ids)
            before = share(t - pd.Timedelta(days=2 * k - 1), t - pd.Timedelta(days=k), ids)
            row.append((now - before) if now is not None and before is not None
                       else (0.0 if rule == "no_change" else np.nan))
        out.append((t, *row))
    return pd.DataFrame(out, columns=["date", "ctrend", "otrend"]).set_index("date")


def _expand(steps, idvar, k, days):
    s = _unit(steps, idvar, k)
    i = np.searchsorted(s.index.to_numpy(), days.to_numpy(), side="right") - 1
    assert (i >= 0).all()
    return s["ctrend"].to_numpy()[i], s["otrend"].to_numpy()[i]


@pytest.mark.parametrize("rule", ["missing", "no_change"])
def test_against_a_day_by_day_reference(rule):
    rng = np.random.default_rng(7)
    rows = []
    for bid in range(1, 26):
        s = D("2000-01-01") + pd.Timedelta(days=int(rng.integers(0, 150)))
        e = s + pd.Timedelta(days=int(rng.integers(0, 6)))
        states = [10, 11] if rng.random() < 0.3 else [int(rng.choice([10, 11, 12]))]
        for c in states:
            rows.append((bid, s, e, 1, c, float(rng.integers(0, 500)) / len(states)))
        rows.append((bid, s, e, 2, 20, np.nan if rng.random() < 0.1 else float(rng.integers(0, 500))))
    ev = ev_rows(rows)
    units = pd.DataFrame({"idvar": [1, 2, 3, 4], "warnum": 1, "side": [1, 1, 1, 2], "ccode": [10, 11, 12, 20],
                          "entry_date": pd.to_datetime(["2000-01-01", "2000-02-10", "2000-01-20", "2000-01-01"]),
                          "end_date": pd.to_datetime(["2000-06-30", "2000-05-01", "2000-07-15", "2000-06-30"])})
    windows = [3, 15, 40]
    steps = trends.trend_steps(ev, units, windows, rule)
    for u in units.to_dict("records"):
        for k in windows:
            ref = _reference(ev, u, k, rule)
            c, o = _expand(steps, u["idvar"], k, ref.index)
            np.testing.assert_allclose(c, ref["ctrend"].to_numpy(), atol=1e-9, equal_nan=True)
            np.testing.assert_allclose(o, ref["otrend"].to_numpy(), atol=1e-9, equal_nan=True)
            s = _unit(steps, u["idvar"], k)
            assert s.index[0] == u["entry_date"] and s.index[-1] <= u["end_date"]
            # only real changes are listed
            v = s[["ctrend", "otrend"]].to_numpy()
            same = ((v[1:] == v[:-1]) | (np.isnan(v[1:]) & np.isnan(v[:-1]))).all(axis=1)
            assert not same.any()


def test_changes_only_on_battle_days_and_k_and_2k_days_after():
    k = 10
    steps = trends.trend_steps(HAND, UNITS, [k], "missing")
    data = HAND[HAND["casualties"].notna().groupby(HAND["battle_id"]).transform("all")]
    days = set()
    for r in data.itertuples():
        for d in pd.date_range(r.start_date, r.end_date):
            days.update({d, d + pd.Timedelta(days=k), d + pd.Timedelta(days=2 * k)})
    first = steps.groupby("idvar")["date"].transform("min")
    later = steps[steps["date"] != first]
    assert set(later["date"]) <= days


# ------------------------------------------------------------------------------------------------
# IWBD: the share of battles lost, on the synthetic file


@pytest.fixture(scope="module")
def iwbd_tables(tables, tmp_path_factory):
    path = write_synthetic_iwbd(tmp_path_factory.mktemp("iwbd") / "iwbd.csv")
    return {"cow_war_participants": tables["cow_war_participants"], "cow_states": tables["cow_states"],
            "iwbd_battles": read_iwbd(str(path)), "cdb90_actors": read_actor_map(ACTOR_MAP)}


# June 1944 (helpers/battles.py), window 10, side 1 = the Allies; a battle lost counts 1, a draw 1/2:
#   A  25 May  UK lost            B6  3 Jun UK won          B1  6 Jun "Allies" won
#   ?   7 Jun  victor unknown (no data)                     B2  8-9 Jun USA lost (1/2 a day)
#   B3 10 Jun  Italy (side 1 since October 1943) v Germany, inconclusive (1/2 each)
#   3 Jun: now A, B6 = 1/2; before (15-24 May) nothing            -> empty
#   4 Jun: now B6 = 0;       before A = 1                         -> -1
#   8 Jun: now B6, B1, B2 day 1: 0.5 of 2.5 = 0.2; before A = 1   -> -0.8
#   9 Jun: now B6, B1, B2: 1 of 3;                before A        -> -2/3
#  10 Jun: now B6, B1, B2, B3: 1.5 of 4 = 0.375;  before A        -> -0.625
#  13 Jun: now (4-13 Jun) B1, B2, B3: 1.5 of 3 = 1/2; before (25 May-3 Jun) A, B6: 1 of 2 -> 0
#  14 Jun: now (5-14 Jun) B1, B2, B3: 1.5 of 3 = 1/2; before (26 May-4 Jun) B6 = 0 -> 0.5
# UK's own trend (A, B6): 4 Jun -1, from 13 Jun (no UK battle in 4-13 Jun) empty.
IWBD_C = {D("1944-06-03"): np.nan, D("1944-06-04"): -1.0, D("1944-06-07"): -1.0, D("1944-06-08"): -0.8,
          D("1944-06-09"): -2 / 3, D("1944-06-10"): -0.625, D("1944-06-12"): -0.625, D("1944-06-13"): 0.0, D("1944-06-14"): 0.5}
IWBD_O_UK = {D("1944-06-03"): np.nan, D("1944-06-04"): -1.0, D("1944-06-12"): -1.0, D("1944-06-13"): np.nan}


def test_iwbd_trend_is_the_share_of_battles_lost(iwbd_tables):
    ev = trends.battle_events(iwbd_tables, "iwbd")
    assert set(ev["source"]) == {"iwbd"} and ev["casualties"].isna().all()
    units = pd.DataFrame({"idvar": [1, 2, 3, 4], "warnum": 139, "side": [1, 1, 2, 1], "ccode": [200, 2, 255, 325],
                          "entry_date": pd.to_datetime(["1939-09-03", "1941-12-07", "1939-09-01", "1943-10-18"]),
                          "end_date": pd.to_datetime(["1945-08-14", "1945-08-14", "1945-05-07", "1945-05-07"])})
    steps = trends.trend_steps(ev, units, [10], "missing")
    days = pd.DatetimeIndex(list(IWBD_C))
    c, o = _expand(steps, 1, 10, days)
    np.testing.assert_allclose(c, list(IWBD_C.values()), atol=1e-12, equal_nan=True)
    _, o = _expand(steps, 1, 10, pd.DatetimeIndex(list(IWBD_O_UK)))
    np.testing.assert_allclose(o, list(IWBD_O_UK.values()), atol=1e-12, equal_nan=True)
    cg, _ = _expand(steps, 3, 10, days)  # Germany: the mirror image
    np.testing.assert_allclose(cg, -np.array(list(IWBD_C.values())), atol=1e-12, equal_nan=True)
    # Italy (side 1 unit) fought one battle of its own: never two windows with data
    _, oi = _expand(steps, 4, 10, days)
    assert np.isnan(oi).all()
    cov = trends.coverage(ev, units).set_index("warnum")
    # battles with a known victor: A, B6, B1, B2, B3, B5, B4 (not the unknown one)
    assert cov.loc[139, "battles"] == 7 and cov.loc[139, "source"] == "iwbd"
    assert cov.loc[139, "participants_with_own_battles"] == 4


# ------------------------------------------------------------------------------------------------
# the real CDB90 data


@pytest.fixture(scope="module")
def cdb90(tables):
    t = {n: tables[n] for n in ("cow_war_participants", *trends.required_tables("cdb90"))}
    t["cdb90_actors"] = read_actor_map(ACTOR_MAP)
    t["cdb90_corrections"] = read_corrections(CORRECTIONS, t["cdb90_actors"])
    return t


@pytest.fixture(scope="module")
def rebuilt_units(tables):
    """The rebuilt sample's participants (the case files recode exits only, not who participates)."""
    from coalitions.weisiger.rebuild import WeisigerCoding, build_participants

    coding = WeisigerCoding(war_ending_exits=False, not_exit_cases=False)
    return build_participants({"cow_war_participants": tables["cow_war_participants"]}, coding, {})


def test_coverage_of_the_real_cdb90_data(cdb90, rebuilt_units):
    ev = trends.battle_events(cdb90, "cdb90")
    cov = trends.coverage(ev, rebuilt_units)
    assert list(cov.columns) == list(trends.COVERAGE_COLUMNS)
    assert len(cov) == 38 and set(cov["warnum"]) == set(trends.coalition_wars(cdb90["cow_war_participants"]))
    covered = cov[cov["battles"] > 0].set_index("warnum")
    assert sorted(covered.index) == [22, 28, 55, 58, 100, 106, 136, 139, 148, 151, 155, 169, 181]
    # most battles in the world wars; none for Vietnam (163) or the Gulf War (211)
    assert covered.loc[106, "battles"] > 90 and covered.loc[139, "battles"] > 150
    assert cov.set_index("warnum").loc[[163, 211], "battles"].eq(0).all()
    assert (covered["battle_days"] >= 1).all() and (covered["battle_days"] <= covered["war_days"] + 60).all()
    assert (covered["participants_with_own_battles"] <= covered["participants"]).all()
    assert (covered["first_battle"] <= covered["last_battle"]).all()


def test_real_trends_are_shares_differences_with_steps_per_window(cdb90, rebuilt_units):
    ev = trends.battle_events(cdb90, "cdb90")
    steps = trends.trend_steps(ev, rebuilt_units, [15, 60, 120], "missing")
    assert set(steps["idvar"]) == set(rebuilt_units["idvar"])
    v = steps[["ctrend", "otrend"]].stack()
    assert v.between(-1, 1).all()
    first = steps.groupby(["idvar", "window"])["date"].min().reset_index()
    m = first.merge(rebuilt_units[["idvar", "entry_date"]], on="idvar")
    assert (m["date"] == m["entry_date"]).all()
    # WWI: the coalition trend is estimable (not missing) on some days for every window
    ww1 = steps[steps["idvar"].isin(rebuilt_units.loc[rebuilt_units["warnum"] == 106, "idvar"])]
    assert ww1.groupby("window")["ctrend"].apply(lambda s: s.notna().any()).all()
    # longer windows change less often than the 15-day one only by a factor, never more than every day
    n = steps.groupby("window").size()
    assert n[15] > 0 and n[120] > 0

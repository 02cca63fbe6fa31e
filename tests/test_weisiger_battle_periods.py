"""Battlefield trends in the periods: record boundaries where a trend changes, values from the step
table, per-model windows (the Fig. 5 sweep) split at their own steps only. The step tables here are
SYNTHETIC (made by the tests, not from battle data), on the real COW periods of the mirror."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from coalitions.weisiger.battle_periods import StepIndex, attach_window, trend_term
from coalitions.weisiger.models import run_models
from coalitions.weisiger.rebuild import WeisigerCoding, build_participants, build_periods, required_tables
from coalitions.weisiger.rebuild_cases import load_cases
from coalitions.weisiger.specs import load_specs
from helpers.sources import weisiger_sources

CODING = WeisigerCoding(foverlap_source="theatre")
US_WWII = 13900211  # idvar: war 139, ccode 2, side 1, spell 1


@pytest.fixture(scope="module")
def src(tables, root):
    return weisiger_sources(tables, root, required_tables(CODING))


@pytest.fixture(scope="module")
def part(root, src):
    cases = load_cases(root / "config" / "cases", src["cow_war_participants"])
    return build_participants(src, CODING, cases)


def synthetic_steps(part: pd.DataFrame, windows=(60, 37)) -> pd.DataFrame:
    """Every unit: a value from its first day; the US in WWII changes on 1 Jan 1943 and K days after 6 Jun 1944."""
    rows = []
    for r in part.itertuples(index=False):
        for k in windows:
            v = ((r.idvar * 7919 + k) % 101) / 101 - 0.5  # varies across units, fixed per unit
            rows.append((r.idvar, k, r.entry_date, v, -v))
            if r.idvar == US_WWII:
                rows.append((r.idvar, k, pd.Timestamp("1943-01-01"), 0.2, 0.3))
                rows.append((r.idvar, k, pd.Timestamp("1944-06-06") + pd.Timedelta(days=k), -0.1, 0.0))
    return pd.DataFrame(rows, columns=["idvar", "window", "date", "ctrend", "otrend"])


@pytest.fixture(scope="module")
def built(src, part):
    steps = synthetic_steps(part)
    per, var = build_periods(src, part, CODING, trends=steps)
    return per, var, steps


def value_on(per, idvar, col, day):
    d = pd.Timestamp(day)
    hit = per[(per["idvar"] == idvar) & (per["date_from"] <= d) & (per["date_to"] >= d)]
    assert len(hit) == 1
    return float(hit[col].iloc[0])


def test_trend_columns_and_record_boundaries(built):
    per, var, _ = built
    assert {"ctrend60", "otrend60"} <= set(per.columns) and "ctrend37" not in per.columns
    assert per["ctrend60"].notna().all() and per["otrend60"].notna().all()  # data from every first day
    us = per[per["idvar"] == US_WWII]
    v0 = ((US_WWII * 7919 + 60) % 101) / 101 - 0.5
    assert value_on(per, US_WWII, "ctrend60", "1942-12-31") == pytest.approx(v0)
    assert value_on(per, US_WWII, "ctrend60", "1943-01-01") == pytest.approx(0.2)
    assert value_on(per, US_WWII, "otrend60", "1943-01-01") == pytest.approx(0.3)
    assert value_on(per, US_WWII, "ctrend60", "1944-08-05") == pytest.approx(-0.1)
    for day in ("1943-01-01", "1944-08-05"):
        assert (us["date_from"] == pd.Timestamp(day)).any(), f"no record boundary on {day}"
    assert var.set_index("variable").at["ctrend60", "status"] == "rebuilt"


def test_attach_window_splits_at_its_own_steps_only(built):
    per, _, steps = built
    idx = StepIndex(steps)
    out = attach_window(per, idx, "ctrend", 37)
    assert out["ctrend37"].notna().all()
    us0, us = per[per["idvar"] == US_WWII], out[out["idvar"] == US_WWII].sort_values("start")
    assert len(us) == len(us0) + sum(
        1 for d in (pd.Timestamp("1943-01-01"), pd.Timestamp("1944-06-06") + pd.Timedelta(days=37))
        if not (us0["date_from"] == d).any())
    # still a counting process: contiguous, one final record, withdraw only there, days preserved
    assert (us["start"].to_numpy()[1:] == us["stop"].to_numpy()[:-1]).all()
    assert (us["wstart"].to_numpy()[1:] == us["wstop"].to_numpy()[:-1]).all()
    assert us["finalobs"].sum() == 1 and us["finalobs"].iloc[-1] == 1 and us["firstobs"].iloc[0] == 1
    assert ((out["date_to"] - out["date_from"]).dt.days + 1 == out["wstop"] - out["wstart"]).all()
    assert out["withdraw"].sum() == per["withdraw"].sum()
    assert (out.groupby("idvar")["stop"].max() == per.groupby("idvar")["stop"].max()).all()
    assert value_on(out, US_WWII, "ctrend37", "1944-07-13") == pytest.approx(-0.1)
    assert value_on(out, US_WWII, "ctrend37", "1944-07-12") == pytest.approx(0.2)
    assert trend_term("ctrend37") == ("ctrend", 37) and trend_term("pvict") is None


def test_a_sweep_model_gets_its_window_from_the_steps(root, built):
    per, var, steps = built
    specs = [s for s in load_specs(root / "config" / "models" / "weisiger.yaml") if s.id in ("fig5_ctrend37",
                                                                                           "t1_exit_coalition_trend")]
    est, fits = run_models(per, var, specs, track="rebuilt", feasible=True, trend_steps=steps)
    f = fits.set_index(["model_id", "variant"])
    # the sweep model needs sepdum (not available): its feasible variant keeps ctrend37
    assert "sepdum" in f.at[("fig5_ctrend37", "as_published"), "message"]
    assert "ctrend37" not in f.at[("fig5_ctrend37", "feasible"), "dropped"]
    assert f.at[("fig5_ctrend37", "feasible"), "status"] == "ok"
    e = est[(est["model_id"] == "fig5_ctrend37") & (est["variant"] == "feasible")].set_index("term")
    assert e.at["ctrend37", "measure"] == "rebuilt" and np.isfinite(e.at["ctrend37", "estimate"])
    # without the steps the window is not in the data
    _, fits2 = run_models(per, var, specs[1:], track="rebuilt", feasible=True)
    assert "ctrend37 (not in the data)" in fits2.set_index("model_id").at["fig5_ctrend37", "message"]

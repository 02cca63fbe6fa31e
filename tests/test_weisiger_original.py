"""The original-archive track of Weisiger (2016): reading coalition_exit_final.dta and building the
(start, stop] intervals of ``stset warday, id(idvar)``; run end to end on a synthetic archive that
the tests generate (the real file is on Harvard Dataverse, not in the offline mirror)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coalitions.util import CoalitionsError
from coalitions.weisiger.models import FITS_SCHEMA, ESTIMATES_SCHEMA, run_models
from coalitions.weisiger.original import (
    SYNTHETIC_MARKER,
    VARIABLES_SCHEMA,
    build_periods,
    check_columns,
    read_archive,
)
from coalitions.weisiger.specs import load_model_config
from coalitions.weisiger.synthetic import (
    REQUIRED_WARS,
    SYNTHETIC_COLUMNS,
    TREND_WINDOWS,
    make_synthetic_archive,
    synthetic_frame,
)
from coalitions.schema import validate

ROOT = Path(__file__).resolve().parents[1]
MODELS_YAML = ROOT / "config" / "models" / "weisiger.yaml"


@pytest.fixture(scope="module")
def config():
    return load_model_config(MODELS_YAML)


@pytest.fixture(scope="module")
def archive_path(tmp_path_factory) -> Path:
    return make_synthetic_archive(tmp_path_factory.mktemp("weisiger") / "coalition_exit_final.dta", seed=0)


@pytest.fixture(scope="module")
def archive(archive_path, config):
    return read_archive(archive_path, config.specs, config.labels())


@pytest.fixture(scope="module")
def results(archive, config):
    return run_models(archive.periods, archive.variables, config.specs, track="original")


def _records(rows):
    """A tiny archive: (idvar, warday, finalobs, withdraw) tuples in file order."""
    return pd.DataFrame(rows, columns=["idvar", "warday", "finalobs", "withdraw"])


# --------------------------------------------------------------------------- synthetic archive
def test_synthetic_archive_has_the_columns_and_structure(archive_path):
    raw = pd.read_stata(archive_path, convert_categoricals=False)
    assert list(raw.columns) == list(SYNTHETIC_COLUMNS)
    for col in ["idvar", "warnum", "ccode", "side", "coalid", "warday", "finalobs", "withdraw", "volunt",
                "foverlap", "otrend60", "pvict", "imptce", "contribpc", "recexit", "recexit2", "demdum", "polity2",
                "newlead", "sepdum", "seppc", "actdum", "actpc", "intdum", "cooppc", "lnodead", "lnodead2",
                "latejoin", "terraim", "regaim"]:
        assert col in raw.columns
    assert all(f"ctrend{k}" in raw.columns for k in range(15, 121)) and len(TREND_WINDOWS) == 106
    assert set(REQUIRED_WARS) <= set(raw["warnum"])
    per = raw.groupby("idvar")
    assert (per.size() > 1).mean() > 0.9  # several records per participant
    assert (per["finalobs"].sum() == 1).all()
    exits = raw.loc[raw.finalobs == 1, "withdraw"]
    assert 0 < exits.sum() < len(exits)  # some exits, some censored participants
    assert raw.duplicated(["warnum", "warday"]).any()  # participants share record days: tied times
    assert raw.loc[raw.withdraw == 1, "warday"].duplicated().any()  # tied exit times (Breslow matters)
    # every participant sits in a coalition of at least two countries
    assert (raw.groupby("coalid")["idvar"].nunique() >= 2).all()
    # war 108 has a coalition on side 2, the world wars are present, war-ending wars have an exit
    assert raw.loc[(raw.warnum == 108) & (raw.side == 2), "idvar"].nunique() >= 2
    for w in (22, 28, 155):
        assert raw.loc[raw.warnum == w, "withdraw"].sum() >= 1
    # missing and small contribpc make the "No Minor Participants" filter and Stata's rule bite
    assert raw["contribpc"].isna().any() and (raw["contribpc"] <= 0.1).any()
    assert (raw["volunt"] <= raw["withdraw"]).all()


def test_synthetic_is_deterministic_and_seeded():
    a, b, c = synthetic_frame(seed=3, n_wars=8), synthetic_frame(seed=3, n_wars=8), synthetic_frame(seed=4, n_wars=8)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)
    with pytest.raises(ValueError, match="at least 6"):
        synthetic_frame(n_wars=5)


def test_synthetic_flag_is_visible(archive, archive_path):
    assert archive.is_synthetic is True
    assert SYNTHETIC_MARKER in archive.data_label
    assert archive.periods.attrs["is_synthetic"] is True
    assert archive.variables["note"].str.contains(SYNTHETIC_MARKER, regex=False).all()
    with pd.read_stata(archive_path, iterator=True) as rdr:
        assert SYNTHETIC_MARKER in rdr.variable_labels()["idvar"]


def test_a_file_without_the_marker_is_not_synthetic(tmp_path, config):
    df = synthetic_frame(seed=1, n_wars=6)
    path = tmp_path / "coalition_exit_final.dta"
    df.to_stata(path, write_index=False, data_label="Exiting the coalition", version=118)
    arc = read_archive(path, config.specs)
    assert arc.is_synthetic is False
    assert set(arc.variables["status"]) == {"original"}
    assert not arc.variables["note"].str.contains("SYNTHETIC").any()


# --------------------------------------------------------------------------- intervals
def test_intervals_follow_stset():
    # file order is not time order for idvar 7; Stata sorts, and so do we
    df = _records([(7, 30, 0, 0), (5, 1, 0, 0), (7, 10, 0, 0), (5, 40, 1, 1), (7, 45, 1, 0), (5, 25, 0, 0)])
    p = build_periods(df)
    assert p["idvar"].tolist() == [5, 5, 5, 7, 7, 7]
    assert p["stop"].tolist() == [1, 25, 40, 10, 30, 45]
    assert p["start"].tolist() == [0, 1, 25, 0, 10, 30]
    assert (p["stop"] == p["warday"]).all()
    assert list(p.columns[:2]) == ["start", "stop"] and set(df.columns) <= set(p.columns)
    assert len(df.columns) == 4  # the input is not modified


def test_intervals_on_the_synthetic_archive(archive):
    p = archive.periods
    first = ~p["idvar"].duplicated()
    assert (p.loc[first, "start"] == 0).all()
    prev = p.groupby("idvar")["stop"].shift(1)
    assert (p.loc[~first, "start"] == prev[~first]).all()
    assert (p["stop"] > p["start"]).all()
    last = ~p["idvar"].duplicated(keep="last")
    assert (p.loc[last, "finalobs"] == 1).all() and p.loc[~last, "finalobs"].eq(0).all()


def test_duplicate_warday_is_an_error_naming_the_participant_and_row():
    df = _records([(1, 10, 0, 0), (1, 20, 1, 0), (2, 5, 0, 0), (2, 5, 1, 1)])
    with pytest.raises(CoalitionsError, match=r"idvar 2: the record in row 4 ends on warday 5.*row 3"):
        build_periods(df, origin="x.dta")


def test_first_record_must_end_after_day_zero():
    df = _records([(3, 0, 0, 0), (3, 30, 1, 0)])
    with pytest.raises(CoalitionsError, match=r"idvar 3: its first record \(row 1\) ends on warday 0"):
        build_periods(df)


@pytest.mark.parametrize(
    "rows, match",
    [
        ([(1, 10, 0, 0), (1, 20, 0, 0)], r"exactly one record with finalobs == 1.*idvar \(count\): 1 \(0\)"),
        ([(1, 10, 1, 0), (1, 20, 1, 0)], r"idvar \(count\): 1 \(2\)"),
        ([(1, 10, 0, 0), (1, 20, 1, 2)], r"withdraw must be coded 0/1 \(row 2, idvar 1"),
        ([(1, np.nan, 0, 0), (1, 20, 1, 0)], r"missing warday \(row\(s\) 1\)"),
        ([(np.nan, 10, 0, 0), (1, 20, 1, 0)], r"missing idvar"),
    ],
)
def test_structural_errors(rows, match):
    with pytest.raises(CoalitionsError, match=match):
        build_periods(_records(rows))


def test_missing_columns_are_listed_with_the_models_that_need_them(archive_path, config):
    raw = pd.read_stata(archive_path, convert_categoricals=False).drop(columns=["otrend60", "seppc"])
    with pytest.raises(CoalitionsError) as exc:
        check_columns(raw, config.specs, origin="coalition_exit_final.dta")
    msg = str(exc.value)
    assert "coalition_exit_final.dta: 2 column(s)" in msg
    assert "otrend60: needed by t1_exit_own_trend, t1_voluntary_own_trend (2 model(s))" in msg
    assert "seppc: needed by a2_pct_no_sep_peace (1 model(s))" in msg


def test_non_numeric_column_is_an_error(archive_path, config):
    raw = pd.read_stata(archive_path, convert_categoricals=False)
    raw["demdum"] = raw["demdum"].map({0: "no", 1: "yes"})
    with pytest.raises(CoalitionsError, match=r"must be numeric: \{'demdum'"):
        check_columns(raw, config.specs)


def test_unreadable_file(tmp_path):
    bad = tmp_path / "coalition_exit_final.dta"
    bad.write_bytes(b"this is not a Stata file")
    with pytest.raises(CoalitionsError, match="not a readable Stata .dta file"):
        read_archive(bad)
    with pytest.raises(CoalitionsError, match="not found"):
        read_archive(tmp_path / "absent.dta")


# --------------------------------------------------------------------------- end to end
def test_original_track_end_to_end(archive, config, results):
    estimates, fits = results
    ids = [s.id for s in config.specs]
    assert fits["model_id"].tolist() == ids  # every model of the YAML, once, in order
    assert (fits["status"] == "ok").all(), fits.loc[fits.status != "ok", ["model_id", "message"]]
    assert (fits["track"] == "original").all() and (fits["coding"] == "baseline").all()
    assert len(estimates) == sum(len(s.terms) for s in config.specs)
    assert estimates[["estimate", "std_error"]].notna().all().all()
    validate(estimates, ESTIMATES_SCHEMA)
    validate(fits, FITS_SCHEMA)
    n_sub = archive.periods["idvar"].nunique()
    full = fits.set_index("model_id").loc["t2_full"]
    assert full["n_obs"] == len(archive.periods) and full["n_subjects"] == n_sub
    assert full["n_failures"] == int(archive.periods["withdraw"].sum())
    assert full["n_clusters"] == archive.periods["coalid"].nunique()
    # the known hazard: a common front lowers, a worsening war raises the risk of exit
    est = estimates.set_index(["model_id", "term"])["estimate"]
    assert est["t2_full", "foverlap"] < 0 and est["t2_full", "ctrend60"] > 0
    assert est["t1_exit_coalition_trend", "foverlap"] < 0 and est["t1_exit_coalition_trend", "ctrend60"] > 0
    # labels come from the YAML
    lab = estimates.set_index(["model_id", "term"])["label"]
    assert lab["t2_full", "foverlap"] == "Common Front" and lab["t2_full", "ctrend60"] == "War Worsening"
    assert lab["a4_first_day", "_cons"] == "Constant"
    assert not estimates["proxy"].any() and (fits["proxies"] == "").all()


def test_variables_table_has_the_rebuilt_tracks_shape(archive):
    v = validate(archive.variables, VARIABLES_SCHEMA)
    assert list(v.columns) == ["variable", "label", "status", "note", "column"]
    assert (v["variable"] == v["column"]).all() and set(v["status"]) == {"original"}
    lab = v.set_index("variable")["label"]
    assert lab["foverlap"] == "Common Front" and lab["sepdum"] == "No Separate Peace" and lab["idvar"] == "Participant"
    assert set(v["variable"]) == set(archive.periods.columns) - {"start", "stop"}

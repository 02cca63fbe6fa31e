"""The multiverse (config/multiverse.yaml, coalitions.multiverse) and its specification curves.

What must hold: the shipped configuration crosses at least six switches into at least 64 universes per
study, with stable unique ids; a bad configuration stops with the file and the key; every universe comes
out exactly once per track and term with a status, never dropped; the shortcuts that share work between
universes (building the data once, then restricting the sample or picking a column) give exactly the
estimates of a direct build; the figures are byte-identical across renders; the summary counts are right.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from coalitions.multiverse import (
    STATUSES,
    TABLE_COLUMNS,
    base_section,
    curve_targets,
    expand_universes,
    load_multiverse,
    parse_study,
    run_study_multiverse,
    universe_settings,
    universe_status,
)
from coalitions.speccurve import plot_spec_curve, summarise
from coalitions.util import CoalitionsError
from helpers.sources import weisiger_sources

MODELS = {"weisiger": "config/models/weisiger.yaml", "henke": "config/models/henke.yaml"}
WEISIGER_TABLES = ("cow_war_participants", "cow_nmc5", "cow_nmc6", "democracy_state_year", "polity5", "archigos_leaders",
                   "atop_dyad_year")
#: the switches the tests below name; every other switch is held at its baseline value by _pick
NAMED = {"weisiger": ("exit_tolerance", "enemy_surrender", "war_ending_exits", "entrapment", "limited_objectives",
                      "conquest", "world_wars"),
         "henke": ("embeddedness", "lag", "igo_statuses", "operations", "uncertain_contributors", "estimator")}


@pytest.fixture(scope="module")
def mv(root: Path):
    return load_multiverse(root / "config" / "multiverse.yaml", root=root,
                           models={s: root / p for s, p in MODELS.items()})


@pytest.fixture(scope="module")
def raw(root: Path) -> dict:
    return yaml.safe_load((root / "config" / "multiverse.yaml").read_text())


# ------------------------------------------------------------------------------------------------
# configuration and universes


def test_the_shipped_multiverse_crosses_six_switches_into_64_universes(mv) -> None:
    assert set(mv) == {"weisiger", "henke"}
    for study, sm in mv.items():
        assert len(sm.switches) >= 6, study
        u = expand_universes(sm)
        assert len(u) == sm.n_universes == int(np.prod([len(s.values) for s in sm.switches])) >= 64
        assert u["universe_id"].is_unique
        assert u["universe_id"].str.match(rf"^{study[0]}[0-9a-f]{{8}}$").all()
        assert list(u.columns) == ["universe_id", *[s.name for s in sm.switches], "is_baseline"]
        assert u["is_baseline"].sum() == 1
        # every combination once
        assert not u.duplicated([s.name for s in sm.switches]).any()
        for s in sm.switches:
            assert s.proposed_by and s.label and s.baseline in s.labels
    # the switches the issue asks for
    w = {p for s in mv["weisiger"].switches for p in s.parameters}
    assert {"exit_tolerance_days", "censor_enemy_surrender", "war_ending_exits_as_abandonment",
            "censor_case_files", "exclude_wars", "foverlap_source", "trend_empty_window", "nmc_table",
            "polity_table", "recexit_window_days"} <= w
    files = {f for s in mv["weisiger"].switches for _, v in s.values for f in v.get("censor_case_files", [])}
    assert files == {"config/cases/morey_entrapment.csv", "config/cases/morey_limited_objectives.csv",
                     "config/cases/conquest_exits.csv"}
    h = {p for s in mv["henke"].switches for p in s.parameters}
    assert {"embeddedness", "lag_years", "igo_statuses", "operations", "uncertain_contributors", "model"} <= h


def test_universe_ids_do_not_depend_on_the_order_of_the_file(raw) -> None:
    a = expand_universes(parse_study("henke", raw["henke"]))
    shuffled = copy.deepcopy(raw["henke"])
    shuffled["switches"] = list(reversed(shuffled["switches"]))
    for s in shuffled["switches"]:
        s["values"] = dict(reversed(list(s["values"].items())))
    b = expand_universes(parse_study("henke", shuffled))
    names = [s["name"] for s in raw["henke"]["switches"]]
    key = lambda df: dict(zip(df["universe_id"], df[names].astype(str).agg("|".join, axis=1)))  # noqa: E731
    assert key(a) == key(b)


def test_universe_settings_combine_case_files_and_set_the_model(mv) -> None:
    sm = mv["weisiger"]
    row = {s.name: s.labels[-1] for s in sm.switches}  # every switch at its last value
    section, model = universe_settings(sm, row, {"censor_case_files": ["config/cases/morey_entrapment.csv"]})
    assert section["censor_case_files"] == ["config/cases/morey_entrapment.csv", "config/cases/morey_limited_objectives.csv",
                                            "config/cases/conquest_exits.csv"]
    assert section["exclude_wars"] == [106, 139] and section["exit_tolerance_days"] == 30
    assert model == "t2_full"
    h = mv["henke"]
    section, model = universe_settings(h, {s.name: s.labels[-1] for s in h.switches})
    assert model == "baseline_clogit" and "model" not in section and section["embeddedness"] == "normalised"


def _bad(raw: dict, study: str, edit) -> str:
    data = copy.deepcopy(raw[study])
    edit(data)
    with pytest.raises(CoalitionsError) as exc:
        parse_study(study, data, origin="config/multiverse.yaml", model_ids=_ids(study))
    return str(exc.value)


def _ids(study: str) -> list[str]:
    from coalitions.multiverse import _model_ids

    return _model_ids(study, MODELS[study])


@pytest.mark.parametrize(
    ("study", "edit", "expected"),
    [
        ("weisiger", lambda d: d["switches"][0]["values"]["30 days"].update(exit_tolerance_dayz=30),
         ["weisiger.switches[exit_tolerance].values['30 days']", "exit_tolerance_dayz"]),
        ("weisiger", lambda d: d["switches"][0].update(baseline="1 day"), ["switches[exit_tolerance].baseline", "1 day"]),
        ("weisiger", lambda d: d["switches"][1].update(colour="red"), ["weisiger.switches[1].colour"]),
        ("weisiger", lambda d: d["switches"][3]["values"].update(censored={"censor_case_files": ["config/cases/nope.csv"]}),
         ["switches[entrapment].values['censored']", "nope.csv"]),
        ("weisiger", lambda d: d["switches"][1]["values"]["exit"].update(exit_tolerance_days=7),
         ["exit_tolerance_days", "also set by switch 'exit_tolerance'"]),
        ("weisiger", lambda d: d["switches"][2].update(name="exit_tolerance"), ["switches[2].name", "listed twice"]),
        ("weisiger", lambda d: d["switches"][0]["values"].pop("30 days"), ["switches[exit_tolerance].values", "at least two"]),
        ("weisiger", lambda d: d.update(model="t9_nothing"), ["weisiger.model", "t9_nothing"]),
        ("weisiger", lambda d: d["tracks"].update(imagined={"variant": "feasible", "terms": ["pvict"]}),
         ["weisiger.tracks.imagined", "unknown track"]),
        ("weisiger", lambda d: d["tracks"]["rebuilt"].update(variant="approximate"),
         ["weisiger.tracks.rebuilt.variant", "approximate"]),
        ("weisiger", lambda d: d["tracks"]["rebuilt"].update(terms=[]), ["weisiger.tracks.rebuilt.terms"]),
        ("henke", lambda d: d["switches"][0]["values"]["IGOs only"].update(embeddedness="treaties"),
         ["henke.switches[embeddedness].values['IGOs only']", "embeddedness", "treaties"]),
        ("henke", lambda d: d["switches"][5]["values"]["logit"].update(model="baseline_tobit"),
         ["switches[estimator].values['logit'].model", "baseline_tobit"]),
        ("henke", lambda d: d.pop("switches"), ["henke.switches", "required"]),
        ("henke", lambda d: d.update(extra=1), ["henke.extra", "unknown key"]),
    ],
)
def test_a_bad_multiverse_config_names_the_key(raw, study, edit, expected) -> None:
    msg = _bad(raw, study, edit)
    assert "config/multiverse.yaml" in msg
    for part in expected:
        assert part in msg, msg


def test_an_unknown_study_is_named(tmp_path: Path, root: Path) -> None:
    p = tmp_path / "multiverse.yaml"
    p.write_text("wiesiger: {}\n")
    with pytest.raises(CoalitionsError, match="wiesiger.*unknown study"):
        load_multiverse(p, root=root)


# ------------------------------------------------------------------------------------------------
# runs on the real mirror data


@pytest.fixture(scope="module")
def wtables(tables, root: Path) -> dict[str, pd.DataFrame]:
    from coalitions.weisiger.battle_periods import trend_tables
    from coalitions.weisiger.rebuild_coding import WeisigerCoding

    return weisiger_sources(tables, root, (*WEISIGER_TABLES, *trend_tables(WeisigerCoding())))


@pytest.fixture(scope="module")
def htables(tables) -> dict[str, pd.DataFrame]:
    from coalitions.entry import HENKE_TABLES

    return {t: tables[t] for t in HENKE_TABLES}


#: the switches of how foverlap and the trends are measured: at their baseline unless a test picks them
MEASURES = ("common_front", "empty_window")


def _pick(sm, **settings) -> pd.DataFrame:
    u = expand_universes(sm)
    for s in sm.switches:
        if s.name in MEASURES and s.name not in settings and not settings.get("is_baseline"):
            settings[s.name] = s.baseline
    m = pd.Series(True, index=u.index)
    for s in sm.switches:
        if s.name not in NAMED[sm.study] and s.name not in settings and "is_baseline" not in settings:
            m &= u[s.name] == s.baseline
    for k, v in settings.items():
        m &= u[k] == v
    return u[m]


def _run_weisiger(sm, universes, wtables, root, **kw):
    return run_study_multiverse("weisiger", universes, wtables, config=sm, models_path=root / MODELS["weisiger"],
                                base=base_section(sm, folder=root / "config" / "codings"),
                                cases_dir=root / "config" / "cases", root=root, **kw)


def _run_henke(sm, universes, htables, root, **kw):
    return run_study_multiverse("henke", universes, htables, config=sm, models_path=root / MODELS["henke"],
                                base=base_section(sm, folder=root / "config" / "codings"),
                                operations_path=root / "config/cases/henke_operations.csv",
                                contributors_path=root / "config/cases/henke_contributors.csv", root=root, **kw)


def _check_complete(table: pd.DataFrame, universes: pd.DataFrame, sm) -> None:
    n_terms = sum(len(t.terms) for t in sm.tracks.values())
    assert len(table) == len(universes) * n_terms
    assert list(table.columns[: len(TABLE_COLUMNS)]) == TABLE_COLUMNS
    assert set(table["universe_id"]) == set(universes["universe_id"])
    assert not table.duplicated(["universe_id", "track", "term"]).any()
    assert table["status"].isin(STATUSES).all()
    ok = table["status"] == "ok"
    assert table.loc[ok, ["estimate", "std_error", "conf_low", "conf_high", "p_value"]].notna().all().all()
    assert (table.loc[ok, "conf_low"] < table.loc[ok, "estimate"]).all()
    assert table.loc[~ok, "estimate"].isna().all()
    assert (table.loc[~ok, "message"].str.len() > 0).all()


def test_weisiger_subset_every_universe_once_with_a_status(mv, wtables, root: Path) -> None:
    sm = mv["weisiger"]
    u = expand_universes(sm)
    sub = pd.concat([u[u["is_baseline"]], _pick(sm, world_wars="excluded", conquest="censored").head(2),
                     _pick(sm, exit_tolerance="30 days", enemy_surrender="exit").head(1)])
    assert len(sub) == 4
    out = _run_weisiger(sm, sub, wtables, root, archive_dir=None)
    _check_complete(out, sub, sm)
    reb = out[out["track"] == "rebuilt"]
    assert (reb.loc[reb["term"] != "foverlap", "status"] == "ok").all()
    # the original archive was not given: every universe says so, none is dropped
    orig = out[out["track"] == "original"]
    assert (orig["status"] == "not_available").all() and len(orig) == 4 * len(sm.tracks["original"].terms)
    # the universes table: one row per universe with the model's status
    us = universe_status(out, sub, sm)
    assert list(us["universe_id"]) == list(sub["universe_id"]) and (us["status"] == "ok").all()
    # switches that change the coding change the data: the estimates differ between universes
    assert reb[reb["term"] == "recexit"]["estimate"].nunique() == 4


def test_weisiger_measurement_switches_give_real_estimates(mv, wtables, root: Path) -> None:
    """The Common Front and War Worsening estimates exist (not dropped, not separating) under the front file
    and both rules for windows without battles; the theatre proxy is kept as the alternative measure."""
    sm = mv["weisiger"]
    sub = pd.concat([_pick(sm, is_baseline=True),
                     _pick(sm, common_front="theatre proxy", world_wars="included", exit_tolerance="0 days",
                           enemy_surrender="censored", war_ending_exits="abandonment", entrapment="exit",
                           limited_objectives="exit", conquest="exit"),
                     _pick(sm, empty_window="missing", world_wars="included",
                           exit_tolerance="0 days", enemy_surrender="censored", war_ending_exits="abandonment",
                           entrapment="exit", limited_objectives="exit", conquest="exit")])
    assert len(sub) == 3
    out = _run_weisiger(sm, sub, wtables, root, archive_dir=None)
    _check_complete(out, sub, sm)
    reb = out[(out["track"] == "rebuilt") & out["term"].isin(["foverlap", "ctrend60"])]
    proxy = (reb["common_front"] == "theatre proxy") & (reb["term"] == "foverlap")
    assert (reb.loc[~proxy, "status"] == "ok").all(), reb[["universe_id", "term", "status", "message"]]
    # the theatre proxy (1 for nearly every exit): estimated, or not estimable where it separates the exits
    assert reb.loc[proxy, "status"].isin(["ok", "not_estimable"]).all()
    assert reb.loc[~proxy & (reb["term"] == "foverlap"), "estimate"].lt(0).all()


def test_weisiger_universes_equal_the_direct_build(mv, wtables, root: Path, caplog) -> None:
    """Universes reproduce the rebuilt track of a coding built directly (build_rebuilt + run_models), although
    the multiverse shares the periods of identically coded wars between universes and drops excluded wars
    after the build."""
    import logging

    from coalitions.weisiger.apply import resolve
    from coalitions.weisiger.models import run_models
    from coalitions.weisiger.rebuild import build_rebuilt
    from coalitions.weisiger.rebuild_cases import load_cases
    from coalitions.weisiger.rebuild_coding import WeisigerCoding
    from coalitions.weisiger.specs import load_specs, select_specs

    sm = mv["weisiger"]
    cases = load_cases(root / "config" / "cases", wtables["cow_war_participants"])
    specs = select_specs(load_specs(root / MODELS["weisiger"]), ids=["t2_full"])
    u = expand_universes(sm)
    sub = pd.concat([
        u[u["is_baseline"]],
        _pick(sm, world_wars="excluded", exit_tolerance="30 days", enemy_surrender="censored",
              war_ending_exits="abandonment", entrapment="exit", limited_objectives="exit", conquest="exit"),
        _pick(sm, world_wars="included", exit_tolerance="0 days", enemy_surrender="exit",
              war_ending_exits="not abandonment", entrapment="censored", limited_objectives="censored",
              conquest="censored"),
        # the covariate and clock switches at their other values: these universes share the participants
        # of the ones above (same exit rules) but not their periods
        _pick(sm, world_wars="excluded", exit_tolerance="30 days", enemy_surrender="censored",
              war_ending_exits="abandonment", entrapment="exit", limited_objectives="exit", conquest="exit",
              nmc_release="NMC 6.0", polity_source="Polity5",
              recent_exit_window="60 days"),
        _pick(sm, world_wars="included", exit_tolerance="0 days", enemy_surrender="exit",
              war_ending_exits="not abandonment", entrapment="censored", limited_objectives="censored",
              conquest="censored", nmc_release="NMC 6.0", recent_exit_window="60 days"),
    ])
    assert len(sub) == 5
    with caplog.at_level(logging.INFO, logger="coalitions"):
        out = _run_weisiger(sm, sub, wtables, root, workers=2)
    assert "sharing on" in caplog.text
    for row in sub.to_dict("records"):
        section, _ = universe_settings(sm, row)
        params = resolve(section, origin="test", root=root)["params"]
        data = build_rebuilt(wtables, WeisigerCoding.from_dict(params), cases)
        est, fits = run_models(data.periods, data.variables, specs, track="rebuilt", feasible=True)
        # the feasible variant where the model as published cannot be estimated, else the model itself
        v = "feasible" if (fits["variant"] == "feasible").any() else "as_published"
        d = est[est["variant"] == v].set_index("term")
        got = out[(out["universe_id"] == row["universe_id"]) & (out["track"] == "rebuilt") & (out["status"] == "ok")]
        assert len(got) >= 2  # (a term the war clock or Polity5 makes inestimable is not_estimable)
        rest = out[(out["universe_id"] == row["universe_id"]) & (out["track"] == "rebuilt") & (out["status"] != "ok")]
        for r in rest.itertuples():  # ... and so it is in the direct build
            assert r.term not in d.index or pd.isna(d.loc[r.term, "estimate"]), (r.term, r.message)
        assert int(got["n_obs"].iloc[0]) == int(fits.loc[fits["variant"] == v, "n_obs"].iloc[0])
        for r in got.itertuples():
            assert r.estimate == pytest.approx(d.loc[r.term, "estimate"], rel=1e-9, abs=1e-12)
            assert r.std_error == pytest.approx(d.loc[r.term, "std_error"], rel=1e-9, abs=1e-12)


def test_weisiger_universes_with_the_same_model_data_share_one_fit(mv, wtables, root: Path, monkeypatch) -> None:
    """Two universes that differ only in the entrapment rule, where no participant of the estimation sample
    is an entrapment case under the other rules, give the model the same data: it is fitted once, both rows
    are equal, and they equal a direct build of the second universe."""
    import coalitions.weisiger.models as wm
    from coalitions.weisiger.apply import resolve
    from coalitions.weisiger.rebuild import build_rebuilt
    from coalitions.weisiger.rebuild_cases import load_cases
    from coalitions.weisiger.rebuild_coding import WeisigerCoding
    from coalitions.weisiger.specs import load_specs, select_specs

    sm = mv["weisiger"]
    u = expand_universes(sm)
    fixed = {"exit_tolerance": "0 days", "enemy_surrender": "censored", "war_ending_exits": "not abandonment",
             "limited_objectives": "exit", "conquest": "exit", "common_front": "front file",
             "empty_window": "no change", "world_wars": "included", "nmc_release": "NMC 5.0",
             "polity_source": "peacesciencer", "recent_exit_window": "30 days"}
    assert set(fixed) | {"entrapment"} == {s.name for s in sm.switches}
    sel = np.logical_and.reduce([u[k] == v for k, v in fixed.items()])
    sub = u[sel].sort_values("entrapment", key=lambda s: s.map({"exit": 0, "censored": 1}))
    assert sub["entrapment"].tolist() == ["exit", "censored"]
    calls = []
    real = wm.run_models
    monkeypatch.setattr(wm, "run_models", lambda *a, **kw: calls.append(kw["coding"]) or real(*a, **kw))
    out = _run_weisiger(sm, sub, wtables, root, workers=1)
    assert calls == [sub["universe_id"].iloc[0]]
    reb = out[(out["track"] == "rebuilt") & (out["status"] == "ok")]
    a, b = (reb[reb["universe_id"] == x].set_index("term") for x in sub["universe_id"])
    assert len(a) >= 2
    cols = ["estimate", "std_error", "p_value", "n_obs", "n_events"]
    assert a[cols].equals(b[cols])
    cases = load_cases(root / "config" / "cases", wtables["cow_war_participants"])
    section, model = universe_settings(sm, sub.iloc[1].to_dict())
    data = build_rebuilt(wtables, WeisigerCoding.from_dict(resolve(section, origin="test", root=root)["params"]),
                         cases)
    spec = select_specs(load_specs(root / MODELS["weisiger"]), ids=[model])
    est, fits = real(data.periods, data.variables, spec, track="rebuilt", feasible=True)
    v = "feasible" if (fits["variant"] == "feasible").any() else "as_published"
    d = est[est["variant"] == v].set_index("term")
    for term, r in b.iterrows():
        assert r["estimate"] == pytest.approx(d.loc[term, "estimate"], rel=1e-9, abs=1e-12)


def test_shared_periods_fall_back_to_direct_builds_when_the_self_check_fails(mv, wtables, root: Path,
                                                                           monkeypatch, caplog) -> None:
    """If wars were wrongly taken as identically coded (here: every war gets the same fingerprint), the
    run's self-check sees the difference and builds every group directly: the estimates stay right."""
    import logging

    import coalitions.multiverse as M

    sm = mv["weisiger"]
    sub = pd.concat([_pick(sm, is_baseline=True),
                     _pick(sm, world_wars="included", exit_tolerance="30 days", enemy_surrender="exit",
                           war_ending_exits="not abandonment", entrapment="exit", limited_objectives="censored",
                           conquest="censored")])
    right = _run_weisiger(sm, sub, wtables, root)
    monkeypatch.setattr(M, "_war_hashes", lambda part: {int(w): "same" for w in part["warnum"].unique()})
    with caplog.at_level(logging.WARNING, logger="coalitions"):
        again = _run_weisiger(sm, sub, wtables, root)
    assert "building every group directly" in caplog.text
    pd.testing.assert_frame_equal(right, again)


def test_war_fingerprints_of_a_whole_table_equal_those_of_each_war(wtables, root: Path) -> None:
    from coalitions.multiverse import _war_hash, _war_hashes
    from coalitions.weisiger.rebuild import build_participants
    from coalitions.weisiger.rebuild_cases import load_cases
    from coalitions.weisiger.rebuild_coding import WeisigerCoding

    part = build_participants(wtables, WeisigerCoding(), load_cases(root / "config" / "cases",
                                                                    wtables["cow_war_participants"]))
    at_once = _war_hashes(part)
    assert at_once == {int(w): _war_hash(g) for w, g in part.groupby("warnum", sort=True)}
    assert len(set(at_once.values())) == len(at_once)


def test_the_hand_coded_step_war_by_war_equals_the_step_on_all_wars(wtables, root: Path) -> None:
    """The multiverse applies the hand-coded step to each distinct war once and assembles a build group's
    records from those pieces: on the real data, the step applied war by war gives the same records,
    participants and counts as the step applied to all wars at once (here under a coding whose Polity and
    leader rules fill values in, so the counts are not all zero)."""
    from coalitions.weisiger.handcoded import COUNT_COLUMNS, handcoded_records
    from coalitions.weisiger.rebuild import build_participants, build_periods
    from coalitions.weisiger.rebuild_cases import load_cases
    from coalitions.weisiger.rebuild_coding import WeisigerCoding

    cases = load_cases(root / "config" / "cases", wtables["cow_war_participants"])
    coding = WeisigerCoding(exit_tolerance_days=30, polity_table="polity5")
    part = build_participants(wtables, coding, cases)
    per, _ = build_periods(wtables, part, coding, fronts=cases.get("weisiger_fronts"))
    p_all, r_all, _, c_all = handcoded_records(wtables, part, per, cases, coding)
    assert c_all[list(COUNT_COLUMNS)].to_numpy().sum() > 0
    pieces = [handcoded_records(wtables, part[part["warnum"] == w], per[per["warnum"] == w], cases, coding)
              for w in sorted(part["warnum"].unique())]
    r_war = pd.concat([x[1] for x in pieces], ignore_index=True).sort_values(["idvar", "wstart"], kind="stable")
    pd.testing.assert_frame_equal(r_war.reset_index(drop=True), r_all.reset_index(drop=True))
    p_war = pd.concat([x[0] for x in pieces]).set_index("idvar").loc[part["idvar"]].reset_index()
    pd.testing.assert_frame_equal(p_war[list(p_all.columns)], p_all.reset_index(drop=True))
    pd.testing.assert_frame_equal(pd.concat([x[3] for x in pieces], ignore_index=True), c_all)


def test_a_universe_that_fails_is_kept_with_its_message(raw, wtables, root: Path) -> None:
    data = copy.deepcopy(raw["weisiger"])
    data["switches"] = [data["switches"][0], {
        "name": "model_choice", "label": "Model", "proposed_by": "the test", "baseline": "full",
        "values": {"full": {}, "missing": {"model": "t9_not_a_model"}}}]
    data["tracks"] = {"rebuilt": data["tracks"]["rebuilt"]}
    sm = parse_study("weisiger", data, root=root)  # no model ids given: the run finds the unknown model
    u = expand_universes(sm)
    assert len(u) == 4
    out = _run_weisiger(sm, u, wtables, root)
    _check_complete(out, u, sm)
    bad = out[out["model_choice"] == "missing"]
    assert (bad["status"] == "failed").all() and bad["message"].str.contains("t9_not_a_model").all()
    assert (out.loc[(out["model_choice"] == "full") & (out["term"] == "pvict"), "status"] == "ok").all()


def test_weisiger_original_track_on_a_synthetic_archive(mv, wtables, root: Path, tmp_path: Path) -> None:
    from coalitions.weisiger.synthetic import make_synthetic_archive

    archive = tmp_path / "weisiger2016"
    archive.mkdir()
    make_synthetic_archive(archive / "coalition_exit_final.dta", seed=1)
    (archive / "status.json").write_text(json.dumps({"available": True, "files": {
        "data": {"name": "coalition_exit_final.dta"}}}))
    sm = mv["weisiger"]
    sub = pd.concat([_pick(sm, is_baseline=True), _pick(sm, exit_tolerance="30 days", world_wars="excluded",
                                                       war_ending_exits="not abandonment").head(1)])
    out = _run_weisiger(sm, sub, wtables, root, archive_dir=archive, workers=2)
    _check_complete(out, sub, sm)
    orig = out[out["track"] == "original"]
    assert (orig["status"] == "ok").all(), orig[["status", "message"]]
    assert orig["message"].str.contains("SYNTHETIC").all()
    second = orig[orig["universe_id"] == sub["universe_id"].iloc[1]]
    assert second["message"].str.contains("not applicable to the original archive").all()
    assert second["message"].str.contains("exit_tolerance_days").all()
    # the synthetic data are drawn with a negative Common Front effect
    base = orig[(orig["universe_id"] == sub["universe_id"].iloc[0]) & (orig["term"] == "foverlap")]
    assert float(base["estimate"].iloc[0]) < 0


def test_henke_subset_and_post_build_shortcuts_equal_a_direct_build(mv, htables, root: Path) -> None:
    """Embeddedness, lag, operations and uncertain contributors are applied to shared data: the estimates
    must equal those of a dataset built directly with the universe's full coding."""
    from coalitions.henke.cases import load_cases
    from coalitions.henke.models import load_specs, run_models
    from coalitions.henke.rebuild import HenkeCoding, build_dataset

    sm = mv["henke"]
    sub = pd.concat([
        _pick(sm, is_baseline=True),
        _pick(sm, embeddedness="IGOs only", lag="year before", igo_statuses="full + associate",
              operations="post-Cold War", uncertain_contributors="dropped", estimator="logit"),
        _pick(sm, embeddedness="share of own IGOs", lag="year before", igo_statuses="full",
              operations="all", uncertain_contributors="counted", estimator="conditional logit"),
        _pick(sm, embeddedness="without security ties", lag="start year", igo_statuses="full + associate",
              operations="all", uncertain_contributors="dropped", estimator="logit"),
        _pick(sm, embeddedness="share of own IGOs", lag="year before", igo_statuses="full", operations="all",
              uncertain_contributors="counted", estimator="logit", igo_waves="annual", alliance_ties="shared alliances",
              hosts="included", contributor_lists="complete lists only"),
    ])
    assert len(sub) == 5
    out = _run_henke(sm, sub, htables, root, workers=2)
    _check_complete(out, sub, sm)
    assert (out["status"] == "ok").all(), out[["status", "message"]]
    assert out.loc[out["model_id"] == "baseline_logit", "ame"].notna().all()
    assert out.loc[out["model_id"] == "baseline_clogit", "ame"].isna().all()
    assert (out["term_sd"] > 0).all()
    ops, con = load_cases(root / "config/cases/henke_operations.csv", root / "config/cases/henke_contributors.csv",
                          htables["cow_states"])
    specs = {s.id: s for s in load_specs(root / MODELS["henke"], "rebuilt")}
    for row in sub.to_dict("records"):
        section, model = universe_settings(sm, row)
        data, variables = build_dataset(htables, ops, con, HenkeCoding.from_dict(section))
        est, fits = run_models(data, variables, [specs[model]], track="rebuilt", coding="direct")
        d = est.set_index("term").loc["embeddedness"]
        got = out[out["universe_id"] == row["universe_id"]].iloc[0]
        assert got["estimate"] == pytest.approx(d["estimate"], rel=1e-8)
        assert got["std_error"] == pytest.approx(d["std_error"], rel=1e-8)
        assert int(got["n_obs"]) == int(fits["n_obs"].iloc[0])
        if model == "baseline_logit":
            assert got["ame"] == pytest.approx(d["ame"], rel=1e-8)


def test_henke_universes_with_the_same_estimation_data_share_one_fit(mv, htables, root: Path, monkeypatch) -> None:
    """Under a diplomatic-only embeddedness measure the IGO membership statuses change no column the model
    uses: the two universes' fit is computed once, and both rows equal a direct build's estimates. A
    universe whose data differ (IGOs only) gets its own fit."""
    import coalitions.henke.models as hm
    from coalitions.henke.cases import load_cases
    from coalitions.henke.models import load_specs, run_models
    from coalitions.henke.rebuild import HenkeCoding, build_dataset

    sm = mv["henke"]
    same = dict(embeddedness="diplomatic levels only (proxy)", lag="start year", operations="all",
                uncertain_contributors="counted", estimator="logit")
    sub = pd.concat([_pick(sm, igo_statuses="full", **same), _pick(sm, igo_statuses="full + associate", **same),
                     _pick(sm, igo_statuses="full", **{**same, "embeddedness": "IGOs only"})])
    assert len(sub) == 3
    calls = []
    real = hm.run_models

    def counting(*a, **kw):
        calls.append(kw.get("coding"))
        return real(*a, **kw)

    monkeypatch.setattr(hm, "run_models", counting)
    out = _run_henke(sm, sub, htables, root, workers=1)
    assert len(calls) == 2  # one fit for the two diplomatic-only universes, one for IGOs only
    a, b, c = (out[out["universe_id"] == u].iloc[0] for u in sub["universe_id"])
    cols = ["estimate", "std_error", "p_value", "ame", "term_sd", "n_obs"]
    assert a["status"] == "ok" and a[cols].tolist() == b[cols].tolist() and a["estimate"] != c["estimate"]
    ops, con = load_cases(root / "config/cases/henke_operations.csv", root / "config/cases/henke_contributors.csv",
                          htables["cow_states"])
    specs = {s.id: s for s in load_specs(root / MODELS["henke"], "rebuilt")}
    section, model = universe_settings(sm, sub.iloc[1].to_dict())
    data, variables = build_dataset(htables, ops, con, HenkeCoding.from_dict(section))
    est, _ = real(data, variables, [specs[model]], track="rebuilt", coding="direct")
    assert b["estimate"] == pytest.approx(est.set_index("term").loc["embeddedness", "estimate"], rel=1e-10)


def test_henke_fit_key_covers_the_models_columns_and_their_status() -> None:
    """Synthetic rows: the digest changes with a used column's value (by one unit in the last place), its
    dtype, its status or note in the variables table, and the model; not with an unused column."""
    from coalitions.henke.models import ModelSpec
    from coalitions.multiverse import henke_fit_key

    spec = ModelSpec(id="m", label="M", estimator="logit", outcome="joined", covariates=("embeddedness", "cinc"),
                     key_term="embeddedness", cluster="ccode")
    d = pd.DataFrame({"joined": [0, 1, 0], "embeddedness": [0.5, 1.5, 2.0], "cinc": [0.1, 0.2, 0.3],
                      "ccode": [2, 20, 200], "unused": ["a", "b", "c"]})
    v = pd.DataFrame({"variable": ["embeddedness", "cinc"], "status": ["ok", "ok"], "note": ["", ""]})
    k = henke_fit_key(spec, d, v, ["embeddedness"])
    assert henke_fit_key(spec, d.assign(unused=["x", "y", "z"]), v, ["embeddedness"]) == k
    bumped = d.copy()
    bumped.loc[1, "cinc"] = np.nextafter(0.2, 1)
    assert henke_fit_key(spec, bumped, v, ["embeddedness"]) != k
    assert henke_fit_key(spec, d.astype({"ccode": "float64"}), v, ["embeddedness"]) != k
    assert henke_fit_key(spec, d, v.assign(status=["proxy", "ok"]), ["embeddedness"]) != k
    assert henke_fit_key(spec, d, v.assign(note=["x", ""]), ["embeddedness"]) != k
    other = ModelSpec(id="m", label="M", estimator="probit", outcome="joined", covariates=("embeddedness", "cinc"),
                      key_term="embeddedness", cluster="ccode")
    assert henke_fit_key(other, d, v, ["embeddedness"]) != k


def test_weisiger_fit_key_covers_the_model_columns_and_the_variables_table(mv) -> None:
    """Synthetic periods: the digest changes with a value (one unit in the last place) of a column the
    model is estimated from, the analysis time, the variables table, the track and the feasible flag;
    not with a column the model does not use."""
    from coalitions.multiverse import weisiger_fit_key, weisiger_model_columns
    from coalitions.weisiger.specs import load_model_config

    spec = load_model_config(MODELS["weisiger"]).spec(mv["weisiger"].model)
    cols = weisiger_model_columns(spec, pd.DataFrame(columns=[*spec.variables, "start", "stop", "unused"]))
    assert "start" in cols and "stop" in cols and "unused" not in cols and set(spec.covariates) <= set(cols)
    rng = np.random.default_rng(5)
    d = pd.DataFrame({c: rng.random(6) for c in [*spec.variables, "start", "stop"]}).assign(unused=list("abcdef"))
    v = pd.DataFrame({"variable": list(spec.covariates), "status": "rebuilt", "note": ""})
    k = weisiger_fit_key(spec, d, v, "rebuilt", True)
    assert weisiger_fit_key(spec, d.assign(unused=list("uvwxyz")), v, "rebuilt", True) == k
    for c in (spec.covariates[0], "stop"):
        bumped = d.copy()
        bumped.loc[2, c] = np.nextafter(bumped.loc[2, c], 2)
        assert weisiger_fit_key(spec, bumped, v, "rebuilt", True) != k
    assert weisiger_fit_key(spec, d, v.assign(status=["proxy"] + ["rebuilt"] * (len(v) - 1)), "rebuilt", True) != k
    assert weisiger_fit_key(spec, d, v, "original", True) != k
    assert weisiger_fit_key(spec, d, v, "rebuilt", False) != k


# ------------------------------------------------------------------------------------------------
# specification curves and the summary


def _hand_table(sm) -> pd.DataFrame:
    """A made-up multiverse table over the study's universes (fixed numbers, no model fitted)."""
    u = expand_universes(sm)
    rng = np.random.default_rng(7)
    n = len(u)
    est = rng.normal(0.5, 1.0, n)
    se = rng.uniform(0.1, 0.8, n)
    t = pd.DataFrame({"universe_id": u["universe_id"], "study": sm.study, "track": "rebuilt", "model_id": "m",
                      "variant": "", "term": "x", "estimate": est, "std_error": se, "conf_low": est - 1.96 * se,
                      "conf_high": est + 1.96 * se, "p_value": rng.uniform(0, 0.2, n), "status": "ok",
                      "message": "", "is_baseline": u["is_baseline"]})
    for s in sm.switches:
        t[s.name] = u[s.name]
    t.loc[t.index[:5], ["estimate", "conf_low", "conf_high", "p_value"]] = np.nan
    t.loc[t.index[:5], "status"] = "not_estimable"
    return t


def test_spec_curve_is_byte_identical_across_renders(mv, tmp_path: Path) -> None:
    sm = mv["henke"]
    table = _hand_table(sm)
    paths = []
    for i in (1, 2):
        files = [tmp_path / f"r{i}" / "curve.png", tmp_path / f"r{i}" / "curve.svg"]
        info = plot_spec_curve(table, "x", sm.switches, files, track="rebuilt", term_label="Made-up term")
        paths.append(files)
    assert info["shown"] == len(table) - 5 and info["universes"] == len(table)
    for a, b in zip(*paths):
        assert a.stat().st_size > 10_000
        assert a.read_bytes() == b.read_bytes(), a.name
    svg = paths[0][1].read_text()
    assert "<dc:date>" not in svg and "Matplotlib v" not in svg
    assert paths[0][0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_spec_curve_of_thousands_of_universes_is_binned_and_small(mv, tmp_path: Path) -> None:
    """4,096 universes: a band and a heat map of switch shares, not 4,096 dots per switch value; a
    multiverse of a few hundred keeps one dot per universe."""
    from coalitions.speccurve import BINNED_ABOVE

    sm = mv["weisiger"]
    table = _hand_table(sm)
    assert len(table) >= 4096
    info = plot_spec_curve(table, "x", sm.switches, [tmp_path / "big.png", tmp_path / "big.svg"], track="rebuilt")
    assert info["binned"] and info["shown"] == len(table) - 5
    assert (tmp_path / "big.svg").stat().st_size < 1_500_000 and (tmp_path / "big.png").stat().st_size < 1_500_000
    small = table.head(BINNED_ABOVE)
    info = plot_spec_curve(small, "x", sm.switches, [tmp_path / "small.png"], track="rebuilt")
    assert not info["binned"] and info["shown"] == BINNED_ABOVE - 5


def test_spec_curve_of_a_term_never_estimated_says_why(mv, tmp_path: Path) -> None:
    import struct

    sm = mv["weisiger"]
    t = _hand_table(sm)
    t[["estimate", "conf_low", "conf_high", "p_value"]] = np.nan
    t["status"], t["message"] = "not_available", "original archive not obtained: offline"
    info = plot_spec_curve(t, "x", sm.switches, [tmp_path / "c.png"], track="rebuilt")
    assert info["shown"] == 0 and info["universes"] == len(t)
    # a short figure carrying the message, not an empty curve with a dot matrix
    width, height = struct.unpack(">II", (tmp_path / "c.png").read_bytes()[16:24])
    assert width == 1400 and height < 400
    full = plot_spec_curve(_hand_table(sm), "x", sm.switches, [tmp_path / "d.png"], track="rebuilt")
    assert full["shown"] > 0
    assert struct.unpack(">II", (tmp_path / "d.png").read_bytes()[16:24])[1] > 3 * height


def test_per_sd_scale_multiplies_by_the_terms_sd(mv, tmp_path: Path) -> None:
    from coalitions.speccurve import curve_data

    sm = mv["henke"]
    t = _hand_table(sm)
    t["term_sd"] = 2.0
    t.loc[t.index[5], "term_sd"] = np.nan
    ok, _ = curve_data(t, "x", "rebuilt", scale="per_sd")
    raw_ok, _ = curve_data(t, "x", "rebuilt")
    assert len(ok) == len(raw_ok) - 1
    assert np.allclose(np.sort(ok["estimate"]), np.sort(raw_ok.set_index("universe_id").drop(t["universe_id"].iloc[5])
                                                        ["estimate"] * 2.0))


def test_summarise_counts_on_a_hand_made_table() -> None:
    rows = [
        # universe, estimate, p, status, baseline
        ("u1", 0.50, 0.01, "ok", True),
        ("u2", 0.30, 0.20, "ok", False),
        ("u3", -0.10, 0.03, "ok", False),
        ("u4", 0.20, 0.04, "ok", False),
        ("u5", np.nan, np.nan, "not_estimable", False),
        ("u6", np.nan, np.nan, "failed", False),
    ]
    t = pd.DataFrame(rows, columns=["universe_id", "estimate", "p_value", "status", "is_baseline"])
    t["term"], t["track"] = "x", "rebuilt"
    t["conf_low"], t["conf_high"] = t["estimate"] - 0.1, t["estimate"] + 0.1
    s = summarise(t)["rebuilt"]["x"]
    assert s["universes"] == 6 and s["estimable"] == 4
    assert s["not_estimable"] == 1 and s["failed"] == 1 and s["not_available"] == 0
    assert s["positive"] == 3 and s["negative"] == 1
    assert s["significant_5"] == 3
    assert s["same_sign_as_baseline"] == 3 and s["significant_same_sign"] == 2
    assert s["baseline"]["estimate"] == 0.5 and s["baseline"]["universe_id"] == "u1"
    assert s["estimate_min"] == -0.1 and s["estimate_max"] == 0.5 and s["estimate_median"] == pytest.approx(0.25)
    # without an estimable baseline the sign comparison is not defined (None), never 0
    t.loc[0, ["estimate", "status"]] = [np.nan, "not_estimable"]
    s = summarise(t)["rebuilt"]["x"]
    assert s["same_sign_as_baseline"] is None and s["estimable"] == 3


def test_curve_targets_name_the_files_of_the_layout(mv) -> None:
    stems = [stem for _, _, stem in curve_targets(mv["weisiger"])]
    assert "weisiger_spec_curve_foverlap" in stems and "weisiger_original_spec_curve_foverlap" in stems
    assert [stem for _, _, stem in curve_targets(mv["henke"])] == ["henke_spec_curve_embeddedness"]

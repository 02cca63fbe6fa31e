"""Weisiger's models as data (config/models/weisiger.yaml), their filters and recodes, the model
runner, and the (empty) file of published values."""

from __future__ import annotations

import copy
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from coalitions.util import CoalitionsError
from coalitions.weisiger.models import ESTIMATE_COLUMNS, FIT_COLUMNS, run_models
from coalitions.weisiger.original import build_periods, read_archive
from coalitions.weisiger.specs import (
    PUBLISHED_COLUMNS,
    apply_recode,
    apply_sample,
    compile_where,
    load_model_config,
    load_published,
    load_specs,
    select_specs,
    where_mask,
)
from coalitions.weisiger.synthetic import make_synthetic_archive

ROOT = Path(__file__).resolve().parents[1]
MODELS_YAML = ROOT / "config" / "models" / "weisiger.yaml"
PUBLISHED_CSV = ROOT / "config" / "published" / "weisiger2016.csv"
FULL = ("foverlap", "ctrend60", "pvict", "imptce", "recexit", "demdum", "newlead", "sepdum")


@pytest.fixture(scope="module")
def config():
    return load_model_config(MODELS_YAML)


@pytest.fixture(scope="module")
def specs(config):
    return list(config.specs)


@pytest.fixture(scope="module")
def archive(tmp_path_factory, config):
    path = make_synthetic_archive(tmp_path_factory.mktemp("weisiger_models") / "coalition_exit_final.dta", seed=2)
    return read_archive(path, config.specs, config.labels())


def _by_id(specs):
    return {s.id: s for s in specs}


# --------------------------------------------------------------------------- the specifications
def test_every_model_of_the_article_is_specified(specs):
    tables = pd.Series([s.table for s in specs]).value_counts().to_dict()
    assert tables == {"1": 4, "2": 5, "A1": 3, "A1a": 5, "A2": 5, "A4": 2, "Fig. 5": 106, "X": 1}
    # table "X" holds the project's own models, never presented as the article's
    project = [s for s in specs if s.table == "X"]
    assert all("Not in the article" in s.note for s in project)
    specs = [s for s in specs if s.table != "X"]
    # the eststo names of the author's do-file, one model each
    names = [s.do_file_name for s in specs if s.sweep is None]
    assert names == ["base1", "base2", "base3", "base4", "contwd", "fullwd1", "fullvol1", "fullalt", "fullwd2",
                     "nowarend", "nogerrus", "nominor", "waraim", "batdead1", "batdead2", "latejoin", "soldier",
                     "polity", "recexit2", "ally1", "ally2", "ally3", "sepdum1", "sepdum2"]
    assert len({s.id for s in specs}) == len(specs)
    cols = {s.id: s.column for s in specs}
    assert cols["a1_no_war_ending_exits"] == "No WD. if War Ends" and cols["t2_no_world_wars"] == "No World Wars"
    for s in specs:
        if s.estimator == "cox":
            assert (s.cluster, s.ties, s.subject, s.stata_adjust) == ("coalid", "breslow", "idvar", True)


def test_covariates_are_derived_as_in_the_do_file(specs):
    m = _by_id(specs)
    assert m["t2_full"].covariates == FULL
    assert m["t2_controls"].covariates == ("recexit", "pvict", "imptce", "newlead", "demdum", "sepdum")
    assert m["t2_ally_relations"].covariates == FULL[:7] + ("intdum", "cooppc")
    assert m["a1a_alt_importance"].covariates == ("foverlap", "ctrend60", "pvict", "contribpc", "recexit", "demdum",
                                                  "newlead", "sepdum")
    assert m["a2_polity"].covariates[5] == "polity2" and "demdum" not in m["a2_polity"].covariates
    assert m["a2_alliance"].covariates[-1] == "actdum" and m["a1a_war_aims"].covariates[-2:] == ("terraim", "regaim")
    assert m["t1_voluntary_own_trend"].outcome == "volunt" and m["t2_voluntary"].outcome == "volunt"
    assert m["a4_first_day"].estimator == "probit" and m["a4_first_day"].outcome == "sepdum"
    assert m["a4_first_day"].terms == ("foverlap", "_cons")
    sweep = [s for s in specs if s.sweep == "fig5_window"]
    assert [s.sweep_value for s in sweep] == list(range(15, 121))
    for s in sweep:
        k = s.sweep_value
        assert s.id == f"fig5_ctrend{k}" and s.key_terms == (f"ctrend{k}",)
        assert s.covariates == ("foverlap", f"ctrend{k}") + FULL[2:]
    assert _by_id(specs)["fig5_ctrend60"].covariates == m["t2_full"].covariates
    assert m["t2_full"].label("foverlap") == "Common Front" and m["t2_full"].label("ctrend60") == "War Worsening"
    assert m["fig5_ctrend45"].label("ctrend45") == "War Worsening (45 days)"
    assert m["a2_pct_allied"].label("actpc") == "% Allied"


def test_select_specs(specs):
    assert [s.id for s in select_specs(specs, tables=["A4"])] == ["a4_first_day", "a4_last_day"]
    assert len(select_specs(specs, sweeps=False)) == 25  # 24 of the article + the project's x_full_no_pvict
    with pytest.raises(CoalitionsError, match="unknown model id"):
        select_specs(specs, ids=["t9_nothing"])


def _write(tmp_path: Path, data: dict) -> Path:
    p = tmp_path / "models.yaml"
    p.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return p


def _model(data: dict, model_id: str) -> dict:
    return next(m for m in data["models"] if m["id"] == model_id)


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda d: _model(d, "t2_full").update(colour="red"), r"model 't2_full': unknown key\(s\) \['colour'\]"),
        (lambda d: _model(d, "t2_full").update(outcome="withdrw"), r"model 't2_full': unknown variable\(s\) \['withdrw'\]"),
        (lambda d: _model(d, "t1_exit_own_trend").update(covariates=["foverlap", "otrend6"]),
         r"model 't1_exit_own_trend': unknown variable\(s\) \['otrend6'\]"),
        (lambda d: _model(d, "a1_no_minor_participants")["sample"].update(where="__import__('os').system('true')"),
         r"model 'a1_no_minor_participants'.sample.where: bad filter"),
        (lambda d: _model(d, "a1_no_noncoordinated")["sample"].update(where="warnum != 108 | side == 1"),
         r"model 'a1_no_noncoordinated'.sample.where: bad filter: use 'and' / 'or'"),
        (lambda d: _model(d, "a1_no_minor_participants")["sample"].update(where="contribpc.real > 0.1"),
         r"bad filter: not allowed in a filter"),
        (lambda d: _model(d, "a1_no_minor_participants")["sample"].update(where="contrib > 0.1"),
         r"model 'a1_no_minor_participants'.sample.where: filter 'contrib > 0.1' uses unknown variable"),
        (lambda d: _model(d, "a1_no_minor_participants")["sample"].update(where="contribpc >"),
         r"bad filter: not a valid expression"),
        (lambda d: _model(d, "a1_no_minor_participants")["sample"].update(missing="sometimes"),
         r"sample.missing: must be one of"),
        (lambda d: _model(d, "t2_no_world_wars")["sample"].update(exclude={"warnum": ["WWI"]}),
         r"sample.exclude.warnum: 'WWI' is not a number"),
        (lambda d: _model(d, "a1_no_war_ending_exits")["recode"].update(where="warnum in 22"),
         r"model 'a1_no_war_ending_exits'.recode.where: bad filter: 'in' needs a non-empty list"),
        (lambda d: _model(d, "a1a_alt_importance")["covariates"].update(replace={"imptc": "contribpc"}),
         r"model 'a1a_alt_importance'.covariates.replace: 'imptc' is not in FULL"),
        (lambda d: _model(d, "t2_full")["covariates"].update(base="FUL"), r"unknown covariate set 'FUL'"),
        (lambda d: _model(d, "t2_ally_relations")["covariates"].update(add=["foverlap"]), r"listed twice: \['foverlap'\]"),
        (lambda d: _model(d, "t2_full").update(key=["pvict", "otrend60"]), r"key term\(s\) \['otrend60'\] are not covariates"),
        (lambda d: _model(d, "a4_first_day").update(estimator="logit"), r"model 'a4_first_day'.estimator: must be one of"),
        (lambda d: _model(d, "t2_full").update(ties="exact"), r"model 't2_full'.ties"),
        (lambda d: _model(d, "t2_controls").update(id="t2_full"), r"model 't2_full': duplicate model id"),
        (lambda d: d["sweeps"][0]["model"].update(id="fig5_window_model"), r"sweeps\[0\].model.id: must contain \{K\}"),
        (lambda d: d["sweeps"][0]["model"]["covariates"]["replace"].update(ctrend60="ctrend{K}x"),
         r"model 'fig5_ctrend15': unknown variable\(s\) \['ctrend15x'\]"),
        (lambda d: d.update(extra_section=1), r"\(top level\): unknown key\(s\) \['extra_section'\]"),
        (lambda d: d["variables"]["foverlap"].update(role="hypothesis"), r"variables.foverlap: role must be one of"),
    ],
)
def test_invalid_specifications_name_the_file_and_model(tmp_path, mutate, match):
    data = yaml.safe_load(MODELS_YAML.read_text(encoding="utf-8"))
    data = copy.deepcopy(data)
    mutate(data)
    path = _write(tmp_path, data)
    with pytest.raises(CoalitionsError, match=match) as exc:
        load_specs(path)
    assert str(path) in str(exc.value)


def test_the_unchanged_file_round_trips(tmp_path, specs):
    data = yaml.safe_load(MODELS_YAML.read_text(encoding="utf-8"))
    again = load_specs(_write(tmp_path, data))
    assert [(s.id, s.covariates, s.sample, s.recode) for s in again] == [
        (s.id, s.covariates, s.sample, s.recode) for s in specs]


# --------------------------------------------------------------------------- the filter language
def test_filter_semantics_and_stata_missing_rule():
    df = pd.DataFrame({"x": [0.05, 0.2, np.nan, 1.0], "w": [106, 139, np.nan, 22], "s": [1, 2, 2, 1]})
    assert where_mask(df, "x > 0.1").tolist() == [False, True, True, True]  # Stata: missing > everything
    assert where_mask(df, "x > 0.1", missing="na_false").tolist() == [False, True, False, True]
    assert where_mask(df, "x < 0.1").tolist() == [True, False, False, False]
    assert where_mask(df, "w not in [106, 139]").tolist() == [False, False, True, True]
    assert where_mask(df, "w not in [106, 139]", missing="na_false").tolist() == [False, False, False, True]
    assert where_mask(df, "w in [22, 106]").tolist() == [True, False, False, True]
    assert where_mask(df, "w != 106 or s == 1").tolist() == [True, True, True, True]
    assert where_mask(df, "not (w == 139) and s == 2").tolist() == [False, False, True, False]
    assert where_mask(df, "0.1 < x <= 1").tolist() == [False, True, False, True]
    assert where_mask(df, "missing(x) or x == -1e9").tolist() == [False, False, True, False]
    assert where_mask(df, "x > -0.5", missing="na_false").tolist() == [True, True, False, True]
    assert compile_where("w != 108 or s == 1").variables == ("s", "w")


@pytest.mark.parametrize(
    "text",
    ["x", "1 == 1", "x > 'a'", "x.mean() > 1", "open('f') == 1", "x + 1 > 2", "[1] in x", "x in [1] == 1",
     "lambda: 1", "x > 1 if x else 0", "(x > 1) & (x < 2)", "missing(x, x)", "len(x) > 1", "x[0] > 1", "x in []",
     "x > (1, 2)", "x in [y]"],
)
def test_filter_rejects_anything_but_conditions(text):
    with pytest.raises(ValueError):
        compile_where(text)


def test_sample_filters_keep_the_rows_they_say(archive, specs):
    p = archive.periods
    m = _by_id(specs)
    kept = apply_sample(p, m["t2_no_world_wars"])
    assert len(kept) == (~p.warnum.isin([106, 139])).sum() and not kept.warnum.isin([106, 139]).any()
    assert len(kept) < len(p)
    kept = apply_sample(p, m["a1_no_noncoordinated"])
    dropped = p.index.difference(kept.index)
    assert len(dropped) > 0 and ((p.loc[dropped, "warnum"] == 108) & (p.loc[dropped, "side"] == 2)).all()
    assert len(kept) == len(p) - ((p.warnum == 108) & (p.side != 1)).sum()
    kept = apply_sample(p, m["a1_no_minor_participants"])
    assert len(kept) == ((p.contribpc > 0.1) | p.contribpc.isna()).sum()  # Stata keeps missing contribpc
    assert kept.contribpc.isna().any() and (kept.contribpc.dropna() > 0.1).all()
    assert len(apply_sample(p, m["a4_first_day"])) == (p.warday == 1).sum() > 0
    assert len(apply_sample(p, m["a4_last_day"])) == p.idvar.nunique()
    assert apply_sample(p, m["t2_full"]) is p


def test_war_ending_recode(archive, specs):
    p = archive.periods
    spec = _by_id(specs)["a1_no_war_ending_exits"]
    before = p["withdraw"].copy()
    out = apply_recode(p, spec)
    ending = p.warnum.isin([22, 28, 155])
    assert before[ending].sum() >= 3  # every war-ending war has its exit in the synthetic archive
    assert (out.loc[ending, "withdraw"] == 0).all()
    assert (out.loc[~ending, "withdraw"] == before[~ending]).all()
    assert (p["withdraw"] == before).all()  # the input is unchanged
    assert len(out) == len(p) and out["withdraw"].dtype == p["withdraw"].dtype
    assert apply_recode(p, _by_id(specs)["t2_full"]) is p


# --------------------------------------------------------------------------- the runner
def test_runner_counts_follow_the_samples(archive, specs):
    p = archive.periods
    ids = ["t2_full", "t2_no_world_wars", "a1_no_war_ending_exits", "a1_no_noncoordinated",
           "a1_no_minor_participants", "a1a_alt_importance", "a4_first_day", "a4_last_day", "t2_voluntary"]
    est, fits = run_models(p, archive.variables, select_specs(specs, ids=ids), track="original", coding="test")
    f = fits.set_index("model_id")
    assert list(fits.columns) == FIT_COLUMNS and list(est.columns) == ESTIMATE_COLUMNS
    assert (fits.status == "ok").all() and (fits.coding == "test").all()
    exits = int(p.withdraw.sum())
    assert f.loc["t2_full", "n_failures"] == exits
    assert f.loc["t2_voluntary", "n_failures"] == int(p.volunt.sum()) < exits
    ww = p.warnum.isin([106, 139])
    assert f.loc["t2_no_world_wars", "n_obs"] == (~ww).sum()
    assert f.loc["t2_no_world_wars", "n_failures"] == p.loc[~ww, "withdraw"].sum()
    ending = p.warnum.isin([22, 28, 155])
    assert f.loc["a1_no_war_ending_exits", "n_failures"] == exits - p.loc[ending, "withdraw"].sum()
    assert f.loc["a1_no_war_ending_exits", "n_obs"] == len(p)
    assert f.loc["a1_no_noncoordinated", "n_obs"] == len(p) - ((p.warnum == 108) & (p.side == 2)).sum()
    assert f.loc["a1_no_minor_participants", "n_obs"] == ((p.contribpc > 0.1) | p.contribpc.isna()).sum()
    # contribpc as a covariate: listwise deletion of its missing values, said in the message
    assert f.loc["a1a_alt_importance", "n_obs"] == p.contribpc.notna().sum()
    assert "dropped for missing values" in f.loc["a1a_alt_importance", "message"]
    assert f.loc["a4_first_day", "n_obs"] == (p.warday == 1).sum()
    assert f.loc["a4_last_day", "n_obs"] == p.idvar.nunique() and pd.isna(f.loc["a4_last_day", "n_failures"])
    assert est.loc[est.model_id == "a4_first_day", "hazard_ratio"].isna().all()
    cox = est[est.model_id == "t2_full"]
    assert np.allclose(cox.hazard_ratio, np.exp(cox.estimate))
    assert (cox.conf_low < cox.estimate).all() and (cox.estimate < cox.conf_high).all()


def test_unavailable_variable_makes_a_model_not_estimable(archive, specs):
    variables = archive.variables.copy()
    variables.loc[variables.variable == "ctrend60", "status"] = "not_available"
    variables.loc[variables.variable == "foverlap", "status"] = "proxy"
    periods = archive.periods.drop(columns=["otrend60"])
    sel = select_specs(specs, tables=["1", "2"])
    est, fits = run_models(periods, variables, sel, track="rebuilt")
    f = fits.set_index("model_id")
    assert fits.model_id.tolist() == [s.id for s in sel]  # never dropped
    for mid in ("t1_exit_coalition_trend", "t2_full", "t2_no_world_wars"):
        assert f.loc[mid, "status"] == "not_estimable"
        assert "not available in the rebuilt track: ctrend60 (not_available)" in f.loc[mid, "message"]
    assert f.loc["t1_exit_own_trend", "status"] == "not_estimable"
    assert "otrend60 (not in the data)" in f.loc["t1_exit_own_trend", "message"]
    assert f.loc["t2_controls", "status"] == "ok" and f.loc["t2_controls", "proxies"] == ""
    assert f.loc["t2_full", "proxies"] == "foverlap"
    ne = est[est.model_id == "t2_full"]
    assert ne.term.tolist() == list(FULL) and ne.estimate.isna().all()
    assert ne.set_index("term")["proxy"].to_dict() == {t: t == "foverlap" for t in FULL}
    assert not est.loc[est.model_id == "t2_controls", "proxy"].any()
    assert pd.isna(f.loc["t2_full", "n_obs"])


def test_a_fit_that_cannot_work_is_a_status(archive, specs):
    p = archive.periods.copy()
    p["demdum"] = 0  # no variation: the model is not identified
    p.loc[p.warnum.isin([106, 139]), "volunt"] = 0
    sel = select_specs(specs, ids=["t2_full", "t2_controls", "a2_polity"])
    est, fits = run_models(p, archive.variables, sel, track="original")
    f = fits.set_index("model_id")
    assert f.loc["t2_full", "status"] == "not_estimable" and "demdum" in f.loc["t2_full", "message"]
    assert f.loc["a2_polity", "status"] == "ok"  # polity2 replaces demdum
    q = archive.periods.copy()
    q["withdraw"] = 0  # no exits at all
    _, fits = run_models(q, archive.variables, sel, track="original")
    assert (fits.status == "not_estimable").all() and fits.message.str.contains("no events").all()


def test_records_after_a_failure_are_not_at_risk(specs):
    # idvar 1 exits on its 2nd record but has a 3rd (as stset's default exit(failure) treats it)
    rows = []
    rng = np.random.default_rng(5)
    for i in range(1, 31):
        for k, day in enumerate((10, 20, 30)):
            rows.append(dict(idvar=i, warday=day, finalobs=int(k == 2), coalid=i % 6, withdraw=0, volunt=0,
                             foverlap=rng.random(), ctrend60=rng.normal()))
    df = pd.DataFrame(rows)
    for i, day in ((2, 30), (3, 30), (4, 30), (5, 30), (6, 30), (7, 30)):
        df.loc[(df.idvar == i) & (df.warday == day), "withdraw"] = 1
    df.loc[(df.idvar == 1) & (df.warday == 20), "withdraw"] = 1
    p = build_periods(df)
    spec = _by_id(specs)["t1_exit_coalition_trend"]
    _, fits = run_models(p, None, [spec], track="original")
    row = fits.iloc[0]
    assert row["status"] == "ok"
    assert row["n_obs"] == len(p) - 1 and row["n_failures"] == 7
    assert "1 record(s) after a participant's first failure are not at risk" in row["message"]


def test_duplicate_ids_and_bad_track_are_errors(archive, specs):
    s = _by_id(specs)["t2_full"]
    with pytest.raises(CoalitionsError, match="duplicate model id"):
        run_models(archive.periods, archive.variables, [s, s], track="original")
    with pytest.raises(CoalitionsError, match="track"):
        run_models(archive.periods, archive.variables, [s], track="")


# --------------------------------------------------------------------------- published values
def test_published_values_file_has_every_model_and_no_invented_number(specs):
    specs = [s for s in specs if s.table != "X"]  # the project's own models have no published values
    raw = pd.read_csv(PUBLISHED_CSV, dtype=str, keep_default_na=False)
    assert list(raw.columns) == list(PUBLISHED_COLUMNS)
    for c in ("estimate", "std_error", "n_subjects", "n_failures", "page"):
        assert (raw[c] == "").all(), f"column {c} has a value although the published tables were not read"
    pub = load_published(PUBLISHED_CSV, specs)
    assert pub[["estimate", "std_error", "n_subjects", "n_failures"]].isna().all().all()
    assert set(pub.model_id) == {s.id for s in specs}
    have = set(zip(pub.model_id, pub.term))
    for s in specs:
        wanted = s.key_terms if s.sweep else s.terms  # Figure 5 shows only the window's estimate
        assert {(s.id, t) for t in wanted} <= have, s.id
        assert set(pub.loc[pub.model_id == s.id, "table"]) == {s.table}
    assert (pub.source_note != "").all()


def test_published_values_loader_checks_the_file(tmp_path, specs):
    raw = pd.read_csv(PUBLISHED_CSV, dtype=str, keep_default_na=False)
    good = raw.copy()
    good.loc[0, "estimate"] = "-1.25"
    good.to_csv(tmp_path / "ok.csv", index=False)
    assert load_published(tmp_path / "ok.csv", specs).loc[0, "estimate"] == -1.25
    bad = raw.copy()
    bad.loc[3, "std_error"] = "0,41"
    bad.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(CoalitionsError, match=r"line 5, column 'std_error': '0,41' is not a number"):
        load_published(tmp_path / "bad.csv", specs)
    unk = raw.copy()
    unk.loc[0, "model_id"] = "t7_made_up"
    unk.to_csv(tmp_path / "unk.csv", index=False)
    with pytest.raises(CoalitionsError, match="unknown model_id 't7_made_up'"):
        load_published(tmp_path / "unk.csv", specs)
    term = raw.copy()
    term.loc[0, "term"] = "pvict"
    term.to_csv(tmp_path / "term.csv", index=False)
    with pytest.raises(CoalitionsError, match="'pvict' is not a term of model 't1_exit_coalition_trend'"):
        load_published(tmp_path / "term.csv", specs)


# --------------------------------------------------------------------------- independent check with R
_R_SCRIPT = r"""
suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
# stset warday, id(idvar): each record covers (previous warday, warday], the first from 0
d <- d[order(d$idvar, d$warday), ]
d$start <- ave(d$warday, d$idvar, FUN = function(x) c(0, head(x, -1)))
d$stop <- d$warday
full <- c("foverlap", "ctrend60", "pvict", "imptce", "recexit", "demdum", "newlead", "sepdum")
runs <- list(
  t2_full = list(data = d, covs = full, y = "withdraw"),
  t2_voluntary = list(data = d, covs = full, y = "volunt"),
  t2_no_world_wars = list(data = d[d$warnum != 106 & d$warnum != 139, ], covs = full, y = "withdraw"),
  a1_no_noncoordinated = list(data = d[d$warnum != 108 | d$side == 1, ], covs = full, y = "withdraw"),
  # Stata: contribpc > .1 is true for a missing contribpc
  a1_no_minor_participants = list(data = d[is.na(d$contribpc) | d$contribpc > 0.1, ], covs = full, y = "withdraw"),
  a1a_alt_importance = list(data = d, covs = sub("imptce", "contribpc", full), y = "withdraw"),
  a1_no_war_ending_exits = list(data = transform(d, withdraw = ifelse(warnum %in% c(22, 28, 155), 0, withdraw)),
                                covs = full, y = "withdraw")
)
out <- list()
for (id in names(runs)) {
  r <- runs[[id]]
  dd <- r$data[complete.cases(r$data[, c(r$covs, "coalid")]), ]
  dd$event <- dd[[r$y]]
  f <- as.formula(paste("Surv(start, stop, event) ~", paste(r$covs, collapse = " + ")))
  fit <- coxph(f, data = dd, ties = "breslow", cluster = coalid,
               control = coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 100))
  G <- length(unique(dd$coalid))
  out[[id]] <- data.frame(model_id = id, term = names(coef(fit)), coef = unname(coef(fit)),
                          se = sqrt(diag(fit$var) * G / (G - 1)), n = fit$n, nevent = fit$nevent)
}
write.csv(do.call(rbind, out), args[2], row.names = FALSE)
"""


def _r_available() -> bool:
    if shutil.which("Rscript") is None:
        return False
    r = subprocess.run(["Rscript", "-e", "quit(status = as.integer(!requireNamespace('survival', quietly = TRUE)))"],
                       capture_output=True)
    return r.returncode == 0


@pytest.mark.needs_r
def test_original_track_matches_r_survival(tmp_path, archive, specs):
    """The whole chain -- intervals, filters with Stata's missing rule, the recode, Breslow ties and
    the clustered variance times G/(G-1) -- against R's coxph on intervals R builds itself."""
    if not _r_available():
        pytest.skip("Rscript with the survival package is not available")
    raw = pd.read_stata(archive.path, convert_categoricals=False)
    raw.to_csv(tmp_path / "records.csv", index=False)
    (tmp_path / "check.R").write_text(_R_SCRIPT, encoding="utf-8")
    subprocess.run(["Rscript", str(tmp_path / "check.R"), str(tmp_path / "records.csv"), str(tmp_path / "r.csv")],
                   check=True, capture_output=True, timeout=300)
    ref = pd.read_csv(tmp_path / "r.csv")
    ids = list(dict.fromkeys(ref.model_id))
    est, fits = run_models(archive.periods, archive.variables, select_specs(specs, ids=ids), track="original")
    merged = ref.merge(est, on=["model_id", "term"], how="left", validate="one_to_one")
    assert merged.estimate.notna().all()
    np.testing.assert_allclose(merged.estimate, merged.coef, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(merged.std_error, merged.se, rtol=1e-5, atol=1e-8)
    n = ref.groupby("model_id")[["n", "nevent"]].first()
    f = fits.set_index("model_id")
    assert (f.loc[n.index, "n_obs"].to_numpy() == n.n.to_numpy()).all()
    assert (f.loc[n.index, "n_failures"].to_numpy() == n.nevent.to_numpy()).all()


def test_a_diverging_coefficient_is_withheld(archive, specs):
    # foverlap == 1 exactly for every participant that never exits: monotone likelihood
    p = archive.periods.copy()
    exits = p.groupby("idvar")["withdraw"].transform("max") == 1
    p["foverlap"] = np.where(exits, 0.0, 1.0)
    est, fits = run_models(p, archive.variables, select_specs(specs, ids=["t1_exit_coalition_trend"]),
                           track="original")
    assert fits.loc[0, "status"] == "not_estimable" and "infinite" in fits.loc[0, "message"]
    assert est["estimate"].isna().all() and est["std_error"].isna().all()

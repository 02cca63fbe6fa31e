"""Henke's Stata logs: the SMCL parser, and her published numbers and specifications read from them.

Her logs cannot be downloaded here: every log below is SYNTHETIC, written by tests/helpers/smcl.py in the
markup Stata writes (and saying SYNTHETIC TEST LOG); the archive around them is served by the fake
Dataverse of tests/helpers/dataverse.py.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coalitions import fetch as F
from coalitions.henke.logs import (
    archive_logs,
    log_specs,
    published_from_logs,
    published_with_logs,
    run_original_track,
)
from coalitions.henke.models import ESTIMATES_SCHEMA, FITS_SCHEMA, load_specs
from coalitions.henke.original import SYNTHETIC_LABEL, archive_files
from coalitions.henke.smcl import parse_command, parse_smcl, read_smcl, render_line
from coalitions.schema import validate
from coalitions.util import CoalitionsError
from helpers.dataverse import FakeDataverse, FakeFile
from helpers.smcl import Spec, write_log

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "config" / "models" / "henke.yaml"
LOGIT = Spec("logit", "joined", ["embeddedness_igo_plus_alliances", "defense", "polity2"], n_obs=1471,
             n_clusters=158, continuation=True)
PROBIT = Spec("probit", "joined", ["embeddedness", "defense", "cinc"], n_obs=1203, n_clusters=131,
              omitted=["cinc"])


# ---------------------------------------------------------------------------------------------- rendering
@pytest.mark.parametrize("smcl,text", [
    ("{hline 5}{c +}{hline 3}", "-----+---"),
    ("{txt}ab{col 6}{c |}x", "ab   |x"),
    ("{ralign 6:ab}|{lalign 4:c}|{center 5:d}|", "    ab|c   |  d  |"),
    ("{space 3}{res:1.5}{txt} and {it:x}{* a comment}", "   1.5 and x"),
    ("{dup 3:ab}{c -(}{c )-}{c 0x41}", "ababab{}A"),
    ("{ralign 20:(adjusted {res:12} clusters)}", "(adjusted 12 clusters)"),
    ("{help logit:logit} {stata summarize:run}", "logit run"),
])
def test_render_line(smcl, text):
    assert render_line(smcl)[0] == text


def test_render_line_keeps_the_mode():
    assert render_line("{com}. logit y x")[1:] == ("com", "com")
    assert render_line("{txt}Iteration 0: {res}-1.5")[1:] == ("txt", "res")
    assert render_line("   x", mode="err")[1] == "err"


# ---------------------------------------------------------------------------------------------- commands
@pytest.mark.parametrize("cmd,want", [
    ("logit joined embed defense, vce(cluster ccode)",
     {"estimator": "logit", "outcome": "joined", "covariates": ("embed", "defense"), "vce": "cluster",
      "cluster": "ccode"}),
    ("probit y x1 x2 if year > 1990 & !missing(x1), cluster(cow) nolog",
     {"estimator": "probit", "condition": "if year > 1990 & !missing(x1)", "vce": "cluster", "cluster": "cow"}),
    ("logit y x [pw=w], robust", {"weight": "[pw=w]", "vce": "robust", "cluster": None}),
    ("xi: logit y i.region x, vce(cl ccode)", {"prefix": "xi:", "covariates": ("i.region", "x"), "cluster": "ccode"}),
    ("eststo m1: clogit y x, group(op)", {"estimator": "clogit", "prefix": "eststo m1:", "vce": "oim"}),
    ("reg y x", {"estimator": "regress"}),
])
def test_parse_command(cmd, want):
    got = parse_command(cmd)
    assert got is not None
    for k, v in want.items():
        assert got[k] == v, (k, got)


@pytest.mark.parametrize("cmd", ["quietly logit y x", "qui probit y x", "summarize x", "tabulate y", "use a.dta"])
def test_non_estimations_and_quiet_ones_are_not_estimations(cmd):
    assert parse_command(cmd) is None


# ---------------------------------------------------------------------------------------------- a whole log
@pytest.fixture()
def log(tmp_path):
    path = tmp_path / "synthetic.smcl"
    printed = write_log(path, [LOGIT, PROBIT], seed=3)
    return read_smcl(path), printed


def test_every_number_of_a_generated_log_is_recovered_exactly(log):
    parsed, printed = log
    assert parsed.synthetic and parsed.header["log type"] == "smcl"
    assert [e.estimator for e in parsed.estimations] == ["logit", "probit"]  # quietly / tabulate skipped
    for est, want in zip(parsed.estimations, printed):
        assert est.command == want["command"]
        assert (est.outcome, list(est.covariates)) == (want["outcome"], want["covariates"])
        assert (est.vce, est.cluster) == ("cluster", want["cluster"])
        assert est.title == want["title"] and est.n_obs == want["n_obs"] and est.n_clusters == want["n_clusters"]
        assert est.loglik == float(want["loglik"]) and est.loglik_kind == want["loglik_kind"]
        assert est.pseudo_r2 == float(want["pseudo_r2"])
        assert (est.chi2_kind, est.chi2_df, est.chi2, est.prob_chi2) == ("Wald", want["chi2_df"], float(want["chi2"]), 0.0)
        assert (est.coef_label, est.se_label, est.stat_label, est.depvar_in_table) == (
            "Coef.", "Robust Std. Err.", "z", "joined")
        assert [c.term for c in est.coefficients] == [*want["covariates"], "_cons"]
        for c in est.coefficients:
            cells = want["terms"][c.term]
            got = [c.estimate, c.std_error, c.statistic, c.p_value, c.conf_low, c.conf_high]
            if cells is None:
                assert got == [None] * 6 and c.note == "omitted"
            else:
                assert got == [float(x) for x in cells] and list(c.printed) == cells
    # a long name is abbreviated in the table and resolved against the command's varlist
    first = parsed.estimations[0].coefficients[0]
    assert first.printed_term == "embeddedne~s" and first.term == "embeddedness_igo_plus_alliances"
    assert parsed.estimations[1].notes == ["note: cinc omitted because of collinearity"]
    # the command was written over two lines: "> " continuation joined
    assert parsed.estimations[0].line < parsed.estimations[1].line


def test_a_failed_estimation_and_a_non_smcl_file(tmp_path):
    text = ("{smcl}\n{com}. logit joined nosuchvar, vce(cluster ccode)\n"
            "{err}variable {bf}nosuchvar{sf} not found\n{txt}{search r(111), local:r(111);}\n")
    est = parse_smcl(text).estimations[0]
    assert not est.has_table and "nosuchvar" in est.error
    with pytest.raises(CoalitionsError, match="not an SMCL log"):
        parse_smcl("plain text, no markup\n", "x.log")
    with pytest.raises(CoalitionsError, match="Stata log not found"):
        read_smcl(tmp_path / "none.smcl")


# ---------------------------------------------------------------------------------------------- the archive
NEW_LOG = [Spec("logit", "joined", ["embeddedness", "defense", "polity2"], n_obs=960, n_clusters=120),
           Spec("probit", "joined", ["embeddedness", "defense", "polity2"], n_obs=960, n_clusters=120)]
LAKE_LOG = [Spec("logit", "participation", ["embeddedness", "security_hierarchy"], n_obs=960, n_clusters=120),
            # a variable her session generated, not in the data file
            Spec("probit", "participation", ["embeddedness", "generated_var"], n_obs=960, n_clusters=120)]


def _dta(path: Path, outcome: str, covariates: list[str], seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    n = 960
    df = pd.DataFrame({"ccode": np.repeat(np.arange(1, 121) * 10, 8).astype("int32")})
    for c in covariates:
        df[c] = rng.normal(size=n)
    eta = -2 + 0.5 * df[covariates[0]]
    df[outcome] = (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype("int8")
    df.to_stata(path, write_index=False, data_label=SYNTHETIC_LABEL, version=118)
    return path.read_bytes()


@pytest.fixture()
def archive(tmp_path, registry):
    """A SYNTHETIC Henke archive fetched from the fake Dataverse: two .dta files, two SMCL logs (the Lake log
    also holds a command with an if-condition, which cannot be re-estimated), the operations document."""
    src = registry.archives()["henke2017"]
    work = tmp_path / "make"
    work.mkdir()
    new_printed = write_log(work / "new.smcl", NEW_LOG, seed=1)
    lake_path = work / "lake.smcl"
    lake_printed = write_log(lake_path, LAKE_LOG, seed=2)
    text = lake_path.read_text(encoding="utf-8").replace(
        "{com}. log close", "{com}. logit participation embeddedness if year > 1990, vce(cluster ccode)\n"
        "{txt}Logistic regression{col 49}Number of obs{col 67}= {res}       400\n\n{com}. log close")
    lake_path.write_text(text, encoding="utf-8")
    payload = {
        "new_dataset": _dta(work / "new.dta", "joined", ["embeddedness", "defense", "polity2"], 1),
        "lake_dataset": _dta(work / "lake.dta", "participation", ["embeddedness", "security_hierarchy"], 2),
        "log_new": (work / "new.smcl").read_bytes(), "log_lake": lake_path.read_bytes(),
        "operations": b"SYNTHETIC TEST DOCUMENT",
    }
    files = [FakeFile(e.persistent_id, e.basename, payload[k], tabular=k.endswith("dataset"))
             for k, e in src.files.items()]
    out = tmp_path / "resources" / "original" / "henke2017"
    with FakeDataverse(src.dataset_doi, files) as dv:
        status = F.fetch_archive(src, out, mirror=None, server=dv.base, retries=1, progress=False)
    assert status["available"], status
    return out, new_printed, lake_printed


def test_published_values_from_the_fetched_logs(archive):
    out, new_printed, lake_printed = archive
    logs = archive_logs(out)
    assert set(logs) == {"log_new", "log_lake"} and all(lg.synthetic for lg in logs.values())
    pub = published_from_logs(logs)
    assert set(pub["model_id"]) == {"log_new_01", "log_new_02", "log_lake_01", "log_lake_02"}  # not the tableless one
    for mid, want in (("log_new_01", new_printed[0]), ("log_new_02", new_printed[1]), ("log_lake_01", lake_printed[0])):
        sub = pub[pub["model_id"] == mid].set_index("term")
        for term, cells in want["terms"].items():
            assert sub.loc[term, "estimate"] == float(cells[0]) and sub.loc[term, "std_error"] == float(cells[1])
            assert sub.loc[term, "p_value"] == float(cells[3])
        assert (sub["n_obs"] == want["n_obs"]).all() and (sub["n_clusters"] == want["n_clusters"]).all()
        assert sub["source_note"].str.startswith("from a SYNTHETIC TEST LOG (not the author's)").all()
        assert sub["source_note"].str.contains(want["command"], regex=False).all()
    # the file's own (empty) rows stay; the log's are added
    config = pd.read_csv(ROOT / "config" / "published" / "henke2017.csv")
    merged = published_with_logs(config, out)
    assert len(merged) == len(config) + len(pub)


def test_the_logs_settle_the_original_track(archive):
    out, new_printed, _ = archive
    config_specs = load_specs(SPECS, "original")
    specs, table = log_specs(archive_logs(out))
    assert [s.id for s in specs] == ["log_new_01", "log_new_02", "log_lake_01", "log_lake_02"]
    s = specs[0]
    assert (s.estimator, s.outcome, s.covariates, s.cluster, s.dataset) == (
        "logit", "joined", ("embeddedness", "defense", "polity2"), "ccode", "new_dataset")
    bad = table[~table["reproducible"]]
    assert bad["model_id"].tolist() == ["log_lake_03"]
    assert "sample condition 'if year > 1990'" in bad["reason"].iloc[0]
    est, fits, table = run_original_track(out, archive_files(out), config_specs, allow_synthetic=True)
    assert set(fits["model_id"]) == {"log_new_01", "log_new_02", "log_lake_01", "log_lake_02", "log_lake_03"}
    st = fits.set_index("model_id")["status"]
    assert (st[["log_new_01", "log_new_02", "log_lake_01"]] == "ok").all()
    assert (st[["log_lake_02", "log_lake_03"]] == "not_estimable").all()
    msg = fits.set_index("model_id")["message"]
    assert "['generated_var'] are not in" in msg["log_lake_02"] and "if year > 1990" in msg["log_lake_03"]
    assert table.set_index("model_id")["reproducible"].to_dict() == {
        "log_new_01": True, "log_new_02": True, "log_lake_01": True, "log_lake_02": False, "log_lake_03": False}
    assert (fits.set_index("model_id").loc["log_new_01", "n_obs"]) == 960
    assert set(est["model_id"]) == {"log_new_01", "log_new_02", "log_lake_01"}
    # the rows of the estimations not re-estimated, concatenated to the fits, keep the schema's types
    validate(fits, FITS_SCHEMA)
    validate(est, ESTIMATES_SCHEMA)
    by_id = {s.id: s for s in specs}
    assert all(e.loc[e["key_term"], "term"].tolist() == [by_id[m].key_term] for m, e in est.groupby("model_id"))
    with pytest.raises(CoalitionsError, match="this is test data"):
        run_original_track(out, archive_files(out), config_specs)


def test_without_the_archive_there_are_no_log_values(tmp_path):
    (tmp_path / "status.json").write_text(json.dumps({"available": False, "reason": "offline", "files": {}}))
    assert archive_logs(tmp_path) == {}
    assert published_with_logs(None, tmp_path) is None
    assert archive_logs(tmp_path / "missing") == {}


def test_the_papers_published_column_is_filled_from_the_log(archive, tmp_path):
    from coalitions.paper import gather, render_paper
    from helpers.paper_fixture import PAPER_TEMPLATES, make_results, paper_inputs
    from test_paper import html_tables

    out, new_printed, _ = archive
    tree = make_results(tmp_path / "tree")
    dest = tree["archives"] / "henke2017"
    shutil.rmtree(dest)
    shutil.copytree(out, dest)
    ctx = gather(paper_inputs(tree), git_commit="0" * 16, source_date_epoch=1_700_000_000)
    paper = render_paper(ctx, tmp_path / "paper", templates=PAPER_TEMPLATES, pdf=False)
    tabs = html_tables(Path(paper["html"]))
    t = tabs["tab-henke-log-new-01"]
    assert "from a SYNTHETIC TEST LOG (not the author's)" in t["notes"]
    assert new_printed[0]["command"] in t["notes"]
    rows = {r[0]: r for r in t["rows"][2:] if r and r[0]}
    est, se = new_printed[0]["terms"]["defense"][:2]
    label = next(k for k in rows if k.lower().startswith("defence") or k == "defense")
    i = t["rows"].index(rows[label])
    assert rows[label][1].rstrip("*†") == f"{float(est):.3f}"
    assert t["rows"][i + 1][1] == f"({float(se):.3f})"

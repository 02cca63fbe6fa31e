"""Every bad input is refused with a clear message naming the file, key or row: a table of them.

One row per bad input or fault (``ROWS``): what is changed, the expected error text naming the
culprit, and the check that nothing was left that a later run would trust. Each row is run the
cheapest way that shows the real behaviour (see ``tests/helpers/bad_inputs.py``): the workflow's
Python function, ``snakemake -n`` or one small target in a scratch copy, or the Makefile with a
stand-in virtualenv. Rows tagged with an ``issue`` item are the faults that used to fail with a
traceback, a misleading message, or not at all; the others already worked and must keep working.
``test_the_suite_counts_its_bad_inputs`` counts the rows and checks that the README states the count.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from coalitions import fetch as F
from coalitions.guard import one_line
from coalitions.registry import Url
from helpers.bad_inputs import (
    Ctx,
    Outcome,
    Row,
    dry_run,
    expect_error,
    fake_venv,
    replace_text,
    run_make,
    run_smk,
    smk_outcome,
    start_up_outcome,
    untrusted,
    user_line,
)
from helpers.dataverse import FakeDataverse, FakeFile
from helpers.http import LocalServer, Reply, closed_port_url
from helpers.workflow import copy_workflow, snakemake

ROWS: list[Row] = []

#: the 22 items of the issue (5 defects, then the unclear cases 6-13 with their sub-cases)
ISSUE_ITEMS = (
    # accepted silently, unsafe, or trusted when corrupt (8)
    "1", "2", "3", "4.date", "4.duplicate_row", "4.fraction", "5", "8.header_only",
    # refused, but without saying what and where (14)
    "6", "7", "8.unknown_ccode", "8.non_utf8", "8.empty_file", "8.empty_side", "9", "10", "11",
    "12.unwritable", "12.full_disk", "13.cut_off", "13.directory", "13.python_tag",
)


def row(id: str, area: str, what: str, expect: str, *, issue: str | None = None, accepted: bool = False,
        via: str = "py"):
    def deco(fn):
        ROWS.append(Row(id, area, what, expect, fn, issue, accepted, via))
        return fn
    return deco


def add(id: str, area: str, what: str, expect: str, fn, **kw) -> None:
    row(id, area, what, expect, **kw)(fn)


WAR_PATH = "cow_interstate_war_v4.0/Inter-StateWarData_v4.0.csv"
BASE_TARGET = "results/baseline/weisiger/rebuilt/participants.csv"
QUICK = functools.partial(F.download, backoff=0.0)


def registry(ctx: Ctx):
    from coalitions.registry import load_registry

    return load_registry(ctx.root / "config" / "sources.yaml")


def war_entry(ctx: Ctx):
    return registry(ctx).file("cow_war", "participants")


# ================================================================================================
# 1. the Makefile: every value that reaches a shell is quoted (markers prove nothing ran)


def _make(ctx: Ctx, target: str, **variables: str) -> tuple[Outcome, Path]:
    work = ctx.scratch("mk")
    venv, record = fake_venv(work)
    marker = ctx.tmp / "MARKER"
    args = [target, f"VENV={venv}", *(f"{k}={v.replace('@MARKER@', str(marker))}" for k, v in variables.items())]
    proc = run_make(work, *args)
    got = record.read_text() if record.exists() else ""
    left = [str(marker)] if marker.exists() or (ctx.tmp / "MARKER2").exists() else []
    return Outcome(proc.returncode != 0, got + proc.stderr, got + proc.stdout + proc.stderr, left), marker


def _make_row(id, target, value, expect, what, issue="1"):
    def run(ctx: Ctx) -> Outcome:
        out, _ = _make(ctx, target, MIRROR=value)
        # the value arrived as one argument, verbatim, and no command in it ran (no marker file)
        return Outcome(False, out.message, out.output, out.leftovers)
    add(id, "Makefile", what, expect, run, issue=issue, accepted=True, via="make")


_make_row("make_backticks_report", "report", "/tmp/x`touch @MARKER@`",
          r"--config\nmirror=/tmp/x`touch .*MARKER`\n", "MIRROR with a command in backticks (make report)")
_make_row("make_dollar_paren_semicolon_paper", "paper", "/tmp/y$(touch @MARKER@); touch @MARKER@2",
          r"mirror=/tmp/y\$\(touch .*MARKER\); touch .*MARKER2\n",
          "MIRROR with $(...) and ; (make paper)")
_make_row("make_space_relative_test", "test", "my mirror/with space",
          r"COALITIONS_MIRROR=/.*/my mirror/with space\n", "relative MIRROR with spaces (make test)")
_make_row("make_quote_space_bench", "bench", "/m/it's a mirror|x",
          r"--mirror\n/m/it's a mirror\|x\n", "MIRROR with a quote, space and | (make bench)")
def _env_mirror(ctx: Ctx) -> Outcome:
    work = ctx.scratch("mk_env")
    venv, record = fake_venv(work)
    proc = run_make(work, "all", f"VENV={venv}", env={"COALITIONS_MIRROR": "/env/a $b `c`"})
    got = record.read_text() if record.exists() else ""
    return Outcome(False, got, got + proc.stderr, [])


add("make_env_mirror_all", "Makefile", "COALITIONS_MIRROR in the environment with $ and backticks (make all)",
    r"mirror=/env/a \$b `c`\n", _env_mirror, issue="1", accepted=True, via="make")


@row("make_configfile_duplicate", "Makefile", "CONFIGFILE with a duplicate key (make all)",
     r"dup conf\.yaml, line 2: duplicate key 'codings'", issue="1", via="make")
def _(ctx: Ctx) -> Outcome:
    work = ctx.scratch("mk_cf")
    venv, record = fake_venv(work)
    (work / "dup conf.yaml").write_text("codings: [baseline]\ncodings: [no_world_wars]\n")
    proc = run_make(work, "all", f"VENV={venv}", "CONFIGFILE=dup conf.yaml")
    # refused before Snakemake starts: the stand-in snakemake never recorded a call
    return Outcome(proc.returncode != 0, user_line(proc.stderr), proc.stderr, [str(record)] if record.exists() else [])


# ================================================================================================
# configuration: config/config.yaml, --config, --configfile (snakemake -n in a scratch copy)


def _cfg(id, setting, expect, what, smk=False, **kw):
    """A --config setting: through `snakemake -n` (smk) or the same start-up checks called directly."""
    if smk:
        add(id, "config", what, expect, lambda ctx: dry_run(ctx, *setting), via="smk", **kw)
    else:
        add(id, "config", what, expect, lambda ctx: start_up_outcome(ctx, setting), **kw)


_cfg("config_unknown_key", ["bogus=1"], r"config: \(top level\): .*'bogus' was unexpected",
     "an unknown key (--config bogus=1)", smk=True)
_cfg("config_bool_typo", ["require_original_archives=maybe"], r"'maybe' is not of type 'boolean'",
     "require_original_archives=maybe")
_cfg("config_dataverse_ftp", ["dataverse_server=ftp://example.org"], r"'ftp://example.org' does not match",
     "dataverse_server not http(s)")
_cfg("config_retries_zero", ["download={retries: 0}"], r"0 is less than the minimum of 1", "download.retries = 0")
_cfg("config_retries_word", ["download={retries: five}"], r"'five' is not of type 'integer'", "download.retries = five")
_cfg("config_timeout_negative", ["download={timeout: -1}"], r"-1(\.0)? is less than or equal to the minimum of 0",
     "download.timeout = -1")
_cfg("config_download_unknown", ["download={retry: 5}"], r"'retry' was unexpected", "download.retry (typo)")
_cfg("config_codings_empty", ["codings=[]"], r"\[\] should be non-empty", "an empty codings list")
_cfg("config_codings_badname", ["codings=[baseline,Bad-Name]"], r"'Bad-Name' does not match", "a coding name with capitals")
_cfg("config_coding_missing", ["codings=[baseline,no_such_coding]"],
     r"coding\(s\) \['no_such_coding'\] not found in config/codings", "a coding without its file")
_cfg("config_no_baseline", ["codings=[no_world_wars]"], r"`codings` must include baseline", "codings without baseline")
_cfg("config_paper_pdf", ["paper_pdf=sometimes"], r"config: paper_pdf: 'sometimes' is not one of", "paper_pdf=sometimes",
     smk=True)
_cfg("config_sources_missing", ["sources=config/nope.yaml"], r"config/nope\.yaml: file not found",
     "sources names a missing registry")
_cfg("config_require_true", ["require_original_archives=true"], r"accepted",
     "require_original_archives=true (as the README documents)", issue="6", accepted=True,
     smk=True)
_cfg("config_paper_pdf_true", ["paper_pdf=true"], r"accepted", "paper_pdf=true",
     issue="6", accepted=True)
_cfg("config_download_numbers", ["download={retries: 5, timeout: 2.5}"], r"accepted",
     "download={retries: 5, timeout: 2.5}", issue="6", accepted=True)


def _dup_config(w: Path) -> None:
    replace_text(w / "config/config.yaml", "  timeout: 60", "  timeout: 60\n  retries: 9")


add("config_duplicate_key", "config", "a duplicate key in config/config.yaml (download.retries twice)",
    r"config/config\.yaml, line \d+: duplicate key 'retries'", lambda ctx: dry_run(ctx, edit=_dup_config),
    issue="3", via="smk")


def _tabs(w: Path) -> None:
    replace_text(w / "config/config.yaml", "  retries: 3", "\tretries: 3")


add("config_tab_indent", "config", "a tab indentation in config/config.yaml",
    r"config/config\.yaml: not valid YAML at line \d+ .*tabs", lambda ctx: start_up_outcome(ctx, edit=_tabs))


def _configfile(ctx: Ctx, text: str, name: str = "my.yaml") -> Outcome:
    def edit(w: Path) -> None:
        (w / name).write_text(text)
    return dry_run(ctx, edit=edit, extra=["--configfile", name])


add("configfile_duplicate_key", "config", "--configfile with a duplicate key",
    r"my\.yaml, line 2: duplicate key 'require_original_archives'",
    lambda ctx: _configfile(ctx, "require_original_archives: false\nrequire_original_archives: true\n"),
    issue="3", via="smk")


def _cf_py(text: str):
    def run(ctx: Ctx) -> Outcome:
        return start_up_outcome(ctx, edit=lambda w: (w / "my.yaml").write_text(text), configfiles=["my.yaml"])
    return run


add("configfile_unknown_key", "config", "--configfile with an unknown key", r"config: \(top level\): .*'colour' was unexpected",
    _cf_py("colour: red\n"))
add("configfile_wrong_type", "config", "--configfile with codings: baseline (not a list)",
    r"config: codings: 'baseline' is not of type 'array'", _cf_py("codings: baseline\n"))


@row("configfile_missing", "config", "make CONFIGFILE= naming a missing file", r"nowhere\.yaml: file not found",
     via="make")
def _(ctx: Ctx) -> Outcome:
    work = ctx.scratch("mk_missing")
    venv, record = fake_venv(work)
    proc = run_make(work, "paper", f"VENV={venv}", "CONFIGFILE=nowhere.yaml")
    return Outcome(proc.returncode != 0, user_line(proc.stderr), proc.stderr, [str(record)] if record.exists() else [])


@row("configfile_python_tag", "config", "--configfile with a !!python/object tag (would create a marker)",
     r"tag\.yaml, line 1: the YAML tag !!python/object/apply:os\.system is not allowed", issue="13.python_tag",
     via="smk")
def _(ctx: Ctx) -> Outcome:
    marker = ctx.tmp / "PWNED"
    text = f'paper_pdf: !!python/object/apply:os.system ["touch {marker}"]\n'
    out = _configfile(ctx, text, "tag.yaml")
    # Snakemake reads a --configfile before the workflow starts and refuses the tag in its own words;
    # `make CONFIGFILE=` and `python -m coalitions.guard FILE` name the line and the tag
    from coalitions.guard import main

    (ctx.tmp / "tag.yaml").write_text(text)
    err = subprocess.run([sys.executable, "-m", "coalitions.guard", str(ctx.tmp / "tag.yaml")],
                         capture_output=True, text=True)
    assert main([str(ctx.tmp / "tag.yaml")]) == 1
    left = out.leftovers + ([str(marker)] if marker.exists() else [])
    return Outcome(out.refused and err.returncode == 1, user_line(err.stderr), out.output + err.stderr, left)


# ================================================================================================
# duplicate keys in every YAML file the workflow reads (3)


def _py_dup(ctx: Ctx, rel: str, anchor: str, dup: str, loader) -> Outcome:
    work = ctx.scratch("dup")
    replace_text(work / rel, anchor, anchor + dup)
    return expect_error(loader, work)


add("dup_coding", "YAML", "a coding file with exit_tolerance_days: 30 and then 0",
    r"exit_tolerance_30\.yaml, line \d+: duplicate key 'exit_tolerance_days'",
    lambda ctx: dry_run(ctx, "codings=[baseline,exit_tolerance_30]", edit=lambda w: replace_text(
        w / "config/codings/exit_tolerance_30.yaml", "exit_tolerance_days: 30",
        "exit_tolerance_days: 30\n  exit_tolerance_days: 0")), issue="3", via="smk")


def _load_wmodels(w):
    from coalitions.weisiger.specs import load_specs
    return load_specs(w / "config/models/weisiger.yaml")


def _load_hmodels(w):
    from coalitions.henke.models import load_specs
    return load_specs(w / "config/models/henke.yaml", "rebuilt")


def _load_mv(w):
    from coalitions.multiverse import load_multiverse
    return load_multiverse(w / "config/multiverse.yaml", root=w)


def _load_reg(w):
    from coalitions.registry import load_registry
    return load_registry(w / "config/sources.yaml")


add("dup_models_weisiger", "YAML", "config/models/weisiger.yaml: a model's outcome twice",
    r"weisiger\.yaml, line \d+: duplicate key 'outcome'",
    lambda ctx: _py_dup(ctx, "config/models/weisiger.yaml", "    outcome: withdraw\n", "    outcome: volunt\n",
                        _load_wmodels), issue="3")
add("dup_models_henke", "YAML", "config/models/henke.yaml: a label twice",
    r"henke\.yaml, line \d+: duplicate key 'defense'",
    lambda ctx: _py_dup(ctx, "config/models/henke.yaml", "  defense: Defence alliance with the US\n",
                        "  defense: Alliance\n", _load_hmodels), issue="3")
add("dup_multiverse", "YAML", "config/multiverse.yaml: a study section twice",
    r"multiverse\.yaml, line \d+: duplicate key 'weisiger'",
    lambda ctx: _py_dup(ctx, "config/multiverse.yaml", "", "weisiger: {}\n", _load_mv), issue="3")
add("dup_sources", "YAML", "config/sources.yaml: a file's sha256 twice",
    r"sources\.yaml, line \d+: duplicate key 'sha256'",
    lambda ctx: _py_dup(ctx, "config/sources.yaml", "        path: cow_interstate_war_v4.0/Inter-StateWarData_v4.0.csv\n",
                        "        sha256: " + "0" * 64 + "\n", _load_reg), issue="3")
add("yaml_not_utf8", "YAML", "a coding file with a Latin-1 byte", r"no_world_wars\.yaml, line \d+: not UTF-8",
    lambda ctx: _coding(ctx, "no_world_wars", lambda p: p.write_bytes(p.read_bytes().replace(b"label:", b"label: \xe9t\xe9 ", 1))))


# ================================================================================================
# coding files (checked when the workflow starts)


def _coding(ctx: Ctx, name: str, edit) -> Outcome:
    from coalitions.codings import load_coding

    work = ctx.scratch("coding")
    edit(work / "config/codings" / f"{name}.yaml")
    return expect_error(load_coding, work / "config/codings" / f"{name}.yaml", root=work)


def _set(text: str):
    def edit(p: Path) -> None:
        p.write_text(p.read_text() + text)
    return edit


def _section(name_text: str):
    """Replace the coding's weisiger section by ``name_text`` (YAML lines)."""
    def edit(p: Path) -> None:
        t = p.read_text()
        head = t.split("\nweisiger:")[0].split("\nhenke:")[0]
        p.write_text(head + "\n" + name_text)
    return edit


for _id, _what, _sec, _exp in [
    ("coding_unknown_param", "an unknown Weisiger parameter", "weisiger:\n  exit_tolerance_dayz: 30\n",
     r"unknown Weisiger coding parameter\(s\) \['exit_tolerance_dayz'\]"),
    ("coding_param_type", "a word where a number is due", "weisiger:\n  exit_tolerance_days: thirty\n",
     r"parameter 'exit_tolerance_days' must be a whole number, got 'thirty'"),
    ("coding_param_range", "minor_threshold 2 (not a share)", "weisiger:\n  minor_threshold: 2\n",
     r"parameter 'minor_threshold' must be a share between 0 and 1"),
    ("coding_param_choice", "second_spells: sometimes", "weisiger:\n  second_spells: sometimes\n",
     r"parameter 'second_spells' must be one of"),
    ("coding_drop_minor_text", "drop_minor: 'yes' (text)", "weisiger:\n  drop_minor: 'yes'\n", r"drop_minor"),
    ("coding_exclude_side_3", "exclude_sides with side 3", "weisiger:\n  exclude_sides: [{warnum: 108, side: 3}]\n",
     r"exclude_sides\.0\.side: 3 is not one of \[1, 2\]"),
    ("coding_exclude_wars_text", "exclude_wars: [WWI]", "weisiger:\n  exclude_wars: [WWI]\n",
     r"parameter 'exclude_wars' must be a list of COW war numbers"),
    ("coding_censor_case_side", "censor_cases with side 0",
     "weisiger:\n  censor_cases: [{warnum: 22, ccode: 220, side: 0, reason: test}]\n",
     r"censor_cases\[0\]' side must be 1 or 2"),
    ("coding_censor_case_reason", "censor_cases without a reason",
     "weisiger:\n  censor_cases: [{warnum: 22, ccode: 220, side: 1}]\n", r"censor_cases\[0\]': 'reason' must be"),
    ("coding_case_file_missing", "censor_case_files naming a missing file",
     "weisiger:\n  censor_case_files: [config/cases/no_such_file.csv]\n", r"no_such_file\.csv not found"),
    ("coding_henke_unknown", "an unknown Henke parameter", "henke:\n  embedednes: igo_only\n", r"embedednes"),
    ("coding_henke_value", "a Henke value not allowed", "henke:\n  embeddedness: bilateral\n", r"embeddedness.*bilateral|bilateral.*embeddedness"),
    ("coding_top_unknown", "an unknown top-level key", "colour: red\n", r"'colour' was unexpected"),
    ("coding_weisiger_list", "a weisiger section that is a list", "weisiger: [1, 2]\n",
     r"weisiger: \[1, 2\] is not of type 'object', 'null'"),
]:
    add(_id, "coding", _what, r"no_world_wars\.yaml.*" + _exp, functools.partial(
        lambda ctx, sec: _coding(ctx, "no_world_wars", _section(sec)), sec=_sec))

add("coding_name_mismatch", "coding", "name differs from the file name",
    r"no_world_wars\.yaml: name 'other' must equal the file name",
    lambda ctx: _coding(ctx, "no_world_wars", lambda p: replace_text(p, "name: no_world_wars", "name: other")))


# -- wars, sides and countries a coding names must exist in the data (2): one job each, in a built copy


def _coding_job(ctx: Ctx, name: str, body: str, target: str, track: str = "rebuilt") -> Outcome:
    work = ctx.built(f"job_{name}")
    p = work / "config/codings" / f"{name}.yaml"
    head = p.read_text().split("\nweisiger:")[0]
    p.write_text(head + "\n" + body)
    outs = [f"results/{name}/weisiger/{track}/{f}" for f in ("periods.parquet", "participants.csv", "applicability.csv")]
    return smk_outcome(work, ["--cores", "1", target, "--config", f"mirror={ctx.mirror}",
                              f"codings=[baseline,{name}]"], absent=outs)


add("coding_exclude_war_9999", "coding", "exclude_wars: [9999] (no such war)",
    r"no_world_wars\.yaml: weisiger: exclude_wars\[0\]: war 9999 is not in the COW inter-state war data",
    lambda ctx: _coding_job(ctx, "no_world_wars", "weisiger:\n  exclude_wars: [9999]\n",
                            "results/no_world_wars/weisiger/rebuilt/participants.csv"), issue="2", via="smk")
add("coding_exclude_side_9999", "coding", "exclude_sides: [{warnum: 9999, side: 1}]",
    r"no_noncoordinated\.yaml: weisiger: exclude_sides\[0\]: war 9999 is not in the COW inter-state war data",
    lambda ctx: _coding_job(ctx, "no_noncoordinated", "weisiger:\n  exclude_sides: [{warnum: 9999, side: 1}]\n",
                            "results/no_noncoordinated/weisiger/rebuilt/participants.csv"), issue="2", via="smk")
def _names_in_war(ctx: Ctx, body: str) -> Outcome:
    """The check the Weisiger jobs run before building (coalitions.weisiger.case_guard), called directly."""
    from coalitions.codings import load_coding
    from coalitions.weisiger.case_guard import check_coding_against_war

    work = ctx.scratch("names")
    p = work / "config/codings/no_world_wars.yaml"
    p.write_text(p.read_text().split("\nweisiger:")[0] + "\n" + body)
    coding = load_coding(p, root=work)
    war = pd.read_parquet(ctx.prepared / "results/sources/cow_war_participants.parquet")
    return expect_error(check_coding_against_war, coding.weisiger_resolved, war,
                        "config/codings/no_world_wars.yaml: weisiger")


add("coding_censor_case_unknown_state", "coding", "censor_cases naming ccode 999 in war 22",
    r"no_world_wars\.yaml: weisiger: censor_cases\[0\] \(test\): war 22, ccode 999, side 1 is not a participant",
    lambda ctx: _names_in_war(ctx, "weisiger:\n  censor_cases: [{warnum: 22, ccode: 999, side: 1, reason: test}]\n"))
add("coding_exclude_war_zero", "coding", "exclude_wars: [0]",
    r"no_world_wars\.yaml: weisiger: exclude_wars\[0\]: war 0 is not in the COW inter-state war data",
    lambda ctx: _names_in_war(ctx, "weisiger:\n  exclude_wars: [106, 0]\n".replace("[106, 0]", "[0, 106]")))
add("coding_exclude_war_original", "coding", "exclude_wars: [9999] on the original-archive track",
    r"no_world_wars\.yaml: weisiger: exclude_wars\[0\]: war 9999 is not in",
    lambda ctx: _coding_job(ctx, "no_world_wars", "weisiger:\n  exclude_wars: [9999]\n",
                            "results/no_world_wars/weisiger/original/status.json", track="original"), via="smk")


# ================================================================================================
# censor case files (config/cases/morey_*.csv, conquest_exits.csv): read strictly by the build

MOREY = "config/cases/morey_entrapment.csv"


def _censor(ctx: Ctx, edit, files: str | None = None) -> Outcome:
    from coalitions.codings import load_coding

    work = ctx.scratch("censor")
    edit(work / MOREY)
    coding = work / "config/codings/morey_entrapment.yaml"
    if files is not None:
        replace_text(coding, "censor_case_files: [config/cases/morey_entrapment.csv]", f"censor_case_files: [{files}]")
    return expect_error(load_coding, coding, root=work)


def _bytes(old: bytes, new: bytes):
    def edit(p: Path) -> None:
        data = p.read_bytes()
        assert old in data
        p.write_bytes(data.replace(old, new, 1))
    return edit


def _dup_row(p: Path) -> None:
    lines = p.read_bytes().splitlines(keepends=True)
    p.write_bytes(b"".join(lines) + lines[1])


add("censor_bad_date", "censor file", "an exit date 2999-99-01 (dry run)",
    r"morey_entrapment\.csv, row 2: exit_date must be YYYY-MM-DD.*'2999-99-01'",
    lambda ctx: dry_run(ctx, "codings=[baseline,morey_entrapment]",
                        edit=lambda w: _bytes(b"1856-03-01", b"2999-99-01")(w / MOREY)), issue="4.date", via="smk")
add("censor_duplicate_row", "censor file", "the same case twice",
    r"morey_entrapment\.csv, row 3: duplicate case for war 22, ccode 220, side 1", lambda ctx: _censor(ctx, _dup_row),
    issue="4.duplicate_row")
add("censor_fractional_war", "censor file", "war number 22.5 (was silently cut to 22)",
    r"morey_entrapment\.csv, row 2: column 'warnum' must be a whole number, found '22\.5'",
    lambda ctx: _censor(ctx, _bytes(b"\n22,220,1,", b"\n22.5,220,1,")), issue="4.fraction")
add("censor_outside_etc_passwd", "censor file", "censor_case_files: [/etc/passwd] (dry run)",
    r"morey_entrapment\.yaml: weisiger: censor_case_files\[0\] '/etc/passwd' is outside the project's config/ folder",
    lambda ctx: dry_run(ctx, "codings=[baseline,morey_entrapment]", edit=lambda w: replace_text(
        w / "config/codings/morey_entrapment.yaml", "[config/cases/morey_entrapment.csv]", "[/etc/passwd]")),
    issue="7", via="smk")
add("censor_outside_dotdot", "censor file", "censor_case_files: [../outside.csv]",
    r"censor_case_files\[0\] '\.\./outside\.csv' may not contain '\.\.'",
    lambda ctx: _censor(ctx, lambda p: None, files="../outside.csv"))


def _symlink_out(p: Path) -> None:
    target = p.parent.parent.parent / "outside.csv"
    shutil.copy(p, target)
    p.unlink()
    p.symlink_to(target)


add("censor_symlink_outside", "censor file", "a case file that is a link to a file outside config/",
    r"censor_case_files\[0\] 'config/cases/morey_entrapment\.csv' is outside the project's config/ folder",
    lambda ctx: _censor(ctx, _symlink_out))
add("censor_folder", "censor file", "a case-file path that is a folder",
    r"censor_case_files\[0\] 'config/cases' is a folder", lambda ctx: _censor(ctx, lambda p: None, files="config/cases"))
add("censor_non_utf8", "censor file", "a Latin-1 byte in a censor file",
    r"morey_entrapment\.csv, line 2: byte 0xe7 is not UTF-8", lambda ctx: _censor(ctx, _bytes(b"France", b"Fran\xe7e")),
    issue="8.non_utf8")
add("censor_empty_file", "censor file", "an empty censor file", r"morey_entrapment\.csv: the file is empty",
    lambda ctx: _censor(ctx, lambda p: p.write_bytes(b"")), issue="8.empty_file")
add("censor_header_only", "censor file", "a censor file with its header only (coding would equal the baseline)",
    r"morey_entrapment\.csv: the file has a header but no case",
    lambda ctx: _censor(ctx, lambda p: p.write_bytes(p.read_bytes().splitlines(keepends=True)[0])),
    issue="8.header_only")
add("censor_empty_side", "censor file", "an empty side cell",
    r"morey_entrapment\.csv, row 2: column 'side' must be a whole number, found ''",
    lambda ctx: _censor(ctx, _bytes(b"\n22,220,1,", b"\n22,220,,")), issue="8.empty_side")
add("censor_no_source", "censor file", "a case without its source",
    r"morey_entrapment\.csv, row 2: every case needs its historical source",
    lambda ctx: _censor(ctx, lambda p: p.write_text(p.read_text().rsplit(',"', 1)[0] + ',""\n')))
add("censor_unknown_rule", "censor file", "rule: defection", r"morey_entrapment\.csv, row 2: rule must be one of",
    lambda ctx: _censor(ctx, _bytes(b",entrapment,", b",defection,")))
add("censor_contested_maybe", "censor file", "contested: maybe", r"morey_entrapment\.csv, row 2: contested must be 'yes' or 'no'",
    lambda ctx: _censor(ctx, _bytes(b",entrapment,no,", b",entrapment,maybe,")))
add("censor_hash_char", "censor file", "a '#' in the description", r"morey_entrapment\.csv, row 2: the character '#'",
    lambda ctx: _censor(ctx, _bytes(b"Crimean War:", b"Crimean War #1:")))
add("censor_missing_column", "censor file", "the rule column removed",
    r"morey_entrapment\.csv: required column\(s\) missing: \['rule'\]",
    lambda ctx: _censor(ctx, lambda p: pd.read_csv(p, dtype=str).drop(columns="rule").to_csv(p, index=False)))
add("censor_ragged_line", "censor file", "a line with more fields than the header",
    r"morey_entrapment\.csv, line 2: 11 fields, the header has 9",
    lambda ctx: _censor(ctx, lambda p: p.write_text(p.read_text().rstrip("\n") + ",extra,fields\n")))


def _censor_job(ctx: Ctx, edit) -> Outcome:
    work = ctx.built("censor_job")
    edit(work / MOREY)
    outs = [f"results/morey_entrapment/weisiger/rebuilt/{f}" for f in ("periods.parquet", "participants.csv")]
    return smk_outcome(work, ["--cores", "1", "results/morey_entrapment/weisiger/rebuilt/participants.csv",
                              "--config", f"mirror={ctx.mirror}", "codings=[baseline,morey_entrapment]"], absent=outs)


add("censor_unknown_ccode", "censor file", "an unknown country code (999) in a censor file (build)",
    r"morey_entrapment\.csv, row 2: war 22, ccode 999, side 1 is not an exit of the rebuilt participants table",
    lambda ctx: _censor_job(ctx, _bytes(b"\n22,220,1,", b"\n22,999,1,")), issue="8.unknown_ccode", via="smk")


def _censor_participants(ctx: Ctx, edit) -> Outcome:
    from coalitions.weisiger.extension import read_censor_case_file

    work = ctx.scratch("censor_p")
    edit(work / MOREY)
    return expect_error(read_censor_case_file, work / MOREY, _participants(ctx))


@functools.lru_cache(maxsize=1)
def _participants_cached(prepared: str) -> pd.DataFrame:
    from coalitions.weisiger.rebuild import build_participants, load_cases
    from coalitions.weisiger.rebuild_coding import WeisigerCoding

    tables = {p.stem: pd.read_parquet(p) for p in (Path(prepared) / "results/sources").glob("*.parquet")}
    cases = load_cases(Path(prepared) / "config/cases", tables["cow_war_participants"])
    return build_participants(tables, WeisigerCoding(), cases)


def _participants(ctx: Ctx) -> pd.DataFrame:
    return _participants_cached(str(ctx.prepared))


add("censor_wrong_exit_date", "censor file", "an exit date that is not the rebuilt exit date",
    r"morey_entrapment\.csv, row 2: exit_date 1856-03-30 differs from the rebuilt exit date",
    lambda ctx: _censor_participants(ctx, _bytes(b"1856-03-01", b"1856-03-30")))
add("censor_wrong_state_name", "censor file", "a state name that is not COW's",
    r"morey_entrapment\.csv, row 2: state_name 'Sardinia' differs", lambda ctx: _censor_participants(
        ctx, _bytes(b",France,", b",Sardinia,")))
add("censor_not_an_exit", "censor file", "a participant that did not exit (UK in WWII)",
    r"morey_entrapment\.csv, row 2: war 139, ccode 200, side 1 is not an exit", lambda ctx: _censor_participants(
        ctx, _bytes(b"\n22,220,1,France,1856-03-01,", b"\n139,200,1,United Kingdom,1945-08-14,")))


# ================================================================================================
# the Weisiger case files (config/cases/weisiger_*.csv)


@row("weisiger_not_exits_empty", "case file", "an empty config/cases/weisiger_not_exits.csv (build)",
     r"weisiger_not_exits\.csv: the file is empty", issue="9", via="smk")
def _(ctx: Ctx) -> Outcome:
    work = ctx.built("not_exits")
    (work / "config/cases/weisiger_not_exits.csv").write_bytes(b"")
    return smk_outcome(work, ["--cores", "1", BASE_TARGET, "--config", f"mirror={ctx.mirror}", "codings=[baseline]"],
                       absent=[BASE_TARGET, "results/baseline/weisiger/rebuilt/periods.parquet"])


def _wcases(ctx: Ctx, name: str, edit) -> Outcome:
    from coalitions.weisiger.rebuild_cases import load_cases

    work = ctx.scratch("wcases")
    edit(work / "config/cases" / name)
    war = pd.read_parquet(ctx.prepared / "results/sources/cow_war_participants.parquet")
    return expect_error(load_cases, work / "config/cases", war)


add("weisiger_case_unknown_participant", "case file", "a not-exit row for ccode 999",
    r"weisiger_not_exits\.csv, row 2: war 58, ccode 999, side 1 is not a participant",
    lambda ctx: _wcases(ctx, "weisiger_not_exits.csv", _bytes(b"\n58,245,1,", b"\n58,999,1,")))
add("weisiger_case_bad_coding", "case file", "a war-ending exit coded 'maybe'",
    r"weisiger_war_ending_exits\.csv, row 2: coding must be one of",
    lambda ctx: _wcases(ctx, "weisiger_war_ending_exits.csv", _bytes(b",,abandonment,", b",,maybe,")))
add("weisiger_case_date_outside", "case file", "a war-ending exit date outside the participation",
    r"weisiger_war_ending_exits\.csv, row 3: exit_date 1959-07-11 lies outside",
    lambda ctx: _wcases(ctx, "weisiger_war_ending_exits.csv", _bytes(b"1859-07-11", b"1959-07-11")))
add("weisiger_case_empty_reason", "case file", "a not-exit row without its reason",
    r"weisiger_not_exits\.csv, row 2: the 'reason' column is empty",
    lambda ctx: _wcases(ctx, "weisiger_not_exits.csv", _bytes(b"forces fought on under the German command", b"")))
add("weisiger_case_non_utf8", "case file", "a Latin-1 byte in weisiger_war_ending_exits.csv",
    r"weisiger_war_ending_exits\.csv, line 2: byte 0xe9 is not UTF-8",
    lambda ctx: _wcases(ctx, "weisiger_war_ending_exits.csv", _bytes(b"Crimean", b"Crim\xe9an")))


# ================================================================================================
# the model filter language (config/models/weisiger.yaml: sample.where)


def _filter(ctx: Ctx, expr: str) -> Outcome:
    work = ctx.scratch("filter")
    replace_text(work / "config/models/weisiger.yaml", 'where: "warnum != 108 or side == 1"', f"where: {json.dumps(expr)}")
    return expect_error(_load_wmodels, work)


MODEL = r"weisiger\.yaml: .*a1_no_noncoordinated.*"
add("filter_3000_nots", "model filter", "a filter of 3,000 nested `not`s (was a RecursionError)",
    MODEL + r"a filter may have at most 2000 characters", lambda ctx: _filter(ctx, "not " * 3000 + "side == 1"),
    issue="10")
add("filter_deep_nesting", "model filter", "a filter nested 60 levels deep",
    MODEL + r"a filter may nest at most 40 levels", lambda ctx: _filter(ctx, "not " * 60 + "side == 1"))
add("filter_unknown_variable", "model filter", "a filter on an unknown variable",
    MODEL + r"unknown variable\(s\) \['colour'\]", lambda ctx: _filter(ctx, "colour == 1"))
add("filter_function_call", "model filter", "a filter calling __import__",
    MODEL + r"not allowed in a filter: \"__import__", lambda ctx: _filter(ctx, "__import__('os') == 1"))
add("filter_stata_and", "model filter", "Stata's & in a filter", MODEL + r"use 'and' / 'or' instead of '&'",
    lambda ctx: _filter(ctx, "(warnum != 108) & (side == 1)"))
add("filter_syntax", "model filter", "a filter that does not parse", MODEL + r"not a valid expression",
    lambda ctx: _filter(ctx, "warnum != != 108"))
add("filter_constant", "model filter", "a filter that is a constant", MODEL + r"a filter must be a condition",
    lambda ctx: _filter(ctx, "1"))


# ================================================================================================
# mirror files and the cache


def _mirror(ctx: Ctx, make) -> Outcome:
    entry = war_entry(ctx)
    m = ctx.tmp / "mirror"
    (m / entry.path).parent.mkdir(parents=True, exist_ok=True)
    make(m / entry.path, ctx.mirror / entry.path)
    cache = ctx.tmp / "cache"
    return expect_error(F.fetch_public, entry, cache / entry.path, mirror=m, progress=False,
                        leftovers=lambda: [str(p) for p in cache.rglob("*") if p.is_file()] if cache.exists() else [])


def _flip(dst: Path, src: Path) -> None:
    data = bytearray(src.read_bytes())
    data[5000] ^= 1
    dst.write_bytes(bytes(data))


add("mirror_tampered", "mirror", "one flipped bit in the mirror's war file",
    r"checksum mismatch for cow_interstate_war_v4\.0/Inter-StateWarData_v4\.0\.csv", lambda ctx: _mirror(ctx, _flip))
add("mirror_truncated", "mirror", "the mirror's war file cut in half",
    r"checksum mismatch for cow_interstate_war_v4\.0/Inter-StateWarData_v4\.0\.csv",
    lambda ctx: _mirror(ctx, lambda d, s: d.write_bytes(s.read_bytes()[: len(s.read_bytes()) // 2])))
add("mirror_empty", "mirror", "an empty file in the mirror", r"checksum mismatch for cow_interstate_war_v4\.0/",
    lambda ctx: _mirror(ctx, lambda d, s: d.write_bytes(b"")))
add("mirror_missing", "mirror", "the file missing from the mirror",
    r"mirror file not found: .*Inter-StateWarData_v4\.0\.csv \(registry entry cow_war\.participants\)",
    lambda ctx: _mirror(ctx, lambda d, s: None))
add("mirror_directory", "mirror", "a folder where the mirror file should be",
    r"mirror path .*Inter-StateWarData_v4\.0\.csv is a folder, not a file", lambda ctx: _mirror(ctx, lambda d, s: d.mkdir()),
    issue="13.directory")
add("mirror_broken_link", "mirror", "a symbolic link to nothing",
    r"mirror file .*Inter-StateWarData_v4\.0\.csv is a symbolic link to nothing",
    lambda ctx: _mirror(ctx, lambda d, s: d.symlink_to(d.parent / "gone.csv")))


def _link_to_tampered(d: Path, s: Path) -> None:
    _flip(d.parent / "real.csv", s)
    d.symlink_to(d.parent / "real.csv")


add("mirror_link_to_tampered", "mirror", "a symbolic link to a tampered copy",
    r"checksum mismatch for cow_interstate_war_v4\.0/Inter-StateWarData_v4\.0\.csv", lambda ctx: _mirror(ctx, _link_to_tampered))


add("mirror_folder_missing", "mirror", "a mirror folder that does not exist",
    r"mirror file not found: /nonexistent/mirror/cow_interstate_war_v4\.0/Inter-StateWarData_v4\.0\.csv",
    lambda ctx: expect_error(F.fetch_public, war_entry(ctx), ctx.tmp / "c" / WAR_PATH, mirror=Path("/nonexistent/mirror"),
                             progress=False, leftovers=lambda: [str(p) for p in ctx.tmp.rglob("*") if p.is_file()]))


# -- the cache: a raw file is re-verified before a reader trusts it (5)


@row("cache_raw_edited", "cache", "resources/raw/.../Inter-StateWarData_v4.0.csv edited by hand (build)",
     r"resources/raw/cow_interstate_war_v4\.0/Inter-StateWarData_v4\.0\.csv was changed after it was verified",
     issue="5", via="smk")
def _(ctx: Ctx) -> Outcome:
    work = ctx.built("cache_edit")
    raw = work / "resources/raw" / WAR_PATH
    raw.write_bytes(raw.read_bytes().replace(b"World War I", b"World War 1", 1))
    return smk_outcome(work, ["--cores", "1", "results/sources/cow_war_participants.parquet", "--config",
                              f"mirror={ctx.mirror}", "codings=[baseline]"],
                       absent=["results/sources/cow_war_participants.parquet"])


def _cached(ctx: Ctx, edit) -> Outcome:
    entry = war_entry(ctx)
    cache = ctx.tmp / "c"
    raw, prov = cache / "raw" / entry.path, cache / "prov" / f"{entry.path}.json"
    record = F.fetch_public(entry, raw, mirror=ctx.mirror, progress=False)
    prov.parent.mkdir(parents=True)
    prov.write_text(json.dumps(record))
    edit(raw, prov)
    return expect_error(F.verify_cached, entry, raw, prov)


add("cache_provenance_missing", "cache", "the provenance record of a cached file deleted",
    r"Inter-StateWarData_v4\.0\.csv: its provenance record .* is missing",
    lambda ctx: _cached(ctx, lambda r, p: p.unlink()))
add("cache_provenance_other_release", "cache", "a provenance record for another checksum than the registry's",
    r"was verified against sha256 0{64}, but config/sources\.yaml now expects",
    lambda ctx: _cached(ctx, lambda r, p: p.write_text(json.dumps(json.loads(p.read_text()) | {"expected": "0" * 64}))))
add("cache_provenance_corrupt", "cache", "a provenance record that is not JSON",
    r"Inter-StateWarData_v4\.0\.csv\.json: not valid JSON", lambda ctx: _cached(ctx, lambda r, p: p.write_text("{")))


def _archive(ctx: Ctx, files_data: dict[str, bytes] | None = None, md5: dict[str, str] | None = None,
             require: bool = False, after=None):
    src = registry(ctx).archives()["henke2017"]
    files = [FakeFile(e.persistent_id, e.basename, (files_data or {}).get(k, f"{k} bytes\n".encode()),
                      md5=(md5 or {}).get(k)) for k, e in src.files.items()]
    out = ctx.tmp / "original" / "henke2017"

    def left() -> list[str]:
        data = {e.basename for e in src.files.values()}
        return [str(p) for p in (ctx.tmp / "original").rglob("*") if p.name in data or p.name.endswith(".partial")]

    with FakeDataverse(src.dataset_doi, files) as dv:
        if after is None:
            def run():
                status = F.fetch_archive(src, out, mirror=None, server=dv.base, retries=1, progress=False,
                                         require=require)
                if not status["available"]:
                    from coalitions.util import CoalitionsError
                    raise CoalitionsError(status["reason"])
            return expect_error(run, leftovers=left)
        F.fetch_archive(src, out, mirror=None, server=dv.base, retries=1, progress=False)
    after(out)
    return expect_error(F.read_archive_status, out)


add("dataverse_md5_mismatch", "Dataverse", "an archive file whose MD5 differs from Dataverse's",
    r"checksum mismatch for New_dataset 2015-10-0497\.R2\.dta .*expected MD5 0{32}",
    lambda ctx: _archive(ctx, md5={"new_dataset": "0" * 32}))
add("dataverse_md5_required", "Dataverse", "an MD5 mismatch with require_original_archives: true",
    r"the original archive henke2017 .* is required .* checksum mismatch",
    lambda ctx: _archive(ctx, md5={"new_dataset": "0" * 32}, require=True))
add("dataverse_unreachable", "Dataverse", "Dataverse unreachable with require_original_archives: true",
    r"henke2017 .* is required .* could not download http://127\.0\.0\.1:\d+/api/datasets",
    lambda ctx: expect_error(F.fetch_archive, registry(ctx).archives()["henke2017"], ctx.tmp / "o" / "henke2017",
                             mirror=None, server=closed_port_url("").rstrip("/"), retries=1, progress=False, require=True))
add("dataverse_cached_edited", "Dataverse", "an archive file edited after it was verified",
    r"Log_file_2_-_New_dataset 2015-10-0497\.R2\.smcl was changed after it was verified",
    lambda ctx: _archive(ctx, after=lambda out: (out / "Log_file_2_-_New_dataset 2015-10-0497.R2.smcl").write_text("x")))
add("dataverse_status_corrupt", "Dataverse", "a status.json that is not JSON", r"status\.json is not valid JSON",
    lambda ctx: _archive(ctx, after=lambda out: (out / "status.json").write_text("{")))
add("dataverse_metadata_malformed", "Dataverse", "Dataverse metadata without a files list",
    r"Dataverse metadata has no data\.latestVersion\.files list", lambda ctx: expect_error(F.dataverse_checksums, {"data": {}}))


# ================================================================================================
# zip archives


def _zip(path: Path, members: dict[str, bytes], links: dict[str, str] = ()) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, target in dict(links).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o120777 << 16)
            zf.writestr(info, target)
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _extract(ctx: Ctx, members: dict[str, bytes], links: dict[str, str] = ()) -> Outcome:
    work = ctx.tmp / "zipwork"
    work.mkdir()
    arch = _zip(work / "a.zip", members, links)
    target = work / "target"
    return expect_error(F.safe_extract_all, arch, target,
                        leftovers=lambda: [str(p) for p in work.rglob("*") if p.name != "a.zip"])


for _i, _evil in enumerate(["../evil.csv", "/tmp/evil.csv", "data/../../evil.csv", "..\\evil.csv", "C:/evil.csv"]):
    add(f"zip_escape_{_i}", "zip", f"a member named {_evil!r}", r"refusing archive member '.*evil\.csv'",
        functools.partial(lambda ctx, e: _extract(ctx, {"ok/first.csv": b"a\n", e: b"owned\n"}), e=_evil))
add("zip_symlink_and_inner", "zip", "a symlink member `link` and `link/inner.txt`",
    r"refusing archive member 'link': it is a symbolic link",
    lambda ctx: _extract(ctx, {"link/inner.txt": b"x\n"}, {"link": "/tmp"}), issue="11")
add("zip_symlink_alone", "zip", "a symlink member pointing to /etc/passwd",
    r"refusing archive member 'passwd': it is a symbolic link", lambda ctx: _extract(ctx, {"ok.csv": b"a\n"}, {"passwd": "/etc/passwd"}))
add("zip_file_is_folder", "zip", "a member that is a file and also the folder of another member",
    r"refusing archive member 'a/b\.txt': 'a' is a file", lambda ctx: _extract(ctx, {"a": b"x", "a/b.txt": b"y"}))


def _member(ctx: Ctx, data: bytes, member: str) -> Outcome:
    (ctx.tmp / "m.zip").write_bytes(data)
    return expect_error(F.extract_member, ctx.tmp / "m.zip", member, ctx.tmp / "out.csv",
                        leftovers=lambda: [str(ctx.tmp / "out.csv")] if (ctx.tmp / "out.csv").exists() else [])


def _zip_bytes(ctx: Ctx, members: dict[str, bytes], links: dict[str, str] = ()) -> bytes:
    return _zip(ctx.tmp / "z.zip", members, links).read_bytes()


add("zip_truncated", "zip", "a zip archive cut in half", r"m\.zip is not a valid zip archive",
    lambda ctx: _member(ctx, _zip_bytes(ctx, {"d/contdir.csv": b"x" * 5000})[:2000], "d/contdir.csv"))
add("zip_member_absent", "zip", "a registry member the archive lacks",
    r"archive m\.zip has no member 'd/contdir\.CSV' \(it has: d/contdir\.csv\)",
    lambda ctx: _member(ctx, _zip_bytes(ctx, {"d/contdir.csv": b"x"}), "d/contdir.CSV"))
add("zip_member_is_link", "zip", "the registry's member is a symbolic link", r"refusing archive member 'd/contdir\.csv'",
    lambda ctx: _member(ctx, _zip_bytes(ctx, {}, {"d/contdir.csv": "/etc/passwd"}), "d/contdir.csv"))


# ================================================================================================
# servers on 127.0.0.1 that cut off, lie, refuse or hang


def _serve(ctx: Ctx, *replies, retries: int = 1, timeout: float = 5.0, handler=None) -> Outcome:
    entry = war_entry(ctx)
    cache = ctx.tmp / "cache"
    with LocalServer() as srv:
        if handler is not None:
            srv.route("/w.csv", handler)
        else:
            srv.route("/w.csv", *replies)
        e = replace(entry, urls=(Url(srv.url("/w.csv")),))
        return expect_error(F.fetch_public, e, cache / entry.path, mirror=None, retries=retries, timeout=timeout,
                            progress=False, downloader=QUICK,
                            leftovers=lambda: [str(p) for p in cache.rglob("*") if p.is_file()] if cache.exists() else [])


def _war(ctx: Ctx) -> bytes:
    return (ctx.mirror / WAR_PATH).read_bytes()


add("http_cut_off_half", "server", "a transfer cut off after half the bytes",
    r"w\.csv was interrupted: received 15849 of 31698 bytes",
    lambda ctx: _serve(ctx, Reply(_war(ctx), truncate_to=len(_war(ctx)) // 2)), issue="13.cut_off")
add("http_cut_off_start", "server", "a transfer cut off before the first byte",
    r"w\.csv was interrupted: received 0 of 31698 bytes", lambda ctx: _serve(ctx, Reply(_war(ctx), truncate_to=0)))
add("http_503", "server", "a server answering 503 every time", r"download of http://127\.0\.0\.1:\d+/w\.csv failed: .*HTTP 503",
    lambda ctx: _serve(ctx, Reply(b"busy", status=503), retries=2))
add("http_404", "server", "a 404", r"w\.csv failed: the server answered HTTP 404", lambda ctx: _serve(ctx, Reply(b"no", status=404)))
add("http_refused", "server", "a connection refused", r"could not download http://127\.0\.0\.1:\d+/file\.csv",
    lambda ctx: expect_error(F.download, closed_port_url(), ctx.tmp / "x.csv", retries=1, backoff=0, progress=False,
                             leftovers=lambda: [str(ctx.tmp / "x.csv")] if (ctx.tmp / "x.csv").exists() else []))
add("http_lies_release", "server", "a server sending another release (bytes differ)",
    r"checksum mismatch for cow_interstate_war_v4\.0/Inter-StateWarData_v4\.0\.csv \(from http://127\.0\.0\.1",
    lambda ctx: _serve(ctx, Reply(_war(ctx).replace(b"World War I", b"World War 1"))))
add("http_lies_html", "server", "a server answering 200 with an HTML error page",
    r"checksum mismatch for cow_interstate_war_v4\.0/", lambda ctx: _serve(ctx, Reply(b"<html>Sorry</html>")))


def _slow(path: str) -> Reply:
    time.sleep(1.5)
    return Reply(b"late")


add("http_hangs", "server", "a server that does not answer within the timeout",
    r"could not download http://127\.0\.0\.1:\d+/w\.csv: ReadTimeout", lambda ctx: _serve(ctx, handler=_slow, timeout=0.3))


# ================================================================================================
# the file system: an unwritable results folder, a full disk, temporary files of a killed run (12)


def _immutable(path: Path, on: bool) -> bool:
    if os.geteuid() == 0:
        if shutil.which("chattr") is None:
            return False
        r = subprocess.run(["chattr", "+i" if on else "-i", str(path)], capture_output=True)
        return r.returncode == 0
    path.chmod(0o555 if on else 0o755)
    return True


@row("results_unwritable", "file system", "results/sources made immutable (build)",
     r"rule clean_table: could not write results/sources/cow_majors\.parquet \(permission denied", issue="12.unwritable",
     via="smk")
def _(ctx: Ctx) -> Outcome:
    work = ctx.built("immutable")
    folder = work / "results/sources"
    if not _immutable(folder, True):
        pytest.skip("cannot make a folder unwritable here (no chattr as root)")
    try:
        return smk_outcome(work, ["--cores", "1", "results/sources/cow_majors.parquet", "--config", f"mirror={ctx.mirror}",
                                  "codings=[baseline]"], absent=["results/sources/cow_majors.parquet"])
    finally:
        _immutable(folder, False)


@row("disk_full", "file system", "a full disk (a file-size limit of 200 kB) while writing the Weisiger data (build)",
     r"rule weisiger_rebuilt: could not write its outputs in results/baseline/weisiger/rebuilt \(the disk is full "
     r"or a file-size limit was reached", issue="12.full_disk", via="smk")
def _(ctx: Ctx) -> Outcome:
    work = ctx.built("fsize")
    shutil.rmtree(work / "results/baseline")
    outs = [f"results/baseline/weisiger/rebuilt/{f}" for f in ("periods.parquet", "periods.csv", "participants.csv")]
    proc = subprocess.run(["bash", "-c", 'ulimit -f 200; exec "$@"', "_", sys.executable, "-m", "snakemake", "--cores", "1",
                           BASE_TARGET, "--config", f"mirror={ctx.mirror}", "codings=[baseline]"],
                          cwd=work, capture_output=True, text=True, timeout=300,
                          env={k: v for k, v in os.environ.items() if k != "COALITIONS_MIRROR"})
    out = proc.stdout + proc.stderr
    return Outcome(proc.returncode != 0, user_line(out), out, untrusted(work, *outs))


@row("stale_partial_cleaned", "file system", "a .partial file left by a killed writer is removed by the next run",
     r"removed 1 temporary file", issue="12.stale_partial", accepted=True)
def _(ctx: Ctx) -> Outcome:
    import logging

    from coalitions.schema import write_table

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # its process id is no longer running
    folder = ctx.tmp / "results" / "sources"
    folder.mkdir(parents=True)
    stale = folder / f".t.parquet.{dead.pid}.abcd1234.parquet.partial"
    stale.write_bytes(b"half a parquet file")
    live = folder / f".t.parquet.{os.getpid()}.efgh5678.parquet.partial"  # a writer still running: kept
    live.write_bytes(b"in progress")
    records: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda rec: records.append(rec.getMessage())
    log = logging.getLogger("coalitions")
    level = log.level
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        write_table(pd.DataFrame({"a": [1]}), folder / "t.parquet")
    finally:
        log.removeHandler(handler)
        log.setLevel(level)
    left = [str(stale)] if stale.exists() else []
    ok = live.exists() and (folder / "t.parquet").is_file()
    live.unlink()
    return Outcome(False, "; ".join(records) if ok else "the live temporary file was removed", "", left)


# -- kill and rerun, concurrent runs


def _lock_message(out: str) -> str:
    """Snakemake's message about a folder locked by another (or a killed) run, on one line."""
    m = re.search(r"(Directory cannot be locked\..*?(?:--unlock argument\.|$))", out, flags=re.S)
    return one_line(m.group(1)) if m else user_line(out)


def _start(work: Path, mirror: Path, target: str = BASE_TARGET) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "COALITIONS_MIRROR"}
    return subprocess.Popen([sys.executable, "-m", "snakemake", "--cores", "1", target, "--config",
                             f"mirror={mirror}", "codings=[baseline]"], cwd=work, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_for_job(work: Path, proc: subprocess.Popen, timeout: float = 120) -> None:
    log = work / "logs/baseline/weisiger_rebuilt.log"  # written when the job starts (the run holds its lock)
    t0 = time.time()
    while not log.exists():
        if proc.poll() is not None or time.time() - t0 > timeout:
            raise AssertionError("the job did not start: " + (proc.stdout.read() if proc.stdout else ""))
        time.sleep(0.05)


@row("killed_then_rerun", "runs", "snakemake killed (SIGKILL) during a job, then run again",
     r"Directory cannot be locked.*--unlock", via="smk")
def _(ctx: Ctx) -> Outcome:
    work = ctx.built("kill")
    shutil.rmtree(work / "results/baseline")
    shutil.rmtree(work / "logs/baseline")
    proc = _start(work, ctx.mirror)
    _wait_for_job(work, proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    args = ["--cores", "1", BASE_TARGET, "--config", f"mirror={ctx.mirror}", "codings=[baseline]"]
    rc1, out1 = run_smk(work, *args)  # the killed run's lock: refused, saying what to do
    rc2, out2 = run_smk(work, "--unlock", *args)
    assert rc2 == 0, out2[-2000:]
    rc3, out3 = run_smk(work, *args)  # whatever the killed job wrote is not trusted: the job runs again
    assert rc3 == 0 and "weisiger_rebuilt" in out3 and (work / BASE_TARGET).is_file(), out3[-2000:]
    return Outcome(rc1 != 0, _lock_message(out1), out1, untrusted(work))


@row("concurrent_runs", "runs", "a second run started in the same folder while the first runs",
     r"Directory cannot be locked", via="smk")
def _(ctx: Ctx) -> Outcome:
    work = ctx.built("concurrent")
    shutil.rmtree(work / "results/baseline")
    shutil.rmtree(work / "logs/baseline")
    target = BASE_TARGET
    first = _start(work, ctx.mirror, target)
    try:
        _wait_for_job(work, first)
        os.killpg(first.pid, signal.SIGSTOP)  # the first run holds its lock while the second starts
        rc, out = run_smk(work, "--cores", "1", target, "--config", f"mirror={ctx.mirror}", "codings=[baseline]")
    finally:
        os.killpg(first.pid, signal.SIGCONT)
        first.wait(timeout=300)
    assert first.returncode == 0, first.stdout.read() if first.stdout else ""
    assert (work / target).is_file()  # the first run finished undisturbed
    return Outcome(rc != 0, _lock_message(out), out, untrusted(work))


# ================================================================================================
# the tests


@pytest.fixture(scope="module")
def prepared(root: Path, mirror: Path, tmp_path_factory) -> Path:
    """A scratch build with the clean tables and the baseline's Weisiger data of both tracks (built once)."""
    work = copy_workflow(root, tmp_path_factory.mktemp("bad_inputs") / "prepared")
    proc = snakemake(work, "--cores", "2", BASE_TARGET, "results/baseline/weisiger/original/status.json",
                     "results/sources/cow_majors.parquet", "--config", f"mirror={mirror}", "codings=[baseline]", timeout=600)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    (work / "results/sources/cow_majors.parquet").unlink()  # so that a row can build it (and fail to)
    return work


@pytest.mark.parametrize("r", ROWS, ids=[r.id for r in ROWS])
def test_bad_input(r: Row, root: Path, mirror: Path, prepared: Path, tmp_path: Path) -> None:
    ctx = Ctx(root, mirror, tmp_path, lambda: prepared)
    out = r.run(ctx)
    where = f"[{r.id}] {r.what}\n--- message: {out.message}\n--- output (end):\n{out.output[-3000:]}"
    shown = out.message if r.via == "make" else one_line(out.message)  # as the workflow prints it
    if r.accepted:
        assert not out.refused, where
        if r.expect != "accepted":
            assert re.search(r.expect, shown), where
    else:
        assert out.refused, "accepted silently: " + where
        assert re.search(r.expect, shown), where
    assert out.leftovers == [], f"left behind (a later run could trust it): {out.leftovers}\n{where}"
    if r.via == "smk" and not r.accepted:
        assert "Traceback" not in out.output and "unexpected error" not in out.output, where
        assert "\n" not in out.message.strip(), where


def test_the_suite_counts_its_bad_inputs(root: Path) -> None:
    ids = [r.id for r in ROWS]
    assert len(ids) == len(set(ids)), "row ids must be unique"
    assert len(ROWS) >= 82, len(ROWS)  # the hostile test's 82 faults, at least
    covered = {r.issue for r in ROWS if r.issue}
    assert set(ISSUE_ITEMS) <= covered, sorted(set(ISSUE_ITEMS) - covered)
    assert len(ISSUE_ITEMS) == 22
    readme = (root / "README.md").read_text(encoding="utf-8")
    m = re.search(r"tries (\d+) bad inputs", readme)
    assert m and int(m.group(1)) == len(ROWS), (m and m.group(0), len(ROWS))


def test_a_start_up_error_is_one_line_and_verbose_shows_the_traceback(root: Path, tmp_path: Path) -> None:
    work = copy_workflow(root, tmp_path / "wf")
    (work / "config/codings/no_world_wars.yaml").write_text(
        (work / "config/codings/no_world_wars.yaml").read_text() + "colour: red\n")
    rc, out = run_smk(work, "-n")
    assert rc == 1 and "Error: config/codings/no_world_wars.yaml: invalid coding file" in out, out
    assert 'File "' not in out and "Traceback" not in out, out
    rc, out = run_smk(work, "-n", "--verbose")
    assert rc != 0 and "CoalitionsError" in out and 'File "' in out, out[-2000:]

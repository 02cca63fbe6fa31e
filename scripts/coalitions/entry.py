"""Entry points called by the Snakemake rules (through the thin scripts in ``scripts/rules/``).

Each takes Snakemake's ``snakemake`` object, sets up logging to the rule's log file and calls the
package. Errors meant for the user (:class:`CoalitionsError`) are logged as one clear message.
"""

from __future__ import annotations

import functools
import sys
from typing import Any, Callable

from .util import LOG, CoalitionsError, setup_logging, write_csv_atomic, write_json_atomic


def _entry(fn: Callable[[Any], None]) -> Callable[[Any], None]:
    @functools.wraps(fn)
    def wrapper(smk: Any) -> None:
        log = smk.log[0] if len(smk.log) else None
        setup_logging(log)
        try:
            fn(smk)
        except CoalitionsError as exc:
            from .guard import verbose

            if verbose():  # COALITIONS_VERBOSE=1: with the traceback
                LOG.exception("%s", exc)
            else:
                LOG.error("%s", exc)
            sys.exit(1)
        except OSError as exc:  # a folder that cannot be written, a full disk: say what and where
            from .guard import describe_os_error

            message = describe_os_error(exc, f"rule {fn.__name__}", list(getattr(smk, "output", []) or []))
            if message is None:
                LOG.exception("unexpected error in %s (a bug: please report it with this log)", fn.__name__)
                raise
            LOG.error("%s", message)
            sys.exit(1)
        except Exception:
            LOG.exception("unexpected error in %s (a bug: please report it with this log)", fn.__name__)
            raise

    return wrapper


@_entry
def fetch_public(smk: Any) -> None:
    from .fetch import fetch_public as _fetch
    from .registry import FileEntry

    entry = FileEntry.from_dict(smk.params.entry)
    prov = _fetch(entry, smk.output.data, mirror=smk.params.mirror, retries=smk.params.retries,
                  timeout=smk.params.timeout)
    write_json_atomic(smk.output.provenance, prov)
    LOG.info("%s: verified by %s, from %s", entry.path, prov["verified_by"], prov["origin"])


@_entry
def fetch_archive(smk: Any) -> None:
    from .fetch import fetch_archive as _fetch
    from .registry import Source

    source = Source.from_dict(smk.params.source)
    _fetch(source, smk.output[0], mirror=smk.params.mirror, require=smk.params.require,
           server=smk.params.server, retries=smk.params.retries, timeout=smk.params.timeout)


@_entry
def clean_table(smk: Any) -> None:
    from .fetch import verify_cached
    from .readers import build_table
    from .registry import FileEntry

    verify_cached(FileEntry.from_dict(smk.params.entry), smk.input.raw, smk.input.provenance)
    df = build_table(smk.wildcards.table, smk.input.raw, smk.output[0], rows=smk.params.rows)
    LOG.info("%s: %d rows, %d columns", smk.wildcards.table, len(df), df.shape[1])


# ------------------------------------------------------------------------------------------------
# Weisiger (2016)


def _export_dataset(df, stem: str, variables=None) -> None:
    """The analysis data in open formats: parquet, CSV, and a codebook (for Stata and R users)."""
    import pandas as pd


    write_csv_atomic(df, f"{stem}.csv", date_format="%Y-%m-%d")
    status = {}
    notes = {}
    if variables is not None and len(variables):
        status = dict(zip(variables["variable"], variables["status"]))
        notes = dict(zip(variables["variable"], variables.get("note", pd.Series("", index=variables.index))))
    rows = [{"column": c, "type": str(df[c].dtype), "status": status.get(c, ""),
             "missing": int(df[c].isna().sum()), "note": notes.get(c, "")} for c in df.columns]
    write_csv_atomic(pd.DataFrame(rows), f"{stem}_codebook.csv")


def _check_names(resolved: dict, smk: Any, tables: dict | None = None, cases: dict | None = None) -> None:
    """Every war, side, country and case a coding names exists in the data (case files: file and row)."""
    import pandas as pd

    from .weisiger.case_guard import check_censor_files_against_participants, check_coding_against_war

    origin = f"config/codings/{smk.wildcards.coding}.yaml: weisiger"
    war = tables["cow_war_participants"] if tables is not None else pd.read_parquet(smk.input.war)
    files = [f for f in resolved.get("case_files", []) if f != resolved.get("extension_members")]
    if files and tables is not None and cases is not None:
        from .weisiger.rebuild import build_participants
        from .weisiger.rebuild_coding import WeisigerCoding

        # the strict check: each censor case is an exit (its date, name, last spell) under the default rules
        check_censor_files_against_participants(files, build_participants(tables, WeisigerCoding(), cases))
    check_coding_against_war(resolved, war, origin)


@_entry
def weisiger_rebuilt(smk: Any) -> None:
    import pandas as pd

    from .schema import write_table
    from .weisiger.apply import apply_data_rules, applicability
    from .weisiger.battle_periods import battle_case_tables, iwbd_tables
    from .weisiger.rebuild import build_rebuilt
    from .weisiger.rebuild_cases import load_cases
    from .weisiger.rebuild_coding import WeisigerCoding

    resolved = smk.params.coding
    coding = WeisigerCoding.from_dict(resolved["params"], origin=f"coding {smk.wildcards.coding}")
    tables = {p.split("/")[-1].removesuffix(".parquet"): pd.read_parquet(p) for p in smk.input.tables}
    tables.update(battle_case_tables(smk.input.battle_cases))
    tables.update(iwbd_tables(smk.input.get("iwbd") or []))
    cases = load_cases(smk.params.cases_dir, tables["cow_war_participants"])
    _check_names(resolved, smk, tables, cases)
    if smk.input.get("members"):  # the case files' rows of the post-2003 extension, checked on every build
        from .weisiger.handcoded import check_against_members

        check_against_members(cases, tables["cow_war_participants"], smk.input.members)
    if smk.input.get("conquest"):
        from .weisiger.extension import read_censor_case_file

        cases["conquest_exits"] = read_censor_case_file(smk.input.conquest)
    data = build_rebuilt(tables, coding, cases)
    why_missing = data.missing
    if resolved.get("extension_members"):
        from .weisiger.extension import build_extension_periods
        from .weisiger.handcoded import extension_variable_notes

        ext_part, ext_periods, ext_vars = build_extension_periods(resolved["extension_members"], tables, coding,
                                                                  cases=cases)
        why_missing = pd.concat([why_missing, ext_periods.attrs.get("why_missing")], ignore_index=True)
        data.participants = pd.concat([data.participants, ext_part], ignore_index=True)
        data.periods = pd.concat([data.periods, ext_periods[[c for c in data.periods.columns
                                                             if c in ext_periods.columns]]], ignore_index=True)
        data.variables = extension_variable_notes(data.variables, ext_vars)
        LOG.info("appended the extension: %d participants, %d records", len(ext_part), len(ext_periods))
    # build_rebuilt validated the full periods; sample rules (drop_minor, exclude_sides) then remove
    # records, keeping the intervals built on the full data, as Stata's `if` does
    periods = apply_data_rules(data.periods, resolved, coding)
    write_table(periods, smk.output.periods)
    _export_dataset(periods, smk.output.periods.removesuffix(".parquet"), data.variables)

    write_csv_atomic(data.participants, smk.output.participants, date_format="%Y-%m-%d")
    write_csv_atomic(why_missing, smk.output.missing)
    write_csv_atomic(data.variables, smk.output.variables)
    _write_battle_and_front_files(data, smk.output)
    write_csv_atomic(applicability(resolved, coding, "rebuilt"), smk.output.applicability)
    LOG.info("rebuilt Weisiger data, coding %s: %d participants, %d exits, %d records",
             smk.wildcards.coding, len(data.participants), int(data.participants["exit"].sum()), len(periods))


def _write_battle_and_front_files(data: Any, output: Any) -> None:
    """The front file's coverage, with the lines it flags."""
    import pandas as pd

    cov = data.fronts_coverage if data.fronts_coverage is not None else pd.DataFrame()
    if data.fronts_flags is not None and len(data.fronts_flags) and len(cov):
        LOG.warning("front file: %d line(s) flagged (see %s)", len(data.fronts_flags), output.fronts_coverage)
    write_csv_atomic(cov, output.fronts_coverage)


@_entry
def weisiger_trends(smk: Any) -> None:
    """Battlefield trends of every window of the coding (the Fig. 5 sweep) and their coverage per war."""
    import pandas as pd

    from .schema import write_table
    from .weisiger.battle_periods import battle_case_tables, build_steps, iwbd_tables, trend_source_used
    from .weisiger.rebuild_coding import WeisigerCoding

    coding = WeisigerCoding.from_dict(smk.params.coding["params"], origin=f"coding {smk.wildcards.coding}")
    tables = {p.split("/")[-1].removesuffix(".parquet"): pd.read_parquet(p) for p in smk.input.tables}
    tables.update(battle_case_tables(smk.input.battle_cases))
    tables.update(iwbd_tables(smk.input.get("iwbd") or []))
    part = pd.read_csv(smk.input.participants, parse_dates=["entry_date", "exit_date"])
    windows = sorted({*coding.trend_windows, *coding.ctrend_windows, 60})
    steps, cov = build_steps(tables, part, coding, windows)
    write_table(steps, smk.output.trends)
    write_csv_atomic(cov, smk.output.coverage, date_format="%Y-%m-%d")
    LOG.info("battlefield trends (%s, empty window: %s): %d windows, %d steps; days with battle data per war: %s",
             trend_source_used(tables, coding), coding.trend_empty_window, len(windows), len(steps),
             dict(zip(cov["warnum"], cov["battle_days"])) if "battle_days" in cov.columns else {})


@_entry
def weisiger_original(smk: Any) -> None:
    import pandas as pd

    from .fetch import read_archive_status
    from .schema import write_table
    from .weisiger.apply import apply_data_rules, apply_to_original, applicability
    from .weisiger.original import read_archive
    from .weisiger.rebuild_coding import WeisigerCoding
    from .weisiger.specs import load_model_config, load_specs

    resolved = smk.params.coding
    coding = WeisigerCoding.from_dict(resolved["params"], origin=f"coding {smk.wildcards.coding}")
    _check_names(resolved, smk)
    status = read_archive_status(smk.input.archive)
    out = {"available": bool(status.get("available")), "reason": status.get("reason"), "synthetic": False,
           "dataset_doi": status.get("dataset_doi")}
    if out["available"]:
        name = status["files"]["data"]["name"]
        specs = load_specs(smk.input.models)
        archive = read_archive(f"{smk.input.archive}/{name}", specs, labels=load_model_config(smk.input.models).labels())
        periods = apply_data_rules(apply_to_original(archive.periods, coding), resolved, coding)
        variables = archive.variables
        out["synthetic"] = archive.is_synthetic
        out["n_subjects"] = int(periods["idvar"].nunique())
    else:
        periods = pd.DataFrame({"idvar": pd.Series(dtype="Int64"), "start": pd.Series(dtype=float),
                                "stop": pd.Series(dtype=float)})
        variables = pd.DataFrame(columns=["variable", "label", "status", "note", "column"])
    write_table(periods, smk.output.periods)
    _export_dataset(periods, smk.output.periods.removesuffix(".parquet"), variables)
    write_csv_atomic(variables, smk.output.variables)
    write_csv_atomic(applicability(resolved, coding, "original"), smk.output.applicability)
    write_json_atomic(smk.output.status, out)


#: models whose survival curves for the front-overlap contrast are drawn (first estimable one)
SURVIVAL_MODELS = ("t2_full", "t1_exit_coalition_trend")


@_entry
def weisiger_models(smk: Any) -> None:
    import json

    import pandas as pd

    from .schema import write_csv_tables
    from .weisiger.models import ESTIMATES_SCHEMA, FITS_SCHEMA, not_available_tables, run_models
    from .weisiger.specs import load_specs

    track, coding = smk.wildcards.track, smk.wildcards.coding
    specs = load_specs(smk.input.models)
    status = json.loads(open(smk.input.status).read()) if smk.input.get("status") else {"available": True}
    if status.get("available", True):
        periods = pd.read_parquet(smk.input.periods)
        variables = pd.read_csv(smk.input.variables)
        from .weisiger.handcoded import EXTENSION_WARNUMS, dropped_table, mark_no_change

        ext = periods["warnum"].isin(EXTENSION_WARNUMS).to_numpy() if "warnum" in periods.columns else None
        must_use = (("the post-2003 extension's records (Iraq and Afghanistan)", ext)
                    if ext is not None and ext.any() else None)
        drops: list = []
        steps = pd.read_parquet(smk.input.trends) if smk.input.get("trends") else None
        est, fits = run_models(periods, variables, specs, track=track, coding=coding,
                               feasible=(track == "rebuilt"), must_use=must_use, dropped_out=drops,
                               trend_steps=steps)
        why = pd.read_csv(smk.input.missing) if smk.input.get("missing") else None
        dropped = dropped_table(periods, drops, why, variables)
        if smk.input.get("baseline_fits"):
            est, fits = mark_no_change(est, fits, pd.read_csv(smk.input.baseline_estimates),
                                       pd.read_csv(smk.input.baseline_fits))
        else:  # the baseline itself: the same columns, nothing to compare with
            est, fits = est.assign(no_change=""), fits.assign(no_change="")
    else:
        from .weisiger.handcoded import DROPPED_COLUMNS

        dropped = pd.DataFrame(columns=DROPPED_COLUMNS)
        est, fits = not_available_tables(specs, track=track, coding=coding,
                                         message="original archive not obtained (its status.json says why)")
    curves = pd.DataFrame(columns=["model_id", "variant", "dropped", "term_value", "day", "survival", "note"])
    if status.get("available", True):
        from .weisiger.models import survival_contrast

        by_id = {s.id: s for s in specs}
        notes = []
        for model_id in SURVIVAL_MODELS:  # the article's Full Model first; the simplest model as fallback
            if model_id not in by_id:
                continue
            c, note = survival_contrast(periods, variables, by_id[model_id], feasible=(track == "rebuilt"))
            if len(c):
                curves = c.assign(model_id=model_id, note="; ".join(notes))[curves.columns]
                break
            notes.append(note)
    if status.get("synthetic"):
        fits["message"] = ("SYNTHETIC TEST ARCHIVE, not Weisiger's data; " + fits["message"].fillna("")).str.rstrip("; ")
    write_csv_tables([(est, smk.output.estimates, ESTIMATES_SCHEMA), (fits, smk.output.fits, FITS_SCHEMA)])
    write_csv_atomic(curves, smk.output.survival)
    write_csv_atomic(dropped, smk.output.dropped, date_format="%Y-%m-%d")
    LOG.info("Weisiger %s/%s: %s", track, coding, fits["status"].value_counts().to_dict())


# ------------------------------------------------------------------------------------------------
# Henke (2017)

HENKE_TABLES = ("cow_states", "cow_system", "cow_igo_memberships", "igo_counts_state_year", "atop_dyad_year",
                "atop_state_year", "polity5", "cow_nmc5", "cow_nmc6", "cow_nmc7", "capitals", "unga_idealpoints",
                "cow_trade_national", "cow_contdird", "cow_diplomatic_exchange")


@_entry
def henke_rebuilt(smk: Any) -> None:
    from pathlib import Path

    from .henke.models import ESTIMATES_SCHEMA, FITS_SCHEMA, load_specs, run_models
    from .henke.cases import load_cases
    from .henke.rebuild import HenkeCoding, ParquetTables, build_dataset
    from .schema import write_csv_tables, write_table

    coding = smk.wildcards.coding
    hc = HenkeCoding.from_dict(smk.params.coding, origin=f"config/codings/{coding}.yaml: henke")
    tables = ParquetTables(Path(smk.input.tables[0]).parent)
    ops, con = load_cases(smk.input.operations, smk.input.contributors, tables["cow_states"])
    data, variables = build_dataset(tables, ops, con, hc)
    est, fits = run_models(data, variables, load_specs(smk.input.models, "rebuilt"), track="rebuilt", coding=coding)
    write_csv_tables([(est, smk.output.estimates, ESTIMATES_SCHEMA), (fits, smk.output.fits, FITS_SCHEMA)])
    write_table(data, smk.output.dataset)
    _export_dataset(data, smk.output.dataset.removesuffix(".parquet"), variables)
    write_csv_atomic(variables, smk.output.variables)
    LOG.info("Henke rebuilt/%s: %d rows, %d joined; %s", coding, len(data), int(data["joined"].sum()),
             fits["status"].value_counts().to_dict())


@_entry
def henke_original(smk: Any) -> None:
    import pandas as pd

    from .henke.models import ESTIMATE_COLUMNS, ESTIMATES_SCHEMA, FITS_SCHEMA, load_specs, not_available_fits
    from .henke.logs import LOG_MODEL_COLUMNS, run_original_track
    from .henke.original import archive_files
    from .schema import empty_frame, write_csv_tables

    coding = smk.wildcards.coding
    specs = load_specs(smk.input.models, "original")
    files = archive_files(smk.input.archive)
    if files is None:
        est = empty_frame(ESTIMATES_SCHEMA, ESTIMATE_COLUMNS)
        fits = not_available_fits(specs, track="original", coding=coding,
                                  message="original archive not obtained (its status.json says why)")
        log_models = pd.DataFrame(columns=LOG_MODEL_COLUMNS)
    else:
        # her Stata logs, where the archive has them, settle the specification of the models on her files
        est, fits, log_models = run_original_track(smk.input.archive, files, specs, coding=coding)
    write_csv_tables([(est, smk.output.estimates, ESTIMATES_SCHEMA), (fits, smk.output.fits, FITS_SCHEMA)])
    write_csv_atomic(log_models, smk.output.log_models)


# ------------------------------------------------------------------------------------------------
# comparison across codings


@_entry
def comparison(smk: Any) -> None:
    from pathlib import Path

    from .codings import load_codings
    from .comparison import build_comparison

    codings = load_codings(smk.params.codings_dir, list(smk.params.codings))
    tables = build_comparison(codings, results="results", weisiger_codings=list(smk.params.weisiger_codings),
                              henke_codings=list(smk.params.henke_codings), outdir=Path(smk.output[0]).parent)
    for name, path in zip(smk.params.names, smk.output):
        write_csv_atomic(tables[name], path)


# ------------------------------------------------------------------------------------------------
# replication package


@_entry
def package(smk: Any) -> None:
    """The replication package: the code git tracks (``input.code``) and the results the rule names."""
    import os

    from .package import build_package
    from .paper import git_info
    from .registry import load_registry

    commit = git_info(os.getcwd())["commit"]
    outputs = [*smk.input.comparison, *smk.input.paper, *smk.input.multiverse, *smk.input.outputs]
    names = build_package(smk.output[0], load_registry(smk.input.registry), code=list(smk.input.code),
                          outputs=outputs, results_dir=smk.params.results,
                          readme_template=smk.input.readme_template, requirements=smk.params.requirements,
                          commit=commit)
    LOG.info("replication package: %d files", len(names))


# ------------------------------------------------------------------------------------------------
# multiverse (config/multiverse.yaml)


@_entry
def multiverse_plot(smk: Any) -> None:
    """The specification curves of one study (PNG + SVG per track and term) and ``{study}_summary.json``."""
    from .multiverse import curve_targets, parse_study, table_from_csv
    from .speccurve import plot_spec_curve, summarise

    study = smk.params.study
    sm = parse_study(study, smk.params.section, origin=smk.params.origin)
    table = table_from_csv(smk.input.table)
    if study == "weisiger":
        from .weisiger.specs import load_model_config

        labels = load_model_config(smk.input.models).labels()
        what = {"rebuilt": "Weisiger (2016), rebuilt data", "original": "Weisiger (2016), original archive"}
        est_label = "Cox coefficient (95% CI)"
    else:
        from .henke.models import load_labels

        labels = load_labels(smk.input.models)
        what = {"rebuilt": "Henke (2017), rebuilt data"}
        est_label = "Log-odds coefficient (95% CI)"
    outputs = list(smk.output.curves)
    for track, term, stem in curve_targets(sm):
        files = [p for p in outputs if p.endswith((f"/{stem}.png", f"/{stem}.svg"))]
        scale = sm.tracks[track].scale
        info = plot_spec_curve(table, term, sm.switches, files, track=track, term_label=labels.get(term, term),
                               title=f"{what.get(track, track)}: {labels.get(term, term)} across "
                                     f"{sm.n_universes} universes",
                               estimate_label=(est_label if scale == "coefficient"
                                               else est_label.replace("coefficient", "coefficient x SD")),
                               scale=scale)
        LOG.info("specification curve %s: %s", stem, info)
    write_json_atomic(smk.output.summary, {"study": study, "switches": [s.name for s in sm.switches],
                                           "summary": summarise(table)})


# ------------------------------------------------------------------------------------------------
# the paper


@_entry
def paper(smk: Any) -> None:
    """The paper from the rule's named inputs (coalitions.paper.inputs) to its named outputs.

    The commit printed in the paper is read from the checkout Snakemake runs in (it is not a file:
    as a param it would re-run the paper at every commit)."""
    import os
    from pathlib import Path

    from .paper import build_paper, git_info
    from .paper.inputs import from_snakemake

    inputs = from_snakemake(smk.input, smk.params.order)
    pdf = smk.output.get("pdf")  # an output only where a TeX engine was found
    outputs = {"tex": smk.output.tex, "html": smk.output.html, "bib": smk.output.bib,
               "figures": smk.output.figures, "pdf": pdf}
    out = build_paper(inputs, outputs, git=git_info(os.getcwd()), pdf=smk.params.pdf)
    if pdf and not Path(pdf).is_file():
        raise CoalitionsError(f"the PDF was not built: {out.get('pdf_status')}; see "
                              f"{Path(pdf).with_name('paper.latex.log')}")
    LOG.info("paper: %s", {k: str(v) for k, v in out.items()})

"""A small but complete, SYNTHETIC results tree in the layout the paper reads (for tests only).

:func:`make_results` writes, under a temporary folder, everything :func:`coalitions.paper.gather`
reads: ``results/comparison`` (estimates and fits of both studies, codings, status changes,
survival curves), ``results/{coding}/{study}/{track}/variables.csv``, ``results/multiverse``
(8 universes), ``config/codings`` (two codings, or more with ``extra_codings``), ``config/published`` (one published number,
the rest empty), ``resources/original/*/status.json`` and ``resources/provenance``.

Every number is drawn from a seeded random generator: none of them is a result about coalitions.
The Weisiger original-archive track is marked as synthetic test data (the marker the archive
readers write into ``variables.csv``); Henke's archive is marked as not obtained.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]

CODINGS = {
    "baseline": {"label": "Baseline", "proposed_by": "Weisiger (2016)",
                 "why": "The article's rules: an exit is the last end date before the side's last end date."},
    "morey_entrapment": {"label": "Morey: entrapment", "proposed_by": "Morey (2017)",
                         "why": "Stopping after the coalition's aims expanded is not abandonment (e.g. France & "
                                "the Crimean War; 100% of its aims met)."},
}
CODING_YAML = {
    "baseline": "weisiger: {}\nhenke: {}\n",
    # the real coding's settings (tests/test_paper.py loads these files with the workflow's loader)
    "morey_entrapment": "weisiger:\n  censor_case_files: [config/cases/morey_entrapment.csv]\nhenke: {}\n",
}
LABELS = {"foverlap": "Common Front", "ctrend60": "War Worsening", "pvict": "Relative Capabilities",
          "imptce": "Importance", "recexit": "Recent Ally Exit", "demdum": "Democracy", "newlead": "New Leader",
          "sepdum": "No Separate Peace"}
FULL = ["foverlap", "ctrend60", "pvict", "imptce", "recexit", "demdum", "newlead", "sepdum"]
#: Weisiger models of the fixture: id -> (table, column, terms)
W_MODELS = {
    "t1_exit_coalition_trend": ("1", "Coalition Trend", ["foverlap", "ctrend60"]),
    "t2_full": ("2", "Full Model", FULL),
    "a4_first_day": ("A4", "First Day", ["foverlap"]),
    **{f"fig5_ctrend{k}": ("Fig. 5", f"{k}-day window", ["foverlap", f"ctrend{k}"] + FULL[2:])
       for k in (15, 30, 45, 60, 90, 120)},
}
#: the one published number of the fixture (a made-up test value, labelled as such in source_note)
PUBLISHED_TEST_VALUE = {"model_id": "t2_full", "term": "pvict", "estimate": 1.2345, "std_error": 0.4321}
UNAVAILABLE_REASON = ("could not download https://dataverse.example/api/datasets/:persistentId/?persistentId="
                      "doi:10.7910/DVN/ZAPWHZ: ConnectionError (test fixture)")


def _csv(path: Path, rows: list[dict[str, Any]] | pd.DataFrame, columns: list[str] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    df = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows, columns=columns)
    df.to_csv(path, index=False, lineterminator="\n")
    return path


def _json(path: Path, obj: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def _coef(rng: np.random.Generator, term: str) -> tuple[float, float, float]:
    est = float(np.round(rng.normal(-0.6 if term == "foverlap" else 0.2, 0.5), 4))
    se = float(np.round(abs(rng.normal(0.25, 0.08)) + 0.05, 4))
    from scipy.stats import norm

    p = float(2 * norm.sf(abs(est / se)))
    return est, se, p


def make_results(tmp_path: str | Path, seed: int = 0, extra_codings: int = 0) -> dict[str, Path]:
    """Write the synthetic project tree under ``tmp_path``; returns its folders and files:
    ``root``, ``results``, ``config``, ``archives`` (resources/original), ``provenance``, ``registry``.

    ``extra_codings`` adds that many synthetic codings (the baseline's rules under another name, with
    long labels like the real ones), so the per-coding tables are as wide as the real project's."""
    root = Path(tmp_path)
    rng = np.random.default_rng(seed)
    results, config = root / "results", root / "config"
    archives, provenance = root / "resources" / "original", root / "resources" / "provenance"
    comp = results / "comparison"
    config.mkdir(parents=True, exist_ok=True)
    registry = config / "sources.yaml"
    shutil.copyfile(ROOT / "config" / "sources.yaml", registry)

    # ---- codings
    all_codings = dict(CODINGS)
    coding_yaml = dict(CODING_YAML)
    for k in range(1, extra_codings + 1):
        all_codings[f"synthetic_{k}"] = {"label": f"Synthetic test coding {k}: exits merged within {k} days",
                                         "proposed_by": "Test fixture", "why": "SYNTHETIC coding of the test fixture."}
        coding_yaml[f"synthetic_{k}"] = CODING_YAML["baseline"]
    coding_rows = []
    for name, meta in all_codings.items():
        p = config / "codings" / f"{name}.yaml"
        p.parent.mkdir(parents=True, exist_ok=True)
        text = (f"name: {name}\nlabel: \"{meta['label']}\"\nproposed_by: \"{meta['proposed_by']}\"\n"
                f"why: \"{meta['why']}\"\n" + coding_yaml[name])
        p.write_text(text, encoding="utf-8")
        coding_rows.append({"coding": name, **meta, "file": f"config/codings/{name}.yaml",
                            "sha256": hashlib.sha256(p.read_bytes()).hexdigest(),
                            "weisiger_changed": 0 if name == "baseline" else 3,
                            "henke_changed": 0 if name == "baseline" else 1})
    _csv(comp / "codings.csv", coding_rows)

    # ---- Weisiger estimates and fits
    est_rows, fit_rows = [], []
    for track, codings in (("original", ["baseline"]), ("rebuilt", list(all_codings))):
        for coding in codings:
            for mid, (table, column, terms) in W_MODELS.items():
                status, message = "ok", ""
                if track == "rebuilt" and mid == "t1_exit_coalition_trend":
                    status, message = "not_estimable", "ctrend60 (War Worsening) cannot be rebuilt from public data"
                fit_rows.append({"model_id": mid, "table": table, "column": column, "status": status,
                                 "message": message, "n_obs": int(rng.integers(900, 1500)),
                                 "n_subjects": int(rng.integers(150, 260)), "n_failures": int(rng.integers(30, 70)),
                                 "n_clusters": int(rng.integers(40, 80)), "loglik": float(np.round(rng.normal(-200, 20), 3)),
                                 "proxies": "foverlap" if track == "rebuilt" else "", "track": track, "coding": coding})
                if status != "ok":
                    continue
                for term in terms:
                    est, se, p = _coef(rng, term)
                    est_rows.append({"model_id": mid, "table": table, "column": column, "term": term,
                                     "label": LABELS.get(term, f"War Worsening ({term[6:]} days)"
                                                         if term.startswith("ctrend") else term),
                                     "estimate": est, "std_error": se, "statistic": est / se, "p_value": p,
                                     "conf_low": est - 1.96 * se, "conf_high": est + 1.96 * se,
                                     "hazard_ratio": float(np.exp(est)),
                                     "proxy": track == "rebuilt" and term == "foverlap",
                                     "track": track, "coding": coding})
    _csv(comp / "weisiger_estimates.csv", est_rows)
    _csv(comp / "weisiger_fits.csv", fit_rows)

    # ---- Henke (rebuilt only; her archive is not obtained)
    h_est, h_fit = [], []
    for coding in all_codings:
        for mid, terms in (("baseline_logit", ["embeddedness", "defense", "polity2"]),
                           ("agreements_only", ["embeddedness_agreements_only"])):
            if mid == "agreements_only":
                h_fit.append({"model_id": mid, "status": "not_estimable",
                              "message": "bilateral agreements have no public source", "n_obs": None,
                              "n_clusters": None, "n_events": None, "loglik": None, "pseudo_r2": None,
                              "track": "rebuilt", "coding": coding})
                continue
            h_fit.append({"model_id": mid, "status": "ok", "message": "", "n_obs": int(rng.integers(1500, 2000)),
                          "n_clusters": int(rng.integers(120, 160)), "n_events": int(rng.integers(60, 110)),
                          "loglik": float(np.round(rng.normal(-300, 10), 3)),
                          "pseudo_r2": float(np.round(rng.uniform(0.1, 0.3), 3)), "track": "rebuilt", "coding": coding})
            for term in terms:
                est, se, p = _coef(rng, term)
                h_est.append({"model_id": mid, "term": term,
                              "label": {"embeddedness": "Diplomatic embeddedness", "defense": "Defence alliance",
                                        "polity2": "Polity score"}[term],
                              "estimate": est, "std_error": se, "statistic": est / se, "p_value": p,
                              "conf_low": est - 1.96 * se, "conf_high": est + 1.96 * se,
                              "ame": float(np.round(est * 0.05, 5)) if term == "embeddedness" else None,
                              "ame_se": float(np.round(se * 0.05, 5)) if term == "embeddedness" else None,
                              "proxy": False, "track": "rebuilt", "coding": coding})
    _csv(comp / "henke_estimates.csv", h_est)
    _csv(comp / "henke_fits.csv", h_fit)

    # ---- status changes (names with characters LaTeX must escape)
    _csv(comp / "status_changes.csv", [
        {"study": "weisiger", "coding": "morey_entrapment", "unit": "France, Crimean War (22), side 1",
         "baseline_status": "exit", "coding_status": "censored"},
        {"study": "weisiger", "coding": "morey_entrapment", "unit": "Côte d'Ivoire & Test_State #2, War 100% (999)",
         "baseline_status": "exit", "coding_status": "censored"},
        {"study": "weisiger", "coding": "morey_entrapment", "unit": "Sardinia/Piedmont, Italian Unification (28), side 1",
         "baseline_status": "censored", "coding_status": "exit"},
        {"study": "henke", "coding": "morey_entrapment", "unit": "Turkey, Korea 1950 ($ ~ ^ {braces})",
         "baseline_status": "joined", "coding_status": "not joined"},
    ])

    # ---- survival curves
    surv = []
    for track, codings in (("original", ["baseline"]), ("rebuilt", list(all_codings))):
        for coding in codings:
            for fo in (0, 1):
                rate = (0.0012 if fo == 0 else 0.0004) * float(rng.uniform(0.8, 1.2))
                for day in range(0, 1501, 50):
                    surv.append({"coding": coding, "track": track, "foverlap": fo, "day": day,
                                 "survival": float(np.round(np.exp(-rate * day), 5))})
    _csv(comp / "survival_curves.csv", surv)

    # ---- variables of each track
    var_rows = [
        {"variable": "foverlap", "label": "Common Front", "status": "proxy",
         "note": "theatre-based proxy: share of WhereFought regions shared with active partners"},
        {"variable": "ctrend60", "label": "War Worsening", "status": "not_available",
         "note": "needs dated battle deaths"},
        {"variable": "pvict", "label": "Relative Capabilities", "status": "rebuilt", "note": "CINC of active members"},
    ]
    for coding in all_codings:
        _csv(results / coding / "weisiger" / "rebuilt" / "variables.csv", var_rows)
    _csv(results / "baseline" / "weisiger" / "original" / "variables.csv", [
        {"variable": v, "label": LABELS.get(v, v), "status": "original",
         "note": "SYNTHETIC TEST DATA - not Weisiger's archive; generated"} for v in FULL])

    # ---- participants (case browser): 6 synthetic participants; one changes status under Morey
    for coding in all_codings:
        parts = []
        for k in range(6):
            censored = coding == "morey_entrapment" and k == 0
            parts.append({"participant": f"900-{100 + k}-1", "war_name": "Synthetic War", "state_name": f"State {k}",
                          "side": 1, "entry_date": "1900-01-01", "exit_date": f"1900-0{k + 2}-01",
                          "exit": 0 if censored or k >= 4 else 1,
                          "exit_reason": "censored_case_rule: synthetic test case" if censored else
                          ("censored_side_end" if k >= 4 else "exit_before_side_end"),
                          "case_file": "morey_entrapment.csv" if censored else "",
                          "case_source": "SYNTHETIC test source" if censored else "",
                          "case_note": "synthetic note" if censored else ""})
        _csv(results / coding / "weisiger" / "rebuilt" / "participants.csv", parts)
        rows = [{"operation_id": op, "ccode": cc, "state_name": f"Country {cc}", "start_date": f"{1950 + i}-06-25",
                 "joined": int((cc + i + (coding != "baseline")) % 3 == 0)}
                for i, op in enumerate(("opa", "opb")) for cc in (20, 200, 220, 255)]
        _csv(results / coding / "henke" / "rebuilt" / "dataset.csv", rows)

    # ---- multiverse: 8 universes, 3 switches
    uni, mv = [], []
    i = 0
    for tol in (0, 30):
        for war_end in ("true", "false"):
            for ent in ("baseline", "morey"):
                i += 1
                uid = f"u{i:02d}"
                status = "failed" if i == 8 else "ok"
                baseline = tol == 0 and war_end == "true" and ent == "baseline"
                uni.append({"universe_id": uid, "tolerance_days": tol, "war_ending_exits": war_end,
                            "entrapment": ent, "is_baseline": baseline, "track": "rebuilt", "model_id": "t2_full",
                            "status": status})
                est, se, p = _coef(rng, "foverlap")
                mv.append({"universe_id": uid, "study": "weisiger", "track": "rebuilt", "model_id": "t2_full",
                           "variant": "as_published", "term": "foverlap",
                           "estimate": est if status == "ok" else None,
                           "conf_low": est - 1.96 * se if status == "ok" else None,
                           "conf_high": est + 1.96 * se if status == "ok" else None,
                           "p_value": p if status == "ok" else None, "model_status": status, "status": status,
                           "is_baseline": baseline,
                           "tolerance_days": tol, "war_ending_exits": war_end, "entrapment": ent})
    _csv(results / "multiverse" / "weisiger_universes.csv", uni)
    _csv(results / "multiverse" / "weisiger_multiverse.csv", mv)

    # ---- published values: one made-up test value, the rest empty
    pub = []
    for mid in ("t1_exit_coalition_trend", "t2_full"):
        table, column, terms = W_MODELS[mid]
        for term in terms:
            row = {"model_id": mid, "term": term, "estimate": None, "std_error": None, "n_subjects": None,
                   "n_failures": None, "table": table, "page": None,
                   "source_note": "NOT READ: the article's table could not be read"}
            if mid == PUBLISHED_TEST_VALUE["model_id"] and term == PUBLISHED_TEST_VALUE["term"]:
                row.update(estimate=PUBLISHED_TEST_VALUE["estimate"], std_error=PUBLISHED_TEST_VALUE["std_error"],
                           page=7, source_note="TEST VALUE of the fixture, not from the article")
            pub.append(row)
    _csv(config / "published" / "weisiger2016.csv", pub)
    _csv(config / "published" / "henke2017.csv", [
        {"model_id": "original_new_logit", "table": None, "page": None, "term": "embeddedness", "quantity": q,
         "value": None, "column_label": None, "note": "not available: Henke's tables could not be read here"}
        for q in ("estimate", "std_error")])

    # ---- archive status and provenance
    _json(archives / "weisiger2016" / "status.json", {
        "available": True, "reason": None, "dataset_doi": "doi:10.7910/DVN/DUFHM1", "source": "weisiger2016",
        "title": "Weisiger (2016) replication archive", "synthetic": True,
        "files": {"data": {"name": "coalition_exit_final.dta", "md5": "0" * 32, "sha256": "a" * 64,
                           "origin": "synthetic:test fixture", "persistent_id": "doi:10.7910/DVN/DUFHM1/HLH8K9"}}})
    _json(archives / "henke2017" / "status.json", {
        "available": False, "reason": UNAVAILABLE_REASON, "dataset_doi": "doi:10.7910/DVN/ZAPWHZ",
        "source": "henke2017", "title": "Henke (2017) replication archive", "files": {}})
    _json(archives / "iwbd" / "status.json", {
        "available": False, "reason": UNAVAILABLE_REASON, "source": "iwbd", "files": {}})
    _json(provenance / "cow_interstate_war_v4.0" / "Inter-StateWarData_v4.0.csv.json", {
        "source": "cow_war", "key": "participants", "path": "cow_interstate_war_v4.0/Inter-StateWarData_v4.0.csv",
        "origin": "mirror:cow_interstate_war_v4.0/Inter-StateWarData_v4.0.csv", "verified_by": "sha256",
        "expected": "2535e30b145141c331a07d12d91e498ad8bdd3db32ba8d3bd88c4fda54817731",
        "sha256": "2535e30b145141c331a07d12d91e498ad8bdd3db32ba8d3bd88c4fda54817731", "bytes": 31698})
    _json(provenance / "polity5" / "p5v2018.csv.json", {
        "source": "polity5", "key": "annual", "path": "polity5/p5v2018.csv", "origin": "mirror:polity5/p5v2018.csv",
        "verified_by": "sha256_lf_normalised", "expected": "b" * 64, "sha256": "c" * 64, "bytes": 123456})
    return {"root": root, "results": results, "config": config, "archives": archives,
            "provenance": provenance, "registry": registry}


#: the paper's templates and bibliography of this checkout (what the paper rule names)
TEMPLATES_DIR = ROOT / "scripts" / "coalitions" / "templates"
PAPER_TEMPLATES = {name: TEMPLATES_DIR / name for name in ("paper.tex.j2", "paper.html.j2", "paper.css",
                                                           "paper_explorer.js")}
ARCHIVE_KEYS = ("henke2017", "iwbd", "weisiger2016")


def paper_inputs(tree: dict[str, Path]):
    """The :class:`coalitions.paper.PaperInputs` of a project tree in the workflow's layout: every file
    of it that the paper rule would name, keyed as the rule keys them (``tree`` as :func:`make_results`
    returns it; ``provenance`` defaults to ``resources/provenance`` beside ``archives``)."""
    from coalitions.paper import PaperInputs

    results, config = Path(tree["results"]), Path(tree["config"])
    archives = tree.get("archives")
    provenance = tree.get("provenance") or (Path(archives).parent / "provenance" if archives else None)

    def files(folder: Path, pattern: str) -> list[Path]:
        return sorted(p for p in folder.glob(pattern) if p.is_file())

    return PaperInputs(
        registry=Path(tree["registry"]),
        templates=PAPER_TEMPLATES,
        literature=TEMPLATES_DIR / "literature.bib",
        models={p.stem: p for p in files(config / "models", "*.yaml")},
        multiverse_config=config / "multiverse.yaml",
        codings={p.stem: p for p in files(config / "codings", "*.yaml")},
        published={p.stem: p for p in files(config / "published", "*.csv")},
        comparison={p.stem: p for p in files(results / "comparison", "*.csv")},
        variables={(p.parts[-4], p.parts[-3], p.parts[-2]): p for p in files(results, "*/*/*/variables.csv")},
        participants={p.parts[-4]: p for p in files(results, "*/weisiger/rebuilt/participants.csv")},
        henke_datasets={p.parts[-4]: p for p in files(results, "*/henke/rebuilt/dataset.csv")},
        cases={p.name: p for p in files(config / "cases", "henke_*.csv")},
        multiverse={p.name: p for p in files(results / "multiverse", "*")},
        archives={a: Path(archives) / a for a in ARCHIVE_KEYS} if archives else {},
        provenance=tuple(files(Path(provenance), "**/*.json")) if provenance else (),
        root=config.parent,
    )

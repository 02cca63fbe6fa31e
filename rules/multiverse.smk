"""Multiverse: every combination of the contested coding choices of config/multiverse.yaml.

One job per study estimates its key model in every universe (the data are built once per distinct set
of build parameters and shared; the universes run in one process with `threads` forked workers), and
one job per study draws its specification curves. The multiverse section and the base coding are
params, and the case files inputs, so editing config/multiverse.yaml re-runs the multiverse only (and
only the study whose section changed).
"""

from coalitions.codings import load_coding
from coalitions.multiverse import case_files as _mv_case_files
from coalitions.multiverse import curve_targets as _mv_curves
from coalitions.multiverse import load_multiverse
from coalitions.multiverse import required_tables as _mv_tables

MULTIVERSE_FILE = "config/multiverse.yaml"
MULTIVERSE = load_multiverse(MULTIVERSE_FILE, models={s: f"config/models/{s}.yaml" for s in ("weisiger", "henke")})


def multiverse_base(study):
    """The study's section of the coding file every universe starts from (plain data)."""
    name = MULTIVERSE[study].coding
    coding = CODINGS[name] if name in CODINGS else load_coding(f"config/codings/{name}.yaml")
    return dict(getattr(coding, study) or {})


def multiverse_inputs(w):
    sm = MULTIVERSE[w.study]
    base = multiverse_base(w.study)
    inputs = {
        "tables": [table_path(t) for t in _mv_tables(sm, base)],
        "models": f"config/models/{w.study}.yaml",
        "case_files": _mv_case_files(sm, base),
    }
    if w.study == "weisiger":
        inputs["cases"] = WEISIGER_CASE_FILES
        if "original" in sm.tracks:
            inputs["archive"] = "resources/original/weisiger2016"
    else:
        inputs["operations"] = "config/cases/henke_operations.csv"
        inputs["contributors"] = "config/cases/henke_contributors.csv"
    return inputs


def multiverse_curves(study):
    return [f"results/multiverse/{stem}.{ext}" for _, _, stem in _mv_curves(MULTIVERSE[study]) for ext in ("png", "svg")]


rule multiverse_run:
    """Every universe of one study: the universes and the tidy table of key coefficients."""
    input:
        unpack(multiverse_inputs),
    output:
        universes="results/multiverse/{study}_universes.csv",
        table="results/multiverse/{study}_multiverse.csv",
    params:
        study=lambda w: w.study,
        section=lambda w: MULTIVERSE[w.study].raw,
        base=lambda w: multiverse_base(w.study),
        origin=MULTIVERSE_FILE,
    wildcard_constraints:
        study="|".join(MULTIVERSE),
    threads: 2
    log:
        "logs/multiverse/{study}.log",
    benchmark:
        "benchmarks/multiverse/{study}.tsv"
    conda:
        CONDA_ENV
    script:
        "../scripts/rules/multiverse.py"


for _study in MULTIVERSE:

    rule:
        name:
            f"multiverse_plot_{_study}"
        input:
            table=f"results/multiverse/{_study}_multiverse.csv",
            models=f"config/models/{_study}.yaml",
        output:
            curves=multiverse_curves(_study),
            summary=f"results/multiverse/{_study}_summary.json",
        params:
            study=_study,
            section=MULTIVERSE[_study].raw,
            origin=MULTIVERSE_FILE,
        log:
            f"logs/multiverse/{_study}_plot.log",
        conda:
            CONDA_ENV
        script:
            "../scripts/rules/multiverse.py"


rule multiverse:
    """The whole multiverse: universes, tables, specification curves and summaries of every study."""
    input:
        expand("results/multiverse/{study}_{file}", study=list(MULTIVERSE),
               file=["universes.csv", "multiverse.csv", "summary.json"]),
        [f for s in MULTIVERSE for f in multiverse_curves(s)],

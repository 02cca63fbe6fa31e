"""Multiverse: every combination of the contested coding choices of config/multiverse.yaml.

One job per study estimates its key model in every universe (the data are built once per distinct set
of build parameters and shared; the universes run in one process with `threads` forked workers), and
one job per study draws its specification curves. The multiverse section and the base coding are
params, and the case files inputs, so editing config/multiverse.yaml re-runs the multiverse only (and
only the study whose section changed). Helpers: coalitions.multiverse (base_section, job_inputs, ...).
"""

from coalitions.multiverse import base_section as _mv_base
from coalitions.multiverse import curve_files as _mv_curve_files
from coalitions.multiverse import job_inputs as _mv_inputs
from coalitions.multiverse import load_multiverse

MULTIVERSE_FILE = "config/multiverse.yaml"
MULTIVERSE = guard(load_multiverse, MULTIVERSE_FILE,
                   models={s: f"config/models/{s}.yaml" for s in ("weisiger", "henke")})
MULTIVERSE_BASE = guard(lambda: {s: _mv_base(sm, CODINGS) for s, sm in MULTIVERSE.items()})


rule multiverse_run:
    """Every universe of one study: the universes and the tidy table of key coefficients."""
    input:
        unpack(lambda w: _mv_inputs(MULTIVERSE[w.study], MULTIVERSE_BASE[w.study], WEISIGER_CASE_FILES)),
    output:
        universes="results/multiverse/{study}_universes.csv",
        table="results/multiverse/{study}_multiverse.csv",
    params:
        study=lambda w: w.study,
        section=lambda w: MULTIVERSE[w.study].raw,
        base=lambda w: MULTIVERSE_BASE[w.study],
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
            curves=_mv_curve_files(MULTIVERSE[_study]),
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
        expand(
            "results/multiverse/{study}_{file}",
            study=list(MULTIVERSE),
            file=["universes.csv", "multiverse.csv", "summary.json"],
        ),
        [f for sm in MULTIVERSE.values() for f in _mv_curve_files(sm)],

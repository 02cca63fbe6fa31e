"""Multiverse: every combination of the contested coding choices of config/multiverse.yaml.

A study's universes are split into `multiverse_shards` shards (config/config.yaml): one job per shard
estimates the key model in each of its universes (the data are built once per distinct set of build
parameters and shared between the shard's universes), one gather job per study
writes the combined tables (byte-identical whatever the number of shards), and one job per study draws
its specification curves. A cluster run spreads the shards over nodes. The multiverse section and the
base coding are params, and the case files inputs, so editing config/multiverse.yaml re-runs the
multiverse only (and only the study whose section changed). Helpers: coalitions.multiverse (base_section,
job_inputs, ...) and coalitions.multiverse_shards.
"""

from coalitions.multiverse import base_section as _mv_base
from coalitions.multiverse import curve_files as _mv_curve_files
from coalitions.multiverse import job_inputs as _mv_inputs
from coalitions.multiverse import load_multiverse
from coalitions.multiverse_shards import shard_count as _mv_shard_count
from coalitions.multiverse_shards import shard_files as _mv_shard_files



MULTIVERSE_FILE = guard(multiverse_file, config)
MULTIVERSE = guard(load_multiverse, MULTIVERSE_FILE,
                   models={s: f"config/models/{s}.yaml" for s in ("weisiger", "henke")})
MULTIVERSE_BASE = guard(lambda: {s: _mv_base(sm, CODINGS) for s, sm in MULTIVERSE.items()})
MULTIVERSE_SHARDS = {
    s: _mv_shard_count(config.get("multiverse_shards", 1), s, sm.n_universes) for s, sm in MULTIVERSE.items()
}


rule multiverse_shard:
    """One shard of a study's universes: their rows of the tidy table of key coefficients."""
    input:
        unpack(lambda w: _mv_inputs(MULTIVERSE[w.study], MULTIVERSE_BASE[w.study], WEISIGER_CASE_FILES)),
    output:
        shard="results/multiverse/shards/{study}/{index}_of_{n}.parquet",
    params:
        study=lambda w: w.study,
        section=lambda w: MULTIVERSE[w.study].raw,
        base=lambda w: MULTIVERSE_BASE[w.study],
        origin=MULTIVERSE_FILE,
    wildcard_constraints:
        study="|".join(MULTIVERSE),
        index=r"[1-9][0-9]*",
        n=r"[1-9][0-9]*",
    # one process per shard: the shards are the parallelism (Snakemake runs --cores of them at once, a
    # cluster spreads them over nodes), and every universe of a shard shares that process's builds and
    # fits (forked workers would each build and fit their own). Measured (README: benchmark): a Weisiger
    # shard of 1,024 universes about 4.5 min and 0.82 GB, a Henke shard of 2,048 about 1.3 min and 0.43 GB
    threads: 1
    resources:
        mem_mb=1500,
        runtime=60,
    log:
        "logs/multiverse/{study}_{index}_of_{n}.log",
    benchmark:
        "benchmarks/multiverse/{study}_{index}_of_{n}.tsv"
    conda:
        CONDA_ENV
    script:
        "../scripts/rules/multiverse_shard.py"


# the gather only concatenates the shards: not worth a cluster job
localrules:
    multiverse_run,


rule multiverse_run:
    """Every universe of one study, gathered from its shards: the universes and the tidy table."""
    input:
        shards=lambda w: _mv_shard_files(w.study, MULTIVERSE_SHARDS[w.study]),
    output:
        universes="results/multiverse/{study}_universes.csv",
        table="results/multiverse/{study}_multiverse.csv",
    params:
        study=lambda w: w.study,
        section=lambda w: MULTIVERSE[w.study].raw,
        origin=MULTIVERSE_FILE,
    wildcard_constraints:
        study="|".join(MULTIVERSE),
    resources:
        mem_mb=1000,
        runtime=10,
    log:
        "logs/multiverse/{study}.log",
    benchmark:
        "benchmarks/multiverse/{study}.tsv"
    conda:
        CONDA_ENV
    script:
        "../scripts/rules/multiverse_shard.py"


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
        resources:
            mem_mb=1000,
            runtime=10,
        log:
            f"logs/multiverse/{_study}_plot.log",
        benchmark:
            f"benchmarks/multiverse/{_study}_plot.tsv"
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

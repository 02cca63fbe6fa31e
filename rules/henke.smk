"""Henke (2017): the contributor-operation data under each coding, and her models."""

from coalitions.entry import HENKE_TABLES


rule henke_rebuilt:
    """Potential contributors x US-led operations from public data; logit, probit and conditional logit."""
    input:
        tables=[table_path(t) for t in HENKE_TABLES],
        operations="config/cases/henke_operations.csv",
        contributors="config/cases/henke_contributors.csv",
        models="config/models/henke.yaml",
    output:
        dataset="results/{coding}/henke/rebuilt/dataset.parquet",
        dataset_csv="results/{coding}/henke/rebuilt/dataset.csv",
        codebook="results/{coding}/henke/rebuilt/dataset_codebook.csv",
        variables="results/{coding}/henke/rebuilt/variables.csv",
        estimates="results/{coding}/henke/rebuilt/estimates.csv",
        fits="results/{coding}/henke/rebuilt/fits.csv",
    params:
        coding=lambda w: CODINGS[w.coding].henke,
    resources:
        mem_mb=1000,
        runtime=15,
    log:
        "logs/{coding}/henke_rebuilt.log",
    benchmark:
        "benchmarks/{coding}/henke_rebuilt.tsv"
    conda:
        CONDA_ENV
    script:
        "../scripts/rules/henke_rebuilt.py"


rule henke_original:
    """Henke's own data files (when obtained), with the model specification of config/models/henke.yaml."""
    input:
        archive="resources/original/henke2017",
        models="config/models/henke.yaml",
    output:
        estimates="results/{coding}/henke/original/estimates.csv",
        fits="results/{coding}/henke/original/fits.csv",
        log_models="results/{coding}/henke/original/log_models.csv",
    resources:
        mem_mb=500,
        runtime=10,
    log:
        "logs/{coding}/henke_original.log",
    benchmark:
        "benchmarks/{coding}/henke_original.tsv"
    conda:
        CONDA_ENV
    script:
        "../scripts/rules/henke_original.py"


rule henke:
    """Henke's study under every coding that changes it (the original track only under the baseline:
    her files are used as they are)."""
    input:
        expand("results/{coding}/henke/rebuilt/{file}", coding=HENKE_CODINGS, file=["estimates.csv", "fits.csv"]),
        expand("results/baseline/henke/original/{file}", file=["estimates.csv", "fits.csv"]),

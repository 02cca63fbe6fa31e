"""Weisiger (2016): analysis data of both tracks under each coding, and every model of the article."""


rule weisiger_rebuilt:
    """Participant-period data rebuilt from COW and other public data, under one coding."""
    input:
        tables=lambda w: [table_path(t) for t in weisiger_tables(w.coding)],
        cases=WEISIGER_CASE_FILES,
        conquest="config/cases/conquest_exits.csv",
        members="config/cases/henke_iraq_afghanistan_members.csv",
        battle_cases=WEISIGER_BATTLE_CASE_FILES,
        iwbd=lambda w: weisiger_iwbd(w.coding),
        coding_cases=lambda w: CODINGS[w.coding].case_files(),
    output:
        periods="results/{coding}/weisiger/rebuilt/periods.parquet",
        periods_csv="results/{coding}/weisiger/rebuilt/periods.csv",
        codebook="results/{coding}/weisiger/rebuilt/periods_codebook.csv",
        participants="results/{coding}/weisiger/rebuilt/participants.csv",
        missing="results/{coding}/weisiger/rebuilt/missing.csv",
        variables="results/{coding}/weisiger/rebuilt/variables.csv",
        applicability="results/{coding}/weisiger/rebuilt/applicability.csv",
        fronts_coverage="results/{coding}/weisiger/rebuilt/fronts_coverage.csv",
    params:
        coding=lambda w: CODINGS[w.coding].weisiger_resolved,
        cases_dir=lambda w, input: os.path.dirname(input.cases[0]),
    resources:
        mem_mb=1000,
        runtime=10,
    log:
        "logs/{coding}/weisiger_rebuilt.log",
    benchmark:
        "benchmarks/{coding}/weisiger_rebuilt.tsv"
    conda:
        CONDA_ENV
    script:
        "../scripts/rules/weisiger_rebuilt.py"


rule weisiger_trends:
    """Battlefield trends of every window (the Fig. 5 sweep) for the rebuilt participants of one coding."""
    input:
        participants="results/{coding}/weisiger/rebuilt/participants.csv",
        tables=lambda w: [table_path(t) for t in weisiger_trend_tables(w.coding)],
        battle_cases=WEISIGER_BATTLE_CASE_FILES,
        iwbd=lambda w: weisiger_iwbd(w.coding),
    output:
        trends="results/{coding}/weisiger/rebuilt/trends.parquet",
        coverage="results/{coding}/weisiger/rebuilt/trends_coverage.csv",
    params:
        coding=lambda w: CODINGS[w.coding].weisiger_resolved,
    resources:
        mem_mb=1000,
        runtime=10,
    log:
        "logs/{coding}/weisiger_trends.log",
    benchmark:
        "benchmarks/{coding}/weisiger_trends.tsv"
    conda:
        CONDA_ENV
    script:
        "../scripts/rules/weisiger_trends.py"


rule weisiger_original:
    """Weisiger's archive (when obtained) as counting-process data, recoded as the coding says."""
    input:
        archive="resources/original/weisiger2016",
        models="config/models/weisiger.yaml",
        war=table_path("cow_war_participants"),
        coding_cases=lambda w: CODINGS[w.coding].case_files(),
    output:
        periods="results/{coding}/weisiger/original/periods.parquet",
        periods_csv="results/{coding}/weisiger/original/periods.csv",
        codebook="results/{coding}/weisiger/original/periods_codebook.csv",
        variables="results/{coding}/weisiger/original/variables.csv",
        applicability="results/{coding}/weisiger/original/applicability.csv",
        status="results/{coding}/weisiger/original/status.json",
    params:
        coding=lambda w: CODINGS[w.coding].weisiger_resolved,
    resources:
        mem_mb=500,
        runtime=10,
    log:
        "logs/{coding}/weisiger_original.log",
    benchmark:
        "benchmarks/{coding}/weisiger_original.tsv"
    conda:
        CONDA_ENV
    script:
        "../scripts/rules/weisiger_original.py"


rule weisiger_models:
    """Every model of config/models/weisiger.yaml on one track and coding."""
    input:
        unpack(weisiger_model_inputs),
    output:
        estimates="results/{coding}/weisiger/{track}/estimates.csv",
        fits="results/{coding}/weisiger/{track}/fits.csv",
        survival="results/{coding}/weisiger/{track}/survival.csv",
        dropped="results/{coding}/weisiger/{track}/dropped.csv",
    resources:
        mem_mb=1000,
        runtime=15,
    log:
        "logs/{coding}/weisiger_models_{track}.log",
    benchmark:
        "benchmarks/{coding}/weisiger_models_{track}.tsv"
    conda:
        CONDA_ENV
    script:
        "../scripts/rules/weisiger_models.py"


rule weisiger:
    """Both tracks of Weisiger's study under every coding that changes it."""
    input:
        expand(
            "results/{coding}/weisiger/{track}/{file}",
            coding=WEISIGER_CODINGS,
            track=["original", "rebuilt"],
            file=["estimates.csv", "fits.csv"],
        ),

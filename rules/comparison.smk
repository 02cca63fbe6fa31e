"""Every coding side by side: stacked estimates, what each coding changes, survival curves."""

COMPARISON_TABLES = [
    "weisiger_estimates",
    "weisiger_fits",
    "henke_estimates",
    "henke_fits",
    "codings",
    "status_changes",
    "survival_curves",
    "henke_korea1950",
]


rule comparison:
    input:
        expand(
            "results/{coding}/weisiger/{track}/{file}",
            coding=WEISIGER_CODINGS,
            track=["original", "rebuilt"],
            file=["estimates.csv", "fits.csv", "survival.csv", "applicability.csv"],
        ),
        expand(
            "results/{coding}/weisiger/rebuilt/{file}",
            coding=WEISIGER_CODINGS,
            file=["participants.csv", "periods.parquet"],
        ),
        expand(
            "results/{coding}/henke/rebuilt/{file}",
            coding=HENKE_CODINGS,
            file=["estimates.csv", "fits.csv", "dataset.parquet"],
        ),
        expand("results/baseline/henke/original/{file}", file=["estimates.csv", "fits.csv"]),
        codings=[CODINGS[c].path for c in CODINGS],
    output:
        [
            report(f"results/comparison/{name}.csv", caption="../report/comparison.rst", category="Comparison")
            for name in COMPARISON_TABLES
        ],
    params:
        names=COMPARISON_TABLES,
        codings=list(CODINGS),
        weisiger_codings=WEISIGER_CODINGS,
        henke_codings=HENKE_CODINGS,
        codings_dir=lambda w, input: os.path.dirname(input.codings[0]),
    resources:
        mem_mb=1000,
        runtime=10,
    log:
        "logs/comparison.log",
    benchmark:
        "benchmarks/comparison.tsv"
    conda:
        CONDA_ENV
    script:
        "../scripts/rules/comparison.py"

"""The journal replication package: code, configuration, outputs and a README (no third-party data)."""


rule package:
    input:
        registry=REGISTRY_FILE,
        comparison=rules.comparison.output,
        paper=rules.paper.output,
        multiverse=rules.multiverse.input,
    output:
        "results/replication-package.zip",
    resources:
        mem_mb=1000,
        runtime=20,
    log:
        "logs/package.log",
    benchmark:
        "benchmarks/package.tsv"
    conda:
        CONDA_ENV
    script:
        "../scripts/rules/package.py"

"""The journal replication package: code, configuration, outputs and a README (no third-party data)."""

from coalitions.package import declared_resources as _declared_resources
from coalitions.package import tracked_files as _tracked_files

# what the package ships under outputs/: the tables, figures and paper, each made by a rule of the DAG
PACKAGE_OUTPUTS = (
    expand(
        "results/{coding}/weisiger/{track}/{file}",
        coding=WEISIGER_CODINGS,
        track=["original", "rebuilt"],
        file=["estimates.csv", "fits.csv", "applicability.csv", "variables.csv", "periods_codebook.csv"],
    )
    + expand("results/{coding}/weisiger/rebuilt/participants.csv", coding=WEISIGER_CODINGS)
    + expand(
        "results/{coding}/henke/rebuilt/{file}",
        coding=HENKE_CODINGS,
        file=["estimates.csv", "fits.csv", "variables.csv", "dataset_codebook.csv"],
    )
    + expand("results/baseline/henke/original/{file}", file=["estimates.csv", "fits.csv"])
)


rule package:
    input:
        registry=REGISTRY_FILE,
        comparison=rules.comparison.output,
        paper=rules.paper.output,
        multiverse=rules.multiverse.input,
        outputs=PACKAGE_OUTPUTS,
        readme_template="scripts/coalitions/templates/package_README.md.j2",
        # the code and configuration shipped: what git tracks (an error outside a git checkout)
        code=lambda w: guard(_tracked_files),
    output:
        "results/replication-package.zip",
    params:
        # outputs/ mirrors the folder the package is written into (results/)
        results=lambda w, output: os.path.dirname(output[0]),
        requirements=lambda w: _declared_resources(workflow.rules),
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

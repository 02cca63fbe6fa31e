"""The comparison paper (HTML always; LaTeX and, with a TeX engine, PDF)."""


rule paper:
    input:
        registry=REGISTRY_FILE,
        comparison=rules.comparison.output,
        multiverse=rules.multiverse.input,
        codings=[CODINGS[c].path for c in CODINGS],
        published=["config/published/weisiger2016.csv", "config/published/henke2017.csv"],
        provenance=expand("resources/provenance/{relpath}.json", relpath=sorted(PUBLIC_FILES)),
        archives=expand("resources/original/{archive}", archive=sorted(ARCHIVES)),
        # the answer's variable status, the case browser and the multiverse explorer of the HTML version
        variables=expand("results/{coding}/weisiger/rebuilt/variables.csv", coding=WEISIGER_CODINGS)
        + expand("results/{coding}/henke/rebuilt/variables.csv", coding=HENKE_CODINGS),
        participants=expand("results/{coding}/weisiger/rebuilt/participants.csv", coding=WEISIGER_CODINGS),
        henke_datasets=expand("results/{coding}/henke/rebuilt/dataset.csv", coding=HENKE_CODINGS),
        henke_cases=sorted(str(p) for p in Path("config/cases").glob("henke_*.csv")),
        multiverse_config=MULTIVERSE_FILE,
    output:
        **PAPER_OUTPUTS,
    params:
        pdf=BUILD_PDF,
    resources:
        mem_mb=1000,
        runtime=20,
    log:
        "logs/paper.log",
    benchmark:
        "benchmarks/paper.tsv"
    conda:
        CONDA_ENV
    script:
        "../scripts/rules/paper.py"

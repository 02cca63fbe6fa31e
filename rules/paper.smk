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

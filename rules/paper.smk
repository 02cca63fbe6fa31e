"""The comparison paper (HTML always; LaTeX and, with a TeX engine, PDF)."""

# Every file the paper reads is an input (coalitions.paper.inputs.PaperInputs): for each list input,
# params.order names its files in the same order, so that the paper never looks for a file itself.
PAPER_TEMPLATES = [f"scripts/coalitions/templates/{name}" for name in ("paper.tex.j2", "paper.html.j2", "paper.css", "paper_explorer.js")]
PAPER_STUDIES = ["weisiger", "henke"]
PAPER_PUBLISHED = ["weisiger2016", "henke2017"]
PAPER_VARIABLES = [(c, "weisiger", t) for c in WEISIGER_CODINGS for t in ("original", "rebuilt")] + [
    (c, "henke", "rebuilt") for c in HENKE_CODINGS
]


rule paper:
    input:
        registry=REGISTRY_FILE,
        templates=PAPER_TEMPLATES,
        literature="scripts/coalitions/templates/literature.bib",
        # the code of the paper (its prose is coalitions/paper/prose.py): an edit re-runs the paper
        code=sorted(str(p) for p in Path("scripts/coalitions/paper").glob("*.py")),
        models=[f"config/models/{s}.yaml" for s in PAPER_STUDIES],
        comparison=rules.comparison.output,
        multiverse=rules.multiverse.input,
        codings=[CODINGS[c].path for c in CODINGS],
        published=[f"config/published/{a}.csv" for a in PAPER_PUBLISHED],
        provenance=expand("resources/provenance/{relpath}.json", relpath=sorted(PUBLIC_FILES)),
        archives=expand("resources/original/{archive}", archive=sorted(ARCHIVES)),
        # the answer's variable status, the case browser and the multiverse explorer of the HTML version
        variables=[f"results/{c}/{s}/{t}/variables.csv" for c, s, t in PAPER_VARIABLES],
        participants=expand("results/{coding}/weisiger/rebuilt/participants.csv", coding=WEISIGER_CODINGS),
        henke_datasets=expand("results/{coding}/henke/rebuilt/dataset.csv", coding=HENKE_CODINGS),
        henke_cases=sorted(str(p) for p in Path("config/cases").glob("henke_*.csv")),
        multiverse_config=MULTIVERSE_FILE,
    output:
        **PAPER_OUTPUTS,
    params:
        pdf=BUILD_PDF,
        order={
            "models": PAPER_STUDIES,
            "comparison": COMPARISON_TABLES,
            "codings": list(CODINGS),
            "published": PAPER_PUBLISHED,
            "archives": sorted(ARCHIVES),
            "variables": [list(k) for k in PAPER_VARIABLES],
            "participants": WEISIGER_CODINGS,
            "henke_datasets": HENKE_CODINGS,
        },
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

"""Data layer: fetch every registry file (verified), then one clean, validated table per dataset.

Resources (mem_mb, runtime in minutes) of every rule of the workflow are set from the figures that
`benchmark:` records in benchmarks/ (max_rss, wall time) for a default build on a 2-core machine, with
at least two times headroom; they are what a cluster run (profiles/slurm) asks the scheduler for.
"""

# downloads run where Snakemake runs: compute nodes of a cluster often have no internet
localrules:
    fetch_public,
    fetch_archive,



rule fetch_public:
    """Download (or copy from the mirror) one public file and verify its checksum."""
    output:
        data="resources/raw/{relpath}",
        provenance="resources/provenance/{relpath}.json",
    params:
        mirror=MIRROR_PARAM,
        retries=DOWNLOAD["retries"],
        timeout=DOWNLOAD["timeout"],
        entry=lambda w: entry_params(PUBLIC_FILES[w.relpath]),
    resources:
        mem_mb=500,
        runtime=30,
    log:
        "logs/fetch/{relpath}.log",
    benchmark:
        "benchmarks/fetch/{relpath}.tsv"
    conda:
        CONDA_ENV
    retries: 0
    script:
        "../scripts/rules/fetch_public.py"


rule fetch_archive:
    """An author's Dataverse archive: fetched and verified when it can be had, else a status saying why."""
    output:
        directory("resources/original/{archive}"),
    params:
        source=lambda w: source_params(ARCHIVES[w.archive]),
        mirror=MIRROR_PARAM,
        # IWBD (battle data, not an author's archive) is never required: without it the trends use CDB90
        require=lambda w: config["require_original_archives"] and w.archive != "iwbd",
        server=config.get("dataverse_server"),
        retries=DOWNLOAD["retries"],
        timeout=DOWNLOAD["timeout"],
    resources:
        mem_mb=500,
        runtime=30,
    log:
        "logs/fetch/{archive}.log",
    benchmark:
        "benchmarks/fetch/{archive}.tsv"
    conda:
        CONDA_ENV
    script:
        "../scripts/rules/fetch_archive.py"


rule clean_table:
    """Raw file -> tidy, typed table, checked against its schema as it is written."""
    input:
        raw=lambda w: raw_path(TABLES[w.table].source, TABLES[w.table].file),
        provenance=lambda w: provenance_path(TABLES[w.table].source, TABLES[w.table].file),
    output:
        "results/sources/{table}.parquet",
    params:
        rows=lambda w: REGISTRY.file(TABLES[w.table].source, TABLES[w.table].file).rows,
        entry=lambda w: entry_params(REGISTRY.file(TABLES[w.table].source, TABLES[w.table].file)),
    resources:
        mem_mb=1000,
        runtime=10,
    log:
        "logs/clean/{table}.log",
    benchmark:
        "benchmarks/clean/{table}.tsv"
    conda:
        CONDA_ENV
    script:
        "../scripts/rules/clean_table.py"


rule data:
    """Every clean table and the status of both original archives."""
    input:
        expand("results/sources/{table}.parquet", table=sorted(TABLES)),
        expand("resources/original/{archive}", archive=sorted(ARCHIVES)),

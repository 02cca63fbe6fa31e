"""Replication workflow for research on military coalitions (Weisiger 2016; Henke 2017).

`snakemake --cores 8` builds everything that config/config.yaml lists. See README.md.
"""

from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config/config.yaml"


validate(config, "config/schema.yaml")


include: "rules/common.smk"
include: "rules/data.smk"


rule all:
    default_target: True
    input:
        rules.data.input,

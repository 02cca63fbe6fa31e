"""Replication workflow for research on military coalitions (Weisiger 2016; Henke 2017).

`snakemake --cores 8` builds everything that config/config.yaml lists. See README.md.
"""

import os

from snakemake.utils import min_version, validate

min_version("9.0")

# Each job gets one core: keep numerical libraries from starting a thread per core in every job.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


# bad input at start-up is one line naming the file, key or row (coalitions.guard; --verbose: traceback);
# the configuration files are read strictly first (duplicate keys, YAML tags)
import coalitions.guard as _guard

_guard.VERBOSE = bool(getattr(getattr(workflow, "output_settings", None), "verbose", False))
_guard.guard(_guard.check_config_files, ["config/config.yaml", "config/schema.yaml", *workflow.overwrite_configfiles])


configfile: "config/config.yaml"


report: "report/workflow.rst"


_guard.guard(_guard.check_config, config, "config/schema.yaml")  # true/false/numbers typed, then checked
validate(config, "config/schema.yaml")  # sets the schema's defaults


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/weisiger.smk"
include: "rules/henke.smk"
include: "rules/comparison.smk"
include: "rules/multiverse.smk"
include: "rules/paper.smk"
include: "rules/package.smk"


rule all:
    default_target: True
    input:
        rules.data.input,
        rules.weisiger.input,
        rules.henke.input,
        rules.comparison.output,
        rules.multiverse.input,
        rules.paper.output,

"""Thin wrapper: the logic is in coalitions.entry.multiverse_run / multiverse_plot."""
from coalitions.entry import multiverse_plot, multiverse_run

(multiverse_plot if snakemake.rule.startswith("multiverse_plot") else multiverse_run)(snakemake)  # noqa: F821

"""Thin wrapper: the logic is in coalitions.entry.multiverse_plot (shards and gather: multiverse_shard.py)."""
from coalitions.entry import multiverse_plot

multiverse_plot(snakemake)  # noqa: F821

"""Thin wrapper: the logic is in coalitions.entry.comparison."""
from coalitions.entry import comparison

comparison(snakemake)  # noqa: F821 (injected by Snakemake)

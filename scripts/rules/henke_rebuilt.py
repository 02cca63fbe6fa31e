"""Thin wrapper: the logic is in coalitions.entry.henke_rebuilt."""
from coalitions.entry import henke_rebuilt

henke_rebuilt(snakemake)  # noqa: F821 (injected by Snakemake)

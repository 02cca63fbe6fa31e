"""Thin wrapper: the logic is in coalitions.entry.weisiger_rebuilt."""
from coalitions.entry import weisiger_rebuilt

weisiger_rebuilt(snakemake)  # noqa: F821 (injected by Snakemake)

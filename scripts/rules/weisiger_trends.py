"""Thin wrapper: the logic is in coalitions.entry.weisiger_trends."""
from coalitions.entry import weisiger_trends

weisiger_trends(snakemake)  # noqa: F821 (injected by Snakemake)

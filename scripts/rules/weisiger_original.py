"""Thin wrapper: the logic is in coalitions.entry.weisiger_original."""
from coalitions.entry import weisiger_original

weisiger_original(snakemake)  # noqa: F821 (injected by Snakemake)

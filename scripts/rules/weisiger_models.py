"""Thin wrapper: the logic is in coalitions.entry.weisiger_models."""
from coalitions.entry import weisiger_models

weisiger_models(snakemake)  # noqa: F821 (injected by Snakemake)

"""Thin wrapper: the logic is in coalitions.entry.clean_table."""
from coalitions.entry import clean_table

clean_table(snakemake)  # noqa: F821 (injected by Snakemake)

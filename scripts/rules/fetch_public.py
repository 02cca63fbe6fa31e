"""Thin wrapper: the logic is in coalitions.entry.fetch_public."""
from coalitions.entry import fetch_public

fetch_public(snakemake)  # noqa: F821 (injected by Snakemake)

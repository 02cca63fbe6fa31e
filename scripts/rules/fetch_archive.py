"""Thin wrapper: the logic is in coalitions.entry.fetch_archive."""
from coalitions.entry import fetch_archive

fetch_archive(snakemake)  # noqa: F821 (injected by Snakemake)

"""Thin wrapper: the logic is in coalitions.entry.paper."""
from coalitions.entry import paper

paper(snakemake)  # noqa: F821 (injected by Snakemake)

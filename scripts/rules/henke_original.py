"""Thin wrapper: the logic is in coalitions.entry.henke_original."""
from coalitions.entry import henke_original

henke_original(snakemake)  # noqa: F821 (injected by Snakemake)

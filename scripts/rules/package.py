"""Thin wrapper: the logic is in coalitions.entry.package."""
from coalitions.entry import package

package(snakemake)  # noqa: F821 (injected by Snakemake)

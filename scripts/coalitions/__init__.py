"""Reproducible replication workflow for research on military coalitions.

The package holds all logic; the Snakemake rules in ``rules/`` are thin wrappers around the
entry points in :mod:`coalitions.entry`.
"""

__version__ = "0.1.0"

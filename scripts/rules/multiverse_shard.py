"""Thin wrapper: the logic is in coalitions.multiverse_shards.multiverse_shard / multiverse_gather."""
from coalitions.multiverse_shards import multiverse_gather, multiverse_shard

(multiverse_shard if snakemake.rule == "multiverse_shard" else multiverse_gather)(snakemake)  # noqa: F821

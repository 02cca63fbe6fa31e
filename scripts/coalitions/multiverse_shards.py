"""The multiverse as Snakemake jobs: universes split into shards, one job per shard, then a gather.

A study's universes (:func:`coalitions.multiverse.expand_universes`) are cut into ``n`` shards
(``multiverse_shards`` in config/config.yaml). Each shard is one job that runs
:func:`coalitions.multiverse.run_study_multiverse` on its universes, sharing builds between them exactly as
the one-job multiverse does, and writes its rows of the tidy table as Parquet (binary, so that no float is
re-parsed). The gather job concatenates the shards, puts the rows in the order a one-shard run gives
(universes in :func:`expand_universes` order, then tracks, then terms), checks that every universe appears
exactly once per track and term, and writes ``{study}_multiverse.csv`` and ``{study}_universes.csv``: the
same files, byte for byte, whatever the number of shards (``tests/test_multiverse_shards.py``).

Which universe goes to which shard is chosen so that the universes that share a build land together: the
universes are ordered by the switches that change the data build first (for Weisiger those that change the
periods, then those that change only who exits; for Henke those that are not applied after the build) and
the applied-after-the-build switches last, and the ordered list is cut into ``n`` contiguous pieces of
(nearly) equal size. Every universe's estimate depends only on its own coding, never on its shard.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .multiverse import (EXIT_FIELDS, HENKE_POST_BUILD, LIST_KEYS, RESERVED, TABLE_COLUMNS, WEISIGER_POST_BUILD,
                         StudyMultiverse, expand_universes, universe_status)
from .util import LOG, CoalitionsError, write_csv_atomic

__all__ = ["shard_count", "shard_order", "shard_universes", "shard_file", "shard_files", "gather_shards",
           "run_shard", "multiverse_shard", "multiverse_gather"]

#: how a shard file is named: results/multiverse/shards/{study}/{index}_of_{n}.parquet
_SHARD_RE = re.compile(r"(\d+)_of_(\d+)\.parquet$")


def shard_count(setting: Any, study: str, n_universes: int) -> int:
    """The number of shards of a study from the config value ``multiverse_shards``: a whole number for
    every study, or a mapping ``{study: number}`` (a study not named gets 1); never more than the study's
    universes."""
    if isinstance(setting, Mapping):
        setting = setting.get(study, 1)
    if setting is None:
        setting = 1
    if isinstance(setting, bool) or not isinstance(setting, int) or setting < 1:
        raise CoalitionsError(f"config: multiverse_shards must be a whole number >= 1 (or a mapping of study to "
                              f"one), got {setting!r} for {study}")
    return max(1, min(int(setting), int(n_universes)))


def _switch_rank(sm: StudyMultiverse) -> list[int]:
    """0 = changes the data build (Weisiger: the periods), 1 = changes only who exits (Weisiger), 2 = applied
    after the build (or the model only)."""
    ranks = []
    for sw in sm.switches:
        params = {k for k in sw.parameters if k not in RESERVED}
        if sm.study == "weisiger":
            if params <= set(WEISIGER_POST_BUILD):
                ranks.append(2)
            elif params <= (set(EXIT_FIELDS) | set(LIST_KEYS["weisiger"])):
                ranks.append(1)
            else:
                ranks.append(0)
        else:
            ranks.append(2 if params <= set(HENKE_POST_BUILD) else 0)
    return ranks


def shard_order(sm: StudyMultiverse, universes: pd.DataFrame) -> pd.DataFrame:
    """The universes in the order shards are cut from: build-changing switches vary slowest."""
    ranks = _switch_rank(sm)
    cols = [sw.name for _, _, sw in sorted(zip(ranks, range(len(ranks)), sm.switches), key=lambda t: t[:2])]
    keys = pd.DataFrame({c: universes[c].map({v: i for i, v in enumerate(sm.switch(c).labels)}) for c in cols})
    order = np.lexsort([keys[c].to_numpy() for c in reversed(cols)]) if cols else np.arange(len(universes))
    return universes.iloc[order]


def shard_universes(sm: StudyMultiverse, universes: pd.DataFrame, n_shards: int) -> list[pd.DataFrame]:
    """The universes of each of ``n_shards`` shards (contiguous pieces of :func:`shard_order`)."""
    if n_shards < 1:
        raise CoalitionsError(f"shard_universes: the number of shards must be >= 1, got {n_shards}")
    ordered = shard_order(sm, universes)
    n = max(1, min(n_shards, len(ordered)))
    bounds = np.linspace(0, len(ordered), n + 1).round().astype(int)
    return [ordered.iloc[bounds[i]:bounds[i + 1]] for i in range(n)]


def shard_file(study: str, index: int, n: int, folder: str = "results/multiverse/shards") -> str:
    return f"{folder}/{study}/{index + 1}_of_{n}.parquet"


def shard_files(study: str, n: int, folder: str = "results/multiverse/shards") -> list[str]:
    return [shard_file(study, i, n, folder) for i in range(n)]


def _shard_index(path: str | Path) -> tuple[int, int]:
    m = _SHARD_RE.search(str(path))
    if not m:
        raise CoalitionsError(f"{path}: not a multiverse shard file (expected <index>_of_<n>.parquet)")
    i, n = int(m.group(1)), int(m.group(2))
    if not 1 <= i <= n:
        raise CoalitionsError(f"{path}: shard index {i} is outside 1..{n}")
    return i - 1, n


def run_shard(sm: StudyMultiverse, index: int, n: int, **run_kw: Any) -> pd.DataFrame:
    """The tidy table of one shard's universes (``run_kw``: the arguments of ``run_study_multiverse`` but the
    universes)."""
    from .multiverse import run_study_multiverse

    shards = shard_universes(sm, expand_universes(sm), n)
    if index >= len(shards):
        raise CoalitionsError(f"{sm.study} multiverse: shard {index + 1} of {n} does not exist "
                              f"({sm.n_universes} universes make {len(shards)} shard(s))")
    sub = shards[index]
    LOG.info("%s multiverse: shard %d of %d, %d universe(s)", sm.study, index + 1, n, len(sub))
    return run_study_multiverse(sm.study, sub, config=sm, **run_kw)


def gather_shards(sm: StudyMultiverse, parts: Sequence[pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(tidy table, universes table) of the whole study from its shards' tables, in a one-shard run's order.

    Every universe of the study must appear exactly once per track and term, and no other row."""
    universes = expand_universes(sm)
    sw_cols = [s.name for s in sm.switches]
    cols = [*TABLE_COLUMNS, *sw_cols]
    for i, p in enumerate(parts):
        if list(p.columns) != cols:
            raise CoalitionsError(f"{sm.study} multiverse: shard {i + 1} has the columns {list(p.columns)}, "
                                  f"expected {cols} (re-run the shards: the configuration changed)")
    table = pd.concat(list(parts), ignore_index=True) if parts else pd.DataFrame(columns=cols)
    pos = pd.Series(np.arange(len(universes)), index=universes["universe_id"])
    unknown = sorted(set(table["universe_id"]) - set(pos.index))
    if unknown:
        raise CoalitionsError(f"{sm.study} multiverse: the shards hold universe(s) {unknown[:3]} that the "
                              f"configuration does not define (re-run the shards)")
    track_order = {t: i for i, t in enumerate(sm.tracks)}
    term_order = {(t, term): i for t, spec in sm.tracks.items() for i, term in enumerate(spec.terms)}
    key = pd.DataFrame({"_u": table["universe_id"].map(pos).to_numpy(),
                        "_t": table["track"].map(track_order).to_numpy(),
                        "_k": [term_order.get((t, k), 99) for t, k in zip(table["track"], table["term"])]})
    order = np.lexsort([key["_k"].to_numpy(), key["_t"].to_numpy(), key["_u"].to_numpy()])
    table = table.iloc[order].reset_index(drop=True)
    expected = len(universes) * sum(len(s.terms) for s in sm.tracks.values())
    dup = table.duplicated(["universe_id", "track", "term"])
    if len(table) != expected or dup.any():
        missing = len(set(universes["universe_id"]) - set(table["universe_id"]))
        raise CoalitionsError(f"{sm.study} multiverse: the shards hold {len(table)} row(s), expected {expected} "
                              f"(one per universe, track and term); {missing} universe(s) missing, "
                              f"{int(dup.sum())} duplicated")
    for c in ("n_obs", "n_events"):
        table[c] = pd.array(table[c], dtype="Int64")
    table["is_baseline"] = table["is_baseline"].astype(bool)
    return table, universe_status(table, universes, sm)


# ------------------------------------------------------------------------------------------------
# Snakemake entry points (scripts/rules/multiverse_shard.py, multiverse_gather.py)


def _logged(fn):
    from .entry import _entry

    return _entry(fn)


def multiverse_shard(smk: Any) -> None:
    _logged(_multiverse_shard)(smk)


def multiverse_gather(smk: Any) -> None:
    _logged(_multiverse_gather)(smk)


def _multiverse_shard(smk: Any) -> None:
    """One shard of a study: ``results/multiverse/shards/{study}/{i}_of_{n}.parquet``."""
    import os

    from .multiverse import parse_study
    from .util import atomic_path

    study = smk.params.study
    sm = parse_study(study, smk.params.section, origin=smk.params.origin)
    index, n = _shard_index(smk.output.shard)
    # read every table once, before the workers fork (they share the parent's memory)
    tables = {Path(p).stem: pd.read_parquet(p) for p in smk.input.tables}
    kw: dict[str, Any] = {}
    if study == "weisiger":
        from .weisiger.battle_periods import battle_case_tables, iwbd_tables

        tables.update(battle_case_tables(smk.input.battle_cases))  # the CDB90 actor mapping and corrections
        tables.update(iwbd_tables(smk.input.get("iwbd") or []))
        kw["cases_dir"] = os.path.dirname(smk.input.cases[0])
        kw["archive_dir"] = smk.input.get("archive")
    else:
        kw["operations_path"] = smk.input.operations
        kw["contributors_path"] = smk.input.contributors
    table = run_shard(sm, index, n, tables=tables, models_path=smk.input.models, base=smk.params.base,
                      workers=max(1, int(smk.threads)), **kw)
    out = Path(smk.output.shard)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        table.to_parquet(tmp, index=False)
    LOG.info("%s multiverse shard %d of %d: %d rows", study, index + 1, n, len(table))


def _multiverse_gather(smk: Any) -> None:
    """``{study}_multiverse.csv`` and ``{study}_universes.csv`` from the study's shards."""
    from .multiverse import parse_study

    study = smk.params.study
    sm = parse_study(study, smk.params.section, origin=smk.params.origin)
    files = sorted(smk.input.shards, key=lambda p: _shard_index(p)[0])
    ns = {_shard_index(p)[1] for p in files}
    if len(ns) != 1 or len(files) != next(iter(ns)):
        raise CoalitionsError(f"{study} multiverse: the gather needs every shard of one split, got {files}")
    table, universes = gather_shards(sm, [pd.read_parquet(p) for p in files])
    write_csv_atomic(table, smk.output.table)
    write_csv_atomic(universes, smk.output.universes)
    LOG.info("%s multiverse: %d universes from %d shard(s), %d rows", study, sm.n_universes, len(files), len(table))

"""One reader per dataset file: raw file -> tidy, typed, validated table.

``TABLES`` maps each clean table's name to the registry file it reads, the reader and its schema.
The Snakemake rule ``clean_table`` writes ``results/sources/{table}.parquet`` for each of them.
Row counts that the registry records for a file (``rows``) are enforced for tables that keep one
row per source row.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

import pandas as pd

from ..schema import TableSchema, write_table
from ..util import CoalitionsError
from . import cdb90, cow, diplomatic, iwbd, other


@dataclass(frozen=True)
class TableSpec:
    source: str  # registry source key
    file: str  # registry file key
    reader: Callable[[str], pd.DataFrame]
    schema: TableSchema
    one_row_per_source_row: bool = True


TABLES: dict[str, TableSpec] = {
    "cow_war_participants": TableSpec("cow_war", "participants", cow.read_cow_war, cow.WAR_SCHEMA),
    "cow_states": TableSpec("cow_states", "states", cow.read_cow_states, cow.STATES_SCHEMA),
    "cow_system": TableSpec("cow_states", "system", cow.read_cow_system, cow.SYSTEM_SCHEMA),
    "cow_majors": TableSpec("cow_states", "majors", cow.read_cow_majors, cow.MAJORS_SCHEMA),
    "cow_nmc5": TableSpec("cow_nmc5", "nmc", cow.read_nmc_csv, cow.nmc_schema("cow_nmc5", "5.0")),
    "cow_nmc6": TableSpec("cow_nmc6", "nmc", cow.read_nmc_csv, cow.nmc_schema("cow_nmc6", "6.0")),
    "cow_nmc7": TableSpec("peacesciencer", "cow_nmc", other.read_ps_nmc,
                          cow.nmc_schema("cow_nmc7", "7.0 (via peacesciencer)")),
    "cow_contdir": TableSpec("cow_contiguity", "contdir", cow.read_contdir, cow.CONTDIR_SCHEMA),
    "cow_contdird": TableSpec("cow_contiguity", "contdird", cow.read_contdird, cow.CONTDIRD_SCHEMA),
    "cow_contdirs": TableSpec("cow_contiguity", "contdirs", cow.read_contdirs, cow.CONTDIRS_SCHEMA),
    "cow_trade_national": TableSpec("cow_trade", "national", cow.read_trade, cow.TRADE_SCHEMA),
    "cow_igo_memberships": TableSpec("cow_igo", "state_year", cow.read_igo_state_year, cow.IGO_SY_SCHEMA,
                                     one_row_per_source_row=False),
    "cow_igo_years": TableSpec("cow_igo", "igo_year", cow.read_igo_year, cow.IGO_IY_SCHEMA),
    "atop_state_year": TableSpec("atop", "state_year", other.read_atop_sy, other.ATOP_SY_SCHEMA),
    "polity5": TableSpec("polity5", "annual", other.read_polity, other.POLITY_SCHEMA),
    "unga_idealpoints": TableSpec("unga_idealpoints", "idealpoints", other.read_unga, other.UNGA_SCHEMA),
    "atop_dyad_year": TableSpec("peacesciencer", "atop_alliance", other.read_ps_atop_alliance,
                                other.PS_ATOP_SCHEMA),
    "igo_counts_state_year": TableSpec("peacesciencer", "cow_igo_sy", other.read_ps_igo_sy,
                                       other.PS_IGO_SY_SCHEMA),
    "igo_shared_dyad_year": TableSpec("peacesciencer", "cow_igo_ndy", other.read_ps_igo_ndy,
                                      other.PS_IGO_NDY_SCHEMA),
    "democracy_state_year": TableSpec("peacesciencer", "ccode_democracy", other.read_ps_democracy,
                                      other.PS_DEMOCRACY_SCHEMA),
    "capitals": TableSpec("peacesciencer", "cow_capitals", other.read_ps_capitals, other.PS_CAPITALS_SCHEMA),
    "mindist_dyad_year": TableSpec("peacesciencer", "cow_mindist", other.read_ps_mindist,
                                   other.PS_MINDIST_SCHEMA),
    "archigos_leaders": TableSpec("peacesciencer", "archigos", other.read_ps_archigos, other.PS_ARCHIGOS_SCHEMA),
    "gml_mid_participants": TableSpec("peacesciencer", "gml_part", other.read_ps_gml, other.PS_GML_SCHEMA),
    "cow_diplomatic_exchange": TableSpec("cow_diplomatic_exchange", "dyad_years", diplomatic.read_diplomatic_exchange,
                                         diplomatic.SCHEMA),
    "peacesciencer_versions": TableSpec("peacesciencer", "ps_data_version", other.read_ps_versions,
                                        other.PS_VERSIONS_SCHEMA),
    "cdb90_battles": TableSpec("cdb90", "battles", cdb90.read_battles, cdb90.BATTLES_SCHEMA),
    "cdb90_belligerents": TableSpec("cdb90", "belligerents", cdb90.read_belligerents, cdb90.BELLIGERENTS_SCHEMA),
    "cdb90_battle_actors": TableSpec("cdb90", "battle_actors", cdb90.read_battle_actors,
                                     cdb90.BATTLE_ACTORS_SCHEMA),
    "cdb90_active_periods": TableSpec("cdb90", "active_periods", cdb90.read_active_periods,
                                      cdb90.ACTIVE_PERIODS_SCHEMA),
}

#: tables of optional sources fetched like the authors' archives (``resources/original/<source>/``,
#: with a status.json): not built by ``clean_table`` (the file may not be there); read with
#: ``iwbd.load_iwbd`` when the status says it is available
ARCHIVE_TABLES: dict[str, TableSpec] = {
    "iwbd_battles": TableSpec("iwbd", "battles", iwbd.read_iwbd, iwbd.IWBD_SCHEMA),
}


def schema_for(name: str, rows: int | None = None) -> TableSchema:
    """The table's schema, with the registry's row count of its source file where it applies."""
    spec = TABLES[name]
    if spec.one_row_per_source_row and rows is not None:
        return replace(spec.schema, rows=rows)
    return spec.schema


def build_table(name: str, raw_path: str, out_path: str, rows: int | None = None) -> pd.DataFrame:
    """Read one raw file, validate the table (including the registry's row count) and write it."""
    spec = TABLES[name]
    try:
        df = spec.reader(raw_path)
    except KeyError as exc:  # the readers pick the source's columns by name
        raise CoalitionsError(
            f"{raw_path}: column {exc} not found (table '{name}'). The file is not the release that "
            f"config/sources.yaml names for {spec.source}.{spec.file}; fetch it again."
        ) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise CoalitionsError(
            f"{raw_path}: cannot parse this file for table '{name}' ({type(exc).__name__}: {exc}). "
            f"Fetch {spec.source}.{spec.file} again."
        ) from None
    write_table(df, out_path, schema_for(name, rows), origin=raw_path)
    return df

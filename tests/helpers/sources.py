"""The source tables a Weisiger build reads in the tests: clean tables from the mirror plus the battle case files."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd


def weisiger_sources(tables: Mapping[str, pd.DataFrame], root: Path, names: Iterable[str]) -> dict[str, pd.DataFrame]:
    """``names`` from the session's clean ``tables``, and the project's battle case files (the CDB90 actor
    mapping and corrections) as the build receives them."""
    from coalitions.weisiger.battle_periods import battle_case_files, battle_case_tables

    out = {name: tables[name] for name in names}
    out.update(battle_case_tables([root / f for f in battle_case_files()]))
    return out

"""The 1950 check of Henke's embeddedness measure, under every coding of the Henke study.

Henke's book (*Constructing Allied Cooperation*, 2019, chapter 4, on Korea) calls the Philippines "deeply
embedded" with the US in 1950 and South Africa "weakly embedded": a measure of embeddedness should rank the
Philippines above South Africa for the Korea operation. :func:`korea_1950_check` reports, for one coding's
rebuilt dataset, both states' value of the coding's ``embeddedness``, their ranks among the operation's
potential contributors and the verdict, whatever it is ("not measurable" where a value is missing, as under
the diplomatic levels, which COW did not record in 1950, or the covariates lagged to 1949, when the
Philippines was not yet in the 1945 IGO wave).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

OPERATION = "korea1950"
PHILIPPINES, SOUTH_AFRICA = 840, 560
COLUMNS = ["coding", "embeddedness", "diplomatic_measure", "lag_years", "philippines", "south_africa",
           "philippines_rank", "south_africa_rank", "n_ranked", "igo_year_used", "dipl_year_used", "result"]


def korea_1950_check(data: pd.DataFrame, coding: str, henke: Mapping[str, Any] | None = None) -> dict:
    """One row: the coding, its embeddedness variant, the two states' values and ranks, and the verdict."""
    from .rebuild import HenkeCoding

    hc = HenkeCoding.from_dict(henke or {}, origin=f"coding {coding}")
    row: dict[str, Any] = {"coding": coding, "embeddedness": hc.embeddedness,
                           "diplomatic_measure": hc.diplomatic_measure
                           if hc.embeddedness in ("igo_alliances_diplomatic", "diplomatic_only") else "",
                           "lag_years": hc.lag_years}
    k = data[data["operation_id"] == OPERATION]
    if k.empty:
        return {**{c: None for c in COLUMNS}, **row, "result": "not in the sample (Korea 1950 not included)"}
    values = k.set_index("ccode")["embeddedness"].astype(float)
    ranks = values.rank(ascending=False, method="min")
    ph, sa = (float(values.get(c, np.nan)) for c in (PHILIPPINES, SOUTH_AFRICA))
    years = k.set_index("ccode")
    row.update(philippines=ph, south_africa=sa,
               philippines_rank=float(ranks.get(PHILIPPINES, np.nan)), south_africa_rank=float(ranks.get(SOUTH_AFRICA, np.nan)),
               n_ranked=int(values.notna().sum()),
               igo_year_used=float(years["igo_year_used"].get(PHILIPPINES, np.nan)) if "igo_year_used" in years else None,
               dipl_year_used=float(years["dipl_year_used"].get(PHILIPPINES, np.nan)) if "dipl_year_used" in years else None)
    missing = [name for name, v in (("the Philippines", ph), ("South Africa", sa)) if np.isnan(v)]
    if missing:
        row["result"] = f"not measurable: no value for {' and '.join(missing)}"
    elif ph > sa:
        row["result"] = "Philippines above South Africa"
    elif ph < sa:
        row["result"] = "South Africa above the Philippines"
    else:
        row["result"] = "tied"
    return row


def korea_1950_table(datasets: Mapping[str, pd.DataFrame], codings: Mapping[str, Any]) -> pd.DataFrame:
    """:func:`korea_1950_check` for every coding (``datasets``: coding -> rebuilt dataset; ``codings``:
    coding -> its Coding, whose ``henke`` section is read)."""
    rows = [korea_1950_check(d, name, getattr(codings.get(name), "henke", None) or {})
            for name, d in datasets.items()]
    return pd.DataFrame(rows, columns=COLUMNS)

"""The paper's sentence on the 1950 check of Henke's measure (the Philippines above South Africa), read from
``results/comparison/henke_korea1950.csv`` (:mod:`coalitions.henke.checks`), under every coding."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Mapping

import pandas as pd

from ..util import CoalitionsError


def _v(x) -> str:
    try:
        f = float(x)
    except (TypeError, ValueError):
        return "n.a."
    if math.isnan(f):
        return "n.a."
    return str(int(f)) if f.is_integer() else f"{f:.2f}"


def korea_1950_paragraph(path: str | Path | None, labels: Mapping[str, str]) -> str | None:
    """One paragraph listing the check's verdict under each coding (``path``: the comparison table
    ``henke_korea1950.csv``); ``None`` without it."""
    if path is None or not Path(path).is_file():
        return None
    try:
        df = pd.read_csv(path, keep_default_na=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise CoalitionsError(f"{path}: cannot be read ({exc}); re-run the comparison rule") from None
    if df.empty or "result" not in df.columns:
        return None
    parts = []
    for r in df.to_dict("records"):
        lab = labels.get(r["coding"], r["coding"])
        res = str(r["result"])
        if res.startswith(("Philippines above", "South Africa above", "tied")):
            detail = (f" (values {_v(r['philippines'])} and {_v(r['south_africa'])}; ranks {_v(r['philippines_rank'])} "
                      f"and {_v(r['south_africa_rank'])} of {_v(r['n_ranked'])})")
        else:
            detail = ""
        if not res.startswith(("Philippines", "South Africa")):
            res = res[0].lower() + res[1:]
        parts.append(f"{lab}: {res}{detail}")
    return ("The 1950 check. Henke's book calls the Philippines \u201cdeeply embedded\u201d with the US in 1950 and "
            "South Africa \u201cweakly embedded\u201d; a measure of embeddedness should rank the Philippines higher "
            "among the potential contributors to the Korean War coalition. Under each coding (values for the "
            "Philippines and South Africa): " + "; ".join(parts) + ". Diplomatic representation (COW Diplomatic "
            "Exchange) is a proxy for Henke's bilateral treaties and agreements; COW recorded no levels of "
            "representation in 1950\u20131965, so the levels variants cannot measure 1950.")

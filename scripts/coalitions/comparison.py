"""Stack every coding's results and say what each coding rule changes, relative to the baseline.

Writes the tables of ``results/comparison/`` that the paper reads: all estimates and fits of both
studies (codings x tracks), one row per coding with who proposed it and how many units change
status under it, the list of the participants whose exit status changes, and the survival curves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Mapping

import pandas as pd

from .codings import Coding


def _read_all(paths: Iterable[str]) -> pd.DataFrame:
    frames = [pd.read_csv(p) for p in paths]
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _unit(r: pd.Series) -> str:
    return f"{r['state_name']}, {r['war_name']} (war {int(r['warnum'])}), side {int(r['side'])}"


def effective_participants(results: Path, coding: str) -> pd.DataFrame:
    """The rebuilt participants as the models see them: exit from the periods' last record, and only
    those the sample rules keep (a participant all of whose records were dropped is not in it)."""
    part = pd.read_csv(results / coding / "weisiger" / "rebuilt" / "participants.csv")
    per = pd.read_parquet(results / coding / "weisiger" / "rebuilt" / "periods.parquet",
                          columns=["idvar", "withdraw"])
    seen = per.groupby("idvar")["withdraw"].max()
    part = part[part["idvar"].isin(seen.index)].copy()
    part["exit"] = part["idvar"].map(seen).fillna(0).astype(int)
    return part


def participant_changes(baseline: pd.DataFrame, other: pd.DataFrame, coding: str) -> pd.DataFrame:
    """Participants whose exit coding differs between the baseline and ``other`` (rebuilt track)."""
    key = ["warnum", "ccode", "side", "spell"] if "spell" in baseline.columns else ["warnum", "ccode", "side"]
    b = baseline.set_index(key)
    o = other.set_index(key)
    rows = []
    for k in b.index.union(o.index):
        in_b, in_o = k in b.index, k in o.index
        rb = b.loc[k] if in_b else None
        ro = o.loc[k] if in_o else None
        sb = ("exit" if rb["exit"] == 1 else "censored") if in_b else "not in sample"
        so = ("exit" if ro["exit"] == 1 else "censored") if in_o else "not in sample"
        if sb == so:
            continue
        ref = rb if in_b else ro
        unit = _unit(pd.Series({**ref.to_dict(), **dict(zip(key, k if isinstance(k, tuple) else (k,)))}))
        rows.append({"study": "weisiger", "coding": coding, "unit": unit, "baseline_status": sb,
                     "coding_status": so,
                     "baseline_reason": rb["exit_reason"] if in_b else "",
                     "coding_reason": ro["exit_reason"] if in_o else ""})
    return pd.DataFrame(rows, columns=["study", "coding", "unit", "baseline_status", "coding_status",
                                       "baseline_reason", "coding_reason"])


def henke_changes(baseline: pd.DataFrame, other: pd.DataFrame) -> int:
    """Country-operations that enter, leave or change outcome relative to the baseline."""
    key = ["operation_id", "ccode"]
    m = baseline[key + ["joined"]].merge(other[key + ["joined"]], on=key, how="outer", indicator=True,
                                         suffixes=("_b", "_o"))
    changed = (m["_merge"] != "both") | (m["joined_b"] != m["joined_o"])
    return int(changed.sum())


def build_comparison(codings: Mapping[str, Coding], *, results: str | Path, weisiger_codings: list[str],
                     henke_codings: list[str], outdir: str | Path) -> dict[str, pd.DataFrame]:
    results, outdir = Path(results), Path(outdir)
    out: dict[str, pd.DataFrame] = {}
    for study, names, tracks in (("weisiger", weisiger_codings, ("original", "rebuilt")),
                                 ("henke", henke_codings, ("rebuilt",))):
        paths = [results / c / study / t for c in names for t in tracks]
        if study == "henke":
            paths.append(results / "baseline" / "henke" / "original")
        out[f"{study}_estimates"] = _read_all(str(p / "estimates.csv") for p in paths)
        out[f"{study}_fits"] = _read_all(str(p / "fits.csv") for p in paths)
    curves = [pd.read_csv(results / c / "weisiger" / t / "survival.csv").assign(coding=c, track=t)
              for c in weisiger_codings for t in ("original", "rebuilt")]
    out["survival_curves"] = pd.concat([f for f in curves if len(f)] or curves[:1], ignore_index=True)

    base_part = effective_participants(results, "baseline")
    base_henke = pd.read_parquet(results / "baseline" / "henke" / "rebuilt" / "dataset.parquet")
    changes, rows = [], []
    henke_data = {"baseline": base_henke}
    for name, c in codings.items():
        row = {"coding": name, "label": c.label, "proposed_by": c.proposed_by, "why": c.why,
               "file": f"config/codings/{name}.yaml", "sha256": c.sha256,
               "studies": ", ".join(s for s, lst in (("weisiger", weisiger_codings), ("henke", henke_codings))
                                   if name in lst),
               "weisiger_participants_changed": pd.NA, "henke_country_operations_changed": pd.NA}
        if name in weisiger_codings:
            other = effective_participants(results, name)
            ch = participant_changes(base_part, other, name)
            changes.append(ch)
            row["weisiger_participants_changed"] = len(ch)
            appl = [pd.read_csv(results / name / "weisiger" / t / "applicability.csv") for t in ("original", "rebuilt")]
            appl = pd.concat(appl, ignore_index=True)
            na = appl[appl["status"] == "not_applicable"]
            row["not_applicable"] = "; ".join(f"{r.rule} ({r.track})" for r in na.itertuples())
        if name in henke_codings:
            other = pd.read_parquet(results / name / "henke" / "rebuilt" / "dataset.parquet")
            row["henke_country_operations_changed"] = henke_changes(base_henke, other)
            henke_data[name] = other
        rows.append(row)
    out["codings"] = pd.DataFrame(rows)
    from .henke.checks import korea_1950_table

    out["henke_korea1950"] = korea_1950_table(henke_data, codings)
    out["status_changes"] = (pd.concat(changes, ignore_index=True) if changes else
                             participant_changes(base_part, base_part, "baseline"))
    outdir.mkdir(parents=True, exist_ok=True)
    return out

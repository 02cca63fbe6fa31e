"""Apply a coding-rule set (the ``weisiger:`` section of ``config/codings/<name>.yaml``) to a track.

The section holds (a) parameters of :class:`WeisigerCoding`, which the rebuilt track uses when it
builds its data from COW dates, and (b) three rules that act on the finished analysis data of
either track:

``censor_case_files``
    case files (``config/cases/*.csv``: warnum, ccode, side, source, ...) of exits that a critic
    argues are not abandonment (Morey's entrapment and limited-objectives cases, exits forced by
    conquest). Their participants' exits are censored. In the rebuilt track they become
    ``WeisigerCoding.censor_cases``; in the original archive the participant's ``withdraw`` is set
    to 0.
``exclude_sides``
    coalitions (warnum, side) dropped from the sample (Weisiger's appendix "No Non-Coord.": war 108
    except side 1).
``extension_members``
    a hand-coded members file of coalitions COW does not cover (Henke: Iraq 2003-2011 and
    Afghanistan 2001-2014; ``coalitions.weisiger.extension``), appended to the rebuilt track's data.
    The original archive ends in 2003, so it cannot take them.
``drop_minor``
    keep only records with contribpc above ``minor_threshold`` (appendix "No Minor Participants";
    a missing contribpc is kept, as Stata's ``if contribpc > .1`` does).

Rules that need COW dates (exit tolerance, the enemy-surrender rule, second spells, ...) cannot be
applied to the original archive, which has no dates; :func:`applicability` says so, row by row.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from ..util import CoalitionsError
from .rebuild_coding import WeisigerCoding

#: keys of the coding section handled here rather than by WeisigerCoding
DATA_RULES = ("censor_case_files", "exclude_sides", "drop_minor", "extension_members")
#: WeisigerCoding parameters that can also be applied to the original archive (by recoding its data)
ORIGINAL_APPLICABLE = ("war_ending_exits_as_abandonment", "censor_cases", "exclude_wars", "minor_threshold")
#: WeisigerCoding parameters of how the rebuild measures foverlap and the battlefield trends
MEASUREMENT_PARAMS = ("foverlap_source", "front_weighting", "front_gaps", "trend_source", "trend_empty_window",
                      "ctrend_windows", "trend_windows")
#: the wars of Weisiger's "withdrawal that results in war termination" recode
WAR_ENDING_WARS = (22, 28, 155)


def split_section(section: Mapping[str, Any], origin: str) -> tuple[dict, dict]:
    """(WeisigerCoding parameters, data rules) of one coding file's ``weisiger:`` section."""
    if not isinstance(section, Mapping):
        raise CoalitionsError(f"{origin}: the weisiger section must be a mapping")
    params = {k: v for k, v in section.items() if k not in DATA_RULES}
    rules = {k: section[k] for k in DATA_RULES if k in section}
    for i, item in enumerate(rules.get("exclude_sides", []) or []):
        if not (isinstance(item, Mapping) and set(item) == {"warnum", "side"}
                and all(isinstance(item[k], int) and not isinstance(item[k], bool) for k in item)):
            raise CoalitionsError(f"{origin}: exclude_sides[{i}] must be a mapping with whole-number "
                                  f"warnum and side, got {item!r}")
    if "drop_minor" in rules and not isinstance(rules["drop_minor"], bool):
        raise CoalitionsError(f"{origin}: drop_minor must be true or false, got {rules['drop_minor']!r}")
    files = rules.get("censor_case_files", []) or []
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        raise CoalitionsError(f"{origin}: censor_case_files must be a list of file paths, got {files!r}")
    return params, rules


def read_censor_cases(path: str | Path, origin: str) -> list[dict[str, Any]]:
    """A censor case file as CensorCase mappings, strictly validated (every row carries its source)."""
    from .case_guard import read_censor_cases_strict

    return read_censor_cases_strict(path, origin)


def resolve(section: Mapping[str, Any], origin: str, root: str | Path = ".",
            case_cache: dict[str, list[dict[str, Any]]] | None = None) -> dict[str, Any]:
    """The section with case files read into plain data (so a changed case file changes it).

    ``case_cache``: a dict kept by a caller that resolves many sections (the multiverse), so that each case
    file is read and validated once (a file that fails is read again, and fails with each origin)."""
    import copy

    params, rules = split_section(section, origin)
    cases = list(params.get("censor_cases", []) or [])
    from .case_guard import case_file_path

    for i, f in enumerate(rules.get("censor_case_files", []) or []):
        path = case_file_path(f, root, origin, f"censor_case_files[{i}]")
        if case_cache is not None and str(path) in case_cache:
            got = copy.deepcopy(case_cache[str(path)])
        else:
            got = read_censor_cases(path, origin)
            if case_cache is not None:
                case_cache[str(path)] = copy.deepcopy(got)
        cases.extend(got)
    if cases:
        params["censor_cases"] = cases
    WeisigerCoding.from_dict(params, origin=origin)  # validate now: errors name the file and key
    ext = rules.get("extension_members")
    if ext is not None and not isinstance(ext, str):
        raise CoalitionsError(f"{origin}: extension_members must be the path of a members file, got {ext!r}")
    if ext is not None:
        case_file_path(ext, root, origin, "extension_members")
    return {"params": params, "exclude_sides": list(rules.get("exclude_sides", []) or []),
            "extension_members": ext,
            "drop_minor": bool(rules.get("drop_minor", False)),
            "case_files": list(rules.get("censor_case_files", []) or []) + ([ext] if ext else [])}


def apply_data_rules(periods: pd.DataFrame, resolved: Mapping[str, Any], coding: WeisigerCoding) -> pd.DataFrame:
    """exclude_sides and drop_minor, on either track's periods."""
    out = periods
    for item in resolved.get("exclude_sides", []):
        out = out[~((out["warnum"] == item["warnum"]) & (out["side"] == item["side"]))]
    if resolved.get("drop_minor") and "contribpc" in out.columns:
        c = out["contribpc"]
        out = out[c.isna() | (c > coding.minor_threshold)]
    return out.reset_index(drop=True)


def apply_to_original(periods: pd.DataFrame, coding: WeisigerCoding) -> pd.DataFrame:
    """Recode the original archive's data as far as a coding rule can act on it."""
    df = periods.copy()
    base = WeisigerCoding()
    if coding.exclude_wars:
        df = df[~df["warnum"].isin(list(coding.exclude_wars))]
    last = df["finalobs"] == 1 if "finalobs" in df.columns else \
        df.groupby("idvar")["stop"].transform("max").eq(df["stop"])
    if not coding.war_ending_exits_as_abandonment and base.war_ending_exits_as_abandonment:
        # Weisiger's own appendix recode: every exit in wars 22, 28, 155 set to 0
        for col in ("withdraw", "volunt"):
            if col in df.columns:
                df.loc[df["warnum"].isin(WAR_ENDING_WARS), col] = 0
    for case in coding.censor_cases:
        hit = (df["warnum"] == case.warnum) & (df["ccode"] == case.ccode) & (df["side"] == case.side)
        for col in ("withdraw", "volunt"):
            if col in df.columns:
                df.loc[hit & last, col] = 0
    return df.reset_index(drop=True)


def applicability(resolved: Mapping[str, Any], coding: WeisigerCoding, track: str) -> pd.DataFrame:
    """One row per rule of the coding that differs from the baseline: applied or not, and why."""
    base = WeisigerCoding()
    rows = []
    for f in fields(WeisigerCoding):
        value, default = getattr(coding, f.name), getattr(base, f.name)
        if value == default:
            continue
        if track == "rebuilt" or f.name in ORIGINAL_APPLICABLE:
            status, note = "applied", ""
            if track == "original" and f.name == "minor_threshold" and not resolved.get("drop_minor"):
                status, note = "no_effect", "the threshold matters only with drop_minor"
            if track == "original" and f.name == "war_ending_exits_as_abandonment" and value:
                status, note = "no_effect", "the archive already codes these exits as abandonment"
        elif f.name in MEASUREMENT_PARAMS:
            status = "not_applicable"
            note = ("the original archive carries Weisiger's own foverlap and battlefield trends, so this "
                    "choice of how the rebuild measures them does not apply to it")
        else:
            status = "not_applicable"
            note = ("the original archive has no COW dates or spell structure, so this rule, which "
                    "acts on how exits are coded from dates, cannot be applied to it")
        shown = value if not isinstance(value, tuple) else f"{len(value)} item(s)"
        rows.append({"rule": f.name, "value": str(shown), "track": track, "status": status, "note": note})
    for key in ("exclude_sides", "drop_minor", "extension_members"):
        if resolved.get(key):
            status, note = "applied", ""
            if key == "extension_members" and track == "original":
                status, note = "not_applicable", "the original archive ends in 2003 and has no such records"
            rows.append({"rule": key, "value": str(resolved[key]), "track": track, "status": status,
                         "note": note})
    return pd.DataFrame(rows, columns=["rule", "value", "track", "status", "note"])


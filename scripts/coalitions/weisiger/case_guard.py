"""What a coding names must exist: case-file paths, CSV faults, and wars, sides and states in the data.

A coding file can name files (``censor_case_files``, ``extension_members``) and things in the data
(``exclude_wars``, ``exclude_sides``, ``censor_cases``, and the rows of its case files). Each must
exist, or the build stops with an error naming the coding file, the key and the row:

* :func:`case_file_path`: a case file is a relative path inside the project's ``config/`` folder
  (not ``/etc/passwd``, not ``../elsewhere.csv``), and it is a file;
* :func:`read_case_csv`: an empty file, a byte that is not UTF-8 or a malformed line is named with the
  file and the line, not left to pandas;
* :func:`read_censor_cases_strict`: the censor case files are read with the strict validator
  (:func:`coalitions.weisiger.extension.validate_censor_cases`) when the coding is loaded, and a file
  without any case (a header only) is refused, since the coding would silently equal the baseline;
* :func:`check_coding_against_war`: every war, side and (war, country, side) that a coding names is
  in the COW war data the job acts on;
* :func:`check_censor_files_against_participants`: each censor case is an exit, with its date, of the
  rebuilt participants (the strict validator's full check), run by the job that builds the data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from ..util import CoalitionsError

#: the folder (relative to the project root) that holds every file a coding may name
CONFIG_DIR = "config"


def case_file_path(value: Any, root: str | Path, origin: str, key: str) -> Path:
    """The path of a file named by a coding, checked to be a relative path inside ``config/``."""
    if not isinstance(value, str) or not value.strip():
        raise CoalitionsError(f"{origin}: {key} must be a path like config/cases/<file>.csv, got {value!r}")
    rel = Path(value)
    base = (Path(root) / CONFIG_DIR).resolve()
    if rel.is_absolute():
        raise CoalitionsError(f"{origin}: {key} '{value}' is outside the project's {CONFIG_DIR}/ folder; "
                              f"copy the file into {CONFIG_DIR}/cases/ and name it as {CONFIG_DIR}/cases/<file>.csv")
    if ".." in rel.parts:
        raise CoalitionsError(f"{origin}: {key} '{value}' may not contain '..': name the file by its path inside "
                              f"the project, as {CONFIG_DIR}/cases/<file>.csv")
    full = (Path(root) / rel).resolve()
    if base != full and base not in full.parents:
        raise CoalitionsError(f"{origin}: {key} '{value}' is outside the project's {CONFIG_DIR}/ folder "
                              f"(case files live in {CONFIG_DIR}/cases/); move the file there and name it so")
    p = Path(root) / rel
    if p.is_dir():
        raise CoalitionsError(f"{origin}: {key} '{value}' is a folder, not a case file")
    if not p.is_file():
        raise CoalitionsError(f"{origin}: {key}: file {p} not found; "
                              "check the name or add the file")
    return p


def _line_of(data: bytes, offset: int) -> int:
    return data[:offset].count(b"\n") + 1


def read_case_csv(path: str | Path, comment: str | None = None) -> pd.DataFrame:
    """A case file as text columns; its faults are errors naming the file and the line."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise CoalitionsError(f"{p}: case file not found") from None
    except IsADirectoryError:
        raise CoalitionsError(f"{p}: is a folder, not a case file") from None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CoalitionsError(f"{p}, line {_line_of(data, exc.start)}: byte 0x{data[exc.start]:02x} is not UTF-8; "
                              "save the file as UTF-8 (CSV UTF-8 in a spreadsheet program)") from None
    if not data.strip():
        raise CoalitionsError(f"{p}: the file is empty; it needs its header line (and one line per case), "
                              "or remove it from the coding")
    _check_fields(p, data.decode("utf-8"), comment)
    try:
        return pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8", comment=comment)
    except pd.errors.EmptyDataError:
        raise CoalitionsError(f"{p}: no header line; the first line must name the columns") from None
    except pd.errors.ParserError as exc:
        raise CoalitionsError(f"{p}: malformed CSV ({' '.join(str(exc).split())}); each line needs as many "
                              "fields as the header (quote texts that contain commas)") from None


def _check_fields(p: Path, text: str, comment: str | None) -> None:
    """Every record has as many fields as the header (pandas would silently shift or drop the extra ones)."""
    import csv
    import io

    lines = io.StringIO(text)
    if comment:
        lines = io.StringIO("".join(("\n" if ln.lstrip().startswith(comment) else ln)
                                    for ln in io.StringIO(text)))
    reader = csv.reader(lines)
    width = None
    for rec in reader:
        if not rec or (len(rec) == 1 and not rec[0].strip()):
            continue
        if width is None:
            width = len(rec)
        elif len(rec) != width:
            raise CoalitionsError(f"{p}, line {reader.line_num}: {len(rec)} fields, the header has {width}; "
                                  "quote texts that contain commas (\"...\") and remove extra commas")


def read_censor_cases_strict(path: str | Path, origin: str) -> list[dict[str, Any]]:
    """A censor case file, strictly validated, as CensorCase mappings (reason ``"<rule> (<stem>)"``)."""
    from .extension import CENSOR_CASE_COLUMNS, validate_censor_cases

    p = Path(path)
    df = read_case_csv(p)
    if df.empty and all(c in df.columns for c in CENSOR_CASE_COLUMNS):
        raise CoalitionsError(f"{p}: the file has a header but no case, so the coding ({origin}) would silently "
                              "equal the baseline; add the cases (one line each) or remove the file from the coding")
    cases = validate_censor_cases(df, str(p))
    return [{"warnum": int(r.warnum), "ccode": int(r.ccode), "side": int(r.side), "reason": f"{r.rule} ({p.stem})"}
            for r in cases.itertuples(index=False)]


def _war_keys(war: pd.DataFrame) -> pd.DataFrame:
    w = war.rename(columns={"war_num": "warnum"})
    return w[["warnum", "ccode", "side"]].astype("int64")


def check_coding_against_war(resolved: Mapping[str, Any], war: pd.DataFrame, origin: str) -> None:
    """Every war, side and participant named by a coding's ``weisiger`` section is in the COW war data."""
    keys = _war_keys(war)
    wars = set(keys["warnum"])
    sides = set(map(tuple, keys[["warnum", "side"]].to_numpy().tolist()))
    parts = set(map(tuple, keys.to_numpy().tolist()))
    what = "the COW inter-state war data"
    params = resolved.get("params", {}) or {}
    for i, w in enumerate(params.get("exclude_wars", []) or []):
        if int(w) not in wars:
            raise CoalitionsError(f"{origin}: exclude_wars[{i}]: war {w} is not in {what} (war numbers "
                                  f"{min(wars)} to {max(wars)}); correct the war number or remove it")
    for i, s in enumerate(resolved.get("exclude_sides", []) or []):
        if int(s["warnum"]) not in wars:
            raise CoalitionsError(f"{origin}: exclude_sides[{i}]: war {s['warnum']} is not in {what}; "
                                  "correct the war number or remove the entry")
        if (int(s["warnum"]), int(s["side"])) not in sides:
            raise CoalitionsError(f"{origin}: exclude_sides[{i}]: war {s['warnum']} has no side {s['side']} in "
                                  f"{what}; correct the side or remove the entry")
    for i, c in enumerate(params.get("censor_cases", []) or []):
        c = c if isinstance(c, Mapping) else {"warnum": c.warnum, "ccode": c.ccode, "side": c.side,
                                              "reason": c.reason}
        key = (int(c["warnum"]), int(c["ccode"]), int(c["side"]))
        if key not in parts:
            where = c.get("reason", "")
            in_war = keys[keys["warnum"] == key[0]]
            hint = ("; participants of that war: " + ", ".join(
                f"ccode {a} (side {b})" for a, b in in_war[["ccode", "side"]].to_numpy().tolist())) \
                if len(in_war) else "; there is no COW inter-state war with that number"
            raise CoalitionsError(f"{origin}: censor_cases[{i}] ({where}): war {key[0]}, ccode {key[1]}, side "
                                  f"{key[2]} is not a participant in {what}{hint}; correct or remove the case")


def check_censor_files_against_participants(files: list[str], participants: pd.DataFrame,
                                            root: str | Path = ".") -> None:
    """Each censor case file's rows are exits (same date, name, last spell) of the rebuilt participants."""
    from .extension import read_censor_case_file

    for f in files:
        read_censor_case_file(Path(root) / f, participants)

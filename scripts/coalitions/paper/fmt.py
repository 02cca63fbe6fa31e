"""Formatting of numbers and text for the paper: one function per job, used everywhere.

* :func:`num` formats every reported number (fixed decimals; a missing value becomes ``"n.a."``
  in a table and ``"not available"`` in prose).
* :func:`stars` gives the significance marks of Weisiger's tables (``†`` p<.1, ``*`` p<.05,
  ``**`` p<.01).
* :func:`tex_escape` is the one LaTeX escape filter: every data string (country names, notes,
  coding rationales) passes through it before it reaches ``paper.tex``.
* :func:`parse_prose` turns the small markup of the hand-written prose (``[citet:key]``,
  ``[citep:key1,key2]``, ``*emphasis*``) into segments that both templates render, so the text is
  written once for the LaTeX and the HTML version.
"""

from __future__ import annotations

import math
import re
from typing import Any

NA_TABLE = "n.a."
NA_PROSE = "not available"

#: decimals of each kind of number in the paper (one place to change them)
DECIMALS = {"coef": 3, "se": 3, "p": 3, "ame": 4, "prob": 2, "r2": 3, "loglik": 2}


def is_missing(x: Any) -> bool:
    """True for None, NaN, empty or whitespace-only strings and pandas' NA."""
    if x is None:
        return True
    if isinstance(x, str):
        return x.strip() == "" or x.strip().lower() in {"nan", "na", "n/a", "none", "<na>"}
    try:
        return bool(math.isnan(float(x)))
    except (TypeError, ValueError):
        try:
            import pandas as pd

            return bool(pd.isna(x))
        except (TypeError, ValueError):
            return False


def to_float(x: Any) -> float | None:
    """A number as float, or None when missing or not numeric."""
    if is_missing(x):
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) or math.isinf(v) else v


def num(x: Any, decimals: int | str = 3, *, na: str = NA_TABLE) -> str:
    """Format one number with a fixed number of decimals.

    ``decimals`` is an int or a key of :data:`DECIMALS`. Missing values give ``na`` (``"n.a."``
    in tables; pass ``na=NA_PROSE`` in sentences). ``-0.000`` is written ``0.000``.
    """
    d = DECIMALS[decimals] if isinstance(decimals, str) else int(decimals)
    v = to_float(x)
    if v is None:
        return na
    s = f"{v:.{d}f}"
    if float(s) == 0.0:
        s = s.lstrip("-")
    return s


def count(x: Any, *, na: str = NA_TABLE) -> str:
    """Format a count (subjects, failures, universes) as an integer with thousands separators."""
    v = to_float(x)
    if v is None:
        return na
    return f"{int(round(v)):,}"


def pval(x: Any, *, na: str = NA_TABLE) -> str:
    """Format a p-value: three decimals, ``<0.001`` below that."""
    v = to_float(x)
    if v is None:
        return na
    if v < 0.001:
        return "<0.001"
    return num(v, "p")


def stars(p: Any) -> str:
    """Weisiger's significance marks: ``**`` p<.01, ``*`` p<.05, ``†`` p<.1, else empty."""
    v = to_float(p)
    if v is None:
        return ""
    if v < 0.01:
        return "**"
    if v < 0.05:
        return "*"
    if v < 0.1:
        return "†"
    return ""


def normalise_stars(s: Any) -> str:
    """Published stars as written in a published-values file (``**``, ``*``, ``†``/``dagger``/``+``)."""
    if is_missing(s):
        return ""
    s = str(s).strip()
    if s.lower() in {"dagger", "+", "†"}:
        return "†"
    if s in {"*", "**", "***"}:
        return s
    return ""


def plural(n: int, one: str, many: str | None = None) -> str:
    """``1 universe``, ``3 universes``."""
    return f"{count(n)} {one if n == 1 else (many or one + 's')}"


def join_words(items: list[str], conj: str = "and") -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    items = [i for i in items if i]
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + f" {conj} " + items[-1]


# --------------------------------------------------------------------------- LaTeX escaping
_TEX_CHARS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_\allowbreak{}",
    "/": r"/\allowbreak{}",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    "†": r"\textdagger{}",
    "‡": r"\textdaggerdbl{}",
    "§": r"\S{}",
    "−": "$-$",
    "\ue000": "{}",
    "–": "--",
    "—": "---",
    "…": r"\dots{}",
    "‘": "`",
    "’": "'",
    "“": "``",
    "”": "''",
    "\u00a0": "~",
    "°": r"\textdegree{}",
    "×": r"\texttimes{}",
    "≤": r"$\leq$",
    "≥": r"$\geq$",
    "\n": " ",
    "\r": " ",
    "\t": " ",
}
_TEX_RE = re.compile("|".join(re.escape(c) for c in sorted(_TEX_CHARS, key=len, reverse=True)))
_MINUS_RE = re.compile(r"(?<![\w.)\]])-(?=\d)")
_DASHES_RE = re.compile(r"-(?=-)")


def tex_escape(value: Any) -> str:
    """Escape one data string for LaTeX (the only escape filter of the LaTeX template).

    Special characters (``& % $ # _ { } ~ ^ \\``) are escaped, typographic symbols used in the
    tables (†, ‡, −, en and em dashes) become their LaTeX commands, a minus sign before a number
    becomes a math minus, and ``--`` in data is kept as two hyphens (not an en-dash ligature).
    Characters pdfLaTeX cannot set with T1 fonts are written as ``?``, never dropped silently.
    """
    if value is None:
        return ""
    s = str(value)
    s = _MINUS_RE.sub("\u2212", s)
    s = _DASHES_RE.sub("-\ue000", s)
    out = _TEX_RE.sub(lambda m: _TEX_CHARS[m.group(0)], s)
    return "".join(ch if _t1_ok(ch) else "?" for ch in out)


def _t1_ok(ch: str) -> bool:
    """Whether pdfLaTeX with T1 fonts and utf8 input can set ``ch`` (Latin-1 and Latin Extended-A)."""
    o = ord(ch)
    return o < 0x80 or 0xA0 <= o <= 0x17F


# --------------------------------------------------------------------------- prose markup
_CITE_RE = re.compile(r"\[(citet|citep|table|figure|section):([A-Za-z0-9_:\-,]+)\]")
_EMPH_RE = re.compile(r"\*([^*]+)\*")


def parse_prose(text: str) -> list[dict[str, Any]]:
    """Split one paragraph of prose markup into segments for the templates.

    Markup: ``[citet:key]`` (Author (Year)), ``[citep:key1,key2]`` ((Author Year; ...)),
    ``[table:id]``, ``[figure:id]``, ``[section:id]`` (numbered cross-references), ``*text*``
    (emphasis). Everything else is literal text, escaped by the templates.
    Segments: ``{"t": "text"|"emph", "v": str}``, ``{"t": "citet"|"citep", "keys": [...]}`` or
    ``{"t": "ref", "kind": "table"|"figure"|"section", "id": str}``.
    """
    segs: list[dict[str, Any]] = []
    pos = 0
    for m in _CITE_RE.finditer(text):
        segs.extend(_text_segments(text[pos:m.start()]))
        if m.group(1) in {"citet", "citep"}:
            segs.append({"t": m.group(1), "keys": [k for k in m.group(2).split(",") if k]})
        else:
            segs.append({"t": "ref", "kind": m.group(1), "id": m.group(2)})
        pos = m.end()
    segs.extend(_text_segments(text[pos:]))
    return segs


def _text_segments(text: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    pos = 0
    for m in _EMPH_RE.finditer(text):
        if m.start() > pos:
            out.append({"t": "text", "v": text[pos:m.start()]})
        out.append({"t": "emph", "v": m.group(1)})
        pos = m.end()
    if pos < len(text):
        out.append({"t": "text", "v": text[pos:]})
    return out


def para(*parts: str) -> list[dict[str, Any]]:
    """One paragraph of generated sentences (joined with a space) as a single literal text segment.

    Generated sentences carry data (labels, coding names, messages), so they are never parsed as
    markup: an asterisk in a message stays an asterisk.
    """
    return [{"t": "text", "v": " ".join(p.strip() for p in parts if p and p.strip())}]

"""A small BibTeX reader for the fields the paper uses, and author-year formatting for the HTML.

The LaTeX version cites with natbib and lets BibTeX format the references; the HTML version
formats the same entries here, so both versions cite the same works from the same ``.bib`` text
(the registry's ``bibtex`` fields plus the literature file shipped with the templates).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..util import CoalitionsError


@dataclass(frozen=True)
class BibEntry:
    """One BibTeX entry: its type (``article``...), key, fields (lower-case names) and raw text."""

    type: str
    key: str
    fields: dict[str, str] = field(default_factory=dict)
    raw: str = ""


_ENTRY_START = re.compile(r"@\s*([A-Za-z]+)\s*[{(]\s*([^,\s]+)\s*,")


def parse_bibtex(text: str, origin: str = "bibtex") -> list[BibEntry]:
    """Parse every ``@type{key, field = {value} | "value" | number, ...}`` entry of ``text``.

    Braces nest; ``#`` concatenation and ``@string`` macros are not used by the registry and are
    rejected with the entry named. ``origin`` names the text in error messages (e.g. the source).
    """
    entries: list[BibEntry] = []
    pos = 0
    while True:
        at = text.find("@", pos)
        if at < 0:
            break
        m = _ENTRY_START.match(text, at)
        if not m:
            kind = re.match(r"@\s*([A-Za-z]+)", text[at:])
            if kind and kind.group(1).lower() in {"comment", "preamble", "string"}:
                raise CoalitionsError(f"{origin}: @{kind.group(1)} is not supported in the BibTeX here")
            raise CoalitionsError(f"{origin}: cannot read the BibTeX entry starting '{text[at:at + 40]}'")
        etype, key = m.group(1).lower(), m.group(2)
        i = m.end()
        fields: dict[str, str] = {}
        while True:
            while i < len(text) and text[i] in " \t\r\n,":
                i += 1
            if i >= len(text):
                raise CoalitionsError(f"{origin}: entry '{key}' is not closed with '}}'")
            if text[i] in "})":
                i += 1
                break
            fm = re.compile(r"([A-Za-z][A-Za-z0-9_\-]*)\s*=\s*").match(text, i)
            if not fm:
                raise CoalitionsError(f"{origin}: entry '{key}': cannot read a field at '{text[i:i + 30]}'")
            name = fm.group(1).lower()
            i = fm.end()
            value, i = _read_value(text, i, origin, key, name)
            rest = re.compile(r"\s*#").match(text, i)
            if rest:
                raise CoalitionsError(f"{origin}: entry '{key}', field '{name}': '#' concatenation not supported")
            fields[name] = value
        entries.append(BibEntry(type=etype, key=key, fields=fields, raw=text[at:i].strip()))
        pos = i
    return entries


def _read_value(text: str, i: int, origin: str, key: str, name: str) -> tuple[str, int]:
    if i >= len(text):
        raise CoalitionsError(f"{origin}: entry '{key}', field '{name}': value missing")
    c = text[i]
    if c == "{":
        depth, j = 0, i
        while j < len(text):
            if text[j] == "\\":
                j += 2
                continue
            if text[j] == "{":
                depth += 1
            elif text[j] == "}":
                depth -= 1
                if depth == 0:
                    return text[i + 1:j], j + 1
            j += 1
        raise CoalitionsError(f"{origin}: entry '{key}', field '{name}': unbalanced braces")
    if c == '"':
        depth, j = 0, i + 1
        while j < len(text):
            if text[j] == "{":
                depth += 1
            elif text[j] == "}":
                depth -= 1
            elif text[j] == '"' and depth == 0:
                return text[i + 1:j], j + 1
            j += 1
        raise CoalitionsError(f"{origin}: entry '{key}', field '{name}': unclosed quote")
    m = re.compile(r"[A-Za-z0-9_\-.]+").match(text, i)
    if not m:
        raise CoalitionsError(f"{origin}: entry '{key}', field '{name}': cannot read the value")
    return m.group(0), m.end()


# --------------------------------------------------------------------------- plain-text rendering
_ACCENTS = {
    "'": "\u0301", "`": "\u0300", "^": "\u0302", '"': "\u0308", "~": "\u0303", "c": "\u0327",
    "v": "\u030c", "=": "\u0304", ".": "\u0307", "u": "\u0306", "H": "\u030b",
}


def latex_to_text(value: str) -> str:
    """BibTeX field text to plain Unicode: braces dropped, ``--`` to an en dash, simple accents,
    ``\\url{x}`` and ``\\emph{x}`` to ``x``, ``\\&`` to ``&``."""
    import unicodedata

    s = value
    s = re.sub(r"\\(?:url|emph|textit|textbf|textsc|mbox)\s*\{([^{}]*)\}", r"\1", s)
    s = re.sub(
        r"\{?\\([`'^\"~=.]|[cvuH](?=[\s{]))\s*\{?([A-Za-z])\}?\}?",
        lambda m: unicodedata.normalize("NFC", m.group(2) + _ACCENTS[m.group(1)]),
        s,
    )
    s = s.replace("\\&", "&").replace("\\%", "%").replace("\\_", "_").replace("\\$", "$")
    s = s.replace("---", "\u2014").replace("--", "\u2013").replace("~", "\u00a0")
    s = s.replace("{", "").replace("}", "")
    return re.sub(r"\s+", " ", s).strip()


def split_authors(value: str) -> list[str]:
    """Split a BibTeX name list on top-level ``and`` (a braced corporate name stays one author)."""
    out, depth, cur, i = [], 0, [], 0
    while i < len(value):
        c = value[i]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        if depth == 0 and value[i:i + 5].lower() == " and ":
            out.append("".join(cur).strip())
            cur = []
            i += 5
            continue
        cur.append(c)
        i += 1
    if "".join(cur).strip():
        out.append("".join(cur).strip())
    return out


def _last_first(name: str) -> tuple[str, str]:
    """(last, first) of one BibTeX name; a fully braced name is corporate (no first name)."""
    n = name.strip()
    if n.startswith("{") and n.endswith("}"):
        return latex_to_text(n), ""
    if "," in n:
        last, first = n.split(",", 1)
        return latex_to_text(last), latex_to_text(first)
    parts = n.split()
    return latex_to_text(parts[-1]), latex_to_text(" ".join(parts[:-1]))


def cite_label(entry: BibEntry) -> dict[str, str]:
    """Author-year label of a citation: ``Weisiger``/``2016``; two authors ``A and B``; more ``A et al.``."""
    names = [_last_first(a)[0] for a in split_authors(entry.fields.get("author", entry.fields.get("editor", "")))]
    if not names:
        author = latex_to_text(entry.fields.get("title", entry.key))
    elif len(names) == 1:
        author = names[0]
    elif len(names) == 2:
        author = f"{names[0]} and {names[1]}"
    else:
        author = f"{names[0]} et al."
    return {"author": author, "year": latex_to_text(entry.fields.get("year", "n.d."))}


def format_reference(entry: BibEntry) -> dict[str, str]:
    """The reference-list entry as plain-text parts: ``authors``, ``year``, ``title``, ``rest``
    (journal, volume, pages, publisher...), ``url`` (DOI link or URL, may be empty)."""
    f = entry.fields
    names = []
    for i, a in enumerate(split_authors(f.get("author", ""))):
        last, first = _last_first(a)
        names.append(f"{last}, {first}" if (i == 0 and first) else (f"{first} {last}".strip()))
    if len(names) > 1:
        authors = ", ".join(names[:-1]) + (", and " if len(names) > 2 else " and ") + names[-1]
    else:
        authors = names[0] if names else ""
    title = latex_to_text(f.get("title", ""))
    rest: list[str] = []
    if "journal" in f:
        j = latex_to_text(f["journal"])
        if "volume" in f:
            j += f" {latex_to_text(f['volume'])}"
            if "number" in f:
                j += f"({latex_to_text(f['number'])})"
        if "pages" in f:
            j += f": {latex_to_text(f['pages'])}"
        rest.append(j)
    if "booktitle" in f:
        bt = "In " + latex_to_text(f["booktitle"])
        if "editor" in f:
            bt += ", edited by " + " and ".join(
                f"{_last_first(e)[1]} {_last_first(e)[0]}".strip() for e in split_authors(f["editor"]))
        if "pages" in f and "journal" not in f:
            bt += f", {latex_to_text(f['pages'])}"
        rest.append(bt)
    for k in ("howpublished", "note"):
        if k in f and not f[k].strip().startswith("\\url"):
            rest.append(latex_to_text(f[k]))
    pub = ": ".join(latex_to_text(f[k]) for k in ("address", "publisher") if k in f)
    if pub:
        rest.append(pub)
    url = ""
    if "doi" in f:
        doi = latex_to_text(f["doi"])
        rest.append(f"doi:{doi}")
        url = f"https://doi.org/{doi}"
    elif "url" in f:
        url = latex_to_text(f["url"])
    else:
        m = re.search(r"\\url\{([^}]*)\}", f.get("howpublished", ""))
        if m:
            url = m.group(1)
    return {"key": entry.key, "authors": authors, "year": latex_to_text(f.get("year", "n.d.")),
            "title": title, "rest": ". ".join(r for r in rest if r), "url": url}


def sort_key(entry: BibEntry) -> tuple[str, str, str, str]:
    """Order of the reference list, as plainnat's ``presort``: citation label (authors and year),
    then all authors' names, then the citation key (which also orders 2017a, 2017b, ...)."""
    lab = cite_label(entry)
    names = " ".join(" ".join(_last_first(a)) for a in split_authors(entry.fields.get("author", "")))
    return (lab["author"].lower(), lab["year"], names.lower(), entry.key)


def year_suffixes(entries: list[BibEntry]) -> dict[str, str]:
    """``a``, ``b``, ... for entries that share a citation label (same authors and year), in the order
    of :func:`sort_key` - as natbib does, so both versions of the paper say Henke (2017b) alike."""
    groups: dict[tuple[str, str], list[BibEntry]] = {}
    for e in sorted(entries, key=sort_key):
        lab = cite_label(e)
        groups.setdefault((lab["author"], lab["year"]), []).append(e)
    out = {}
    for members in groups.values():
        if len(members) > 1:
            for i, e in enumerate(members):
                out[e.key] = chr(ord("a") + i)
    return out


def to_bibtex(entry: BibEntry) -> str:
    """The entry written back as BibTeX, every value in braces; the title in a second pair of braces
    so that the bibliography style keeps its capitalisation (``United Nations``, not ``united nations``)."""
    lines = [f"@{entry.type}{{{entry.key},"]
    for name, value in entry.fields.items():
        v = f"{{{value}}}" if name == "title" else value
        lines.append(f"  {name} = {{{v}}},")
    lines.append("}")
    return "\n".join(lines)

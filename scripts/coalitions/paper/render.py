"""Render the paper context into LaTeX (+ PDF) and a self-contained HTML file.

The templates are the files named by the caller (:data:`coalitions.paper.inputs.TEMPLATE_NAMES`,
the ``paper`` rule's ``templates`` input), looked up by file name. :func:`render_paper` writes
(into a folder, or to the files named one by one):

* ``figures/`` - every figure as PNG and SVG (:mod:`coalitions.paper.figures`);
* ``paper.tex`` - from ``paper.tex.j2`` (Jinja2 with ``<< >>`` / ``<% %>`` delimiters so
  they never clash with LaTeX braces); every value printed is escaped by
  :func:`coalitions.paper.fmt.tex_escape` (the environment's ``finalize`` hook applies it to every
  expression, so a data string cannot reach LaTeX unescaped);
* ``references.bib`` - the registry's BibTeX and the literature the prose cites;
* ``paper.html`` - from ``paper.html.j2`` with autoescaping, the CSS inline and every
  figure embedded as a base64 ``data:`` URI (the file fetches nothing);
* ``paper.pdf`` - when ``latexmk`` and ``pdflatex`` are on PATH: built with latexmk + pdflatex +
  bibtex in a temporary folder, with ``SOURCE_DATE_EPOCH``/``FORCE_SOURCE_DATE`` set and
  ``\\pdfinfoomitdate=1 \\pdftrailerid{} \\pdfsuppressptexinfo=-1`` in the preamble, so that two
  builds of the same context are byte-identical. Without a TeX engine the PDF is skipped with a
  note in the log and ``pdf_status`` says why; rendering never fails for that reason.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Mapping

import jinja2
from markupsafe import Markup, escape

from ..util import LOG, CoalitionsError, atomic_path, write_text_atomic
from .explorer import to_inline_json
from .figures import make_figures
from .fmt import NA_TABLE, tex_escape

#: the files render_paper writes, by role, when it is given a folder
PAPER_FILES = {"tex": "paper.tex", "html": "paper.html", "bib": "references.bib", "figures": "figures",
               "pdf": "paper.pdf"}

#: LaTeX packages the template loads (all in Debian's texlive-latex-base, -latex-recommended and
#: -fonts-recommended); checked with kpsewhich before a PDF build.
TEX_PACKAGES = ("fontenc.sty", "inputenc.sty", "textcomp.sty", "mathptmx.sty", "helvet.sty", "courier.sty",
                "geometry.sty", "graphicx.sty", "booktabs.sty", "longtable.sty", "array.sty", "float.sty",
                "caption.sty", "xcolor.sty", "natbib.sty", "url.sty", "hyperref.sty", "microtype.sty",
                "plainnat.bst")


class TexRaw(str):
    """LaTeX produced by the template code itself (not data): passes the escape hook untouched."""


def _tex_finalize(value: Any) -> str:
    if isinstance(value, TexRaw):
        return value
    if value is None:
        LOG.warning("paper: a None value reached the LaTeX template; written as %s", NA_TABLE)
        return NA_TABLE
    return tex_escape(value)


def _html_finalize(value: Any) -> Any:
    if value is None:
        LOG.warning("paper: a None value reached the HTML template; written as %s", NA_TABLE)
        return NA_TABLE
    return value


# --------------------------------------------------------------------------- prose and cells
def _tex_prose(segments: list[dict[str, Any]]) -> TexRaw:
    out = []
    for s in segments:
        t = s["t"]
        if t == "text":
            out.append(tex_escape(s["v"]))
        elif t == "emph":
            out.append(r"\emph{" + tex_escape(s["v"]) + "}")
        elif t in ("citet", "citep"):
            out.append(f"\\{t}{{{','.join(s['keys'])}}}")
        elif t == "ref":
            out.append(f"{s['kind'].capitalize()}~\\ref{{{s['id']}}}")
    return TexRaw("".join(out))


def _tex_path(value: Any) -> TexRaw:
    """A file name or path: escaped, with line-break points after ``-`` and ``.`` as well."""
    out = tex_escape(value)
    return TexRaw(out.replace("-", "-\\allowbreak{}").replace(".", ".\\allowbreak{}"))


def _tex_cell(c: dict[str, Any]) -> TexRaw:
    """Estimate row of a cell: number, stars and proxy mark as superscripts."""
    est = tex_escape(c.get("est", ""))
    sup = ""
    st = c.get("stars", "")
    if st == "†":
        sup += r"\dagger"
    elif st:
        sup += st
    if c.get("proxy"):
        sup += r"\ddagger"
    if c.get("hand"):
        sup += r"\S"
    return TexRaw(est + (f"$^{{{sup}}}$" if sup else ""))


#: At most this many value columns (besides the row-label column) in one part of a per-coding table
#: of the LaTeX version: a column holds a coefficient (with its standard error in parentheses
#: beside it in the model-family tables, below it in the model tables), about 2.2 cm in
#: footnotesize, so six of them and the row labels fit the 16 cm text width of A4 with 2.5 cm
#: margins. Wider tables are split into parts (the HTML version keeps them whole and scrolls).
TEX_MAX_COLUMNS = 6


def _tex_parts(t: dict[str, Any], max_cols: int = TEX_MAX_COLUMNS) -> list[dict[str, Any]]:
    """A per-coding table (``columns``, ``groups`` and rows of ``cells``) cut into parts of at most
    ``max_cols`` columns, as even in size as possible and in the table's column order, each with
    its own header groups and every row (label repeated) restricted to its columns.

    Each part carries ``part``/``of`` and ``which``: the columns it holds, said by their header
    group ("Published; Rebuilt from public data: Published coding to Without the world wars"), for
    the caption "(part 1 of 2: ...)". A table that fits is one part with ``of == 1``.
    """
    cols = list(t["columns"])
    n = len(cols)
    k = max(1, -(-n // max_cols))
    sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
    group_span: dict[str, int] = {}
    for col in cols:
        group_span[col["group"]] = group_span.get(col["group"], 0) + 1

    def sliced(row: dict[str, Any] | None, lo: int, hi: int) -> dict[str, Any] | None:
        if row is None:
            return None
        return {**row, "cells": list(row["cells"])[lo:hi]}

    parts, lo = [], 0
    for i, size in enumerate(sizes, start=1):
        hi = lo + size
        mine = cols[lo:hi]
        groups: list[dict[str, Any]] = []
        for col in mine:
            if groups and groups[-1]["label"] == col["group"]:
                groups[-1]["span"] += 1
                groups[-1]["cols"].append(col["label"])
            else:
                groups.append({"label": col["group"], "span": 1, "cols": [col["label"]]})
        which = []
        for g in groups:
            labs = g["cols"]
            if group_span[g["label"]] == 1:
                which.append(g["label"])
            elif len(labs) == 1:
                which.append(f"{g['label']}: {labs[0]}")
            elif len(labs) == 2:
                which.append(f"{g['label']}: {labs[0]} and {labs[1]}")
            else:
                which.append(f"{g['label']}: {labs[0]} to {labs[-1]}")
        parts.append({
            "part": i, "of": k, "which": "; ".join(which), "columns": mine,
            "groups": [{"label": g["label"], "span": g["span"]} for g in groups],
            "rows": [sliced(r, lo, hi) for r in t.get("rows") or []],
            "ame_rows": [sliced(r, lo, hi) for r in t.get("ame_rows") or []],
            "stat_rows": [sliced(r, lo, hi) for r in t.get("stat_rows") or []],
            "status_row": sliced(t.get("status_row"), lo, hi),
        })
        lo = hi
    return parts


class _HtmlRenderer:
    """Prose and cells for the HTML version (citations as author-year links to the reference list)."""

    def __init__(self, labels: dict[str, dict[str, str]], numbers: dict[str, int | str]):
        self.labels, self.numbers = labels, numbers

    def prose(self, segments: list[dict[str, Any]]) -> Markup:
        out = []
        for s in segments:
            t = s["t"]
            if t == "text":
                out.append(escape(s["v"]))
            elif t == "emph":
                out.append(Markup("<em>{}</em>").format(s["v"]))
            elif t == "citet":
                parts = [Markup('<a class="cite" href="#ref-{}">{}</a> ({})').format(
                    k, self.labels[k]["author"], self.labels[k]["year"]) for k in s["keys"]]
                out.append(Markup("; ").join(parts))
            elif t == "citep":
                parts = [Markup('<a class="cite" href="#ref-{}">{} {}</a>').format(
                    k, self.labels[k]["author"], self.labels[k]["year"]) for k in s["keys"]]
                out.append(Markup("(") + Markup("; ").join(parts) + Markup(")"))
            elif t == "ref":
                n = self.numbers.get(s["id"], "")
                out.append(Markup('<a href="#{}">{} {}</a>').format(s["id"], s["kind"].capitalize(), n))
        return Markup("").join(out)

    @staticmethod
    def cell(c: dict[str, Any]) -> Markup:
        sup = c.get("stars", "") + ("‡" if c.get("proxy") else "") + ("§" if c.get("hand") else "")
        m = escape(c.get("est", ""))
        if sup:
            m += Markup("<sup>{}</sup>").format(sup)
        return m


# --------------------------------------------------------------------------- numbering
def number_floats(ctx: dict[str, Any], figure_ids: set[str]) -> dict[str, int | str]:
    """Numbers of sections, tables and figures in the order the templates lay them out.

    LaTeX numbers them itself (``\\ref``); the HTML version uses these numbers, so both follow the
    same order: data (sources, variables), codings, each study (model tables, sweeps, coefficient
    figures, survival), multiverse, appendices.
    """
    nums: dict[str, int | str] = {}
    tab = fig = 0

    def t(i: str) -> None:
        nonlocal tab
        tab += 1
        nums[i] = tab

    def f(i: str | None) -> None:
        nonlocal fig
        if i and i in figure_ids:
            fig += 1
            nums[i] = fig

    for n, sid in enumerate(["sec-intro", "sec-answer", "sec-multiverse", "sec-discussion"], start=1):
        nums[sid] = n
    for letter, sid in zip("ABCDEF", ["sec-models", "sec-codings", "sec-data", "sec-changes", "sec-provenance",
                                      "sec-sweeps"]):
        nums[sid] = letter
    for a in ctx.get("answer", {}).get("studies", []):
        for tb in a["tables"]:
            t(tb["id"])
    for st in ctx["multiverse"]["studies"]:
        for b in st["blocks"]:
            f(b["figure"])
            if b["rows"]:
                t(b["table_id"])
    for i, st in enumerate(ctx["studies"], start=1):
        nums["sec-" + st["key"]] = f"A.{i}"
        for g in st["groups"]:
            for tb in g["tables"]:
                t(tb["id"])
        for sw in st["sweeps"]:
            f(sw.get("figure"))
        for fid in st["coef_figures"]:
            f(fid)
        if st.get("survival"):
            f(st["survival"].get("figure"))
    if ctx["codings"]["rows"]:
        t("tab-codings")
    t("tab-sources")
    for v in ctx["data"]["variables"]:
        t(v["id"])
    if ctx["changes"]["rows"]:
        t("tab-changes")
    t("tab-software")
    t("tab-data-checksums")
    t("tab-file-hashes")
    for st in ctx["studies"]:
        for sw in st["table_sweeps"]:
            t(sw["id"])
    return nums


# --------------------------------------------------------------------------- environments
def _loader(templates: Mapping[str, Path]) -> jinja2.BaseLoader:
    """The given template files, by file name (nothing else is looked up)."""

    def load(name: str) -> tuple[str, str, Any] | None:
        path = templates.get(name)
        if path is None:
            return None
        return Path(path).read_bytes().decode("utf-8"), str(path), lambda: False

    return jinja2.FunctionLoader(load)


def _env_tex(templates: Mapping[str, Path]) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=_loader(templates),
        block_start_string="<%", block_end_string="%>",
        variable_start_string="<<", variable_end_string=">>",
        comment_start_string="<#", comment_end_string="#>",
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        autoescape=False, undefined=jinja2.StrictUndefined, finalize=_tex_finalize,
    )
    env.filters["raw"] = TexRaw
    env.filters["prose"] = _tex_prose
    env.filters["cell"] = _tex_cell
    env.filters["path"] = _tex_path
    env.filters["parts"] = _tex_parts
    return env


def _env_html(renderer: _HtmlRenderer, templates: Mapping[str, Path]) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=_loader(templates),
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        autoescape=True, undefined=jinja2.StrictUndefined, finalize=_html_finalize,
    )
    env.filters["prose"] = renderer.prose
    env.filters["cell"] = renderer.cell
    return env


def _data_uri(path: str) -> str:
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


# --------------------------------------------------------------------------- PDF
def _missing_tex_packages() -> list[str]:
    kpse = shutil.which("kpsewhich")
    if not kpse:
        return []
    try:
        out = subprocess.run([kpse, *TEX_PACKAGES], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError):
        return []
    found = {Path(line.strip()).name for line in out.stdout.splitlines() if line.strip()}
    return [p for p in TEX_PACKAGES if p not in found]


def build_pdf(files: Mapping[str, Path], source_date_epoch: int, *, timeout: int = 900) -> tuple[str, Path | None]:
    """Build ``files["pdf"]`` from ``files["tex"]`` (+ ``files["bib"]``, the PNGs of
    ``files["figures"]``) with latexmk.

    Returns ``(status, path)``: status ``"built"``, or ``"skipped: ..."``/``"failed: ..."`` with the
    reason (the LaTeX log is kept as ``paper.latex.log`` beside the PDF). Never raises for a missing
    or failing TeX installation.
    """
    latexmk, pdflatex = shutil.which("latexmk"), shutil.which("pdflatex")
    if not latexmk or not pdflatex:
        missing = [n for n, p in (("latexmk", latexmk), ("pdflatex", pdflatex)) if not p]
        return f"skipped: {' and '.join(missing)} not on PATH (install TeX Live: make system-packages)", None
    if not shutil.which("bibtex"):
        return "skipped: bibtex not on PATH", None
    missing = _missing_tex_packages()
    if missing:
        return f"skipped: LaTeX package(s) not installed: {', '.join(missing)}", None
    env = dict(os.environ)
    env.update({"SOURCE_DATE_EPOCH": str(int(source_date_epoch)), "FORCE_SOURCE_DATE": "1", "TZ": "UTC",
                "LC_ALL": "C", "LANG": "C"})
    out_pdf = Path(files["pdf"])
    log_path = out_pdf.with_name("paper.latex.log")
    with tempfile.TemporaryDirectory(prefix="coalitions-paper-") as tmp:
        work = Path(tmp)
        shutil.copyfile(files["tex"], work / "paper.tex")
        shutil.copyfile(files["bib"], work / "references.bib")
        (work / "figures").mkdir()
        for p in sorted(Path(files["figures"]).glob("*.png")):  # the figures this run drew
            shutil.copyfile(p, work / "figures" / p.name)
        cmd = [latexmk, "-norc", "-pdf", "-bibtex", "-interaction=nonstopmode", "-halt-on-error",
               "-file-line-error", "paper.tex"]
        try:
            proc = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=timeout,
                                  check=False)
        except subprocess.TimeoutExpired:
            return f"failed: latexmk did not finish within {timeout} s", None
        except OSError as exc:
            return f"failed: latexmk could not run ({exc})", None
        texlog = (work / "paper.log").read_text(encoding="latin-1") if (work / "paper.log").is_file() else ""
        write_text_atomic(log_path, proc.stdout + "\n" + proc.stderr + "\n" + texlog)
        pdf = work / "paper.pdf"
        if proc.returncode != 0 or not pdf.is_file():
            import re

            first_err = next((ln for ln in texlog.splitlines()
                              if ln.startswith("!") or re.match(r"^\S+\.tex:\d+: ", ln)), "see the log")
            return f"failed: latexmk exited with {proc.returncode} ({first_err.strip()}); log: {log_path.name}", None
        with atomic_path(out_pdf) as t:
            shutil.copyfile(pdf, t)
    return "built", out_pdf


# --------------------------------------------------------------------------- main entry
def render_paper(context: dict[str, Any], out: str | Path | Mapping[str, str | Path], *,
                 templates: Mapping[str, str | Path], pdf: bool = True) -> dict[str, Any]:
    """Write paper.tex, paper.html, references.bib, figures/ and (when TeX is installed) paper.pdf.

    ``context`` is the output of :func:`coalitions.paper.gather.gather`; its
    ``meta.source_date_epoch`` fixes the date on the paper and the PDF's timestamps. ``out`` is a
    folder (the files of :data:`PAPER_FILES` in it) or the files by role (``tex``, ``html``,
    ``bib``, ``figures`` (a folder), ``pdf``: the rule's outputs). ``templates`` are the template
    files by name (:data:`coalitions.paper.inputs.TEMPLATE_NAMES`). Returns the
    paths written (``tex``, ``html``, ``bib``, ``pdf`` or None, ``figures``: list of files) and
    ``pdf_status`` ("built", "not requested", or "skipped: ..."/"failed: ..." with the reason).
    """
    if isinstance(out, Mapping):
        files = {k: Path(v) for k, v in out.items() if v}
    else:
        files = {k: Path(out) / name for k, name in PAPER_FILES.items()}
    templates = {k: Path(v) for k, v in templates.items()}
    figdir = files["figures"]
    figdir.mkdir(parents=True, exist_ok=True)
    for old in list(figdir.glob("*.png")) + list(figdir.glob("*.svg")):
        old.unlink()
    drawn = make_figures(context["figures"], figdir)
    numbers = number_floats(context, set(drawn))
    figs = {}
    for fid, spec in context["figures"].items():
        if fid not in drawn:
            continue
        figs[fid] = {"id": fid, "caption": spec["caption"], "number": numbers.get(fid, ""),
                     "png": f"figures/{Path(drawn[fid]['png']).name}", "uri": _data_uri(drawn[fid]["png"])}
    sde = int(context["meta"]["source_date_epoch"])

    tex = _env_tex(templates).get_template("paper.tex.j2").render(c=context, figs=figs)
    write_text_atomic(files["tex"], tex)
    write_text_atomic(files["bib"], context["bib"]["bibtex"])
    renderer = _HtmlRenderer(context["bib"]["labels"], numbers)
    css = templates["paper.css"].read_text(encoding="utf-8")
    js = templates["paper_explorer.js"].read_text(encoding="utf-8")
    explorer_json = to_inline_json(context.get("explorer") or {})
    html = _env_html(renderer, templates).get_template("paper.html.j2").render(
        c=context, figs=figs, n=numbers, css=Markup(css), js=Markup(js), explorer_json=Markup(explorer_json))
    write_text_atomic(files["html"], html)

    result: dict[str, Any] = {
        "tex": files["tex"], "html": files["html"], "bib": files["bib"],
        "figures": sorted(Path(p) for f in drawn.values() for p in f.values() if p), "pdf": None,
    }
    stale = files.get("pdf")
    if pdf and stale is None:
        raise CoalitionsError("paper: a PDF was asked for but no PDF output was named; add it to the paper rule's "
                              "outputs or build without the PDF (config key paper_pdf: false)")
    if pdf:
        status, path = build_pdf(files, sde)
        if path is None and stale.is_file():
            stale.unlink()
        result["pdf"], result["pdf_status"] = path, status
        if status == "built":
            LOG.info("paper: PDF built: %s", path)
        else:
            LOG.warning("paper: PDF %s; paper.tex and paper.html are written", status)
    else:
        result["pdf_status"] = "not requested"
    return result

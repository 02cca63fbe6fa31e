"""The comparison paper: results files -> LaTeX/PDF and self-contained HTML.

Public API:

* :class:`PaperInputs` (``inputs.py``) names every file the paper reads (the ``paper`` rule's inputs);
* :func:`gather` (``gather.py``) reads those files into a plain context;
* :func:`render_paper` (``render.py``) writes ``paper.tex``, ``paper.html``, ``references.bib``,
  ``figures/`` and, when TeX is installed, a byte-reproducible ``paper.pdf``;
* :func:`make_figures` (``figures.py``) draws the figures deterministically;
* :func:`build_paper` does both (what the workflow rule calls);
* :func:`git_info` (``provenance.py``) reads the commit and commit time of a checkout.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

from .figures import make_figures
from .gather import gather
from .inputs import PaperInputs
from .provenance import git_info
from .render import build_pdf, render_paper

__all__ = ["PaperInputs", "gather", "render_paper", "make_figures", "build_pdf", "build_paper", "git_info"]


def build_paper(inputs: PaperInputs, out: str | Path | Mapping[str, str | Path], *, git: dict[str, Any],
                source_date_epoch: int | None = None, pdf: bool = True) -> dict[str, Any]:
    """Gather the files of ``inputs`` and render the paper to ``out`` (a folder, or the output files
    by role: see :func:`render_paper`).

    ``git`` is :func:`git_info` of the checkout (``commit`` and commit ``time``; ``"unknown"`` and
    None outside a checkout). ``SOURCE_DATE_EPOCH`` defaults to the commit time (0 without one);
    the environment variable ``SOURCE_DATE_EPOCH``, when set, wins over the commit time.
    """
    if source_date_epoch is None:
        env = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
        source_date_epoch = int(env) if env.isdigit() else (git.get("time") or 0)
    ctx = gather(inputs, git_commit=git.get("commit"), source_date_epoch=source_date_epoch)
    return render_paper(ctx, out, templates=inputs.templates, pdf=pdf)

"""The comparison paper: results files -> LaTeX/PDF and self-contained HTML.

Public API:

* :func:`gather` (``gather.py``) reads the results layout into a plain context;
* :func:`render_paper` (``render.py``) writes ``paper.tex``, ``paper.html``, ``references.bib``,
  ``figures/`` and, when TeX is installed, a byte-reproducible ``paper.pdf``;
* :func:`make_figures` (``figures.py``) draws the figures deterministically;
* :func:`build_paper` does both for a project folder (what the workflow rule calls);
* :func:`git_info` (``provenance.py``) reads the commit and commit time of a checkout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .figures import make_figures
from .gather import gather
from .provenance import git_info
from .render import build_pdf, render_paper

__all__ = ["gather", "render_paper", "make_figures", "build_pdf", "build_paper", "git_info"]


def build_paper(root: str | Path, outdir: str | Path | None = None, *, registry: str | Path | None = None,
                source_date_epoch: int | None = None, git_commit: str | None = None,
                pdf: bool = True) -> dict[str, Any]:
    """Gather the results of the project at ``root`` and render the paper into ``outdir``
    (default ``root/results/paper``).

    The commit and ``SOURCE_DATE_EPOCH`` default to the checkout's HEAD and its commit time
    (``"unknown"`` and 0 outside a git checkout); the environment variable ``SOURCE_DATE_EPOCH``,
    when set, wins over the commit time.
    """
    import os

    root = Path(root)
    info = git_info(root)
    commit = git_commit or info["commit"]
    if source_date_epoch is None:
        env = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
        source_date_epoch = int(env) if env.isdigit() else (info["time"] or 0)
    ctx = gather(root / "results", root / "config", registry or (root / "config" / "sources.yaml"),
                 archive_status_dir=root / "resources" / "original",
                 provenance_dir=root / "resources" / "provenance",
                 git_commit=commit, source_date_epoch=source_date_epoch)
    return render_paper(ctx, outdir or (root / "results" / "paper"), pdf=pdf)

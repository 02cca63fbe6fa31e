"""Every file the paper reads, named: what the workflow's ``paper`` rule declares as its inputs.

:func:`coalitions.paper.gather.gather` and :func:`coalitions.paper.render.render_paper` read only
the paths of a :class:`PaperInputs`; neither looks for a file by itself (no folder is listed and no
path is put together from a results folder). A file that is not named is treated as missing, which
the paper says in a sentence; a file that is named but absent is missing in the same way.

:func:`from_snakemake` builds it from the ``paper`` rule's named inputs and params (see
``rules/paper.smk``), so that Snakemake's rerun triggers see every file the paper depends on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..util import CoalitionsError

#: the template files of the paper, by the name the renderer asks for
TEMPLATE_NAMES = ("paper.tex.j2", "paper.html.j2", "paper.css", "paper_explorer.js")


@dataclass(frozen=True)
class PaperInputs:
    """The files of the paper, by role.

    ``variables`` is keyed by ``(coding, study, track)``; ``comparison`` by table name
    (``weisiger_estimates``, ``codings``, ...); ``multiverse`` by file name (``weisiger_multiverse.csv``,
    ``weisiger_spec_curve_foverlap.png``, ...); ``archives`` by archive key (the folder holding its
    ``status.json`` and, for Henke's archive, her Stata logs); ``cases`` by file name. ``root`` is the
    folder the paper shows paths relative to (paths are shown as given when it is None).
    """

    registry: Path
    templates: Mapping[str, Path]
    literature: Path | None = None
    models: Mapping[str, Path] = field(default_factory=dict)
    multiverse_config: Path | None = None
    codings: Mapping[str, Path] = field(default_factory=dict)
    published: Mapping[str, Path] = field(default_factory=dict)
    comparison: Mapping[str, Path] = field(default_factory=dict)
    variables: Mapping[tuple[str, str, str], Path] = field(default_factory=dict)
    participants: Mapping[str, Path] = field(default_factory=dict)
    henke_datasets: Mapping[str, Path] = field(default_factory=dict)
    cases: Mapping[str, Path] = field(default_factory=dict)
    multiverse: Mapping[str, Path] = field(default_factory=dict)
    archives: Mapping[str, Path] = field(default_factory=dict)
    provenance: tuple[Path, ...] = ()
    root: Path | None = None

    def __post_init__(self) -> None:
        missing = [n for n in TEMPLATE_NAMES if n not in self.templates]
        if missing:
            raise CoalitionsError(f"paper: template(s) {', '.join(missing)} not among the inputs "
                                  f"(given: {', '.join(sorted(self.templates)) or 'none'}); list them in the paper rule")

    def shown(self, path: Path) -> str:
        """A path as the paper prints it: relative to :attr:`root`, else as given."""
        if self.root is None:
            return str(path)
        try:
            return str(Path(path).relative_to(self.root))
        except ValueError:
            return Path(path).name

    def archive_file(self, archive: str, name: str) -> Path | None:
        """A file inside a declared archive folder (None when the archive is not an input)."""
        folder = self.archives.get(archive)
        return None if folder is None else Path(folder) / name


def _keyed(paths: Any, keys: Any, what: str) -> dict:
    paths, keys = [Path(p) for p in paths], list(keys)
    if len(paths) != len(keys):
        raise CoalitionsError(f"paper rule: input '{what}' has {len(paths)} file(s) but params.order.{what} names "
                              f"{len(keys)}; the two lists of rules/paper.smk must match")
    return {(tuple(k) if isinstance(k, (list, tuple)) else k): p for k, p in zip(keys, paths)}


def from_snakemake(inp: Any, keys: Mapping[str, Any]) -> PaperInputs:
    """The inputs of the ``paper`` rule (``snakemake.input``) with ``params.order``: for each list
    input, the key of each of its files, in the same order."""
    return PaperInputs(
        registry=Path(inp.registry),
        templates={Path(p).name: Path(p) for p in inp.templates},
        literature=Path(inp.literature),
        models=_keyed(inp.models, keys["models"], "models"),
        multiverse_config=Path(inp.multiverse_config),
        codings=_keyed(inp.codings, keys["codings"], "codings"),
        published=_keyed(inp.published, keys["published"], "published"),
        comparison=_keyed(inp.comparison, keys["comparison"], "comparison"),
        variables=_keyed(inp.variables, keys["variables"], "variables"),
        participants=_keyed(inp.participants, keys["participants"], "participants"),
        henke_datasets=_keyed(inp.henke_datasets, keys["henke_datasets"], "henke_datasets"),
        cases={Path(p).name: Path(p) for p in inp.henke_cases},
        multiverse={Path(p).name: Path(p) for p in inp.multiverse},
        archives=_keyed(inp.archives, keys["archives"], "archives"),
        provenance=tuple(Path(p) for p in inp.provenance),
    )

"""The journal replication package: ``results/replication-package.zip``.

The zip is a runnable copy of the workflow (code, configuration, case files, environments: the files
git tracks, ``git ls-files``) plus its outputs (``outputs/``: the comparison tables, estimates,
multiverse and paper, each an input of the ``package`` rule) and a README in the structure of the
Social Science Data Editors' template. It holds no third-party data: the fetch
step downloads every dataset from its provider (or copies it from a mirror folder) and verifies it.

A verifier unzips it and runs one command (``make all``, or ``snakemake --cores 8`` in an
environment with the pinned packages); the tables in ``results/`` then equal those in ``outputs/``
byte for byte.
"""

from __future__ import annotations

import hashlib
import platform
import shutil
import subprocess
import zipfile
from importlib import metadata
from pathlib import Path
from typing import Iterable, Mapping

from .registry import Registry
from .util import CoalitionsError, atomic_path

#: what the package ships of the project: the files git tracks under these paths (relative to the
#: project root, listed by ``git ls-files``; an untracked or ignored file is never shipped)
CODE = ["Snakefile", "Makefile", "pyproject.toml", "README.md", "rules", "scripts", "config", "envs", "report", "profiles", ".ci",
        "tests"]
#: a fixed timestamp for every zip member, so that the same inputs give the same zip
ZIP_DATE = (2016, 1, 1, 0, 0, 0)
#: files Snakemake itself writes into a directory output (not a result)
SNAKEMAKE_MARKERS = {".snakemake_timestamp"}

#: every table and figure of the paper: what produces it (rule) and from which file
OUTPUT_MAP = [
    ("Table: data sources", "paper", "config/sources.yaml, resources/provenance/"),
    ("Table: coding rules", "comparison", "results/comparison/codings.csv"),
    ("Tables: Weisiger models, published vs re-estimated (Tables 1, 2, A1, A1a, A2, A4)", "weisiger_models",
     "results/{coding}/weisiger/{track}/estimates.csv, fits.csv -> results/comparison/weisiger_estimates.csv"),
    ("Figure: Weisiger coefficients across codings", "paper", "results/comparison/weisiger_estimates.csv"),
    ("Figure: survival curves, Common Front contrast", "weisiger_models",
     "results/{coding}/weisiger/{track}/survival.csv -> results/comparison/survival_curves.csv"),
    ("Figure: window sweep (Fig. 5)", "weisiger_models", "results/comparison/weisiger_estimates.csv"),
    ("Tables: Henke models", "henke_rebuilt, henke_original",
     "results/{coding}/henke/{track}/estimates.csv -> results/comparison/henke_estimates.csv"),
    ("Figures: specification curves", "multiverse", "results/multiverse/{study}_multiverse.csv, "
     "{study}_spec_curve_{term}.png"),
    ("Appendix A: participants whose exit status changes", "comparison", "results/comparison/status_changes.csv"),
    ("Appendix B: provenance", "paper", "resources/provenance/*.json, config/codings/*.yaml"),
]


def tracked_files(parts: Iterable[str] = CODE) -> list[str]:
    """The files git tracks under ``parts`` in the checkout Snakemake runs in (paths relative to it,
    sorted): the code and configuration the package ships.

    Outside a git checkout, or without git, a :class:`CoalitionsError` says so: the package lists
    its code with ``git ls-files`` and is built from a checkout only. A tracked file that is missing
    from the working tree is an error too (restore it or commit its deletion).
    """
    git = shutil.which("git")
    if not git:
        raise CoalitionsError("package: git is not installed; the replication package lists its code with "
                              "`git ls-files`: install git and build the package in a git checkout of the project")
    try:
        proc = subprocess.run([git, "ls-files", "-z", "--", *parts], capture_output=True, text=True,
                              timeout=120, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        raise CoalitionsError(f"package: `git ls-files` could not run ({exc}); build the package in a git "
                              "checkout of the project") from None
    if proc.returncode != 0:
        why = " ".join(proc.stderr.split()) or f"exit status {proc.returncode}"
        raise CoalitionsError(f"package: this folder is not a git checkout ({why}); the replication package lists "
                              "its code with `git ls-files`: build it in a git checkout of the project")
    files = sorted(f for f in proc.stdout.split("\0") if f)
    if not files:
        raise CoalitionsError("package: `git ls-files` lists no tracked file of the workflow "
                              f"({', '.join(parts)}); commit the project before building the package")
    gone = [f for f in files if not Path(f).is_file()]
    if gone:
        raise CoalitionsError(f"package: tracked file(s) missing from the working tree: {', '.join(gone[:5])}"
                              f"{' ...' if len(gone) > 5 else ''}; restore them or commit their deletion")
    return files


def output_files(paths: Iterable[str | Path]) -> list[Path]:
    """The shipped outputs: the given files, and the files inside the given directories (the paper's
    figures), without the marker Snakemake writes into a directory output."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(q for q in sorted(p.rglob("*")) if q.is_file() and q.name not in SNAKEMAKE_MARKERS)
        else:
            out.append(p)
    return sorted(set(out))


def declared_resources(rules: Iterable) -> dict[str, dict[str, int]]:
    """The memory (``mem_mb``) and runtime (minutes) each Snakemake rule declares as fixed numbers
    (``workflow.rules``; a rule without them, or with a value computed per job, is left out)."""
    out: dict[str, dict[str, int]] = {}
    for r in rules:
        res = {}
        for k in ("mem_mb", "runtime"):
            v = r.resources.get(k) if r.resources else None
            if v is None or getattr(v, "is_evaluable", lambda: False)():
                continue
            v = getattr(v, "value", v)
            if isinstance(v, int):
                res[k] = v
        if res:
            out[r.name] = res
    return out


def requirements_table(requirements: Mapping[str, Mapping[str, int]]) -> list[dict[str, object]]:
    """The memory and runtime each rule declares (``resources:``), one row per rule, sorted."""
    return [{"rule": r, "mem_mb": v.get("mem_mb", ""), "runtime": v.get("runtime", "")}
            for r, v in sorted(requirements.items())]


def software_versions() -> list[tuple[str, str]]:
    names = ["snakemake", "pandas", "numpy", "scipy", "statsmodels", "pyarrow", "pyreadr", "jinja2", "matplotlib",
             "requests", "pyyaml", "jsonschema"]
    out = [("Python", platform.python_version())]
    for n in names:
        try:
            out.append((n, metadata.version(n)))
        except metadata.PackageNotFoundError:
            out.append((n, "not installed"))
    return out


def render_readme(registry: Registry, template: Path, commit: str,
                  requirements: Mapping[str, Mapping[str, int]]) -> str:
    import jinja2

    env = jinja2.Environment(autoescape=False, keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    sources = []
    for s in registry.sources.values():
        for f in s.files.values():
            sources.append({"source": s.key, "title": s.title, "version": s.version, "provider": s.provider,
                            "path": f.path, "sha256": f.sha256 or "", "kind": s.kind, "required": s.required,
                            "terms": s.terms, "homepage": s.homepage,
                            "url": f.urls[0].url if f.urls else (s.homepage or ""),
                            "bibtex": s.bibtex, "persistent_id": f.persistent_id or ""})
    return env.from_string(Path(template).read_text(encoding="utf-8")).render(
        sources=sources, bibtex=list(dict.fromkeys(s.bibtex.strip() for s in registry.sources.values())),
        requirements=requirements_table(requirements), software=software_versions(), commit=commit,
        outputs=OUTPUT_MAP, platform=f"{platform.system()} {platform.machine()}",
    )


def build_package(out_zip: str | Path, registry: Registry, *, code: Iterable[str | Path],
                  outputs: Iterable[str | Path], results_dir: str | Path, readme_template: str | Path,
                  requirements: Mapping[str, Mapping[str, int]], commit: str = "unknown") -> list[str]:
    """Write the zip atomically; returns the member names.

    ``code`` are the project files shipped as they are (:func:`tracked_files`; ``README.md`` becomes
    ``docs/WORKFLOW.md``); ``outputs`` the results shipped under ``outputs/`` (files or directories,
    each inside ``results_dir``, the rule's inputs); ``readme_template`` the package README's template;
    ``requirements`` the memory and runtime each rule declares.
    """
    results_dir = Path(results_dir)
    members: list[tuple[str, bytes]] = [
        ("README.md", render_readme(registry, Path(readme_template), commit, requirements).encode())]
    for f in sorted(Path(c) for c in code):
        rel = f.as_posix()
        members.append(("docs/WORKFLOW.md" if rel == "README.md" else rel, f.read_bytes()))
    for f in output_files(outputs):
        try:
            rel = f.relative_to(results_dir).as_posix()
        except ValueError:
            raise CoalitionsError(f"package: output {f} is not inside {results_dir}; only results are shipped "
                                  "under outputs/") from None
        members.append(("outputs/" + rel, f.read_bytes()))
    names = [n for n, _ in members]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise CoalitionsError(f"package: zip member(s) listed twice: {', '.join(dup[:5])}; list each file once "
                              "in the package rule")
    manifest = "\n".join(f"{hashlib.sha256(b).hexdigest()}  {n}" for n, b in members) + "\n"
    members.append(("MANIFEST.sha256", manifest.encode()))
    with atomic_path(out_zip, suffix=".zip.partial") as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, data in members:
                info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = (0o755 if name.endswith((".sh", "/run")) else 0o644) << 16
                zf.writestr(info, data)
    return [n for n, _ in members]

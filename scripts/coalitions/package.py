"""The journal replication package: ``results/replication-package.zip``.

The zip is a runnable copy of the workflow (code, configuration, case files, environments) plus its
outputs (``outputs/``: the comparison tables, estimates, multiverse and paper) and a README in the
structure of the Social Science Data Editors' template. It holds no third-party data: the fetch
step downloads every dataset from its provider (or copies it from a mirror folder) and verifies it.

A verifier unzips it and runs one command (``make all``, or ``snakemake --cores 8`` in an
environment with the pinned packages); the tables in ``results/`` then equal those in ``outputs/``
byte for byte.
"""

from __future__ import annotations

import csv
import glob
import hashlib
import json
import platform
import zipfile
from importlib import metadata
from pathlib import Path
from typing import Iterable

from .registry import Registry
from .util import atomic_path

#: what the package ships of the project (paths relative to the project root)
CODE = ["Snakefile", "Makefile", "pyproject.toml", "README.md", "rules", "scripts", "config", "envs", "report", "profiles", ".ci",
        "tests"]
#: outputs shipped (relative to the project root); analysis datasets derived from third-party data
#: and the clean source tables are NOT shipped: the workflow rebuilds them after fetching the data
OUTPUT_GLOBS = ["results/comparison/*.csv", "results/multiverse/*", "results/paper/*", "results/paper/figures/*",
                "results/*/weisiger/*/estimates.csv", "results/*/weisiger/*/fits.csv",
                "results/*/weisiger/*/applicability.csv", "results/*/weisiger/*/variables.csv",
                "results/*/weisiger/*/periods_codebook.csv", "results/*/weisiger/rebuilt/participants.csv",
                "results/*/henke/*/estimates.csv", "results/*/henke/*/fits.csv",
                "results/*/henke/rebuilt/variables.csv", "results/*/henke/rebuilt/dataset_codebook.csv",
                "results/benchmark.json"]
#: a fixed timestamp for every zip member, so that the same inputs give the same zip
ZIP_DATE = (2016, 1, 1, 0, 0, 0)

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


def _files(root: Path, items: Iterable[str]) -> list[Path]:
    out: list[Path] = []
    for item in items:
        p = root / item
        if p.is_dir():
            out.extend(q for q in sorted(p.rglob("*")) if q.is_file() and "__pycache__" not in q.parts
                       and not q.name.endswith((".pyc",)) and ".egg-info" not in str(q))
        elif p.is_file():
            out.append(p)
    return out


def _outputs(root: Path) -> list[Path]:
    seen: dict[str, Path] = {}
    for pattern in OUTPUT_GLOBS:
        for f in sorted(glob.glob(str(root / pattern))):
            if Path(f).is_file():
                seen[f] = Path(f)
    return [seen[k] for k in sorted(seen)]


def runtime_summary(root: Path) -> dict:
    """Measured runtime and memory: the benchmark's figures when it was run, else Snakemake's
    per-job benchmark files (sum of wall time, largest resident memory)."""
    bench = root / "results" / "benchmark.json"
    if bench.is_file():
        return {"source": "scripts/benchmark.py (results/benchmark.json)", **json.loads(bench.read_text())}
    wall, rss, jobs = 0.0, 0.0, 0
    for f in glob.glob(str(root / "benchmarks" / "**" / "*.tsv"), recursive=True):
        with open(f, encoding="utf-8") as fh:
            for row in csv.DictReader(fh, delimiter="\t"):
                jobs += 1
                wall += float(row.get("s") or 0)
                try:
                    rss = max(rss, float(row.get("max_rss") or 0))
                except ValueError:
                    pass
    return {"source": "Snakemake benchmark files of the jobs that record them", "jobs": jobs,
            "sum_job_seconds": round(wall, 1), "max_job_rss_mb": round(rss, 1)}


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


def render_readme(registry: Registry, root: Path, commit: str, template_dir: Path) -> str:
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(template_dir)), autoescape=False,
                             keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    sources = []
    for s in registry.sources.values():
        for f in s.files.values():
            sources.append({"source": s.key, "title": s.title, "version": s.version, "provider": s.provider,
                            "path": f.path, "sha256": f.sha256 or "", "kind": s.kind, "required": s.required,
                            "terms": s.terms, "homepage": s.homepage,
                            "url": f.urls[0].url if f.urls else (s.homepage or ""),
                            "bibtex": s.bibtex, "persistent_id": f.persistent_id or ""})
    return env.get_template("package_README.md.j2").render(
        sources=sources, bibtex=list(dict.fromkeys(s.bibtex.strip() for s in registry.sources.values())),
        runtime=runtime_summary(root), software=software_versions(), commit=commit,
        outputs=OUTPUT_MAP, platform=f"{platform.system()} {platform.machine()}",
    )


def build_package(root: str | Path, out_zip: str | Path, registry: Registry, *, commit: str = "unknown",
                  template_dir: str | Path | None = None) -> list[str]:
    """Write the zip atomically; returns the member names."""
    root = Path(root)
    template_dir = Path(template_dir) if template_dir else Path(__file__).parent / "templates"
    members: list[tuple[str, bytes]] = [("README.md", render_readme(registry, root, commit, template_dir).encode())]
    for f in _files(root, CODE):
        rel = f.relative_to(root).as_posix()
        name = "docs/WORKFLOW.md" if rel == "README.md" else rel
        members.append((name, f.read_bytes()))
    for f in _outputs(root):
        members.append(("outputs/" + f.relative_to(root / "results").as_posix(), f.read_bytes()))
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

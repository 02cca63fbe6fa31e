"""The data-source registry (``config/sources.yaml``): loading and validation.

The registry is the single list of every file the workflow reads. It is plain data; this module
checks its shape so that a typo in it fails at start with the key named, not halfway through a
build.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .util import CoalitionsError, read_yaml

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_SOURCE_KEYS = {
    "file": {"title", "version", "provider", "homepage", "terms", "bibtex", "files", "required", "kind"},
    "dataverse": {
        "title", "version", "provider", "homepage", "terms", "bibtex", "files", "required", "kind",
        "server", "dataset_doi",
    },
}
_FILE_KEYS = {
    "file": {"path", "sha256", "sha256_lf_normalised", "rows", "urls", "description"},
    "dataverse": {"path", "persistent_id", "file_id", "md5", "format", "description"},
}


@dataclass(frozen=True)
class Url:
    url: str
    member: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class FileEntry:
    source: str
    key: str
    path: str
    kind: str
    sha256: str | None = None
    sha256_lf_normalised: str | None = None
    rows: int | None = None
    urls: tuple[Url, ...] = ()
    persistent_id: str | None = None
    format: str | None = None
    description: str | None = None
    file_id: int | None = None  # a Dataverse file's numeric id, for a file without a persistent id
    md5: str | None = None  # the MD5 the publisher states, checked against Dataverse's metadata too

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["urls"] = [asdict(u) for u in self.urls]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "FileEntry":
        d = dict(d)
        d["urls"] = tuple(Url(**u) for u in d.get("urls", ()))
        return cls(**d)

    @property
    def is_text(self) -> bool:
        return self.sha256_lf_normalised is not None

    @property
    def basename(self) -> str:
        return Path(self.path).name


@dataclass(frozen=True)
class Source:
    key: str
    kind: str
    title: str
    version: str
    provider: str
    homepage: str
    terms: str
    bibtex: str
    required: bool
    files: dict[str, FileEntry] = field(default_factory=dict)
    server: str | None = None
    dataset_doi: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["files"] = {k: f.to_dict() for k, f in self.files.items()}
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Source":
        d = dict(d)
        d["files"] = {k: FileEntry.from_dict(f) for k, f in d["files"].items()}
        return cls(**d)


@dataclass(frozen=True)
class Registry:
    path: str
    sources: dict[str, Source]

    def file(self, source: str, key: str) -> FileEntry:
        src = self.sources.get(source)
        if src is None:
            raise CoalitionsError(f"{self.path}: no source '{source}' (known: {', '.join(sorted(self.sources))})")
        if key not in src.files:
            raise CoalitionsError(
                f"{self.path}: no file '{key}' in source '{source}' (known: {', '.join(sorted(src.files))})"
            )
        return src.files[key]

    def public_files(self) -> list[FileEntry]:
        return [f for s in self.sources.values() if s.kind == "file" for f in s.files.values()]

    def by_path(self) -> dict[str, FileEntry]:
        return {f.path: f for f in self.public_files()}

    def archives(self) -> dict[str, Source]:
        return {k: s for k, s in self.sources.items() if s.kind == "dataverse"}


def _err(path: str, where: str, msg: str) -> CoalitionsError:
    return CoalitionsError(f"{path}: {where}: {msg}")


def _check_keys(path: str, where: str, got: dict, allowed: set, required: set) -> None:
    unknown = set(got) - allowed
    if unknown:
        raise _err(path, where, f"unknown key(s) {sorted(unknown)}; allowed: {sorted(allowed)}")
    missing = required - set(got)
    if missing:
        raise _err(path, where, f"missing key(s) {sorted(missing)}")


def parse_registry(data: Any, path: str = "config/sources.yaml") -> Registry:
    if not isinstance(data, dict) or not isinstance(data.get("sources"), dict):
        raise CoalitionsError(f"{path}: expected a mapping with a 'sources' key")
    sources: dict[str, Source] = {}
    seen_paths: dict[str, str] = {}
    for skey, s in data["sources"].items():
        where = f"sources.{skey}"
        if not isinstance(s, dict):
            raise _err(path, where, "expected a mapping")
        kind = s.get("kind", "file")
        if kind not in _SOURCE_KEYS:
            raise _err(path, f"{where}.kind", f"'{kind}' is not one of {sorted(_SOURCE_KEYS)}")
        _check_keys(path, where, s, _SOURCE_KEYS[kind],
                    {"title", "version", "files", "bibtex", "terms", "required"})
        if not isinstance(s["required"], bool):
            raise _err(path, f"{where}.required", "must be true or false")
        if kind == "dataverse":
            for k in ("server", "dataset_doi"):
                if not isinstance(s.get(k), str):
                    raise _err(path, f"{where}.{k}", "required for a dataverse source")
        if not isinstance(s["files"], dict) or not s["files"]:
            raise _err(path, f"{where}.files", "expected a non-empty mapping")
        files: dict[str, FileEntry] = {}
        for fkey, f in s["files"].items():
            fwhere = f"{where}.files.{fkey}"
            if not isinstance(f, dict):
                raise _err(path, fwhere, "expected a mapping")
            req = {"path", "sha256", "urls"} if kind == "file" else {"path"}
            _check_keys(path, fwhere, f, _FILE_KEYS[kind], req)
            if kind == "dataverse":
                if ("persistent_id" in f) == ("file_id" in f):
                    raise _err(path, fwhere, "give exactly one of persistent_id (a file DOI) or file_id "
                                             "(Dataverse's numeric file id)")
                if "file_id" in f and not (isinstance(f["file_id"], int) and f["file_id"] > 0):
                    raise _err(path, f"{fwhere}.file_id", "must be a positive integer (Dataverse's file id)")
                if "md5" in f and not (isinstance(f["md5"], str) and re.match(r"^[0-9a-f]{32}$", f["md5"])):
                    raise _err(path, f"{fwhere}.md5", "must be 32 lower-case hex digits")
            fpath = f["path"]
            if not isinstance(fpath, str) or fpath.startswith("/") or ".." in Path(fpath).parts:
                raise _err(path, f"{fwhere}.path", f"'{fpath}' must be a relative path inside the cache")
            if fpath in seen_paths:
                raise _err(path, f"{fwhere}.path", f"'{fpath}' is also used by {seen_paths[fpath]}")
            seen_paths[fpath] = fwhere
            for hk in ("sha256", "sha256_lf_normalised"):
                if hk in f and not (isinstance(f[hk], str) and _HEX64.match(f[hk])):
                    raise _err(path, f"{fwhere}.{hk}", "must be 64 lower-case hex digits")
            urls = []
            for i, u in enumerate(f.get("urls", []) or []):
                if not isinstance(u, dict) or not isinstance(u.get("url"), str):
                    raise _err(path, f"{fwhere}.urls[{i}]", "expected a mapping with 'url'")
                _check_keys(path, f"{fwhere}.urls[{i}]", u, {"url", "member", "note"}, {"url"})
                urls.append(Url(u["url"], u.get("member"), u.get("note")))
            if kind == "file" and not urls:
                raise _err(path, f"{fwhere}.urls", "needs at least one download location")
            if "rows" in f and not (isinstance(f["rows"], int) and f["rows"] >= 0):
                raise _err(path, f"{fwhere}.rows", "must be a non-negative integer")
            files[fkey] = FileEntry(
                source=skey, key=fkey, path=fpath, kind=kind,
                sha256=f.get("sha256"), sha256_lf_normalised=f.get("sha256_lf_normalised"),
                rows=f.get("rows"), urls=tuple(urls), persistent_id=f.get("persistent_id"),
                format=f.get("format"), description=f.get("description"),
                file_id=f.get("file_id"), md5=f.get("md5"),
            )
        sources[skey] = Source(
            key=skey, kind=kind, title=s["title"], version=str(s["version"]),
            provider=s.get("provider", ""), homepage=s.get("homepage", ""), terms=s["terms"],
            bibtex=s["bibtex"], required=s["required"], files=files,
            server=s.get("server"), dataset_doi=s.get("dataset_doi"),
        )
    return Registry(path=path, sources=sources)


def load_registry(path: str | Path) -> Registry:
    return parse_registry(read_yaml(path), str(path))

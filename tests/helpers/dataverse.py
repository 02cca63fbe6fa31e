"""A fake Harvard Dataverse on 127.0.0.1, speaking the two API calls the workflow uses.

- ``GET /api/datasets/:persistentId/?persistentId=<doi>``: the dataset's metadata, JSON with
  ``data.latestVersion.files[].dataFile.{persistentId, md5 | checksum{type,value}, filename,
  originalFileName}`` (the shape of the real API's answer).
- ``GET /api/access/datafile/:persistentId?persistentId=<pid>[&format=original]``: a file's bytes;
  ``GET /api/access/datafile/<numeric id>[?format=original]`` for a file known by its numeric id
  (``FakeFile.file_id``; a file without a persistent id has ``persistent_id=""``).
  Like the real server, a tabular file that Dataverse ingested is served in its ingested form
  (tab-separated) unless ``format=original`` is asked for, and the published MD5 is that of the
  original upload; so a client that forgets ``format=original`` fails verification.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from .http import LocalServer, Reply


@dataclass
class FakeFile:
    persistent_id: str
    original_name: str
    data: bytes
    tabular: bool = False  # ingested by Dataverse: filename becomes .tab, original kept
    md5: str | None = None  # the published checksum; None = the true MD5 of ``data``
    checksum_style: str = "md5"  # "md5" (dataFile.md5) or "checksum" (dataFile.checksum{type,value})
    file_id: int | None = None  # the numeric id (default: 100 + the file's position in the dataset)

    @property
    def published_md5(self) -> str:
        return self.md5 or hashlib.md5(self.data).hexdigest()

    def metadata(self, file_id: int) -> dict:
        name = self.original_name
        df: dict = {"id": self.file_id or file_id, "persistentId": self.persistent_id}
        if self.tabular:
            stem = name.rsplit(".", 1)[0]
            df.update(filename=f"{stem}.tab", originalFileName=name,
                      originalFileFormat="application/x-stata-14", contentType="text/tab-separated-values")
        else:
            df.update(filename=name, contentType="application/octet-stream")
        if self.checksum_style == "md5":
            df["md5"] = self.published_md5
        else:
            df["checksum"] = {"type": "MD5", "value": self.published_md5}
        return {"label": df["filename"], "restricted": False, "dataFile": df}


def dataset_metadata(doi: str, files: list[FakeFile]) -> dict:
    """The JSON answer of ``/api/datasets/:persistentId/`` for a dataset holding ``files``."""
    return {
        "status": "OK",
        "data": {
            "id": 1,
            "persistentUrl": "https://doi.org/" + doi.removeprefix("doi:"),
            "latestVersion": {
                "versionState": "RELEASED",
                "datasetPersistentId": doi,
                "files": [f.metadata(i + 100) for i, f in enumerate(files)],
            },
        },
    }


class FakeDataverse(LocalServer):
    """``with FakeDataverse(doi, files) as dv: fetch_archive(source, out, server=dv.base, ...)``."""

    def __init__(self, doi: str, files: list[FakeFile]) -> None:
        super().__init__()
        self.doi = doi
        self.files = {f.persistent_id: f for f in files if f.persistent_id}
        self.by_id = {str(f.file_id or i + 100): f for i, f in enumerate(files)}
        self._all = list(files)
        self.fallback(self._serve)

    def _serve(self, path: str) -> Reply:
        parts = urlsplit(path)
        q = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        pid = q.get("persistentId")
        if parts.path in ("/api/datasets/:persistentId/", "/api/datasets/:persistentId"):
            if pid != self.doi:
                return _json_error(404, f"Dataset with Persistent ID {pid} not found.")
            body = json.dumps(dataset_metadata(self.doi, self._all)).encode()
            return Reply(body, headers={"Content-Type": "application/json"})
        if parts.path.startswith("/api/access/datafile/"):
            ident = parts.path.rsplit("/", 1)[-1]
            f = self.files.get(pid or "") if ident == ":persistentId" else self.by_id.get(ident)
            if f is None:
                return _json_error(404, f"Datafile {pid or ident}: not found")
            if f.tabular and q.get("format") != "original":
                # the ingested, tab-separated rendering: different bytes from the original
                return Reply(b"ingested\ttab\tversion\n" + f.data[:64].hex().encode() + b"\n",
                             headers={"Content-Type": "text/tab-separated-values"})
            return Reply(f.data)
        return _json_error(404, f"no such endpoint: {parts.path}")


def _json_error(status: int, message: str) -> Reply:
    return Reply(json.dumps({"status": "ERROR", "message": message}).encode(), status=status,
                 headers={"Content-Type": "application/json"})

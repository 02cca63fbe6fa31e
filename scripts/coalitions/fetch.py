"""Fetching: download (with retries and a progress bar) or copy from a mirror, verify, write atomically.

Public files (registry kind ``file``) are required. When a mirror folder is configured the file
must be in it (same ``<dataset>/<file>`` layout as the registry's ``path``); otherwise each URL of
the registry entry is tried in order until one yields bytes that verify.

Authors' archives on Harvard Dataverse (kind ``dataverse``) are optional: they are looked for in
the mirror, then downloaded; they are verified against the MD5 checksums that Dataverse publishes
in the dataset's metadata. When they cannot be had, :func:`fetch_archive` records why in a
``status.json`` and the build goes on without the original-archive track, unless the caller asks
for them to be required.

Nothing unverified is ever left where a later run would trust it: every write goes to a temporary
file that is moved into place only after verification.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import stat
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable
from urllib.parse import quote

from .registry import FileEntry, Source
from .util import (
    LOG,
    CoalitionsError,
    atomic_path,
    md5_file,
    normalise_line_endings,
    remove_stale_partials,
    sha256_file,
    sha256_lf_normalised,
    write_json_atomic,
)

USER_AGENT = "coalitions-replication-workflow (+https://github.com/; research data fetcher)"


class FetchError(CoalitionsError):
    """A file could not be obtained or did not verify."""


# --------------------------------------------------------------------------------------------
# verification


@dataclass(frozen=True)
class Verification:
    method: str  # "sha256" | "sha256_lf_normalised" | "md5"
    expected: str
    actual: str


def verify_public(entry: FileEntry, path: Path, origin: str) -> Verification:
    """Check ``path`` against the registry's checksum; raise a FetchError that says what to do."""
    actual = sha256_file(path)
    if actual == entry.sha256:
        return Verification("sha256", entry.sha256, actual)
    if entry.sha256_lf_normalised:
        lf = sha256_lf_normalised(path)
        if lf == entry.sha256_lf_normalised:
            return Verification("sha256_lf_normalised", entry.sha256_lf_normalised, lf)
    raise FetchError(
        f"checksum mismatch for {entry.path} (from {origin}): expected sha256 {entry.sha256}"
        + (f" (or {entry.sha256_lf_normalised} after line-ending normalisation)"
           if entry.sha256_lf_normalised else "")
        + f", got {actual}. The file is corrupt, truncated or a different release. "
        "Replace it with the release named in config/sources.yaml (or delete it to download again); "
        "nothing was written to the cache."
    )


# --------------------------------------------------------------------------------------------
# low-level download


def _session():
    import requests

    s = requests.Session()
    s.headers["User-Agent"] = USER_AGENT
    return s


#: HTTP answers that may go away on their own (timeout, rate limit, server errors): retried.
#: Any other 4xx (not found, forbidden, ...) will not change by asking again: no retry.
RETRY_STATUS = frozenset({408, 425, 429})


def _retryable_status(status: int) -> bool:
    return status in RETRY_STATUS or status >= 500


def _host_unknown(exc: BaseException) -> bool:
    """True when the host name could not be resolved (an offline machine or a wrong URL)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if type(exc).__name__ == "NameResolutionError" or "Name or service not known" in str(exc) \
                or "Temporary failure in name resolution" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__ or (exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else None)
    return False


def _partial_bytes(exc: BaseException) -> int:
    """Bytes that arrived before the transfer broke (urllib3's ``IncompleteRead(partial, expected)``), else 0."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        partial = getattr(exc, "partial", None)
        if type(exc).__name__ == "IncompleteRead" and partial is not None:
            return partial if isinstance(partial, int) else len(partial)
        nxt = exc.__cause__ or exc.__context__
        if nxt is None and exc.args and isinstance(exc.args[0], BaseException):
            nxt = exc.args[0]
        exc = nxt
    return 0


def download(url: str, dest: Path, *, retries: int = 3, timeout: float = 60.0,
             backoff: float = 2.0, progress: bool = True, label: str | None = None) -> None:
    """Stream ``url`` into ``dest`` (a temporary path), with retries and a progress bar.

    Raises FetchError naming the URL when the server cannot be reached after ``retries`` attempts,
    answers with an error, or the transfer stops before the announced length ("interrupted").
    Network failures, interrupted transfers and HTTP 408/425/429/5xx are retried; other client
    errors (404, 403, ...) and malformed URLs are not, since asking again cannot help.
    """
    import requests
    from tqdm import tqdm

    last: FetchError | None = None
    for attempt in range(1, retries + 1):
        retry = True
        try:
            with _session().get(url, stream=True, timeout=timeout, allow_redirects=True) as r:
                if r.status_code >= 400:
                    retry = _retryable_status(r.status_code)
                    raise FetchError(
                        f"download of {url} failed: the server answered HTTP {r.status_code}. "
                        "Check the URL in config/sources.yaml, or build offline from a mirror folder "
                        "(--config mirror=DIR or COALITIONS_MIRROR=DIR)."
                    )
                total = int(r.headers.get("Content-Length") or 0) or None
                got = 0
                with open(dest, "wb") as fh, tqdm(
                    total=total, unit="B", unit_scale=True, desc=label or PurePosixPath(url).name,
                    disable=not progress, leave=False,
                ) as bar:
                    try:
                        for chunk in r.iter_content(chunk_size=1 << 16):
                            fh.write(chunk)
                            got += len(chunk)
                            bar.update(len(chunk))
                    except (requests.exceptions.ChunkedEncodingError, requests.ConnectionError,
                            requests.Timeout) as exc:
                        # the connection broke after the answer began (urllib3 enforces the
                        # announced Content-Length and raises here when fewer bytes arrive); the
                        # bytes that arrived are counted by the exception, the last read included
                        got = max(got, _partial_bytes(exc))
                        raise FetchError(
                            f"download of {url} was interrupted: received {got}"
                            + (f" of {total}" if total else "")
                            + f" bytes ({type(exc).__name__}). Run the build again to retry, or build "
                            "offline from a mirror folder (--config mirror=DIR or COALITIONS_MIRROR=DIR); "
                            "nothing was written to the cache."
                        ) from None
                if total is not None and got != total and "gzip" not in r.headers.get("Content-Encoding", ""):
                    raise FetchError(
                        f"download of {url} was interrupted: received {got} of {total} bytes. "
                        "Run the build again to retry; nothing was written to the cache."
                    )
                return
        except FetchError as exc:
            last = exc
        except (requests.ConnectionError, requests.Timeout) as exc:
            last = FetchError(
                f"could not download {url}: {type(exc).__name__}: {exc}. Check the network connection "
                "and run again, or build offline from a mirror folder (--config mirror=DIR or "
                "COALITIONS_MIRROR=DIR)."
            )
            if _host_unknown(exc):
                retry = False  # no name resolution: offline, or a wrong host; waiting will not help
        except requests.RequestException as exc:  # malformed URL, redirect loop, ...: not transient
            retry = False
            last = FetchError(
                f"could not download {url}: {type(exc).__name__}: {exc}. Check the URL in "
                "config/sources.yaml, or build offline from a mirror folder (--config mirror=DIR or "
                "COALITIONS_MIRROR=DIR)."
            )
        if not retry:
            break
        if attempt < retries:
            LOG.warning("attempt %d/%d for %s failed: %s; retrying", attempt, retries, url, last)
            time.sleep(backoff * attempt)
    assert last is not None
    raise last


# --------------------------------------------------------------------------------------------
# archives


def _safe_member_name(name: str) -> PurePosixPath:
    """The member's path inside the archive, or FetchError when it could land outside the target.

    Refused: absolute paths (``/x``, ``\\x``, ``C:x``) and any ``..`` component, with either slash
    as separator (a zip made on Windows may use backslashes).
    """
    p = PurePosixPath(name.replace("\\", "/"))
    if (not name or p.is_absolute() or ".." in p.parts or name.startswith(("/", "\\"))
            or (p.parts and ":" in p.parts[0])):
        raise FetchError(f"refusing archive member '{name}': its path would escape the target folder")
    return p


def extract_member(archive: Path, member: str, dest: Path) -> None:
    """Copy one member of a zip archive to ``dest``, refusing unsafe member names."""
    _safe_member_name(member)
    try:
        with zipfile.ZipFile(archive) as zf:
            try:
                info = zf.getinfo(member)
            except KeyError:
                names = ", ".join(zf.namelist()[:20])
                raise FetchError(
                    f"archive {archive.name} has no member '{member}' (it has: {names}). "
                    "Fix the `member:` of this URL in config/sources.yaml."
                ) from None
            _refuse_link(info)
            with zf.open(info) as src, open(dest, "wb") as out:
                shutil.copyfileobj(src, out)
    except zipfile.BadZipFile as exc:
        raise FetchError(f"{archive.name} is not a valid zip archive ({exc}); it may be truncated.") from None


def _refuse_link(info: zipfile.ZipInfo) -> None:
    """A symbolic link (or other special file) inside an archive is refused: it could point anywhere."""
    mode = (info.external_attr >> 16) & 0o170000
    if mode and mode not in (stat.S_IFREG, stat.S_IFDIR):
        kind = "a symbolic link" if mode == stat.S_IFLNK else "not a regular file"
        raise FetchError(f"refusing archive member '{info.filename}': it is {kind}, which could point outside "
                         "the target folder; the archive is not the one expected, so nothing was extracted")


def safe_extract_all(archive: str | os.PathLike, target: str | os.PathLike) -> list[Path]:
    """Unpack a whole zip archive into ``target``; no member may land outside ``target``.

    Every member name is checked before anything is written, so an archive with one unsafe member
    is refused as a whole and leaves no file behind.
    """
    target = Path(target).resolve()
    out: list[Path] = []
    try:
        with zipfile.ZipFile(archive) as zf:
            plan = []
            files: dict[Path, str] = {}
            for info in zf.infolist():
                rel = _safe_member_name(info.filename)
                _refuse_link(info)
                dest = (target / rel).resolve()
                if target != dest and target not in dest.parents:
                    raise FetchError(f"refusing archive member '{info.filename}': it escapes {target}")
                plan.append((info, dest))
                if not info.is_dir():
                    files[dest] = info.filename
            for info, dest in plan:  # a member that is a file and also the folder of another member
                for parent in dest.parents:
                    if parent in files:
                        raise FetchError(f"refusing archive member '{info.filename}': '{files[parent]}' is a "
                                         "file in the same archive; nothing was extracted")
            target.mkdir(parents=True, exist_ok=True)
            made: list[Path] = []
            try:
                for info, dest in plan:
                    if info.is_dir():
                        dest.mkdir(parents=True, exist_ok=True)
                        continue
                    if dest.is_symlink():
                        raise FetchError(f"refusing archive member '{info.filename}': {dest} is a symbolic link")
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    if not dest.exists():
                        made.append(dest)
                    with zf.open(info) as src, open(dest, "wb") as fh:
                        shutil.copyfileobj(src, fh)
                    mode = (info.external_attr >> 16) & 0o777
                    if mode:
                        os.chmod(dest, mode)
                    out.append(dest)
            except BaseException:
                for p in made:  # leave nothing half-extracted behind
                    with contextlib.suppress(OSError):
                        p.unlink()
                raise
    except zipfile.BadZipFile as exc:
        raise FetchError(f"{Path(archive).name} is not a valid zip archive ({exc}); it may be truncated.") from None
    return out


# --------------------------------------------------------------------------------------------
# public files


def resolve_mirror(config_value: str | None) -> Path | None:
    """The mirror folder: the config key ``mirror`` if set, else COALITIONS_MIRROR, else none."""
    value = config_value or os.environ.get("COALITIONS_MIRROR") or None
    return Path(value).expanduser() if value else None


def fetch_public(entry: FileEntry, dest: str | os.PathLike, *, mirror: str | os.PathLike | None,
                 retries: int = 3, timeout: float = 60.0, progress: bool = True,
                 downloader: Callable[..., None] = download) -> dict:
    """Obtain one registry file, verify it and move it to ``dest``. Returns a provenance record."""
    dest = Path(dest)
    attempts: list[str] = []
    if mirror is not None:
        src = Path(mirror) / entry.path
        if src.is_dir():
            raise FetchError(
                f"mirror path {src} is a folder, not a file (registry entry {entry.source}.{entry.key}). "
                f"Put the file {entry.basename} itself there, or point `mirror`/COALITIONS_MIRROR at the right folder."
            )
        if src.is_symlink() and not src.exists():
            raise FetchError(
                f"mirror file {src} is a symbolic link to nothing ({os.readlink(src)}) (registry entry "
                f"{entry.source}.{entry.key}). Replace it with the file {entry.path} or a link to an existing copy."
            )
        if not src.is_file():
            raise FetchError(
                f"mirror file not found: {src} (registry entry {entry.source}.{entry.key}). "
                f"Copy {entry.path} into the mirror folder, point `mirror`/COALITIONS_MIRROR at the "
                f"right folder, or unset it to download from {entry.urls[0].url}."
            )
        with atomic_path(dest) as tmp:
            shutil.copyfile(src, tmp)
            v = verify_public(entry, tmp, f"mirror {src}")
        origin = f"mirror:{entry.path}"
    else:
        v = None
        origin = ""
        for u in entry.urls:
            try:
                with atomic_path(dest) as tmp:
                    if u.member:
                        # the archive is downloaded to a scratch folder and never kept
                        remove_stale_partials(dest.parent, ".archive.")
                        with tempfile.TemporaryDirectory(dir=dest.parent, prefix=f".archive.{os.getpid()}.") as scratch:
                            arch = Path(scratch) / "download.zip"
                            downloader(u.url, arch, retries=retries, timeout=timeout, progress=progress,
                                       label=entry.basename)
                            extract_member(arch, u.member, tmp)
                    else:
                        downloader(u.url, tmp, retries=retries, timeout=timeout, progress=progress,
                                   label=entry.basename)
                    v = verify_public(entry, tmp, u.url + (f" [{u.member}]" if u.member else ""))
                origin = u.url + (f"#{u.member}" if u.member else "")
                break
            except FetchError as exc:
                attempts.append(str(exc))
                LOG.warning("%s", exc)
        if v is None:
            raise FetchError(
                f"could not obtain a verified copy of {entry.path}; tried {len(entry.urls)} location(s):\n  - "
                + "\n  - ".join(attempts)
                + "\nBuild offline instead: put the file in a mirror folder and pass --config mirror=DIR "
                "(or set COALITIONS_MIRROR)."
            )
    return {
        "source": entry.source,
        "key": entry.key,
        "path": entry.path,
        "origin": origin,
        "verified_by": v.method,
        "expected": v.expected,
        "sha256": sha256_file(dest),
        "bytes": dest.stat().st_size,
    }


# --------------------------------------------------------------------------------------------
# Dataverse archives

METADATA_NAME = "dataset_metadata.json"


def dataverse_urls(server: str, doi: str, pid: str | None, fmt: str | None,
                   file_id: int | None = None) -> tuple[str, str]:
    """The dataset-metadata URL and a file's access URL (by persistent id, or by numeric file id)."""
    meta = f"{server.rstrip('/')}/api/datasets/:persistentId/?persistentId={quote(doi, safe=':/')}"
    if file_id is not None and not pid:
        data = f"{server.rstrip('/')}/api/access/datafile/{int(file_id)}"
        sep = "?"
    else:
        data = f"{server.rstrip('/')}/api/access/datafile/:persistentId?persistentId={quote(pid or '', safe=':/')}"
        sep = "&"
    if fmt == "original":
        data += sep + "format=original"
    return meta, data


def _file_key(entry: FileEntry) -> str:
    """How :func:`dataverse_checksums` keys a registry file: its persistent id, else ``id:<file id>``."""
    return entry.persistent_id or f"id:{entry.file_id}"


def dataverse_checksums(metadata: dict) -> dict[str, dict]:
    """Map each file's persistent id to {md5, name} from a Dataverse dataset-metadata answer."""
    try:
        files = metadata["data"]["latestVersion"]["files"]
    except (KeyError, TypeError):
        raise FetchError("Dataverse metadata has no data.latestVersion.files list") from None
    if not isinstance(files, list):
        raise FetchError("Dataverse metadata: data.latestVersion.files is not a list")
    out = {}
    for f in files:
        if not isinstance(f, dict) or not isinstance(f.get("dataFile", {}), dict):
            raise FetchError(f"Dataverse metadata: malformed entry in data.latestVersion.files: {f!r:.200}")
        df = f.get("dataFile", {})
        pid = df.get("persistentId")
        md5 = df.get("md5")
        chk = df.get("checksum") or {}
        if not md5 and str(chk.get("type", "")).upper() == "MD5":
            md5 = chk.get("value")
        rec = {"md5": md5, "name": df.get("originalFileName") or df.get("filename") or f.get("label")}
        if pid:
            out[pid] = rec
        if df.get("id") is not None:  # files without a persistent id are known by their numeric id
            out[f"id:{df['id']}"] = rec
    return out


def fetch_archive(source: Source, outdir: str | os.PathLike, *, mirror: str | os.PathLike | None,
                  require: bool = False, server: str | None = None, retries: int = 3,
                  timeout: float = 60.0, progress: bool = True) -> dict:
    """Fetch every file of a Dataverse source into ``outdir`` and write ``outdir/status.json``.

    Returns the status. When a file cannot be obtained or verified, the status says why and the
    folder holds no data file; with ``require=True`` that raises FetchError instead.
    """
    outdir = Path(outdir)
    server = server or source.server
    assert server and source.dataset_doi
    staging = outdir.with_name(outdir.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    status: dict = {
        "source": source.key,
        "title": source.title,
        "dataset_doi": source.dataset_doi,
        "available": False,
        "reason": None,
        "files": {},
        "attempted_utc": time.strftime("%Y-%m-%d", time.gmtime()),  # the day of this attempt (the paper says it)
    }
    mirror_dir = None
    if mirror is not None:
        first = next(iter(source.files.values()))
        mirror_dir = Path(mirror) / Path(first.path).parent
    try:
        meta_url, _ = dataverse_urls(server, source.dataset_doi, "", None)
        meta_path = staging / METADATA_NAME
        if mirror_dir is not None and (mirror_dir / METADATA_NAME).is_file():
            shutil.copyfile(mirror_dir / METADATA_NAME, meta_path)
            meta_origin = f"mirror:{mirror_dir.name}/{METADATA_NAME}"
        else:
            download(meta_url, meta_path, retries=retries, timeout=timeout, progress=False)
            meta_origin = meta_url
        try:
            metadata = json.loads(meta_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise FetchError(f"Dataverse metadata from {meta_origin} is not JSON ({exc})") from None
        sums = dataverse_checksums(metadata)
        status["metadata_origin"] = meta_origin
        for key, entry in source.files.items():
            ident = _file_key(entry)
            expected = (sums.get(ident) or {}).get("md5")
            if not expected:
                raise FetchError(
                    f"the metadata of {source.dataset_doi} lists no MD5 checksum for {ident} "
                    f"({entry.basename}); cannot verify it. Check the file's id in config/sources.yaml."
                )
            if entry.md5 and expected != entry.md5:
                raise FetchError(
                    f"the metadata of {source.dataset_doi} gives MD5 {expected} for {entry.basename}, not the "
                    f"published {entry.md5} that config/sources.yaml pins: the dataset has changed. Check the "
                    "new version before using it."
                )
            target = staging / entry.basename
            if mirror_dir is not None and (mirror_dir / entry.basename).is_file():
                shutil.copyfile(mirror_dir / entry.basename, target)
                origin = f"mirror:{entry.path}"
            else:
                _, data_url = dataverse_urls(server, source.dataset_doi, entry.persistent_id, entry.format,
                                             entry.file_id)
                download(data_url, target, retries=retries, timeout=timeout, progress=progress,
                         label=entry.basename)
                origin = data_url
            actual = md5_file(target)
            if actual != expected:
                target.unlink()
                raise FetchError(
                    f"checksum mismatch for {entry.basename} (from {origin}): expected MD5 {expected} "
                    f"(Dataverse metadata of {source.dataset_doi}), got {actual}. Delete the copy and "
                    "download it again from Dataverse."
                )
            status["files"][key] = {
                "name": entry.basename, "origin": origin, "md5": actual,
                "sha256": sha256_file(target), "persistent_id": entry.persistent_id,
                **({"file_id": entry.file_id} if entry.file_id is not None else {}),
            }
        status["available"] = True
    except (FetchError, OSError) as exc:
        status["available"] = False
        status["reason"] = str(exc)
        status["files"] = {}
        keep = {METADATA_NAME} if "metadata_origin" in status else set()  # only metadata that parsed
        for p in staging.iterdir():
            if p.name not in keep:
                p.unlink()
        if require:
            shutil.rmtree(staging, ignore_errors=True)
            raise FetchError(
                f"the original archive {source.key} ({source.dataset_doi}) is required "
                f"(require_original_archives: true) but could not be had: {exc}"
            ) from None
        LOG.warning(
            "Dataverse source %s (%s) not available; the build goes on without it (%s). Reason: %s",
            source.key, source.dataset_doi,
            "the battlefield trends use CDB90" if source.key == "iwbd" else "no original-archive track", exc,
        )
    write_json_atomic(staging / "status.json", status)
    shutil.rmtree(outdir, ignore_errors=True)
    os.replace(staging, outdir)
    return status


def read_archive_status(outdir: str | os.PathLike) -> dict:
    """The archive's status.json; each file it lists is re-checked against its recorded sha256."""
    p = Path(outdir) / "status.json"
    try:
        status = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CoalitionsError(f"{p} is missing: run the fetch_archive rule first") from None
    except json.JSONDecodeError as exc:
        raise CoalitionsError(f"{p} is not valid JSON ({exc}); delete {outdir} and run again to fetch it") from None
    for info in (status.get("files") or {}).values() if status.get("available") else ():
        if not info.get("sha256"):  # a status written by hand (tests' synthetic archives) records none
            continue
        f = Path(outdir) / info["name"]
        actual = sha256_file(f) if f.is_file() else None
        if actual != info.get("sha256"):
            raise CoalitionsError(
                f"{f} {'is missing' if actual is None else 'was changed after it was verified'} "
                f"(recorded sha256 {info.get('sha256')}, now {actual}). Delete {outdir} and run again "
                "(snakemake --forcerun fetch_archive) to fetch a verified copy."
            )
    return status


def verify_cached(entry: FileEntry, raw: str | os.PathLike, provenance: str | os.PathLike) -> dict:
    """Re-check a cached raw file against its provenance record before a reader trusts it.

    The record (written by :func:`fetch_public` after verification) holds the sha256 of the bytes
    kept; the file must still have it, and the record must be for the registry's current checksum.
    """
    raw, provenance = Path(raw), Path(provenance)
    todo = (f"Delete {raw} and {provenance} and run again to fetch a verified copy "
            f"(or: snakemake --forcerun {raw})")
    try:
        prov = json.loads(provenance.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CoalitionsError(f"{raw}: its provenance record {provenance} is missing, so it cannot be trusted. "
                              + todo) from None
    except json.JSONDecodeError as exc:
        raise CoalitionsError(f"{provenance}: not valid JSON ({exc}). " + todo) from None
    if not raw.is_file():
        raise CoalitionsError(f"{raw}: cached file missing. " + todo)
    actual = sha256_file(raw)
    if actual != prov.get("sha256"):
        raise CoalitionsError(
            f"{raw} was changed after it was verified: sha256 now {actual}, recorded {prov.get('sha256')} "
            f"in {provenance}. " + todo
        )
    if prov.get("expected") not in {entry.sha256, entry.sha256_lf_normalised} - {None}:
        raise CoalitionsError(
            f"{raw} was verified against sha256 {prov.get('expected')}, but config/sources.yaml now expects "
            f"{entry.sha256} for {entry.source}.{entry.key}. " + todo
        )
    return prov


def read_bytes_normalised(path: str | os.PathLike) -> io.BytesIO:
    """A text file's bytes with CRLF/CR turned into LF (for parsing COW's CR-only files)."""
    return io.BytesIO(normalise_line_endings(Path(path).read_bytes()))

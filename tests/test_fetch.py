"""Fetching public files and the authors' Dataverse archives: verified, atomic, with clear errors.

A replication is only as good as its inputs: a file that is truncated, tampered with or from a
different release must never reach the cleaning step, and a failure must leave nothing behind
that a later run would trust. Downloads are exercised against a real HTTP server on 127.0.0.1
(started by the test, in a thread) serving the mirror's real bytes; the network is never used.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import zipfile
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from coalitions import fetch as F
from coalitions.registry import FileEntry, Registry, Url
from coalitions.util import md5_file, sha256_file
from helpers.dataverse import FakeDataverse, FakeFile, dataset_metadata
from helpers.http import LocalServer, Reply, closed_port_url

WAR = ("cow_war", "participants")
QUICK = functools.partial(F.download, backoff=0.0)  # the real downloader, without waiting between retries


def _umask() -> int:
    m = os.umask(0o022)
    os.umask(m)
    return m


def _leftovers(folder: Path) -> list[str]:
    """Everything in ``folder`` (recursively), hidden files included."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


@pytest.fixture()
def war(registry: Registry) -> FileEntry:
    return registry.file(*WAR)


@pytest.fixture()
def war_bytes(mirror: Path, war: FileEntry) -> bytes:
    return (mirror / war.path).read_bytes()


def _mini_mirror(tmp_path: Path, entry: FileEntry, data: bytes) -> Path:
    """A mirror folder holding just ``entry``'s file with the given bytes."""
    m = tmp_path / "mirror"
    (m / entry.path).parent.mkdir(parents=True, exist_ok=True)
    (m / entry.path).write_bytes(data)
    return m


# ================================================================================================
# from the mirror


def test_every_public_file_is_copied_from_the_mirror_and_verified(
    registry: Registry, mirror: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "raw"
    for entry in registry.public_files():
        dest = cache / entry.path
        prov = F.fetch_public(entry, dest, mirror=mirror, progress=False)
        assert dest.read_bytes() == (mirror / entry.path).read_bytes()
        assert prov["verified_by"] == "sha256" and prov["expected"] == entry.sha256
        assert prov["sha256"] == entry.sha256 == sha256_file(dest)
        assert prov["origin"] == f"mirror:{entry.path}"
        assert prov["bytes"] == dest.stat().st_size
        assert (prov["source"], prov["key"], prov["path"]) == (entry.source, entry.key, entry.path)
        # readable like any new file (not the 0600 of a temporary file)
        assert dest.stat().st_mode & 0o777 == 0o666 & ~_umask()
    # exactly the registry's files, no temporary files
    assert _leftovers(cache) == sorted(
        {str(Path(e.path)) for e in registry.public_files()}
        | {str(Path(e.path).parent) for e in registry.public_files()}
    )


def test_a_tampered_mirror_file_is_refused_and_nothing_is_written(
    war: FileEntry, war_bytes: bytes, tmp_path: Path
) -> None:
    data = bytearray(war_bytes)
    data[5000] ^= 0x01  # one flipped bit in one battle-death figure or name
    m = _mini_mirror(tmp_path, war, bytes(data))
    actual = hashlib.sha256(bytes(data)).hexdigest()
    dest_dir = tmp_path / "cache"
    with pytest.raises(F.FetchError) as exc:
        F.fetch_public(war, dest_dir / war.path, mirror=m, progress=False)
    msg = str(exc.value)
    assert war.path in msg and str(m / war.path) in msg
    assert war.sha256 in msg and actual in msg
    assert war.sha256_lf_normalised in msg  # the other accepted checksum is named too
    assert "Replace it" in msg and "config/sources.yaml" in msg
    assert _leftovers(dest_dir) == [str(Path(war.path).parent)]  # the folder, empty


def test_a_missing_mirror_file_names_the_path_and_what_to_do(war: FileEntry, tmp_path: Path) -> None:
    empty = tmp_path / "empty_mirror"
    empty.mkdir()
    with pytest.raises(F.FetchError) as exc:
        F.fetch_public(war, tmp_path / "cache" / war.path, mirror=empty, progress=False)
    msg = str(exc.value)
    assert str(empty / war.path) in msg and "cow_war.participants" in msg
    assert "COALITIONS_MIRROR" in msg and war.urls[0].url in msg
    assert not (tmp_path / "cache").exists()


def test_crlf_copy_verifies_by_the_line_ending_checksum_and_parses_identically(
    war: FileEntry, war_bytes: bytes, tmp_path: Path
) -> None:
    assert b"\n" not in war_bytes and war_bytes.count(b"\r") == 337  # CR only, no final newline
    crlf = war_bytes.replace(b"\r", b"\r\n")
    m = _mini_mirror(tmp_path, war, crlf)
    dest = tmp_path / "cache" / war.path
    prov = F.fetch_public(war, dest, mirror=m, progress=False)
    assert prov["verified_by"] == "sha256_lf_normalised"
    assert prov["expected"] == war.sha256_lf_normalised
    assert prov["sha256"] == hashlib.sha256(crlf).hexdigest() != war.sha256  # the bytes kept are the copy's
    assert dest.read_bytes() == crlf

    from coalitions.readers.cow import read_cow_war

    orig = tmp_path / "orig.csv"
    orig.write_bytes(war_bytes)
    pd.testing.assert_frame_equal(read_cow_war(str(dest)), read_cow_war(str(orig)))

    # line endings are forgiven, content changes are not
    changed = crlf.replace(b"World War I", b"World War 1", 1)
    assert changed != crlf
    m2 = _mini_mirror(tmp_path / "2", war, changed)
    with pytest.raises(F.FetchError, match="checksum mismatch"):
        F.fetch_public(war, tmp_path / "cache2" / war.path, mirror=m2, progress=False)


def test_mirror_setting_comes_from_config_then_environment(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("COALITIONS_MIRROR", str(tmp_path / "env"))
    assert F.resolve_mirror(str(tmp_path / "cfg")) == tmp_path / "cfg"
    assert F.resolve_mirror(None) == tmp_path / "env"
    monkeypatch.delenv("COALITIONS_MIRROR")
    assert F.resolve_mirror(None) is None
    assert F.resolve_mirror("") is None


# ================================================================================================
# downloads from a local HTTP server


def _at(entry: FileEntry, *urls: str | Url) -> FileEntry:
    return replace(entry, urls=tuple(u if isinstance(u, Url) else Url(u) for u in urls))


def test_download_success_with_provenance(war: FileEntry, war_bytes: bytes, tmp_path: Path) -> None:
    with LocalServer() as srv:
        srv.route("/Inter-StateWarData_v4.0.csv", Reply(war_bytes))
        url = srv.url("/Inter-StateWarData_v4.0.csv")
        dest = tmp_path / "cache" / war.path
        prov = F.fetch_public(_at(war, url), dest, mirror=None, progress=False, downloader=QUICK)
    assert dest.read_bytes() == war_bytes
    assert prov["origin"] == url and prov["verified_by"] == "sha256" and prov["sha256"] == war.sha256
    assert srv.hits["/Inter-StateWarData_v4.0.csv"] == 1
    assert _leftovers(tmp_path / "cache") == [str(Path(war.path).parent), war.path]


def test_a_503_is_retried_then_succeeds(war: FileEntry, war_bytes: bytes, tmp_path: Path) -> None:
    with LocalServer() as srv:
        srv.route("/w.csv", Reply(b"busy", status=503), Reply(war_bytes))
        prov = F.fetch_public(_at(war, srv.url("/w.csv")), tmp_path / "w.csv", mirror=None,
                              retries=3, progress=False, downloader=QUICK)
    assert srv.hits["/w.csv"] == 2
    assert prov["sha256"] == war.sha256


def test_a_persistent_503_gives_up_after_the_retries(war: FileEntry, tmp_path: Path) -> None:
    with LocalServer() as srv:
        srv.route("/w.csv", Reply(b"busy", status=503))
        with pytest.raises(F.FetchError, match="HTTP 503"):
            F.download(srv.url("/w.csv"), tmp_path / "w.csv", retries=3, backoff=0, progress=False)
    assert srv.hits["/w.csv"] == 3


def test_an_interrupted_download_is_reported_and_leaves_nothing(
    war: FileEntry, war_bytes: bytes, tmp_path: Path
) -> None:
    with LocalServer() as srv:
        srv.route("/w.csv", Reply(war_bytes, truncate_to=4096))  # announces 31698 bytes, sends 4096
        url = srv.url("/w.csv")
        with pytest.raises(F.FetchError) as direct:
            F.download(url, tmp_path / "direct.csv", retries=1, progress=False)
        assert "interrupted" in str(direct.value) and url in str(direct.value)
        assert str(len(war_bytes)) in str(direct.value)

        cache = tmp_path / "cache"
        with pytest.raises(F.FetchError) as exc:
            F.fetch_public(_at(war, url), cache / war.path, mirror=None, retries=2,
                           progress=False, downloader=QUICK)
    msg = str(exc.value)
    assert "interrupted" in msg and url in msg and "mirror" in msg
    assert srv.hits["/w.csv"] == 3  # 1 direct + 2 attempts: an interrupted transfer is retried
    assert _leftovers(cache) == [str(Path(war.path).parent)]


def test_an_unreachable_server_names_the_url_and_suggests_the_mirror(war: FileEntry, tmp_path: Path) -> None:
    url = closed_port_url("/Inter-StateWarData_v4.0.csv")
    with pytest.raises(F.FetchError) as exc:
        F.fetch_public(_at(war, url), tmp_path / "cache" / war.path, mirror=None, retries=2,
                       progress=False, downloader=QUICK)
    msg = str(exc.value)
    assert url in msg and "ConnectionError" in msg
    assert "--config mirror=DIR" in msg and "COALITIONS_MIRROR" in msg
    assert _leftovers(tmp_path / "cache") == [str(Path(war.path).parent)]


def test_a_404_is_not_retried(war: FileEntry, tmp_path: Path) -> None:
    with LocalServer() as srv:
        url = srv.url("/gone.csv")
        with pytest.raises(F.FetchError) as exc:
            F.fetch_public(_at(war, url), tmp_path / "w.csv", mirror=None, retries=5,
                           progress=False, downloader=QUICK)
    assert srv.hits["/gone.csv"] == 1
    assert "HTTP 404" in str(exc.value) and url in str(exc.value)


def test_falls_back_to_the_next_url(war: FileEntry, war_bytes: bytes, tmp_path: Path) -> None:
    with LocalServer() as srv:
        srv.route("/second.csv", Reply(war_bytes))
        first, second = srv.url("/first.csv"), srv.url("/second.csv")
        prov = F.fetch_public(_at(war, first, second), tmp_path / "w.csv", mirror=None,
                              progress=False, downloader=QUICK)
    assert prov["origin"] == second
    assert srv.requests == ["/first.csv", "/second.csv"]


def test_a_different_release_at_the_first_url_is_skipped(war: FileEntry, war_bytes: bytes, tmp_path: Path) -> None:
    """The first candidate whose bytes verify wins; bytes that do not verify are never kept."""
    other_release = war_bytes.replace(b",4,", b",4.1,")  # e.g. a later version of the file
    assert other_release != war_bytes
    with LocalServer() as srv:
        srv.route("/v41.csv", Reply(other_release))
        srv.route("/v40.csv", Reply(war_bytes))
        prov = F.fetch_public(_at(war, srv.url("/v41.csv"), srv.url("/v40.csv")), tmp_path / "w.csv",
                              mirror=None, progress=False, downloader=QUICK)
        assert prov["origin"].endswith("/v40.csv")
        assert (tmp_path / "w.csv").read_bytes() == war_bytes

        # when no location verifies, every attempt is reported
        with pytest.raises(F.FetchError) as exc:
            F.fetch_public(_at(war, srv.url("/v41.csv"), srv.url("/nothing.csv")), tmp_path / "x" / "w.csv",
                           mirror=None, progress=False, downloader=QUICK)
    msg = str(exc.value)
    assert "tried 2 location(s)" in msg and "checksum mismatch" in msg and "HTTP 404" in msg
    assert srv.url("/v41.csv") in msg and srv.url("/nothing.csv") in msg
    assert _leftovers(tmp_path / "x") == []


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name), data)
    return buf.getvalue()


def test_a_member_of_an_archive_is_extracted_and_verified(
    registry: Registry, mirror: Path, tmp_path: Path
) -> None:
    entry = registry.file("cow_contiguity", "contdir")
    member = next(u.member for u in entry.urls if u.member)
    assert member == "DirectContiguity320/contdir.csv"
    raw = (mirror / entry.path).read_bytes()
    archive = _zip({
        "DirectContiguity320/": b"",
        member: raw,
        "DirectContiguity320/contdirs.csv": (mirror / "cow_direct_contiguity_v3.2/contdirs.csv").read_bytes(),
    })
    cache = tmp_path / "cache"
    with LocalServer() as srv:
        srv.route("/DirectContiguity320.zip", Reply(archive, headers={"Content-Type": "application/zip"}))
        url = srv.url("/DirectContiguity320.zip")
        prov = F.fetch_public(_at(entry, Url(url, member)), cache / entry.path, mirror=None,
                              progress=False, downloader=QUICK)

        assert (cache / entry.path).read_bytes() == raw
        assert prov["origin"] == f"{url}#{member}" and prov["verified_by"] == "sha256"
        # the archive itself is not kept
        assert _leftovers(cache) == [str(Path(entry.path).parent), entry.path]

        with pytest.raises(F.FetchError) as exc:
            F.fetch_public(_at(entry, Url(url, "DirectContiguity320/contdir.CSV")), cache / "x.csv",
                           mirror=None, progress=False, downloader=QUICK)
    assert "has no member 'DirectContiguity320/contdir.CSV'" in str(exc.value)
    assert "DirectContiguity320/contdirs.csv" in str(exc.value)  # lists what the archive has


def test_a_truncated_archive_is_reported(registry: Registry, mirror: Path, tmp_path: Path) -> None:
    entry = registry.file("cow_contiguity", "contdir")
    archive = _zip({"DirectContiguity320/contdir.csv": (mirror / entry.path).read_bytes()})
    (tmp_path / "a.zip").write_bytes(archive[: len(archive) // 2])
    with pytest.raises(F.FetchError, match="not a valid zip archive"):
        F.extract_member(tmp_path / "a.zip", "DirectContiguity320/contdir.csv", tmp_path / "out.csv")


@pytest.mark.parametrize("evil", ["../evil.csv", "/tmp/evil.csv", "data/../../evil.csv", "..\\evil.csv",
                                  "C:/evil.csv"])
def test_archive_members_escaping_the_target_are_refused(evil: str, war_bytes: bytes, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    arch = work / "a.zip"
    # a harmless member first: with the evil one present nothing at all may be written
    arch.write_bytes(_zip({"ok/first.csv": war_bytes, evil: b"owned\n"}))
    target = work / "target"
    with pytest.raises(F.FetchError, match="refusing archive member"):
        F.safe_extract_all(arch, target)
    assert _leftovers(work) == ["a.zip"]
    assert not Path("/tmp/evil.csv").exists() or Path("/tmp/evil.csv").read_bytes() != b"owned\n"

    with pytest.raises(F.FetchError, match="refusing archive member"):
        F.extract_member(arch, evil, work / "out.csv")
    assert _leftovers(work) == ["a.zip"]


def test_safe_extract_all_unpacks_a_normal_archive(war_bytes: bytes, tmp_path: Path) -> None:
    arch = tmp_path / "a.zip"
    arch.write_bytes(_zip({"cow/": b"", "cow/war.csv": war_bytes, "cow/sub/readme.txt": b"hello\n"}))
    out = F.safe_extract_all(arch, tmp_path / "t")
    assert sorted(p.relative_to((tmp_path / "t").resolve()).as_posix() for p in out) == [
        "cow/sub/readme.txt", "cow/war.csv"]
    assert (tmp_path / "t" / "cow" / "war.csv").read_bytes() == war_bytes


# ================================================================================================
# Dataverse archives (optional), against a fake Dataverse API on 127.0.0.1


def _weisiger_files(registry: Registry, tmp_path: Path, *, bad_md5: bool = False) -> tuple[list[FakeFile], dict]:
    """Fake contents for the three files of the Weisiger archive, under the registry's ids."""
    src = registry.archives()["weisiger2016"]
    df = pd.DataFrame({"warnum": [106, 106, 139], "ccode": [200, 365, 325],
                       "exit": [0, 1, 1], "duration": [1560.0, 420.5, 1100.0]})
    dta = tmp_path / "gen.dta"
    df.to_stata(dta, write_index=False, version=118)
    contents = {
        "data": (dta.read_bytes(), True),
        "code": (b"use coalition_exit_final.dta, clear\nstcox fronts, nohr\n", False),
        "appendix": (b"%PDF-1.4\n% generated appendix\n%%EOF\n", False),
    }
    files = []
    for key, entry in src.files.items():
        data, tabular = contents[key]
        files.append(FakeFile(
            persistent_id=entry.persistent_id, original_name=entry.basename, data=data, tabular=tabular,
            md5=("0" * 32 if (bad_md5 and key == "data") else None),
            checksum_style="checksum" if key == "code" else "md5",
        ))
    return files, {"frame": df}


def test_fetch_archive_verifies_md5_and_writes_status(registry: Registry, tmp_path: Path) -> None:
    src = registry.archives()["weisiger2016"]
    files, extra = _weisiger_files(registry, tmp_path)
    out = tmp_path / "original" / "weisiger2016"
    with FakeDataverse(src.dataset_doi, files) as dv:
        status = F.fetch_archive(src, out, mirror=None, server=dv.base, retries=1, progress=False)
    assert status["available"] is True and status["reason"] is None
    assert json.loads((out / "status.json").read_text()) == json.loads(json.dumps(status))
    by_pid = {f.persistent_id: f for f in files}
    for key, entry in src.files.items():
        rec = status["files"][key]
        assert rec["md5"] == hashlib.md5(by_pid[entry.persistent_id].data).hexdigest() == md5_file(out / entry.basename)
        assert rec["sha256"] == sha256_file(out / entry.basename)
        assert rec["persistent_id"] == entry.persistent_id
        assert "persistentId=" + entry.persistent_id in rec["origin"]
    # the tabular file was asked for in its original (Stata) format, not Dataverse's .tab rendering
    assert "format=original" in status["files"]["data"]["origin"]
    assert "format=original" not in status["files"]["code"]["origin"]
    pd.testing.assert_frame_equal(pd.read_stata(out / "coalition_exit_final.dta"), extra["frame"],
                                  check_dtype=False)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["status.json", F.METADATA_NAME, *(e.basename for e in src.files.values())])
    assert not (tmp_path / "original" / "weisiger2016.partial").exists()
    assert F.read_archive_status(out)["available"] is True


def test_fetch_archive_with_a_wrong_md5_is_unavailable_and_keeps_no_data(
    registry: Registry, tmp_path: Path
) -> None:
    src = registry.archives()["weisiger2016"]
    files, _ = _weisiger_files(registry, tmp_path, bad_md5=True)
    out = tmp_path / "original" / "weisiger2016"
    with FakeDataverse(src.dataset_doi, files) as dv:
        status = F.fetch_archive(src, out, mirror=None, server=dv.base, retries=1, progress=False)
        assert status["available"] is False and status["files"] == {}
        reason = status["reason"]
        assert "checksum mismatch" in reason and "coalition_exit_final.dta" in reason and "0" * 32 in reason
        assert src.dataset_doi in reason
        assert sorted(p.name for p in out.iterdir()) == sorted(["status.json", F.METADATA_NAME])
        assert json.loads((out / "status.json").read_text())["available"] is False

        out2 = tmp_path / "required" / "weisiger2016"
        with pytest.raises(F.FetchError) as exc:
            F.fetch_archive(src, out2, mirror=None, server=dv.base, retries=1, progress=False, require=True)
    assert "required" in str(exc.value) and "checksum mismatch" in str(exc.value)
    assert _leftovers(tmp_path / "required") == []


def test_fetch_archive_when_dataverse_is_unreachable(registry: Registry, tmp_path: Path) -> None:
    src = registry.archives()["henke2017"]
    server = closed_port_url("").rstrip("/")
    out = tmp_path / "henke2017"
    status = F.fetch_archive(src, out, mirror=None, server=server, retries=1, progress=False)
    assert status["available"] is False
    assert f"{server}/api/datasets/:persistentId/?persistentId={src.dataset_doi}" in status["reason"]
    assert sorted(p.name for p in out.iterdir()) == ["status.json"]
    with pytest.raises(F.FetchError, match="require_original_archives"):
        F.fetch_archive(src, tmp_path / "req", mirror=None, server=server, retries=1, progress=False,
                        require=True)
    assert not (tmp_path / "req").exists() and not (tmp_path / "req.partial").exists()


def test_fetch_archive_offline_from_a_mirror(registry: Registry, tmp_path: Path) -> None:
    src = registry.archives()["weisiger2016"]
    files, _ = _weisiger_files(registry, tmp_path)
    folder = tmp_path / "mirror" / Path(next(iter(src.files.values())).path).parent
    folder.mkdir(parents=True)
    (folder / F.METADATA_NAME).write_text(json.dumps(dataset_metadata(src.dataset_doi, files)))
    by_pid = {f.persistent_id: f for f in files}
    for entry in src.files.values():
        (folder / entry.basename).write_bytes(by_pid[entry.persistent_id].data)
    out = tmp_path / "out"
    status = F.fetch_archive(src, out, mirror=tmp_path / "mirror", server=closed_port_url("").rstrip("/"),
                             retries=1, progress=False)
    assert status["available"] is True, status["reason"]
    assert status["metadata_origin"].startswith("mirror:")
    assert all(rec["origin"].startswith("mirror:") for rec in status["files"].values())

    # a mirror file that does not match the published MD5 makes the archive unavailable
    (folder / "analysis_final.do").write_bytes(b"tampered\n")
    status = F.fetch_archive(src, tmp_path / "out2", mirror=tmp_path / "mirror",
                             server=closed_port_url("").rstrip("/"), retries=1, progress=False)
    assert status["available"] is False and "analysis_final.do" in status["reason"]
    assert "mirror:" in status["reason"]


def test_fetch_archive_downloads_what_the_mirror_lacks(registry: Registry, tmp_path: Path) -> None:
    src = registry.archives()["weisiger2016"]
    files, _ = _weisiger_files(registry, tmp_path)
    folder = tmp_path / "mirror" / "weisiger2016_dataverse"
    folder.mkdir(parents=True)
    (folder / F.METADATA_NAME).write_text(json.dumps(dataset_metadata(src.dataset_doi, files)))
    (folder / "analysis_final.do").write_bytes(next(f.data for f in files if f.original_name.endswith(".do")))
    with FakeDataverse(src.dataset_doi, files) as dv:
        status = F.fetch_archive(src, tmp_path / "out", mirror=tmp_path / "mirror", server=dv.base,
                                 retries=1, progress=False)
    assert status["available"] is True
    assert status["files"]["code"]["origin"].startswith("mirror:")
    assert status["files"]["data"]["origin"].startswith(dv.base)
    assert not any("/api/datasets/" in r for r in dv.requests)  # metadata came from the mirror


def test_metadata_without_a_checksum_makes_the_archive_unavailable(registry: Registry, tmp_path: Path) -> None:
    src = registry.archives()["weisiger2016"]
    files, _ = _weisiger_files(registry, tmp_path)
    files = [f for f in files if not f.original_name.endswith(".pdf")]  # the appendix is not listed
    with FakeDataverse(src.dataset_doi, files) as dv:
        status = F.fetch_archive(src, tmp_path / "out", mirror=None, server=dv.base, retries=1, progress=False)
    assert status["available"] is False
    assert "doi:10.7910/DVN/DUFHM1/DBJIRD" in status["reason"] and "sqw029_Suppl.pdf" in status["reason"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(["status.json", F.METADATA_NAME])


def test_malformed_dataverse_metadata_is_an_error_not_a_crash() -> None:
    with pytest.raises(F.FetchError, match="data.latestVersion.files"):
        F.dataverse_checksums({"data": {}})
    with pytest.raises(F.FetchError, match="malformed entry"):
        F.dataverse_checksums({"data": {"latestVersion": {"files": ["x"]}}})
    sums = F.dataverse_checksums({"data": {"latestVersion": {"files": [
        {"dataFile": {"persistentId": "doi:x/A", "checksum": {"type": "MD5", "value": "ab"},
                      "filename": "a.tab", "originalFileName": "a.dta"}},
        {"dataFile": {"persistentId": "doi:x/B", "checksum": {"type": "SHA-1", "value": "cd"}, "filename": "b"}},
    ]}}})
    assert sums == {"doi:x/A": {"md5": "ab", "name": "a.dta"}, "doi:x/B": {"md5": None, "name": "b"}}


def test_read_archive_status_names_the_missing_file(tmp_path: Path) -> None:
    from coalitions.util import CoalitionsError

    with pytest.raises(CoalitionsError, match="status.json is missing: run the fetch_archive rule"):
        F.read_archive_status(tmp_path)


def test_interrupted_metadata_download_keeps_nothing(registry: Registry, tmp_path: Path) -> None:
    src = registry.archives()["weisiger2016"]
    files, _ = _weisiger_files(registry, tmp_path)
    body = json.dumps(dataset_metadata(src.dataset_doi, files)).encode()
    with LocalServer() as srv:
        srv.fallback(lambda path: Reply(body, truncate_to=len(body) // 3))
        status = F.fetch_archive(src, tmp_path / "out", mirror=None, server=srv.base, retries=1, progress=False)
    assert status["available"] is False and "interrupted" in status["reason"]
    assert srv.base + "/api/datasets/:persistentId/" in status["reason"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["status.json"]
    assert len(srv.requests) == 1 and srv.requests[0].startswith("/api/datasets/:persistentId/")

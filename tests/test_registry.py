"""The source registry (config/sources.yaml) against the offline mirror and its manifest.

The registry is what makes the build trustworthy: every file the workflow reads is named there
with its checksum, its citation and its terms of use. These tests check that it agrees with the
mirror byte for byte, that each dataset can be cited, and that a malformed registry is rejected
with a message naming the offending key.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
import yaml

from coalitions.registry import Registry, load_registry, parse_registry
from coalitions.util import CoalitionsError, sha256_file, sha256_lf_normalised

NON_DATA_SUFFIXES = {".pdf", ".docx", ".doc"}


@pytest.fixture(scope="module")
def manifest(mirror: Path) -> list[dict]:
    return json.loads((mirror / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def raw_registry(root: Path) -> dict:
    return yaml.safe_load((root / "config" / "sources.yaml").read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------------------------
# registry <-> mirror <-> manifest


def test_every_public_entry_matches_the_mirror_bytes(registry: Registry, mirror: Path) -> None:
    files = registry.public_files()
    assert len(files) >= 25
    for entry in files:
        path = mirror / entry.path
        assert path.is_file(), f"{entry.source}.{entry.key}: {entry.path} is not in the mirror"
        assert sha256_file(path) == entry.sha256, f"{entry.source}.{entry.key}: sha256 differs from the mirror"
        if entry.sha256_lf_normalised:
            assert sha256_lf_normalised(path) == entry.sha256_lf_normalised, (
                f"{entry.source}.{entry.key}: sha256_lf_normalised differs from the mirror"
            )


def test_every_manifest_data_file_is_registered_identically(registry: Registry, manifest: list[dict]) -> None:
    by_path = registry.by_path()
    data_files = [m for m in manifest if Path(m["file"]).suffix.lower() not in NON_DATA_SUFFIXES]
    assert len(data_files) == 33  # 25 + CDB90 (6 tables + datapackage.json) + COW Diplomatic Exchange
    for m in data_files:
        entry = by_path.get(m["file"])
        assert entry is not None, f"manifest file {m['file']} is missing from config/sources.yaml"
        assert entry.sha256 == m["sha256"], m["file"]
        if Path(m["file"]).suffix.lower() == ".json":
            # a descriptor, not a table: verified by its exact bytes only (the manifest's
            # line-ending hash of it is the exact hash, the file has no CR and no final LF)
            assert entry.sha256_lf_normalised is None and m.get("sha256_lf_normalised") == m["sha256"], m["file"]
        else:
            assert entry.sha256_lf_normalised == m.get("sha256_lf_normalised"), m["file"]
        assert entry.rows == m.get("rows"), m["file"]
    # and the other way round: nothing public in the registry that the manifest does not know
    assert set(by_path) == {m["file"] for m in data_files}


def test_text_files_carry_a_line_ending_checksum_and_binaries_do_not(registry: Registry) -> None:
    for entry in registry.public_files():
        is_text = Path(entry.path).suffix.lower() in {".csv", ".txt", ".tab"}
        assert (entry.sha256_lf_normalised is not None) == is_text, entry.path


def test_download_locations_are_https_and_archives_name_their_member(registry: Registry) -> None:
    for entry in registry.public_files():
        assert entry.urls, entry.path
        for u in entry.urls:
            assert u.url.startswith("https://"), u.url
            if u.member:
                assert u.url.endswith(".zip"), f"{entry.path}: member given for a non-zip URL {u.url}"
                assert Path(u.member).name == entry.basename, f"{entry.path}: member {u.member}"


# ------------------------------------------------------------------------------------------------
# citations and terms

_ENTRY_HEAD = re.compile(r"@(\w+)\s*\{\s*([^,\s{}]+)\s*,")
_FIELD = re.compile(r"(\w+)\s*=\s*")


def parse_bibtex(text: str) -> list[tuple[str, str, dict[str, str]]]:
    """A strict little BibTeX parser: ``[(type, key, fields)]``; raises ValueError on any leftover."""
    entries = []
    pos = 0
    while True:
        rest = text[pos:]
        if not rest.strip():
            break
        m = _ENTRY_HEAD.match(rest.lstrip())
        if not m:
            raise ValueError(f"not a BibTeX entry at: {rest.strip()[:60]!r}")
        start = pos + (len(rest) - len(rest.lstrip())) + m.end()
        depth, i = 1, start
        while depth and i < len(text):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        if depth:
            raise ValueError(f"unbalanced braces in entry {m.group(2)}")
        body = text[start : i - 1]
        fields: dict[str, str] = {}
        j = 0
        while j < len(body):
            fm = _FIELD.match(body, j)
            if not fm:
                if body[j] in " \t\r\n,":
                    j += 1
                    continue
                raise ValueError(f"entry {m.group(2)}: cannot parse field at {body[j:j + 40]!r}")
            k = fm.end()
            if body[k] == "{":
                d, e = 1, k + 1
                while d:
                    d += {"{": 1, "}": -1}.get(body[e], 0)
                    e += 1
                value = body[k + 1 : e - 1]
            else:
                vm = re.match(r"[^,]+", body[k:])
                assert vm
                value, e = vm.group(0).strip(), k + vm.end()
            fields[fm.group(1).lower()] = value
            j = e
        entries.append((m.group(1).lower(), m.group(2), fields))
        pos = i
    return entries


def test_bibtex_parser_rejects_garbage() -> None:
    assert parse_bibtex("@book{k1, title = {A {B} C}, year = {2010}}")[0][:2] == ("book", "k1")
    for bad in ("Sarkees and Wayman 2010", "@book{k1, title = {x}", "@book{k1 title = {x}}"):
        with pytest.raises(ValueError):
            parse_bibtex(bad)


def test_every_source_can_be_cited_and_states_its_terms(registry: Registry) -> None:
    seen: dict[str, tuple[str, dict]] = {}
    for skey, src in registry.sources.items():
        entries = parse_bibtex(src.bibtex)
        assert entries, f"{skey}: no BibTeX entry"
        for typ, key, fields in entries:
            assert typ in {"article", "book", "incollection", "manual", "misc", "techreport", "inproceedings"}, (
                f"{skey}: unusual BibTeX type @{typ}"
            )
            assert {"title", "year"} <= set(fields), f"{skey}: entry {key} lacks title or year"
            assert "author" in fields or "organization" in fields, f"{skey}: entry {key} has no author"
            assert re.fullmatch(r"\d{4}", fields["year"]), f"{skey}: {key} year {fields['year']!r}"
            if key in seen:  # a work cited by two sources must be cited the same way
                assert seen[key] == (typ, fields), f"{key} is cited differently by two sources"
            seen[key] = (typ, fields)
        assert isinstance(src.terms, str) and len(src.terms.split()) >= 5, f"{skey}: terms of use missing"
        assert "redistributed" in src.terms, f"{skey}: terms should say the data are not redistributed"
        assert src.homepage.startswith(("http://", "https://")), f"{skey}: homepage"


def test_dataverse_sources_are_optional_and_complete(registry: Registry) -> None:
    archives = registry.archives()
    assert set(archives) == {"weisiger2016", "henke2017", "iwbd"}
    for key, src in archives.items():
        assert src.required is False, key
        assert src.server and src.server.startswith("https://"), key
        assert src.dataset_doi and src.dataset_doi.startswith("doi:10.7910/DVN/"), key
        for f in src.files.values():
            # a file DOI of the dataset, or (a file without one) Dataverse's numeric file id
            assert (f.persistent_id and f.persistent_id.startswith(src.dataset_doi + "/")) or \
                (f.persistent_id is None and isinstance(f.file_id, int)), f"{key}.{f.key}"
            # one archive per folder: fetch_archive finds a mirror copy next to the first file
            assert Path(f.path).parent == Path(next(iter(src.files.values())).path).parent


# ------------------------------------------------------------------------------------------------
# malformed registries fail at load, naming the key


def _errors(data: dict) -> str:
    with pytest.raises(CoalitionsError) as exc:
        parse_registry(data, "config/sources.yaml")
    return str(exc.value)


def test_the_real_registry_parses(raw_registry: dict) -> None:
    reg = parse_registry(copy.deepcopy(raw_registry))
    assert reg.file("cow_war", "participants").rows == 337


def test_unknown_key_is_named(raw_registry: dict) -> None:
    d = copy.deepcopy(raw_registry)
    d["sources"]["cow_war"]["files"]["participants"]["sha265"] = "0" * 64
    msg = _errors(d)
    assert "config/sources.yaml" in msg and "sources.cow_war.files.participants" in msg and "sha265" in msg

    d = copy.deepcopy(raw_registry)
    d["sources"]["polity5"]["licence"] = "x"
    msg = _errors(d)
    assert "sources.polity5" in msg and "licence" in msg


def test_bad_checksum_is_named(raw_registry: dict) -> None:
    for bad in ("2535E30B" + "0" * 56, "abc", 12345):
        d = copy.deepcopy(raw_registry)
        d["sources"]["cow_states"]["files"]["system"]["sha256"] = bad
        msg = _errors(d)
        assert "sources.cow_states.files.system.sha256" in msg and "64 lower-case hex" in msg
    d = copy.deepcopy(raw_registry)
    d["sources"]["cow_states"]["files"]["system"]["sha256_lf_normalised"] = "z" * 64
    assert "sources.cow_states.files.system.sha256_lf_normalised" in _errors(d)


def test_duplicate_path_names_both_entries(raw_registry: dict) -> None:
    d = copy.deepcopy(raw_registry)
    d["sources"]["cow_states"]["files"]["majors"]["path"] = "cow_state_system_2016/system2016.csv"
    msg = _errors(d)
    assert "sources.cow_states.files.majors.path" in msg
    assert "sources.cow_states.files.system" in msg and "also used" in msg


@pytest.mark.parametrize("bad", ["../outside.csv", "/etc/passwd", "cow_nmc/../../x.csv"])
def test_path_escaping_the_cache_is_refused(raw_registry: dict, bad: str) -> None:
    d = copy.deepcopy(raw_registry)
    d["sources"]["cow_nmc5"]["files"]["nmc"]["path"] = bad
    msg = _errors(d)
    assert "sources.cow_nmc5.files.nmc.path" in msg and bad in msg and "relative path" in msg


def test_other_shape_errors_are_named(raw_registry: dict) -> None:
    d = copy.deepcopy(raw_registry)
    del d["sources"]["atop"]["bibtex"]
    assert "sources.atop" in (m := _errors(d)) and "bibtex" in m

    d = copy.deepcopy(raw_registry)
    d["sources"]["atop"]["files"]["state_year"]["urls"] = []
    assert "sources.atop.files.state_year.urls" in _errors(d)

    d = copy.deepcopy(raw_registry)
    d["sources"]["atop"]["files"]["state_year"]["rows"] = -1
    assert "sources.atop.files.state_year.rows" in _errors(d)

    d = copy.deepcopy(raw_registry)
    d["sources"]["atop"]["required"] = "yes"
    assert "sources.atop.required" in _errors(d)

    d = copy.deepcopy(raw_registry)
    del d["sources"]["weisiger2016"]["server"]
    assert "sources.weisiger2016.server" in _errors(d)

    d = copy.deepcopy(raw_registry)
    d["sources"]["atop"]["kind"] = "ftp"
    assert "sources.atop.kind" in (m := _errors(d)) and "ftp" in m

    assert "'sources'" in _errors({"source": {}})


def test_lookup_of_an_unknown_file_lists_the_known_ones(registry: Registry) -> None:
    with pytest.raises(CoalitionsError, match=r"no source 'cow_wars'.*cow_war"):
        registry.file("cow_wars", "participants")
    with pytest.raises(CoalitionsError, match=r"no file 'participant' in source 'cow_war'.*participants"):
        registry.file("cow_war", "participant")


def test_load_registry_names_a_missing_or_broken_file(tmp_path: Path) -> None:
    with pytest.raises(CoalitionsError, match="nope.yaml: file not found"):
        load_registry(tmp_path / "nope.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("sources:\n  a: [unclosed\n", encoding="utf-8")
    with pytest.raises(CoalitionsError, match="broken.yaml: not valid YAML"):
        load_registry(broken)


def test_entries_survive_the_round_trip_through_rule_params(registry: Registry) -> None:
    """Snakemake passes entries to jobs as plain data; nothing may be lost on the way."""
    from coalitions.registry import FileEntry, Source

    for src in registry.sources.values():
        assert Source.from_dict(json.loads(json.dumps(src.to_dict()))) == src
        for f in src.files.values():
            assert FileEntry.from_dict(json.loads(json.dumps(f.to_dict()))) == f

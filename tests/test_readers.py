"""The dataset readers on the real mirror: counts, missing-value codes, dates, and schema errors.

Each clean table is checked against the raw file it comes from (parsed independently here with the
``csv`` module), against the mirror's manifest, and where two sources overlap, against each other.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from coalitions.readers import TABLES, build_table, schema_for
from coalitions.readers.common import assemble_date, codes_to_na, read_rda, to_int
from coalitions.readers.cow import NMC_COLS, WAR_SCHEMA
from coalitions.schema import TableSchema, Col, validate, write_table
from coalitions.util import CoalitionsError

WAR_FILE = "cow_interstate_war_v4.0/Inter-StateWarData_v4.0.csv"


@pytest.fixture(scope="module")
def manifest(mirror: Path) -> dict[str, dict]:
    return {m["file"]: m for m in json.loads((mirror / "manifest.json").read_text(encoding="utf-8"))}


@pytest.fixture(scope="module")
def raw_war(mirror: Path) -> list[dict[str, str]]:
    """The COW war file parsed by hand: latin-1, bare CR line endings."""
    text = (mirror / WAR_FILE).read_bytes().decode("latin-1")
    return list(csv.DictReader(io.StringIO(text.replace("\r", "\n"))))


# ------------------------------------------------------------------------------------------------
# row counts


@pytest.mark.parametrize("name", sorted(TABLES))
def test_row_counts_match_the_manifest(name: str, tables, registry, manifest) -> None:
    spec = TABLES[name]
    entry = registry.file(spec.source, spec.file)
    df = tables[name]
    assert set(spec.schema.columns) <= set(df.columns)
    if spec.one_row_per_source_row:
        assert len(df) == entry.rows == manifest[entry.path]["rows"]
    else:
        assert len(df) > entry.rows  # long format: one row per state x year x IGO


def test_headline_counts(tables) -> None:
    war = tables["cow_war_participants"]
    assert len(war) == 337 and war["war_num"].nunique() == 95
    assert len(tables["cow_system"]) == 15951
    assert len(tables["cow_states"]) == 243 and len(tables["cow_majors"]) == 14


def test_igo_memberships_agree_with_peacesciencer_counts(tables) -> None:
    """The long IGO table (from COW's IGO state-year file) reproduces peacesciencer's independent
    per state-year counts of full, associate and observer memberships exactly."""
    m = tables["cow_igo_memberships"]
    counts = tables["igo_counts_state_year"]
    mine = (m.groupby(["ccode", "year", "status"]).size().unstack("status", fill_value=0)
            .rename(columns={1: "full", 2: "associate", 3: "observer"}))
    j = counts.set_index(["ccode", "year"]).join(mine, how="left").fillna(0)
    assert len(j) == 15557
    for kind in ("full", "associate", "observer"):
        assert (j[kind] == j[f"sum_igo_{kind}"]).all(), kind
    assert set(m.set_index(["ccode", "year"]).index) <= set(counts.set_index(["ccode", "year"]).index)


def test_state_system_years_agree_across_cow_files(tables) -> None:
    key = lambda df: set(zip(df["ccode"].astype(int), df["year"].astype(int)))  # noqa: E731
    system = key(tables["cow_system"])
    assert key(tables["cow_contdirs"]) == system
    assert key(tables["cow_nmc6"]) == system
    assert key(tables["cow_nmc5"]) <= system  # NMC 5.0 ends in 2012


# ------------------------------------------------------------------------------------------------
# the COW war file


def test_cr_only_war_file_parses_into_25_columns(mirror: Path, manifest) -> None:
    from coalitions.fetch import read_bytes_normalised

    raw_bytes = (mirror / WAR_FILE).read_bytes()
    assert b"\n" not in raw_bytes and not raw_bytes.endswith(b"\r")  # bare CR, no final newline
    raw = pd.read_csv(read_bytes_normalised(mirror / WAR_FILE), encoding="latin-1")
    assert raw.shape == (337, 25)
    assert ",".join(raw.columns) == manifest[WAR_FILE]["header"]
    # the trap the normalisation avoids: to line-based tools the raw file is a single line, and
    # Python's csv module refuses it outright
    assert len(raw_bytes.split(b"\n")) == 1
    with pytest.raises(csv.Error, match="new-line character"):
        list(csv.reader(io.StringIO(raw_bytes.decode("latin-1"))))


def _date(y: str, m: str, d: str) -> date | None:
    parts = [int(y), int(m), int(d)]
    return date(*parts) if min(parts) >= 1 else None


def test_dates_are_assembled_from_the_raw_parts(tables, raw_war) -> None:
    war = tables["cow_war_participants"].set_index(["war_num", "ccode", "side"])
    assert len(raw_war) == 337
    for r in raw_war:
        row = war.loc[(int(r["WarNum"]), int(r["ccode"]), int(r["Side"]))]
        for k, (y, m, d) in {
            "start1": ("StartYear1", "StartMonth1", "StartDay1"),
            "end1": ("EndYear1", "EndMonth1", "EndDay1"),
            "start2": ("StartYear2", "StartMonth2", "StartDay2"),
            "end2": ("EndYear2", "EndMonth2", "EndDay2"),
        }.items():
            expected = _date(r[y], r[m], r[d])
            got = row[k]
            if expected is None:
                assert pd.isna(got), (r["WarNum"], r["ccode"], k)
            else:
                assert got.date() == expected, (r["WarNum"], r["ccode"], k)


def test_world_war_one_dates(tables, raw_war) -> None:
    wwi = tables["cow_war_participants"].query("war_num == 106")
    raw = [r for r in raw_war if r["WarNum"] == "106"]
    assert len(wwi) == len(raw) == 15
    first = min(date(int(r["StartYear1"]), int(r["StartMonth1"]), int(r["StartDay1"])) for r in raw)
    assert wwi["start1"].min().date() == first == date(1914, 7, 29)
    russia = wwi.set_index("ccode").loc[365]
    assert russia["start1"] == pd.Timestamp("1914-08-01") and russia["side"] == 1
    germany = wwi.set_index("ccode").loc[255]
    assert germany["start1"] == pd.Timestamp("1914-08-01") and germany["end1"] == pd.Timestamp("1918-11-11")


def test_cow_missing_codes_become_missing(tables, raw_war) -> None:
    war = tables["cow_war_participants"]
    assert (war["bat_death"].dropna() >= 0).all()
    n_unknown = sum(r["BatDeath"] == "-9" for r in raw_war)
    assert n_unknown >= 1 and war["bat_death"].isna().sum() == n_unknown
    # -8 ("not applicable": no second spell) is missing, not a date or a number
    n_no_second = sum(r["StartYear2"] == "-8" for r in raw_war)
    assert war["start2"].isna().sum() == n_no_second == 318
    for c in ("trans_from", "trans_to"):
        assert (war[c].dropna() >= 0).all()


@pytest.mark.parametrize("name", ["cow_nmc5", "cow_nmc6", "cow_nmc7"])
def test_no_minus_nine_left_in_nmc(name: str, tables) -> None:
    df = tables[name]
    for c in NMC_COLS + ["cinc"]:
        assert not (df[c] < 0).any(), f"{name}.{c} has negative values"


def test_nmc5_missing_values_are_exactly_the_raw_minus_nines(tables, mirror: Path) -> None:
    raw = pd.read_csv(mirror / "cow_nmc/NMC_5_0.csv")
    df = tables["cow_nmc5"]
    for c in NMC_COLS:
        assert int(df[c].isna().sum()) == int((raw[c] == -9).sum()), c
    assert int((raw["milex"] == -9).sum()) > 0


def test_states_on_both_sides_of_world_war_two(tables) -> None:
    wwii = tables["cow_war_participants"].query("war_num == 139")
    for ccode, name in ((325, "Italy"), (360, "Romania"), (355, "Bulgaria")):
        spells = wwii[wwii["ccode"] == ccode].sort_values("start1")
        assert list(spells["side"]) == [2, 1], name  # Axis first, then the Allies
        assert (spells["state_name"] == name).all()
        axis, allied = spells.iloc[0], spells.iloc[1]
        assert axis["end1"] <= allied["start1"], name  # left the Axis before joining the Allies


def test_archigos_is_keyed_by_gleditsch_ward_codes(tables) -> None:
    """Archigos uses Gleditsch-Ward codes: Serbia before 1918 is GW 340, a code COW never uses
    (COW codes Serbia and Yugoslavia alike as 345); joining on ccode would silently drop it."""
    a = tables["archigos_leaders"]
    cow_codes = set(tables["cow_system"]["ccode"].astype(int))
    assert 340 in set(a["gwcode"]) and 340 not in cow_codes
    assert "Milan I" in set(a.loc[a["gwcode"] == 340, "leader"])


# ------------------------------------------------------------------------------------------------
# schema violations


@pytest.fixture()
def war(tables) -> pd.DataFrame:
    return tables["cow_war_participants"].copy()


def test_valid_table_passes(war) -> None:
    assert validate(war, schema_for("cow_war_participants", 337)) is war


def test_out_of_range_value_names_table_column_and_row(war) -> None:
    i = war.index[(war["war_num"] == 106) & (war["ccode"] == 2)][0]
    war.loc[i, "bat_death"] = -5
    with pytest.raises(CoalitionsError) as exc:
        validate(war, WAR_SCHEMA, origin="Inter-StateWarData_v4.0.csv")
    msg = str(exc.value)
    assert "table 'cow_war_participants'" in msg and "Inter-StateWarData_v4.0.csv" in msg
    assert "column 'bat_death'" in msg and "1 value(s) outside [0, None]" in msg
    shown = msg.split("column 'bat_death'")[1].splitlines()[1:3]
    assert "war_num" in shown[0] and "bat_death" in shown[0]
    assert shown[1].split() == [str(i), "106", "2", "1", "-5"]


def test_several_problems_are_reported_together(war) -> None:
    war.loc[war.index[0], "side"] = 3
    war.loc[war.index[1], "outcome"] = pd.NA
    war = pd.concat([war, war.iloc[[5]]], ignore_index=True)
    with pytest.raises(CoalitionsError) as exc:
        validate(war, schema_for("cow_war_participants", 337))
    msg = str(exc.value)
    assert "expected 337 rows, found 338" in msg
    assert "column 'side'" in msg and "not in [1, 2]" in msg
    assert "column 'outcome' has 1 missing value(s)" in msg
    assert "key ['war_num', 'ccode', 'side'] is not unique (2 rows)" in msg


def test_wrong_type_missing_column_and_custom_check(war) -> None:
    bad = war.assign(side=war["side"].astype(float))
    with pytest.raises(CoalitionsError, match="column 'side' should be int, is float64"):
        validate(bad, WAR_SCHEMA)
    with pytest.raises(CoalitionsError, match=r"required column\(s\) missing: \['bat_death'\]"):
        validate(war.drop(columns="bat_death"), WAR_SCHEMA)
    swapped = war.copy()
    i = swapped.index[(swapped["war_num"] == 139) & (swapped["ccode"] == 2)][0]
    swapped.loc[i, ["start1", "end1"]] = swapped.loc[i, ["end1", "start1"]].to_numpy()
    with pytest.raises(CoalitionsError, match="spells out of order") as exc:
        validate(swapped, WAR_SCHEMA)
    shown = str(exc.value).split("spells out of order")[1].splitlines()[2:]
    assert len(shown) == 1 and shown[0].split()[:4] == [str(i), "139", "2", "1"]


def test_write_table_leaves_nothing_when_validation_fails(war, tmp_path: Path) -> None:
    out = tmp_path / "cow_war_participants.parquet"
    war.loc[war.index[0], "ccode"] = 5000
    with pytest.raises(CoalitionsError, match="column 'ccode'"):
        write_table(war, out, WAR_SCHEMA)
    assert list(tmp_path.iterdir()) == []

    # an earlier good table is not clobbered by a failed rewrite
    good = tmp_path / "good.parquet"
    write_table(war.assign(ccode=war["ccode"].clip(upper=999)), good, WAR_SCHEMA)
    before = good.read_bytes()
    with pytest.raises(CoalitionsError):
        write_table(war, good, WAR_SCHEMA)
    assert good.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["good.parquet"]


def test_write_table_leaves_nothing_when_writing_fails(tmp_path: Path) -> None:
    df = pd.DataFrame({"x": [1, "a", object()]})  # pyarrow cannot store this column
    with pytest.raises(Exception):
        write_table(df, tmp_path / "t.parquet")
    assert list(tmp_path.iterdir()) == []


def test_build_table_enforces_the_registry_row_count(mirror: Path, registry, tmp_path: Path) -> None:
    entry = registry.file("cow_states", "majors")
    with pytest.raises(CoalitionsError, match="expected 15 rows, found 14"):
        build_table("cow_majors", str(mirror / entry.path), str(tmp_path / "m.parquet"), rows=15)
    assert list(tmp_path.iterdir()) == []


def test_build_table_names_the_file_when_a_column_is_missing(mirror: Path, tmp_path: Path) -> None:
    text = (mirror / WAR_FILE).read_bytes().replace(b"BatDeath", b"BattleDeaths", 1)
    bad = tmp_path / "war.csv"
    bad.write_bytes(text)
    with pytest.raises(CoalitionsError) as exc:
        build_table("cow_war_participants", str(bad), str(tmp_path / "out.parquet"))
    assert str(bad) in str(exc.value) and "'BatDeath'" in str(exc.value) and "cow_war.participants" in str(exc.value)
    assert not (tmp_path / "out.parquet").exists()


# ------------------------------------------------------------------------------------------------
# reader helpers


def test_to_int_keeps_missing_and_refuses_fractions() -> None:
    s = to_int(pd.Series(["3", None, "4.0", "x"], name="n"))
    assert str(s.dtype) == "Int64" and s.tolist()[0] == 3 and s.tolist()[2] == 4
    assert s.isna().tolist() == [False, True, False, True]
    with pytest.raises(CoalitionsError, match="column 'milper' has non-integer values: \\[2.5\\]"):
        to_int(pd.Series([1, 2.5], name="milper"))


def test_codes_to_na_and_assemble_date() -> None:
    assert codes_to_na(pd.Series([5, -9, -8, 0]), (-9, -8)).isna().tolist() == [False, True, True, False]
    parts = pd.DataFrame({"y": [1914, 1914, -8, 1945], "m": [8, -9, -8, 5], "d": [1, 3, -8, 7]})
    got = assemble_date(parts, "y", "m", "d")
    assert got.iloc[0] == pd.Timestamp("1914-08-01") and got.iloc[3] == pd.Timestamp("1945-05-07")
    assert got.isna().tolist() == [False, True, True, False]


def test_read_rda_names_a_bad_file(tmp_path: Path, mirror: Path) -> None:
    bad = tmp_path / "x.rda"
    bad.write_bytes((mirror / WAR_FILE).read_bytes())
    with pytest.raises(CoalitionsError, match="x.rda: cannot read this R data file"):
        read_rda(str(bad))


def test_schema_of_every_table_is_consistent() -> None:
    for name, spec in TABLES.items():
        s: TableSchema = spec.schema
        assert s.name == name
        assert set(s.key) <= set(s.columns), name
        for col in s.columns.values():
            assert isinstance(col, Col)
            if col.min is not None and col.max is not None and col.kind != "date":
                assert col.min <= col.max, name

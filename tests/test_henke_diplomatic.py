"""COW Diplomatic Exchange v2006.1: the reader on the real mirror file (directed dyads mirror each other,
codes and waves as in the codebook), its refusals, the wave rule, and the diplomatic component of the
rebuilt Henke embeddedness (hand-checked dyad-years), with the 1950 check under every variant."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coalitions.henke.cases import load_cases
from coalitions.henke.checks import korea_1950_check
from coalitions.henke.rebuild import HenkeCoding, build_dataset, diplomatic_wave_year
from coalitions.readers import build_table
from coalitions.readers.diplomatic import LEVELS, WAVES, represented
from coalitions.util import CoalitionsError

ROOT = Path(__file__).resolve().parents[1]
OPS = ROOT / "config" / "cases" / "henke_operations.csv"
CON = ROOT / "config" / "cases" / "henke_contributors.csv"
FILE = "cow_diplomatic_exchange_2006.1/Diplomatic_Exchange_2006v1.csv"
US, PHILIPPINES, SOUTH_AFRICA = 2, 840, 560
HEADER = '"ccode1","ccode2","year","DR_at_1","DR_at_2","DE","version"'


@pytest.fixture(scope="module")
def raw(mirror) -> dict[tuple[int, int, int], tuple[int, int, int]]:
    """The raw CSV parsed independently with the csv module: (ccode1, ccode2, year) -> (DR_at_1, DR_at_2, DE)."""
    data = (mirror / FILE).read_bytes()
    assert data.count(b"\r\n") == data.count(b"\n") == 310_821  # CRLF throughout, header + rows
    text = data.decode("ascii")
    assert text.startswith(HEADER + "\r\n")  # quoted header
    out = {}
    for r in csv.DictReader(io.StringIO(text.replace("\r\n", "\n"))):
        out[(int(r["ccode1"]), int(r["ccode2"]), int(r["year"]))] = (int(r["DR_at_1"]), int(r["DR_at_2"]), int(r["DE"]))
    return out


@pytest.fixture(scope="module")
def dx(tables):
    return tables["cow_diplomatic_exchange"]


# ---------------------------------------------------------------------------------------------- the reader
def test_table_equals_the_raw_file(dx, raw):
    assert len(dx) == len(raw) == 310_820
    got = dict(zip(zip(dx["ccode1"], dx["ccode2"], dx["year"]), zip(dx["dr_at_1"], dx["dr_at_2"], dx["de"])))
    assert got == raw
    assert dx["version"].unique().tolist() == [2006.0999755859375]


def test_directed_dyads_mirror_each_other(raw):
    """Independent of the reader's own check: DR_at_1(a, b) = DR_at_2(b, a) and DE(a, b) = DE(b, a)."""
    for (a, b, y), (dr1, dr2, de) in raw.items():
        m = raw[(b, a, y)]
        assert (m[1], m[0], m[2]) == (dr1, dr2, de), (a, b, y)


def test_codes_and_waves_as_in_the_codebook(dx):
    assert set(dx["dr_at_1"]) == set(dx["dr_at_2"]) == set(LEVELS) == {0, 1, 2, 3, 9}
    assert set(dx["de"]) == {0, 1}
    assert sorted(set(dx["year"])) == list(WAVES) and len(WAVES) == 38 and 1945 not in WAVES
    # 1950-1965: every exchange coded 9 (no levels recorded)
    mid = dx[dx["year"].between(1950, 1965)]
    assert set(mid["dr_at_1"]) == {0, 9}
    # DE: either side represented at level 1-3, or 9 in 1950-1965 (a 9 elsewhere is not representation)
    want = (represented(dx["dr_at_1"], dx["year"]) | represented(dx["dr_at_2"], dx["year"])).astype(int)
    assert (want == dx["de"].to_numpy()).all()
    assert ((dx["dr_at_1"] == 9) & ~dx["year"].between(1950, 1965)).sum() > 0  # such 9s exist and are DE 0 alone


def _write(tmp_path: Path, rows: list[str]) -> Path:
    p = tmp_path / "dx.csv"
    p.write_bytes(("\r\n".join([HEADER, *rows]) + "\r\n").encode())
    return p


GOOD = ["2,20,1990,3,3,1,2006.0999755859375", "20,2,1990,3,3,1,2006.0999755859375"]


@pytest.mark.parametrize("rows,msg", [
    (["2,20,1990,3,2,1,2006.0999755859375", "20,2,1990,3,2,1,2006.0999755859375"], "disagree with their mirror"),
    (GOOD[:1], "have no mirror"),
    (["2,20,1990,4,4,1,2006.0999755859375", "20,2,1990,4,4,1,2006.0999755859375"], "not in [0, 1, 2, 3, 9]"),
    (["2,20,1955,3,3,1,2006.0999755859375", "20,2,1955,3,3,1,2006.0999755859375"], "1950-1965"),
    (["2,20,1990,9,9,1,2006.0999755859375", "20,2,1990,9,9,1,2006.0999755859375"], "DE rule"),
    (["2,20,1945,3,3,1,2006.0999755859375", "20,2,1945,3,3,1,2006.0999755859375"], "column 'year'"),
    (["2,20,1990,,3,1,2006.0999755859375", "20,2,1990,3,,1,2006.0999755859375"], "missing value"),
])
def test_bad_files_are_refused_with_the_rows(tmp_path, rows, msg):
    p = _write(tmp_path, rows)
    out = tmp_path / "dx.parquet"
    with pytest.raises(CoalitionsError, match="cow_diplomatic_exchange") as exc:
        build_table("cow_diplomatic_exchange", str(p), str(out))
    assert msg in str(exc.value)
    assert not out.exists()
    build_table("cow_diplomatic_exchange", str(_write(tmp_path, GOOD)), str(out))
    assert out.exists()


# ---------------------------------------------------------------------------------------------- the wave rule
def test_wave_rule():
    years = [1816, 1817, 1940, 1945, 1949, 1950, 1954, 1965, 1982, 1990, 1994, 1995, 2003, 2010]
    got = diplomatic_wave_year(years, WAVES)
    want = [np.nan, 1817, 1940, 1940, 1940, 1950, 1950, 1965, 1980, 1990, 1990, 1995, 2000, 2005]
    np.testing.assert_array_equal(got, np.array(want, dtype=float))


# ---------------------------------------------------------------------------------------------- the component
@pytest.fixture(scope="module")
def cases(tables):
    return load_cases(OPS, CON, tables["cow_states"])


@pytest.fixture(scope="module")
def built(tables, cases):
    return {m: build_dataset(tables, *cases, HenkeCoding(diplomatic_measure=m)) for m in ("presence", "levels")}


def _row(data, op, ccode):
    r = data[(data["operation_id"] == op) & (data["ccode"] == ccode)]
    assert len(r) == 1, (op, ccode)
    return r.iloc[0]


@pytest.mark.parametrize("op,ccode,wave,us_at,at_us,presence,level", [
    ("korea1950", PHILIPPINES, 1950, 9, 9, 2, None),     # 1950: only presence known
    ("korea1950", SOUTH_AFRICA, 1950, 9, 9, 2, None),
    ("korea1950", 145, 1950, 0, 9, 1, None),            # Bolivia: represented at the US only
    ("lebanon1982", 51, 1980, 3, 1, 2, 4),              # Jamaica: US ambassador, Jamaican charge d'affaires
    ("lebanon1982", 620, 1980, 0, 3, 1, 3),             # Libya: no US representation, Libyan ambassador (bureau)
    ("iraq2003", 200, 2000, 3, 3, 2, 6),                # the UK, wave 2000
])
def test_component_values_hand_checked(built, raw, op, ccode, wave, us_at, at_us, presence, level):
    data, _ = built["presence"]
    r = _row(data, op, ccode)
    assert r["dipl_year_used"] == wave
    # the dyad (state, US): DR_at_1 = the US's representation at the state, DR_at_2 = the state's at the US
    assert raw[(ccode, US, wave)][:2] == (us_at, at_us) and raw[(US, ccode, wave)][:2] == (at_us, us_at)
    assert (r["dipl_us_at_state"], r["dipl_state_at_us"], r["dipl_presence"]) == (us_at, at_us, presence)
    assert r["diplomatic_ties"] == presence
    assert (np.isnan(r["dipl_level"]) if level is None else r["dipl_level"] == level)
    lv = _row(built["levels"][0], op, ccode)
    assert (np.isnan(lv["diplomatic_ties"]) if level is None else lv["diplomatic_ties"] == level)
    assert r["embeddedness_igo_alliances_diplomatic"] == r["joint_igos"] + r["alliance_ties"] + presence
    assert r["embeddedness_diplomatic_only"] == presence


def test_no_dyad_in_the_wave_is_missing_not_zero(built):
    """Haiti 1994 uses the 1990 wave, before Ukraine (369) was a state: no value."""
    data, _ = built["presence"]
    r = _row(data, "haiti1994", 369)
    assert r["dipl_year_used"] == 1990 and np.isnan(r["dipl_presence"]) and np.isnan(r["diplomatic_ties"])
    assert np.isnan(r["embeddedness_igo_alliances_diplomatic"])
    assert data["dipl_year_used"].notna().all()


def test_variables_label_the_diplomatic_measures_proxy(built):
    _, variables = built["presence"]
    st = variables.set_index("variable")["status"]
    for c in ("dipl_presence", "dipl_level", "diplomatic_ties", "embeddedness_igo_alliances_diplomatic",
              "embeddedness_diplomatic_only", "embeddedness_diplomatic_only_l1"):
        assert st[c] == "proxy", c
    assert st["dipl_us_at_state"] == "rebuilt" and st["embeddedness_agreements_only"] == "not_available"
    note = variables.set_index("variable")["note"]
    assert "treaties and agreements" in note["diplomatic_ties"]
    assert "diplomatic_only" in note["embeddedness_agreements_only"]


def test_coding_keys():
    c = HenkeCoding.from_dict({"embeddedness": "diplomatic_only", "diplomatic_measure": "levels"})
    assert (c.embeddedness, c.diplomatic_measure) == ("diplomatic_only", "levels")
    with pytest.raises(CoalitionsError, match="diplomatic_measure"):
        HenkeCoding.from_dict({"diplomatic_measure": "ranks"}, origin="x.yaml")


# ---------------------------------------------------------------------------------------------- the 1950 check
@pytest.mark.parametrize("section,result", [
    ({}, "South Africa above the Philippines"),
    ({"embeddedness": "normalised"}, "Philippines above South Africa"),
    ({"embeddedness": "igo_alliances_diplomatic"}, "South Africa above the Philippines"),
    ({"embeddedness": "diplomatic_only"}, "tied"),
    ({"embeddedness": "igo_alliances_diplomatic", "diplomatic_measure": "levels"},
     "not measurable: no value for the Philippines and South Africa"),
    ({"embeddedness": "diplomatic_only", "diplomatic_measure": "levels"},
     "not measurable: no value for the Philippines and South Africa"),
    ({"embeddedness": "agreements_only"}, "not measurable: no value for the Philippines and South Africa"),
])
def test_korea_1950_check_under_each_variant(tables, cases, section, result):
    """Reported whatever it shows: diplomatic representation does not separate the two (both represented
    both ways in 1950), and COW recorded no levels in 1950."""
    data, _ = build_dataset(tables, *cases, HenkeCoding.from_dict(section))
    row = korea_1950_check(data, "test", section)
    assert row["result"] == result
    if result.startswith("South Africa above") and section:
        assert (row["philippines"], row["south_africa"]) == (19, 25)


def test_the_papers_1950_sentence(tmp_path):
    from coalitions.henke.checks import COLUMNS
    from coalitions.paper.henke_check import korea_1950_paragraph

    assert korea_1950_paragraph(tmp_path / "comparison" / "henke_korea1950.csv", {}) is None
    rows = [{"coding": "baseline", "philippines": 17, "south_africa": 23, "philippines_rank": 30,
             "south_africa_rank": 12, "n_ranked": 71, "result": "South Africa above the Philippines"},
            {"coding": "henke_diplomatic_levels_only", "result": "not measurable: no value for the Philippines "
                                                                "and South Africa"},
            {"coding": "henke_post_cold_war", "result": "not in the sample (Korea 1950 not included)"}]
    (tmp_path / "comparison").mkdir()
    pd.DataFrame(rows, columns=COLUMNS).to_csv(tmp_path / "comparison" / "henke_korea1950.csv", index=False)
    text = korea_1950_paragraph(tmp_path / "comparison" / "henke_korea1950.csv", {"baseline": "Published coding"})
    assert "Published coding: South Africa above the Philippines (values 17 and 23; ranks 30 and 12 of 71)" in text
    assert "henke_diplomatic_levels_only: not measurable: no value for the Philippines and South Africa" in text
    assert "henke_post_cold_war: not in the sample" in text

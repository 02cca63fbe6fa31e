"""Battle data: the CDB90 readers and actor mapping (real mirror data), the CDB90 battle events, and IWBD
(reader, coalition names, fetch and verification) on a generated file labelled synthetic."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from coalitions import fetch as F
from coalitions.readers import ARCHIVE_TABLES, TABLES
from coalitions.readers import cdb90 as C
from coalitions.readers.iwbd import IWBD_COLUMNS, load_iwbd, read_iwbd
from coalitions.util import CoalitionsError
from coalitions.weisiger import trends
from helpers.battles import ROWS, write_synthetic_iwbd
from helpers.dataverse import FakeDataverse, FakeFile
from helpers.http import closed_port_url

CDB90 = ("cdb90_battles", "cdb90_belligerents", "cdb90_battle_actors", "cdb90_active_periods")


# ------------------------------------------------------------------------------------------------
# the CDB90 tables


def test_cdb90_tables_are_registered_and_read_with_the_registry_row_counts(tables, registry):
    for name in CDB90:
        spec = TABLES[name]
        assert spec.source == "cdb90"
        assert len(tables[name]) == registry.file("cdb90", spec.file).rows, name
    bel = tables["cdb90_belligerents"]
    # strength and casualties are text in the file: whole numbers here, missing where empty
    for c in ("str", "cas"):
        assert pd.api.types.is_integer_dtype(bel[c]) and (bel[c].dropna() >= 0).all()
    assert bel["cas"].isna().sum() == 10 and bel["str"].isna().sum() == 2
    assert (bel.groupby("isqno")["attacker"].agg(["size", "sum"]) == [2, 1]).all().all()
    per = tables["cdb90_active_periods"]
    # the dates reach back to 1600 (kept at second resolution, beyond nanosecond timestamps)
    assert per["end_time_max"].min() < pd.Timestamp("1677-01-01").to_datetime64().astype("datetime64[s]")
    assert per["start_time_min"].isna().sum() == 2


def test_cdb90_columns_are_fields_of_the_datapackage(mirror):
    desc = json.loads((mirror / "cdb90" / "datapackage.json").read_text())
    fields = {Path(r["path"]).stem: {f["id"] for f in r["schema"]["fields"]} for r in desc["resources"]}
    for name, schema in ((n, TABLES[n].schema) for n in CDB90):
        stem = TABLES[name].file
        assert set(schema.columns) <= fields[stem], (name, set(schema.columns) - fields[stem])


def test_the_cdb90_readers_reject_bad_values(mirror, tmp_path):
    src = (mirror / "cdb90" / "belligerents.csv").read_text()
    bad = tmp_path / "belligerents.csv"
    lines = src.splitlines()
    lines[1] = lines[1].replace('"1000"', '"about 1000"', 1)
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(CoalitionsError, match="'cas' has non-numeric values"):
        C.read_belligerents(str(bad))


# ------------------------------------------------------------------------------------------------
# the actor mapping


@pytest.fixture(scope="module")
def actor_map():
    return C.read_actor_map(C.ACTOR_MAP)


@pytest.fixture(scope="module")
def corrections(actor_map):
    return C.read_corrections(C.CORRECTIONS, actor_map)


def test_every_cdb90_actor_is_in_the_mapping_with_a_cow_code_or_a_reason(tables, actor_map):
    assert set(tables["cdb90_battle_actors"]["actor"]) == set(actor_map["actor"])
    C.check_actor_map(actor_map, tables["cow_states"])  # codes exist, names are COW's
    for r in actor_map.itertuples(index=False):
        assert "Correlates of War" in r.source and "CDB90" in r.source, r.actor
        if pd.isna(r.ccode):
            assert "no COW code" in r.note or "not a member of the COW state system" in r.note, r.actor
        assert r.contested == ("CONTESTED" in r.note), r.actor


def test_every_actor_of_a_coalition_war_maps_to_a_participant_of_that_war(tables, actor_map, corrections):
    war = tables["cow_war_participants"]
    coal = trends.coalition_wars(war)
    assert len(coal) == 38
    b = tables["cdb90_battles"]
    b = b[b["cow_warno"].isin(coal) & b["parent"].isna()]
    a = tables["cdb90_battle_actors"].merge(b[["isqno", "cow_warno"]], on="isqno")
    fixed = set(zip(corrections["isqno"], corrections["attacker"]))
    a = a[[k not in fixed for k in zip(a["isqno"], a["attacker"])]]
    a = a.merge(actor_map[["actor", "ccode"]], on="actor")
    parts = set(zip(war["war_num"].astype(int), war["ccode"].astype(int)))
    mapped = a.dropna(subset=["ccode"])
    out = [(r.cow_warno, r.actor) for r in mapped.itertuples() if (int(r.cow_warno), int(r.ccode)) not in parts]
    assert out == []
    # the only coalition-war actor without a COW code is the PLA division at Gaza in 1967
    assert set(a.loc[a["ccode"].isna(), "actor"]) == {"Palestine"}


def test_an_unmapped_actor_is_an_error_naming_it(tables, actor_map, corrections):
    t = {n: tables[n] for n in ("cow_war_participants", *CDB90)}
    t["cdb90_actors"] = actor_map[actor_map["actor"] != "Bulgaria"]
    t["cdb90_corrections"] = corrections
    with pytest.raises(CoalitionsError) as exc:
        trends.battle_events(t, "cdb90")
    msg = str(exc.value)
    assert "'Bulgaria'" in msg and "COW war 100" in msg and C.ACTOR_MAP in msg
    # an actor outside the coalition wars needs no COW code to be looked up, but must still be listed
    t["cdb90_actors"] = actor_map[actor_map["actor"] != "Zulu"]
    assert len(trends.battle_events(t, "cdb90")) > 0


def test_battles_must_match_the_cow_war_by_name_and_date(tables, actor_map, corrections):
    t = {n: tables[n] for n in ("cow_war_participants", *CDB90)}
    t["cdb90_actors"], t["cdb90_corrections"] = actor_map, corrections
    b = tables["cdb90_battles"].copy()
    alma = b["isqno"] == 165  # The Alma, 1854 (Crimean War, COW 22)
    b.loc[alma, "cow_warno"] = 28
    with pytest.raises(CoalitionsError, match="cow_warno 28 is 'Crimean War of 1853-1856' in CDB90"):
        trends.battle_events({**t, "cdb90_battles": b}, "cdb90")
    b.loc[alma, "cow_warname"] = "War of Italian Unification of 1859"
    with pytest.raises(CoalitionsError, match="battle 165 'THE ALMA' .* outside COW war 28"):
        trends.battle_events({**t, "cdb90_battles": b}, "cdb90")


def test_the_actor_mapping_file_is_checked(tmp_path, actor_map):
    good = Path(C.ACTOR_MAP).read_text(encoding="utf-8").splitlines()
    cases = {
        "no source": (good[0], good[1].rsplit(",", 1)[0] + ',""', "no source"),
        "bad code": (good[0], good[1].replace(",300,", ",3x0,", 1), "is not a COW code"),
        "twice": (good[0], good[1], "listed twice"),
    }
    for what, (head, line, msg) in cases.items():
        p = tmp_path / f"{what}.csv"
        rows = [head, line] + ([good[1]] if what == "twice" else [])
        p.write_text("\n".join(rows) + "\n", encoding="utf-8")
        with pytest.raises(CoalitionsError, match=msg):
            C.read_actor_map(str(p))
    wrong = actor_map.copy()
    wrong.loc[wrong["actor"] == "Austria", "cow_state_name"] = "Austria"
    with pytest.raises(CoalitionsError, match="'Austria-Hungary' in the COW state system"):
        C.check_actor_map(wrong, pd.DataFrame({"ccode": [300], "statenme": ["Austria-Hungary"]}))


def test_corrections_follow_cdb90s_own_force_designations(tables, corrections):
    bel = tables["cdb90_belligerents"].set_index(["isqno", "attacker"])
    prefix = {"Bavaria": "BAV", "France": "FR", "Great Britain": "BR"}
    for r in corrections.itertuples(index=False):
        nam = bel.loc[(r.isqno, r.attacker), "nam"]
        assert f"'{nam}'" in r.source, r.isqno
        for a in (r.actors.split(" & ") if r.actors else []):
            assert prefix[a] in nam, (r.isqno, a, nam)
        assert r.contested == ("CONTESTED" in r.note)


# ------------------------------------------------------------------------------------------------
# CDB90 battle events


@pytest.fixture(scope="module")
def events(tables, actor_map, corrections):
    t = {n: tables[n] for n in ("cow_war_participants", *CDB90)}
    t["cdb90_actors"], t["cdb90_corrections"] = actor_map, corrections
    return trends.battle_events(t, "cdb90")


def test_cdb90_events_keep_cdb90s_casualties_and_drop_duplicate_battles(tables, events):
    assert set(trends.EVENT_COLUMNS) <= set(events.columns)
    assert set(events["source"]) == {"cdb90"} and events["lost"].isna().all()
    b = tables["cdb90_battles"].set_index("isqno")
    assert b.loc[events["battle_id"].unique(), "parent"].isna().all()
    assert sorted(events["warnum"].unique()) == [22, 28, 55, 58, 100, 106, 136, 139, 148, 151, 155, 169, 181]
    # the rows of a battle side (states x phases) sum to CDB90's casualty figure of that side
    bel = tables["cdb90_belligerents"]
    got = events.groupby(["battle_id", "side"])["casualties"].sum(min_count=1)
    for bid in (165, 280, 386, 559):  # Alma, Tannenberg, Alam Halfa, Gaza Strip
        want = sorted(bel.loc[bel["isqno"] == bid, "cas"].astype(float))
        assert sorted(got.loc[bid].to_numpy()) == pytest.approx(want), bid
    # and for every battle, phases included (a battle with separate phases has one segment each)
    side_of = events.drop_duplicates(["battle_id", "side"])[["battle_id", "side"]]
    want = bel.groupby("isqno")["cas"].apply(lambda c: sorted(c.astype(float).fillna(-1)))
    have = got.fillna(-1).groupby(level="battle_id").apply(lambda c: sorted(c))
    assert len(side_of) == 2 * events["battle_id"].nunique()
    for bid, v in have.items():
        assert v == pytest.approx(want[bid]), bid
    assert events.groupby("battle_id")["start_date"].nunique().max() > 1  # some battles have several phases
    assert events.groupby(["battle_id", "side"])["casualties"].apply(lambda s: s.isna().all() or s.notna().all()).all()


def test_sides_by_date_and_the_corrections(events):
    def side(bid, ccode=None):
        e = events[events["battle_id"] == bid]
        e = e[e["ccode"] == ccode] if ccode is not None else e[e["ccode"].isna()]
        return set(e["side"])

    assert side(386, 325) == {2}       # Italy at Alam Halfa, 1942: Axis
    assert side(486, 220) == {1}       # France at Sedan, May 1940: Allies
    assert side(559) == {2}            # the PLA division at Gaza, 1967: opposite Israel, no state
    assert side(559, 666) == {1}
    assert side(418, 200) == {1} and side(418, 255) == {2}   # Monte Camino II: the British defender
    assert side(597) == {2} and side(597, 666) == {1}        # Kfar Shams: the defender is not Israeli
    assert side(226, 245) == {1} and 255 not in set(events.loc[events["battle_id"] == 226, "ccode"].dropna())
    assert 2 not in set(events.loc[events["battle_id"] == 359, "ccode"].dropna())  # French armies, not US


def test_a_state_on_both_sides_gets_the_side_of_its_spell_on_the_battle_date(tables, actor_map):
    """Synthetic battles (not CDB90's): Italy in WWII in 1941 (Axis) and in 1944 (Allies), Romania."""
    battles = pd.DataFrame({"isqno": [1, 2, 3, 4], "war": "SYNTHETIC", "name": ["S1941", "S1944", "R1944", "G1943"],
                            "locn": None, "campgn": None, "war4": None, "war4_theater": None,
                            "cow_warno": pd.array([139, 139, 139, 139], dtype="Int64"),
                            "cow_warname": "World War II of 1939-1945",
                            "parent": pd.array([None] * 4, dtype="Int64")})
    act = pd.DataFrame({"isqno": [1, 1, 2, 2, 3, 3, 4, 4], "attacker": [True, False] * 4, "n": 1,
                        "actor": ["Italy", "Great Britain", "Italy", "Germany", "Germany", "USSR", "Germany", "Italy"]})
    bel = pd.DataFrame({"isqno": [1, 1, 2, 2, 3, 3, 4, 4], "attacker": [True, False] * 4,
                        "cas": pd.array([10, 20, 30, 40, 50, 60, 70, 80], dtype="Int64")})
    # G1943: 20 September 1943, between Italy's Axis spell (to 2 Sep.) and its Allied one (from 18 Oct.):
    # the nearest spell (the Axis) would put it beside Germany; the German side settles it
    t0 = pd.to_datetime(["1941-01-05", "1944-05-10", "1944-03-01", "1943-09-20"]).to_numpy().astype("datetime64[s]")
    per = pd.DataFrame({"isqno": [1, 2, 3, 4], "atp_number": 1, "start_time_min": t0, "end_time_max": t0,
                        "end_time_min": t0})
    t = {"cow_war_participants": tables["cow_war_participants"], "cdb90_battles": battles,
         "cdb90_belligerents": bel, "cdb90_battle_actors": act, "cdb90_active_periods": per,
         "cdb90_actors": actor_map, "cdb90_corrections": C.read_corrections(C.CORRECTIONS, actor_map)[:0]}
    ev = trends.battle_events(t, "cdb90").set_index(["battle_id", "ccode"])["side"]
    assert ev[(1, 325)] == 2 and ev[(1, 200)] == 1
    assert ev[(2, 325)] == 1 and ev[(2, 255)] == 2
    assert ev[(3, 255)] == 2 and ev[(3, 365)] == 1
    assert ev[(4, 255)] == 2 and ev[(4, 325)] == 1


# ------------------------------------------------------------------------------------------------
# IWBD: reader and coalition names on a synthetic file


def test_iwbd_reader_on_the_synthetic_file(tmp_path):
    path = write_synthetic_iwbd(tmp_path / "iwbd.csv")
    df = read_iwbd(str(path))
    assert len(df) == len(ROWS) and (df["warName"] == "SYNTHETIC TEST DATA").all()
    assert list(df["battle_id"]) == list(range(1, len(ROWS) + 1))
    assert set(IWBD_COLUMNS) <= set(df.columns)
    assert df["startDate"].notna().all() and df["endDate"].isna().sum() == 1
    assert df.loc[df["battleName"] == "SYNTHETIC UNKNOWN", "victor"].isna().all()  # -9 is missing
    tsv = write_synthetic_iwbd(tmp_path / "iwbd.tab", sep="\t")
    pd.testing.assert_frame_equal(read_iwbd(str(tsv)), df)
    bad = tmp_path / "short.csv"
    bad.write_text("cowNum,battleName\n139,x\n")
    with pytest.raises(CoalitionsError, match="IWBD column"):
        read_iwbd(str(bad))


def test_iwbd_coalition_names_resolve_to_the_cow_side(tables, actor_map, tmp_path):
    t = {"cow_war_participants": tables["cow_war_participants"], "cow_states": tables["cow_states"],
         "cdb90_actors": actor_map, "iwbd_battles": read_iwbd(str(write_synthetic_iwbd(tmp_path / "i.csv")))}
    ev = trends.battle_events(t, "iwbd")
    by = {(r.battle_name, r.actor): (r.side, r.ccode) for r in ev.itertuples()}
    assert by[("SYNTHETIC B1", "Allies")][0] == 1 and pd.isna(by[("SYNTHETIC B1", "Allies")][1])
    assert by[("SYNTHETIC B4", "Axis")][0] == 2
    assert by[("SYNTHETIC W1", "Central Powers")][0] == 2 and by[("SYNTHETIC W1", "Allies")][0] == 1
    assert by[("SYNTHETIC K1", "Balkan League")][0] == 1 and by[("SYNTHETIC K1", "Turkey")] == (2, 640)
    assert by[("SYNTHETIC Y1", "Arab States")][0] == 2 and by[("SYNTHETIC Y1", "Israel")] == (1, 666)
    assert by[("SYNTHETIC N1", "NATO")][0] == 1
    # Italy: Axis in 1941, Allies in 1944 (by its COW spells)
    assert by[("SYNTHETIC B5", "Italy")] == (2, 325) and by[("SYNTHETIC B3", "Italy")] == (1, 325)
    # "France/United Kingdom": two states on one side
    w2 = ev[ev["battle_name"] == "SYNTHETIC W2"]
    assert set(w2.loc[w2["side"] == 1, "ccode"]) == {200, 220} and (w2["lost"] == 0.5).all()
    # lost: 1 for the loser, 0 for the victor, missing where the victor is unknown
    b2 = ev[ev["battle_name"] == "SYNTHETIC B2"].set_index("side")["lost"]
    assert b2[1] == 1.0 and b2[2] == 0.0
    assert ev.loc[ev["battle_name"] == "SYNTHETIC UNKNOWN", "lost"].isna().all()
    assert 85 not in set(ev["warnum"])  # not a coalition war
    # Italy between its two WWII spells (20 Sep. 1943) against "Axis": the other side settles it
    gap = t["iwbd_battles"].copy()
    gap.loc[3, ["attacker", "defender", "victor"]] = ["Axis", "Italy", "Axis"]
    gap.loc[3, ["startDate", "endDate"]] = [pd.Timestamp("1943-09-20")] * 2
    g = trends.battle_events({**t, "iwbd_battles": gap}, "iwbd")
    g = g[g["battle_id"] == 4].set_index("actor")
    assert g.loc["Italy", "side"] == 1 and g.loc["Axis", "side"] == 2 and g.loc["Italy", "lost"] == 1.0
    # a name that is neither a state nor a known coalition is an error naming it
    odd = t["iwbd_battles"].copy()
    odd.loc[0, "attacker"] = "Ruritania"
    with pytest.raises(CoalitionsError, match="'Ruritania'"):
        trends.battle_events({**t, "iwbd_battles": odd}, "iwbd")
    # a victor coded in a way the reader does not know is an error, not a silent "unknown"
    odd = t["iwbd_battles"].copy()
    odd.loc[0, ["victor", "victorBattleLevel"]] = ["Britannia", "7"]
    with pytest.raises(CoalitionsError, match="battle 1 'SYNTHETIC A': cannot tell who won"):
        trends.battle_events({**t, "iwbd_battles": odd}, "iwbd")


# ------------------------------------------------------------------------------------------------
# IWBD: an optional source fetched and verified like the authors' archives


def test_iwbd_is_registered_as_an_optional_dataverse_source(registry):
    src = registry.archives()["iwbd"]
    assert src.required is False and src.dataset_doi == "doi:10.7910/DVN/KLQFAP"
    f = src.files["battles"]
    assert f.file_id == 4435240 and f.persistent_id is None and f.format == "original"
    assert f.md5 == "3bdf22d6f8e58621abd6b3601806f642"
    assert "Min, Eric" in src.bibtex and "Journal of Peace Research" in src.bibtex and "CC0" in src.terms
    assert ARCHIVE_TABLES["iwbd_battles"].source == "iwbd"
    assert "iwbd_battles" not in TABLES  # not built by clean_table: the file may not be there
    meta, data = F.dataverse_urls(src.server, src.dataset_doi, f.persistent_id, f.format, f.file_id)
    assert data == "https://dataverse.harvard.edu/api/access/datafile/4435240?format=original"


def _iwbd_source(registry, md5: str):
    from dataclasses import replace

    src = registry.archives()["iwbd"]
    return replace(src, files={"battles": replace(src.files["battles"], md5=md5)})


def test_iwbd_fetch_by_numeric_file_id_verifies_md5(registry, tmp_path):
    data = write_synthetic_iwbd(tmp_path / "gen.csv").read_bytes()
    src = _iwbd_source(registry, hashlib.md5(data).hexdigest())  # the synthetic file's own checksum
    entry = src.files["battles"]
    fake = FakeFile(persistent_id="", original_name="iwbd.csv", data=data, tabular=True, file_id=entry.file_id)
    out = tmp_path / "original" / "iwbd"
    with FakeDataverse(src.dataset_doi, [fake]) as dv:
        status = F.fetch_archive(src, out, mirror=None, server=dv.base, retries=1, progress=False)
    assert status["available"] is True, status["reason"]
    rec = status["files"]["battles"]
    assert rec["file_id"] == 4435240 and rec["origin"].endswith("/api/access/datafile/4435240?format=original")
    df, why = load_iwbd(out, entry.basename)
    assert why is None and len(df) == len(ROWS)


def test_iwbd_with_a_changed_checksum_or_offline_is_unavailable_and_says_why(registry, tmp_path):
    data = write_synthetic_iwbd(tmp_path / "gen.csv").read_bytes()
    src = registry.archives()["iwbd"]  # pins the published MD5, which the synthetic bytes do not have
    fake = FakeFile(persistent_id="", original_name="iwbd.csv", data=data, file_id=4435240)
    out = tmp_path / "original" / "iwbd"
    with FakeDataverse(src.dataset_doi, [fake]) as dv:
        status = F.fetch_archive(src, out, mirror=None, server=dv.base, retries=1, progress=False)
    assert status["available"] is False and "3bdf22d6f8e58621abd6b3601806f642" in status["reason"]
    assert sorted(p.name for p in out.iterdir()) == sorted(["status.json", F.METADATA_NAME])
    df, why = load_iwbd(out, "iwbd.csv")
    assert df is None and "3bdf22d6" in why
    # no network: the build goes on, the status says so
    off = tmp_path / "offline" / "iwbd"
    status = F.fetch_archive(src, off, mirror=None, server=closed_port_url("").rstrip("/"), retries=1,
                             progress=False)
    assert status["available"] is False and status["reason"]
    assert load_iwbd(off, "iwbd.csv")[0] is None
    assert load_iwbd(tmp_path / "never", "iwbd.csv") == (None, f"{tmp_path / 'never' / 'status.json'} is missing "
                                                               f"(IWBD was not fetched)")

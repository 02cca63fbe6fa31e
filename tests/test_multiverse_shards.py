"""The sharded multiverse (coalitions.multiverse_shards, rules multiverse_shard / multiverse_run).

What must hold: shards cover every universe exactly once, and keep the universes that share a data build
together; the gathered table and universes files, and the specification curves drawn from them, are
byte-identical whatever the number of shards (on the real data of the mirror); a gather that misses a
shard, or holds a universe twice, stops with a message; the config key is checked.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
import pytest
import yaml

from coalitions.multiverse import base_section, expand_universes, parse_study, required_tables, table_from_csv
from coalitions.multiverse_shards import gather_shards, run_shard, shard_count, shard_order, shard_universes
from coalitions.speccurve import plot_spec_curve
from coalitions.util import CoalitionsError, write_csv_atomic

MODELS = {"weisiger": "config/models/weisiger.yaml", "henke": "config/models/henke.yaml"}


@pytest.fixture(scope="module")
def raw(root: Path) -> dict:
    return yaml.safe_load((root / "config" / "multiverse.yaml").read_text())


def _small(raw: dict, study: str, names: list[str], root: Path):
    """The study's section with only the named switches (a multiverse small enough to run in a test)."""
    data = copy.deepcopy(raw[study])
    by_name = {s["name"]: s for s in data["switches"]}
    data["switches"] = [by_name[n] for n in names]
    return parse_study(study, data, root=root)


def test_the_config_key_is_checked() -> None:
    assert shard_count(4, "weisiger", 4096) == 4
    assert shard_count({"weisiger": 16}, "weisiger", 4096) == 16
    assert shard_count({"weisiger": 16}, "henke", 4096) == 1
    assert shard_count(50, "henke", 8) == 8  # never more shards than universes
    for bad in (0, -1, 2.5, "4", True):
        with pytest.raises(CoalitionsError, match="multiverse_shards"):
            shard_count(bad, "weisiger", 100)


def test_the_workflow_schema_rejects_a_bad_shard_setting(root: Path) -> None:
    import jsonschema

    schema = yaml.safe_load((root / "config" / "schema.yaml").read_text())
    base = yaml.safe_load((root / "config" / "config.yaml").read_text())
    jsonschema.validate({**base, "multiverse_shards": {"weisiger": 8, "henke": 2}}, schema)
    for bad in (0, "many", {"wiesiger": 2}, {"henke": 0}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**base, "multiverse_shards": bad}, schema)


@pytest.mark.parametrize("study", ["weisiger", "henke"])
@pytest.mark.parametrize("n", [1, 3, 7, 64])
def test_shards_cover_every_universe_once(root: Path, study: str, n: int) -> None:
    from coalitions.multiverse import load_multiverse

    sm = load_multiverse(root / "config" / "multiverse.yaml", root=root)[study]
    u = expand_universes(sm)
    shards = shard_universes(sm, u, n)
    assert len(shards) == min(n, len(u))
    ids = pd.concat([s["universe_id"] for s in shards])
    assert sorted(ids) == sorted(u["universe_id"]) and not ids.duplicated().any()
    sizes = [len(s) for s in shards]
    assert max(sizes) - min(sizes) <= 1
    # the same split every time (the shard files of two runs must mean the same universes)
    again = shard_universes(sm, expand_universes(sm), n)
    assert all(list(a["universe_id"]) == list(b["universe_id"]) for a, b in zip(shards, again))


def test_shards_keep_build_groups_together(raw, root: Path) -> None:
    """Weisiger: a switch applied after the build (world wars) varies fastest in the shard order, so a
    universe and its twin without the world wars (the same build) are neighbours and share a shard."""
    sm = _small(raw, "weisiger", ["exit_tolerance", "conquest", "world_wars"], root)
    order = shard_order(sm, expand_universes(sm))
    assert list(order["world_wars"]) == ["included", "excluded"] * 4
    for shard in shard_universes(sm, expand_universes(sm), 4):
        assert shard[["exit_tolerance", "conquest"]].drop_duplicates().shape[0] == 1


def _run(sm, n: int, tables, root: Path) -> list[pd.DataFrame]:
    kw = dict(tables={t: tables[t] for t in required_tables(sm, base_section(sm, folder=root / "config/codings"))},
              models_path=root / MODELS[sm.study], base=base_section(sm, folder=root / "config/codings"), root=root)
    if sm.study == "weisiger":
        from coalitions.weisiger.battle_periods import battle_case_files, battle_case_tables

        kw["tables"].update(battle_case_tables([root / f for f in battle_case_files()]))  # CDB90 actor mapping
        kw.update(cases_dir=root / "config" / "cases", archive_dir=None)
    else:
        kw.update(operations_path=root / "config/cases/henke_operations.csv",
                  contributors_path=root / "config/cases/henke_contributors.csv")
    return [run_shard(sm, i, n, **kw) for i in range(min(n, sm.n_universes))]


@pytest.mark.parametrize("study,names,n", [
    ("weisiger", ["exit_tolerance", "conquest", "world_wars"], 3),
    ("henke", ["embeddedness", "lag", "estimator"], 5),
])
def test_sharded_results_are_byte_identical_to_one_shard(raw, tables, root: Path, tmp_path: Path,
                                                         study: str, names: list[str], n: int) -> None:
    sm = _small(raw, study, names, root)
    files = {}
    for k in (1, n):
        table, universes = gather_shards(sm, _run(sm, k, tables, root))
        d = tmp_path / f"shards_{k}"
        write_csv_atomic(table, d / "multiverse.csv")
        write_csv_atomic(universes, d / "universes.csv")
        term = next(iter(sm.tracks.values())).terms[0]
        plot_spec_curve(table_from_csv(d / "multiverse.csv"), term, sm.switches, [d / "curve.png", d / "curve.svg"],
                        track=next(iter(sm.tracks)))
        files[k] = d
    for name in ("multiverse.csv", "universes.csv", "curve.png", "curve.svg"):
        assert (files[1] / name).read_bytes() == (files[n] / name).read_bytes(), name
    t = pd.read_csv(files[1] / "multiverse.csv")
    assert t["universe_id"].nunique() == sm.n_universes
    assert (t["status"] != "failed").all(), t.loc[t["status"] == "failed", ["universe_id", "message"]].to_string()


def test_a_gather_with_a_missing_or_repeated_shard_stops(raw, root: Path) -> None:
    from coalitions.multiverse import TABLE_COLUMNS

    sm = _small(raw, "henke", ["lag", "estimator"], root)
    u = expand_universes(sm)

    def fake(sub: pd.DataFrame) -> pd.DataFrame:  # rows of the right shape, no model fitted
        rows = pd.DataFrame({c: [None] * len(sub) for c in TABLE_COLUMNS})
        rows["universe_id"], rows["track"], rows["term"] = list(sub["universe_id"]), "rebuilt", "embeddedness"
        rows["is_baseline"] = list(sub["is_baseline"])
        for s in sm.switches:
            rows[s.name] = list(sub[s.name])
        return rows

    parts = [fake(s) for s in shard_universes(sm, u, 2)]
    table, universes = gather_shards(sm, parts)
    assert list(table["universe_id"]) == list(u["universe_id"]) and len(universes) == len(u)
    with pytest.raises(CoalitionsError, match="expected 4.*missing"):
        gather_shards(sm, parts[:1])
    with pytest.raises(CoalitionsError, match="duplicated"):
        gather_shards(sm, [parts[0], parts[0], parts[1]])
    with pytest.raises(CoalitionsError, match="columns"):
        gather_shards(sm, [parts[0].drop(columns=["lag"]), parts[1]])

"""Incremental models an earlier definition built are found from dbt's own manifest and rebuilt.

The fingerprints read dbt's manifest (node checksums, configuration, columns, macros and their
dependencies): these tests parse real projects, so they fail when dbt's manifest changes under us.
"""

import json
from pathlib import Path

import duckdb
import pytest
from dagster_dbt import DbtProject

from dagster_project.defs.dbt.resources import ensure_manifest
from dagster_project.incremental_models import STATE_TABLE, incremental_models, prepare_for_build, record_built, recorded_definitions
from dagster_project.warehouse import table_exists

PROJECT = {
    "dbt_project.yml": "name: shop\nversion: '1.0'\nprofile: shop\nmodel-paths: ['models']\nmacro-paths: ['macros']\n"
                       "seed-paths: ['seeds']\n",
    "profiles.yml": "shop:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: \"{{ env_var('SHOP_WAREHOUSE') }}\"\n",
    "seeds/currencies.csv": "currency,rate\nUSD,1.0\n",
    "macros/cents.sql": "{% macro cents(column) %}{{ column }} * 100{% endmacro %}",
    "models/orders.sql": "select 1 as order_id, 10.0 as amount",
    "models/daily_revenue.sql": "{{ config(materialized='incremental') }}\n"
                                "select sum({{ cents('amount') }}) as cents from {{ ref('orders') }} join {{ ref('currencies') }} on true",
    "models/profile_changes.sql": "{{ config(materialized='incremental') }} select order_id from {{ ref('orders') }}",
    "models/unrelated.sql": "select 2 as other",
    "models/_models.yml": "models:\n  - name: daily_revenue\n    description: Revenue per day.\n    columns:\n"
                          "      - {name: cents, data_type: double}\n"
                          "  - name: profile_changes\n    config:\n      meta: {history: observed}\n",
}
DAILY, PROFILE = "model.shop.daily_revenue", "model.shop.profile_changes"


def parsed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, changes: dict[str, str] | None = None, name: str = "v1") -> dict:
    """The dbt manifest (as JSON) of PROJECT with `changes` applied to its files."""
    folder = tmp_path / name
    for file, text in {**PROJECT, **(changes or {})}.items():
        (folder / file).parent.mkdir(parents=True, exist_ok=True)
        (folder / file).write_text(text)
    monkeypatch.setenv("SHOP_WAREHOUSE", str(tmp_path / "shop.duckdb"))
    project = DbtProject(project_dir=folder, target_path=folder / "target")
    return json.loads(ensure_manifest(project, tmp_path / "logs").read_text())


def fingerprints(manifest: dict) -> dict[str, str]:
    return {model.unique_id: model.fingerprint for model in incremental_models(manifest, manifest["nodes"])}


def test_only_incremental_models_are_fingerprinted_and_observed_history_is_marked(tmp_path, monkeypatch):
    models = incremental_models(manifest := parsed(tmp_path, monkeypatch), manifest["nodes"])
    assert [(m.unique_id, m.relation.split(".")[1], m.observed_history) for m in models] == [
        (DAILY, "daily_revenue", False), (PROFILE, "profile_changes", True)]


@pytest.mark.parametrize("change", [
    {"models/daily_revenue.sql": PROJECT["models/daily_revenue.sql"].replace("sum(", "max(")},
    {"models/orders.sql": "select 1 as order_id, 12.0 as amount"},  # upstream model
    {"seeds/currencies.csv": "currency,rate\nUSD,1.0\nEUR,1.1\n"},  # upstream seed
    {"macros/cents.sql": "{% macro cents(column) %}round({{ column }} * 100){% endmacro %}"},  # a project macro it calls
    {"models/_models.yml": PROJECT["models/_models.yml"].replace("data_type: double", "data_type: bigint")},  # its contract columns
], ids=["own SQL", "upstream model", "upstream seed", "project macro", "declared column type"])
def test_a_change_to_what_decides_a_models_rows_changes_its_fingerprint(tmp_path, monkeypatch, change):
    before, after = fingerprints(parsed(tmp_path, monkeypatch)), fingerprints(parsed(tmp_path, monkeypatch, change, "v2"))
    assert after[DAILY] != before[DAILY]


def test_documentation_and_unrelated_models_leave_the_fingerprint_alone(tmp_path, monkeypatch):
    before = fingerprints(parsed(tmp_path, monkeypatch))
    after = fingerprints(parsed(tmp_path, monkeypatch, {
        "models/unrelated.sql": "select 3 as other",
        "models/_models.yml": PROJECT["models/_models.yml"].replace("Revenue per day.", "Revenue per calendar day."),
    }, "v2"))
    assert after == before


def test_a_model_an_earlier_definition_built_is_dropped_for_a_rebuild_unless_its_history_is_observed(tmp_path, monkeypatch):
    manifest = parsed(tmp_path, monkeypatch)
    models = {model.unique_id: model for model in incremental_models(manifest, manifest["nodes"])}
    connection = duckdb.connect(str(tmp_path / "home.duckdb"))
    for model in models.values():
        connection.execute(f"CREATE TABLE {model.relation} AS SELECT 1 AS old_column")
    upstream = ["model.shop.orders", "seed.shop.currencies"]

    # A home from before definitions were recorded, its upstream just built by this version (a whole
    # run builds it in an earlier step): the replayable model goes, the observed one stays.
    record_built(connection, manifest, upstream)
    first = prepare_for_build(connection, models.values())
    assert [(c.model.unique_id, c.action) for c in first] == [(DAILY, "rebuilt"), (PROFILE, "kept")]
    assert "earlier" in first[0].message and "null on earlier rows" in first[1].message
    assert not table_exists(connection, models[DAILY].relation) and table_exists(connection, models[PROFILE].relation)

    # Built and recorded: nothing to do until a definition changes.
    connection.execute(f"CREATE TABLE {models[DAILY].relation} AS SELECT 1 AS cents")
    record_built(connection, manifest, [*upstream, DAILY, PROFILE], first)
    assert {node_id for node_id, (_, lineage) in recorded_definitions(connection).items() if lineage} == {DAILY, PROFILE}
    assert prepare_for_build(connection, models.values()) == []

    # An upgrade changes the upstream model. A run of the marts alone (a subset) finds orders still as the
    # earlier definition built it: replaying history through it would record old rows as new, so the mart
    # waits, unrecorded, and is appended to as before.
    changed = parsed(tmp_path, monkeypatch, {"models/orders.sql": "select 1 as order_id, 12.0 as amount"}, "v2")
    upgraded = {model.unique_id: model for model in incremental_models(changed, changed["nodes"])}
    waiting = prepare_for_build(connection, upgraded.values())
    assert [(c.model.unique_id, c.action, c.stale_upstream) for c in waiting] == [
        (DAILY, "waiting", ("model.shop.orders",)), (PROFILE, "kept", ())]
    assert "orders upstream still hold(s) what an earlier definition built" in waiting[0].message
    assert table_exists(connection, upgraded[DAILY].relation)
    record_built(connection, changed, [DAILY, PROFILE], waiting)
    assert recorded_definitions(connection)[DAILY][1] == models[DAILY].fingerprint != upgraded[DAILY].fingerprint

    # A build that makes orders itself before the mart replays the mart through it.
    assert [c.action for c in prepare_for_build(connection, upgraded.values(), building={"model.shop.orders"})] == ["rebuilt"]
    assert not table_exists(connection, upgraded[DAILY].relation)
    connection.execute(f"CREATE TABLE {upgraded[DAILY].relation} AS SELECT 1 AS cents")
    # So does the first run after an earlier one rebuilt orders.
    record_built(connection, changed, ["model.shop.orders"])
    rebuilt = prepare_for_build(connection, upgraded.values())
    assert [(c.model.unique_id, c.reason, c.action) for c in rebuilt] == [
        (DAILY, "its definition changed since its rows were built", "rebuilt")]
    assert not table_exists(connection, upgraded[DAILY].relation)
    assert connection.execute(f"SELECT count(*) FROM {STATE_TABLE}").fetchone() == (4,)

"""What the UI shows of a dbt asset: its description, its column types, its row count."""

from types import SimpleNamespace

import dagster as dg
import duckdb

from dagster_project.defs.dbt.row_counts import with_row_counts
from dagster_project.defs.platform import build_definitions
from dagster_project.settings import load_settings
from dagster_project.step_progress import StepProgress


def test_descriptions_are_the_models_own_and_seeds_have_typed_columns(cxp_home):
    graph = build_definitions(load_settings()).resolve_asset_graph()
    mart = graph.get(dg.AssetKey(["marts", "dim_customers"]))
    assert mart.description.startswith("One row per customer") and "Raw SQL" not in mart.description
    assert "select" in mart.metadata["dbt/sql"].value.lower()
    seed = graph.get(dg.AssetKey(["seeds", "survivorship_source_priority"]))
    assert "Raw SQL" not in seed.description
    types = {column.name: column.type for column in seed.metadata["dagster/column_schema"].columns}
    assert "?" not in types.values() and set(types) == {"attribute_group", "source", "priority"}


def test_built_tables_get_their_row_count_and_views_and_checks_are_left_alone(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("CREATE SCHEMA marts; CREATE TABLE marts.t AS SELECT range AS id FROM range(7); CREATE VIEW marts.v AS SELECT 1")
    manifest = {"nodes": {
        "model.cxp.t": {"unique_id": "model.cxp.t", "config": {"materialized": "table"}, "relation_name": '"warehouse"."marts"."t"'},
        "model.cxp.v": {"unique_id": "model.cxp.v", "config": {"materialized": "view"}, "relation_name": '"warehouse"."marts"."v"'},
    }}
    events = [dg.Output(None, "t", metadata={"unique_id": "model.cxp.t"}), dg.Output(None, "v", metadata={"unique_id": "model.cxp.v"}),
              dg.AssetCheckResult(asset_key="t", check_name="c", passed=True)]
    said = []
    progress = StepProgress(SimpleNamespace(info=said.append), total=2, unit="models")
    counted = list(with_row_counts(iter(events), manifest, lambda: duckdb.connect(str(warehouse)), progress))
    assert said[-1] == "progress: 2/2 models"
    assert counted[0].metadata["dagster/row_count"].value == 7
    assert "dagster/row_count" not in counted[1].metadata and counted[2] is events[2]

"""The in-process dbt build (defs/dbt/in_process_build.py) on a two-model project: it leans on dbt's
`dbtRunner(manifest=...)`, `Manifest.env_vars` and JSON event serialisation, dagster-dbt's event
conversion and subset selection, and dbt-duckdb's process-wide database; these tests fail when one changes."""

import contextlib
import itertools
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster_dbt import DbtProject, dbt_assets

from dagster_project.defs.dbt.in_process_build import DbtPaths, parsed_manifest
from dagster_project.defs.dbt.resources import InProcessDbt, ensure_manifest

PROJECT = {
    "dbt_project.yml": "name: tiny\nversion: '1.0'\nprofile: tiny\nmodel-paths: ['models']\n",
    # keep_open: dbt-duckdb would hold the file after the build but for the release.
    "profiles.yml": "tiny:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: \"{{ env_var('TINY_WAREHOUSE') }}\"\n"
                    "      threads: 1\n      keep_open: true\n",
    "models/orders.sql": "select * from (values (1, 10), (2, null)) as t(order_id, amount)",
    "models/order_totals.sql": "select sum(amount) as amount from {{ ref('orders') }}",
    # A model's YAML reading a variable: dbt records it in the Manifest.
    "models/_models.yml": "models:\n  - name: orders\n    columns:\n      - name: order_id\n        data_tests: [unique]\n"
                          "      - name: amount\n        data_tests:\n          - not_null:\n"
                          "              config: {severity: \"{{ env_var('TINY_SEVERITY', 'warn') }}\"}\n",
}


# Runs for a minute or more: only a stopped build ends soon. It reads the last model, so dbt starts it last.
SLOW_MODEL = "{{ config(materialized='table') }} select sum(hash(range)) as n from {{ ref('order_totals') }}, range(15000000000)"


def tiny_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: dict[str, str]) -> tuple[dg.AssetsDefinition, InProcessDbt, Path]:
    """The project's dbt assets (with `extra` files), the resource that builds them, and their warehouse."""
    for name, text in {**PROJECT, **extra}.items():
        (tmp_path / "project" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "project" / name).write_text(text)
    warehouse = tmp_path / "tiny.duckdb"
    monkeypatch.setenv("TINY_WAREHOUSE", str(warehouse))
    monkeypatch.delenv("TINY_SEVERITY", raising=False)
    project = DbtProject(project_dir=tmp_path / "project", target_path=tmp_path / "target")

    @dbt_assets(manifest=ensure_manifest(project, tmp_path / "logs"), project=project)
    def tiny_models(context: dg.AssetExecutionContext, dbt: InProcessDbt):
        with contextlib.closing(dbt.build(context).stream()) as events:
            if extra:
                # With a slow model: stop consuming once it runs (after the other models and their checks).
                yield from itertools.islice(events, 4)
                time.sleep(2)
            else:
                yield from events

    resource = InProcessDbt(project_dir=str(project.project_dir), profiles_dir=str(project.project_dir),
                            target_path=str(project.target_path), log_path=str(tmp_path / "logs"))
    return tiny_models, resource, warehouse


@pytest.fixture
def tiny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[dg.AssetsDefinition, InProcessDbt, Path]:
    return tiny_project(tmp_path, monkeypatch, {})


def test_dbt_events_become_dagster_dbts_materializations_and_check_results(tiny):
    assets, dbt, _ = tiny
    result = dg.materialize([assets], resources={"dbt": dbt})
    assert {event.asset_key.to_user_string() for event in result.get_asset_materialization_events()} == {"orders", "order_totals"}
    checks = {(evaluation.check_name, evaluation.passed, evaluation.severity) for evaluation in result.get_asset_check_evaluations()}
    assert checks == {("unique_orders_order_id", True, dg.AssetCheckSeverity.ERROR), ("not_null_orders_amount", False, dg.AssetCheckSeverity.WARN)}
    assert result.get_asset_materialization_events()[0].materialization.metadata["unique_id"].value.startswith("model.tiny.")


def test_a_subset_builds_only_its_models(tiny):
    assets, dbt, _ = tiny
    result = dg.materialize([assets], resources={"dbt": dbt}, selection=[dg.AssetKey("orders")])
    assert [event.asset_key for event in result.get_asset_materialization_events()] == [dg.AssetKey("orders")]


def test_after_a_build_the_warehouse_opens_with_another_configuration_and_from_another_process(tiny):
    assets, dbt, warehouse = tiny
    dg.materialize([assets], resources={"dbt": dbt})
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    assert DuckDBConnectionManager._ENV is None
    # DuckDB refuses a second configuration for a file this process still has open.
    with duckdb.connect(str(warehouse), config={"custom_user_agent": "cxp-test"}) as connection:
        assert connection.execute("select count(*) from main.orders").fetchone() == (2,)
    opened = subprocess.run([sys.executable, "-c", f"import duckdb; duckdb.connect({str(warehouse)!r}).execute('create table t as select 1')"])
    assert opened.returncode == 0


def test_an_error_severity_test_failure_fails_the_step_naming_the_test_and_skips_what_reads_the_model(tiny, monkeypatch):
    assets, dbt, _ = tiny
    monkeypatch.setenv("TINY_SEVERITY", "error")
    result = dg.materialize([assets], resources={"dbt": dbt}, raise_on_error=False)
    assert not result.success
    (failure,) = [event for event in result.all_events if event.event_type_value == "STEP_FAILURE"]
    assert "test.tiny.not_null_orders_amount" in failure.step_failure_data.error.message
    assert [event.asset_key for event in result.get_asset_materialization_events()] == [dg.AssetKey("orders")]


def test_the_manifest_is_parsed_once_until_a_file_or_a_variable_it_read_changes(tiny, tmp_path, monkeypatch):
    _, dbt, _ = tiny
    paths = DbtPaths(Path(dbt.project_dir), Path(dbt.profiles_dir), Path(dbt.target_path), Path(dbt.log_path))
    first = parsed_manifest(paths)
    assert parsed_manifest(paths) is first
    assert set(first.env_vars) == {"TINY_SEVERITY"}
    monkeypatch.setenv("TINY_SEVERITY", "error")  # read by a model's YAML
    second = parsed_manifest(paths)
    assert second is not first
    # The warehouse of another home with the same file name, and other target and log folders: the same parse.
    monkeypatch.setenv("TINY_WAREHOUSE", str(tmp_path / "another_home" / "tiny.duckdb"))
    elsewhere = DbtPaths(paths.project_dir, paths.profiles_dir, tmp_path / "another_target", tmp_path / "another_logs")
    assert parsed_manifest(elsewhere) is second
    monkeypatch.setenv("TINY_WAREHOUSE", str(tmp_path / "elsewhere.duckdb"))  # read by the profile: the nodes' database
    third = parsed_manifest(paths)
    assert third is not second and third.nodes["model.tiny.orders"].database == "elsewhere"
    model = Path(dbt.project_dir) / "models" / "orders.sql"
    model.write_text(model.read_text() + "\n")
    assert parsed_manifest(paths) is not third


def test_the_manifest_is_written_again_for_other_project_files_even_older_ones(tiny, tmp_path):
    _, dbt, _ = tiny
    project = DbtProject(project_dir=Path(dbt.project_dir), target_path=Path(dbt.target_path))
    manifest = ensure_manifest(project, tmp_path / "logs")
    written = manifest.stat().st_mtime_ns
    assert ensure_manifest(project, tmp_path / "logs").stat().st_mtime_ns == written  # the same files: kept
    # A file an upgrade installed with its build's time, older than the manifest the earlier version wrote.
    late = Path(dbt.project_dir) / "models" / "late.sql"
    late.write_text("select 1 as one")
    os.utime(late, (946684800, 946684800))
    assert "model.tiny.late" in json.loads(ensure_manifest(project, tmp_path / "logs").read_text())["nodes"]


def test_a_build_its_step_stops_consuming_is_stopped_and_frees_the_warehouse(tmp_path, monkeypatch):
    assets, dbt, warehouse = tiny_project(tmp_path, monkeypatch, {"models/slow.sql": SLOW_MODEL})
    started = time.monotonic()
    result = dg.materialize([assets], resources={"dbt": dbt}, raise_on_error=False)
    assert time.monotonic() - started < 20
    assert [event.asset_key for event in result.get_asset_materialization_events()] == [dg.AssetKey("orders"), dg.AssetKey("order_totals")]
    assert "dbt build" not in [thread.name for thread in threading.enumerate()]
    opened = subprocess.run([sys.executable, "-c", f"import duckdb; duckdb.connect({str(warehouse)!r}).execute('select 1')"])
    assert opened.returncode == 0

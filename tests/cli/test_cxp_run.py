"""`cxp run --landing DIR` on hand-written exports: real Dagster, real DuckDB, real dbt."""

import json
import re
import shutil
import subprocess
import sys

import dagster as dg
import duckdb
import pytest
from click.testing import CliRunner
from dagster._core.instance.ref import InstanceRef

from dagster_project.cli import main
from tests.cli.cxp_process import claimed_warehouse_slots, cxp_run, start_cxp_run_until_a_raw_step, unfinished_cxp_runs
from tests.conftest import FIXTURES, query
from tests.dbt.conftest import invoke_dbt

pytestmark = pytest.mark.slow(minutes=4)

LANDING = FIXTURES / "hand_written_landing"


@pytest.fixture(scope="module")
def first_and_second_run(tmp_path_factory):
    """The pipeline run twice over the same landing directory, with a table snapshot after each run."""
    monkeypatch = pytest.MonkeyPatch()
    home = tmp_path_factory.mktemp("cxp-home")
    for name in ("CXP_LANDING", "CXP_WAREHOUSE_PATH", "CXP_PARTITION_START", "DBT_TARGET_PATH", "DBT_LOG_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CXP_HOME", str(home))
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
    outputs, snapshots = [], []
    for _ in range(2):
        result = CliRunner().invoke(main, ["run", "--landing", str(LANDING)], catch_exceptions=False)
        outputs.append(result)
        snapshots.append(snapshot(home / "warehouse.duckdb"))
    yield home, outputs, snapshots
    monkeypatch.undo()


def snapshot(warehouse) -> dict[str, list[tuple]]:
    tables = query(warehouse, "select table_schema, table_name from information_schema.tables where table_schema in ('raw', 'staging')")
    return {
        f"{schema}.{table}": query(warehouse, f'select * exclude (_loaded_at) from "{schema}"."{table}" order by all')
        if schema == "raw" and table != "load_ledger" else query(warehouse, f'select count(*) from "{schema}"."{table}"')
        for schema, table in tables
    }


def test_run_succeeds_and_reports_the_warehouse_and_row_counts_per_staged_table(first_and_second_run):
    home, outputs, _ = first_and_second_run
    output = outputs[0].output
    assert outputs[0].exit_code == 0, output
    assert f"Warehouse {home / 'warehouse.duckdb'}" in output
    # José (one contact, order 1004, ticket 502, two email events) asked to be erased in the same files.
    assert re.search(r"staging\.stg_salesforce__contacts +2 rows", output)
    assert re.search(r"staging\.stg_shopify__orders +3 rows", output)
    assert "Quarantined rows (raw.quarantine): crm_contacts 1" in output
    # The erasure runs after the night's identity resolution: a first load completes it too.
    assert re.search(r"Privacy: 1 erasure request\(s\) carried out, [1-9]\d* rows deleted \(", output)
    assert "in part" not in output and "Privacy:" not in outputs[1].output


def test_runs_belong_to_the_pipeline_job_partitions_start_at_the_first_delivered_day_and_marts_show_rows(first_and_second_run):
    home, outputs, _ = first_and_second_run
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home / "dagster"))) as instance:
        runs = instance.get_runs(filters=dg.RunsFilter(job_name="cxp_pipeline", tags={".dagster/repository": "__repository__@cxp"}))
        assert len(runs) == 2 and all(run.remote_job_origin.location_name == "cxp" for run in runs)
        first_day = min(path.stem.rsplit("_", 1)[1] for path in LANDING.rglob("*_????-??-??.*"))
        raw_days = {record.partition_key for record in instance.fetch_materializations(dg.AssetKey(["raw", "crm_contacts"]), limit=1000).records}
        assert min(raw_days) == first_day
        # dbt tables carry their size.
        (mart,) = instance.fetch_materializations(dg.AssetKey(["marts", "dim_customers"]), limit=1).records
        counted = mart.asset_materialization.metadata["dagster/row_count"].value
        assert [(counted,)] == query(home / "warehouse.duckdb", "select count(*) from marts.dim_customers")
    assert (home / "dagster" / "first_extract_date").read_text().strip() == first_day


def test_a_second_run_over_the_same_files_changes_nothing(first_and_second_run):
    _, outputs, snapshots = first_and_second_run
    assert outputs[1].exit_code == 0, outputs[1].output
    assert snapshots[1] == snapshots[0]
    assert snapshots[1]["raw.privacy_erasure_requests"] == []


def test_after_a_run_in_this_process_another_process_can_write_the_warehouse(first_and_second_run):
    # dbt builds inside the run's process: it must have closed the file, lock included.
    home, _, _ = first_and_second_run
    written = subprocess.run([sys.executable, "-c", "import duckdb, sys; duckdb.connect(sys.argv[1]).execute('checkpoint')",
                              str(home / "warehouse.duckdb")], capture_output=True, text=True)
    assert written.returncode == 0, written.stderr


def test_the_person_who_asked_to_be_erased_is_gone_and_the_audit_log_says_so(first_and_second_run):
    warehouse = first_and_second_run[0] / "warehouse.duckdb"
    assert query(warehouse, "SELECT count(*) FROM marts.dim_customers WHERE email = 'jose@example.es' OR last_name = 'García'") == [(0,)]
    assert query(warehouse, "SELECT count(*) FROM staging.stg_zendesk__tickets WHERE ticket_id = 502") == [(0,)]
    assert query(warehouse, "SELECT request_id, outcome FROM privacy.erasure_requests_processed") == [("ER-0001", "erased")]
    locations = {location for (location,) in query(warehouse, "SELECT location FROM privacy.erasure_audit_log")}
    assert {"raw.crm_contacts", "raw.ecommerce_orders", "raw.email_events", "raw.support_tickets", "raw.privacy_erasure_requests"} <= locations


def test_the_unparseable_contact_row_is_quarantined_with_file_line_and_reason(first_and_second_run):
    home, _, _ = first_and_second_run
    assert query(home / "warehouse.duckdb", "select _source_file, _line_number, reason from raw.quarantine where source = 'crm_contacts'") == [
        ("crm/contacts_2024-03-05.csv", 4, "'Last Modified Date' value '05/03/2024 12:00' is not in the contract format "
         "(ISO 8601 UTC timestamp like 2024-03-05T10:15:00.000Z)"),
    ]


def test_staging_holds_the_current_version_of_each_record(first_and_second_run):
    warehouse = first_and_second_run[0] / "warehouse.duckdb"
    # Ann moved and opted out of email in the second CRM file; the first file's version is history.
    assert query(warehouse, "select mailing_city, is_email_opted_out, email_normalized, phone_e164 from staging.stg_salesforce__contacts "
                 "where contact_id = '0035g00000AbCdEAAV'") == [("Oakland", True, "ann.lee@example.com", "+14155550132")]
    # Order 1001 was re-issued after a refund: the later file wins, and its two line items are not doubled.
    assert query(warehouse, "select financial_status, refunded_amount, line_count from staging.stg_shopify__orders where order_id = 1001") == [
        ("partially_refunded", 20, 2)
    ]
    assert query(warehouse, "select count(*) from staging.stg_shopify__order_lines where order_id = 1001") == [(2,)]
    # The webhook retried evt-004 three times across two files.
    assert query(warehouse, "select count(*) from staging.stg_sendgrid__events where event_id = 'evt-004'") == [(1,)]
    assert query(warehouse, "select status, satisfaction_score from staging.stg_zendesk__tickets where ticket_id = 501") == [("solved", "bad")]


def test_amounts_are_converted_to_usd_and_test_orders_flagged(first_and_second_run):
    warehouse = first_and_second_run[0] / "warehouse.duckdb"
    rows = query(warehouse, "select order_id, round(total_amount_usd, 2)::double, is_test_order from staging.stg_shopify__orders order by 1")
    # 1002: EUR 60.00 at 1.0850. (1004, in GBP, was José's: erased.)
    assert rows == [(1001, 91.4, False), (1002, 65.1, False), (1003, 10.0, True)]


def test_a_run_killed_mid_step_is_released_by_the_next_which_ends_with_a_clean_runs_tables(first_and_second_run, tmp_path):
    _, _, snapshots = first_and_second_run
    home = tmp_path / "killed"
    # SIGKILL: nothing of the run executes again, while a raw step holds the warehouse pool's one slot.
    killed, _ = start_cxp_run_until_a_raw_step(home)
    killed.kill()
    killed.wait(timeout=60)
    (abandoned,) = unfinished_cxp_runs(home)

    rerun = cxp_run(home)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    assert f"Released run {abandoned.run_id}" in rerun.stdout
    # A whole run in its own process, as users start it: no Python warning reaches the terminal.
    assert not re.search(r"\w*Warning\b", rerun.stdout + rerun.stderr), rerun.stdout + rerun.stderr
    assert unfinished_cxp_runs(home) == [] and claimed_warehouse_slots(home) == []
    assert snapshot(home / "warehouse.duckdb") == snapshots[0]
    # Nothing a cxp process wrote is open to other users: the warehouse, Dagster's storage, logs, models.
    opened = [str(path.relative_to(home)) for path in [home, *home.rglob("*")] if path.stat().st_mode & 0o077]
    assert opened == []


def test_a_damaged_warehouse_stops_the_run_untouched_and_restore_brings_it_back(first_and_second_run, tmp_path, monkeypatch):
    import shutil

    home = tmp_path / "home"
    shutil.copytree(first_and_second_run[0], home)
    monkeypatch.setenv("CXP_HOME", str(home))
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
    warehouse = home / "warehouse.duckdb"
    # The second run snapshotted the first run's warehouse before it wrote.
    assert CliRunner().invoke(main, ["restore", "--list"]).output.count("warehouse-") == 1
    with open(warehouse, "r+b") as file:  # cut short, as a full disk or a stopped copy leaves it
        file.truncate(warehouse.stat().st_size // 3)
    damaged = warehouse.read_bytes()

    refused = CliRunner().invoke(main, ["run", "--landing", str(LANDING)])
    assert refused.exit_code == 1
    assert f"The warehouse {warehouse} is damaged and was not touched" in refused.output and "`cxp restore` puts back" in refused.output
    assert warehouse.read_bytes() == damaged and "Run " not in refused.output  # no Dagster run started

    restored = CliRunner().invoke(main, ["restore"])
    assert restored.exit_code == 0 and "the replaced file is" in restored.output, restored.output
    rerun = CliRunner().invoke(main, ["run", "--landing", str(LANDING)], catch_exceptions=False)
    assert rerun.exit_code == 0, rerun.output
    assert snapshot(warehouse) == first_and_second_run[2][0]


def test_a_run_that_runs_out_of_room_ends_with_one_message(tmp_path):
    import resource
    import signal
    import subprocess

    from tests.cli.cxp_process import CXP, RUN_TIMEOUT_SECONDS, cxp_environment

    def at_most_three_megabytes_per_file():  # a full disk, as `ulimit -f` makes one: writes past it fail (EFBIG)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (3_000_000, 3_000_000))

    home = tmp_path / "home"
    full = subprocess.run([CXP, "run"], env=cxp_environment(home), capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS,
                          preexec_fn=at_most_three_megabytes_per_file)
    assert full.returncode == 1, full.stdout[-2000:]
    assert f"The disk holding {home} is full" in full.stderr and "file-size limit" in full.stderr, full.stderr[-3000:]
    assert "Traceback" not in full.stderr and "leaked" not in full.stderr
    # Nothing it started outlives it (a dbt build left running would hold the warehouse's lock).
    import psutil

    def holds_the_warehouse(process: psutil.Process) -> bool:
        try:
            return any(f.path.startswith(str(home / "warehouse.duckdb")) for f in process.open_files())
        except (psutil.AccessDenied, psutil.NoSuchProcess):
            return False

    assert [p.cmdline() for p in psutil.process_iter() if holds_the_warehouse(p)] == []


def test_an_assignment_log_is_matched_to_customers_and_what_it_cannot_use_is_counted_and_said(first_and_second_run):
    home, outputs, snapshots = first_and_second_run
    warehouse = home / "warehouse.duckdb"
    # A row without a timestamp and one with a timestamp off the contract's format: quarantined with the reason.
    reasons = [reason for (reason,) in query(warehouse, "select reason from raw.quarantine where source = 'experiment_assignments'")]
    assert len(reasons) == 2 and all("'timestamp'" in reason for reason in reasons)
    # Ann was logged in control by two spellings of her email and by the Contact ID of Anne, whom identity
    # resolution joins to her (same phone and address); Anne's email was logged in discount_10. One
    # customer in two arms: a defect of the tool, kept with its reason and left out of the analysis.
    assert query(warehouse, "select variation_id, arms, exposures, is_analyzable, exclusion_reason from marts.fct_experiment_assignments") == [
        ("control", ["control", "discount_10"], 4, False, "in 2 arms")]
    assert query(warehouse, "select logged_rows, unknown_id_rows, customers, analyzable_customers, customers_in_several_arms "
                            "from marts.experiment_log_summary") == [(5, 1, 1, 0, 1)]
    # José asked to be erased in the same delivery: his assignment went with the rest of him.
    assert query(warehouse, "select count(*) from raw.experiment_assignments where lower(user_id) like '%jose%'") == [(0,)]
    report = json.loads((home / "measurement" / "spring-offer-2024" / "report.json").read_text())
    assert report["skipped"] == "no customer left to analyze (1 rows with an id no record carries; 1 customers logged in more than one arm)"
    assert snapshots[1]["raw.experiment_assignments"] == snapshots[0]["raw.experiment_assignments"]


def test_the_dbt_unit_tests_the_nightly_build_leaves_out_pass_on_a_built_warehouse(first_and_second_run, tmp_path, monkeypatch):
    """The nightly build leaves dbt's unit tests out, as dbt advises for production builds; they run here,
    on a copy of a warehouse the pipeline built (dbt reads their models' inputs' column types from it)."""
    home, outputs, snapshots = first_and_second_run
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(home / "warehouse.duckdb", warehouse)
    monkeypatch.setenv("CXP_WAREHOUSE_PATH", str(warehouse))
    result = invoke_dbt(["test", "--select", "test_type:unit"], tmp_path)
    outcomes = {result.node.name: str(result.status) for result in result.result or []}
    assert result.success and len(outcomes) >= 10, (result.exception, outcomes)
    assert set(outcomes.values()) == {"pass"}


def test_a_home_an_earlier_version_built_is_upgraded_by_the_next_run_rebuilding_what_history_can_replay(first_and_second_run, tmp_path,
                                                                                                          monkeypatch):
    built, _, _ = first_and_second_run
    home = tmp_path / "home"
    shutil.copytree(built, home)
    monkeypatch.setenv("CXP_HOME", str(home))
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
    warehouse = home / "warehouse.duckdb"
    email, profile = "features.customer_email_features", "features.customer_profile_features"
    fresh_email = query(built / "warehouse.duckdb", f"select * from {email} order by all")
    profile_rows = query(built / "warehouse.duckdb", f"select customer_id, snapshot_date from {profile} order by all")
    assert fresh_email and profile_rows
    # As an earlier version left them: a column it did not have, values its formula gave, and no record of
    # either definition.
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(f"alter table {email} drop column campaign_deliveries_lifetime")
        connection.execute(f"update {email} set deliveries_90d = deliveries_90d + 1")
        connection.execute(f"alter table {profile} drop column is_personalization_opted_out")
        # The earlier definition's digest of the values, which did not include the column.
        connection.execute(f"create temp table earlier as select customer_id, snapshot_date, md5(cast(row("
                           f"*columns(* exclude (customer_id, snapshot_date, event_timestamp, feature_hash))) as varchar)) as digest from {profile}")
        connection.execute(f"update {profile} as p set feature_hash = e.digest from earlier as e "
                           "where e.customer_id = p.customer_id and e.snapshot_date = p.snapshot_date")
        connection.execute("delete from platform.dbt_node_definitions where unique_id like '%.customer_%_features'")

    upgraded = CliRunner().invoke(main, ["run", "--landing", str(LANDING)], catch_exceptions=False)
    assert upgraded.exit_code == 0, upgraded.output
    # Email features are replayed from the raw history: exactly what a fresh home holds.
    assert query(warehouse, f"select * from {email} order by all") == fresh_email
    # The profile's observed history stays; each customer's current row has the column it gained,
    # earlier rows hold it as null.
    assert set(profile_rows) <= set(query(warehouse, f"select customer_id, snapshot_date from {profile}"))
    current = f"select * from {profile} qualify row_number() over (partition by customer_id order by snapshot_date desc) = 1"
    assert query(warehouse, f"select count(*) from ({current}) where is_personalization_opted_out is null") == [(0,)]
    assert query(warehouse, f"select count(*) > 0 from {profile} where is_personalization_opted_out is null") == [(True,)]
    log = upgraded.output
    assert f"{email}: built before cxp recorded model definitions, so by an earlier one; dropped" in log
    assert f"{profile}: built before cxp recorded model definitions" in log and "null on earlier rows" in log

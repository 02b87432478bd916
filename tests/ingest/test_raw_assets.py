"""Ingestion through Dagster: partitions load idempotently, bad files fail alone, nothing is lost."""

import io
import logging
from datetime import date, datetime, timezone

import dagster as dg

from dagster_project.cli.progress import ProgressHandler
from dagster_project.ingest.extract_dates import first_partition_date
from tests.ingest.test_readers import CONTACT_HEADER, GOOD_CONTACT

CRM_DAY = "crm/contacts_2024-03-05.csv"
SECOND_CONTACT = GOOD_CONTACT.replace("AbCdEAAV", "ZyXwVAAV")


def materialized_partitions(result: dg.ExecuteInProcessResult, key: str) -> list[str | None]:
    return [
        event.event_specific_data.materialization.partition
        for event in result.all_events
        if event.event_type_value == "ASSET_MATERIALIZATION" and event.asset_key.to_user_string() == key
    ]


def test_a_partition_loads_with_lineage_and_counts_in_metadata(platform):
    platform.deliver(CRM_DAY, f"{CONTACT_HEADER}\n{GOOD_CONTACT}\n,no id,,,,,,,,,,,,,0,0,,2024-03-05T10:15:00.000Z,0\n")
    result = platform.ingest("2024-03-05", selection="raw/crm_contacts")
    assert result.success
    assert platform.query('select "Contact ID", _extract_date::varchar, _source_file, _line_number from raw.crm_contacts') == [
        ("0035g00000AbCdEAAV", "2024-03-05", CRM_DAY, 2)
    ]
    assert platform.query("select source, _source_file, _line_number, reason from raw.quarantine") == [
        ("crm_contacts", CRM_DAY, 3, "required column 'Contact ID' is missing or empty")
    ]
    metadata = result.asset_materializations_for_node("raw__crm_contacts")[0].metadata
    assert (metadata["file"].value, metadata["dagster/row_count"].value, metadata["rows_quarantined"].value) == (CRM_DAY, 1, 1)


def test_materializing_a_partition_again_does_not_duplicate_rows(platform):
    platform.deliver(CRM_DAY, f"{CONTACT_HEADER}\n{GOOD_CONTACT}\n{SECOND_CONTACT}\n")
    assert platform.ingest("2024-03-05", selection="raw/crm_contacts").success
    assert platform.ingest("2024-03-05", selection="raw/crm_contacts").success
    assert platform.query("select count(*) from raw.crm_contacts") == [(2,)]
    assert platform.query("select count(*) from raw.load_ledger") == [(1,)]


def test_a_corrected_redelivery_replaces_its_partition_and_leaves_other_days_alone(platform):
    platform.deliver(CRM_DAY, f"{CONTACT_HEADER}\n{GOOD_CONTACT}\n,broken,,,,,,,,,,,,,0,0,,2024-03-05T10:15:00.000Z,0\n")
    platform.deliver("crm/contacts_2024-03-06.csv", f"{CONTACT_HEADER}\n{GOOD_CONTACT}\n")
    assert platform.ingest("2024-03-05", "2024-03-06", selection="raw/crm_contacts").success
    platform.deliver(CRM_DAY, f"{CONTACT_HEADER}\n{GOOD_CONTACT}\n{SECOND_CONTACT}\n")
    assert platform.ingest("2024-03-05", selection="raw/crm_contacts").success
    assert platform.query('select _extract_date::varchar, "Contact ID" from raw.crm_contacts order by all') == [
        ("2024-03-05", "0035g00000AbCdEAAV"), ("2024-03-05", "0035g00000ZyXwVAAV"), ("2024-03-06", "0035g00000AbCdEAAV"),
    ]
    assert platform.query("select count(*) from raw.quarantine") == [(0,)]


def test_a_file_breaking_the_contract_fails_its_partition_and_keeps_what_was_loaded_before(platform):
    path = platform.deliver(CRM_DAY, f"{CONTACT_HEADER}\n{GOOD_CONTACT}\n")
    assert platform.ingest("2024-03-05", selection="raw/crm_contacts").success
    platform.deliver(CRM_DAY, f"{CONTACT_HEADER.replace(',', ';')}\n{GOOD_CONTACT.replace(',', ';')}\n")
    result = platform.ingest("2024-03-05", selection="raw/crm_contacts")
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert f"{path}: missing required column(s)" in failure.event_specific_data.error_display_string
    assert "semicolon-delimited" in failure.event_specific_data.error_display_string
    assert platform.query('select "Contact ID" from raw.crm_contacts') == [("0035g00000AbCdEAAV",)]


def test_in_a_range_run_a_bad_file_fails_alone_and_good_days_are_recorded_as_materialized(platform):
    platform.deliver("crm/contacts_2024-03-04.csv", f"{CONTACT_HEADER}\n{GOOD_CONTACT}\n")
    platform.deliver(CRM_DAY, b"\x00\x01binary")
    platform.deliver("crm/contacts_2024-03-06.csv", f"{CONTACT_HEADER}\n{SECOND_CONTACT}\n")
    result = platform.ingest("2024-03-04", "2024-03-06", selection="raw/crm_contacts")
    assert not result.success
    assert materialized_partitions(result, "raw/crm_contacts") == ["2024-03-04", "2024-03-06"]
    assert platform.query("select _extract_date::varchar from raw.crm_contacts order by 1") == [("2024-03-04",), ("2024-03-06",)]


def test_each_partition_describes_its_own_day_and_a_day_without_a_file_is_observed_as_such(platform):
    platform.deliver("crm/contacts_2024-03-04.csv", f"{CONTACT_HEADER}\n{GOOD_CONTACT}\n{SECOND_CONTACT}\n")
    platform.deliver("crm/contacts_2024-03-06.csv", f"{CONTACT_HEADER}\n{GOOD_CONTACT}\n")
    result = platform.ingest("2024-03-04", "2024-03-06", selection="raw/crm_contacts")
    assert result.success
    by_day = {m.partition: {k: v.value for k, v in m.metadata.items()} for m in result.asset_materializations_for_node("raw__crm_contacts")}
    assert {day: (m["file"], m["dagster/row_count"]) for day, m in by_day.items()} == {
        "2024-03-04": ("crm/contacts_2024-03-04.csv", 2), "2024-03-05": ("no file delivered", 0), "2024-03-06": ("crm/contacts_2024-03-06.csv", 1),
    }
    observations = [e.event_specific_data.asset_observation for e in result.all_events if e.event_type_value == "ASSET_OBSERVATION"]
    assert [(o.partition, o.metadata["file"].value) for o in observations] == [("2024-03-05", "no file delivered")]
    assert platform.query("select count(*) from raw.crm_contacts") == [(3,)]


def test_every_raw_table_exists_even_for_a_source_that_never_delivered(platform):
    platform.deliver(CRM_DAY, f"{CONTACT_HEADER}\n{GOOD_CONTACT}\n")
    assert platform.ingest("2024-03-05", selection="raw/crm_contacts").success
    tables = {name for (name,) in platform.query("select table_name from information_schema.tables where table_schema = 'raw'")}
    assert {"support_tickets", "email_events", "ecommerce_orders", "privacy_erasure_requests", "quarantine"} <= tables
    assert platform.query("select count(*) from raw.support_tickets") == [(0,)]


def test_a_zero_byte_redelivery_never_empties_a_loaded_day_and_a_zero_byte_day_is_reported(platform):
    platform.deliver(CRM_DAY, f"{CONTACT_HEADER}\n{GOOD_CONTACT}\n")
    assert platform.ingest("2024-03-05", selection="raw/crm_contacts").success
    path = platform.deliver(CRM_DAY, b"")
    result = platform.ingest("2024-03-05", selection="raw/crm_contacts")
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert f"{path}: zero bytes, where the earlier delivery of 2024-03-05 holds 1 rows" in failure.event_specific_data.error_display_string
    assert platform.query('select "Contact ID" from raw.crm_contacts') == [("0035g00000AbCdEAAV",)]
    # A header-only file is the contract's empty day: it does replace the day.
    platform.deliver(CRM_DAY, f"{CONTACT_HEADER}\n")
    assert platform.ingest("2024-03-05", selection="raw/crm_contacts").success
    assert platform.query("select count(*) from raw.crm_contacts") == [(0,)]
    # A first delivery of zero bytes loads as a day with nothing, and says so.
    platform.deliver("crm/contacts_2024-03-06.csv", b"")
    result = platform.ingest("2024-03-06", selection="raw/crm_contacts")
    assert result.success
    assert "zero bytes" in result.asset_materializations_for_node("raw__crm_contacts")[0].metadata["note"].value


def test_a_raw_step_that_fails_is_never_shown_with_a_check_mark(platform):
    platform.deliver("crm/contacts_2024-03-04.csv", f"{CONTACT_HEADER}\n{GOOD_CONTACT}\n")
    platform.deliver(CRM_DAY, b"\x00\x01binary")
    result = platform.ingest("2024-03-04", "2024-03-05", selection="raw/crm_contacts")
    lines = [ProgressHandler._describe(event) for event in result.all_events if event.event_type_value == "ASSET_MATERIALIZATION"]
    assert lines == ["  · raw/crm_contacts: the days that loaded are kept; the step fails on the files below"]


def test_the_progress_line_of_a_range_run_adds_up_its_days(platform):
    platform.deliver("crm/contacts_2024-03-04.csv", f"{CONTACT_HEADER}\n{GOOD_CONTACT}\n{SECOND_CONTACT}\n")
    platform.deliver("crm/contacts_2024-03-06.csv", f"{CONTACT_HEADER}\n{GOOD_CONTACT}\n")
    result = platform.ingest("2024-03-04", "2024-03-06", selection="raw/crm_contacts")
    stream = io.StringIO()
    handler = ProgressHandler(stream, [])
    for event in result.all_events:
        handler.emit(logging.makeLogRecord({"dagster_meta": {"dagster_event": event}}))
    assert [line.split("] ", 1)[1] for line in stream.getvalue().splitlines() if "✓" in line] == [
        "  ✓ raw/crm_contacts  (2 file(s), 3 rows, no file for 2024-03-05)"]


def test_partitions_start_at_the_first_delivered_day_and_keep_it_when_old_files_go(tmp_path):
    landing, state = tmp_path / "landing", tmp_path / "state"
    assert first_partition_date(landing, state) == datetime.now(timezone.utc).date()
    for name in ("crm/contacts_2024-03-04.csv", "email/events_2024-02-27.jsonl"):
        (landing / name).parent.mkdir(parents=True, exist_ok=True)
        (landing / name).write_text("")
    assert first_partition_date(landing, state) == date(2024, 2, 27)
    (landing / "email/events_2024-02-27.jsonl").unlink()
    assert first_partition_date(landing, state) == date(2024, 2, 27)
    assert first_partition_date(landing, state, pinned=date(2024, 1, 1)) == date(2024, 1, 1)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_long_step_draws_a_progress_bar_on_a_terminal_and_nothing_in_a_log_file(platform):
    for day in range(1, 4):
        platform.deliver(f"crm/contacts_2024-03-0{day}.csv", f"{CONTACT_HEADER}\n{GOOD_CONTACT}\n")
    result = platform.ingest("2024-03-01", "2024-03-03", selection="raw/crm_contacts")
    records = [logging.makeLogRecord({"dagster_meta": {"dagster_event": event}}) for event in result.all_events]
    # The step says how far it is in its run log (which the UI shows too).
    assert "progress: 3/3 days" in [entry.user_message for entry in platform.instance.all_logs(result.run_id)]
    terminal, log_file = _Terminal(), io.StringIO()
    for stream in (terminal, log_file):
        handler = ProgressHandler(stream, [])
        handler.emit(logging.makeLogRecord({"dagster_meta": {"orig_message": "progress: 2/3 days", "step_key": "raw__crm_contacts"},
                                            "levelno": logging.INFO}))
        for record in records:
            handler.emit(record)
    assert "▶ raw__crm_contacts  ████████████████░░░░░░░░  2/3 days" in terminal.getvalue()
    # The next line is written over the bar.
    assert "2/3 days\r\x1b[K[" in terminal.getvalue()
    assert "progress" not in log_file.getvalue() and "█" not in log_file.getvalue()

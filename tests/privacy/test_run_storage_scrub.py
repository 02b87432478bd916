"""Erasure in Dagster's run history: a real instance's SQLite storage, written by a real run, scrubbed
of a person's identifiers; Dagster still reads every event afterwards. Fails when Dagster changes
how it stores events (the layout `privacy/run_storage.py` relies on)."""

import dagster as dg

from dagster_project.privacy.run_storage import ERASED, scrub_run_storage

EMAIL = "Ada.Lovelace@Example.org"
OTHER = "grace@example.org"


@dg.asset
def contacts(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    context.log.info(f"loaded sendgrid_recipient:{EMAIL.lower()} and sendgrid_recipient:{OTHER}")
    table = ("| file | line | record |\n|---|---|---|\n"
             f'| a.csv | 3 | {{"Email": "{EMAIL}", "First Name": "Ada", "Last Name": "Lovelace", "Mailing Street": "12 Analytical Row"}} |\n'
             f'| a.csv | 4 | {{"Email": "{OTHER}", "First Name": "Grace"}} |')
    return dg.MaterializeResult(metadata={"offending_rows": dg.MetadataValue.md(table), "ids": dg.MetadataValue.json(["cus_1234", "cus_12345"]),
                                          "rows": 2})


def _all_bytes(home) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(home.rglob("*")) if path.is_file())


def test_a_persons_identifiers_leave_dagsters_storage_and_dagster_still_reads_it(tmp_path):
    home = tmp_path / "dagster"
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        result = dg.materialize([contacts], instance=instance)
        assert result.success
        before = _all_bytes(home)
        assert EMAIL.encode() in before and b"12 Analytical Row" in before and b"cus_1234" in before

        changed = scrub_run_storage(home, [EMAIL.lower(), "cus_1234"])

        assert changed and all(rows > 0 for rows in changed.values())
        after = _all_bytes(home)
        for trace in (EMAIL.encode(), EMAIL.lower().encode(), b"12 Analytical Row", b"Lovelace", b"cus_1234\""):
            assert trace not in after, trace
        # Only the lines that held the person: the other contact, the longer id and the counts stay.
        assert OTHER.encode() in after and b"cus_12345" in after and ERASED.encode() in after
        # Dagster reads the scrubbed events as before.
        materialization = instance.get_latest_materialization_event(dg.AssetKey("contacts")).asset_materialization
        assert materialization.metadata["rows"].value == 2
        assert EMAIL not in materialization.metadata["offending_rows"].value
        assert OTHER in materialization.metadata["offending_rows"].value
        logs = [record.event_log_entry.user_message for record in instance.get_records_for_run(result.run_id).records]
        assert any(ERASED in message and OTHER in message for message in logs) is False  # the log line held both: erased whole
        assert any(message == ERASED or message.endswith(ERASED) for message in logs)

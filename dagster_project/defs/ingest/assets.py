"""One daily-partitioned raw asset per export kind: landing file → DuckDB `raw.<kind>`."""


import warnings
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from dagster_project.defs.ingest.resources import LandingZone
from dagster_project.defs.privacy.resources import SuppressionSalt
from dagster_project.defs.quality.resources import QualityGatesParam
from dagster_project.ingest.contracts import SOURCE_CONTRACTS, SourceContract
from dagster_project.ingest.raw_tables import DeliveredFile, LoadedPartition, create_raw_tables, partition_rows, replace_partitions
from dagster_project.ingest.readers import ContractViolation, read_export
from dagster_project.step_progress import StepProgress

_BATCH_ROWS = 250_000
"""Files are written to the warehouse in batches of about this many rows, one transaction each."""

WAREHOUSE_POOL = "warehouse"
"""DuckDB allows one writing process per file: every asset that writes the warehouse joins this pool."""


# Metadata of a day that loaded in a raw step that then failed on other files.
LOADED_BEFORE_FAILURE = "loaded_before_the_step_failed"


def raw_asset_key(contract: SourceContract) -> dg.AssetKey:
    """Matches dbt's source `raw.<table>`, so staging models hang off these assets."""
    return dg.AssetKey(["raw", contract.name])


def build_raw_asset(contract: SourceContract, partitions_def: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    """The ingestion asset for one export kind."""
    with warnings.catch_warnings():
        # The single-run backfill policy is marked beta; it is what makes a year's backfill one run, not 365.
        warnings.simplefilter("ignore", dg.BetaWarning)
        return _define_raw_asset(contract, partitions_def)


def _define_raw_asset(contract: SourceContract, partitions_def: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        key=raw_asset_key(contract),
        group_name="ingest",
        description=f"{contract.description} Raw text as delivered, with lineage; one partition per extract date.",
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=WAREHOUSE_POOL,
        kinds={"polars", "duckdb"},
        metadata={"landing_files": f"{contract.folder}/{contract.file_stem}_YYYY-MM-DD{contract.suffix}"},
    )
    def _raw_asset(context: dg.AssetExecutionContext, warehouse: DuckDBResource, landing: LandingZone,
                   suppression_salt: SuppressionSalt, quality: QualityGatesParam):
        delivered = contract.delivered_files(landing.root)
        salt = suppression_salt.read()
        # The raw gate's own slack: a row stamped later than its file's day allows is quarantined here.
        slack = timedelta(hours=quality.thresholds.for_source(contract.name).future_slack_hours)
        loaded: list[LoadedPartition] = []
        missing: list[date] = []
        violations: list[ContractViolation] = []
        pending: list[DeliveredFile] = []
        zero_byte: list[date] = []
        progress = StepProgress(context.log, len(context.partition_keys), "days")
        with warehouse.get_connection() as connection:
            create_raw_tables(connection)
            for key in context.partition_keys:
                progress.advance()
                day = date.fromisoformat(key)
                path = delivered.get(day)
                if path is None:
                    missing.append(day)
                    continue
                try:
                    parsed = read_export(path, contract, datetime.combine(day + timedelta(days=1), time()) + slack)
                    if parsed.file_bytes == 0:
                        _refuse_emptying_a_loaded_day(connection, contract, day, path)
                        zero_byte.append(day)
                    pending.append(DeliveredFile(day, path.relative_to(landing.root).as_posix(), parsed))
                except ContractViolation as violation:
                    context.log.error(f"Rejected {violation}")
                    violations.append(violation)
                if sum(f.parsed.rows.height for f in pending) >= _BATCH_ROWS:
                    loaded += replace_partitions(connection, contract, pending, _utc_now(), salt)
                    pending = []
            loaded += replace_partitions(connection, contract, pending, _utc_now(), salt)
            held = {day: partition_rows(connection, contract, day) for day in missing}
        if missing:  # not a warning: most sources skip days, and each such day is observed as such
            context.log.info(f"No {contract.folder}/{contract.file_stem} file delivered for {_describe_days(missing)}; existing rows kept.")
        if zero_byte:
            context.log.warning(f"{contract.folder}/{contract.file_stem} files of zero bytes for {_describe_days(zero_byte)}: "
                                "loaded as days with nothing to report"
                                + (" (a CSV export writes at least its header: was the export cut off?)" if contract.file_format == "csv" else "."))
        # Each partition's event describes that day alone: its file and rows, or that none came.
        for day in missing:
            yield dg.AssetObservation(asset_key=context.asset_key, partition=day.isoformat(), metadata=no_file_metadata(held[day]))
        if violations:
            # On a range run the files that did load are still recorded, partition by partition.
            for partition in loaded:
                yield dg.AssetMaterialization(
                    asset_key=context.asset_key, partition=partition.extract_date.isoformat(),
                    metadata={**partition_metadata(partition, partition.extract_date in zero_byte), LOADED_BEFORE_FAILURE: True},
                )
            raise dg.Failure(
                description=f"{len(violations)} file(s) break the export contract and were not loaded:\n"
                + "\n".join(f"- {violation}" for violation in violations),
                metadata={"rejected_files": [str(violation.path) for violation in violations]},
            )
        for partition in loaded:
            context.add_asset_metadata(partition_metadata(partition, partition.extract_date in zero_byte),
                                       partition_key=partition.extract_date.isoformat())
        # Dagster records every partition of the run's range as materialized; a day without a file
        # (observed above) says so in its own metadata rather than carrying the run's totals.
        for day in missing:
            context.add_asset_metadata(no_file_metadata(held[day]), partition_key=day.isoformat())
        yield dg.MaterializeResult()

    return _raw_asset


def _refuse_emptying_a_loaded_day(connection: duckdb.DuckDBPyConnection, contract: SourceContract, day: date, path: Path) -> None:
    """A zero-byte re-delivery of a day that holds rows looks like an export that failed, not a day
    with nothing to report: the earlier delivery is kept. (A header-only CSV, or a JSONL file of a
    blank line, does empty a day on purpose.)"""
    rows = partition_rows(connection, contract, day)
    if rows:
        empty = "its header alone" if contract.file_format == "csv" else "a blank line"
        raise ContractViolation(path, f"zero bytes, where the earlier delivery of {day} holds {rows:,} rows: an export that failed? "
                                      f"The earlier delivery is kept; re-deliver the day, or a file of {empty} to empty it")


def _utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


NO_FILE = "no file delivered"
"""The `file` of a partition whose day brought no file of its kind."""


def partition_metadata(partition: LoadedPartition, zero_byte: bool = False) -> dict[str, dg.MetadataValue | int | str | float]:
    """What one day's file brought: its path and digest, the rows it left in the table, what was set aside."""
    total = partition.rows_loaded + partition.rows_quarantined
    metadata: dict[str, dg.MetadataValue | int | str | float] = {
        "file": partition.source_file,
        "dagster/row_count": partition.rows_loaded,
        "rows_quarantined": partition.rows_quarantined,
        "quarantined_share": round(partition.rows_quarantined / total, 6) if total else 0.0,
        "rows_suppressed": partition.rows_suppressed,
        "rows_replaced": partition.replaced_rows,
        "file_sha256": partition.file_sha256,
    }
    if zero_byte:
        metadata["note"] = "a file of zero bytes: loaded as a day with nothing to report"
    return metadata


def no_file_metadata(rows_held: int) -> dict[str, dg.MetadataValue | int | str | float]:
    """A day no file of the kind came for: what the table still holds for it (an earlier delivery's rows, or none)."""
    return {"file": NO_FILE, "dagster/row_count": rows_held,
            "note": "no file of this kind was delivered for the day" + ("; the earlier delivery's rows are kept" if rows_held else "")}


def _describe_days(days: list[date]) -> str:
    listed = ", ".join(day.isoformat() for day in days[:10])
    return listed + (f" and {len(days) - 10} more" if len(days) > 10 else "")


def build_raw_assets(partitions_def: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    """All ingestion assets, one per export kind in the contract."""
    return [build_raw_asset(contract, partitions_def) for contract in SOURCE_CONTRACTS]

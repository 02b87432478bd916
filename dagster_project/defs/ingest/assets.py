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
from dagster_project.ingest.raw_tables import DeliveredFile, LoadedPartition, create_raw_tables, partition_rows, raw_table, replace_partitions
from dagster_project.ingest.readers import ContractViolation, read_export

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
        with warehouse.get_connection() as connection:
            create_raw_tables(connection)
            for key in context.partition_keys:
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
            (table_rows,) = connection.execute(f"SELECT count(*) FROM {raw_table(contract)}").fetchone()
        if missing:
            context.log.warning(f"No {contract.folder}/{contract.file_stem} file delivered for {_describe_days(missing)}; existing rows kept.")
        if zero_byte:
            context.log.warning(f"{contract.folder}/{contract.file_stem} files of zero bytes for {_describe_days(zero_byte)}: "
                                "loaded as days with nothing to report"
                                + (" (a CSV export writes at least its header: was the export cut off?)" if contract.file_format == "csv" else "."))
        if violations:
            # On a range run the files that did load are still recorded, partition by partition.
            for partition in loaded:
                yield dg.AssetMaterialization(
                    asset_key=context.asset_key, partition=partition.extract_date.isoformat(),
                    metadata={**_load_metadata([partition], []), LOADED_BEFORE_FAILURE: True},
                )
            raise dg.Failure(
                description=f"{len(violations)} file(s) break the export contract and were not loaded:\n"
                + "\n".join(f"- {violation}" for violation in violations),
                metadata={"rejected_files": [str(violation.path) for violation in violations]},
            )
        yield dg.MaterializeResult(metadata={**_load_metadata(loaded, missing), "dagster/row_count": table_rows,
                                             "days_with_zero_byte_file": _describe_days(zero_byte) if zero_byte else "none"})

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


def _load_metadata(loaded: list[LoadedPartition], missing: list[date]) -> dict[str, dg.MetadataValue | int | str]:
    suppressed = sum(partition.rows_suppressed for partition in loaded)
    rows = sum(partition.rows_loaded for partition in loaded)
    quarantined = sum(partition.rows_quarantined for partition in loaded)
    shown = loaded[-60:]
    table = "\n".join(
        f"| {p.source_file} | {p.rows_loaded} | {p.rows_quarantined} | {p.rows_suppressed} | {p.replaced_rows} "
        f"| `{p.file_sha256[:12]}` |" for p in shown
    )
    more = f"\n\n…and {len(loaded) - len(shown)} earlier files" if len(loaded) > len(shown) else ""
    return {
        "files_loaded": len(loaded),
        "rows_loaded": rows,
        "rows_quarantined": quarantined,
        "quarantined_share": round(quarantined / (rows + quarantined), 6) if rows + quarantined else 0.0,
        "rows_suppressed": dg.MetadataValue.int(suppressed),
        "days_without_file": _describe_days(missing) if missing else "none",
        "files": dg.MetadataValue.md(
            "| file | rows loaded | quarantined | suppressed | rows replaced | sha256 |\n|---|---|---|---|---|---|\n" + table + more
        ),
    }


def _describe_days(days: list[date]) -> str:
    listed = ", ".join(day.isoformat() for day in days[:10])
    return listed + (f" and {len(days) - 10} more" if len(days) > 10 else "")


def build_raw_assets(partitions_def: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    """All ingestion assets, one per export kind in the contract."""
    return [build_raw_asset(contract, partitions_def) for contract in SOURCE_CONTRACTS]

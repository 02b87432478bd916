"""The raw layer in DuckDB: one table per export kind, a quarantine table and a load ledger.

Raw tables keep values as text exactly as delivered (dbt staging casts them), plus lineage.
A partition is one extract date; loading it replaces everything that date held, in one
transaction, so re-runs and corrected re-deliveries never duplicate rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import duckdb
import polars as pl

from dagster_project.ingest.contracts import SOURCE_CONTRACTS, SourceContract
from dagster_project.ingest.readers import ParsedExport
from dagster_project.privacy.suppression import quarantined_row_is_suppressed_sql, row_is_suppressed_sql, suppression_list_size
from dagster_project.warehouse import table_exists, transaction_with_frames

RAW_SCHEMA = "raw"
QUARANTINE_TABLE = f"{RAW_SCHEMA}.quarantine"
LOAD_LEDGER_TABLE = f"{RAW_SCHEMA}.load_ledger"
_LINEAGE_COLUMNS = "_extract_date DATE NOT NULL, _source_file VARCHAR NOT NULL, _line_number BIGINT NOT NULL, _loaded_at TIMESTAMP NOT NULL"


def raw_table(contract: SourceContract) -> str:
    return f"{RAW_SCHEMA}.{contract.name}"


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def create_raw_tables(connection: duckdb.DuckDBPyConnection) -> None:
    """Create every raw table, so staging runs even for a source that never delivered a file."""
    connection.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
    for contract in SOURCE_CONTRACTS:
        if contract.file_format == "csv":
            columns = ", ".join(f"{_quote(column)} VARCHAR" for column in contract.columns)
        else:
            columns = "payload JSON NOT NULL"
        connection.execute(f"CREATE TABLE IF NOT EXISTS {raw_table(contract)} ({columns}, {_LINEAGE_COLUMNS})")
    connection.execute(
        f"""CREATE TABLE IF NOT EXISTS {QUARANTINE_TABLE} (
            source VARCHAR NOT NULL, reason VARCHAR NOT NULL, record VARCHAR, {_LINEAGE_COLUMNS})"""
    )
    connection.execute(
        f"""CREATE TABLE IF NOT EXISTS {LOAD_LEDGER_TABLE} (
            source VARCHAR NOT NULL, _extract_date DATE NOT NULL, _source_file VARCHAR NOT NULL,
            file_sha256 VARCHAR NOT NULL, file_bytes BIGINT NOT NULL, rows_loaded BIGINT NOT NULL,
            rows_quarantined BIGINT NOT NULL, _loaded_at TIMESTAMP NOT NULL,
            PRIMARY KEY (source, _extract_date))"""
    )


@dataclass(frozen=True)
class DeliveredFile:
    """One parsed file, ready to replace its extract date."""

    extract_date: date
    source_file: str
    parsed: ParsedExport


@dataclass(frozen=True)
class LoadedPartition:
    """What one file contributed to the warehouse."""

    extract_date: date
    source_file: str
    file_sha256: str
    rows_loaded: int
    rows_quarantined: int
    replaced_rows: int
    rows_suppressed: int = 0
    """Rows and quarantined rows of people erased earlier, kept out by the suppression list (and
    not counted in `rows_loaded` or `rows_quarantined`)."""


def partition_rows(connection: duckdb.DuckDBPyConnection, contract: SourceContract, day: date) -> int:
    """Rows the raw table holds for one extract date."""
    row = connection.execute(f"SELECT count(*) FROM {raw_table(contract)} WHERE _extract_date = ?", [day]).fetchone()
    assert row is not None  # An aggregate without GROUP BY always returns one row.
    return int(row[0])


def replace_partitions(
    connection: duckdb.DuckDBPyConnection, contract: SourceContract, files: list[DeliveredFile], loaded_at: datetime,
    suppression_salt: str | None = None,
) -> list[LoadedPartition]:
    """Swap in the rows and quarantine of several files, each replacing its extract date, in one transaction.
    Given the suppression list's salt, rows of people erased earlier are kept out and counted.

    Batching matters: a statement costs DuckDB about a millisecond whatever its size, and a
    year of daily files is thousands of small partitions.
    """
    if not files:
        return []
    # An empty list (most nights, most installations) costs nothing: no row is hashed.
    suppressing = suppression_salt is not None and suppression_list_size(connection) > 0
    row_filter = (row_is_suppressed_sql(contract.name) if suppressing else None) or "false"
    quarantine_filter = quarantined_row_is_suppressed_sql() if suppressing else "false"
    rows = pl.concat([_with_lineage(f.parsed.rows, f, loaded_at) for f in files], how="vertical")
    quarantine = pl.concat(
        [_with_lineage(f.parsed.quarantine.with_columns(pl.lit(contract.name).alias("source")), f, loaded_at) for f in files],
        how="vertical",
    )
    ledger = pl.DataFrame(
        {
            "source": [contract.name] * len(files),
            "_extract_date": [f.extract_date for f in files],
            "_source_file": [f.source_file for f in files],
            "file_sha256": [f.parsed.file_sha256 for f in files],
            "file_bytes": [f.parsed.file_bytes for f in files],
            "rows_loaded": [f.parsed.rows.height for f in files],
            "rows_quarantined": [f.parsed.quarantine.height for f in files],
            "_loaded_at": [loaded_at] * len(files),
        },
        schema_overrides={"_extract_date": pl.Date, "_loaded_at": pl.Datetime("us")},
    )
    dates = [f.extract_date for f in files]
    table = raw_table(contract)
    with transaction_with_frames(connection, incoming_rows=rows, incoming_quarantine=quarantine, incoming_ledger=ledger):
        replaced = dict(connection.execute(
            f"SELECT _extract_date, count(*) FROM {table} WHERE _extract_date IN (SELECT unnest(?::DATE[])) GROUP BY 1", [dates]
        ).fetchall())
        connection.execute(f"DELETE FROM {table} WHERE _extract_date IN (SELECT unnest(?::DATE[]))", [dates])
        connection.execute(
            f"DELETE FROM {QUARANTINE_TABLE} WHERE source = ? AND _extract_date IN (SELECT unnest(?::DATE[]))", [contract.name, dates]
        )
        suppressed = {(day, quarantined): count for day, quarantined, count in connection.execute(
            f"SELECT _extract_date, quarantined, count(*) FROM ("
            f"SELECT _extract_date, false AS quarantined FROM incoming_rows WHERE coalesce({row_filter}, false) UNION ALL "
            f"SELECT _extract_date, true FROM incoming_quarantine WHERE coalesce({quarantine_filter}, false)) GROUP BY ALL",
            {"salt": suppression_salt},
        ).fetchall()} if suppressing else {}
        connection.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming_rows WHERE NOT coalesce({row_filter}, false)",
                           _salt_if_used(row_filter, suppression_salt))
        connection.execute(f"INSERT INTO {QUARANTINE_TABLE} BY NAME SELECT * FROM incoming_quarantine "
                           f"WHERE NOT coalesce({quarantine_filter}, false)", _salt_if_used(quarantine_filter, suppression_salt))
        connection.execute(f"INSERT OR REPLACE INTO {LOAD_LEDGER_TABLE} BY NAME SELECT * FROM incoming_ledger")
    return [
        LoadedPartition(
            extract_date=f.extract_date, source_file=f.source_file, file_sha256=f.parsed.file_sha256,
            rows_loaded=f.parsed.rows.height - suppressed.get((f.extract_date, False), 0),
            rows_quarantined=f.parsed.quarantine.height - suppressed.get((f.extract_date, True), 0),
            replaced_rows=replaced.get(f.extract_date, 0),
            rows_suppressed=suppressed.get((f.extract_date, False), 0) + suppressed.get((f.extract_date, True), 0),
        )
        for f in files
    ]


def _salt_if_used(predicate: str, salt: str | None) -> dict[str, str | None]:
    """DuckDB refuses a parameter the statement does not use."""
    return {"salt": salt} if "$salt" in predicate else {}


def _with_lineage(frame: pl.DataFrame, delivered: DeliveredFile, loaded_at: datetime) -> pl.DataFrame:
    """The file's rows (already carrying `_line_number`) with the rest of their lineage."""
    return frame.with_columns(
        pl.lit(delivered.extract_date, pl.Date).alias("_extract_date"),
        pl.lit(delivered.source_file, pl.String).alias("_source_file"),
        pl.lit(loaded_at, pl.Datetime("us")).alias("_loaded_at"),
    )


def load_times(connection: duckdb.DuckDBPyConnection) -> dict[tuple[str, date], datetime]:
    """When each (source, extract date) was last loaded, from the load ledger."""
    if not table_exists(connection, LOAD_LEDGER_TABLE):
        return {}
    rows = connection.execute(f"SELECT source, _extract_date, _loaded_at FROM {LOAD_LEDGER_TABLE}").fetchall()
    return {(source, extract_date): loaded_at for source, extract_date, loaded_at in rows}

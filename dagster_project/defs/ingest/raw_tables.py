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

from dagster_project.defs.ingest.contracts import SOURCE_CONTRACTS, SourceContract
from dagster_project.defs.ingest.readers import LINE_NUMBER, ParsedExport

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
class LoadedPartition:
    """What one file contributed to the warehouse."""

    extract_date: date
    source_file: str
    file_sha256: str
    rows_loaded: int
    rows_quarantined: int
    replaced_rows: int


def replace_partition(
    connection: duckdb.DuckDBPyConnection,
    contract: SourceContract,
    extract_date: date,
    source_file: str,
    parsed: ParsedExport,
    loaded_at: datetime,
) -> LoadedPartition:
    """Swap in one file's rows and quarantine for its extract date, atomically."""
    lineage = [
        pl.lit(extract_date).alias("_extract_date"),
        pl.lit(source_file).alias("_source_file"),
        pl.col(LINE_NUMBER).alias("_line_number"),
        pl.lit(loaded_at).alias("_loaded_at"),
    ]
    connection.register("incoming_rows", parsed.rows.select(pl.exclude(LINE_NUMBER), *lineage).to_arrow())
    connection.register(
        "incoming_quarantine",
        parsed.quarantine.select(pl.lit(contract.name).alias("source"), "reason", "record", *lineage).to_arrow(),
    )
    table = raw_table(contract)
    connection.execute("BEGIN TRANSACTION")
    try:
        (replaced_rows,) = connection.execute(
            f"SELECT count(*) FROM {table} WHERE _extract_date = ?", [extract_date]
        ).fetchone()
        connection.execute(f"DELETE FROM {table} WHERE _extract_date = ?", [extract_date])
        connection.execute(
            f"DELETE FROM {QUARANTINE_TABLE} WHERE source = ? AND _extract_date = ?", [contract.name, extract_date]
        )
        connection.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming_rows")
        connection.execute(f"INSERT INTO {QUARANTINE_TABLE} BY NAME SELECT * FROM incoming_quarantine")
        connection.execute(
            f"INSERT OR REPLACE INTO {LOAD_LEDGER_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [contract.name, extract_date, source_file, parsed.file_sha256, parsed.file_bytes,
             parsed.rows.height, parsed.quarantine.height, loaded_at],
        )
        connection.execute("COMMIT")
    except Exception:
        connection.execute("ROLLBACK")
        raise
    finally:
        connection.unregister("incoming_rows")
        connection.unregister("incoming_quarantine")
    return LoadedPartition(
        extract_date=extract_date,
        source_file=source_file,
        file_sha256=parsed.file_sha256,
        rows_loaded=parsed.rows.height,
        rows_quarantined=parsed.quarantine.height,
        replaced_rows=replaced_rows,
    )

"""The DuckDB warehouse chores every stage needs, written once: whether a table or schema exists,
and frames readable as views for the length of a block (and of a transaction)."""

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import polars as pl
import pyarrow as pa


def table_exists(connection: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    """Whether `schema.table` exists (a table or a view) in the connection's current database."""
    schema, table = qualified.split(".")
    return connection.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?", [schema, table]
    ).fetchall()[0][0] > 0


def schema_exists(connection: duckdb.DuckDBPyConnection, schema: str) -> bool:
    """Whether the schema exists in the connection's current database."""
    return connection.execute(
        "SELECT count(*) FROM information_schema.schemata WHERE schema_name = ?", [schema]
    ).fetchall()[0][0] > 0


@contextmanager
def frames_registered(connection: duckdb.DuckDBPyConnection, **frames: pl.DataFrame | pa.Table) -> Iterator[None]:
    """Each frame readable as a view of its keyword's name inside the block, and gone after it,
    also when the block raises (a view left behind would shadow the next run's frame)."""
    registered = []
    try:
        for name, frame in frames.items():
            connection.register(name, frame.to_arrow() if isinstance(frame, pl.DataFrame) else frame)
            registered.append(name)
        yield
    finally:
        for name in registered:
            connection.unregister(name)


@contextmanager
def transaction_with_frames(connection: duckdb.DuckDBPyConnection, **frames: pl.DataFrame) -> Iterator[None]:
    """One transaction in which each frame is readable as a view of its keyword's name.

    Commits when the block succeeds, rolls back when it raises, and unregisters the views either way.
    """
    with frames_registered(connection, **frames):
        connection.execute("BEGIN TRANSACTION")
        try:
            yield
            connection.execute("COMMIT")
        except Exception:
            connection.execute("ROLLBACK")
            raise

"""Writing to the DuckDB warehouse: frames swapped in atomically."""

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import polars as pl


@contextmanager
def transaction_with_frames(connection: duckdb.DuckDBPyConnection, **frames: pl.DataFrame) -> Iterator[None]:
    """One transaction in which each frame is readable as a view of its keyword's name.

    Commits when the block succeeds, rolls back when it raises, and unregisters the views either way.
    """
    for name, frame in frames.items():
        connection.register(name, frame.to_arrow())
    connection.execute("BEGIN TRANSACTION")
    try:
        yield
        connection.execute("COMMIT")
    except Exception:
        connection.execute("ROLLBACK")
        raise
    finally:
        for name in frames:
            connection.unregister(name)

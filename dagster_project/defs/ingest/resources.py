"""Where exports are delivered, and the warehouse they are loaded into."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource


class LandingZone(dg.ConfigurableResource):
    """The landing directory that follows the source export contract."""

    path: str

    @property
    def root(self) -> Path:
        return Path(self.path)


class WarehouseResource(DuckDBResource):
    """The DuckDB warehouse. Unlike the stock resource, the connection is closed when the step
    fails too: a failed step's traceback would otherwise keep the file open in this process, and
    the next connection with another configuration (a read-only one, say) is refused."""

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with super().get_connection() as connection:
            try:
                yield connection
            finally:
                connection.close()

"""dbt-duckdb's process-wide database, the one place cxp touches it.

With `keep_open: true` (dbt/profiles.yml) dbt-duckdb opens the warehouse once for a whole build and
keeps it, in `DuckDBConnectionManager._ENV`, until the process ends. A process that goes on after
dbt (a Dagster step, `cxp docs`, a test) releases it here. tests/dbt/test_in_process_build.py
fails when dbt-duckdb changes where it keeps the database.
"""


def release_warehouse() -> None:
    """Close the DuckDB database dbt-duckdb keeps for the process, so that the warehouse file is free for
    other processes and for connections of this one with another configuration (DuckDB refuses those
    while it is open)."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        if DuckDBConnectionManager._ENV is not None:
            DuckDBConnectionManager._ENV.close()
        DuckDBConnectionManager.close_all_connections()

"""Fixtures that build a real warehouse from hand-made raw rows and run real dbt on it."""

import json
import re
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest
from dbt.cli.main import dbtRunner, dbtRunnerResult

from dagster_project.dbt_duckdb_database import release_warehouse
from dagster_project.defs.dbt.assets import CUSTOMER_360_SELECTION
from dagster_project.ingest.contracts import SOURCE_CONTRACTS
from dagster_project.ingest.raw_tables import create_raw_tables

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt"

# The raw tables as ingestion creates them, from the source contracts: a contract change reaches these tests.
CONTRACTS = {contract.name: contract for contract in SOURCE_CONTRACTS}


def extract_date_of(source_file: str) -> date:
    """The partition date written in a landing file name."""
    return date.fromisoformat(re.search(r"\d{4}-\d{2}-\d{2}", source_file).group(0))


def insert_csv_rows(conn: duckdb.DuckDBPyConnection, table: str, source_file: str, rows: list[dict]) -> None:
    """Insert CSV records of one file; records start on line 2 (after the header), one line each."""
    columns = CONTRACTS[table].columns
    unknown = {key for row in rows for key in row} - set(columns)
    assert not unknown, f"not a {table} column: {unknown}"
    placeholders = ", ".join("?" for _ in range(len(columns) + 4))
    for line_number, row in enumerate(rows, start=2):
        values = [row.get(column) for column in columns]
        lineage = [extract_date_of(source_file), source_file, line_number, "2024-01-01 00:00:00"]
        conn.execute(f"insert into raw.{table} values ({placeholders})", values + lineage)


def insert_json_rows(conn: duckdb.DuckDBPyConnection, table: str, source_file: str, payloads: list[dict]) -> None:
    """Insert JSONL objects of one file, one per line starting at line 1."""
    for line_number, payload in enumerate(payloads, start=1):
        conn.execute(
            f"insert into raw.{table} values (?::json, ?, ?, ?, ?)",
            [json.dumps(payload), extract_date_of(source_file), source_file, line_number, "2024-01-01 00:00:00"],
        )


def invoke_dbt(arguments: list[str], target_dir: Path) -> dbtRunnerResult:
    """Run dbt in-process against the test warehouse, writing nothing into the working tree, and
    release the warehouse as the pipeline does after each build."""
    try:
        return dbtRunner().invoke([
            *arguments,
            "--project-dir", str(DBT_PROJECT_DIR),
            "--profiles-dir", str(DBT_PROJECT_DIR),
            "--target-path", str(target_dir / "target"),
            "--log-path", str(target_dir / "logs"),
        ])
    finally:
        release_warehouse()


class StagingWarehouse:
    """A warehouse built by dbt from hand-made raw rows."""

    def __init__(self, path: Path, build_result: dbtRunnerResult) -> None:
        self.path = path
        self.build_result = build_result

    def rows(self, sql: str) -> list[dict]:
        """Rows of a query against the built warehouse, as dicts."""
        with duckdb.connect(str(self.path), read_only=True) as conn:
            cursor = conn.execute(sql)
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, row)) for row in cursor.fetchall()]

    def test_status(self, test_name_prefix: str) -> str:
        """Status (pass, warn, fail, error) of the one dbt test whose name starts with the prefix."""
        statuses = [
            str(result.status) for result in self.build_result.result
            if result.node.resource_type == "test" and result.node.name.startswith(test_name_prefix)
        ]
        assert len(statuses) == 1, f"{len(statuses)} dbt tests named {test_name_prefix}*"
        return statuses[0]


@pytest.fixture(scope="module")
def build_staging(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable]:
    """A function that loads raw files into a fresh warehouse, runs dbt seed, builds staging and the
    identity graph once (what the pipeline builds before the identity stage) and
    returns the built warehouse. Its argument maps raw table -> landing file -> records (dicts of
    CSV cells, or JSON payloads for the JSONL tables), in file order."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        def build(raw_files: dict[str, dict[str, list[dict]]]) -> StagingWarehouse:
            work_dir = tmp_path_factory.mktemp("dbt")
            warehouse_path = work_dir / "warehouse.duckdb"
            monkeypatch.setenv("CXP_WAREHOUSE_PATH", str(warehouse_path))
            monkeypatch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
            with duckdb.connect(str(warehouse_path)) as conn:
                create_raw_tables(conn)
                for table, files in raw_files.items():
                    insert_rows = insert_json_rows if CONTRACTS[table].file_format == "jsonl" else insert_csv_rows
                    for source_file, records in files.items():
                        insert_rows(conn, table, source_file, records)
            seed = invoke_dbt(["seed"], work_dir)
            assert seed.success, seed.exception
            # What the pipeline's first dbt step builds: the customer 360 needs the identity stage's tables.
            build_result = invoke_dbt(["build", "--exclude", CUSTOMER_360_SELECTION], work_dir)
            failures = [
                (result.node.name, str(result.status), result.message) for result in build_result.result or []
                if str(result.status) not in ("success", "pass", "warn")
            ]
            assert build_result.success, build_result.exception or failures
            return StagingWarehouse(warehouse_path, build_result)

        yield build

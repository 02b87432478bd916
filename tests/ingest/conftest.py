"""A landing zone and warehouse in tmp_path, and materialization of the raw assets against them."""

import os
import time
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster_duckdb import DuckDBResource

from dagster_project.defs.ingest.assets import build_raw_assets
from dagster_project.defs.ingest.partitions import extract_date_partitions, partition_range_tags
from dagster_project.defs.ingest.resources import LandingZone
from dagster_project.defs.privacy.resources import SuppressionSalt
from dagster_project.defs.quality.resources import QualityGates

PARTITIONS = extract_date_partitions(date(2024, 1, 1))
RAW_ASSETS = build_raw_assets(PARTITIONS)


class Platform:
    """The ingestion layer wired to a landing directory and a warehouse file."""

    def __init__(self, root: Path) -> None:
        self.landing = root / "landing"
        self.warehouse = root / "warehouse.duckdb"
        self.landing.mkdir()
        self.instance = dg.DagsterInstance.ephemeral()

    def deliver(self, relative: str, content: str | bytes) -> Path:
        path = self.landing / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        if path.exists():  # a re-delivery must look newer even within the file system's timestamp resolution
            path.write_bytes(data)
            later = time.time_ns() + 1_000_000_000
            os.utime(path, ns=(later, later))
        else:
            path.write_bytes(data)
        return path

    def ingest(self, first: str, last: str | None = None, selection: str = "*") -> dg.ExecuteInProcessResult:
        return dg.materialize(
            RAW_ASSETS,
            selection=selection,
            instance=self.instance,
            tags=partition_range_tags(date.fromisoformat(first), date.fromisoformat(last or first)),
            resources={"warehouse": DuckDBResource(database=str(self.warehouse)), "landing": LandingZone(path=str(self.landing)),
                       "suppression_salt": SuppressionSalt(path=str(self.warehouse.parent / "privacy" / "suppression_salt")),
                       "quality": QualityGates(self.warehouse.parent / "quality")},
            raise_on_error=False,
        )

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.warehouse), read_only=True) as connection:
            return connection.execute(sql).fetchall()


@pytest.fixture
def platform(tmp_path: Path) -> Platform:
    return Platform(tmp_path)

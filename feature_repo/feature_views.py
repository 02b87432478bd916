"""One batch feature view per dbt feature snapshot table, reading its Parquet files."""

from __future__ import annotations

from pathlib import Path

from feast import FeatureView, Field, FileSource

from feature_repo.entities import customer
from feature_repo.feature_catalog import FeatureTableSpec


def feature_file_glob(feature_files_dir: Path, table: str) -> str:
    """Every snapshot date's file of a table (`<dir>/<table>/<YYYY-MM-DD>/*.parquet`)."""
    return str(feature_files_dir / table / "*" / "*.parquet")


def build_feature_view(spec: FeatureTableSpec, feature_files_dir: Path) -> FeatureView:
    """The view of one snapshot table. A row's values hold until the customer's next row, so the
    TTL only bounds how far back a point-in-time join looks for it."""
    source = FileSource(
        name=f"{spec.table}_files",
        path=feature_file_glob(feature_files_dir, spec.table),
        timestamp_field="event_timestamp",
        description=f"Parquet export of the dbt model features.{spec.table}.",
        tags={"dbt_model": spec.table},
    )
    return FeatureView(
        name=spec.feature_view,
        entities=[customer],
        ttl=spec.ttl,
        schema=[Field(name=feature.name, dtype=feature.dtype, description=feature.description, tags={"owner": feature.owner})
                for feature in spec.features],
        source=source,
        online=True,
        description=spec.description,
        owner=spec.owner,
        tags={"owner": spec.owner, "dbt_model": spec.table},
    )

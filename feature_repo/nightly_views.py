"""Feature views over the nightly tables (recommendations, next-best actions): one Parquet file per
scoring date, served online as the models' scores are."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import cast

import polars as pl
from feast import Entity, FeatureView, Field, FileSource

from feature_repo.customer_scores import SCORES_TTL
from ml.nightly_files import EMPTY_FOLDER

OWNER = "data-science@cxp.example"


def owned_field(name: str, dtype, description: str) -> Field:
    """A field of a nightly view, owned by data science."""
    return Field(name=name, dtype=dtype, description=description, tags={"owner": OWNER})


def ensure_nightly_table_readable(feature_files_dir: Path, table: str, columns: Mapping[str, object]) -> None:
    """Before the first night, an empty file with the table's schema: point-in-time reads of a service
    that includes the view then find no rows rather than no files (as for the scores)."""
    path = feature_files_dir / table / EMPTY_FOLDER / "data_0.parquet"
    schema = pl.Schema(cast(Mapping[str, pl.DataType], columns))  # the layout's types, inferred as `object`
    # Rewritten when the layout gains a column, so every file of the glob has the same schema;
    # written by polars, as the nights' files are.
    if not path.exists() or pl.read_parquet_schema(path) != schema:
        path.parent.mkdir(parents=True, exist_ok=True)
        pl.DataFrame(schema=schema).write_parquet(path)


def nightly_feature_view(table: str, entity: Entity, fields: list[Field], description: str, feature_files_dir: Path) -> FeatureView:
    """The online view named as its table, over the scoring dates' files."""
    return FeatureView(
        name=table,
        entities=[entity],
        ttl=SCORES_TTL,  # as the scores': a failed night leaves nothing stale served for long
        schema=fields,
        source=FileSource(name=f"{table}_files", path=str(feature_files_dir / table / "*" / "*.parquet"),
                          timestamp_field="event_timestamp", description=f"{description} One Parquet file per scoring date.",
                          tags={"owner": OWNER}),
        online=True,
        description=description,
        owner=OWNER,
        tags={"owner": OWNER},
    )

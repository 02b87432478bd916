"""The nightly product recommendations as feature views: each customer's list, and each product's
similar products, served as the models' scores are.

Written by the recommendation step of the nightly model job (ml.recommendations.recommendation_files),
one Parquet file per scoring date and table; the lists are Parquet lists of strings, read as
`Array(String)` (DuckDB's VARCHAR[], like the profile's `interests`), in rank order.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import cast

import polars as pl
from feast import Entity, FeatureView, Field, FileSource
from feast.types import Array, Bool, String

from feature_repo.customer_scores import SCORES_TTL
from feature_repo.entities import customer, product
from ml.recommendations.recommendation_files import (
    EMPTY_FOLDER,
    RECOMMENDATION_COLUMNS,
    RECOMMENDATIONS_TABLE,
    SIMILAR_PRODUCT_COLUMNS,
    SIMILAR_PRODUCTS_TABLE,
)

_OWNER = "data-science@cxp.example"


def _field(name: str, dtype, description: str) -> Field:
    return Field(name=name, dtype=dtype, description=description, tags={"owner": _OWNER})


RECOMMENDATION_FIELDS = [
    _field("recommended_skus", Array(String), "The products recommended to the customer, best first (up to 10 SKUs)."),
    _field("recommended_titles", Array(String), "The titles of recommended_skus, in the same order."),
    _field("recommendation_reasons", Array(String), "Why each of recommended_skus is recommended, in plain words, in the same order."),
    _field("recommendations_personalized", Bool, "False when the list is the shop's non-personalized one: the customer opted "
                                                 "out of personalization, or nothing is known of their taste yet."),
    _field("recommender_version", String, "The recommender that made the list."),
]
SIMILAR_PRODUCT_FIELDS = [
    _field("similar_skus", Array(String), "Products similar to this one, most similar first (up to 10 SKUs)."),
    _field("similar_titles", Array(String), "The titles of similar_skus, in the same order."),
    _field("similar_reasons", Array(String), "Why each of similar_skus is similar, in plain words, in the same order."),
    _field("recommender_version", String, "The recommender that found the similar products."),
]


def ensure_recommendations_readable(feature_files_dir: Path) -> None:
    """Before the first night, an empty file with each table's schema: point-in-time reads of a
    service that includes the views then find no lists rather than no files (as for the scores)."""
    for table, columns in ((RECOMMENDATIONS_TABLE, RECOMMENDATION_COLUMNS), (SIMILAR_PRODUCTS_TABLE, SIMILAR_PRODUCT_COLUMNS)):
        path = feature_files_dir / table / EMPTY_FOLDER / "data_0.parquet"
        schema = pl.Schema(cast(Mapping[str, pl.DataType], columns))  # the layout's types, inferred as `object`
        # Rewritten when the layout gains a column, so every file of the glob has the same schema;
        # written by polars, as the nights' files are.
        if not path.exists() or pl.read_parquet_schema(path) != schema:
            path.parent.mkdir(parents=True, exist_ok=True)
            pl.DataFrame(schema=schema).write_parquet(path)


def _view(table: str, entity: Entity, fields: list[Field], description: str, feature_files_dir: Path) -> FeatureView:
    return FeatureView(
        name=table,
        entities=[entity],
        ttl=SCORES_TTL,  # as the scores': a failed night leaves no stale lists for long
        schema=fields,
        source=FileSource(name=f"{table}_files", path=str(feature_files_dir / table / "*" / "*.parquet"),
                          timestamp_field="event_timestamp", description=f"{description} One Parquet file per scoring date.",
                          tags={"owner": _OWNER}),
        online=True,
        description=description,
        owner=_OWNER,
        tags={"owner": _OWNER},
    )


def build_customer_recommendations_view(feature_files_dir: Path) -> FeatureView:
    """The `customer_recommendations` view (customer entity) over the scoring dates' files."""
    return _view(RECOMMENDATIONS_TABLE, customer, RECOMMENDATION_FIELDS,
                 "Each customer's recommended products with a reason for each, made nightly.", feature_files_dir)


def build_similar_products_view(feature_files_dir: Path) -> FeatureView:
    """The `similar_products` view (product entity, join key `sku`) over the scoring dates' files."""
    return _view(SIMILAR_PRODUCTS_TABLE, product, SIMILAR_PRODUCT_FIELDS,
                 "Each product's similar products with a reason for each, found nightly.", feature_files_dir)

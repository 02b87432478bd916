"""The nightly product recommendations as feature views: each customer's list, and each product's
similar products, served as the models' scores are.

Written by the recommendation step of the nightly model job (ml.recommendations.recommendation_files),
one Parquet file per scoring date and table; the lists are Parquet lists of strings, read as
`Array(String)` (DuckDB's VARCHAR[], like the profile's `interests`), in rank order.
"""

from __future__ import annotations

from pathlib import Path

from feast import FeatureView
from feast.types import Array, Bool, String

from feature_repo.entities import customer, product
from feature_repo.nightly_views import ensure_nightly_table_readable, nightly_feature_view, owned_field
from ml.recommendations.recommendation_files import RECOMMENDATION_COLUMNS, RECOMMENDATIONS_TABLE, SIMILAR_PRODUCT_COLUMNS, SIMILAR_PRODUCTS_TABLE

RECOMMENDATION_FIELDS = [
    owned_field("recommended_skus", Array(String), "The products recommended to the customer, best first (up to 10 SKUs)."),
    owned_field("recommended_titles", Array(String), "The titles of recommended_skus, in the same order."),
    owned_field("recommendation_reasons", Array(String), "Why each of recommended_skus is recommended, in plain words, in the same order."),
    owned_field("recommendations_personalized", Bool, "False when the list is the shop's non-personalized one: the customer opted "
                                                      "out of personalization, or nothing is known of their taste yet."),
    owned_field("recommender_version", String, "The recommender that made the list."),
]
SIMILAR_PRODUCT_FIELDS = [
    owned_field("similar_skus", Array(String), "Products similar to this one, most similar first (up to 10 SKUs)."),
    owned_field("similar_titles", Array(String), "The titles of similar_skus, in the same order."),
    owned_field("similar_reasons", Array(String), "Why each of similar_skus is similar, in plain words, in the same order."),
    owned_field("recommender_version", String, "The recommender that found the similar products."),
]


def ensure_recommendations_readable(feature_files_dir: Path) -> None:
    """Before the first night, an empty file with each table's schema (see `ensure_nightly_table_readable`)."""
    for table, columns in ((RECOMMENDATIONS_TABLE, RECOMMENDATION_COLUMNS), (SIMILAR_PRODUCTS_TABLE, SIMILAR_PRODUCT_COLUMNS)):
        ensure_nightly_table_readable(feature_files_dir, table, columns)


def build_customer_recommendations_view(feature_files_dir: Path) -> FeatureView:
    """The `customer_recommendations` view (customer entity) over the scoring dates' files."""
    return nightly_feature_view(RECOMMENDATIONS_TABLE, customer, RECOMMENDATION_FIELDS,
                                "Each customer's recommended products with a reason for each, made nightly.", feature_files_dir)


def build_similar_products_view(feature_files_dir: Path) -> FeatureView:
    """The `similar_products` view (product entity, join key `sku`) over the scoring dates' files."""
    return nightly_feature_view(SIMILAR_PRODUCTS_TABLE, product, SIMILAR_PRODUCT_FIELDS,
                                "Each product's similar products with a reason for each, found nightly.", feature_files_dir)

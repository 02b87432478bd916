"""What every recommendation method reads: purchases, the catalog and customers, as of a cutoff.

Frames, not the warehouse: the nightly asset reads them from the marts (`read_inputs`), tests build
them by hand, and a public data set is loaded into the same shape through the export path."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import polars as pl

PURCHASE_SCHEMA = {"customer_id": pl.String, "sku": pl.String, "ordered_at": pl.Datetime("us"),
                   "quantity": pl.Int64, "is_returned": pl.Boolean}
PRODUCT_SCHEMA = {"sku": pl.String, "title": pl.String, "category": pl.String, "vendor": pl.String,
                  "product_type": pl.String, "tags": pl.List(pl.String), "price": pl.Float64,
                  "is_archived": pl.Boolean, "is_published": pl.Boolean, "is_in_stock": pl.Boolean,
                  "first_seen_date": pl.Date}
CUSTOMER_SCHEMA = {"customer_id": pl.String, "interests": pl.List(pl.String), "country_code": pl.String,
                   "is_personalization_withheld": pl.Boolean}
CANDIDATE_SCHEMA = {"customer_id": pl.String, "sku": pl.String, "score": pl.Float64, "reason": pl.String}
"""What each candidate method returns: up to n rows per customer, higher scores better, a reason
a customer can read ("bought together with Trail Runner - Navy")."""


def _conform(frame: pl.DataFrame, schema: dict[str, Any], what: str) -> pl.DataFrame:
    missing = [name for name in schema if name not in frame.columns]
    if missing:
        raise ValueError(f"{what} lacks column(s) {', '.join(missing)}")
    return frame.select(pl.col(name).cast(dtype) for name, dtype in schema.items())


@dataclass(frozen=True)
class RecommendationInputs:
    """Purchases (one row per order line; `is_returned` when its order was cancelled or fully
    refunded), products (one row per SKU, as the catalog stands), customers, and the cutoff
    `as_of`: purchases at or after it are not used."""

    purchases: pl.DataFrame
    products: pl.DataFrame
    customers: pl.DataFrame
    as_of: datetime

    @classmethod
    def of(cls, purchases: pl.DataFrame, products: pl.DataFrame, customers: pl.DataFrame,
           as_of: datetime) -> RecommendationInputs:
        """Inputs with columns checked and typed; purchases from `as_of` on are left out."""
        bought = _conform(purchases, PURCHASE_SCHEMA, "purchases")
        return cls(bought.filter(pl.col("ordered_at") < as_of.replace(tzinfo=None)),
                   _conform(products, PRODUCT_SCHEMA, "products"),
                   _conform(customers, CUSTOMER_SCHEMA, "customers"), as_of.replace(tzinfo=None))

    def before(self, cutoff: datetime) -> RecommendationInputs:
        """The same inputs as known at an earlier cutoff."""
        cutoff = cutoff.replace(tzinfo=None)
        return replace(self, purchases=self.purchases.filter(pl.col("ordered_at") < cutoff), as_of=cutoff)

    def for_customers(self, customer_ids: pl.Series) -> RecommendationInputs:
        """The same inputs with only these customers' purchases and records: what a customer-level
        feature needs, at a fraction of the cost on a large base (item-level ones need them all)."""
        wanted = customer_ids.cast(pl.String).unique().to_frame("customer_id")
        return replace(self, purchases=self.purchases.join(wanted, on="customer_id", how="semi"),
                       customers=self.customers.join(wanted, on="customer_id", how="semi"))

    def kept_purchases(self) -> pl.DataFrame:
        """Purchases the customer kept: returned ones are no evidence of liking a product."""
        return self.purchases.filter(~pl.col("is_returned"))


def empty_candidates() -> pl.DataFrame:
    """A candidate frame with no rows."""
    return pl.DataFrame(schema=CANDIDATE_SCHEMA)

"""Similar products per SKU, for a product page: what its buyers bought with it, then what the same
customers like (ALS), only products that can be bought, and never the SKU itself."""

from __future__ import annotations

import polars as pl

from ml.recommendations.business_rules import diversity_group, sellable_skus
from ml.recommendations.candidate_pool import FittedMethods
from ml.recommendations.inputs import RecommendationInputs

BOUGHT_TOGETHER = "often bought together"
LIKED_BY_SAME_CUSTOMERS = "liked by the same customers"
SAME_CATEGORY = "popular in the same category"


def similar_products(inputs: RecommendationInputs, fitted: FittedMethods, popular: pl.DataFrame, n: int = 10
                     ) -> pl.DataFrame:
    """sku, rank, similar_sku, reason: up to `n` per SKU of the catalog. Co-purchase neighbours come
    first; ALS neighbours fill the list; a product nobody bought yet gets its category's best sellers."""
    sellable = sellable_skus(inputs.products)
    parts = []
    if fitted.similarities.height:
        parts.append(fitted.similarities.select("sku", "similar_sku", pl.col("score").alias("strength"),
                                                pl.lit(0).alias("tier"), pl.lit(BOUGHT_TOGETHER).alias("reason")))
    if fitted.collaborative is not None:
        parts.append(fitted.collaborative.similar_items(fitted.collaborative.skus, 3 * n).select(
            "sku", "similar_sku", pl.col("score").alias("strength"), pl.lit(1).alias("tier"),
            pl.lit(LIKED_BY_SAME_CUSTOMERS).alias("reason")))
    best_sellers = popular.join(sellable, on="sku", how="inner").sort("score", descending=True).group_by(
        "category", maintain_order=True).head(n + 1)
    same_category = inputs.products.select("sku", diversity_group().alias("category")).join(
        best_sellers.select("category", pl.col("sku").alias("similar_sku"), pl.col("score").alias("strength")),
        on="category", how="inner").select("sku", "similar_sku", "strength", pl.lit(2).alias("tier"),
                                           pl.lit(SAME_CATEGORY).alias("reason"))
    candidates = pl.concat([*parts, same_category], how="vertical_relaxed").filter(pl.col("sku") != pl.col("similar_sku"))
    chosen = (candidates.join(sellable.select(pl.col("sku").alias("similar_sku")), on="similar_sku", how="semi")
              .sort(["sku", "tier", "strength"], descending=[False, False, True])
              .unique(["sku", "similar_sku"], keep="first", maintain_order=True)
              .group_by("sku", maintain_order=True).head(n))
    return chosen.with_columns((pl.int_range(pl.len()).over("sku") + 1).cast(pl.Int64).alias("rank")).select(
        "sku", "rank", "similar_sku", "reason")

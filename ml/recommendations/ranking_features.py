"""What the hybrid ranker knows about a customer and a candidate SKU besides the methods' scores:
how the customer's money and attention are spread, and how the SKU fits them."""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from ml.recommendations.buy_again import last_purchases
from ml.recommendations.inputs import RecommendationInputs
from ml.recommendations.popularity import popular_skus

_DAY = 86_400


def _customer_categories(inputs: RecommendationInputs, products: pl.DataFrame) -> pl.DataFrame:
    """customer_id, category, category_share: the share of a customer's kept lines in a category."""
    lines = inputs.kept_purchases().join(products.select("sku", "category"), on="sku", how="inner")
    return lines.group_by("customer_id", "category").len().with_columns(
        (pl.col("len") / pl.col("len").sum().over("customer_id")).alias("category_share")).drop("len")


def _customer_profile(inputs: RecommendationInputs, products: pl.DataFrame) -> pl.DataFrame:
    """customer_id, purchases, days_since_last_purchase, typical_price (median price of what they kept)."""
    since = (pl.lit(inputs.as_of) - pl.col("ordered_at").max()).dt.total_seconds() / _DAY
    return inputs.kept_purchases().join(products.select("sku", "price"), on="sku", how="left").group_by(
        "customer_id").agg(pl.len().alias("purchases"), since.alias("days_since_last_purchase"),
                           pl.col("price").median().alias("typical_price"))


def add_ranking_features(pool: pl.DataFrame, inputs: RecommendationInputs, cycles: pl.DataFrame) -> pl.DataFrame:
    """`pool` with the features listed in FEATURES (nulls where unknown: xgboost learns a default
    direction for them)."""
    products = inputs.products
    popular = popular_skus(inputs).select("sku", pl.col("score").log1p().alias("item_popularity"))
    first_sold = inputs.kept_purchases().group_by("sku").agg(pl.col("ordered_at").min().alias("first_sold_at"))
    items = products.select(
        "sku", "category", pl.col("price").alias("item_price"),
        ((pl.lit(inputs.as_of.date()) - pl.col("first_seen_date")).dt.total_days()).cast(pl.Float64).alias("item_age_days"),
    ).join(popular, on="sku", how="left").join(cycles.select("sku", "cycle_days"), on="sku", how="left").join(
        first_sold, on="sku", how="left").with_columns(
        ((pl.lit(inputs.as_of) - pl.col("first_sold_at")).dt.total_seconds() / _DAY).alias("item_days_on_sale"))
    # Customer-level features read only the pool's customers' rows (a scoring batch of a large base).
    own = inputs.for_customers(pool["customer_id"])
    interests = own.customers.select("customer_id", "interests").explode("interests").drop_nulls().rename(
        {"interests": "category"}).unique().with_columns(pl.lit(1.0).alias("interest_match"))
    recent_start = inputs.as_of - timedelta(days=30)
    recent = inputs.kept_purchases().filter(pl.col("ordered_at") >= recent_start).group_by("sku").agg(
        pl.col("customer_id").n_unique().cast(pl.Float64).log1p().alias("item_recent_buyers"))
    featured = pool.join(items.drop("first_sold_at"), on="sku", how="left").join(
        _customer_categories(own, products), on=["customer_id", "category"], how="left").join(
        interests, on=["customer_id", "category"], how="left").join(
        _customer_profile(own, products), on="customer_id", how="left").join(
        last_purchases(own).rename({"days_since": "days_since_bought_it", "times": "times_bought_it"}),
        on=["customer_id", "sku"], how="left").join(recent, on="sku", how="left")
    return featured.with_columns(
        pl.col("category_share").fill_null(0.0), pl.col("interest_match").fill_null(0.0),
        # A free item (a coupon rung up at 0.00) has no price fit: unknown, not infinite.
        pl.when((pl.col("item_price") > 0) & (pl.col("typical_price") > 0))
        .then((pl.col("item_price") / pl.col("typical_price")).log().abs()).alias("price_misfit"),
        (pl.col("days_since_bought_it") / pl.col("cycle_days")).alias("cycles_since_bought_it"),
        pl.col("purchases").fill_null(0).cast(pl.Float64),
    )


def feature_columns(methods: tuple[str, ...]) -> list[str]:
    """The ranker's inputs, in a fixed order."""
    return [*(f"{m}_{part}" for m in methods for part in ("score", "rank")),
            "item_popularity", "item_recent_buyers", "item_price", "item_age_days", "item_days_on_sale", "cycle_days",
            "category_share", "interest_match", "purchases", "days_since_last_purchase", "price_misfit",
            "days_since_bought_it", "times_bought_it", "cycles_since_bought_it"]

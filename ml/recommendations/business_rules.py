"""Business rules, applied last to every ranked list: only what can be bought, nothing the customer
just bought (unless a consumable is due again) or sent back, a few per category, top K. A customer
who opted out of personalization gets the shop's non-personalized list, flagged as such."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from ml.recommendations.buy_again import DUE_FROM, last_purchases
from ml.recommendations.inputs import RecommendationInputs

LIST_SCHEMA = {"customer_id": pl.String, "rank": pl.Int64, "sku": pl.String, "score": pl.Float64,
               "reason": pl.String, "is_personalized": pl.Boolean}


@dataclass(frozen=True)
class RuleSettings:
    """top_k items per customer; at most max_per_category of one category; nothing bought within
    recent_purchase_days again, unless it is a consumable due for re-buy."""

    top_k: int = 10
    max_per_category: int = 3
    recent_purchase_days: int = 180


UNCATEGORIZED = "Uncategorized"
"""What dim_products files a product under when nothing in the export names a known category."""


def sellable_skus(products: pl.DataFrame) -> pl.DataFrame:
    """SKUs a customer can buy now: active, published, and in stock (or with untracked inventory),
    with the group the diversity rule counts them in (`category`)."""
    return products.filter(~pl.col("is_archived") & pl.col("is_published") & pl.col("is_in_stock").fill_null(True)
                           ).select("sku", diversity_group().alias("category"))


def diversity_group() -> pl.Expr:
    """The category, or where the catalog names none the shop's own product type, or else the SKU
    itself: a shop whose products are all "Uncategorized" would otherwise get three-item lists."""
    known = pl.when(pl.col("category").is_null() | (pl.col("category") == UNCATEGORIZED)).then(None).otherwise(pl.col("category"))
    return pl.coalesce(known, pl.col("product_type").replace("", None), pl.col("sku"))


def _blocked(inputs: RecommendationInputs, cycles: pl.DataFrame, settings: RuleSettings) -> pl.DataFrame:
    """customer_id, sku pairs no list may show: sent back, or bought lately and not due again."""
    returned = inputs.purchases.filter(pl.col("is_returned")).select("customer_id", "sku")
    lately = last_purchases(inputs).filter(pl.col("days_since") < settings.recent_purchase_days).join(
        cycles.select("sku", "cycle_days"), on="sku", how="left")
    not_due = lately.filter(pl.col("cycle_days").is_null() | (pl.col("days_since") < DUE_FROM * pl.col("cycle_days")))
    return pl.concat([returned, not_due.select("customer_id", "sku")]).unique()


def admissible(candidates: pl.DataFrame, inputs: RecommendationInputs, cycles: pl.DataFrame,
               settings: RuleSettings = RuleSettings()) -> pl.DataFrame:
    """The rows of `candidates` (customer_id, sku, ...) that a list may show: sellable and not
    blocked for the customer. Filtering before ranking costs nothing in quality (a row's score does
    not depend on the others) and spares scoring the rows the rules would drop."""
    own = inputs.for_customers(candidates["customer_id"])
    return candidates.join(sellable_skus(inputs.products).select("sku"), on="sku", how="semi").join(
        _blocked(own, cycles, settings), on=["customer_id", "sku"], how="anti")


def apply_rules(ranked: pl.DataFrame, inputs: RecommendationInputs, cycles: pl.DataFrame,
                settings: RuleSettings = RuleSettings()) -> pl.DataFrame:
    """Each customer's final list (LIST_SCHEMA) from `ranked` (customer_id, sku, score, reason;
    higher scores first): the rules above, then the first `top_k` that remain."""
    candidates = admissible(ranked.unique(["customer_id", "sku"], keep="first"), inputs, cycles, settings).join(
        sellable_skus(inputs.products), on="sku", how="inner")
    ordered = candidates.sort(["customer_id", "score", "sku"], descending=[False, True, False])
    diverse = ordered.filter(pl.int_range(pl.len()).over("customer_id", "category") < settings.max_per_category)
    return _numbered(diverse.group_by("customer_id", maintain_order=True).head(settings.top_k), True)


def _numbered(lists: pl.DataFrame, personalized: bool) -> pl.DataFrame:
    return lists.with_columns(
        (pl.int_range(pl.len()).over("customer_id") + 1).alias("rank"), pl.lit(personalized).alias("is_personalized")
    ).select(pl.col(name).cast(dtype) for name, dtype in LIST_SCHEMA.items())


def non_personalized_lists(customer_ids: pl.Series, popular: pl.DataFrame, products: pl.DataFrame,
                           settings: RuleSettings = RuleSettings()) -> pl.DataFrame:
    """The same list for each of `customer_ids` from `popular` (sku, score; best first), knowing
    nothing about them: sellable, a few per category, top K, `is_personalized` false."""
    shop_list = popular.join(sellable_skus(products), on="sku", how="inner").sort("score", "sku", descending=[True, False])
    shop_list = shop_list.filter(pl.int_range(pl.len()).over("category") < settings.max_per_category).head(settings.top_k)
    people = pl.DataFrame({"customer_id": customer_ids.cast(pl.String)}).unique(maintain_order=True)
    return _numbered(people.join(shop_list.with_columns(pl.lit("popular right now").alias("reason")), how="cross"), False)


def final_lists(ranked: pl.DataFrame, inputs: RecommendationInputs, cycles: pl.DataFrame, popular: pl.DataFrame,
                settings: RuleSettings = RuleSettings()) -> pl.DataFrame:
    """Lists for every customer in `inputs.customers`: personalized ones from `ranked` for those who
    did not opt out; the non-personalized list for those who did (and for anyone `ranked` misses)."""
    opted_out = inputs.customers.filter(pl.col("is_personalization_withheld").fill_null(False))["customer_id"]
    personal = apply_rules(ranked.join(opted_out.to_frame(), on="customer_id", how="anti"), inputs, cycles, settings)
    uncovered = inputs.customers.join(personal.select("customer_id").unique(), on="customer_id", how="anti")
    return pl.concat([personal, non_personalized_lists(uncovered["customer_id"], popular, inputs.products, settings)]
                     ).sort("customer_id", "rank")

"""Content-based candidates on a tiny hand-made shop: two product lines (Juniper, Alder) across categories."""

from datetime import date, datetime, timedelta

import polars as pl
from polars.testing import assert_frame_equal

from ml.recommendations.content_based import content_candidates
from ml.recommendations.inputs import PRODUCT_SCHEMA, RecommendationInputs

AS_OF = datetime(2026, 6, 1)
# sku, title, category, vendor, product_type, tags
CATALOG = [
    ("APP-1", "Juniper Hoodie", "Apparel", "Loom & Pine", "Hoodie", ["apparel"]),
    ("APP-2", "Juniper Tee", "Apparel", "Loom & Pine", "Tee", ["apparel", "summer"]),
    ("APP-3", "Juniper Jogger", "Apparel", "Loom & Pine", "Jogger", []),
    ("APP-4", "Alder Hoodie", "Apparel", "Fieldhouse Apparel", "Hoodie", ["apparel"]),
    ("APP-5", "Alder Tee", "Apparel", "Fieldhouse Apparel", "Tee", ["apparel", "summer"]),
    ("APP-6", "Birch Tee", "Apparel", "Loom & Pine", "Tee", ["apparel"]),
    ("OUT-1", "Ridge Tent", "Outdoor", "Ridgeline Gear", "Tent", ["outdoor"]),
    ("OUT-2", "Ridge Sleeping Bag", "Outdoor", "Ridgeline Gear", "Sleeping Bag", ["outdoor"]),
    ("OUT-3", "Cedar Backpack", "Outdoor", "Basecamp Supply", "Backpack", ["outdoor", "gift"]),
    ("OUT-4", "Juniper Lantern", "Outdoor", "Basecamp Supply", "Lantern", []),
    ("FOO-1", "Alder Trail Runner", "Footwear", "Stride Co.", "Shoes", ["footwear"]),
    ("HOM-1", "Oak Mug", "Home", "Hearth & Co.", "Mug", ["home", "gift"]),
    ("HOM-2", "Oak Blanket", "Home", "Hearth & Co.", "Blanket", ["home"]),
]
LAUNCHED_YESTERDAY = ("APP-7", "Juniper Vest", "Apparel", "Loom & Pine", "Vest", ["apparel", "new-arrival"])


def _products(rows: list[tuple[str, str, str, str, str, list[str]]]) -> pl.DataFrame:
    frame = pl.DataFrame(rows, schema=["sku", "title", "category", "vendor", "product_type", "tags"], orient="row")
    return frame.with_columns(price=25.0, is_archived=False, is_published=True, is_in_stock=True,
                              first_seen_date=pl.when(pl.col("sku") == LAUNCHED_YESTERDAY[0]).then(AS_OF.date() - timedelta(days=1))
                              .otherwise(date(2025, 1, 1))).cast(PRODUCT_SCHEMA)  # type: ignore[arg-type]


def _crowd(sku: str, buyers: int) -> list[tuple[str, str, int, bool]]:
    """Other customers buying `sku` last week: what makes a product popular."""
    return [(f"crowd-{sku}-{i}", sku, 7, False) for i in range(buyers)]


# The crowd makes Alder and Birch the bestsellers, so only taste can put Juniper first.
CROWD = _crowd("APP-4", 30) + _crowd("APP-5", 30) + _crowd("APP-6", 20) + _crowd("OUT-1", 10) + _crowd("HOM-1", 5)


def _inputs(purchases: list[tuple[str, str, int, bool]], interests: dict[str, list[str]] | None = None,
            catalog: list[tuple[str, str, str, str, str, list[str]]] = CATALOG, opted_out: frozenset[str] = frozenset()) -> RecommendationInputs:
    """purchases: customer_id, sku, days before AS_OF (0 or less: at or after it), is_returned."""
    bought = pl.DataFrame([(c, s, AS_OF - timedelta(days=d), 1, r) for c, s, d, r in purchases + CROWD],
                          schema=["customer_id", "sku", "ordered_at", "quantity", "is_returned"], orient="row")
    customers = pl.DataFrame({"customer_id": list(interests or {}), "interests": list((interests or {}).values()),
                              "country_code": "DK", "is_personalization_withheld": [c in opted_out for c in interests or {}]},
                             schema_overrides={"interests": pl.List(pl.String)})
    return RecommendationInputs.of(bought, _products(catalog), customers, AS_OF)


def test_customer_without_orders_gets_products_of_their_stated_interest() -> None:
    result = content_candidates(_inputs([], {"newcomer": ["Outdoor"]}), ["newcomer"], 4)
    assert set(result["sku"]) == {"OUT-1", "OUT-2", "OUT-3", "OUT-4"}
    assert set(result["reason"]) == {"matches your interest in Outdoor"}
    assert result["sku"][0] == "OUT-1"  # among equals in taste, the one people bought lately


def test_product_without_sales_is_recommended_to_buyers_of_its_line() -> None:
    inputs = _inputs([("fan", "APP-1", 30, False)], catalog=[*CATALOG, LAUNCHED_YESTERDAY])
    result = content_candidates(inputs, ["fan"], 3)
    vest = result.filter(pl.col("sku") == "APP-7")
    assert vest["reason"].to_list() == ["like the Juniper Hoodie you bought"]


def test_buyer_of_a_line_gets_that_line_before_bestsellers_of_the_category() -> None:
    inputs = _inputs([("fan", "APP-1", 30, False), ("fan", "APP-2", 60, False)], catalog=[*CATALOG, LAUNCHED_YESTERDAY])
    ranked = content_candidates(inputs, ["fan"], 20)["sku"].to_list()
    assert set(ranked[:2]) == {"APP-3", "APP-7"}  # the other Juniper apparel, neither of which sold lately
    assert set(ranked[2:5]) == {"APP-4", "APP-5", "APP-6"}  # then the category's bestselling other lines
    assert ranked.index("OUT-4") > 4  # a Juniper product of another category comes after the category's


def test_returned_purchases_do_not_shape_the_profile() -> None:
    inputs = _inputs([("keeper", "HOM-1", 10, False), ("returner", "HOM-1", 10, False), ("returner", "OUT-1", 5, True)])
    result = content_candidates(inputs, ["keeper", "returner"], 5)
    assert_frame_equal(result.filter(pl.col("customer_id") == "returner").drop("customer_id"),
                       result.filter(pl.col("customer_id") == "keeper").drop("customer_id"))


def test_purchases_at_or_after_as_of_are_ignored() -> None:
    before = [("buyer", "HOM-1", 10, False)]
    later = [("buyer", "OUT-2", 0, False), ("buyer", "OUT-3", -3, False), ("crowd-late", "APP-3", -1, False)]
    assert_frame_equal(content_candidates(_inputs(before + later), ["buyer"], 6), content_candidates(_inputs(before), ["buyer"], 6))


def test_unknown_and_opted_out_customers_get_no_rows() -> None:
    inputs = _inputs([("buyer", "HOM-1", 10, False)], {"private": ["Home"]}, opted_out=frozenset({"private"}))
    result = content_candidates(inputs, ["stranger", "private", "buyer"], 3)
    assert set(result["customer_id"]) == {"buyer"}


def test_at_most_n_rows_per_customer() -> None:
    inputs = _inputs([("buyer", "HOM-1", 10, False)], {"buyer": ["Home"], "newcomer": ["Books", "Apparel"]})
    result = content_candidates(inputs, ["buyer", "newcomer"], 2)
    assert result.group_by("customer_id").len().sort("customer_id").rows() == [("buyer", 2), ("newcomer", 2)]


def test_what_the_customer_kept_is_not_proposed_again_in_any_variant() -> None:
    large_mug = ("HOM-3", "Oak Mug", "Home", "Hearth & Co.", "Mug", ["home", "gift"])
    inputs = _inputs([("buyer", "HOM-1", 10, False)], {"buyer": ["Home"]}, catalog=[*CATALOG, large_mug])
    result = content_candidates(inputs, ["buyer"], 100)
    assert result["sku"][0] == "HOM-2" and not {"HOM-1", "HOM-3"} & set(result["sku"])

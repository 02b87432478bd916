"""Each business rule holds on the final lists, and fails its test when the rule is taken out."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl

from ml.recommendations.business_rules import RuleSettings, apply_rules, final_lists
from ml.recommendations.buy_again import repurchase_cycles
from ml.recommendations.inputs import RecommendationInputs

AS_OF = datetime(2026, 6, 1)


def _product(sku: str, category: str = "Home", **flags: object) -> dict:
    return {"sku": sku, "title": f"Item {sku}", "category": category, "vendor": "V", "product_type": "T", "tags": [],
            "price": 20.0, "is_archived": False, "is_published": True, "is_in_stock": True,
            "first_seen_date": date(2025, 1, 1), **flags}


def _inputs(purchases: list[tuple[str, str, int, bool]], products: list[dict], opted_out: tuple[str, ...] = ()
            ) -> RecommendationInputs:
    """purchases: (customer, sku, days before AS_OF, returned)."""
    bought = pl.DataFrame([{"customer_id": c, "sku": s, "ordered_at": AS_OF - timedelta(days=d), "quantity": 1,
                            "is_returned": r} for c, s, d, r in purchases],
                          schema={"customer_id": pl.String, "sku": pl.String, "ordered_at": pl.Datetime("us"),
                                  "quantity": pl.Int64, "is_returned": pl.Boolean})
    customers = sorted({c for c, *_ in purchases} | {"new", *opted_out})
    return RecommendationInputs.of(bought, pl.DataFrame(products), pl.DataFrame({
        "customer_id": customers, "interests": [[] for _ in customers], "country_code": ["US"] * len(customers),
        "is_personalization_withheld": [c in opted_out for c in customers]}), AS_OF)


def _ranked(customer: str, skus: list[str]) -> pl.DataFrame:
    return pl.DataFrame({"customer_id": customer, "sku": skus, "score": [float(len(skus) - k) for k in range(len(skus))],
                         "reason": "because"})


def _listed(inputs: RecommendationInputs, skus: list[str], settings: RuleSettings = RuleSettings()) -> list[str]:
    lists = apply_rules(_ranked("ann", skus), inputs, repurchase_cycles(inputs), settings)
    return lists.sort("rank")["sku"].to_list()


def test_archived_unpublished_and_out_of_stock_products_are_never_recommended():
    products = [_product("ok"), _product("gone", is_archived=True), _product("hidden", is_published=False),
                _product("sold_out", is_in_stock=False), _product("untracked", is_in_stock=None)]
    inputs = _inputs([("ann", "ok", 400, False)], products)
    assert _listed(inputs, ["gone", "hidden", "sold_out", "untracked", "ok", "unknown_sku"]) == ["untracked", "ok"]


def test_what_the_customer_bought_recently_is_not_recommended_again():
    inputs = _inputs([("ann", "lamp", 20, False), ("ann", "old", 400, False)],
                     [_product("lamp"), _product("old"), _product("rug")])
    assert _listed(inputs, ["lamp", "old", "rug"]) == ["old", "rug"]


def test_a_consumable_comes_back_once_it_is_due_and_not_before():
    # 30 people re-buy the candle every 60 days: a consumable with a 60-day cycle.
    history = [(f"c{k}", "candle", d, False) for k in range(30) for d in (300, 240, 180)]
    products = [_product("candle"), _product("rug")]
    due = _inputs(history + [("ann", "candle", 58, False)], products)
    early = _inputs(history + [("ann", "candle", 10, False)], products)
    assert repurchase_cycles(due)["sku"].to_list() == ["candle"]
    assert _listed(due, ["candle", "rug"]) == ["candle", "rug"]
    assert _listed(early, ["candle", "rug"]) == ["rug"]


def test_items_the_customer_sent_back_are_never_recommended():
    inputs = _inputs([("ann", "kettle", 400, True)], [_product("kettle"), _product("rug")])
    assert _listed(inputs, ["kettle", "rug"]) == ["rug"]


def test_at_most_n_products_of_one_category_make_the_list():
    products = [_product(f"h{k}", "Home") for k in range(5)] + [_product("b1", "Books")]
    inputs = _inputs([("ann", "b1", 400, False)], products)
    assert _listed(inputs, [f"h{k}" for k in range(5)] + ["b1"], RuleSettings(max_per_category=2)) == ["h0", "h1", "b1"]


def test_lists_stop_at_top_k_and_are_numbered_from_one():
    products = [_product(f"p{k}", f"C{k}") for k in range(20)]
    inputs = _inputs([("ann", "p0", 400, False)], products)
    lists = apply_rules(_ranked("ann", [f"p{k}" for k in range(20)]), inputs, repurchase_cycles(inputs), RuleSettings(top_k=5))
    assert lists["rank"].to_list() == [1, 2, 3, 4, 5]


def test_a_customer_who_opted_out_gets_the_shops_list_flagged_not_personalized():
    customer = "opted_out"
    products = [_product(f"p{k}", f"C{k}") for k in range(12)]
    inputs = _inputs([("ann", "p0", 400, False), (customer, "p1", 5, False)], products, opted_out=(customer,))
    ranked = pl.concat([_ranked("ann", ["p5", "p6"]), _ranked(customer, ["p7", "p8"])])
    popular = pl.DataFrame({"sku": [f"p{k}" for k in range(12)], "score": [float(12 - k) for k in range(12)]})
    lists = final_lists(ranked, inputs, repurchase_cycles(inputs), popular)
    theirs = lists.filter(pl.col("customer_id") == customer)
    assert not theirs["is_personalized"].any()
    # The shop's list, not one shaped by what they bought (p1 stays in it) or by their ranking.
    assert theirs["sku"].to_list() == [f"p{k}" for k in range(10)]
    assert set(theirs["reason"]) == {"popular right now"}
    assert lists.filter(pl.col("customer_id") == "ann")["is_personalized"].all()
    # A customer no method covered still gets a list, honestly flagged.
    assert not lists.filter(pl.col("customer_id") == "new")["is_personalized"].any()


def test_a_catalog_without_known_categories_is_diversified_by_product_type_not_cut_to_three():
    products = [_product(f"m{k}", "Uncategorized", product_type="MEAT") for k in range(5)] + [
        _product(f"d{k}", "Uncategorized", product_type="DAIRY") for k in range(5)] + [_product("x", None, product_type="")]
    inputs = _inputs([("ann", "x", 400, False)], products)
    listed = _listed(inputs, [f"m{k}" for k in range(5)] + [f"d{k}" for k in range(5)] + ["x"])
    assert listed == ["m0", "m1", "m2", "d0", "d1", "d2", "x"]

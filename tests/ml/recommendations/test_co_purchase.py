"""Bought-together similarities and candidates on hand-made purchase histories."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl
import pytest

from ml.recommendations.co_purchase import SHRINK, co_purchase_candidates, item_similarities
from ml.recommendations.inputs import CANDIDATE_SCHEMA, RecommendationInputs

START = datetime(2026, 1, 1)
AS_OF = START + timedelta(days=200)
TITLES = {"tent": "Alpine Tent 2P", "bag": "Down Sleeping Bag", "stove": "Camp Stove", "gas": "Gas Canister",
          "water": "Water Bottle", "lamp": "Head Lamp"}


def _inputs(purchases: list[tuple[str, str, int, bool]], as_of: datetime = AS_OF) -> RecommendationInputs:
    """purchases: (customer, sku, days after START, returned)."""
    bought = pl.DataFrame([{"customer_id": c, "sku": s, "ordered_at": START + timedelta(days=d), "quantity": 1, "is_returned": r}
                           for c, s, d, r in purchases],
                          schema={"customer_id": pl.String, "sku": pl.String, "ordered_at": pl.Datetime("us"),
                                  "quantity": pl.Int64, "is_returned": pl.Boolean})
    products = pl.DataFrame([{"sku": sku, "title": title, "category": "Outdoor", "vendor": "V", "product_type": "T", "tags": [],
                              "price": 50.0, "is_archived": False, "is_published": True, "is_in_stock": True,
                              "first_seen_date": date(2025, 1, 1)} for sku, title in TITLES.items()])
    customers = sorted({c for c, *_ in purchases} | {"nobody"})
    return RecommendationInputs.of(bought, products, pl.DataFrame({
        "customer_id": customers, "interests": [[] for _ in customers], "country_code": ["US"] * len(customers),
        "is_personalization_withheld": [False] * len(customers)}), as_of)


def _camping(returned_bag: bool = False) -> list[tuple[str, str, int, bool]]:
    """Tent buyers come back for a sleeping bag 20 days later; the first two also took a lamp with the tent."""
    return ([(f"t{k}", "tent", 10, False) for k in range(6)] + [(f"t{k}", "bag", 30, returned_bag) for k in range(6)]
            + [(f"t{k}", "lamp", 10, False) for k in range(2)])


def _pair(similarities: pl.DataFrame, sku: str, similar_sku: str) -> pl.DataFrame:
    return similarities.filter((pl.col("sku") == sku) & (pl.col("similar_sku") == similar_sku))


def test_a_sleeping_bag_bought_after_the_tent_is_its_top_neighbour_and_offered_to_a_new_tent_buyer() -> None:
    inputs = _inputs([*_camping(), ("new", "tent", 150, False)])
    similarities = item_similarities(inputs)
    assert similarities.filter(pl.col("sku") == "tent")["similar_sku"].to_list() == ["bag", "lamp"]
    # support 6 of 6 and 7 buyers (the new tent buyer counts towards the tent's buyers).
    assert _pair(similarities, "tent", "bag").row(0) == ("tent", "bag", pytest.approx(6 / ((7 * 6) ** 0.5 + SHRINK)), 6)
    candidates = co_purchase_candidates(inputs, ["new"], 1, similarities)
    assert candidates.select("customer_id", "sku", "reason").rows() == [("new", "bag", "bought together with Alpine Tent 2P")]


def test_an_item_everyone_buys_is_not_everyones_top_neighbour() -> None:
    # 5 of 6 tent buyers take the bag, 5 of 6 stove buyers the gas; all 40 customers buy the water bottle.
    pairs = [(f"t{k}", "tent", 10, False) for k in range(6)] + [(f"t{k}", "bag", 20, False) for k in range(5)]
    pairs += [(f"s{k}", "stove", 10, False) for k in range(6)] + [(f"s{k}", "gas", 20, False) for k in range(5)]
    everyone = sorted({c for c, *_ in pairs} | {f"o{k}" for k in range(28)})
    similarities = item_similarities(_inputs(pairs + [(c, "water", 15, False) for c in everyone]))
    top = similarities.filter(pl.col("sku") != "water").group_by("sku").agg(pl.col("similar_sku").first())
    assert dict(top.rows()) == {"tent": "bag", "bag": "tent", "stove": "gas", "gas": "stove"}
    # Raw counts would have picked the water bottle: more tent buyers bought it than the bag.
    assert _pair(similarities, "tent", "water")["support"].item() > _pair(similarities, "tent", "bag")["support"].item()


@pytest.mark.parametrize(("days_apart", "counted"), [
    (0, True),    # the same order
    (90, True),   # a later order, on the window's last day
    (91, False),  # a day too late: the two purchases are unrelated
])
def test_only_purchases_within_the_window_make_a_pair(days_apart: int, counted: bool) -> None:
    inputs = _inputs([(f"t{k}", "tent", 10, False) for k in range(3)] + [(f"t{k}", "bag", 10 + days_apart, False) for k in range(3)])
    assert _pair(item_similarities(inputs, window_days=90), "tent", "bag").height == int(counted)


def test_returned_purchases_are_no_evidence() -> None:
    similarities = item_similarities(_inputs(_camping(returned_bag=True)))
    assert similarities.filter(pl.col("similar_sku") == "bag").is_empty()
    assert similarities.filter(pl.col("sku") == "tent")["similar_sku"].to_list() == ["lamp"]


def test_min_support_drops_pairs_only_one_customer_bought() -> None:
    # One customer buying the stove twice after the tent is still one customer.
    inputs = _inputs([*_camping(), ("t0", "stove", 12, False), ("t0", "stove", 14, False)])
    assert _pair(item_similarities(inputs), "tent", "stove").is_empty()
    assert _pair(item_similarities(inputs, min_support=1), "tent", "stove")["support"].to_list() == [1]


def test_a_sku_is_never_its_own_neighbour_nor_proposed_through_itself() -> None:
    # Everyone buys the tent twice (a second one for the kids), so it co-occurs with itself in every history.
    inputs = _inputs([*_camping(), *[(f"t{k}", "tent", 40, False) for k in range(6)], ("new", "tent", 150, False)])
    similarities = item_similarities(inputs, min_support=1)
    assert similarities.filter(pl.col("sku") == pl.col("similar_sku")).is_empty()
    assert "tent" not in co_purchase_candidates(inputs, ["new"], 10, similarities)["sku"].to_list()


def test_recent_purchases_weigh_more_and_name_the_reason() -> None:
    # Two equally strong pairs; the customer bought the tent 150 days ago and the stove 30 days ago.
    pairs = [(f"t{k}", "tent", 10, False) for k in range(4)] + [(f"t{k}", "bag", 20, False) for k in range(4)]
    pairs += [(f"s{k}", "stove", 10, False) for k in range(4)] + [(f"s{k}", "gas", 20, False) for k in range(4)]
    inputs = _inputs([*pairs, ("new", "tent", 50, False), ("new", "stove", 170, False)])
    similarities = item_similarities(inputs)
    candidates = co_purchase_candidates(inputs, ["new"], 2, similarities).sort("score", descending=True)
    assert candidates.select("sku", "reason").rows() == [("gas", "bought together with Camp Stove"),
                                                         ("bag", "bought together with Alpine Tent 2P")]
    # A similarity times 0.5 ** (age in days / 30): 30 days ago halves it, 150 days ago leaves 1/32.
    assert candidates["score"].to_list() == pytest.approx([_pair(similarities, "stove", "gas")["score"].item() / 2,
                                                           _pair(similarities, "tent", "bag")["score"].item() / 32])


def test_customers_without_purchases_get_no_candidates() -> None:
    inputs = _inputs(_camping())
    candidates = co_purchase_candidates(inputs, ["nobody", "never_seen"], 5)
    assert candidates.is_empty() and candidates.schema == pl.Schema(CANDIDATE_SCHEMA)


def test_purchases_from_the_cutoff_on_are_not_seen() -> None:
    # The bags are bought on day 30 and the new customer's tent on day 150: a cutoff at day 30 sees neither.
    inputs = _inputs([*_camping(), ("new", "tent", 150, False)]).before(START + timedelta(days=30))
    assert item_similarities(inputs).filter(pl.col("similar_sku") == "bag").is_empty()
    assert co_purchase_candidates(inputs, ["new"], 5).is_empty()

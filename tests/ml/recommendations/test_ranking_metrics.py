"""Top-k ranking metrics on tiny hand-computed lists."""

import math

import polars as pl
import pytest
from sklearn.metrics import ndcg_score

from ml.recommendations.ranking_metrics import ranking_metrics

LOG2_3 = math.log2(3)


def _lists(rows: list[tuple[str, str, int]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"customer_id": pl.String, "sku": pl.String, "rank": pl.Int64}, orient="row")


def _bought(rows: list[tuple[str, str]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"customer_id": pl.String, "sku": pl.String}, orient="row")


def test_worked_example_matches_hand_computation():
    recommended = _lists([
        ("a", "p", 1), ("a", "q", 2), ("a", "r", 3),
        ("b", "s", 1), ("b", "t", 2),  # fewer than k: precision still divides by k
        ("c", "p", 1), ("c", "q", 2),  # bought nothing: not evaluated, but counts for coverage
    ])
    relevant = _bought([("a", "p"), ("a", "r"), ("b", "t"), ("b", "u"), ("b", "v"), ("b", "w"), ("d", "p")])
    result = ranking_metrics(recommended, relevant, k=3, catalog_skus=10)
    # a: hits at ranks 1 and 3 of 2 bought. precision 2/3, recall 1, DCG 1/log2(2) + 1/log2(4) = 1.5,
    #    ideal DCG (min(3, 2) = 2 hits) 1 + 1/log2(3), AP (1/1 + 2/3) / 2.
    # b: hit at rank 2 of 4 bought. precision 1/3, recall 1/4, DCG 1/log2(3),
    #    ideal DCG (min(3, 4) = 3 hits) 1 + 1/log2(3) + 1/2, AP (1/2) / 3.
    # d: bought p, got no list: all zero. Evaluated customers: a, b, d.
    assert result == pytest.approx({
        "precision_at_k": (2 / 3 + 1 / 3 + 0) / 3,
        "recall_at_k": (1 + 1 / 4 + 0) / 3,
        "ndcg_at_k": (1.5 / (1 + 1 / LOG2_3) + (1 / LOG2_3) / (1 + 1 / LOG2_3 + 1 / 2) + 0) / 3,
        "map_at_k": ((1 + 2 / 3) / 2 + (1 / 2) / 3 + 0) / 3,
        "hit_rate_at_k": 2 / 3,
        "catalog_coverage": 5 / 10,  # p, q, r, s, t
        "novelty": math.nan,
        "evaluated_customers": 3.0,
    }, nan_ok=True)


def test_ranks_beyond_k_are_ignored():
    recommended = _lists([("a", "x", 1), ("a", "z", 2), ("a", "y", 3)])
    result = ranking_metrics(recommended, _bought([("a", "y")]), k=2, catalog_skus=10)
    # y was bought but sits at rank 3 > k: no hit, and it is not part of the covered catalog.
    assert (result["precision_at_k"], result["recall_at_k"], result["hit_rate_at_k"]) == (0.0, 0.0, 0.0)
    assert result["catalog_coverage"] == pytest.approx(2 / 10)


def test_duplicate_purchases_count_once():
    recommended = _lists([("a", "x", 1), ("a", "y", 2)])
    result = ranking_metrics(recommended, _bought([("a", "x"), ("a", "x"), ("a", "z")]), k=2, catalog_skus=10)
    # Bought {x, z}: one hit at rank 1 of 2 relevant items, not two hits of three.
    assert result["precision_at_k"] == pytest.approx(1 / 2)
    assert result["recall_at_k"] == pytest.approx(1 / 2)
    assert result["ndcg_at_k"] == pytest.approx(1 / (1 + 1 / LOG2_3))
    assert result["map_at_k"] == pytest.approx(1 / 2)


def test_sku_listed_twice_counts_once_at_its_best_rank():
    recommended = _lists([("a", "x", 1), ("a", "x", 2)])
    result = ranking_metrics(recommended, _bought([("a", "x")]), k=2, catalog_skus=10)
    # One hit at rank 1: NDCG 1 (not 1/log2(3) for rank 2), precision 1/2 (not 2/2).
    assert (result["precision_at_k"], result["ndcg_at_k"]) == pytest.approx((1 / 2, 1.0))


def test_customer_who_bought_without_a_list_counts_as_a_miss():
    result = ranking_metrics(_lists([("b", "x", 1)]), _bought([("a", "x")]), k=5, catalog_skus=10)
    assert result["evaluated_customers"] == 1.0
    assert (result["precision_at_k"], result["recall_at_k"], result["ndcg_at_k"], result["map_at_k"], result["hit_rate_at_k"]) == (0.0,) * 5


def test_ndcg_agrees_with_sklearn_for_one_customer():
    # List b, a, d, c (k = 3 cuts c); bought b, d, e, f: more relevant items than k, so the ideal is 3 hits.
    recommended = _lists([("a", "b", 1), ("a", "a", 2), ("a", "d", 3), ("a", "c", 4)])
    relevant = _bought([("a", "b"), ("a", "d"), ("a", "e"), ("a", "f")])
    # Items a..f: relevance and scores that order them as the list does, unlisted items last.
    expected = ndcg_score([[0, 1, 0, 1, 1, 1]], [[3, 4, 1, 2, 0, 0]], k=3)
    assert ranking_metrics(recommended, relevant, k=3, catalog_skus=10)["ndcg_at_k"] == pytest.approx(expected)
    assert expected == pytest.approx((1 + 1 / 2) / (1 + 1 / LOG2_3 + 1 / 2))


def test_coverage_and_novelty_on_a_tiny_catalog():
    recommended = _lists([("a", "x", 1), ("a", "y", 2), ("b", "x", 1), ("b", "z", 2), ("b", "y", 3), ("c", "w", 1)])
    popularity = pl.DataFrame({"sku": ["x", "y", "w"], "interactions": [6, 2, 0]})
    result = ranking_metrics(recommended, _bought([("a", "x")]), k=2, catalog_skus=5, item_popularity=popularity)
    assert result["catalog_coverage"] == pytest.approx(4 / 5)  # x, y, z, w
    # 8 interactions: x 6/8, y 2/8; z (absent) and w (zero) count as one, 1/8, rather than infinitely novel.
    # Mean over the five top-2 slots x, y, x, z, w; b's y at rank 3 does not count.
    assert result["novelty"] == pytest.approx((2 * math.log2(8 / 6) + math.log2(4) + 2 * math.log2(8)) / 5)


def test_no_purchases_gives_nan_accuracy_and_still_coverage():
    # Built without a schema, as an empty query result often is: its columns have the null dtype.
    no_purchases = pl.DataFrame({"customer_id": [], "sku": []})
    result = ranking_metrics(_lists([("a", "x", 1)]), no_purchases, k=3, catalog_skus=2)
    assert all(math.isnan(result[name]) for name in ("precision_at_k", "recall_at_k", "ndcg_at_k", "map_at_k", "hit_rate_at_k"))
    assert result["evaluated_customers"] == 0.0
    assert result["catalog_coverage"] == pytest.approx(1 / 2)


@pytest.mark.parametrize(("arguments", "message"), [
    ({"relevant": pl.DataFrame({"customer_id": ["a"]})}, r"relevant lacks column\(s\) \['sku'\]"),
    ({"recommended": pl.DataFrame({"customer_id": ["a"], "sku": ["x"]})}, r"recommended lacks column\(s\) \['rank'\]"),
    ({"k": 0}, "k must be at least 1"),
    ({"catalog_skus": 0}, "catalog_skus must be at least 1"),
])
def test_invalid_input_is_rejected_with_a_clear_message(arguments, message):
    call = {"recommended": _lists([("a", "x", 1)]), "relevant": _bought([("a", "x")]), "k": 3, "catalog_skus": 10} | arguments
    with pytest.raises(ValueError, match=message):
        ranking_metrics(call.pop("recommended"), call.pop("relevant"), **call)

"""ALS on purchases with a planted structure: two groups of customers, each buying only from its own
half of the catalogue, so a working factorisation recommends and relates SKUs within the group."""

import inspect
import warnings
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from implicit.cpu.als import AlternatingLeastSquares
from polars.testing import assert_frame_equal

from ml.recommendations.collaborative_filtering import CollaborativeFiltering, CollaborativeSettings

ITEMS = 40
# The production defaults: they recover the planted groups (16 factors, on this tiny catalogue, do not).
SETTINGS = CollaborativeSettings()


def _group(identifier: str) -> int:
    """Customers c0..c199 and SKUs s0..s39: the first half of each is group 0, the second group 1."""
    number = int(identifier[1:])
    return int(number >= (100 if identifier[0] == "c" else ITEMS // 2))


def _purchases(seed: int = 0, customers: int = 200) -> pl.DataFrame:
    """Each customer buys 6 SKUs from their group's 20, some twice (duplicated rows to be summed)."""
    rng = np.random.default_rng(seed)
    rows = []
    for customer in range(customers):
        half = int(customer >= customers // 2) * ITEMS // 2
        for item in rng.choice(ITEMS // 2, size=6, replace=False) + half:
            rows += [(f"c{customer}", f"s{item}", float(rng.uniform(0.5, 2.0)))] * int(rng.integers(1, 3))
    return pl.DataFrame(rows, schema={"customer_id": pl.String, "sku": pl.String, "weight": pl.Float64}, orient="row")


@pytest.fixture(scope="module")
def purchases() -> pl.DataFrame:
    return _purchases()


@pytest.fixture(scope="module")
def model(purchases: pl.DataFrame) -> CollaborativeFiltering:
    return CollaborativeFiltering.fit(purchases, SETTINGS)


def _seen(purchases: pl.DataFrame) -> set[tuple[str, str]]:
    return set(purchases.select("customer_id", "sku").iter_rows())


def test_unseen_recommendations_come_from_the_customers_own_group(model: CollaborativeFiltering, purchases: pl.DataFrame) -> None:
    recommended = model.recommend(model.customer_ids, 5, exclude_seen=True)
    same_group = [_group(customer) == _group(sku) for customer, sku in recommended.select("customer_id", "sku").iter_rows()]
    assert recommended.height == 200 * 5
    assert np.mean(same_group) >= 0.9


def test_exclude_seen_leaves_out_what_the_customer_bought(model: CollaborativeFiltering, purchases: pl.DataFrame) -> None:
    everything = model.recommend(["c3", "c150"], ITEMS)
    unseen = model.recommend(["c3", "c150"], ITEMS, exclude_seen=True)
    bought = _seen(purchases)
    assert any(pair in bought for pair in everything.select("customer_id", "sku").iter_rows())
    assert not any(pair in bought for pair in unseen.select("customer_id", "sku").iter_rows())
    # Only ITEMS - 6 SKUs are left to recommend: no padding rows, ranks run 1..34.
    assert unseen.group_by("customer_id").agg(pl.len(), pl.col("rank").max())["len"].to_list() == [ITEMS - 6] * 2
    assert unseen.filter(pl.col("customer_id") == "c3")["rank"].to_list() == list(range(1, ITEMS - 5))


def test_scores_fall_with_rank(model: CollaborativeFiltering) -> None:
    recommended = model.recommend(["c7"], 10)
    assert recommended["rank"].to_list() == list(range(1, 11))
    assert recommended["score"].is_sorted(descending=True)


def test_allowed_skus_restrict_the_candidates(model: CollaborativeFiltering) -> None:
    allowed = ["s1", "s2", "s25", "s39", "s_unknown"]
    recommended = model.recommend(["c0", "c120"], 10, allowed_skus=allowed)
    assert set(recommended["sku"]) <= set(allowed)
    # Four known allowed SKUs: n is cut to four per customer, without padding.
    assert recommended.group_by("customer_id").len()["len"].to_list() == [4, 4]


def test_unknown_customers_are_absent(model: CollaborativeFiltering) -> None:
    recommended = model.recommend(pl.Series(["new_customer", "c5", "c5"]), 3)
    assert recommended["customer_id"].to_list() == ["c5"] * 3
    assert model.recommend(["new_customer"], 3).columns == ["customer_id", "sku", "score", "rank"]


def test_save_and_load_give_identical_recommendations(model: CollaborativeFiltering, tmp_path: Path) -> None:
    model.save(tmp_path / "als")
    loaded = CollaborativeFiltering.load(tmp_path / "als")
    for options in ({}, {"exclude_seen": True}, {"allowed_skus": ["s1", "s30", "s31"]}):
        assert_frame_equal(loaded.recommend(model.customer_ids, 5, **options), model.recommend(model.customer_ids, 5, **options))
    assert_frame_equal(loaded.similar_items(["s0", "s30"], 3), model.similar_items(["s0", "s30"], 3))
    assert loaded.skus == model.skus and loaded.customer_ids == model.customer_ids


def test_the_same_seed_gives_the_same_model_whatever_the_row_order(purchases: pl.DataFrame, model: CollaborativeFiltering) -> None:
    again = CollaborativeFiltering.fit(purchases.sample(fraction=1.0, shuffle=True, seed=3), SETTINGS)
    np.testing.assert_array_equal(again.user_factors, model.user_factors)
    assert_frame_equal(again.recommend(model.customer_ids, 5), model.recommend(model.customer_ids, 5))


def test_similar_items_come_from_the_same_group_and_exclude_the_item(model: CollaborativeFiltering) -> None:
    similar = model.similar_items(["s0", "s33", "s_unknown"], 5)
    assert similar["sku"].to_list() == ["s0"] * 5 + ["s33"] * 5
    assert similar["rank"].to_list() == [1, 2, 3, 4, 5] * 2
    everything = model.similar_items(model.skus, 5)
    assert (everything["sku"] != everything["similar_sku"]).all()
    assert np.mean([_group(sku) == _group(other) for sku, other in everything.select("sku", "similar_sku").iter_rows()]) >= 0.95


def test_fitting_is_quiet(purchases: pl.DataFrame, monkeypatch: pytest.MonkeyPatch) -> None:
    # implicit checks the BLAS threads once per process: re-arm the check so this test sees it.
    monkeypatch.setattr("implicit.utils._checked_blas_config", False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        CollaborativeFiltering.fit(purchases.head(300), SETTINGS)


def test_non_positive_weights_are_refused(purchases: pl.DataFrame) -> None:
    with pytest.raises(ValueError, match="positive"):
        CollaborativeFiltering.fit(purchases.with_columns(weight=pl.lit(0.0)), SETTINGS)


def test_adapter_implicit_keeps_the_api_this_module_relies_on(purchases: pl.DataFrame) -> None:
    """Fails when an implicit upgrade changes what collaborative_filtering.py calls."""
    recommend = inspect.signature(AlternatingLeastSquares.recommend).parameters
    assert {"userid", "user_items", "N", "filter_already_liked_items", "items"} <= set(recommend)
    assert {"itemid", "N"} <= set(inspect.signature(AlternatingLeastSquares.similar_items).parameters)
    assert {"user_items", "show_progress"} <= set(inspect.signature(AlternatingLeastSquares.fit).parameters)
    assert ["self", "userid", "user_items"] == list(inspect.signature(AlternatingLeastSquares.recalculate_user).parameters)
    model = CollaborativeFiltering.fit(purchases, SETTINGS)
    # implicit swapped users and items in fit() once (0.5): factors must follow our users x items matrix.
    assert model.user_factors.shape == (200, SETTINGS.factors)
    assert model.item_factors.shape == (ITEMS, SETTINGS.factors)
    # A filtered slot is marked by the lowest float32 score, which _recommend_batch drops.
    ids, scores = model._model.recommend(np.array([0]), model._seen[[0]], N=ITEMS, filter_already_liked_items=True)
    assert ids.shape == (1, ITEMS) and (scores == np.finfo(np.float32).min).sum() == 6


def test_customers_folded_in_get_recommendations_from_their_own_group(purchases: pl.DataFrame) -> None:
    """Learning from a quarter of each group, then solving the others' factors against the SKUs'."""
    learners = pl.Series([f"c{k}" for k in (*range(25), *range(100, 125))])
    model = CollaborativeFiltering.fit(purchases, SETTINGS, learn_from=learners)
    folded = [c for c in model.customer_ids if c not in set(learners)]
    assert len(model.customer_ids) == 200 and model.user_factors.shape == (200, SETTINGS.factors)
    recommended = model.recommend(folded, 5, exclude_seen=True)
    assert recommended.height == len(folded) * 5
    assert np.mean([_group(customer) == _group(sku) for customer, sku in recommended.select("customer_id", "sku").iter_rows()]) >= 0.95

"""The RFM baseline and the plain-language reasons, on hand-made rows."""

import math

import numpy as np
import polars as pl
import pytest
from feast import FeatureService
from feast.types import UnixTimestamp

from dagster_project.settings import load_settings
from feature_repo.definitions import feature_store_objects
from ml.prediction_reasons import top_reasons
from ml.reason_phrases import PHRASES, TEXT_PHRASES, describe_input
from ml.rfm_baseline import RfmBaseline, fit_rfm_baseline

MODELS_SERVICES = ("churn_model", "propensity_model", "clv_model")


def _rows(recency, orders, revenue, label):
    return pl.DataFrame({"days_since_last_order": recency, "orders_lifetime": orders, "net_revenue_usd_lifetime": revenue,
                         "label": label}, schema_overrides={"orders_lifetime": pl.Float64})


def test_rfm_scores_rank_recent_frequent_big_spenders_highest_and_never_buyers_zero():
    rng = np.random.default_rng(0)
    n = 500
    baseline = fit_rfm_baseline(_rows(rng.uniform(1, 300, n), rng.integers(1, 10, n).astype(float), rng.uniform(10, 900, n),
                                      rng.integers(0, 2, n).astype(float)))
    r, f, m = baseline.scores(_rows([2.0, 290.0, None], [9.0, 1.0, None], [890.0, 15.0, None], [0.0, 0.0, 0.0]))
    assert (r.tolist(), f.tolist(), m.tolist()) == ([5, 1, 0], [5, 1, 0], [5, 1, 0])


def test_rfm_probability_is_the_cell_rate_shrunk_towards_the_overall_rate():
    # 40 recent customers who all bought again, 40 lapsed ones who never did.
    train = _rows([1.0] * 40 + [200.0] * 40, [1.0] * 80, [50.0] * 80, [1.0] * 40 + [0.0] * 40)
    baseline = fit_rfm_baseline(train)
    recent, lapsed = baseline.predict(_rows([1.0, 200.0], [1.0, 1.0], [50.0, 50.0], [0.0, 0.0]))
    # (40 + 20 × 0.5) / (40 + 20) and (0 + 20 × 0.5) / (40 + 20)
    assert recent == pytest.approx(50 / 60) and lapsed == pytest.approx(10 / 60)
    assert RfmBaseline.from_dict(baseline.to_dict()) == baseline


@pytest.mark.parametrize(("name", "value", "text"), [
    ("days_since_last_order", 143.0, "last ordered about 5 months ago"),
    ("days_since_last_order", 12.4, "last ordered 12 days ago"),
    ("days_since_last_click", math.nan, "has never clicked an email link"),
    ("orders_30d", 2, "2 orders in the last 30 days"),
    ("orders_30d", 1, "1 order in the last 30 days"),
    ("orders_90d", 0, "no orders in the last 90 days"),
    ("bad_ratings_90d", None, "no bad support ratings in the last 90 days"),
    ("net_revenue_usd_365d", 1234.5, "spent $1,234 in the last 365 days"),
    ("orders_lifetime", None, "no orders yet"),
    ("refund_rate", 0.125, "12% of order value refunded"),
    ("tenure_days", 9.94, "a customer for 10 days"),
    ("tenure_days", 1100.0, "a customer for 3.0 years"),
    ("human_opens_90d", 0, "opened no email in the last 90 days"),
    ("mean_resolution_minutes", 200.0, "tickets resolved in 3.3 hours on average"),
    ("average_order_value_usd", 84.2, "average order $84"),
    ("favorite_category", "Shoes", "buys mostly Shoes"),
    ("loyalty_points_90d", 40.0, "loyalty points in the last 90 days: 40"),  # a feature without a phrase yet
])
def test_inputs_are_described_in_plain_words_with_the_customers_value_and_unit(name, value, text):
    assert describe_input(name, value) == text


def test_every_model_input_has_a_phrase_rather_than_its_column_name(tmp_path):
    """Each input a model can learn from reads as a sentence, not as `tenure days: 9.94`."""
    settings = load_settings({"CXP_HOME": str(tmp_path)})
    services = [item for item in feature_store_objects(settings) if isinstance(item, FeatureService) and item.name in MODELS_SERVICES]
    inputs = {feature.name for service in services for projection in service.feature_view_projections for feature in projection.features
              if feature.dtype != UnixTimestamp}
    assert len(services) == 3 and sorted(inputs - PHRASES.keys() - TEXT_PHRASES.keys()) == []


def test_two_inputs_that_say_the_same_thing_give_one_reason():
    """"has never opened an email" and "opened no email in the last 90 days" are one signal: the
    stronger says it, and the next signal takes the second place."""
    columns = ["days_since_last_human_open", "human_opens_90d", "open_tickets"]
    contributions = np.array([[0.6, 0.5, 0.2, 0.0]])
    values = {"days_since_last_human_open": np.array([np.nan]), "human_opens_90d": np.array([0]), "open_tickets": np.array([2])}
    reasons = top_reasons(contributions, columns, values, 3)
    assert reasons.texts == [["has never opened an email", "2 support tickets still open", None]]
    np.testing.assert_array_equal(reasons.contributions, [[0.6, 0.2, np.nan]])


def test_only_inputs_that_push_the_score_up_are_reasons():
    contributions = np.array([[0.5, -0.2, 0.1, 0.3]])  # two inputs up, one down, then the bias
    reasons = top_reasons(contributions, ["orders_30d", "refund_rate", "open_tickets"],
                          {"orders_30d": np.array([0]), "refund_rate": np.array([0.5]), "open_tickets": np.array([2])}, 3)
    assert reasons.texts == [["no orders in the last 30 days", "2 support tickets still open", None]]
    np.testing.assert_array_equal(reasons.contributions, [[0.5, 0.1, np.nan]])


def test_an_input_constant_across_customers_is_never_a_reason():
    """A one-category shop: every customer's favourite-category share is 100%; the model still
    gives it weight, but it tells nobody anything."""
    rows = 50
    contributions = np.column_stack([np.full(rows, 0.9), np.linspace(0.1, 0.5, rows), np.zeros(rows)])
    values = {"favorite_category_spend_share": np.ones(rows), "orders_30d": np.arange(rows)}
    reasons = top_reasons(contributions, ["favorite_category_spend_share", "orders_30d"], values, 2).texts
    assert all(row[0].endswith("in the last 30 days") and row[1] is None for row in reasons)


def test_an_input_that_barely_moved_the_score_is_not_a_reason():
    contributions = np.array([[0.4, 0.004, 0.0]])
    reasons = top_reasons(contributions, ["orders_30d", "open_tickets"],
                          {"orders_30d": np.array([3]), "open_tickets": np.array([1])}, 2)
    assert reasons.texts == [["3 orders in the last 30 days", None]]

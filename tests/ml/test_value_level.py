"""The total of predicted customer value: set by the BG/NBD + Gamma-Gamma forecast of the same
customers at the same date, so a shop whose spend drifts gets the right total, while the value
model still decides who is worth more."""

from datetime import datetime, timezone

import numpy as np
import polars as pl
import pytest
from scipy.stats import spearmanr

from ml.btyd_baseline import fit_btyd_baseline
from ml.customer_scoring import score_model
from ml.feature_matrix import fit_feature_matrix
from ml.gradient_boosting import train_gradient_boosting
from ml.model_evaluation import regression_metrics
from ml.model_registry import Decision, ModelRegistry
from ml.model_settings import load_model_settings
from ml.value_level import value_level
from tests.ml.test_gradient_boosting import PARAMS

HORIZON = 365.0


def _shop(n: int, seed: int, price_before: float, price_after: float) -> pl.DataFrame:
    """Customers buying as Poisson processes at gamma-distributed rates, each with their own order
    value, at the shop's price level before the cutoff and after it: purchase features as of the
    cutoff and next year's spend as the label."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(0.8, 1 / 80, n)  # orders per day
    order_value = rng.gamma(4.0, 15.0, n)
    known_days = rng.uniform(90, 720, n)
    orders, first, last, revenue, label = (np.zeros(n) for _ in range(5))
    for i in range(n):
        times = np.sort(rng.uniform(0, known_days[i], rng.poisson(rate[i] * known_days[i])))
        if times.size:
            orders[i], first[i], last[i] = times.size, known_days[i] - times[0], known_days[i] - times[-1]
            revenue[i] = rng.gamma(4.0, order_value[i] / 4.0, times.size).sum() * price_before
        label[i] = rng.gamma(4.0, order_value[i] / 4.0, rng.poisson(rate[i] * HORIZON)).sum() * price_after
    bought = orders > 0
    return pl.DataFrame({
        "customer_id": [f"c{i}" for i in range(n)], "orders_lifetime": orders,
        "days_since_first_order": np.where(bought, first, np.nan), "days_since_last_order": np.where(bought, last, np.nan),
        "net_revenue_usd_lifetime": revenue, "label": label,
    }).with_columns(pl.col("days_since_first_order", "days_since_last_order").fill_nan(None))


def test_a_drifting_shop_gets_the_forecasts_total_and_the_models_ranking():
    # Prices rose 40% during the holdout's label window and stayed: the holdout factor learns the rise,
    # and applied a window later, to histories that already show it, counts it twice.
    train, holdout, evaluation = _shop(6000, 1, 1.0, 1.0), _shop(3000, 2, 1.0, 1.4), _shop(4000, 3, 1.4, 1.4)
    inputs = fit_feature_matrix(train, ["orders_lifetime", "days_since_first_order", "days_since_last_order", "net_revenue_usd_lifetime"])
    model = train_gradient_boosting("regressor", train, holdout, inputs, PARAMS, seed=7)
    actual = evaluation["label"].to_numpy()
    by_holdout = model.predict(evaluation)
    assert regression_metrics(actual, by_holdout)["total_ratio"] > 1.25  # a window late, the holdout factor is off

    forecast = fit_btyd_baseline(evaluation).expected_value(evaluation, HORIZON)
    level = value_level("forecast", forecast)
    by_forecast = model.predict(evaluation, level.total)
    assert by_forecast.sum() == pytest.approx(forecast.sum())
    assert regression_metrics(actual, by_forecast)["total_ratio"] == pytest.approx(1.0, abs=0.1)
    # Who is worth more is still the model's call.
    assert spearmanr(by_forecast, by_holdout).statistic == pytest.approx(1.0)
    assert "BG/NBD + Gamma-Gamma forecast" in level.describe()


def test_without_a_forecast_the_holdout_factor_sets_the_total_and_says_why():
    missing = value_level("forecast", None, "no BG/NBD + Gamma-Gamma fit: no customer in the rows has bought")
    assert missing.total is None and "no customer in the rows has bought" in missing.describe()
    assert value_level("forecast", np.array([10.0, np.nan])).total is None
    assert value_level("forecast", np.zeros(3)).fallback_reason == "the forecast total is zero"
    assert value_level("holdout", np.array([10.0, 5.0])).total is None


def test_the_setting_accepts_only_the_known_levels(tmp_path):
    assert load_model_settings().scoring.value_level == "forecast"
    (tmp_path / "models.yml").write_text("scoring: {value_level: holdout}\n")
    assert load_model_settings(tmp_path / "models.yml").scoring.value_level == "holdout"
    (tmp_path / "models.yml").write_text("scoring: {value_level: median}\n")
    with pytest.raises(ValueError, match=r"models.yml: scoring.value_level: Input should be 'forecast' or 'holdout'"):
        load_model_settings(tmp_path / "models.yml")


def test_the_served_value_of_a_champion_sums_to_the_nights_forecast(tmp_path):
    train, holdout, tonight = _shop(3000, 4, 1.0, 1.0), _shop(1500, 5, 1.0, 1.4), _shop(2000, 6, 1.4, 1.4)
    inputs = fit_feature_matrix(train, ["orders_lifetime", "days_since_first_order", "days_since_last_order", "net_revenue_usd_lifetime"])
    model = train_gradient_boosting("regressor", train, holdout, inputs, PARAMS, seed=7)
    registry = ModelRegistry(tmp_path)
    version, folder = registry.new_version_dir("clv", datetime(2026, 1, 1, tzinfo=timezone.utc), "0" * 16)
    model.save(folder)
    registry.write_version("clv", version, {"model": "clv"})
    registry.record_decision("clv", version, Decision(True, "test champion", "spearman", 0.5, None, None))
    forecast = fit_btyd_baseline(tonight).expected_value(tonight, HORIZON)

    settings = load_model_settings()
    scores, _, scorer = score_model("clv", tonight, registry, forecast, settings)
    assert scorer == version and scores.sum() == pytest.approx(forecast.sum())
    assert spearmanr(scores, model.predict(tonight)).statistic == pytest.approx(1.0)
    # Set to `holdout`, or with no forecast tonight, the model's holdout factor sets the total.
    held, _, _ = score_model("clv", tonight, registry, forecast, settings.model_copy(update={"scoring": settings.scoring.model_copy(update={"value_level": "holdout"})}))
    np.testing.assert_allclose(held, model.predict(tonight))
    unfitted, _, _ = score_model("clv", tonight, registry, np.full(tonight.height, np.nan), settings)
    np.testing.assert_allclose(unfitted, model.predict(tonight))

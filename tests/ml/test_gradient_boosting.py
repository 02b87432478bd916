"""xgboost models on seeded synthetic data: they learn the signal, survive a save/load round trip,
publish probabilities that are never certain, and explain each prediction additively."""

import numpy as np
import polars as pl
import pytest

from ml.feature_matrix import fit_feature_matrix, matrix_values
from ml.gradient_boosting import PROBABILITY_FLOOR, GradientBoostingModel, train_gradient_boosting
from ml.model_evaluation import classifier_metrics, regression_metrics
from ml.prediction_reasons import top_reasons

PARAMS = {"n_estimators": 60, "max_depth": 3, "learning_rate": 0.2, "subsample": 1.0, "colsample_bytree": 1.0,
          "min_child_weight": 1, "early_stopping_rounds": 10}


def _customers(n: int, seed: int) -> pl.DataFrame:
    """Churn driven by recency and bad support ratings; shoe buyers churn a little more; noise has no effect."""
    rng = np.random.default_rng(seed)
    recency = rng.exponential(60, n)
    bad = rng.poisson(0.3, n)
    category = rng.choice(["Shoes", "Books", "Toys"], n)
    logit = -2 + recency / 40 + 0.8 * bad + 0.5 * (category == "Shoes")
    return pl.DataFrame({
        "customer_id": [f"c{i}" for i in range(n)],
        "days_since_last_order": recency, "bad_ratings_90d": bad.astype(float),
        "favorite_category": category, "noise": rng.normal(size=n),
        "label": (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float),
    })


@pytest.fixture(scope="module")
def churn_model():
    train, holdout = _customers(4000, 1), _customers(2000, 2)
    spec = fit_feature_matrix(train, ["days_since_last_order", "bad_ratings_90d", "favorite_category", "noise"])
    return train_gradient_boosting("classifier", train, holdout, spec, PARAMS, seed=7)


def test_the_classifier_learns_the_signal_out_of_sample(churn_model):
    test = _customers(3000, 3)
    assert classifier_metrics(test["label"], churn_model.predict(test))["roc_auc"] > 0.75


def test_published_probabilities_are_calibrated_and_never_certain(churn_model):
    test = _customers(20000, 4)
    probability = churn_model.predict(test)
    assert probability.min() >= PROBABILITY_FLOOR and probability.max() <= 1 - PROBABILITY_FLOOR
    # Calibrated on a later holdout: the mean prediction matches the observed rate.
    assert abs(probability.mean() - test["label"].mean()) < 0.02


def test_a_saved_model_predicts_exactly_as_before(churn_model, tmp_path):
    test = _customers(500, 5)
    churn_model.save(tmp_path / "v1")
    loaded = GradientBoostingModel.load(tmp_path / "v1")
    np.testing.assert_array_equal(loaded.predict(test), churn_model.predict(test))
    assert loaded.spec == churn_model.spec


def test_contributions_add_up_to_each_prediction_and_name_the_drivers(churn_model):
    test = _customers(200, 6)
    contributions = churn_model.contributions(test)
    margin = churn_model.booster.predict(churn_model._matrix(test), output_margin=True)
    np.testing.assert_allclose(contributions.sum(axis=1), margin, rtol=1e-4, atol=1e-4)
    reasons = top_reasons(contributions, churn_model.spec.columns, matrix_values(test, churn_model.spec), 3).texts
    stale = int(np.argmax(test["days_since_last_order"].to_numpy()))
    assert reasons[stale][0].startswith("last ordered")
    # An input the label does not depend on is rarely anyone's main reason.
    assert sum("noise" in (row[0] or "") for row in reasons) < 0.1 * len(reasons)


def test_an_unseen_category_is_read_as_other(churn_model):
    test = _customers(10, 7).with_columns(pl.lit("Garden").alias("favorite_category"))
    assert np.isfinite(churn_model.predict(test)).all()


def _spenders(n: int, seed: int, level: float) -> pl.DataFrame:
    """Next-year spend: most spend nothing; frequent buyers spend more; `level` scales every amount
    (a shop whose spend grows between the training windows and now)."""
    rng = np.random.default_rng(seed)
    orders = rng.poisson(2.0, n).astype(float)
    buys = rng.random(n) < 1 - np.exp(-0.4 * orders)
    spend = np.where(buys, rng.gamma(2.0, 30.0 * (1 + orders), n), 0.0) * level
    return pl.DataFrame({"customer_id": [f"c{i}" for i in range(n)], "orders_lifetime": orders, "label": spend})


def test_the_value_model_takes_its_level_from_the_latest_window_and_keeps_it_saved(tmp_path):
    train, holdout, test = _spenders(6000, 1, 1.0), _spenders(3000, 2, 1.4), _spenders(6000, 3, 1.4)
    spec = fit_feature_matrix(train, ["orders_lifetime"])
    model = train_gradient_boosting("regressor", train, holdout, spec, PARAMS, seed=7)
    assert model.level == pytest.approx(1.4, rel=0.1)
    assert regression_metrics(test["label"], model.predict(test))["total_ratio"] == pytest.approx(1.0, abs=0.1)
    model.save(tmp_path / "v1")
    np.testing.assert_array_equal(GradientBoostingModel.load(tmp_path / "v1").predict(test), model.predict(test))

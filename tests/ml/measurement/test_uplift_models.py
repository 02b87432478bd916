"""T- and X-learners: on held-out simulated customers they rank by incremental revenue nearly as well as
the true effects do, and their API names arms and reads features by column name."""

import numpy as np
import polars as pl
import pytest

from ml.measurement.qini import compare_to_oracle
from ml.measurement.simulated_uplift import ACTIONS, CONTROL, FEATURES, simulate_uplift_experiment
from ml.measurement.uplift_models import TLearner, UpliftSettings, XLearner

# 30k customers per arm to learn from; a million held out, so the Qini coefficients' own noise (outcomes
# are skewed revenue) moves the ratio by about 0.02 rather than the 0.05 of 200k.
TRAINING_CUSTOMERS, HELD_OUT_CUSTOMERS = 60_000, 1_000_000
ARMS = (CONTROL, "discount_offer")
QUICK = UpliftSettings(trees=20)


@pytest.fixture(scope="module")
def experiment():
    rng = np.random.default_rng(7)
    training = simulate_uplift_experiment(TRAINING_CUSTOMERS, rng, arms=ARMS, salt="uplift-training")
    held_out = simulate_uplift_experiment(HELD_OUT_CUSTOMERS, rng, arms=ARMS, salt="uplift-held-out")
    return training, held_out


@pytest.mark.parametrize("learner", [TLearner, XLearner])
def test_the_learner_ranks_held_out_customers_at_least_80_percent_as_well_as_the_true_effects(experiment, learner):
    training, held_out = experiment
    model = learner().fit(training.features.select(FEATURES), training.arm, training.outcome)
    estimated = model.predict(held_out.features.select(FEATURES))["discount_offer"].to_numpy()
    qini = compare_to_oracle(estimated, held_out.true_effect["discount_offer"], held_out.arm == "discount_offer", held_out.outcome)
    assert qini.ratio is not None and qini.ratio >= 0.8, f"Qini {qini.model:,.0f} vs oracle {qini.oracle:,.0f}"


@pytest.fixture(scope="module")
def small():
    return simulate_uplift_experiment(4000, np.random.default_rng(0))


@pytest.mark.parametrize("learner", [TLearner, XLearner])
def test_predictions_have_one_column_per_treatment_arm_named_as_the_arms(small, learner):
    model = learner(QUICK).fit(small.features.select(FEATURES), small.arm, small.outcome)
    effects = model.predict(small.features.select(FEATURES).head(10))
    assert model.arms == tuple(sorted(ACTIONS))
    assert effects.columns == sorted(ACTIONS) and effects.height == 10
    assert all(dtype == pl.Float64 for dtype in effects.dtypes)


def test_features_are_read_by_name_not_position(small):
    features = small.features.select(FEATURES)
    model = XLearner(QUICK).fit(features, small.arm, small.outcome)
    reordered = features.select(reversed(FEATURES)).with_columns(pl.lit("ignored").alias("note"))
    assert model.predict(reordered).equals(model.predict(features))


def test_a_numpy_matrix_works_as_well_as_a_frame(small):
    matrix = small.features.select(FEATURES).cast(pl.Float64).to_numpy()
    model = TLearner(QUICK).fit(matrix, small.arm, small.outcome)
    assert model.predict(matrix[:5]).height == 5
    with pytest.raises(ValueError, match="fitted on a numpy matrix"):
        model.predict(small.features)


def test_the_same_data_and_seed_give_the_same_model(small):
    features = small.features.select(FEATURES)
    first, second = (XLearner(QUICK).fit(features, small.arm, small.outcome).predict(features) for _ in range(2))
    assert first.equals(second)


@pytest.mark.parametrize("change, message", [
    (lambda f, arm, y: (f, np.where(arm == CONTROL, "discount_offer", arm), y), "need at least 2 customers"),  # no control arm
    (lambda f, arm, y: (f, np.full(arm.size, CONTROL), y), "no treatment arm"),  # control only
    (lambda f, arm, y: (f.with_columns(pl.lit("value").alias("segment")), arm, y), "encode"),  # a text feature
    (lambda f, arm, y: (f, arm, np.r_[np.nan, y[1:]]), "missing or infinite"),  # an unfilled outcome
    (lambda f, arm, y: (f, arm[1:], y), "differ in length"),
])
def test_input_it_cannot_learn_from_is_refused_with_a_reason(small, change, message):
    features, arm, outcome = change(small.features.select(FEATURES), small.arm, small.outcome)
    with pytest.raises(ValueError, match=message):
        TLearner(QUICK).fit(features, arm, outcome)


def test_predicting_on_other_columns_or_before_fitting_is_refused(small):
    with pytest.raises(ValueError, match="fit the model"):
        XLearner(QUICK).predict(small.features.select(FEATURES))
    model = XLearner(QUICK).fit(small.features.select(FEATURES), small.arm, small.outcome)
    with pytest.raises(ValueError, match="lack the columns"):
        model.predict(small.features.drop("recency_days"))

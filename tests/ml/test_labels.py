"""Labels on hand-made facts: who is in each population, what counts as a purchase, and that a
label never looks at the cutoff day or earlier."""

import datetime as dt

import duckdb
import pytest

from ml.labels import DataSpan, cutoff_timestamp, history_needed_days, plan_cutoffs, read_labels
from ml.model_settings import LabelWindows, TrainingSettings

WINDOWS = LabelWindows.model_validate({"churn": {"active_days": 365, "horizon_days": 90}, "propensity": {"horizon_days": 30}, "clv": {"horizon_days": 365}})
CUTOFF = dt.date(2026, 3, 31)


@pytest.fixture
def facts():
    """Four customers around a cutoff of 2026-03-31:
    ann bought in January and again an hour after the cutoff; bob bought in January only and placed a
    cancelled order after the cutoff; cid bought two years ago and was first seen then; dee is first
    seen after the cutoff. eve's order of the cutoff day is known only on the next day."""
    connection = duckdb.connect()
    connection.execute("CREATE SCHEMA features; CREATE SCHEMA intermediate; CREATE SCHEMA marts")
    connection.execute("""
        CREATE TABLE features.customer_profile_features AS SELECT * FROM (VALUES
            ('ann', DATE '2025-12-01'), ('bob', DATE '2025-12-01'), ('cid', DATE '2024-01-01'),
            ('dee', DATE '2026-04-02'), ('eve', DATE '2026-03-01')) AS t(customer_id, snapshot_date);
        CREATE TABLE intermediate.int_customer_order_states AS SELECT * FROM (VALUES
            (1, 'ann', DATE '2026-01-10', DATE '2026-01-10', NULL::DATE),
            (2, 'bob', DATE '2026-01-12', DATE '2026-01-12', NULL::DATE),
            (3, 'cid', DATE '2024-02-01', DATE '2024-02-01', NULL::DATE),
            (4, 'ann', DATE '2026-04-01', DATE '2026-04-01', NULL::DATE),
            (5, 'bob', DATE '2026-04-05', DATE '2026-04-05', DATE '2026-04-06'),
            (6, 'eve', DATE '2026-03-31', DATE '2026-04-01', NULL::DATE)
        ) AS t(order_id, customer_id, placed_on, known_on, cancelled_known_on);
        CREATE TABLE marts.fct_orders AS SELECT * FROM (VALUES
            (1, 'ann', TIMESTAMP '2026-01-10 09:00', false, 50.0),
            (2, 'bob', TIMESTAMP '2026-01-12 09:00', false, 70.0),
            (3, 'cid', TIMESTAMP '2024-02-01 09:00', false, 20.0),
            (4, 'ann', TIMESTAMP '2026-04-01 01:00', false, 80.0),
            (5, 'bob', TIMESTAMP '2026-04-05 10:00', true, 0.0),
            (6, 'eve', TIMESTAMP '2026-03-31 23:00', false, 40.0)
        ) AS t(order_id, customer_id, created_at, is_cancelled, net_amount_usd);
    """)
    yield connection
    connection.close()


def _labels(connection, model):
    rows = read_labels(connection, model, [CUTOFF], WINDOWS)
    return dict(zip(rows["customer_id"].to_list(), rows["label"].to_list()))


def test_churn_is_labelled_for_customers_active_at_the_cutoff_only(facts):
    # ann bought again after the cutoff; bob's only later order was cancelled; cid's purchase is
    # older than a year; eve's cutoff-day order was not known until the next day.
    assert _labels(facts, "churn") == {"ann": 0.0, "bob": 1.0}


def test_propensity_and_value_count_uncancelled_orders_placed_after_the_cutoff(facts):
    # dee is not known at the cutoff; eve's order of the cutoff day is in the features' time, not the label's.
    assert _labels(facts, "propensity") == {"ann": 1.0, "bob": 0.0, "cid": 0.0, "eve": 0.0}
    assert _labels(facts, "clv") == {"ann": 80.0, "bob": 0.0, "cid": 0.0, "eve": 0.0}


def test_entity_rows_take_features_at_the_end_of_the_cutoff_day(facts):
    rows = read_labels(facts, "propensity", [CUTOFF], WINDOWS)
    assert set(rows["event_timestamp"].to_list()) == {cutoff_timestamp(CUTOFF)}
    assert cutoff_timestamp(CUTOFF) == dt.datetime(2026, 4, 1, tzinfo=dt.timezone.utc)


def test_sampling_draws_the_same_customers_every_time(facts):
    first = read_labels(facts, "propensity", [CUTOFF], WINDOWS, max_rows_per_cutoff=2, seed=3)
    again = read_labels(facts, "propensity", [CUTOFF], WINDOWS, max_rows_per_cutoff=2, seed=3)
    assert first.height == 2 and first.equals(again)


TRAINING = TrainingSettings(max_cutoffs=12, min_history_days=90, max_rows_per_cutoff=0, seed=0)


def test_training_cutoffs_step_back_monthly_from_the_first_closed_before_the_evaluation_cutoff():
    span = DataSpan(dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    plan = plan_cutoffs("churn", span, WINDOWS, TRAINING)
    # Evaluation: 90 days before the last date. Training: the monthly steps back from it whose
    # 90-day label window closed by then, down to 90 days after the first date.
    assert plan.evaluation == dt.date(2025, 10, 2)
    assert plan.holdout == dt.date(2025, 7, 2)
    assert plan.train == [dt.date(2025, 4, 2), dt.date(2025, 5, 2), dt.date(2025, 6, 2)]
    assert all(cutoff + dt.timedelta(days=90) <= plan.evaluation for cutoff in [*plan.train, plan.holdout])


def test_a_365_day_label_needs_two_years_and_a_bit_of_history():
    # 365-day labels: the evaluation cutoff a year before the end, training a year before that.
    assert plan_cutoffs("clv", DataSpan(dt.date(2024, 1, 1), dt.date(2025, 12, 31)), WINDOWS, TRAINING) is None
    plan = plan_cutoffs("clv", DataSpan(dt.date(2023, 6, 1), dt.date(2025, 12, 31)), WINDOWS, TRAINING)
    assert plan.evaluation == dt.date(2024, 12, 31)
    assert plan.holdout == dt.date(2023, 12, 31) and plan.train[0] >= dt.date(2023, 6, 1) + dt.timedelta(days=90)
    assert history_needed_days("clv", WINDOWS, TRAINING) <= (dt.date(2025, 12, 31) - dt.date(2023, 6, 1)).days


def test_at_most_max_cutoffs_train():
    plan = plan_cutoffs("propensity", DataSpan(dt.date(2020, 1, 1), dt.date(2025, 12, 31)), WINDOWS,
                        TrainingSettings(max_cutoffs=4, min_history_days=90, max_rows_per_cutoff=0, seed=0))
    assert len(plan.train) + 1 == 4 and plan.holdout == plan.evaluation - dt.timedelta(days=30)

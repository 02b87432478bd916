"""On-demand arithmetic gives the same answer whether Feast hands it lists (online) or the DuckDB
store hands it NumPy arrays (offline), with nulls where an input is missing."""

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from feature_repo.derived_values import days_before_now, number, ratio, served


def test_offline_recency_counts_from_each_entity_rows_time():
    inputs = {"event_timestamp": np.array(["2026-03-10T12:00", "2026-03-10T00:00"], dtype="datetime64[us]"),
              "last_order_at": np.array(["2026-03-09T00:00", "NaT"], dtype="datetime64[us]")}
    days = days_before_now(inputs, "last_order_at")
    assert days[0] == 1.5 and np.isnan(days[1])


def test_online_recency_counts_from_the_request_and_reads_naive_times_as_utc():
    two_days_ago = datetime.now(timezone.utc) - timedelta(days=2)
    days = days_before_now({"last_order_at": [two_days_ago, two_days_ago.replace(tzinfo=None), None]}, "last_order_at")
    assert days[:2] == pytest.approx([2, 2], abs=1e-3) and np.isnan(days[2])


def test_ratios_are_null_without_a_positive_denominator_in_both_forms():
    for inputs in ({"a": [1, None, 3], "b": [2, 4, 0]}, {"a": np.array([1.0, np.nan, 3.0]), "b": np.array([2, 4, 0])}):
        shares = served({"share": ratio(number(inputs, "a"), number(inputs, "b"))})["share"]
        assert shares[0] == 0.5 and np.isnan(shares[1]) and np.isnan(shares[2])

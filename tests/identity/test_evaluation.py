"""Identity scores against truth, checked on cases small enough to count by hand."""

import duckdb
import polars as pl
import pytest

from dagster_project.defs.identity.evaluation import read_deterministic_only_customers, score_identity_resolution


def frame(column: str, mapping: dict[str, str]) -> pl.DataFrame:
    return pl.DataFrame({"record_id": list(mapping), column: list(mapping.values())})


def test_a_perfect_resolution_scores_one_everywhere():
    truth = frame("person_id", {"a": "P1", "b": "P1", "c": "P2"})
    scores = score_identity_resolution(frame("customer_id", {"a": "C1", "b": "C1", "c": "C2"}), truth)
    assert (scores.pairwise_precision, scores.pairwise_recall, scores.bcubed_f1) == (1.0, 1.0, 1.0)
    assert (scores.over_merged_customers, scores.under_merged_people) == (0, 0)


def test_an_over_merge_costs_precision_and_is_counted():
    # Truth: {a, b} and {c}. Predicted: one customer holding all three -> 3 predicted pairs, 1 true.
    truth = frame("person_id", {"a": "P1", "b": "P1", "c": "P2"})
    scores = score_identity_resolution(frame("customer_id", {"a": "C1", "b": "C1", "c": "C1"}), truth)
    assert scores.pairwise_precision == pytest.approx(1 / 3)
    assert scores.pairwise_recall == 1.0
    assert (scores.over_merged_customers, scores.people_in_over_merged_customers) == (1, 2)
    # B-cubed precision: a and b see 2/3 of their customer as themselves, c sees 1/3.
    assert scores.bcubed_precision == pytest.approx((2 / 3 + 2 / 3 + 1 / 3) / 3)


def test_an_under_merge_costs_recall_and_is_counted():
    # Truth: {a, b, c}. Predicted: {a, b} and {c} -> 1 of 3 true pairs found.
    truth = frame("person_id", {"a": "P1", "b": "P1", "c": "P1"})
    scores = score_identity_resolution(frame("customer_id", {"a": "C1", "b": "C1", "c": "C2"}), truth)
    assert scores.pairwise_precision == 1.0
    assert scores.pairwise_recall == pytest.approx(1 / 3)
    assert scores.under_merged_people == 1


def test_records_unknown_to_the_truth_are_left_out():
    truth = frame("person_id", {"a": "P1", "b": "P1"})
    scores = score_identity_resolution(frame("customer_id", {"a": "C1", "b": "C1", "test-order": "C1"}), truth)
    assert scores.records == 2 and scores.pairwise_precision == 1.0


def test_the_deterministic_baseline_joins_only_records_linked_by_a_deterministic_edge():
    connection = duckdb.connect()
    connection.execute("create schema intermediate")
    connection.execute("create table intermediate.int_identity_nodes as select * from (values ('a'), ('b'), ('c')) t(record_id)")
    connection.execute("create table intermediate.int_identity_edges_deterministic as select 'a' as record_id_l, 'b' as record_id_r")
    customers = dict(read_deterministic_only_customers(connection).iter_rows())
    assert customers["a"] == customers["b"] != customers["c"]

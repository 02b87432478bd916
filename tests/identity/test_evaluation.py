"""Identity scores against truth, checked on cases small enough to count by hand."""

import duckdb
import polars as pl
import pytest

from dagster_project.identity.evaluation import (
    evidence_free_records,
    measure_blocking,
    read_deterministic_only_customers,
    score_by_record_class,
    score_identity_resolution,
)


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


def test_blocking_recall_counts_the_true_pairs_the_rules_hand_to_the_scorer():
    # P1: a and b share an email (blocked); c shares a birthdate with b (blocked), so a-c is joined
    # only through b. P2: d and e have nothing a rule can join on.
    nodes = pl.DataFrame({
        "record_id": ["a", "b", "c", "d", "e"],
        "first_name": ["ann", "ann", "ann", "bo", None],
        "last_name": ["lee", "lee", "li", "ng", None],
        "email": ["ann@x.org", "ann@x.org", None, None, "bo@y.org"],
        "phone_e164": None, "street": None, "postcode": None, "city": None,
        "birthdate": [None, "1980-02-03", "1980-02-03", None, None],
    }).with_columns(pl.col("birthdate").str.to_date(), *(pl.col(c).cast(pl.String) for c in ("phone_e164", "street", "postcode", "city")))
    with duckdb.connect() as connection:
        connection.execute("CREATE SCHEMA intermediate; CREATE SCHEMA seeds")
        connection.register("nodes_frame", nodes)
        connection.execute("CREATE TABLE intermediate.int_identity_nodes AS SELECT * FROM nodes_frame")
        connection.execute("CREATE TABLE seeds.first_name_nicknames (first_name VARCHAR, nickname VARCHAR)")
        truth = frame("person_id", {"a": "P1", "b": "P1", "c": "P1", "d": "P2", "e": "P2"})
        blocking = measure_blocking(connection, truth)
    assert (blocking.true_pairs, blocking.blocked_true_pairs, blocking.connected_true_pairs) == (4, 2, 3)
    assert blocking.compared_pairs == 2
    assert blocking.recall == pytest.approx(0.5)
    assert blocking.connected_recall == pytest.approx(0.75)


def test_scores_by_record_class_count_the_pairs_touching_a_record_of_the_class():
    # P1 = {a, b, c}, c has a swapped name and was left apart; P2 = {d}, P3 = {e} are a household
    # merged by mistake.
    truth = pl.DataFrame({
        "record_id": ["a", "b", "c", "d", "e"], "person_id": ["P1", "P1", "P1", "P2", "P3"],
        "record_classes": ["", "", "swap", "household", "household"],
    })
    customers = frame("customer_id", {"a": "C1", "b": "C1", "c": "C2", "d": "C3", "e": "C3"})
    scores = {row["record_class"]: row for row in score_by_record_class(customers, truth).iter_rows(named=True)}
    # swap: true pairs touching c are a-c and b-c, neither linked.
    assert (scores["swap"]["true_pairs"], scores["swap"]["linked_pairs"], scores["swap"]["recall"]) == (2, 0, 0.0)
    # household: one linked pair (d-e), false.
    assert (scores["household"]["linked_pairs"], scores["household"]["precision"]) == (1, 0.0)


def test_records_with_at_most_a_first_name_and_identifiers_no_one_else_carries_are_evidence_free():
    columns = ("record_id", "first_name", "last_name", "email", "phone_e164", "street", "postcode", "birthdate")
    rows = [
        ("requester:holly", "holly", None, "h77@example.net", None, None, None, None),  # email seen nowhere else
        ("recipient:lone", None, None, "lone@example.org", None, None, None, None),
        ("recipient:shared", None, None, "ann@example.com", None, None, None, None),  # also on the contact
        ("crm:ann", "ann", "lee", "ann@example.com", None, None, None, None),
        ("requester:bo", "bo", None, None, "+15550100", None, None, None),  # phone also on the order
        ("order:bo", None, None, None, "+15550100", "1 elm st", None, None),
        ("order:lee", None, "lee", None, None, None, None, None),  # a last name to compare
    ]
    nodes = pl.DataFrame(rows, schema=dict.fromkeys(columns, pl.String), orient="row")
    assert sorted(evidence_free_records(nodes)["record_id"]) == ["recipient:lone", "requester:holly"]


def test_a_record_whose_only_evidence_is_a_name_two_people_write_is_evidence_free_given_the_truth():
    columns = ("record_id", "first_name", "last_name", "email", "phone_e164", "street", "postcode", "birthdate")
    rows = [
        # Two Mary Navarros who buy, and a requester "Mary Navarro" writing from an address used nowhere else.
        ("order:1", "mary", "navarro", "mary.navarro@example.com", None, "1 elm st", None, None),
        ("order:2", "mary", "navarro", "navarro.m@example.org", None, "9 oak ave", None, None),
        ("requester:mary", "mary", "navarro", "mn1@example.net", None, None, None, None),
        # A name only one person writes places its requester.
        ("order:3", "imogen", "quarles", "iq@example.com", None, "5 ash ct", None, None),
        ("requester:imogen", "imogen", "quarles", "imogen77@example.net", None, None, None, None),
    ]
    nodes = pl.DataFrame(rows, schema=dict.fromkeys(columns, pl.String), orient="row")
    truth = pl.DataFrame({"record_id": [row[0] for row in rows], "person_id": ["p1", "p2", "p1", "p3", "p3"]})
    assert evidence_free_records(nodes)["record_id"].to_list() == []
    assert evidence_free_records(nodes, truth)["record_id"].to_list() == ["requester:mary"]

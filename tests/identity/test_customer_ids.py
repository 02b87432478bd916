"""Customer ids survive nightly reruns; merges and splits are recorded, never silent."""

from datetime import datetime

import polars as pl

from dagster_project.identity.customer_ids import ASSIGNMENT_SCHEMA, RETIRED_SCHEMA, assign_customer_ids, find_clusters

MONDAY, TUESDAY, WEDNESDAY = datetime(2024, 3, 4, 3), datetime(2024, 3, 5, 3), datetime(2024, 3, 6, 3)


def edges(*pairs: tuple[str, str]) -> pl.DataFrame:
    return pl.DataFrame(pairs, schema={"record_id_l": pl.String, "record_id_r": pl.String}, orient="row")


def run(records: list[str], accepted: pl.DataFrame, state=None, at: datetime = MONDAY):
    previous = state.assignments if state else pl.DataFrame(schema=ASSIGNMENT_SCHEMA)
    retired = state.retired if state else pl.DataFrame(schema=RETIRED_SCHEMA)
    return assign_customer_ids(find_clusters(pl.Series(records), accepted), previous, retired, at)


def ids(state) -> dict[str, str]:
    return dict(zip(state.assignments["record_id"], state.assignments["customer_id"]))


def test_connected_components_join_records_through_chains_and_keep_singletons():
    clusters = find_clusters(pl.Series(["a", "b", "c", "d"]), edges(("a", "b"), ("b", "c")))
    groups = clusters.group_by("cluster").agg(pl.col("record_id").sort()).get_column("record_id").to_list()
    assert sorted(groups) == [["a", "b", "c"], ["d"]]


def test_first_run_gives_every_cluster_a_new_id_and_rebuilding_gives_the_same_ids():
    first = run(["crm:1", "order:9", "crm:2"], edges(("crm:1", "order:9")))
    again = run(["crm:1", "order:9", "crm:2"], edges(("crm:1", "order:9")))
    assert ids(first)["crm:1"] == ids(first)["order:9"] != ids(first)["crm:2"]
    assert ids(first) == ids(again)
    assert first.events["event_type"].to_list() == ["created", "created"]


def test_a_person_keeps_their_id_when_new_records_join_them():
    monday = run(["crm:1", "order:9"], edges(("crm:1", "order:9")))
    tuesday = run(["crm:1", "order:9", "order:10"], edges(("crm:1", "order:9"), ("order:10", "crm:1")), monday, TUESDAY)
    assert ids(tuesday)["order:10"] == ids(monday)["crm:1"]
    assert tuesday.events.height == 0


def test_when_two_customers_merge_the_older_id_survives_and_the_retired_one_maps_to_it():
    monday = run(["crm:1", "order:9"], edges())
    older = ids(monday)["crm:1"]
    tuesday = run(["crm:1", "order:9", "crm:5"], edges(), monday, TUESDAY)  # crm:5 is new on Tuesday
    newer = ids(tuesday)["crm:5"]
    wednesday = run(["crm:1", "order:9", "crm:5"], edges(("crm:5", "crm:1")), tuesday, WEDNESDAY)
    assert ids(wednesday)["crm:5"] == older
    assert wednesday.events.select("event_type", "customer_id", "related_customer_id").rows() == [("merged", newer, older)]
    assert wednesday.retired.select("retired_customer_id", "current_customer_id").rows() == [(newer, older)]


def test_a_split_keeps_the_id_on_the_larger_part_and_records_the_new_id_of_the_rest():
    monday = run(["crm:1", "order:9", "order:10", "crm:2"], edges(("crm:1", "order:9"), ("order:9", "order:10"), ("order:10", "crm:2")))
    original = ids(monday)["crm:1"]
    tuesday = run(["crm:1", "order:9", "order:10", "crm:2"], edges(("crm:1", "order:9"), ("order:9", "order:10")), monday, TUESDAY)
    split_off = ids(tuesday)["crm:2"]
    assert ids(tuesday)["crm:1"] == original != split_off
    assert tuesday.events.select("event_type", "customer_id", "related_customer_id", "record_count").rows() == [
        ("split", original, split_off, 1)
    ]


def test_a_retired_id_follows_its_survivor_when_that_survivor_is_retired_later():
    monday = run(["a"], edges())
    tuesday = run(["a", "b"], edges(), monday, TUESDAY)
    wednesday = run(["a", "b", "c"], edges(), tuesday, WEDNESDAY)
    id_a, id_b, id_c = ids(wednesday)["a"], ids(wednesday)["b"], ids(wednesday)["c"]
    thursday_1 = run(["a", "b", "c"], edges(("b", "c")), wednesday, datetime(2024, 3, 7, 3))  # c retires into b
    thursday_2 = run(["a", "b", "c"], edges(("a", "b"), ("b", "c")), thursday_1, datetime(2024, 3, 8, 3))  # b retires into a
    assert dict(thursday_2.retired.select("retired_customer_id", "current_customer_id").rows()) == {id_b: id_a, id_c: id_a}


def test_a_new_id_never_reuses_an_id_that_is_live_or_retired():
    monday = run(["a", "b", "c"], edges(("a", "b"), ("b", "c")))
    original = ids(monday)["a"]  # derived from "a", the cluster's first record
    # "a" splits off alone: the larger part keeps the id, and "a" must not be given it again.
    tuesday = run(["a", "b", "c"], edges(("b", "c")), monday, TUESDAY)
    assert ids(tuesday)["b"] == original
    assert ids(tuesday)["a"] != original

"""The feature server's answers list features in the order the request named them and name the ids
no requested view holds a row for."""

from feature_repo.online_response import RequestedFeatures, in_requested_order, shaped_answer, unknown_entities


def _response(names):
    return {"metadata": {"feature_names": names}, "results": [{"values": [name.upper()]} for name in names]}


def _answer(columns: dict[str, list[str]]) -> dict:
    """A Feast answer of these columns' statuses; values are the row's number."""
    return {"metadata": {"feature_names": list(columns)},
            "results": [{"values": list(range(len(statuses))), "statuses": statuses} for statuses in columns.values()]}


def test_features_follow_the_request_with_the_entity_key_first():
    feast_order = _response(["customer_id", "churn_reason_1", "orders_90d", "churn_probability"])
    answer = in_requested_order(feast_order, ["churn_probability", "orders_90d", "churn_reason_1"])
    assert answer["metadata"]["feature_names"] == ["customer_id", "churn_probability", "orders_90d", "churn_reason_1"]
    assert [result["values"][0] for result in answer["results"]] == ["CUSTOMER_ID", "CHURN_PROBABILITY", "ORDERS_90D", "CHURN_REASON_1"]


def test_an_id_is_unknown_when_every_stored_feature_is_not_found_whatever_the_derived_ones_say():
    answer = _answer({
        "customer_id": ["PRESENT", "PRESENT", "PRESENT"],
        "orders_90d": ["PRESENT", "NOT_FOUND", "NOT_FOUND"],     # row 1 never bought ...
        "interests": ["PRESENT", "PRESENT", "NOT_FOUND"],        # ... but has a profile
        "days_since_last_order": ["PRESENT", "PRESENT", "PRESENT"],  # derived: PRESENT (null) for anyone
    })
    requested = RequestedFeatures(["orders_90d", "interests", "days_since_last_order"], frozenset({"days_since_last_order"}))
    assert unknown_entities(answer, requested) == [2]
    # Derived features alone say nothing about the id.
    assert unknown_entities(answer, RequestedFeatures(["days_since_last_order"], frozenset({"days_since_last_order"}))) == []


def test_a_compound_key_names_each_unknown_row_by_all_its_keys():
    answer = _answer({"shop": ["PRESENT", "PRESENT"], "customer_id": ["PRESENT", "PRESENT"], "orders_90d": ["NOT_FOUND", "PRESENT"]})
    assert unknown_entities(answer, RequestedFeatures(["orders_90d"], frozenset())) == [{"shop": 0, "customer_id": 0}]


def test_the_shaped_answer_keeps_feasts_shape_and_adds_the_unknown_ids():
    answer = _answer({"customer_id": ["PRESENT", "PRESENT"], "b": ["NOT_FOUND", "PRESENT"], "a": ["NOT_FOUND", "NULL_VALUE"]})
    shaped = shaped_answer(answer, RequestedFeatures(["a", "b"], frozenset()))
    assert list(shaped) == ["metadata", "results", "unknown_entities"]
    assert shaped["metadata"]["feature_names"] == ["customer_id", "a", "b"] and shaped["unknown_entities"] == [0]

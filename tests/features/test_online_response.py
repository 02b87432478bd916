"""The feature server's answers list features in the order the request named them."""

from feature_repo.online_response import in_requested_order


def _response(names):
    return {"metadata": {"feature_names": names}, "results": [{"values": [name.upper()]} for name in names]}


def test_features_follow_the_request_with_the_entity_key_first():
    feast_order = _response(["customer_id", "churn_reason_1", "orders_90d", "churn_probability"])
    answer = in_requested_order(feast_order, ["churn_probability", "orders_90d", "churn_reason_1"])
    assert answer["metadata"]["feature_names"] == ["customer_id", "churn_probability", "orders_90d", "churn_reason_1"]
    assert [result["values"][0] for result in answer["results"]] == ["CUSTOMER_ID", "CHURN_PROBABILITY", "ORDERS_90D", "CHURN_REASON_1"]

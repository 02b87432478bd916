"""The nightly recommendations through the real Feast registry and online stores: two nights of
hand-written files in the recommender's layout, published as `cxp run` publishes them, read by the
SDK, over HTTP from `cxp serve`, point in time offline, and gone for an erased or retired customer."""

import datetime as dt
import os

import pandas as pd
import polars as pl
import pytest
import requests

from dagster_project.privacy.erasure_files import erase_from_parquet_files
from dagster_project.settings import load_settings
from feature_repo.definitions import feature_store_objects, open_feature_store
from feature_repo.online_store import delete_customers_online, latest_nightly_dates, publish_online
from ml.nightly_files import scoring_timestamp
from ml.recommendations.recommendation_files import write_recommendations, write_similar_products
from tests.features.feature_server import running_feature_server
from tests.redis_server import running_redis

NIGHT_1 = dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=2)
NIGHT_2 = NIGHT_1 + dt.timedelta(days=1)
RECOMMENDATION_FEATURES = ["recommended_skus", "recommended_titles", "recommendation_reasons", "recommendations_personalized",
                           "recommender_version"]
TITLES = {"SKU-1": "Canvas Shoes", "SKU-2": "Leather Bag", "SKU-3": "Wool Socks", "SKU-4": "Shoe Polish", "SKU-9": "Gift Card"}
# customer -> (SKUs, personalized) per night. Bob opted out: the shop's list. Ann's list changes on night 2.
LISTS = {
    NIGHT_1: {"cus_ann": (["SKU-1", "SKU-2"], True), "cus_bob": (["SKU-9", "SKU-1"], False), "cus_cy": (["SKU-3"], True),
              "cus_dan": (["SKU-2"], True)},
    NIGHT_2: {"cus_ann": (["SKU-3", "SKU-1"], True), "cus_bob": (["SKU-9", "SKU-1"], False), "cus_cy": (["SKU-3"], True),
              "cus_dan": (["SKU-2"], True)},
}
# SKU -> similar SKUs (both nights); nothing is similar to SKU-3.
SIMILAR = {"SKU-1": ["SKU-4", "SKU-2"], "SKU-2": ["SKU-1"], "SKU-3": []}


def _reasons(skus: list[str], personalized: bool) -> list[str]:
    return [f"{'you might like' if personalized else 'popular in the shop'}: {sku}" for sku in skus]


def _write_night(feature_files_dir, night: dt.date) -> None:
    lists = LISTS[night]
    write_recommendations(pl.DataFrame({
        "customer_id": list(lists), "event_timestamp": [scoring_timestamp(night)] * len(lists),
        "recommended_skus": [skus for skus, _ in lists.values()],
        "recommended_titles": [[TITLES[sku] for sku in skus] for skus, _ in lists.values()],
        "recommendation_reasons": [_reasons(skus, personalized) for skus, personalized in lists.values()],
        "recommendations_personalized": [personalized for _, personalized in lists.values()],
        "recommender_version": ["hybrid-test"] * len(lists),
    }), night, feature_files_dir, keep_days=30)
    write_similar_products(pl.DataFrame({
        "sku": list(SIMILAR), "event_timestamp": [scoring_timestamp(night)] * len(SIMILAR),
        "similar_skus": list(SIMILAR.values()), "similar_titles": [[TITLES[sku] for sku in skus] for skus in SIMILAR.values()],
        "similar_reasons": [[f"bought together with {sku}" for sku in skus] for skus in SIMILAR.values()],
        "recommender_version": ["hybrid-test"] * len(SIMILAR),
    }), night, feature_files_dir, keep_days=30)


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """A home whose registry holds every Feast object, after two nights of recommendations were
    published: night 1 into an empty store, night 2 as changes. Yields the home, the store and
    night 2's publication."""
    home = tmp_path_factory.mktemp("recommendations")
    with pytest.MonkeyPatch.context() as monkeypatch:
        for name in [name for name in os.environ if name.startswith("CXP_") and name != "CXP_REQUIRE_REDIS"]:
            monkeypatch.delenv(name)
        monkeypatch.setenv("CXP_HOME", str(home))
        monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
        settings = load_settings()
        store = open_feature_store(settings)
        store.apply(feature_store_objects(settings))
        _write_night(settings.feature_files_dir, NIGHT_1)
        publish_online(store, settings, nightly_on=latest_nightly_dates(settings))
        _write_night(settings.feature_files_dir, NIGHT_2)
        night_2 = publish_online(store, settings, nightly_on=latest_nightly_dates(settings))
        yield home, store, night_2


def _read(store, service: str, key: str, ids: list[str]) -> dict[str, list]:
    return store.get_online_features(features=store.get_feature_service(service), entity_rows=[{key: value} for value in ids]).to_dict()


def _expected_lists(customers: list[str], night: dt.date = NIGHT_2) -> dict[str, list]:
    rows = [LISTS[night][customer] for customer in customers]
    return {"recommended_skus": [skus for skus, _ in rows], "recommended_titles": [[TITLES[sku] for sku in skus] for skus, _ in rows],
            "recommendation_reasons": [_reasons(skus, personalized) for skus, personalized in rows],
            "recommendations_personalized": [personalized for _, personalized in rows], "recommender_version": ["hybrid-test"] * len(rows)}


def test_the_nights_recommendations_and_similar_products_are_read_online_after_publication(published):
    _, store, night_2 = published
    moment = scoring_timestamp(NIGHT_2)
    assert night_2.mode == "incremental"
    assert [(write.feature_view, write.start, write.end) for write in night_2.writes] == [
        ("customer_recommendations", moment, moment), ("similar_products", moment, moment)]
    served = _read(store, "recommendations", "customer_id", ["cus_ann", "cus_bob", "cus_nobody"])
    expected = _expected_lists(["cus_ann", "cus_bob"])
    assert {name: served[name] for name in RECOMMENDATION_FEATURES} == {name: [*values, None] for name, values in expected.items()}
    # Bob opted out of personalization: he is served the shop's list, and says so.
    assert served["recommendations_personalized"][1] is False
    similar = _read(store, "similar_products", "sku", ["SKU-1", "SKU-3", "SKU-404"])
    assert similar["similar_skus"] == [["SKU-4", "SKU-2"], [], None]
    assert similar["similar_titles"] == [["Shoe Polish", "Leather Bag"], [], None]


def test_lists_are_read_as_of_each_rows_time_offline(published):
    _, store, _ = published
    night_1, night_2 = pd.Timestamp(scoring_timestamp(NIGHT_1)), pd.Timestamp(scoring_timestamp(NIGHT_2))
    # (moment, Ann's list then): none before night 1 was known, none once the TTL (3 days) is past.
    cases = [(night_1 - pd.Timedelta(seconds=1), None), (night_1, ["SKU-1", "SKU-2"]), (night_2 - pd.Timedelta(hours=1), ["SKU-1", "SKU-2"]),
             (night_2 + pd.Timedelta(hours=1), ["SKU-3", "SKU-1"]), (night_2 + pd.Timedelta(days=4), None)]
    rows = pd.DataFrame({"customer_id": "cus_ann", "event_timestamp": [moment for moment, _ in cases]})
    offline = store.get_historical_features(entity_df=rows, features=["customer_recommendations:recommended_skus"]).to_df()
    offline = offline.sort_values("event_timestamp")
    found = [None if skus is None else list(skus) for skus in offline["recommended_skus"]]
    assert found == [skus for _, skus in cases]


@pytest.fixture(scope="module")
def server(published, tmp_path_factory):
    """`cxp serve` of the published home."""
    with running_feature_server(tmp_path_factory.mktemp("server")) as url:
        yield url


def _post(url: str, body: dict) -> requests.Response:
    return requests.post(f"{url}/get-online-features", json=body, timeout=10)


def _values(answer: dict) -> dict[str, list]:
    return {name: result["values"] for name, result in zip(answer["metadata"]["feature_names"], answer["results"])}


def test_similar_products_are_read_by_sku_over_http(server):
    answer = _post(server, {"feature_service": "similar_products", "entities": {"sku": ["SKU-1", "SKU-3", "SKU-404"]}})
    assert answer.status_code == 200, answer.text
    values = _values(answer.json())
    assert list(values) == ["sku", "similar_skus", "similar_titles", "similar_reasons", "recommender_version"]
    assert values["similar_skus"] == [["SKU-4", "SKU-2"], [], None]
    assert values["similar_reasons"][0] == ["bought together with SKU-4", "bought together with SKU-2"]
    assert answer.json()["unknown_entities"] == ["SKU-404"]
    # A product's view is keyed by SKU and a customer's by customer id: the other key is refused by name, not answered 500.
    wrong = _post(server, {"feature_service": "similar_products", "entities": {"customer_id": ["cus_ann"]}})
    assert wrong.status_code == 422 and "keyed by sku, not customer_id" in wrong.json()["error"]["message"], wrong.text
    wrong = _post(server, {"feature_service": "recommendations", "entities": {"sku": ["SKU-1"]}})
    assert wrong.status_code == 422 and "keyed by customer_id, not sku" in wrong.json()["error"]["message"], wrong.text


def test_apps_read_the_recommendations_in_the_personalization_service_and_their_own_over_http(server):
    customers = ["cus_ann", "cus_bob", "cus_nobody"]
    app = _post(server, {"feature_service": "personalization_app", "entities": {"customer_id": customers}})
    own = _post(server, {"feature_service": "recommendations", "entities": {"customer_id": customers}})
    assert app.status_code == 200 and own.status_code == 200, app.text + own.text
    expected = {name: [*values, None] for name, values in _expected_lists(["cus_ann", "cus_bob"]).items()}
    app_values, own_values = _values(app.json()), _values(own.json())
    # The service's order: the recommendations come after the scores, the next-best action last.
    names = list(app_values)
    assert names[names.index(RECOMMENDATION_FEATURES[0]):][:len(RECOMMENDATION_FEATURES)] == RECOMMENDATION_FEATURES
    assert names[-1] == "next_best_action_model"
    assert {name: app_values[name] for name in RECOMMENDATION_FEATURES} == expected
    assert {name: own_values[name] for name in RECOMMENDATION_FEATURES} == expected
    assert app.json()["unknown_entities"] == own.json()["unknown_entities"] == ["cus_nobody"]


def test_an_erased_customer_has_no_recommendations_online_or_in_the_files(published):
    _, store, _ = published
    settings = load_settings()
    # One row per feature of the customer's one view with rows: the product view is not a customer's.
    assert delete_customers_online(store, settings, ["cus_cy"]) == len(RECOMMENDATION_FEATURES)
    found = erase_from_parquet_files(settings.feature_files_dir, "feature files", {"cus_cy": "ER-1"})
    assert [(deletion.location, deletion.rows) for deletion in found["ER-1"]] == [("customer_recommendations (2 files)", 2)]
    gone = _read(store, "recommendations", "customer_id", ["cus_cy", "cus_ann"])
    assert all(gone[name][0] is None for name in RECOMMENDATION_FEATURES)
    assert gone["recommended_skus"][1] == ["SKU-3", "SKU-1"]
    assert _read(store, "similar_products", "sku", ["SKU-3"])["similar_skus"] == [[]]


def test_a_retired_id_loses_its_recommendations_in_the_nights_publication(published):
    _, store, _ = published
    settings = load_settings()
    night = publish_online(store, settings, retired_customer_ids=["cus_dan"], nightly_on=latest_nightly_dates(settings))
    assert night.retired_rows_removed == len(RECOMMENDATION_FEATURES)
    assert all(value is None for name in RECOMMENDATION_FEATURES for value in _read(store, "recommendations", "customer_id", ["cus_dan"])[name])
    assert _read(store, "similar_products", "sku", ["SKU-2"])["similar_skus"] == [["SKU-1"]]


def test_the_redis_store_serves_the_same_lists_and_forgets_an_erased_customer(published, tmp_path):
    _, sqlite_store, _ = published
    with running_redis(tmp_path) as port, pytest.MonkeyPatch.context() as redis_env:
        redis_env.setenv("CXP_ONLINE_STORE", "redis")
        redis_env.setenv("CXP_REDIS", f"127.0.0.1:{port},db=0")
        settings = load_settings()
        redis_store = open_feature_store(settings)
        night = publish_online(redis_store, settings, nightly_on=latest_nightly_dates(settings))
        assert night.mode == "full" and {write.feature_view for write in night.writes} == {"customer_recommendations", "similar_products"}
        for service, key, ids in (("recommendations", "customer_id", ["cus_ann", "cus_bob", "cus_nobody"]),
                                  ("similar_products", "sku", ["SKU-1", "SKU-3", "SKU-404"])):
            assert _read(redis_store, service, key, ids) == _read(sqlite_store, service, key, ids), service
        assert delete_customers_online(redis_store, settings, ["cus_ann"]) == 1  # the customer's one hash
        gone = _read(redis_store, "recommendations", "customer_id", ["cus_ann", "cus_bob"])
        assert all(gone[name][0] is None for name in RECOMMENDATION_FEATURES) and gone["recommendations_personalized"][1] is False
        assert _read(redis_store, "similar_products", "sku", ["SKU-1"])["similar_skus"] == [["SKU-4", "SKU-2"]]

"""The feature store through the real pipeline on generated exports: dbt feature snapshots built by a
first load and then one nightly day, their Parquet files, a Feast registry, DuckDB point-in-time
retrieval, the SQLite online store, Redis, the HTTP feature server and `cxp training-set`."""

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import requests
from click.testing import CliRunner

from bench.serving_drill import ReadDrill, report
from dagster_project.cli import main
from dagster_project.cli.run_pipeline import run_pipeline
from dagster_project.demo_exports import generate_demo_exports
from dagster_project.settings import REPO_ROOT, load_settings
from tests.conftest import query
from tests.features.feature_server import free_port, online_features, running_feature_server, wait_until
from tests.features.online_tables import decoded_online_tables
from tests.quality.test_quality_gates import TEST_THRESHOLDS, point_platform_at
from tests.redis_server import running_redis

pytestmark = pytest.mark.slow(minutes=3)

CXP = str(Path(sys.executable).with_name("cxp"))
LAST_DAY = dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=1)
STORED_VIEWS = ("customer_purchase", "customer_email", "customer_support", "customer_profile")
# The customer the README's curl example asks for (README.md, "Serving apps over HTTP").
README_CUSTOMER = ("select customer_id from marts.dim_customers semi join features.customer_purchase_features using (customer_id) "
                   "order by customer_id limit 1")
INCREMENTAL_TABLES = ("customer_purchase_features", "customer_email_features", "customer_support_features")


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    """1,500 generated people over 60 days: a first load of all days but the last, then the last
    day as the nightly run loads it, while two apps read the feature server without pause. Yields
    the home, the nightly run's outcome, the Feast store, when each Parquet file was written before
    the nightly run, and the readers' drill (its result, the answers before and after)."""
    home = tmp_path_factory.mktemp("features")
    (home / "thresholds.yml").write_text(TEST_THRESHOLDS)
    landing = home / "landing"
    generate_demo_exports(landing, customers=1500, days=60, seed=11, end_date=LAST_DAY)
    held_back = home / "held-back"
    for path in landing.rglob(f"*_{LAST_DAY.isoformat()}.*"):
        (held_back / path.relative_to(landing)).parent.mkdir(parents=True, exist_ok=True)
        path.rename(held_back / path.relative_to(landing))
    with pytest.MonkeyPatch.context() as monkeypatch:
        point_platform_at(home, monkeypatch)
        assert run_pipeline(load_settings()).success
        written_before = {path: path.stat().st_mtime_ns for path in (home / "features").rglob("*.parquet")}
        customers = [row[0] for row in query(home / "warehouse.duckdb", "select customer_id from marts.dim_customers order by hash(customer_id) limit 100")]
        for path in [p for p in held_back.rglob("*") if p.is_file()]:
            path.rename(landing / path.relative_to(held_back))
        with running_feature_server(home) as url:
            drill = ReadDrill(url, [customers[i:i + 10] for i in range(0, 100, 10)], clients=2)
            before = drill.snapshot()
            with drill:
                nightly = run_pipeline(load_settings(), LAST_DAY)
                time.sleep(1)
            after = drill.snapshot()
        from feature_repo.definitions import open_feature_store

        yield home, nightly, open_feature_store(load_settings()), written_before, (drill.result, before, after)


def test_the_nightly_run_builds_features_and_publishes_them_online(platform):
    _, nightly, store, _, _ = platform
    assert nightly.success, nightly.failed_steps
    for key in ("features/customer_purchase_features", "feature_store/offline_files", "feature_store/registry", "feature_store/online_store"):
        assert key in nightly.materialized
    assert {service.name for service in store.list_feature_services()} == {"churn_model", "propensity_model", "clv_model", "personalization_app",
                                                                          "recommendations", "similar_products"}
    # Feature descriptions and owners come from the dbt YAML.
    recency = next(f for f in store.get_feature_view("customer_purchase").features if f.name == "last_order_at")
    assert "recency is derived" in recency.description and recency.tags["owner"] == "growth-analytics@cxp.example"


def test_apps_reading_through_the_nightly_run_get_every_answer_whole_from_one_night(platform):
    """The nightly run publishes features and scores while apps read: no read fails, and every
    answer is wholly last night's or wholly tonight's, never views or customers of both."""
    *_, (drill, before, after) = platform
    (old, new), mixed = drill.compare(before, after)
    assert sum(before[batch] != after[batch] for batch in range(len(before))) >= 8, "the night changed too little to tell"
    assert drill.reads > 200 and not drill.errors, report(drill, before, after)
    assert mixed == 0, report(drill, before, after)
    assert old > 0 and new > 0, report(drill, before, after)


def test_the_nightly_run_writes_one_new_day_of_parquet_and_leaves_history_alone(platform):
    home, _, _, written_before, _ = platform
    for table in INCREMENTAL_TABLES:
        days = sorted(path.name for path in (home / "features" / table).iterdir() if path.is_dir())
        assert days[-1] == LAST_DAY.isoformat()
    untouched = {path for path, written in written_before.items() if path.exists() and path.stat().st_mtime_ns == written}
    assert untouched == set(written_before)


def test_a_nightly_run_appends_exactly_what_a_full_rebuild_computes(platform, tmp_path):
    home, _, _, _, _ = platform
    rebuilt = tmp_path / "rebuilt.duckdb"
    shutil.copy(home / "warehouse.duckdb", rebuilt)
    env = {**os.environ, "CXP_WAREHOUSE_PATH": str(rebuilt), "DBT_TARGET_PATH": str(tmp_path / "target"), "DBT_LOG_PATH": str(tmp_path / "logs")}
    dbt = Path(sys.executable).with_name("dbt")
    subprocess.run([str(dbt), "build", "--full-refresh", "--select", "path:models/intermediate/features path:models/marts/features",
                    "--project-dir", str(REPO_ROOT / "dbt"), "--profiles-dir", str(REPO_ROOT / "dbt")],
                   env=env, check=True, capture_output=True)
    with duckdb.connect(str(rebuilt), read_only=True) as connection:
        connection.execute(f"ATTACH '{home / 'warehouse.duckdb'}' AS nightly (READ_ONLY)")
        # Snapshots keep each day as it was known then: when the night's identity resolution splits
        # or merges customers, a rebuild re-attributes their history and the stored days do not.
        # Every other customer's rows must be exactly the rebuild's.
        moved = ("SELECT customer_id FROM nightly.identity.customer_id_events WHERE event_type <> 'created' UNION "
                 "SELECT related_customer_id FROM nightly.identity.customer_id_events WHERE event_type <> 'created'")
        for table in INCREMENTAL_TABLES:
            rows = connection.execute(f"SELECT count(*) FROM features.{table}").fetchone()[0]
            rebuilt_rows = f"FROM features.{table} WHERE customer_id NOT IN ({moved})"
            nightly_rows = f"FROM nightly.features.{table} WHERE customer_id NOT IN ({moved})"
            only_rebuilt = connection.execute(f"SELECT count(*) FROM ({rebuilt_rows} EXCEPT {nightly_rows})").fetchone()[0]
            only_nightly = connection.execute(f"SELECT count(*) FROM ({nightly_rows} EXCEPT {rebuilt_rows})").fetchone()[0]
            assert rows > 0 and (only_rebuilt, only_nightly) == (0, 0), table
            # What is served now agrees for them too: each one's latest values, a customer the split or
            # merge left without any day of this table holding nothing (an emptied row, or no row).
            latest = ("SELECT * EXCLUDE (snapshot_date, event_timestamp, feature_hash) FROM {schema}features.{table} "
                      "WHERE customer_id IN ({moved}) QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY snapshot_date DESC) = 1 "
                      "AND feature_hash <> 'emptied'")
            served_nightly = connection.execute(latest.format(schema="nightly.", table=table, moved=moved) + " ORDER BY ALL").fetchall()
            served_rebuilt = connection.execute(latest.format(schema="", table=table, moved=moved) + " ORDER BY ALL").fetchall()
            assert served_nightly == served_rebuilt, table


def _recomputed_purchase_features(warehouse: Path, entity_rows: pd.DataFrame) -> pd.DataFrame:
    """Orders counted from the raw export rows and fct_orders' buyers, with only what had been
    exported before each entity row's day: an order from the first file carrying it, a
    cancellation from the first file saying so."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        connection.register("entity_rows", entity_rows)
        return connection.sql("""
            with exported as (
                select cast("Id" as bigint) as order_id, min(_extract_date) as first_exported,
                       min(_extract_date) filter (where coalesce(trim("Cancelled at"), '') <> '') as cancellation_exported
                from raw.ecommerce_orders
                where coalesce("Financial Status", '') <> ''  -- order-level columns fill an order's first line row only
                group by 1
            ),
            orders as (
                select o.order_id, o.customer_id, o.created_at, x.first_exported, x.cancellation_exported
                from marts.fct_orders o join exported x on x.order_id = o.order_id
            ),
            known as (
                select e.customer_id, e.event_timestamp, o.order_id, o.created_at,
                       coalesce(greatest(o.cancellation_exported, cast(o.created_at as date)) < cast(e.event_timestamp as date)
                                and o.cancellation_exported is not null, false) as cancelled_by_then
                from entity_rows e
                left join orders o
                  on o.customer_id = e.customer_id
                  and greatest(o.first_exported, cast(o.created_at as date)) < cast(e.event_timestamp as date)
            )
            select customer_id, event_timestamp,
                   count(order_id) filter (where not cancelled_by_then) as orders_lifetime,
                   count(order_id) filter (where not coalesce(cancelled_by_then, false)
                                           and cast(created_at as date) >= cast(event_timestamp as date) - 30) as orders_30d,
                   max(created_at) as last_order_at  -- the last order known, cancelled or not
            from known
            group by all
        """).df()


def test_features_at_a_past_date_equal_a_recomputation_from_only_earlier_events(platform):
    home, _, store, _, _ = platform
    buyers = [row[0] for row in query(home / "warehouse.duckdb",
              "select customer_id from marts.fct_orders where customer_id is not null group by 1 having count(*) >= 2 order by 1 limit 40")]
    assert buyers
    first_day = LAST_DAY - dt.timedelta(days=55)
    entity_rows = pd.DataFrame([
        {"customer_id": customer, "event_timestamp": pd.Timestamp(first_day + dt.timedelta(days=offset), tz="UTC") + pd.Timedelta(hours=13)}
        for customer in buyers for offset in range(0, 57, 4)
    ])
    retrieved = store.get_historical_features(
        entity_df=entity_rows, features=["customer_purchase:orders_lifetime", "customer_purchase:orders_30d", "customer_purchase:last_order_at"],
    ).to_df()
    expected = _recomputed_purchase_features(home / "warehouse.duckdb", entity_rows)
    merged = retrieved.merge(expected, on=["customer_id", "event_timestamp"], suffixes=("", "_expected"))
    assert len(merged) == len(entity_rows)  # no entity row dropped or duplicated
    assert (merged["orders_lifetime"].fillna(0) == merged["orders_lifetime_expected"]).all()
    assert (merged["orders_30d"].fillna(0) == merged["orders_30d_expected"]).all()
    retrieved_last = pd.to_datetime(merged["last_order_at"], utc=True)
    expected_last = pd.to_datetime(merged["last_order_at_expected"], utc=True)
    assert ((retrieved_last == expected_last) | (retrieved_last.isna() & expected_last.isna())).all()


def _sample_customers(home: Path) -> list[str]:
    """Customers whose features changed on the nightly day, and as many whose did not."""
    changed = [row[0] for row in query(home / "warehouse.duckdb",
               f"select distinct customer_id from features.customer_email_features where snapshot_date = '{LAST_DAY}' order by 1 limit 60")]
    others = [row[0] for row in query(home / "warehouse.duckdb", "select customer_id from marts.dim_customers order by customer_id limit 60")]
    assert changed
    return sorted(set(changed + others))


def _stored_features(store) -> list[str]:
    return [f"{view}:{feature.name}" for view in STORED_VIEWS for feature in store.get_feature_view(view).features]


def _same(left: pd.Series, right: pd.Series) -> pd.Series:
    left, right = _comparable(left), _comparable(right)
    return (left == right) | (left.isna() & right.isna())


def _comparable(values: pd.Series) -> pd.Series:
    """Lists (the SDK's) and arrays (a training set's) as tuples, which compare as one value."""
    return values.map(lambda value: tuple(value) if isinstance(value, (list, np.ndarray)) else value)


def test_online_values_equal_the_latest_offline_values(platform):
    home, _, store, _, _ = platform
    customers = _sample_customers(home)
    features = _stored_features(store)
    offline = store.get_historical_features(
        entity_df=pd.DataFrame({"customer_id": customers, "event_timestamp": pd.Timestamp.now(tz="UTC")}), features=features,
    ).to_df().set_index("customer_id")
    online = pd.DataFrame(store.get_online_features(features=features, entity_rows=[{"customer_id": c} for c in customers]).to_dict())
    online = online.set_index("customer_id")
    for feature in (ref.split(":")[1] for ref in features):
        left, right = offline.loc[customers, feature], online.loc[customers, feature]
        if pd.api.types.is_datetime64_any_dtype(left):
            left, right = pd.to_datetime(left, utc=True), pd.to_datetime(right, utc=True)
        assert _same(left, right).all(), feature


def test_the_bulk_online_writer_stores_what_feasts_own_engine_stores(platform, tmp_path):
    """Our store after a first load and one nightly run (changes only) holds what Feast's local
    engine writes in one full materialization into a store of its own."""
    home, _, store, _, _ = platform
    from feast import FeatureStore

    stock_dir = tmp_path / "stock"
    stock_dir.mkdir()
    shutil.copy(home / "feature_store" / "registry.db", stock_dir / "registry.db")
    config = (REPO_ROOT / "feature_repo" / "feature_store.yaml").read_text()
    config = config.replace("${CXP_FEATURE_STORE_DIR}", str(stock_dir)).replace(
        "${CXP_SQLITE_ONLINE_STORE}", str(stock_dir / "online_store.db")).replace(
        "type: feature_repo.materialization_engine.CxpMaterializationEngine", "type: local")
    (stock_dir / "feature_store.yaml").write_text(config)
    stock = FeatureStore(repo_path=str(REPO_ROOT / "feature_repo"), fs_yaml_file=stock_dir / "feature_store.yaml")
    stock.apply([store.get_entity("customer"), *(store.get_feature_view(view) for view in STORED_VIEWS)])
    stock.materialize(start_date=dt.datetime(1970, 1, 2, tzinfo=dt.timezone.utc), end_date=dt.datetime.now(dt.timezone.utc),
                      feature_views=list(STORED_VIEWS))

    ours = decoded_online_tables(home / "feature_store" / "online_store.db")
    theirs = decoded_online_tables(stock_dir / "online_store.db")
    assert set(theirs) == {f"cxp_{view}" for view in STORED_VIEWS}  # the models' scores are not compared here
    for table, rows in theirs.items():
        # Values and their text alike; a feature the nightly run left alone keeps the time it last changed.
        assert len(rows) > 1000 and {cell: stored[:2] for cell, stored in ours[table].items()} == {
            cell: stored[:2] for cell, stored in rows.items()}, table
        assert all(ours[table][cell][2] <= stored[2] for cell, stored in rows.items())


@pytest.fixture
def redis_server(tmp_path):
    """A real redis-server on a free loopback port, for this test only."""
    with running_redis(tmp_path) as port:
        yield port


def test_the_redis_online_store_serves_the_same_values_and_forgets_removed_customers(platform, redis_server, monkeypatch):
    home, _, sqlite_store, _, _ = platform
    from feature_repo.definitions import open_feature_store
    from feature_repo.online_store import delete_customers_online, materialize_online

    monkeypatch.setenv("CXP_ONLINE_STORE", "redis")
    monkeypatch.setenv("CXP_REDIS", f"127.0.0.1:{redis_server},db=0")
    settings = load_settings()
    redis_store = open_feature_store(settings)
    mode, writes = materialize_online(redis_store, settings)
    assert mode == "full" and {write.feature_view for write in writes} == set(STORED_VIEWS)

    customers = _sample_customers(home)
    features = _stored_features(sqlite_store)
    rows = [{"customer_id": c} for c in customers]
    from_redis = pd.DataFrame(redis_store.get_online_features(features=features, entity_rows=rows).to_dict())
    from_sqlite = pd.DataFrame(sqlite_store.get_online_features(features=features, entity_rows=rows).to_dict())
    for column in from_sqlite.columns:
        assert _same(from_redis[column], from_sqlite[column]).all(), column

    assert delete_customers_online(redis_store, settings, customers[:3]) == 3
    gone = redis_store.get_online_features(features=features[:3], entity_rows=rows[:3]).to_dict()
    assert all(value is None for column in gone if column != "customer_id" for value in gone[column])


def test_a_publication_that_dies_leaves_the_previous_night_served_and_a_stuck_view_serves(platform, tmp_path, monkeypatch):
    from feast.feature_view import FeatureViewState

    from feature_repo.definitions import open_feature_store
    from feature_repo.feast_internals import customer_keys
    from feature_repo.materialization_engine import publication
    from feature_repo.online_store import latest_scores_date, materialize_scores_online

    home = platform[0]
    copy = tmp_path / "home"
    shutil.copytree(home, copy, ignore=shutil.ignore_patterns("landing", "held-back", "dagster", "dbt"))
    monkeypatch.setenv("CXP_HOME", str(copy))
    store = open_feature_store(load_settings())
    customers = _sample_customers(copy)[:5]
    rows = [{"customer_id": c} for c in customers]

    def served() -> dict:
        answer = store.get_online_features(features=store.get_feature_service("personalization_app"), entity_rows=rows).to_dict()
        return {name: values for name, values in answer.items() if not name.startswith(("days_since_", "tenure_days"))}

    before = served()
    assert any(value is not None for value in before["orders_lifetime"])
    with pytest.raises(RuntimeError, match="killed"):
        with publication(store) as engine:
            engine.remove_entities(store.list_feature_views(), customer_keys(store, customers))
            materialize_scores_online(store, latest_scores_date(load_settings()))
            raise RuntimeError("killed mid-publication")
    assert served() == before
    # A write killed between Feast's two registry commits leaves its view MATERIALIZING: still served.
    view = store.get_feature_view("customer_profile")
    view.state = FeatureViewState.MATERIALIZING
    store.registry.apply_feature_view(view, store.project, commit=True)
    assert served() == before
    with publication(store) as engine:
        engine.remove_entities(store.list_feature_views(), customer_keys(store, customers))
    gone = served()
    assert all(value is None for name, values in gone.items() if name != "customer_id" for value in values)


def test_a_registry_cut_short_is_set_aside_and_rebuilt_and_serving_goes_on(platform, tmp_path, monkeypatch):
    import dagster as dg

    from dagster_project.defs.features.assets import feast_registry
    from dagster_project.defs.features.resources import FeatureStoreResource
    from feature_repo.definitions import open_feature_store

    copy = tmp_path / "home"
    shutil.copytree(platform[0], copy, ignore=shutil.ignore_patterns("landing", "held-back", "dagster", "dbt"))
    monkeypatch.setenv("CXP_HOME", str(copy))
    registry = copy / "feature_store" / "registry.db"
    rows = [{"customer_id": c} for c in _sample_customers(copy)[:5]]

    def served() -> dict:  # but the on-demand ages, which move with the clock
        store = open_feature_store(load_settings())
        answer = store.get_online_features(features=store.get_feature_service("personalization_app"), entity_rows=rows).to_dict()
        return {name: values for name, values in answer.items() if not name.startswith(("days_since_", "tenure_days"))}

    before = served()
    cut = registry.read_bytes()[: registry.stat().st_size // 2]
    registry.write_bytes(cut)

    result = dg.materialize([feast_registry], resources={"feature_store": FeatureStoreResource(load_settings())})

    assert result.success
    (aside,) = (copy / "feature_store").glob("registry.db.unreadable-*")
    assert aside.read_bytes() == cut
    metadata = result.asset_materializations_for_node("feature_store__registry")[0].metadata
    assert metadata["applied"].value is True and metadata["unreadable_registry_set_aside"].value == str(aside)
    assert served() == before and any(value is not None for value in before["orders_lifetime"])


def test_apps_read_the_personalization_service_over_http(platform, tmp_path):
    home, _, store, _, _ = platform
    # Current customers with orders, emails and tickets: every feature compared below has a value to serve.
    customers = [row[0] for row in query(home / "warehouse.duckdb", """
        select customer_id from marts.dim_customers
        intersect select customer_id from features.customer_purchase_features
        intersect select customer_id from features.customer_email_features
        intersect select customer_id from features.customer_support_features
        order by 1 limit 5""")]
    assert len(customers) == 5
    asked = ["customer_scores:churn_probability", "customer_purchase:orders_lifetime", "customer_email:clicks_30d",
             "customer_purchase_derived:days_since_last_order"]
    with running_feature_server(tmp_path) as url:
        served = online_features(url, "personalization_app", customers)
        # Features come back in the order asked for, and a JSON body is read as JSON without a Content-Type.
        ordered = requests.post(f"{url}/get-online-features", data=json.dumps({"features": asked, "entities": {"customer_id": customers}}),
                                headers={"Content-Type": "text/plain"}, timeout=10)
    assert ordered.status_code == 200, ordered.text
    assert ordered.json()["metadata"]["feature_names"] == ["customer_id", *(name.split(":")[1] for name in asked)]
    assert ordered.json()["results"][2]["values"] == served["orders_lifetime"]
    service = store.get_feature_service("personalization_app")
    assert list(served) == ["customer_id", *(f.name for projection in service.feature_view_projections for f in projection.features)]
    sdk = store.get_online_features(features=store.get_feature_service("personalization_app"),
                                    entity_rows=[{"customer_id": c} for c in customers]).to_dict()
    assert served["customer_id"] == customers
    for name in ("orders_lifetime", "net_revenue_usd_365d", "clicks_30d", "open_tickets", "email_marketing_consent",
                 "is_personalization_opted_out"):
        assert None not in served[name] and served[name] == sdk[name], (name, served[name], sdk[name])
    # Recency is derived when the request is served: the same to the minute as the SDK's.
    assert None not in served["days_since_last_order"] and None not in sdk["days_since_last_order"]
    for served_days, sdk_days in zip(served["days_since_last_order"], sdk["days_since_last_order"]):
        assert abs(served_days - sdk_days) < 1 / 1440


def test_interests_are_served_as_lists_over_http_and_by_the_sdk_and_unknown_ids_are_named(platform, tmp_path):
    home, _, store, _, _ = platform
    with_interests, without = (
        [row[0] for row in query(home / "warehouse.duckdb", f"select customer_id from marts.dim_customers where len(interests) {test} 0 "
                                                             "order by customer_id limit 3")] for test in (">", "="))
    expected = dict(query(home / "warehouse.duckdb", "select customer_id, interests from marts.dim_customers"))
    customers = [*with_interests, *without, "cus_not_a_customer"]
    # The README's example: the first current customer with an order.
    readme_customer = query(home / "warehouse.duckdb", README_CUSTOMER)[0][0]
    with running_feature_server(tmp_path) as url:
        answer = requests.post(f"{url}/get-online-features", timeout=10,
                               json={"feature_service": "personalization_app", "entities": {"customer_id": customers}}).json()
        readme = requests.post(f"{url}/get-online-features", timeout=10,
                               json={"feature_service": "personalization_app", "entities": {"customer_id": [readme_customer]}}).json()
    served = {name: result["values"] for name, result in zip(answer["metadata"]["feature_names"], answer["results"])}
    assert served["interests"] == [*(expected[c] for c in with_interests + without), None]
    assert all(served["interests"][:3]) and served["interests"][3:6] == [[], [], []]
    assert answer["unknown_entities"] == ["cus_not_a_customer"]
    sdk = store.get_online_features(features=["customer_profile:interests"], entity_rows=[{"customer_id": c} for c in customers]).to_dict()
    assert sdk["interests"] == served["interests"]
    # Training sets get the same lists, as of each row's time.
    offline = store.get_historical_features(entity_df=pd.DataFrame({"customer_id": with_interests, "event_timestamp": pd.Timestamp.now(tz="UTC")}),
                                            features=["customer_profile:interests"]).to_df().set_index("customer_id")
    assert [list(offline.loc[c, "interests"]) for c in with_interests] == served["interests"][:3]
    readme_values = {name: result for name, result in zip(readme["metadata"]["feature_names"], readme["results"])}
    assert readme["unknown_entities"] == [] and readme_values["orders_lifetime"]["values"][0] >= 1


def test_the_feature_server_wants_its_token_serves_reads_only_and_answers_mistakes_with_4xx_in_one_shape(platform, tmp_path, monkeypatch):
    import requests

    home = platform[0]
    customers = _sample_customers(home)[:3]
    monkeypatch.setenv("CXP_FEATURE_SERVER_TOKEN", "s3cret-token")
    monkeypatch.setenv("CXP_FEATURE_SERVER_MAX_ENTITIES", "500")
    bearer = {"Authorization": "Bearer s3cret-token"}
    read = {"feature_service": "personalization_app", "entities": {"customer_id": customers}}
    with running_feature_server(tmp_path) as url:
        def post(path: str, body, headers=bearer) -> requests.Response:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            return requests.post(f"{url}{path}", data=data, headers={"Content-Type": "application/json", **headers}, timeout=30)

        assert requests.get(f"{url}/health", timeout=5).status_code == 200  # probes need no token
        assert post("/get-online-features", read, headers={}).status_code == 401
        assert post("/get-online-features", read, headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert post("/get-online-features", read).status_code == 200
        for path in ("/push", "/write-to-online-store", "/materialize", "/materialize-incremental"):
            refused = post(path, {})
            assert refused.status_code == 403 and "--allow-writes" in refused.json()["error"]["message"], path
        many = post("/get-online-features", {**read, "entities": {"customer_id": [f"cus_{i}" for i in range(100_000)]}})
        assert many.status_code == 413
        assert post("/get-online-features", {**read, "entities": {"customer_id": ["x"] * 501}}).status_code == 413
        assert "at most 500" in post("/get-online-features", {**read, "entities": {"customer_id": ["x"] * 501}}).json()["error"]["message"]
        mistakes = {
            "not json": (b"{", 400, "not JSON"),
            "no entity": ({**read, "entities": {"customer_id": []}}, 400, "non-empty"),
            "no entities at all": ({"feature_service": "personalization_app"}, 400, '"entities" must map a join key'),
            "wrong entity key": ({**read, "entities": {"user_id": customers}}, 422, "accepted are customer_id"),
            "unknown service": ({**read, "feature_service": "nope"}, 422, "personalization_app"),
            "unknown view": ({"features": ["nope:x"], "entities": read["entities"]}, 422, "customer_profile"),
            "unknown feature": ({"features": ["customer_profile:nope"], "entities": read["entities"]}, 422, "it has:"),
            "one feature twice": ({"features": ["customer_profile:interests"] * 2, "entities": read["entities"]}, 422, "more than once"),
        }
        for mistake, (body, status, says) in mistakes.items():
            answer = post("/get-online-features", body)
            assert answer.status_code == status and answer.json()["error"]["status"] == status, (mistake, answer.status_code, answer.text)
            assert says in answer.json()["error"]["message"], (mistake, answer.text)
        unknown_route = post("/get-online-feature", read)
        assert unknown_route.status_code == 404 and "No route /get-online-feature" in unknown_route.json()["error"]["message"]
        wrong_method = requests.get(f"{url}/get-online-features", headers=bearer, timeout=30)
        assert wrong_method.status_code == 405 and wrong_method.json()["error"]["status"] == 405
        unauthorized = post("/get-online-features", read, headers={})
        assert unauthorized.json() == {"error": {"status": 401, "message": unauthorized.json()["error"]["message"]}}
        fine = post("/get-online-features", {"features": ["customer_profile:email_marketing_consent"], "entities": read["entities"]})
        assert fine.status_code == 200, fine.text


def test_the_feature_server_will_not_listen_on_a_network_without_authentication(platform, monkeypatch):
    result = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code != 0 and "without authentication" in result.output and "CXP_FEATURE_SERVER_TOKEN" in result.output


def test_training_set_command_writes_a_point_in_time_set_and_registers_it(platform, tmp_path):
    home, _, store, _, _ = platform
    customers = _sample_customers(home)[:30]
    entities = pd.DataFrame([{"customer_id": c, "event_timestamp": f"{LAST_DAY - dt.timedelta(days=days)}T06:00:00Z", "churned": days % 2}
                             for c in customers for days in (40, 20, 1)])
    (tmp_path / "entities.csv").write_text(entities.to_csv(index=False))
    out = tmp_path / "sets" / "churn.parquet"

    result = CliRunner().invoke(main, ["training-set", "--entities", str(tmp_path / "entities.csv"), "--service", "churn_model",
                                       "--out", str(out), "--name", "churn_test"], catch_exceptions=False)

    assert result.exit_code == 0, result.output
    keys = ["customer_id", "event_timestamp"]
    written = pd.read_parquet(out).sort_values(keys, ignore_index=True)
    expected = store.get_historical_features(
        entity_df=entities.assign(event_timestamp=pd.to_datetime(entities["event_timestamp"], utc=True)),
        features=store.get_feature_service("churn_model")).to_df().sort_values(keys, ignore_index=True)
    assert len(written) == len(entities)
    assert list(written["churned"]) == list(entities.assign(event_timestamp=pd.to_datetime(entities["event_timestamp"], utc=True))
                                            .sort_values(keys)["churned"])  # labels pass through with their rows
    pd.testing.assert_frame_equal(written, expected, check_dtype=False)
    assert "email_marketing_consent" not in written.columns  # consent is served to apps, not learned from
    saved = store.get_saved_dataset("churn_test")
    assert saved.feature_service_name == "churn_model" and saved.storage.file_options.uri == str(out.resolve())
    # ... and Feast's own CLI lists it, as the README says, from any directory.
    listed = subprocess.run([CXP, "feast", "saved-datasets", "list"], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert listed.returncode == 0 and "churn_test" in listed.stdout, listed.stdout + listed.stderr
    assert "Warning" not in listed.stderr, listed.stderr

    again = CliRunner().invoke(main, ["training-set", "--entities", str(tmp_path / "entities.csv"), "--service", "churn_model",
                                      "--out", str(out)])
    assert again.exit_code != 0 and "--overwrite" in again.output
    # Said before any work: even a home with no feature store yet gets this answer first.
    empty_home = CliRunner(env={"CXP_HOME": str(tmp_path / "empty")}).invoke(
        main, ["training-set", "--entities", str(tmp_path / "entities.csv"), "--service", "churn_model", "--out", str(out)])
    assert empty_home.exit_code != 0 and "--overwrite" in empty_home.output and "registry" not in empty_home.output
    (tmp_path / "bad.csv").write_text("customer_id,when\nc1,2024-01-01\n")
    bad = CliRunner().invoke(main, ["training-set", "--entities", str(tmp_path / "bad.csv"), "--service", "churn_model",
                                    "--out", str(tmp_path / "bad.parquet")])
    assert bad.exit_code != 0 and "missing column(s) event_timestamp" in bad.output


def test_feasts_own_cli_and_web_ui_run_on_the_homes_feature_store(platform, tmp_path):
    views = subprocess.run([CXP, "feast", "feature-views", "list"], capture_output=True, text=True, timeout=120, cwd=REPO_ROOT / "feature_repo")
    assert views.returncode == 0 and "customer_purchase" in views.stdout, views.stdout + views.stderr
    # Feast's yaml reads the home's paths from the environment cxp sets: no folder named after an unset variable.
    assert not [path for path in (REPO_ROOT / "feature_repo").iterdir() if "$" in path.name]
    # `feast apply` would find no objects in the repository's files (cxp builds them) and delete every one.
    refused = subprocess.run([CXP, "feast", "apply"], capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0 and "`cxp run` registers" in refused.stderr
    # Feast's web UI (it needs grpcio-reflection), on loopback unless told otherwise.
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    ui = subprocess.Popen([CXP, "feast", "ui", "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: requests.get(f"{url}/projects-list.json", timeout=1).ok, requests.ConnectionError, attempts=600, pause=0.2,
                   what=f"`cxp feast ui` at {url}")
        assert '"cxp"' in requests.get(f"{url}/projects-list.json", timeout=10).text
        page = requests.get(url, timeout=10)
        assert page.status_code == 200 and '<div id="root">' in page.text
    finally:
        ui.terminate()
        ui.wait(timeout=30)

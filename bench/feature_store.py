"""The feature store at scale: materialization, recommendations, online reads, point-in-time retrieval.

For each size, a fresh CXP_HOME gets synthetic feature snapshot tables with the dbt models' exact
columns and types, as change points: every customer on the first day, then each day the share of
customers whose values change that the demo business shows (`cxp run` on 10,000 people: purchase
1.7%, email 19%, support 0.75%, profile 0.17% a day), each change row changing as many of its
features as the demo's do. The platform's own code then does what a
pipeline run does: Parquet export, `feast apply`, online materialization. Measured:

- full materialization into an empty SQLite store, and the nightly one (one new day), each beside
  stock Feast (`LocalComputeEngine`) materializing the same day into a copy of the same store;
- online reads of the `personalization_app` service, 1 and 100 customers, by the SDK and over HTTP
  (`cxp serve`, one keep-alive connection), p50/p99, before the recommendations are published and
  again with them;
- the online write of the nightly recommendations (every customer's 10 products of a 2,000-SKU demo
  catalog with titles and reasons, each SKU's 10 similar products), written by the recommender's
  own file writers and published as a run publishes them: into the empty views, then a night on
  which 30% of the lists changed; then reads of the `recommendations` (1 customer) and
  `similar_products` (1 SKU) services, SDK p50/p99;
- point-in-time retrieval of 1M entity rows (every stored feature of the four views) by Feast, and
  the same join written by hand as DuckDB ASOF JOINs over the same Parquet files.

    uv run python bench/feature_store.py --customers 100000 1000000

`--only-online` leaves out stock Feast's nightly runs and the point-in-time retrieval: the tables,
the full and nightly materializations that fill the store, the recommendations and the reads remain.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import psutil

DAILY_CHANGE = {"customer_purchase_features": 0.017, "customer_email_features": 0.19,
                "customer_support_features": 0.0075, "customer_profile_features": 0.0017}
# The share of a changed row's features that change (the same demo: 5 of 19 purchase features,
# 1.9 of 11 email, 2.2 of 10 support).
FEATURE_CHANGE = {"customer_purchase_features": 0.26, "customer_email_features": 0.17,
                  "customer_support_features": 0.22, "customer_profile_features": 0.3}
FIRST_DAY_COVERAGE = {"customer_purchase_features": 0.65, "customer_email_features": 0.94,
                      "customer_support_features": 0.33, "customer_profile_features": 1.0}
_VALUE = {
    "bigint": "cast(floor(random() * 12) as bigint)",
    "double": "round(random() * 800, 2)",
    "varchar": "['Books', 'Home', 'Footwear', 'Beauty', 'Toys', NULL][1 + cast(floor(random() * 6) as int)]",
    "timestamp": "cast(day + interval 1 day - to_seconds(cast(floor(random() * 86400 * 30) as bigint)) as timestamp)",
    "boolean": "random() < 0.3",
    "varchar[]": "['Books', 'Home', 'Outdoor'][1:cast(floor(random() * 4) as int)]",
}
RECOMMENDED_SKUS = 2_000  # the demo catalog's SKUs, each with its similar products
CHANGED_LISTS = 0.3  # the share of lists the second night of recommendations changes


def peak_gib() -> float:
    """Peak resident memory of this process so far."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


class Timer:
    def __enter__(self):
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.started


def _feature_columns(connection, table: str) -> list[tuple[str, str]]:
    return [(name, kind.lower().split("(")[0]) for name, kind, *_ in connection.execute(f"DESCRIBE features.{table}").fetchall()
            if name not in ("customer_id", "snapshot_date", "event_timestamp", "feature_hash")]


def write_feature_tables(warehouse: Path, customers: int, first_day: date, days: int) -> dict[str, int]:
    """Synthetic change points for `days` days in `features.<table>`, shaped like the dbt models:
    a customer's first row sets every feature, each later row changes the share of them a real
    change row does (`FEATURE_CHANGE`) and carries the rest."""
    import yaml

    from dagster_project.settings import REPO_ROOT

    document = yaml.safe_load((REPO_ROOT / "dbt/models/marts/features/_features__models.yml").read_text())
    rows = {}
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("CREATE SCHEMA IF NOT EXISTS features")
        for model in document["models"]:
            table = model["name"]
            columns = [(c["name"], c["data_type"]) for c in model["columns"]
                       if c["name"] not in ("customer_id", "snapshot_date", "event_timestamp", "feature_hash")]
            changed = [f"CASE WHEN first_row OR hash(c, day, '{name}') % 1000 < {1000 * FEATURE_CHANGE[table]:.0f} "
                       f"THEN {_VALUE[kind]} END AS {name}" for name, kind in columns]
            carried = [f"last_value({name} IGNORE NULLS) OVER customer AS {name}" for name, _ in columns]
            connection.execute(f"""
                CREATE OR REPLACE TABLE features.{table} AS
                WITH days AS (SELECT CAST(? AS DATE) + CAST(i AS INTEGER) AS day FROM range(?) t(i)),
                changes AS (
                    SELECT c, day, row_number() OVER (PARTITION BY c ORDER BY day) = 1 AS first_row
                    FROM days, range(?) r(c)
                    -- A hash rather than random(): DuckDB may evaluate random() once per day here.
                    WHERE hash(c, day, '{table}') % 1000000 < 1000000 * CASE WHEN day = CAST(? AS DATE) THEN ? ELSE ? END
                ),
                sparse AS (SELECT c, day, {', '.join(changed)} FROM changes)
                SELECT 'cus_' || lpad(CAST(c AS VARCHAR), 9, '0') AS customer_id, day AS snapshot_date,
                       CAST(day + INTERVAL 1 DAY AS TIMESTAMP) AS event_timestamp,
                       {', '.join(carried)}, md5(CAST(random() AS VARCHAR)) AS feature_hash
                FROM sparse
                WINDOW customer AS (PARTITION BY c ORDER BY day)
                ORDER BY snapshot_date, customer_id
            """, [first_day, days, customers, first_day, FIRST_DAY_COVERAGE[table], DAILY_CHANGE[table]])
            rows[table] = connection.execute(f"SELECT count(*) FROM features.{table}").fetchone()[0]
    return rows


def append_day(warehouse: Path, customers: int, day: date) -> int:
    """One nightly day of change points: the share of customers each table sees change daily, each
    changing the share of features a real change row does."""
    added = 0
    with duckdb.connect(str(warehouse)) as connection:
        for table, share in DAILY_CHANGE.items():
            columns = _feature_columns(connection, table)
            values = [f"CASE WHEN hash(customer_id, CAST(? AS DATE), '{name}') % 1000 < {1000 * FEATURE_CHANGE[table]:.0f} "
                      f"THEN {_VALUE[kind]} ELSE {name} END AS {name}" for name, kind in columns]
            connection.execute(f"""
                INSERT INTO features.{table}
                SELECT customer_id, day, CAST(day + INTERVAL 1 DAY AS TIMESTAMP), {', '.join(values)}, md5(CAST(random() AS VARCHAR))
                FROM (
                    SELECT * EXCLUDE (snapshot_date), CAST(? AS DATE) AS day FROM features.{table}
                    QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY snapshot_date DESC) = 1
                )
                WHERE hash(customer_id, day, '{table}') % 1000000 < 1000000 * ?
            """, [day] * len(columns) + [day, share])
            added += connection.execute(f"SELECT count(*) FROM features.{table} WHERE snapshot_date = ?", [day]).fetchone()[0]
    return added


def export(settings) -> None:
    from dagster_project.defs.features.assets import FEATURE_TABLES
    from feature_repo.feature_files import export_feature_table

    with duckdb.connect(str(settings.warehouse_path)) as connection:
        for table in FEATURE_TABLES:
            export_feature_table(connection, table, settings.feature_files_dir)


def stock_store(settings, workdir: Path):
    """Feast with its own LocalComputeEngine, on a copy of the registry and online store."""
    from feast import FeatureStore

    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    for name in ("registry.db", "online_store.db"):
        shutil.copy(settings.feature_store_dir / name, workdir / name)
    config = settings.feature_store_yaml.read_text().replace("${CXP_FEATURE_STORE_DIR}", str(workdir)).replace(
        "${CXP_SQLITE_ONLINE_STORE}", str(workdir / "online_store.db")).replace(
        "type: feature_repo.materialization_engine.CxpMaterializationEngine", "type: local")
    (workdir / "feature_store.yaml").write_text(config)
    return FeatureStore(repo_path=str(settings.feature_repo_dir), fs_yaml_file=workdir / "feature_store.yaml")


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {p50 * 1000:6.2f} ms   p99 {p99 * 1000:6.2f} ms"


def online_latency(customers: int, port: int, recommendations: bool) -> None:
    """Reads of the personalization_app service, from a process of their own (an app's, not this
    benchmark's heap of millions of rows): the SDK in-process, then HTTP against `cxp serve`; with
    `recommendations`, then those of the recommendation services (SDK)."""
    import random

    import requests

    from dagster_project.settings import load_settings
    from feature_repo.definitions import open_feature_store

    store = open_feature_store(load_settings())
    service = store.get_feature_service("personalization_app")
    ids = [f"cus_{n:09d}" for n in range(customers)]
    rng = random.Random(7)
    if recommendations:
        check_recommendations_online(store, ids)
    for batch, repeats in ((1, 2000), (100, 300)):
        samples = []
        for _ in range(repeats):
            rows = [{"customer_id": customer} for customer in rng.sample(ids, batch)]
            with Timer() as timer:
                store.get_online_features(features=service, entity_rows=rows).to_dict()
            samples.append(timer.seconds)
        print(f"  online read, SDK,  {batch:>3} customer(s): {percentiles(samples[repeats // 10:])}", flush=True)

    cxp = str(Path(sys.executable).with_name("cxp"))
    server = subprocess.Popen([cxp, "serve", "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        session = requests.Session()
        url = f"http://127.0.0.1:{port}"
        for _ in range(600):
            try:
                if session.get(f"{url}/health", timeout=1).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        for batch, repeats in ((1, 3000), (100, 400)):
            samples = []
            for _ in range(repeats):
                body = {"feature_service": "personalization_app", "entities": {"customer_id": rng.sample(ids, batch)}}
                with Timer() as timer:
                    response = session.post(f"{url}/get-online-features", json=body, timeout=10)
                    response.raise_for_status()
                samples.append(timer.seconds)
            print(f"  online read, HTTP, {batch:>3} customer(s): {percentiles(samples[repeats // 10:])}", flush=True)
    finally:
        server.terminate()
        server.wait(30)
    if recommendations:
        recommendation_latency(store, ids, rng)


def check_recommendations_online(store, ids: list[str]) -> None:
    """personalization_app, recommendations and similar_products answer with full lists."""
    from synthetic_recommendations import LIST_LENGTH, demo_catalog

    skus = demo_catalog(RECOMMENDED_SKUS)["sku"].to_list()
    for service, key, keys, column in (("personalization_app", "customer_id", ids, "recommended_skus"),
                                       ("recommendations", "customer_id", ids, "recommended_skus"),
                                       ("similar_products", "sku", skus, "similar_skus")):
        answer = store.get_online_features(features=store.get_feature_service(service), entity_rows=[{key: keys[-1]}]).to_dict()
        if len(answer[column][0] or []) != LIST_LENGTH:
            raise RuntimeError(f"{service} answered {answer} for {keys[-1]}: the recommendations are not online")


def recommendation_latency(store, ids: list[str], rng) -> None:
    """SDK reads of the `recommendations` service (1 customer) and `similar_products` (1 SKU)."""
    from synthetic_recommendations import demo_catalog

    skus = demo_catalog(RECOMMENDED_SKUS)["sku"].to_list()
    for service, key, keys in (("recommendations", "customer_id", ids), ("similar_products", "sku", skus)):
        features = store.get_feature_service(service)
        samples = []
        for _ in range(2000):
            row = [{key: rng.choice(keys)}]
            with Timer() as timer:
                store.get_online_features(features=features, entity_rows=row).to_dict()
            samples.append(timer.seconds)
        print(f"  online read of {service}, SDK, 1 {key}: {percentiles(samples[200:])}", flush=True)


def publish_recommendations(store, settings, customers: int, first_night: date) -> None:
    """Two nights of recommendations, written by the recommender's file writers and published as a
    run publishes them: into the empty views, then a night on which CHANGED_LISTS of the lists changed."""
    import numpy as np
    import synthetic_recommendations as synthetic  # bench/ is the script's directory, hence on sys.path

    from feature_repo.online_store import latest_nightly_dates, publish_online
    from ml.recommendations.recommendation_files import write_recommendations, write_similar_products

    rng = np.random.default_rng(11)
    products = synthetic.demo_catalog(RECOMMENDED_SKUS)
    lists, similar = synthetic.first_night(customers, products, rng), synthetic.first_night(products.height, products, rng, similar=True)
    engine = store._get_provider().batch_engine
    keep_days = settings.model_settings.scoring.keep_days
    for night in range(2):
        scored_on = first_night + timedelta(days=night)
        if night:
            (lists, changed), (similar, changed_skus) = (synthetic.next_night(lists, products, CHANGED_LISTS, rng),
                                                         synthetic.next_night(similar, products, CHANGED_LISTS, rng, similar=True))
            label = f"nightly, {changed:,} customers' and {changed_skus:,} SKUs' lists changed"
        else:
            label = f"into the empty views, {customers:,} customers × 10 and {products.height:,} SKUs × 10"
        customer_frame = synthetic.customer_lists(lists, products, scored_on)
        similar_frame = synthetic.similar_lists(similar, products, scored_on)
        with Timer() as files:
            path = write_recommendations(customer_frame, scored_on, settings.feature_files_dir, keep_days)
            write_similar_products(similar_frame, scored_on, settings.feature_files_dir, keep_days)
        del customer_frame
        written_before = engine.cells_written
        with Timer() as online:
            published = publish_online(store, settings, nightly_on=latest_nightly_dates(settings))
        views = sorted(write.feature_view for write in published.writes)
        if views != ["customer_recommendations", "similar_products"]:
            raise RuntimeError(f"the recommendations' publication wrote {views}, not the recommendation views alone")
        print(f"  recommendations {scored_on}, {label}: Parquet {files.seconds:4.1f} s ({path.stat().st_size / 2**20:,.0f} MiB); "
              f"online write {online.seconds:6.1f} s ({engine.cells_written - written_before:,} values written)   "
              f"peak rss {peak_gib():.1f} GiB", flush=True)


def point_in_time(store, settings, customers: int, first_day: date, days: int, entity_rows: int) -> None:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(3)
    entities = pd.DataFrame({
        "customer_id": [f"cus_{n:09d}" for n in rng.integers(0, customers, entity_rows)],
        "event_timestamp": pd.Timestamp(first_day, tz="UTC") + pd.to_timedelta(rng.integers(0, (days + 1) * 86400, entity_rows), unit="s"),
    })
    views = ("customer_purchase", "customer_email", "customer_support", "customer_profile")
    refs = [f"{view}:{feature.name}" for view in views for feature in store.get_feature_view(view).features]
    feast_seconds = []
    for _ in range(3):
        with Timer() as feast_timer:
            result = store.get_historical_features(entity_df=entities, features=refs).to_arrow()
        assert result.num_rows == entity_rows
        feast_seconds.append(feast_timer.seconds)
        del result
    feast_s = statistics.median(feast_seconds)
    print(f"  point-in-time, {entity_rows:,} entity rows × {len(refs)} features: Feast {feast_s:6.1f} s (median of 3)", flush=True)

    # The same join by hand: one ASOF JOIN per table over the same files (TTLs are 10 years: no cut-off).
    joins, columns = [], []
    for index, view in enumerate(views):
        table = store.get_feature_view(view).batch_source.path
        names = [feature.name for feature in store.get_feature_view(view).features]
        joins.append(f"ASOF LEFT JOIN (SELECT customer_id, CAST(event_timestamp AS TIMESTAMPTZ) AS ts, {', '.join(names)} "
                     f"FROM read_parquet('{table}')) v{index} ON e.customer_id = v{index}.customer_id AND e.event_timestamp >= v{index}.ts")
        columns += [f"v{index}.{name}" for name in names]
    direct_seconds = []
    for _ in range(3):
        with duckdb.connect() as connection, Timer() as direct_timer:
            connection.execute("SET TimeZone = 'UTC'")
            connection.register("e", entities)
            direct = connection.sql(f"SELECT e.*, {', '.join(columns)} FROM e {' '.join(joins)}").arrow()
            direct = direct.read_all() if hasattr(direct, "read_all") else direct
        assert direct.num_rows == entity_rows
        direct_seconds.append(direct_timer.seconds)
        del direct
    direct_s = statistics.median(direct_seconds)
    print(f"  point-in-time, same join as hand-written DuckDB ASOF JOINs:        {direct_s:6.1f} s "
          f"(Feast at {feast_s / direct_s:.2f}x)", flush=True)
    with Timer() as service_timer:
        store.get_historical_features(entity_df=entities, features=store.get_feature_service("churn_model")).to_arrow()
    print(f"  point-in-time, churn_model service (with its on-demand features): {service_timer.seconds:6.1f} s", flush=True)


def bench(customers: int, days: int, workdir: Path, port: int, entity_rows: int, nights: int, only_online: bool) -> None:
    home = workdir / f"feature-store-{customers}"
    shutil.rmtree(home, ignore_errors=True)
    for name in [name for name in os.environ if name.startswith("CXP_")]:
        del os.environ[name]
    os.environ["CXP_HOME"] = str(home)
    from dagster_project.settings import load_settings
    from feature_repo.definitions import feature_store_objects, open_feature_store
    from feature_repo.online_store import materialize_online

    settings = load_settings()
    settings.ensure_directories()
    settings.export_environment()
    first_day = datetime.now(timezone.utc).date() - timedelta(days=days + 1)
    with Timer() as timer:
        rows = write_feature_tables(settings.warehouse_path, customers, first_day, days)
    print(f"{customers:,} customers, {days} days of change points: "
          + ", ".join(f"{table.split('_')[1]} {count:,}" for table, count in rows.items()) + f" rows ({timer.seconds:.0f} s)", flush=True)
    with Timer() as timer:
        export(settings)
    print(f"  Parquet export, every day:            {timer.seconds:7.1f} s", flush=True)
    store = open_feature_store(settings)
    store.apply(feature_store_objects(settings))
    features = sum(len(store.get_feature_view(view).features) for view in
                   ("customer_purchase", "customer_email", "customer_support", "customer_profile"))

    with Timer() as timer:
        materialize_online(store, settings)
    print(f"  full materialization, {customers:,} customers × {features} features: {timer.seconds:7.1f} s "
          f"({customers / timer.seconds:,.0f} customers/s)   peak rss {peak_gib():.1f} GiB", flush=True)

    # Nightly days, each written by our engine and (unless only online) into a copy of the store as it was by stock Feast.
    ratios = []
    for night in range(nights):
        nightly = first_day + timedelta(days=days + night)
        added = append_day(settings.warehouse_path, customers, nightly)
        with Timer() as timer:
            export(settings)
        stock = None if only_online else stock_store(settings, workdir / f"stock-{customers}")
        engine = store._get_provider().batch_engine
        written_before = engine.cells_written
        with Timer() as ours:
            materialize_online(store, settings)
        line = (f"  nightly {nightly}: {added:,} changed rows, Parquet export {timer.seconds:4.1f} s; materialization: cxp engine "
                f"{ours.seconds:5.1f} s ({engine.cells_written - written_before:,} changed values written)")
        if stock is not None:
            start = datetime.combine(nightly + timedelta(days=1), datetime.min.time(), tzinfo=timezone.utc)
            with Timer() as theirs:
                stock.materialize(start_date=start, end_date=start)
            ratios.append(theirs.seconds / ours.seconds)
            line += f", stock Feast engine {theirs.seconds:5.1f} s = {ratios[-1]:.1f}x"
            shutil.rmtree(workdir / f"stock-{customers}", ignore_errors=True)
        print(line, flush=True)
    if ratios:
        print(f"  nightly materialization: cxp engine {statistics.median(ratios):.1f}x faster than stock Feast (median of {nights})", flush=True)

    latency = [sys.executable, __file__, "--latency-only", "--customers", str(customers), "--port", str(port)]
    print("  before the recommendations are published:", flush=True)
    subprocess.run(latency, check=True)
    publish_recommendations(store, settings, customers, first_day + timedelta(days=days))
    print("  with the recommendations:", flush=True)
    subprocess.run([*latency, "--with-recommendations"], check=True)
    if not only_online:
        point_in_time(store, settings, customers, first_day, days, entity_rows)
    print(f"  peak rss of the benchmark process: {peak_gib():.1f} GiB", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--days", type=int, default=90, help="Days of history before the nightly day.")
    parser.add_argument("--entity-rows", type=int, default=1_000_000, help="Entity rows of the point-in-time retrieval.")
    parser.add_argument("--nights", type=int, default=3, help="Nightly days materialized (each beside stock Feast).")
    parser.add_argument("--port", type=int, default=6590)
    parser.add_argument("--workdir", type=Path, help="Where the homes go [default: the system temp dir].")
    parser.add_argument("--only-online", action="store_true",
                        help="Leave out stock Feast's nightly runs and the point-in-time retrieval.")
    parser.add_argument("--latency-only", action="store_true", help=argparse.SUPPRESS)  # the child process of online reads
    parser.add_argument("--with-recommendations", action="store_true", help=argparse.SUPPRESS)  # ... once they are published
    args = parser.parse_args()
    if args.latency_only:
        online_latency(args.customers[0], args.port, args.with_recommendations)
        return
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="cxp-feature-bench-"))
    print(f"cpus={os.cpu_count()} memory={psutil.virtual_memory().total / 2**30:.0f} GiB python={sys.version.split()[0]}", flush=True)
    for customers in args.customers:
        bench(customers, args.days, workdir, args.port, args.entity_rows, args.nights, args.only_online)


if __name__ == "__main__":
    main()

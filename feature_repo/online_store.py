"""Keeping the online store in step: what changed since it last caught up, everything into an
empty store, the night's scores and recommendations, no stale values for ids a merge retired, and a
night published whole."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from time import sleep

from feast import FeatureStore, FeatureView

from dagster_project.settings import Settings
from feature_repo.feast_internals import customer_keys, redis_hash_key, sqlite_table
from feature_repo.feature_catalog import FeatureTableSpec, load_feature_tables
from feature_repo.feature_files import clear_online_pending, latest_snapshot_date, online_pending_since
from feature_repo.materialization_engine import REDIS_WINDOWS_KEY, WINDOWS_TABLE, publication


def online_store_holds_data(settings: Settings) -> bool:
    """Whether the store recorded a committed write (a new or wiped store is filled from every
    snapshot; the pending dates of the feature files only say what changed since a store that holds data)."""
    if settings.online_store == "sqlite":
        path = settings.sqlite_online_store_path
        if not path.exists():
            return False
        with sqlite3.connect(path) as connection:
            return connection.execute("SELECT count(*) FROM sqlite_master WHERE name = ?", [WINDOWS_TABLE]).fetchone()[0] == 1
    return bool(_redis(settings).exists(REDIS_WINDOWS_KEY))


@dataclass(frozen=True)
class OnlineWrite:
    """One feature view brought up to date online: the event-time window it was materialized over."""

    feature_view: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class OnlinePublication:
    """What one publication wrote and removed; readers saw none of it before it all committed."""

    mode: str
    writes: list[OnlineWrite]
    retired_rows_removed: int


def publish_online(store: FeatureStore, settings: Settings, retired_customer_ids: Sequence[str] = (),
                   scored_on: date | None = None, nightly_on: Mapping[str, date] | None = None) -> OnlinePublication:
    """Publish one night online as one change: each feature view's customers' latest rows among
    the snapshot dates exported since the store last caught up (every date into an empty store),
    the scores of `scored_on`, the nightly views' rows (recommendations, next-best actions) of their
    dates in `nightly_on` (view -> date, see `latest_nightly_dates`), and the removal of ids a merge retired.

    Readers are served the previous night until the whole night commits; a publication that fails
    or is killed leaves the previous night served and its snapshot dates pending for the next run.
    The window is the snapshots' event time, not the wall clock: history loaded late (a backfill,
    a year of exports delivered at once) reaches the store as surely as last night's day does.
    """
    full = not online_store_holds_data(settings)
    windows: dict[tuple[datetime, datetime], list[FeatureTableSpec]] = defaultdict(list)
    for spec in load_feature_tables(settings.dbt_project_dir):
        newest = latest_snapshot_date(settings.feature_files_dir, spec.table)
        since = None if full else online_pending_since(settings.feature_files_dir, spec.table)
        if newest is None or (not full and since is None):
            continue
        start = _event_time(since) if since else datetime(1970, 1, 2, tzinfo=timezone.utc)
        windows[(start, _event_time(newest))].append(spec)
    writes = []
    with publication(store) as engine:
        # One call per window (nightly: one for every view): each call costs Feast a registry pass.
        for (start, end), specs in windows.items():
            store.materialize(start_date=start, end_date=end, feature_views=[spec.feature_view for spec in specs])
            writes += [OnlineWrite(spec.feature_view, start, end) for spec in specs]
        if scored_on is not None:
            writes.append(materialize_scores_online(store, scored_on))
        for view, day in (nightly_on or {}).items():
            writes.append(materialize_night_online(store, view, day))
        removed = engine.remove_entities(customer_views(store), customer_keys(store, list(retired_customer_ids)))
    for specs in windows.values():
        for spec in specs:
            clear_online_pending(settings.feature_files_dir, spec.table)
    return OnlinePublication("full" if full else "incremental", writes, removed)


def latest_scores_date(settings: Settings) -> date | None:
    """The newest scoring date among the score files, if the models scored anyone yet."""
    from ml.score_files import SCORES_TABLE

    root = settings.feature_files_dir / SCORES_TABLE
    dates = sorted(day.name for day in root.iterdir() if day.is_dir() and not day.name.startswith("_")) if root.exists() else []
    return date.fromisoformat(dates[-1]) if dates else None


def materialize_online(store: FeatureStore, settings: Settings) -> tuple[str, list[OnlineWrite]]:
    """Publish the feature views alone (see `publish_online`)."""
    published = publish_online(store, settings)
    return published.mode, published.writes


def latest_nightly_dates(settings: Settings) -> dict[str, date]:
    """The newest scoring date of each nightly view (recommendations, similar products, next-best
    actions) whose files a night wrote (view -> date)."""
    from ml.measurement.next_best_action import NEXT_BEST_ACTIONS_TABLE
    from ml.nightly_files import latest_scoring_date
    from ml.recommendations.recommendation_files import RECOMMENDATIONS_TABLE, SIMILAR_PRODUCTS_TABLE

    tables = (RECOMMENDATIONS_TABLE, SIMILAR_PRODUCTS_TABLE, NEXT_BEST_ACTIONS_TABLE)
    dates = {table: latest_scoring_date(settings.feature_files_dir, table) for table in tables}
    return {table: day for table, day in dates.items() if day is not None}


def materialize_scores_online(store: FeatureStore, scored_on: date) -> OnlineWrite:
    """Write one scoring date's scores to the online store (only the cells that changed)."""
    from ml.score_files import SCORES_TABLE

    return materialize_night_online(store, SCORES_TABLE, scored_on)


def materialize_night_online(store: FeatureStore, feature_view: str, scored_on: date) -> OnlineWrite:
    """Write one scoring date's rows of a nightly view (scores, recommendations) to the online
    store (only the cells that changed)."""
    # Only this date's file: the engine compares each row with the entity's previous one in the
    # files, which must be the row online now (yesterday's), not an older day's.
    moment = _event_time(scored_on)
    store.materialize(start_date=moment, end_date=moment, feature_views=[feature_view])
    return OnlineWrite(feature_view, moment, moment)


def customer_views(store: FeatureStore) -> list[FeatureView]:
    """The feature views keyed by customer: where a customer's rows are (not the products' views)."""
    return [view for view in store.list_feature_views() if [column.name for column in view.entity_columns] == ["customer_id"]]


def _event_time(snapshot_date: date) -> datetime:
    """A snapshot date's event timestamp: the end of that day, UTC (see the feature marts)."""
    return datetime.combine(snapshot_date + timedelta(days=1), time(), tzinfo=timezone.utc)


def delete_customers_online(store: FeatureStore, settings: Settings, customer_ids: list[str]) -> int:
    """Remove every feature of these customers from the online store, zeroing the bytes they
    occupied (erasure); returns rows/keys removed."""
    if not customer_ids:
        return 0
    keys = customer_keys(store, customer_ids)
    if settings.online_store == "sqlite":
        removed = 0
        connection = sqlite3.connect(settings.sqlite_online_store_path)
        try:
            # Freed pages are zeroed, so the deleted values leave no bytes behind in the file.
            connection.execute("PRAGMA secure_delete = ON")
            for view in customer_views(store):
                table = sqlite_table(store.config, view)
                if connection.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", [table]).fetchone()[0]:
                    removed += connection.executemany(f'DELETE FROM "{table}" WHERE entity_key = ?', [(key,) for key in keys]).rowcount
            connection.commit()
            _checkpoint(connection)
        finally:
            connection.close()
        return removed
    client = _redis(settings)
    return int(client.delete(*[redis_hash_key(store.config, key) for key in keys]))


def _checkpoint(connection: sqlite3.Connection, attempts: int = 25) -> None:
    """In WAL mode the zeroed pages sit in the WAL and the old ones, values included, in the
    database file until a checkpoint copies them back: force it now rather than whenever the last
    connection closes. A reader holding an old snapshot (the feature server mid-read) makes it
    wait; it is retried for a few seconds, then left to SQLite's next checkpoint."""
    for _ in range(attempts):
        busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if not busy:
            return
        sleep(0.2)


def _redis(settings: Settings):
    import redis

    host_port, *options = settings.redis_connection_string.split(",")
    host, _, port = host_port.partition(":")
    kwargs = dict(option.split("=", 1) for option in options)
    return redis.Redis(host=host or "localhost", port=int(port or 6379), db=int(kwargs.get("db", 0)), password=kwargs.get("password"))

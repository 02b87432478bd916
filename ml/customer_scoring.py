"""Nightly scoring: every current customer, by each model's champion, with reasons, as of the
newest extract date; written as that date's Parquet file of the `customer_scores` feature view.

A model without a champion yet scores with its baseline (the newest version's RFM cell rates for
churn and propensity, BG/NBD + Gamma-Gamma for lifetime value), and says so in its version column.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
from feast import FeatureStore

from ml.btyd_baseline import fit_btyd_baseline
from ml.feature_matrix import matrix_values
from ml.gradient_boosting import GradientBoostingModel
from ml.labels import current_customers_sql, cutoff_timestamp, read_data_span
from ml.measurement.assignment_ledger import holdout_customers
from ml.model_catalog import MODELS
from ml.model_registry import ModelRegistry
from ml.model_settings import ModelSettings
from ml.prediction_reasons import RankedReasons, top_reasons
from ml.reason_phrases import describe_input
from ml.rfm_baseline import RfmBaseline
from ml.score_files import REASONS_PER_MODEL, SCORES_TABLE
from ml.value_level import value_level


@dataclass(frozen=True)
class CustomerScores:
    """One night's scores: a row per current customer, the scorer of each model, and each score
    that no customer is served tonight with the reason (the run says so rather than serving nulls
    in silence)."""

    scored_on: date
    frame: pl.DataFrame
    scorers: dict[str, str]
    not_served: dict[str, str]


def service_feature_refs(store: FeatureStore, services: list[str]) -> list[str]:
    """`view:feature` references of every feature the services read, each once."""
    refs: dict[str, None] = {}
    for name in services:
        for projection in store.get_feature_service(name).feature_view_projections:
            for feature in projection.features:
                refs[f"{projection.name_to_use()}:{feature.name}"] = None
    return list(refs)


def read_current_features(connection: duckdb.DuckDBPyConnection, store: FeatureStore) -> tuple[date, pl.DataFrame]:
    """The newest extract date, and every current customer's model inputs as of its end."""
    as_of = read_data_span(connection).last_date
    customers = connection.sql(f"SELECT customer_id FROM ({current_customers_sql(connection)}) ORDER BY 1").pl()
    entity_rows = customers.with_columns(pl.lit(cutoff_timestamp(as_of)).alias("event_timestamp"))
    refs = service_feature_refs(store, [spec.feature_service for spec in MODELS.values()])
    job = store.get_historical_features(entity_df=entity_rows.to_pandas(), features=refs)
    features = pl.from_arrow(job.to_arrow())
    assert isinstance(features, pl.DataFrame)  # An Arrow table becomes a DataFrame (an array would be a Series).
    return as_of, features.sort("customer_id")


def _rfm_reasons(frame: pl.DataFrame) -> RankedReasons:
    """A baseline's reasons: the recency, frequency and value its cells are made of, without contributions."""
    columns = ["days_since_last_order", "orders_lifetime", "net_revenue_usd_lifetime"]
    values = {name: frame[name].to_numpy() for name in columns}
    return RankedReasons([[describe_input(name, values[name][row]) for name in columns] for row in range(frame.height)],
                         np.full((frame.height, len(columns)), np.nan))


def _no_reasons(rows: int) -> RankedReasons:
    return RankedReasons([[None] * REASONS_PER_MODEL] * rows, np.full((rows, REASONS_PER_MODEL), np.nan))


def score_model(name: str, frame: pl.DataFrame, registry: ModelRegistry, btyd_value: np.ndarray, settings: ModelSettings
                 ) -> tuple[np.ndarray, RankedReasons, str]:
    """(scores, reasons, scorer) of one model over the rows of `frame`."""
    champion = registry.champion(name)
    if champion is not None:
        model = GradientBoostingModel.load(registry.version_dir(name, champion))
        try:
            reasons = top_reasons(model.contributions(frame), model.spec.columns, matrix_values(frame, model.spec), REASONS_PER_MODEL,
                                  settings.scoring.reason_max_modal_share, settings.scoring.reason_min_contribution)
            total = value_level(settings.scoring.value_level, btyd_value, "no BG/NBD + Gamma-Gamma fit tonight").total if name == "clv" else None
            return model.predict(frame, total), reasons, champion
        except KeyError:
            # The champion reads a feature the services no longer serve: its baseline scores tonight,
            # and the next challenger is compared with the baseline alone.
            pass
    if name == "clv":
        if np.isnan(btyd_value).all():
            return btyd_value, _no_reasons(frame.height), "none"
        return btyd_value, _rfm_reasons(frame), "baseline:bg_nbd_gamma_gamma"
    versions = registry.versions(name)
    if not versions:
        return np.full(frame.height, np.nan), _no_reasons(frame.height), "none"
    baseline = RfmBaseline.from_dict(json.loads((registry.version_dir(name, versions[-1]) / "baseline.json").read_text()))
    return baseline.predict(frame), _rfm_reasons(frame), f"baseline:rfm@{versions[-1]}"


def personalization_opted_out(connection: duckdb.DuckDBPyConnection, customer_ids: pl.Series) -> np.ndarray:
    """Per customer, whether their latest profile says they opted out of personalization."""
    opted_out = set(connection.sql("""
        SELECT customer_id FROM (
            SELECT customer_id, is_personalization_opted_out FROM features.customer_profile_features
            QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY snapshot_date DESC) = 1
        ) WHERE is_personalization_opted_out
    """).pl()["customer_id"].to_list())
    return np.array([customer in opted_out for customer in customer_ids.to_list()], dtype=bool)


# The churn scorer of buyers outside the churn population (no purchase in `labels.churn.active_days`).
LAPSED_SCORER = "baseline:mbg_nbd (lapsed)"


def score_customers(connection: duckdb.DuckDBPyConnection, store: FeatureStore, settings: ModelSettings,
                    registry: ModelRegistry) -> CustomerScores:
    """Every current customer's scores, reasons and the scorer of each model, as of the newest
    extract date. A customer who opted out of personalization, or is in the measurement holdout, is
    not scored: their row says `personalization_allowed = false` (and `in_holdout`) and holds no
    score, reason or version, so the online store overwrites whatever it served before."""
    as_of, features = read_current_features(connection, store)
    opted_out = personalization_opted_out(connection, features["customer_id"])
    # The measurement holdout is served no score either (apps would act on it), but it is data like
    # any other for the baseline's fit: consent, not measurement, keeps a customer out of that.
    in_holdout = features["customer_id"].is_in(list(holdout_customers(connection))).to_numpy()
    allowed = ~opted_out & ~in_holdout
    btyd_value = probability_alive = quiet = np.full(features.height, np.nan)
    btyd_failure = None
    try:
        btyd = fit_btyd_baseline(features.filter(pl.Series(~opted_out)))
        btyd_value, probability_alive = btyd.expected_value(features, settings.labels.clv.horizon_days), btyd.probability_alive(features)
        quiet = btyd.probability_no_purchase(features, settings.labels.churn.horizon_days)
    except ValueError as error:
        # Too young a history (no repeat buyer yet) or a degenerate fit: no BG/NBD value, P(alive) or
        # lapsed buyers' churn tonight, and the night says why.
        btyd_failure = f"no BG/NBD + Gamma-Gamma fit tonight: {error}"
    # The churn model learns from active customers only (see ml.labels); lapsed buyers get MBG/NBD's figure below.
    # Active as the churn label defines it: an order within `active_days` (counting a cancelled one, which the
    # features' last-order date includes; the label counts placed orders).
    active = (features["days_since_last_order"] <= settings.labels.churn.active_days).fill_null(False).to_numpy()
    columns: dict[str, object] = {"customer_id": features["customer_id"],
                                  "event_timestamp": pl.Series([cutoff_timestamp(as_of)] * features.height),
                                  "personalization_allowed": pl.Series(allowed), "in_holdout": pl.Series(in_holdout)}
    scorers = {}
    for name, spec in MODELS.items():
        rows = np.flatnonzero(allowed & active) if name == "churn" else np.flatnonzero(allowed)
        scores, reasons, scorer = score_model(name, features[rows], registry, btyd_value[rows], settings)
        full_scores = np.full(features.height, np.nan)
        full_scores[rows] = scores
        full_reasons: list[list[str | None]] = [[None] * REASONS_PER_MODEL for _ in range(features.height)]
        for row, reason in zip(rows.tolist(), reasons.texts):
            full_reasons[row] = reason
        full_contributions = np.full((features.height, REASONS_PER_MODEL), np.nan)
        full_contributions[rows] = reasons.contributions
        versions = [scorer if ok else None for ok in allowed.tolist()]
        if name == "churn":
            # Buyers outside the churn population (no order in `active_days`) get MBG/NBD's chance of no
            # purchase in the window, with the two facts it rests on as reasons: churn is defined for
            # everyone who ever bought.
            lapsed = np.flatnonzero(allowed & ~active & np.isfinite(quiet))
            full_scores[lapsed] = quiet[lapsed]
            facts = features[lapsed].select("days_since_last_order", "orders_lifetime")
            for row, (since_last, orders) in zip(lapsed.tolist(), facts.iter_rows()):
                versions[row] = LAPSED_SCORER
                full_reasons[row] = [describe_input("days_since_last_order", since_last), describe_input("orders_lifetime", orders),
                                     *[None] * (REASONS_PER_MODEL - 2)]
        columns[spec.score] = pl.Series(full_scores).fill_nan(None)
        for rank in range(REASONS_PER_MODEL):
            columns[f"{name}_reason_{rank + 1}"] = pl.Series([reason[rank] for reason in full_reasons], dtype=pl.String)
        for rank in range(REASONS_PER_MODEL):
            columns[f"{name}_reason_{rank + 1}_contribution"] = pl.Series(full_contributions[:, rank]).fill_nan(None)
        columns[f"{name}_model_version"] = pl.Series(versions, dtype=pl.String)
        scorers[name] = scorer
    columns["probability_alive"] = pl.Series(np.where(allowed, probability_alive, np.nan)).fill_nan(None)
    frame = pl.DataFrame(columns)
    return CustomerScores(as_of, frame, scorers, _not_served(frame, scorers, btyd_failure))


def _not_served(frame: pl.DataFrame, scorers: dict[str, str], btyd_failure: str | None) -> dict[str, str]:
    """Each score column that no customer who may be scored holds tonight, with the reason."""
    may_be_scored = frame.filter(pl.col("personalization_allowed"))
    if may_be_scored.is_empty():
        return {}
    reasons = {spec.score: (btyd_failure if name == "clv" else None) or f"{name} has no trained version yet, so no baseline either"
               for name, spec in MODELS.items() if scorers[name] == "none"}
    if btyd_failure:
        reasons["probability_alive"] = btyd_failure
    return {column: reason for column, reason in reasons.items() if may_be_scored[column].is_null().all()}


def write_scores(scores: pl.DataFrame, scored_on: date, feature_files_dir: Path, keep_days: int) -> Path:
    """Write the day's scores as `<dir>/customer_scores/<date>/data_0.parquet` and drop days older than `keep_days`."""
    root = feature_files_dir / SCORES_TABLE
    folder = root / scored_on.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "data_0.parquet"
    temporary = folder / "data_0.parquet.tmp"
    scores.write_parquet(temporary)
    temporary.replace(path)
    oldest = scored_on - timedelta(days=keep_days)
    for day in root.iterdir():
        if day.is_dir() and day.name < oldest.isoformat():
            shutil.rmtree(day)
    return path

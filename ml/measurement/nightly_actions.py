"""The night's next-best action for every current customer, as a table apps are served.

Each configured action's uplift is learned from the experiment arm that gave it (`uplift_training`);
every current customer's features as of the newest extract date then give their expected incremental
revenue from each learned action, and `next_best_action` picks the best net of cost, subject to the
holdout, personalization opt-outs, email consent, the contact-frequency cap and the budget. An action
no experiment has measured yet is never chosen; with none learned, every customer gets no action and
the reason says why. The nightly asset and `cxp eval uplift` both call this module; neither needs Dagster.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import polars as pl

from dagster_project.warehouse import table_exists
from ml.customer_scoring import personalization_opted_out, read_current_features, service_feature_refs
from ml.labels import cutoff_timestamp, read_data_span
from ml.measurement.assignment_ledger import holdout_customers
from ml.measurement.experiment_reports import features_at_assignment
from ml.measurement.experiment_settings import MeasurementSettings
from ml.measurement.next_best_action import (
    NEXT_BEST_ACTION_COLUMNS,
    NEXT_BEST_ACTIONS_TABLE,
    NO_ACTION,
    Action,
    ContactPolicy,
    choose_next_best_actions,
)
from ml.measurement.uplift_training import LearnedUplift, find_action_sources, learn_uplift, read_training_customers
from ml.model_catalog import MODELS
from ml.nightly_files import scoring_timestamp, write_nightly_table

if TYPE_CHECKING:
    from feast import FeatureStore

CROSS_FITTED_FILE = "cross_fitted_{action}.parquet"
# Email events that mean the customer was contacted (SendGrid: accepted for sending, delivered).
_CONTACT_EVENTS = ("processed", "delivered")


@dataclass(frozen=True)
class NightlyActions:
    """The night's choices (one row per customer, NEXT_BEST_ACTION_COLUMNS less the timestamp, plus
    `in_holdout`) and what they rest on."""

    as_of: date
    choices: pl.DataFrame
    summary: pl.DataFrame
    """Per action: customers, expected incremental value and spend."""
    learned: dict[str, LearnedUplift]
    not_learned: dict[str, str] = field(default_factory=dict)
    """Configured actions no experiment has measured, with why."""


def read_contact_state(connection: duckdb.DuckDBPyConnection, customer_ids: pl.Series) -> pl.DataFrame:
    """`customer_id`, `can_email` (their latest profile says they may be marketed to by email),
    `last_contacted_at` (their latest email sent or delivered) and `is_personalization_opted_out`."""
    customers = pl.DataFrame({"customer_id": customer_ids})
    marketable = connection.sql("""
        SELECT customer_id, is_email_marketable AS can_email FROM features.customer_profile_features
        QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY snapshot_date DESC) = 1
    """).pl()
    if table_exists(connection, "marts.fct_email_events"):
        contacted = connection.sql(f"""
            SELECT customer_id, max(event_at)::DATE AS last_contacted_at FROM marts.fct_email_events
            WHERE customer_id IS NOT NULL AND event_type IN {_CONTACT_EVENTS} GROUP BY customer_id
        """).pl()
    else:
        contacted = pl.DataFrame(schema={"customer_id": pl.String, "last_contacted_at": pl.Date})
    return customers.join(marketable, on="customer_id", how="left").join(contacted, on="customer_id", how="left").with_columns(
        pl.col("can_email").fill_null(False),
        pl.Series("is_personalization_opted_out", personalization_opted_out(connection, customer_ids)))


def learn_actions(connection: duckdb.DuckDBPyConnection, store: FeatureStore, settings: MeasurementSettings, feature_refs: list[str]
                  ) -> tuple[dict[str, LearnedUplift], dict[str, str]]:
    """Each configured action's uplift, learned from its experiment; and why the others were not learned."""
    as_of = cutoff_timestamp(read_data_span(connection).last_date).replace(tzinfo=None)
    sources, not_learned = find_action_sources(connection, settings, as_of)
    learned = {}
    for action, source in sources.items():
        customers = read_training_customers(connection, source, as_of)
        training = features_at_assignment(store, customers, feature_refs)
        names = [ref.split(":", 1)[1] for ref in feature_refs]
        learned[action] = learn_uplift(training.join(customers.select("customer_id", "treated", "outcome"), on="customer_id"),
                                       names, source, settings.next_best_action)
    return learned, not_learned


def plan_nightly_actions(connection: duckdb.DuckDBPyConnection, store: FeatureStore, settings: MeasurementSettings) -> NightlyActions:
    """The next-best action of every current customer as of the newest extract date."""
    feature_refs = service_feature_refs(store, [spec.feature_service for spec in MODELS.values()])
    learned, not_learned = learn_actions(connection, store, settings, feature_refs)
    as_of, features = read_current_features(connection, store)
    state = read_contact_state(connection, features["customer_id"])
    held = holdout_customers(connection)
    customers = state.with_columns(pl.col("customer_id").is_in(list(held)).alias("in_holdout"))
    nba = settings.next_best_action
    if not learned:
        why = "; ".join(f"{action}: {reason}" for action, reason in not_learned.items()) or "no action is configured"
        choices = customers.select("customer_id", "in_holdout", pl.lit(NO_ACTION).alias("next_best_action"),
                                   pl.lit(f"no action's effect has been measured yet ({why})").alias("next_best_action_reason"),
                                   pl.lit(0.0).alias("next_best_action_value_usd"), pl.lit(None, pl.String).alias("next_best_action_model"))
        summary = pl.DataFrame({"action": [NO_ACTION], "customers": [choices.height], "expected_incremental_value": [0.0], "spend_usd": [0.0]})
        return NightlyActions(as_of, choices, summary, learned, not_learned)
    actions = [Action(name, nba.actions[name].cost_usd, nba.actions[name].description, nba.actions[name].channel) for name in learned]
    uplift = features.select("customer_id").with_columns(pl.Series(name, model.predict(features)) for name, model in learned.items())
    plan = choose_next_best_actions(customers, uplift, actions, as_of=as_of,
                                    policy=ContactPolicy(frequency_cap_days=nba.frequency_cap_days, budget_usd=nba.budget_usd))
    versions = {name: model.version for name, model in learned.items()}
    choices = plan.assignments.select(
        "customer_id", "in_holdout", pl.col("action").alias("next_best_action"), pl.col("reason").alias("next_best_action_reason"),
        pl.col("expected_incremental_value").alias("next_best_action_value_usd"),
        pl.col("action").replace_strict(versions, default=None, return_dtype=pl.String).alias("next_best_action_model"))
    return NightlyActions(as_of, choices, plan.summary, learned, not_learned)


def write_nightly_actions(actions: NightlyActions, feature_files_dir: Path, report_dir: Path, keep_days: int) -> Path:
    """The choices as the feature store's `next_best_actions` file of the night, and in `report_dir` each
    learned action's cross-fitted effects and a `report.json` of what the night rests on."""
    rows = actions.choices.with_columns(pl.lit(scoring_timestamp(actions.as_of)).alias("event_timestamp"))
    path = write_nightly_table(rows, NEXT_BEST_ACTION_COLUMNS, NEXT_BEST_ACTIONS_TABLE, actions.as_of, feature_files_dir, keep_days)
    report_dir.mkdir(parents=True, exist_ok=True)
    for action, model in actions.learned.items():
        model.cross_fitted.write_parquet(report_dir / CROSS_FITTED_FILE.format(action=action))
    (report_dir / "report.json").write_text(json.dumps(actions_report(actions), indent=2), encoding="utf-8")
    return path


def actions_report(actions: NightlyActions) -> dict[str, Any]:
    """What the night chose and rests on, as JSON-ready values."""
    return {
        "as_of": actions.as_of.isoformat(),
        "customers": actions.choices.height,
        "summary": actions.summary.to_dicts(),
        "learned": {name: {"experiment_id": model.source.experiment_id, "arm": model.source.arm, "control": model.source.control,
                           "horizon_days": model.source.horizon_days, "customers": model.source.customers, "learner": model.learner,
                           "cross_fitted_qini_usd": model.qini, "features": len(model.feature_columns), "targets": model.targets,
                           "held_out_policies": asdict(model.policy)}
                    for name, model in actions.learned.items()},
        "not_learned": actions.not_learned,
    }

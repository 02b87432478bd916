"""The suites on the feature snapshot tables: value ranges, consent completeness, and drift of each
feature's mean and null share against the previous validation.

Each suite validates every customer's latest row in its table: what the online store serves and
what models score on. Impossible values (a negative count, a share above 1, more orders in 30 days
than in 90) and a customer without a consent state are blocking: no Parquet export, no online
materialization, nothing that reads features runs on them. A feature whose mean or null share moved
more than the threshold since the previous validation is a warning: a real shift or a broken
upstream, worth a look either way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from data_quality.rules import Batch, Rule, Severity, Suite
from data_quality.thresholds import FeatureThresholds

FEATURE_SCHEMA = "features"
PREVIOUS_PROFILE_FILE = "feature_profiles_previous_validation.json"


@dataclass(frozen=True)
class FeatureTableRules:
    """What must hold of one feature table's latest rows."""

    non_negative: tuple[str, ...] = ()
    shares: tuple[str, ...] = ()
    """Columns that are fractions in [0, 1]."""
    nested_windows: tuple[tuple[str, str], ...] = ()
    """(wider, narrower) pairs: the wider window never holds less. A pair with a null (no order yet
    to count since) is not compared."""
    complete: tuple[str, ...] = ()
    """Columns every customer must have."""


FEATURE_TABLE_RULES = {
    "customer_purchase_features": FeatureTableRules(
        non_negative=("orders_30d", "orders_90d", "orders_365d", "orders_lifetime", "net_revenue_usd_30d", "net_revenue_usd_90d",
                      "net_revenue_usd_365d", "net_revenue_usd_lifetime", "gross_revenue_usd_lifetime", "refunded_usd_lifetime",
                      "discount_usd_lifetime", "categories_purchased"),
        shares=("favorite_category_spend_share",),
        nested_windows=(("orders_90d", "orders_30d"), ("orders_365d", "orders_90d"), ("orders_lifetime", "orders_365d")),
    ),
    "customer_email_features": FeatureTableRules(
        non_negative=("deliveries_30d", "deliveries_90d", "human_opens_30d", "human_opens_90d", "clicks_30d", "clicks_90d",
                      "bounces_90d", "unsubscribes_lifetime", "spam_reports_lifetime", "campaign_deliveries_lifetime",
                      "campaign_human_opens_lifetime", "campaign_deliveries_since_last_order", "campaign_human_opens_since_last_order"),
        nested_windows=(("deliveries_90d", "deliveries_30d"), ("human_opens_90d", "human_opens_30d"), ("clicks_90d", "clicks_30d"),
                        ("campaign_deliveries_lifetime", "campaign_deliveries_since_last_order"),
                        ("campaign_human_opens_lifetime", "campaign_human_opens_since_last_order")),
    ),
    "customer_support_features": FeatureTableRules(
        non_negative=("tickets_30d", "tickets_90d", "tickets_lifetime", "open_tickets", "urgent_tickets_90d", "bad_ratings_90d",
                      "reopens_90d", "resolved_tickets_lifetime", "resolution_minutes_lifetime"),
        nested_windows=(("tickets_90d", "tickets_30d"), ("tickets_lifetime", "tickets_90d")),
    ),
    "customer_profile_features": FeatureTableRules(
        non_negative=("source_count",),
        complete=("email_marketing_consent", "is_email_marketable", "is_personalization_opted_out"),
    ),
}


def feature_table_suite(table: str, t: FeatureThresholds) -> Suite:
    """The rules on one feature table's latest rows, and on its drift since the previous validation."""
    rules = FEATURE_TABLE_RULES[table]

    def in_range(gxe) -> list:
        return [*(gxe.ExpectColumnValuesToBeBetween(column=column, min_value=0) for column in rules.non_negative),
                *(gxe.ExpectColumnValuesToBeBetween(column=column, min_value=0, max_value=1) for column in rules.shares)]

    suite_rules = [Rule("feature_values_in_range", Severity.BLOCKING,
                        "Counts and amounts are not negative; shares lie in [0, 1].", "latest_rows", in_range)]
    if rules.nested_windows:
        suite_rules.append(Rule(
            "windows_nested", Severity.BLOCKING, "A wider window never holds less than a narrower one (30 ≤ 90 ≤ 365 days ≤ lifetime; since the last order ≤ lifetime).",
            "latest_rows", lambda gxe: [gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A=a, column_B=b, or_equal=True, ignore_row_if="either_value_is_missing")
                                        for a, b in rules.nested_windows]))
    if rules.complete:
        suite_rules.append(Rule(
            "consent_state_complete", Severity.BLOCKING, "Every customer has a resolved consent state to serve.",
            "latest_rows", lambda gxe: [gxe.ExpectColumnValuesToNotBeNull(column=column) for column in rules.complete]))
    suite_rules += [
        Rule("feature_means_stable", Severity.WARNING,
             f"No numeric feature's mean over customers moved more than {t.max_relative_mean_shift:.0%} since the previous validation.",
             "drift", lambda gxe: [gxe.ExpectColumnValuesToBeBetween(column="relative_mean_shift", max_value=t.max_relative_mean_shift)]),
        Rule("feature_null_shares_stable", Severity.WARNING,
             f"No feature's share of nulls rose more than {t.max_null_share_increase:.0%} (points) since the previous validation.",
             "drift", lambda gxe: [gxe.ExpectColumnValuesToBeBetween(column="null_share_increase", max_value=t.max_null_share_increase)]),
    ]
    return Suite(name=f"features_{table}", rules=tuple(suite_rules))


def build_feature_table_batches(connection: duckdb.DuckDBPyConnection, tables: list[str], quality_dir: Path) -> dict[str, dict[str, Batch]]:
    """Per table, each customer's latest row and each feature's drift against the previous
    validation; this validation's profile becomes the next one's baseline."""
    profile_path = quality_dir / PREVIOUS_PROFILE_FILE
    previous = json.loads(profile_path.read_text()) if profile_path.exists() else {}
    batches, profiles = {}, dict(previous)
    for table in tables:
        latest = connection.sql(
            f"SELECT * EXCLUDE (feature_hash) FROM {FEATURE_SCHEMA}.{table} "
            "QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY snapshot_date DESC) = 1"
        ).df()
        profile = _profile(latest)
        batches[table] = {"latest_rows": Batch(latest, ("customer_id",)), "drift": Batch(_drift(profile, previous.get(table, {})), ("feature",))}
        profiles[table] = profile
    profile_path.parent.mkdir(parents=True, exist_ok=True)
    profile_path.write_text(json.dumps(profiles, indent=0, sort_keys=True))
    return batches


def _profile(latest: pd.DataFrame) -> dict[str, dict[str, float | None]]:
    features = [column for column in latest.columns if column not in ("customer_id", "snapshot_date", "event_timestamp")]
    numeric = set(latest.select_dtypes("number").columns)
    return {
        column: {
            "mean": float(latest[column].mean()) if column in numeric and latest[column].notna().any() else None,
            "null_share": float(latest[column].isna().mean()) if len(latest) else None,
        }
        for column in features
    }


def _drift(profile: dict, previous: dict) -> pd.DataFrame:
    rows = []
    for feature, now in sorted(profile.items()):
        before = previous.get(feature, {})
        mean, mean_before = now["mean"], before.get("mean")
        nulls, nulls_before = now["null_share"], before.get("null_share")
        rows.append({
            "feature": feature, "mean": mean, "previous_mean": mean_before,
            "relative_mean_shift": abs(mean - mean_before) / abs(mean_before) if mean is not None and mean_before else 0.0,
            "null_share": nulls, "previous_null_share": nulls_before,
            "null_share_increase": nulls - nulls_before if nulls is not None and nulls_before is not None else 0.0,
        })
    columns = ["feature", "mean", "previous_mean", "relative_mean_shift", "null_share", "previous_null_share", "null_share_increase"]
    return pd.DataFrame(rows, columns=columns)

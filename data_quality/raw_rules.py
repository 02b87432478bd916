"""The rules of a raw export suite, each a Dagster check over the profile `raw_partitions` builds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from data_quality.raw_export_specs import RAW_EXPORT_SPECS, RawExportSpec
from data_quality.rules import Rule, Severity, Suite
from data_quality.thresholds import RawThresholds

BLOCKING, WARNING = Severity.BLOCKING, Severity.WARNING


def _in_set(field: str, values: tuple[str, ...]) -> Callable[[Any], list]:
    """The expectation that `field`'s values are among `values` (a function, so each rule keeps its own)."""
    return lambda gxe: [gxe.ExpectColumnValuesToBeInSet(
        column="value", value_set=list(values), row_condition=f'aspect=="value" and field=="{field}"', condition_parser="pandas")]


def raw_export_rules(spec: RawExportSpec, t: RawThresholds, fx_currencies: tuple[str, ...] = ()) -> tuple[Rule, ...]:
    """Volume, quarantine, fill rates and freshness for every export; ids, value sets, timestamps and amounts per spec."""
    floor = datetime.combine(t.oldest_plausible_timestamp, datetime.min.time())
    rules = [
        Rule("row_count_not_collapsed", BLOCKING,
             f"A partition holds at least {t.min_volume_ratio:g}× the median rows of the {t.trailing_partitions} partitions before it.",
             "profile", lambda gxe: [gxe.ExpectColumnValuesToBeBetween(column="volume_ratio", min_value=t.min_volume_ratio)]),
        Rule("quiet_source_row_count_plausible", BLOCKING,
             f"A partition of a source with a median under {t.min_trailing_median_rows} rows a day holds a count at least "
             f"{t.min_volume_probability:g} likely given the mean and day-to-day variance of the {t.trailing_partitions} partitions before it "
             "(negative binomial, or Poisson when they vary less): an emptied day of a steady 10+ tickets a day fails; a day "
             "without a privacy request, or a quiet day after a campaign, passes.",
             "profile", lambda gxe: [gxe.ExpectColumnValuesToBeBetween(column="volume_probability", min_value=t.min_volume_probability)]),
        Rule("row_count_not_surging", WARNING,
             f"A partition holds at most {t.max_volume_ratio:g}× the median rows of the {t.trailing_partitions} partitions before it.",
             "profile", lambda gxe: [gxe.ExpectColumnValuesToBeBetween(column="volume_ratio", max_value=t.max_volume_ratio)]),
        Rule("quarantined_share_below_threshold", BLOCKING,
             f"At most {t.max_quarantined_share:.0%} of a partition's rows are quarantined as unparseable.",
             "profile", lambda gxe: [gxe.ExpectColumnValuesToBeBetween(column="quarantined_share", max_value=t.max_quarantined_share)]),
        Rule("columns_keep_their_fill_rate", BLOCKING,
             f"A column filled in {t.min_trailing_fill_rate:.0%}+ of earlier rows keeps at least {t.min_fill_ratio:g}× that fill rate "
             "(a column that turns all-null fails).",
             "profile", lambda gxe: [gxe.ExpectColumnValuesToBeBetween(column="fill_ratio", min_value=t.min_fill_ratio)]),
        Rule("newest_partition_is_fresh", WARNING,
             f"The newest delivered partition is at most {t.max_partition_age_days} days old.",
             "profile", lambda gxe: [gxe.ExpectColumnValuesToBeBetween(column="days_since_newest_partition", max_value=t.max_partition_age_days)]),
        Rule("required_ids_present", BLOCKING, f"Every row has its {', '.join(spec.ids)}.",
             "profile", lambda gxe: [gxe.ExpectColumnValuesToBeBetween(column="rows_missing", max_value=0)]),
    ]
    if spec.timestamps:
        # A products export carries no timestamp: nothing for these rules to judge.
        rules += [
            Rule("timestamps_not_in_future", BLOCKING,
                 f"No {', '.join(spec.timestamps)} after the end of the row's extract day plus {t.future_slack_hours} h.",
                 "profile", lambda gxe: [gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                     column_A="latest_plausible_at", column_B="latest_at", or_equal=True, ignore_row_if="either_value_is_missing")]),
            Rule("timestamps_not_implausibly_old", BLOCKING,
                 f"No {', '.join(spec.timestamps)} before {t.oldest_plausible_timestamp} (for older history, set "
                 "`raw: {oldest_plausible_timestamp: YYYY-MM-DD}` in the YAML file CXP_QUALITY_THRESHOLDS names).",
                 "profile", lambda gxe: [gxe.ExpectColumnValuesToBeBetween(column="earliest_at", min_value=floor)]),
        ]
    for value_set in spec.value_sets:
        values = value_set.values + (fx_currencies if value_set.from_fx_currencies else ())
        rules.append(Rule(
            f"{value_set.field}_in_accepted_set", value_set.severity,
            f"{value_set.field} is one of {', '.join(values)}" + (" (USD or a currency with an FX rate)." if value_set.from_fx_currencies else "."),
            "profile", _in_set(value_set.field, values),
        ))
    if spec.non_negative or spec.positive:
        rules.append(Rule(
            "amounts_not_negative", BLOCKING,
            "No negative " + ", ".join(spec.non_negative) + (f"; {', '.join(spec.positive)} above zero." if spec.positive else "."),
            "profile", lambda gxe: [
                gxe.ExpectColumnValuesToBeBetween(column="smallest", min_value=0, row_condition='aspect=="amount"', condition_parser="pandas"),
                gxe.ExpectColumnValuesToBeBetween(
                    column="smallest", min_value=0, strict_min=True, row_condition='aspect=="positive_amount"', condition_parser="pandas"),
            ],
        ))
    return tuple(rules)


def raw_export_suite(source: str, thresholds: RawThresholds, fx_currencies: tuple[str, ...] = ()) -> Suite:
    """The suite of one raw export (`raw_<source>`); orders' currencies must be USD or among `fx_currencies`."""
    return Suite(name=f"raw_{source}", rules=raw_export_rules(RAW_EXPORT_SPECS[source], thresholds, fx_currencies))

"""The batches of a raw export suite: per-partition profiles of the partitions under validation.

Under validation are the partitions loaded since they were last validated and those whose last
validation failed: a bad day keeps blocking every run until it is re-delivered (or the
thresholds change). A gate never deletes rows; the raw asset keeps what was delivered, so the
day can be replayed.

The rules judge a profile that DuckDB computes in one pass over the rows (a year of email events
is millions of rows; Great Expectations on pandas would take minutes): per partition and field,
the distinct values of a closed set, the earliest and latest timestamp, the smallest amount, the
rows without an id, the fill rate. Each profile row names the file and line of a row behind it
(the latest timestamp, the first row with a value), which the check shows as a sample.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

import duckdb

from dagster_project.warehouse import table_exists
from data_quality.raw_export_specs import RAW_EXPORT_SPECS, RawExportSpec, json_paths
from data_quality.rules import Batch
from data_quality.thresholds import RawThresholds

VERDICTS_TABLE = "quality.raw_partition_verdicts"
_LEDGER = "raw.load_ledger"
_PARSED = "_quality_parsed_rows"


def partitions_to_validate(connection: duckdb.DuckDBPyConnection, source: str) -> list[date]:
    """Loaded partitions never validated, reloaded since, or whose last validation failed."""
    _create_verdicts_table(connection)
    rows = connection.execute(
        f"""SELECT ledger._extract_date FROM {_LEDGER} ledger
            LEFT JOIN {VERDICTS_TABLE} verdict USING (source, _extract_date)
            WHERE ledger.source = ? AND (verdict._loaded_at IS DISTINCT FROM ledger._loaded_at OR NOT verdict.passed)
            ORDER BY 1""",
        [source],
    ).fetchall()
    return [day for (day,) in rows]


def build_raw_export_batches(
    connection: duckdb.DuckDBPyConnection, source: str, days: list[date], thresholds: RawThresholds, today: date
) -> dict[str, Batch]:
    """The profile the raw rules validate, for the given partitions: one frame, one row per
    partition (`aspect` partition), per partition and field (id, value, timestamp, amount, fill),
    and one for the export as a whole (freshness). One frame is one GE validation: each costs ~1 s
    of fixed overhead, paid every night for every export."""
    spec = RAW_EXPORT_SPECS[source]
    _parse_rows(connection, spec, days, thresholds.trailing_partitions)
    try:
        parts = [
            _partition_volumes(source, thresholds), _fill_rates(thresholds), _missing_ids(spec), _distinct_values(spec),
            _timestamp_ranges(spec, thresholds), _smallest_amounts(spec),
            f"""SELECT 'freshness' AS aspect, max(_extract_date) AS _extract_date,
                    date_diff('day', max(_extract_date), $today) AS days_since_newest_partition
                FROM {_LEDGER} WHERE source = $source HAVING count(*) > 0""",
        ]
        profile = connection.execute(
            " UNION ALL BY NAME ".join(f"({part})" for part in parts if part) + " ORDER BY _extract_date, aspect, field",
            {"days": days, "source": source, "today": today},
        ).df()
    finally:
        connection.execute(f"DROP TABLE IF EXISTS {_PARSED}")
    return {"profile": Batch(profile, ("_extract_date", "aspect", "field", "_source_file", "_line_number"))}


def record_verdicts(connection: duckdb.DuckDBPyConnection, source: str, days: list[date], passed: bool, run_id: str) -> None:
    """Remember that these partitions, as loaded now, passed or failed the blocking rules."""
    _create_verdicts_table(connection)
    connection.execute(
        f"""INSERT OR REPLACE INTO {VERDICTS_TABLE}
            SELECT source, _extract_date, _loaded_at, $passed, $now, $run_id FROM {_LEDGER}
            WHERE source = $source AND _extract_date IN (SELECT unnest($days::DATE[]))""",
        {"source": source, "days": days, "passed": passed, "run_id": run_id,
         "now": datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)},
    )


def fx_currencies(connection: duckdb.DuckDBPyConnection) -> tuple[str, ...]:
    """Currencies the FX export has a rate for (none when there is no FX export)."""
    if not table_exists(connection, "raw.ecommerce_fx_rates"):
        return ()
    return tuple(c for (c,) in connection.execute("SELECT DISTINCT trim(currency) FROM raw.ecommerce_fx_rates ORDER BY 1").fetchall())


def _parse_rows(connection: duckdb.DuckDBPyConnection, spec: RawExportSpec, days: list[date], window: int) -> None:
    """One pass over the rows: every field the profiles need, for the partitions under validation
    and (for fill rates) the `window` delivered partitions before the first of them."""
    (start,) = connection.execute(
        f"SELECT coalesce(min(_extract_date), $first) FROM (SELECT _extract_date FROM {_LEDGER} "
        f"WHERE source = $source AND _extract_date < $first ORDER BY 1 DESC LIMIT {window})",
        {"source": spec.source, "first": min(days, default=date.max)},
    ).fetchall()[0]
    fields = {**spec.ids, **spec.timestamps, **{v.field: v.expression for v in spec.value_sets}, **spec.non_negative, **spec.positive}
    watched = _watched(connection, spec)
    paths, expressions = json_paths([*fields.values(), *watched.values()])
    selected = [f'{expression} AS "{name}"' for name, expression in zip(fields, expressions)]
    selected += [f'{expression} IS NOT NULL AS "filled:{name}"' for name, expression in zip(watched, expressions[len(fields):])]
    json_values = f", json_extract_string(payload, {paths!r}) AS _json_values" if paths else ""
    connection.execute(
        f"""CREATE OR REPLACE TEMP TABLE {_PARSED} AS
            SELECT _extract_date, _source_file, _line_number, _extract_date IN (SELECT unnest($days::DATE[])) AS is_validated,
                {", ".join(selected)}
            FROM (SELECT *{json_values} FROM raw.{spec.source} WHERE _extract_date >= $start)""",
        {"days": days, "start": start},
    )


def _partition_volumes(source: str, t: RawThresholds) -> str:
    """Per partition: its rows against the median of the partitions delivered before it, and its quarantined share."""
    return f"""
        WITH steps AS (
            SELECT *, rows_loaded - lag(rows_loaded) OVER (ORDER BY _extract_date) AS step
            FROM {_LEDGER} WHERE source = $source),
        -- The variance from day-to-day steps (half their mean square), not around the mean: a shop
        -- whose tickets grow from 5 to 40 a day has a wide spread around the mean but steady days,
        -- and an emptied day must still stand out.
        history AS (
            SELECT *, median(rows_loaded) OVER before_it AS trailing_median_rows, avg(rows_loaded) OVER before_it AS trailing_mean_rows,
                avg(step * step) OVER before_it / 2 AS trailing_variance, count(*) OVER before_it AS earlier
            FROM steps
            WINDOW before_it AS (ORDER BY _extract_date ROWS BETWEEN {t.trailing_partitions} PRECEDING AND 1 PRECEDING)),
        -- A quiet source's day is a count of rare events: its ratio to the median swings by chance
        -- (2 tickets against a median of 5), so it is judged by how likely so few rows are. Counts
        -- that vary more than a Poisson count (a first load of every contact, a campaign day) are
        -- negative binomial with the earlier days' mean and step variance (size r = mean^2 / (variance -
        -- mean)); the others Poisson. An emptied day of a steady 10 tickets a day has probability
        -- e^-10 (4.5e-5); of a source with a request a day, e^-1 (0.37).
        quiet AS (
            SELECT *, CASE WHEN trailing_variance > trailing_mean_rows
                           THEN trailing_mean_rows ** 2 / (trailing_variance - trailing_mean_rows) END AS size_r
            FROM history
            WHERE earlier >= {t.min_trailing_partitions} AND trailing_median_rows < {t.min_trailing_median_rows}
                AND rows_loaded < trailing_mean_rows),
        quiet_probability AS (
            SELECT _extract_date, list_sum(list_transform(range(0, rows_loaded::BIGINT + 1), lambda k:
                CASE WHEN size_r IS NULL THEN exp(k * ln(trailing_mean_rows) - trailing_mean_rows - lgamma(k + 1))
                     ELSE exp(lgamma(k + size_r) - lgamma(k + 1) - lgamma(size_r) + size_r * ln(size_r / (size_r + trailing_mean_rows))
                              + k * ln(trailing_mean_rows / (size_r + trailing_mean_rows))) END)) AS volume_probability
            FROM quiet)
        SELECT 'partition' AS aspect, _extract_date, _source_file, rows_loaded AS rows, rows_quarantined, trailing_median_rows,
            CASE WHEN earlier >= {t.min_trailing_partitions} AND trailing_median_rows >= {t.min_trailing_median_rows}
                 THEN rows_loaded / trailing_median_rows END AS volume_ratio,
            volume_probability,
            CASE WHEN rows_loaded + rows_quarantined >= {t.min_rows_for_shares}
                 THEN rows_quarantined / (rows_loaded + rows_quarantined) END AS quarantined_share
        FROM history LEFT JOIN quiet_probability USING (_extract_date) WHERE _extract_date IN (SELECT unnest($days::DATE[]))"""


def _fill_rates(t: RawThresholds) -> str:
    """Per partition and watched field: its fill rate against the earlier partitions' average."""
    return f"""
        WITH summed AS (
            SELECT _extract_date, bool_or(is_validated) AS is_validated, count(*) AS partition_rows,
                sum(COLUMNS('^filled:')::INTEGER)
            FROM {_PARSED} GROUP BY 1),
        filled AS (UNPIVOT summed ON COLUMNS('^filled:') INTO NAME field VALUE filled_rows),
        rated AS (
            SELECT _extract_date, is_validated, replace(field, 'filled:', '') AS field, partition_rows,
                filled_rows / partition_rows AS fill_rate,
                avg(filled_rows / partition_rows) OVER before_it AS trailing_fill_rate, count(*) OVER before_it AS earlier
            FROM filled WINDOW before_it AS (
                PARTITION BY field ORDER BY _extract_date ROWS BETWEEN {t.trailing_partitions} PRECEDING AND 1 PRECEDING))
        SELECT 'fill' AS aspect, _extract_date, field, partition_rows AS rows, fill_rate, trailing_fill_rate,
            CASE WHEN earlier >= {t.min_trailing_partitions} AND partition_rows >= {t.min_rows_for_shares}
                      AND trailing_fill_rate >= {t.min_trailing_fill_rate}
                 THEN fill_rate / trailing_fill_rate END AS fill_ratio
        FROM rated WHERE is_validated"""


def _per_field(aspect: str, names: list[str], select_for_field) -> str:
    """`select_for_field(name)` for each field, unioned; empty when the export has no such field."""
    return " UNION ALL ".join(f"SELECT '{aspect}' AS aspect, * FROM ({select_for_field(name)})" for name in names)


def _missing_ids(spec: RawExportSpec) -> str:
    return _per_field("id", list(spec.ids), lambda name: f"""
        SELECT _extract_date, '{name}' AS field, count(*) AS rows, count(*) FILTER (WHERE "{name}" IS NULL) AS rows_missing,
            min(_source_file) AS _source_file, min(_line_number) FILTER (WHERE "{name}" IS NULL) AS _line_number
        FROM {_PARSED} WHERE is_validated GROUP BY 1""")


def _distinct_values(spec: RawExportSpec) -> str:
    return _per_field("value", [v.field for v in spec.value_sets], lambda name: f"""
        SELECT _extract_date, '{name}' AS field, "{name}" AS value, count(*) AS rows,
            min(_source_file) AS _source_file, min(_line_number) AS _line_number
        FROM {_PARSED} WHERE is_validated AND "{name}" IS NOT NULL GROUP BY 1, 3""")


def _timestamp_ranges(spec: RawExportSpec, t: RawThresholds) -> str:
    return _per_field("timestamp", list(spec.timestamps), lambda name: f"""
        SELECT _extract_date, '{name}' AS field, count(*) AS rows, min("{name}") AS earliest_at, max("{name}") AS latest_at,
            _extract_date + INTERVAL 1 DAY + INTERVAL ({t.future_slack_hours}) HOUR AS latest_plausible_at,
            min(_source_file) AS _source_file, arg_max(_line_number, "{name}") AS _line_number,
            arg_min(_line_number, "{name}") AS line_of_earliest
        FROM {_PARSED} WHERE is_validated AND "{name}" IS NOT NULL GROUP BY 1""")


def _smallest_amounts(spec: RawExportSpec) -> str:
    fields = [(name, "amount") for name in spec.non_negative] + [(name, "positive_amount") for name in spec.positive]
    return " UNION ALL ".join(f"""
        SELECT '{aspect}' AS aspect, _extract_date, '{name}' AS field, count(*) AS rows, min("{name}")::DOUBLE AS smallest,
            min(_source_file) AS _source_file, arg_min(_line_number, "{name}") AS _line_number
        FROM {_PARSED} WHERE is_validated AND "{name}" IS NOT NULL GROUP BY 2""" for name, aspect in fields)


def _watched(connection: duckdb.DuckDBPyConnection, spec: RawExportSpec) -> dict[str, str]:
    """The spec's watched fields; for a CSV export every column it was delivered with."""
    if spec.monitored:
        return spec.monitored
    columns = connection.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'raw' AND table_name = ? "
        "AND NOT starts_with(column_name, '_') ORDER BY ordinal_position", [spec.source],
    ).fetchall()
    return {column: f"nullif(trim(\"{column}\"), '')" for (column,) in columns}


def _create_verdicts_table(connection: duckdb.DuckDBPyConnection) -> None:
    connection.execute("CREATE SCHEMA IF NOT EXISTS quality")
    connection.execute(
        f"""CREATE TABLE IF NOT EXISTS {VERDICTS_TABLE} (
            source VARCHAR NOT NULL, _extract_date DATE NOT NULL, _loaded_at TIMESTAMP NOT NULL, passed BOOLEAN NOT NULL,
            validated_at TIMESTAMP NOT NULL, dagster_run_id VARCHAR NOT NULL, PRIMARY KEY (source, _extract_date))"""
    )

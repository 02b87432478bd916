"""The raw suites' profiles and verdicts on hand-made raw rows in a real DuckDB warehouse."""

import itertools
import math
from datetime import date, datetime, timedelta

import duckdb
import pytest

from dagster_project.ingest.raw_tables import create_raw_tables
from data_quality.raw_export_specs import RAW_EXPORT_SPECS
from data_quality.raw_partitions import build_raw_export_batches, partitions_to_validate, record_verdicts
from data_quality.raw_rules import raw_export_rules
from data_quality.thresholds import load_quality_thresholds

DAY = date(2024, 3, 1)
ORDER_COLUMNS = ("Id", "Financial Status", "Created at", "Currency", "Subtotal", "Lineitem price", "Lineitem quantity", "Email")
THRESHOLDS = load_quality_thresholds().raw


@pytest.fixture
def warehouse() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    create_raw_tables(connection)
    return connection


def load_orders(connection, day: date, rows: list[tuple], loaded_at: datetime = datetime(2024, 3, 10)) -> None:
    """Order rows of one day's file (lines from 2), and the file's ledger entry."""
    source_file = f"ecommerce/orders_{day}.csv"
    for line, values in enumerate(rows, start=2):
        columns = ", ".join(f'"{c}"' for c in ORDER_COLUMNS)
        connection.execute(
            f"INSERT INTO raw.ecommerce_orders ({columns}, _extract_date, _source_file, _line_number, _loaded_at) "
            f"VALUES ({', '.join('?' * len(ORDER_COLUMNS))}, ?, ?, ?, ?)",
            [*values, day, source_file, line, loaded_at],
        )
    connection.execute(
        "INSERT OR REPLACE INTO raw.load_ledger VALUES ('ecommerce_orders', ?, ?, 'sha', 1, ?, 0, ?)",
        [day, source_file, len(rows), loaded_at],
    )


def order(number: int, status: str = "paid", created: str = "2024-03-01 10:00:00 +0000", price: str = "10.00") -> tuple:
    return (str(number), status, created, "USD", price, price, "1", f"buyer{number}@example.com")


def profile(connection, days):
    return build_raw_export_batches(connection, "ecommerce_orders", days, THRESHOLDS, DAY + timedelta(days=30))["profile"].frame


def test_a_failed_partition_stays_under_validation_until_it_passes(warehouse):
    days = [DAY + timedelta(days=n) for n in range(3)]
    for day in days:
        load_orders(warehouse, day, [order(1)])
    assert partitions_to_validate(warehouse, "ecommerce_orders") == days  # never validated

    record_verdicts(warehouse, "ecommerce_orders", days[:2], True, "run-1")
    record_verdicts(warehouse, "ecommerce_orders", days[2:], False, "run-1")
    assert partitions_to_validate(warehouse, "ecommerce_orders") == days[2:]

    load_orders(warehouse, days[0], [order(1)], loaded_at=datetime(2024, 3, 11))  # a re-delivery
    assert partitions_to_validate(warehouse, "ecommerce_orders") == [days[0], days[2]]


def test_the_profile_points_at_the_file_and_line_of_an_unknown_status_and_a_future_timestamp(warehouse):
    load_orders(warehouse, DAY, [order(1), order(2, status="shipped"), order(3, created="2031-01-01 00:00:00 +0000"), order(4)])
    frame = profile(warehouse, [DAY])

    shipped = frame[(frame.aspect == "value") & (frame.field == "financial_status") & (frame.value == "shipped")]
    assert shipped[["_source_file", "_line_number", "rows"]].values.tolist() == [[f"ecommerce/orders_{DAY}.csv", 3, 1]]
    created = frame[(frame.aspect == "timestamp") & (frame.field == "created_at")].iloc[0]
    assert created.latest_at == datetime(2031, 1, 1) and created._line_number == 4
    assert created.latest_plausible_at == datetime(2024, 3, 3)  # end of the extract day, plus a day of slack


def test_the_smallest_amount_and_its_line_are_profiled(warehouse):
    load_orders(warehouse, DAY, [order(1), order(2, price="-5.00"), order(3)])
    frame = profile(warehouse, [DAY])
    price = frame[(frame.aspect == "amount") & (frame.field == "lineitem_price")].iloc[0]
    assert (price.smallest, price._line_number) == (-5.0, 3)


def test_volume_is_judged_against_the_median_of_earlier_partitions_once_there_are_enough(warehouse):
    days = [DAY + timedelta(days=n) for n in range(10)]
    for n, day in enumerate(days):
        load_orders(warehouse, day, [order(k) for k in range(30 if n < 9 else 3)])
    volumes = profile(warehouse, days).query("aspect == 'partition'").set_index("_extract_date")["volume_ratio"]
    assert volumes.iloc[:7].isna().all()  # fewer than 7 earlier partitions: not judged
    assert volumes.iloc[7:9].tolist() == [1.0, 1.0]
    assert volumes.iloc[9] == pytest.approx(0.1)


def test_a_quiet_source_emptied_for_a_day_is_judged_unlikely_and_a_quiet_day_is_not(warehouse):
    """Under the median floor the ratio is not judged; the Poisson chance of so few rows is."""
    days = [DAY + timedelta(days=n) for n in range(10)]
    counts = [9, 12, 10, 11, 8, 10, 12, 9, 4, 0]  # a mean of about 10 a day, then a quiet day, then an emptied one
    for day, count in zip(days, counts):
        load_orders(warehouse, day, [order(k) for k in range(count)])
    partitions = profile(warehouse, days).query("aspect == 'partition'").set_index("_extract_date")
    assert partitions["volume_ratio"].isna().all()  # medians under 20 rows
    assert partitions["volume_probability"].iloc[:7].isna().all()  # fewer than 7 earlier days: not judged
    normal, quiet, emptied = partitions["volume_probability"].iloc[7:].tolist()
    assert normal > quiet > THRESHOLDS.min_volume_probability > emptied
    assert emptied == pytest.approx(math.exp(-sum(counts[:9]) / 9))  # P(0) under the mean of the days before

def test_a_quiet_source_that_varies_more_than_poisson_is_judged_negative_binomial(warehouse):
    """A first load of every contact, then a few updates a day: a quiet day is no alarm."""
    from scipy.stats import nbinom

    days = [DAY + timedelta(days=n) for n in range(9)]
    counts = [120, 5, 3, 8, 2, 6, 4, 7, 1]
    for day, count in zip(days, counts):
        load_orders(warehouse, day, [order(k) for k in range(count)])
    probability = profile(warehouse, days[-1:]).query("aspect == 'partition'")["volume_probability"].iloc[0]
    earlier = counts[:-1]
    mean = sum(earlier) / len(earlier)
    # Half the mean square of the day-to-day steps (the first day has none before it).
    steps = [after - before for before, after in itertools.pairwise(earlier)]
    variance = sum(step**2 for step in steps) / len(steps) / 2
    size = mean**2 / (variance - mean)
    assert probability == pytest.approx(nbinom.cdf(1, size, size / (size + mean)))
    assert probability > THRESHOLDS.min_volume_probability


def test_an_emptied_day_of_a_growing_quiet_source_is_judged_unlikely(warehouse):
    """A young shop's tickets grow from 2 to 19 a day: the spread around the mean is the trend, not
    noise, so it must not make an empty day look plausible (judged around the mean: 0.005)."""
    days = [DAY + timedelta(days=n) for n in range(10)]
    counts = [2, 4, 6, 8, 10, 12, 14, 16, 19, 0]
    for day, count in zip(days, counts):
        load_orders(warehouse, day, [order(k) for k in range(count)])
    probability = profile(warehouse, days[-1:]).query("aspect == 'partition'")["volume_probability"].iloc[0]
    assert probability < THRESHOLDS.min_volume_probability
    assert probability == pytest.approx(math.exp(-sum(counts[:9]) / 9))  # steady steps: Poisson


def test_a_column_that_turns_all_null_scores_a_fill_ratio_of_zero(warehouse):
    days = [DAY + timedelta(days=n) for n in range(9)]
    for n, day in enumerate(days):
        rows = [order(k) for k in range(60)]
        load_orders(warehouse, day, rows if n < 8 else [values[:-1] + ("",) for values in rows])
    fills = profile(warehouse, days[-1:]).query("aspect == 'fill'").set_index("field")
    assert fills.loc["Email", "fill_ratio"] == 0.0
    assert fills.loc["Financial Status", "fill_ratio"] == 1.0


def test_a_products_export_is_profiled_without_timestamps_and_its_volume_never_blocks(warehouse):
    source_file = f"ecommerce/products_{DAY}.csv"
    rows = [("mug", "active", "12.00"), ("mug", None, "-1.00"), ("lamp", "retired", "30.00"), (None, None, "5.00")]
    for line, (handle, status, price) in enumerate(rows, start=2):
        warehouse.execute('INSERT INTO raw.ecommerce_products ("Handle", "Status", "Variant Price", _extract_date, _source_file, '
                          "_line_number, _loaded_at) VALUES (?, ?, ?, ?, ?, ?, ?)", [handle, status, price, DAY, source_file, line, DAY])
    warehouse.execute("INSERT INTO raw.load_ledger VALUES ('ecommerce_products', ?, ?, 'sha', 1, 4, 0, ?)", [DAY, source_file, DAY])
    products = load_quality_thresholds().for_source("ecommerce_products")
    frame = build_raw_export_batches(warehouse, "ecommerce_products", [DAY], products, DAY + timedelta(days=30))["profile"].frame
    assert "timestamp" not in set(frame.aspect)  # a products export has none
    assert frame.query("aspect == 'id'")[["rows_missing", "_line_number"]].values.tolist() == [[1, 5]]
    assert sorted(frame.query("aspect == 'value'").value) == ["active", "retired"]
    assert frame.query("aspect == 'amount' and field == 'variant_price'")[["smallest", "_line_number"]].values.tolist() == [[-1.0, 3]]
    rules = {rule.name for rule in raw_export_rules(RAW_EXPORT_SPECS["ecommerce_products"], products)}
    assert {"status_in_accepted_set", "amounts_not_negative", "required_ids_present"} <= rules
    assert not {"timestamps_not_in_future", "timestamps_not_implausibly_old"} & rules
    assert (products.min_volume_ratio, products.min_volume_probability) == (0.0, 0.0)  # a quiet catalog day is normal

"""CDNOW's real purchases written as Shopify order exports the platform's own reader accepts."""

from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from dagster_project.demo_exports.public_shop_experiment import write_placebo_assignments
from dagster_project.demo_exports.public_shop_history import read_cdnow, write_cdnow_landing
from dagster_project.ingest.contracts import ECOMMERCE_ORDERS, EXPERIMENT_ASSIGNMENTS
from dagster_project.ingest.readers import read_export


@pytest.fixture(scope="module")
def cdnow() -> pl.DataFrame:
    return read_cdnow()


def test_cdnow_ships_offline_with_its_published_size(cdnow):
    # Fader & Hardie's CDNOW master file: 23,570 customers, January 1997 to June 1998.
    assert cdnow["customer_id"].n_unique() == 23_570
    assert (str(cdnow["purchased_on"].min()), str(cdnow["purchased_on"].max())) == ("1997-01-01", "1998-06-30")


def test_every_purchase_is_one_order_on_its_day_with_a_buyer_and_no_address(cdnow, tmp_path: Path):
    written = write_cdnow_landing(tmp_path, customers=60, purchases=cdnow)
    source = cdnow.filter(pl.col("customer_id").is_in(cdnow["customer_id"].unique(maintain_order=True).head(60).implode()))
    files = sorted((tmp_path / "ecommerce").glob("orders_*.csv"))
    assert [f.name for f in files] == [f"orders_{day}.csv" for day in source["purchased_on"].unique().sort()]
    parsed = [read_export(path, ECOMMERCE_ORDERS) for path in files]
    assert sum(p.quarantine.height for p in parsed) == 0
    orders = pl.concat([p.rows.with_columns(pl.lit(path.stem.removeprefix("orders_")).alias("day")) for p, path in zip(parsed, files)])
    assert (written.orders, orders.height, orders["Id"].n_unique()) == (source.height,) * 3
    assert orders["Total"].cast(pl.Float64).sum() == pytest.approx(source["value_usd"].sum(), abs=0.01)
    assert (orders["Created at"].str.slice(0, 10) == orders["day"]).all()
    # A name and an email per buyer, one email per CDNOW customer; no address or phone, as the shop.
    assert orders["Email"].null_count() == 0 and orders["Billing Name"].null_count() == 0
    assert orders.group_by("Email").agg(pl.col("Billing Name").n_unique())["Billing Name"].max() == 1
    assert orders["Email"].n_unique() == written.customers == 60
    assert orders.select("Billing Street", "Billing Zip", "Billing Phone").null_count().row(0) == (orders.height,) * 3


def test_the_placebo_split_logs_every_earlier_buyer_once_under_the_email_their_orders_carry(cdnow, tmp_path: Path):
    written = write_cdnow_landing(tmp_path, customers=400, purchases=cdnow)
    purchases = cdnow.filter(pl.col("customer_id").is_in(written.buyers["customer_id"].implode()))
    start = date(1997, 2, 15)  # inside the cohort's first quarter: some of the 400 have not bought yet
    experiment = write_placebo_assignments(tmp_path, written.buyers, purchases, start)
    files = sorted((tmp_path / "experiments").glob("assignments_*.csv"))
    parsed = [read_export(path, EXPERIMENT_ASSIGNMENTS) for path in files]
    assert sum(p.quarantine.height for p in parsed) == 0
    logged = pl.concat([p.rows for p in parsed])
    earlier = purchases.filter(pl.col("purchased_on") < start)["customer_id"].unique()
    assert 0 < earlier.len() < 400
    assert logged.height == logged["user_id"].n_unique() == experiment.assignments.height == earlier.len()
    emails = written.buyers.filter(pl.col("customer_id").is_in(earlier.implode()))["email"]
    assert set(logged["user_id"]) == set(emails)
    assert set(logged["variation_id"]) == {"control", "treatment"} and set(logged["experiment_id"]) == {experiment.experiment_id}
    # Exposed during the week from the start, each on the day of the file it is delivered in.
    assert [f.name for f in files] == [f"assignments_{start + timedelta(days=k)}.csv" for k in range(len(files))] and len(files) <= 7
    for path, p in zip(files, parsed):
        assert (p.rows["timestamp"].str.slice(0, 10) == path.stem.removeprefix("assignments_")).all()

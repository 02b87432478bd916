"""A public shop's real purchase history delivered as Shopify order exports.

CDNOW (Fader & Hardie's CD retailer, shipped inside the `lifetimes` package, so it installs
offline): every purchase of the 23,570 customers who first bought in the first quarter of 1997,
through June 1998 (customer id, date, CDs bought, dollars). Each purchase becomes one order on
its day's export, in USD, with a name and an email per buyer and no billing address or phone;
CDNOW has no names, so each buyer gets one drawn from the demo's name pools (namesakes included,
as in any shop) and an email made unique by the id. Nobody here wrote the purchases, so the
models' figures on it check those tuned on our generator.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from dagster_project.demo_exports.name_pools import build_pools
from dagster_project.demo_exports.shopify_export import ORDER_COLUMNS
from dagster_project.demo_exports.writers import write_csv

CDNOW_FILE = "CDNOW_master.txt"
# CDNOW's clock has days only: every purchase is placed at noon, shop time (US Eastern in January).
ORDER_TIME = "12:00:00 -0500"


@dataclass(frozen=True)
class ShopLanding:
    """What `write_cdnow_landing` wrote."""

    customers: int
    orders: int
    first_day: date
    last_day: date
    revenue_usd: float
    buyers: pl.DataFrame
    """`customer_id` (CDNOW's), and the `name` and `email` its orders carry."""


def cdnow_path() -> Path:
    """CDNOW's full transaction log inside the installed `lifetimes` package. (Its
    `lifetimes.datasets` module needs setuptools' pkg_resources to import, so the file is found
    by path.)"""
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("CDNOW ships inside the `lifetimes` package: uv sync installs it with the dev group")
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / CDNOW_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path}: this lifetimes wheel carries no CDNOW transaction log")
    return path


def read_cdnow(path: Path | None = None) -> pl.DataFrame:
    """`customer_id`, `purchased_on`, `cds`, `value_usd`, one row per purchase, in file order."""
    text = (path or cdnow_path()).read_text(encoding="utf-8").splitlines()
    rows = [line.split() for line in text[1:] if line.strip()]
    return pl.DataFrame({
        "customer_id": [row[0] for row in rows],
        "purchased_on": pl.Series([row[1] for row in rows]).str.strptime(pl.Date, "%Y%m%d"),
        "cds": [int(row[2]) for row in rows],
        "value_usd": [float(row[3]) for row in rows],
    })


def named_buyers(customer_ids: list[str], seed: int) -> pl.DataFrame:
    """A name and an email per CDNOW customer, drawn from the US names at their census frequencies."""
    rng = np.random.default_rng(seed)
    pool = build_pools({"US": len(customer_ids)}, rng)["US"]
    first = pool.first_names.draw(rng, len(customer_ids))
    last = pool.last_names.draw(rng, len(customer_ids))
    return pl.DataFrame({"customer_id": customer_ids, "first": first, "last": last}).with_columns(
        pl.concat_str("first", pl.lit(" "), "last").alias("name"),
        pl.concat_str(pl.col("first").str.to_lowercase(), pl.lit("."), pl.col("last").str.to_lowercase(),
                      pl.lit("."), "customer_id", pl.lit("@example.com")).str.replace_all(r"[^a-z0-9.@]", "").alias("email"),
    ).select("customer_id", "name", "email")


def write_cdnow_landing(landing: Path, customers: int | None = None, seed: int = 1997,
                        purchases: pl.DataFrame | None = None) -> ShopLanding:
    """Write `<landing>/ecommerce/orders_<day>.csv` for every day with purchases: each purchase one
    paid, fulfilled USD order of one line (its CDs at their total), placed that day. `customers` keeps the first
    that many CDNOW ids (a smaller, faster landing)."""
    purchases = read_cdnow() if purchases is None else purchases
    if customers is not None:
        kept = purchases["customer_id"].unique(maintain_order=True).head(customers).implode()
        purchases = purchases.filter(pl.col("customer_id").is_in(kept))
    buyers = named_buyers(purchases["customer_id"].unique(maintain_order=True).to_list(), seed)
    orders = purchases.with_row_index("order_number", offset=1001).join(buyers, on="customer_id", how="left", maintain_order="left")
    for (day,), rows in orders.group_by("purchased_on", maintain_order=True):
        created = f"{day.isoformat()} {ORDER_TIME}"
        write_csv(landing / "ecommerce" / f"orders_{day.isoformat()}.csv", ORDER_COLUMNS, (
            _order_row(order, created) for order in rows.iter_rows(named=True)))
    return ShopLanding(customers=buyers.height, orders=orders.height, first_day=orders["purchased_on"].min(),
                       last_day=orders["purchased_on"].max(), revenue_usd=float(orders["value_usd"].sum()),
                       buyers=buyers)


def _order_row(order: dict, created: str) -> list[str | None]:
    value, cds = order["value_usd"], order["cds"]
    cells = {
        "Name": f"#{order['order_number']}", "Email": order["email"], "Financial Status": "paid", "Paid at": created,
        "Fulfillment Status": "fulfilled", "Accepts Marketing": "no", "Currency": "USD",
        "Subtotal": f"{value:.2f}", "Shipping": "0.00", "Taxes": "0.00", "Total": f"{value:.2f}",
        "Discount Code": None, "Discount Amount": "0.00", "Created at": created,
        # One line for the purchase's CDs at its total: CDNOW has no per-CD prices, and a split would not
        # add up to the cent.
        "Lineitem quantity": "1", "Lineitem name": f"Compact discs ({cds})", "Lineitem price": f"{value:.2f}",
        "Lineitem sku": "CD", "Billing Name": order["name"], "Cancelled at": None, "Refunded Amount": "0.00",
        "Id": str(order["order_number"]), "Tags": None, "Source": "web",
    }
    return [cells.get(column) for column in ORDER_COLUMNS]

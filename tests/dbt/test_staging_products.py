"""stg_shopify__products and dim_products through real dbt, from hand-made Shopify product rows."""

import datetime
from decimal import Decimal

import pytest

pytestmark = pytest.mark.slow  # each module runs dbt seed + build once

FIRST_FILE = "ecommerce/products_2024-03-05.csv"
LATER_FILE = "ecommerce/products_2024-03-07.csv"


def product(handle: str, sku: str | None, price: str = "10.00", **cells: str) -> dict:
    """A product's first row: the product-level columns filled."""
    return {"Handle": handle, "Title": handle.replace("-", " ").title(), "Published": "TRUE", "Status": "active",
            "Option1 Name": "Size", "Option1 Value": "S", "Variant SKU": sku, "Variant Price": price, **cells}


def variant(handle: str, sku: str | None, value: str, price: str = "10.00", qty: str | None = "5") -> dict:
    """A further variant row: product-level cells blank, as Shopify exports them."""
    return {"Handle": handle, "Option1 Value": value, "Variant SKU": sku, "Variant Price": price, "Variant Inventory Qty": qty}


@pytest.fixture(scope="module")
def warehouse(build_staging):
    first_file = [
        product("trail-runner", "FOO-1-S", "89.99", Type="Footwear", **{"Variant Inventory Qty": "4"}),
        variant("trail-runner", "FOO-1-M", "M", "89.99"),
        variant("trail-runner", "FOO-1-L", "L", "89.99"),
        product("old-mug", "HOM-7", "12.00", Status="archived", Published="FALSE", **{"Variant Inventory Qty": "0"}),
    ]
    later_file = [
        # The runner is re-issued two days later: marked down, its L variant gone, its M oversold.
        product("trail-runner", "FOO-1-S", "69.99", Type="Footwear",
                **{"Variant Compare At Price": "89.99", "Variant Inventory Qty": "3"}),
        variant("trail-runner", "FOO-1-M", "M", "69.99", qty="-2"),
        # Categories from what the export says, in order: Type, then tags, then the taxonomy path.
        product("puddle-coat", "KID-2", Tags="sale, Kids, outdoor",
                **{"Product Category": "Apparel & Accessories > Clothing > Baby & Toddler Clothing"}),
        product("kids-raincoat", "XX-3", **{"Product Category": "Apparel & Accessories > Clothing > Baby & Toddler Clothing > "
                                                                  "Baby & Toddler Outerwear"}),
        product("water-bottle", "OUT-4", **{"Product Category": "Home & Garden > Kitchen & Dining > Drinkware > Water Bottles"}),
        # Nothing in the export names a category: the SKU prefix convention, else none.
        product("field-guide", "BOO-5", Type="Guides"),
        product("mystery-box", "ZZZ-6", **{"Variant Inventory Qty": None}),
        # A variant without a SKU is kept in staging, and has no row in the SKU-keyed dimension.
        product("gift-wrap", None, "2.00"),
    ]
    return build_staging({"ecommerce_products": {FIRST_FILE: first_file, LATER_FILE: later_file}})


def variants_of(warehouse, handle: str) -> list[dict]:
    return warehouse.rows(f"select * from staging.stg_shopify__products where handle = '{handle}' order by variant_position")


def test_the_latest_file_holding_a_product_is_its_current_version(warehouse):
    runner = variants_of(warehouse, "trail-runner")
    assert [(row["sku"], row["price"], row["compare_at_price"], row["inventory_qty"], row["source_file"]) for row in runner] == [
        ("FOO-1-S", Decimal("69.9900"), Decimal("89.9900"), 3, LATER_FILE),
        ("FOO-1-M", Decimal("69.9900"), None, -2, LATER_FILE),
    ]


def test_product_level_columns_are_filled_down_from_the_first_row_of_the_same_file(warehouse):
    second = variants_of(warehouse, "trail-runner")[1]
    assert (second["title"], second["product_type"], second["status"], second["is_published"], second["option_name"]) == (
        "Trail Runner", "Footwear", "active", True, "Size")


def test_a_product_only_in_an_earlier_file_keeps_that_version(warehouse):
    (mug,) = variants_of(warehouse, "old-mug")
    assert (mug["status"], mug["is_published"], mug["source_file"]) == ("archived", False, FIRST_FILE)


def test_a_variant_without_sku_is_kept_in_staging_but_not_in_the_sku_dimension(warehouse):
    (wrap,) = variants_of(warehouse, "gift-wrap")
    assert wrap["sku"] is None and wrap["variant_id"] == "gift-wrap#1"
    assert warehouse.rows("select count(*) as n from marts.dim_products where handle = 'gift-wrap'") == [{"n": 0}]


def test_each_sku_has_one_row_with_its_dates_and_stock(warehouse):
    rows = {row["sku"]: row for row in warehouse.rows("select * from marts.dim_products")}
    assert sorted(rows) == ["BOO-5", "FOO-1-M", "FOO-1-S", "HOM-7", "KID-2", "OUT-4", "XX-3", "ZZZ-6"]
    runner = rows["FOO-1-M"]
    assert (runner["first_seen_date"], runner["last_changed_date"]) == (datetime.date(2024, 3, 5), datetime.date(2024, 3, 7))
    assert (runner["is_in_stock"], rows["FOO-1-S"]["is_in_stock"], rows["ZZZ-6"]["is_in_stock"]) == (False, True, None)
    assert (rows["HOM-7"]["is_archived"], rows["FOO-1-S"]["is_archived"]) == (True, False)


@pytest.mark.parametrize(("sku", "category", "source"), [
    ("FOO-1-S", "Footwear", "product_type"),  # the shop's Type is a category's name
    ("KID-2", "Kids", "tag"),  # the first tag that names a category, in any case
    ("XX-3", "Kids", "taxonomy"),  # the deepest mapped segment (Baby & Toddler Clothing), not Apparel & Accessories
    ("OUT-4", "Home", "taxonomy"),  # Shopify files a water bottle as drinkware: the taxonomy says Home
    ("BOO-5", "Books", "sku_prefix"),  # a Type that is no category, no tags, no path: the SKU prefix convention
    ("ZZZ-6", "Uncategorized", None),  # nothing says
])
def test_category_comes_from_type_then_tags_then_taxonomy_then_sku_prefix(warehouse, sku, category, source):
    row = warehouse.rows(f"select category, category_source from marts.dim_products where sku = '{sku}'")
    assert row == [{"category": category, "category_source": source}]

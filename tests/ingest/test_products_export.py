"""The Shopify products export through the raw asset: variant rows load as delivered, a bad cell
keeps its row out with a reason, and a re-delivered day replaces that day."""

from dagster_project.ingest.contracts import ECOMMERCE_PRODUCTS

HEADER = ",".join(ECOMMERCE_PRODUCTS.columns)
DAY = "ecommerce/products_2024-03-05.csv"
# A product of three variants: Shopify fills the product's columns on its first row only.
RUNNER = (
    'trail-runner,Trail Runner,"<p>Light, quick; ""grippy"".</p>",Stride Co.,Apparel & Accessories > Shoes,Footwear,"sale, new",TRUE,'
    "Size,9,FOO-1-9,89.99,109.99,4,active\n"
    "trail-runner,,,,,,,,,10,FOO-1-10,89.99,109.99,-2,\n"
    "trail-runner,,,,,,,,,11,,89.99,,,\n"
)


def raw_products(platform) -> list[tuple]:
    return platform.query('select _extract_date::varchar, _line_number, "Handle", "Title", "Variant SKU", "Variant Inventory Qty" '
                          "from raw.ecommerce_products order by all")


def test_variant_rows_load_as_delivered_with_their_blank_product_columns(platform):
    platform.deliver(DAY, f"{HEADER}\n{RUNNER}")
    assert platform.ingest("2024-03-05", selection="raw/ecommerce_products").success
    assert raw_products(platform) == [
        ("2024-03-05", 2, "trail-runner", "Trail Runner", "FOO-1-9", "4"),
        ("2024-03-05", 3, "trail-runner", None, "FOO-1-10", "-2"),  # oversold: a negative quantity is valid
        ("2024-03-05", 4, "trail-runner", None, None, None),  # no SKU, inventory not tracked
    ]
    assert platform.query("select count(*) from raw.quarantine") == [(0,)]


def test_a_bad_price_a_flag_outside_true_false_and_a_row_without_handle_are_quarantined(platform):
    bad = ("mug,Mug,,Oakwright,,Home,,TRUE,Title,Default Title,HOM-1,\"12,99\",,3,active\n"
           "candle,Candle,,Oakwright,,Home,,1,Title,Default Title,HOM-2,8.00,,3,active\n"
           ",,,,,,,,,,HOM-3,8.00,,3,\n")
    platform.deliver(DAY, f"{HEADER}\n{RUNNER}{bad}")
    assert platform.ingest("2024-03-05", selection="raw/ecommerce_products").success
    assert platform.query("select _line_number, reason from raw.quarantine order by 1") == [
        (5, "'Variant Price' value '12,99' is not in the contract format (decimal number)"),
        (6, "'Published' value '1' is not in the contract format (TRUE or FALSE (any case))"),
        (7, "required column 'Handle' is missing or empty"),
    ]
    assert len(raw_products(platform)) == 3


def test_a_redelivered_day_replaces_its_products_and_leaves_other_days_alone(platform):
    platform.deliver(DAY, f"{HEADER}\n{RUNNER}")
    platform.deliver("ecommerce/products_2024-03-06.csv", f"{HEADER}\nmug,Mug,,Oakwright,,Home,,TRUE,Title,Default Title,HOM-1,12.00,,3,active\n")
    assert platform.ingest("2024-03-05", "2024-03-06", selection="raw/ecommerce_products").success
    # The corrected file: the runner without its last variant.
    platform.deliver(DAY, f"{HEADER}\n{''.join(RUNNER.splitlines(True)[:2])}")
    assert platform.ingest("2024-03-05", selection="raw/ecommerce_products").success
    assert [(day, line, sku) for day, line, _, _, sku, _ in raw_products(platform)] == [
        ("2024-03-05", 2, "FOO-1-9"), ("2024-03-05", 3, "FOO-1-10"), ("2024-03-06", 2, "HOM-1"),
    ]

"""What the demo shop sells: kinds of product per category, with their Shopify taxonomy path and
options, the vendors, series names and tags its products are made from."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProductKind:
    """One kind of product: every product of it shares the noun, taxonomy path and option."""

    noun: str
    taxonomy: str
    """Shopify's standard product taxonomy path; for a few kinds it names another department than
    the shop files the product under (a water bottle is drinkware to Shopify, outdoor gear here)."""
    option: str
    """Option1 Name; `Title` for a product sold in one variant (Option1 Value `Default Title`)."""
    values: tuple[str, ...]
    fewest: int = 1
    """Fewest variants of one product (at most one per value)."""
    priced_by_option: bool = False
    """Later values cost more (a 4-person tent, a king-size sheet, 100 ml)."""


_SIZES = ("XS", "S", "M", "L", "XL", "XXL")
_SHOE_SIZES = ("7", "8", "9", "10", "11", "12", "13")
_COLORS = ("Navy", "Black", "Sand", "Forest", "Grey", "Red")
_SINGLE = ("Default Title",)
_CLOTHING, _SHOES = "Apparel & Accessories > Clothing", "Apparel & Accessories > Shoes"
_CAMPING = "Sporting Goods > Outdoor Recreation > Camping & Hiking"
_DRINKWARE = "Home & Garden > Kitchen & Dining > Tableware > Drinkware"
_SKIN = "Health & Beauty > Personal Care > Cosmetics > Skin Care"
_PRINT_BOOKS = "Media > Books > Print Books"

KINDS: dict[str, tuple[ProductKind, ...]] = {
    "Apparel": (
        ProductKind("Hoodie", f"{_CLOTHING} > Clothing Tops > Hoodies", "Size", _SIZES, 4),
        ProductKind("T-Shirt", f"{_CLOTHING} > Clothing Tops > T-Shirts", "Size", _SIZES, 4),
        ProductKind("Rain Jacket", f"{_CLOTHING} > Outerwear > Coats & Jackets > Rain Coats", "Size", _SIZES, 4),
        ProductKind("Chinos", f"{_CLOTHING} > Pants > Chinos", "Waist", ("28", "30", "32", "34", "36", "38"), 4),
        ProductKind("Wool Sweater", f"{_CLOTHING} > Clothing Tops > Sweaters", "Size", _SIZES, 3),
        ProductKind("Socks, 3-Pack", f"{_CLOTHING} > Underwear & Socks > Socks", "Size", ("S/M", "L/XL"), 2),
        ProductKind("Beanie", "Apparel & Accessories > Clothing Accessories > Hats", "Color", _COLORS, 2),
    ),
    "Footwear": (
        ProductKind("Trail Runner", f"{_SHOES} > Athletic Shoes > Running Shoes", "Size", _SHOE_SIZES, 4),
        ProductKind("Leather Boot", f"{_SHOES} > Boots", "Size", _SHOE_SIZES, 4),
        ProductKind("Canvas Sneaker", f"{_SHOES} > Sneakers", "Size", _SHOE_SIZES, 4),
        ProductKind("Slipper", f"{_SHOES} > Slippers", "Size", ("S", "M", "L"), 2),
        ProductKind("Sandal", f"{_SHOES} > Sandals", "Size", _SHOE_SIZES, 3),
    ),
    "Outdoor": (
        ProductKind("Tent", f"{_CAMPING} > Tents", "Capacity", ("1-Person", "2-Person", "3-Person", "4-Person"), 1, True),
        ProductKind("Sleeping Bag", f"{_CAMPING} > Sleeping Bags", "Length", ("Regular", "Long"), 1, True),
        ProductKind("Headlamp", f"{_CAMPING} > Camping Lights & Lanterns", "Color", _COLORS[:3]),
        ProductKind("Water Bottle", f"{_DRINKWARE} > Water Bottles", "Size", ("500 ml", "750 ml", "1 l"), 1, True),
        ProductKind("Daypack", "Luggage & Bags > Backpacks", "Color", _COLORS),
        ProductKind("Camp Stove", f"{_CAMPING} > Camp Cooking Equipment > Camping Stoves", "Title", _SINGLE),
    ),
    "Home": (
        ProductKind("Throw Blanket", "Home & Garden > Linens & Bedding > Bedding > Blankets", "Color", _COLORS),
        ProductKind("Ceramic Mug", f"{_DRINKWARE} > Mugs", "Color", _COLORS[:4]),
        ProductKind("Scented Candle", "Home & Garden > Decor > Home Fragrances > Candles", "Scent",
                    ("Cedar", "Fig", "Sea Salt", "Lavender")),
        ProductKind("Linen Sheets", "Home & Garden > Linens & Bedding > Bedding > Bed Sheets", "Size",
                    ("Twin", "Full", "Queen", "King"), 3, True),
        ProductKind("Cutting Board", "Home & Garden > Kitchen & Dining > Kitchen Tools & Utensils > Cutting Boards", "Title", _SINGLE),
    ),
    "Beauty": (
        ProductKind("Face Serum", f"{_SKIN} > Facial Serums", "Size", ("15 ml", "30 ml", "50 ml"), 1, True),
        ProductKind("Lip Balm", f"{_SKIN} > Lip Balms", "Flavor", ("Mint", "Honey", "Unscented", "Berry")),
        ProductKind("Shampoo Bar", "Health & Beauty > Personal Care > Hair Care > Shampoo & Conditioner", "Scent",
                    ("Rosemary", "Citrus", "Unscented")),
        ProductKind("Hand Cream", f"{_SKIN} > Lotion & Moisturizer", "Size", ("50 ml", "100 ml"), 1, True),
        ProductKind("Gift Set, Travel Size", "Health & Beauty > Personal Care > Cosmetics > Cosmetic Sets", "Title", _SINGLE),
    ),
    "Electronics": (
        ProductKind("Wireless Earbuds", "Electronics > Audio > Audio Components > Headphones & Headsets > Headphones", "Color",
                    _COLORS[:3]),
        ProductKind("Power Bank", "Electronics > Electronics Accessories > Power > Power Banks", "Capacity",
                    ("10000 mAh", "20000 mAh"), 1, True),
        ProductKind("Bluetooth Speaker", "Electronics > Audio > Audio Components > Speakers", "Color", _COLORS[:4]),
        ProductKind("USB-C Cable", "Electronics > Electronics Accessories > Cables > USB Cables", "Length", ("1 m", "2 m"), 1, True),
        ProductKind("Smart Plug", "Electronics > Electronics Accessories > Power > Smart Plugs", "Pack",
                    ("1-Pack", "2-Pack", "4-Pack"), 1, True),
    ),
    "Kids": (
        ProductKind("Puzzle", "Toys & Games > Puzzles > Jigsaw Puzzles", "Pieces", ("100", "300", "500"), 1, True),
        ProductKind("Plush Bear", "Toys & Games > Toys > Dolls, Playsets & Toy Figures > Stuffed Animals", "Size",
                    ("Small", "Large"), 1, True),
        ProductKind("Building Blocks", "Toys & Games > Toys > Building Toys > Construction Set Toys", "Title", _SINGLE),
        ProductKind("Kids Raincoat", f"{_CLOTHING} > Baby & Toddler Clothing > Baby & Toddler Outerwear", "Age",
                    ("2-3Y", "4-5Y", "6-7Y", "8-9Y"), 3),
        # Shopify files a board book with every other printed book.
        ProductKind("Board Book", _PRINT_BOOKS, "Title", _SINGLE),
    ),
    "Books": (
        ProductKind('Cookbook "Simple Suppers"', _PRINT_BOOKS, "Format", ("Paperback", "Hardcover"), 1, True),
        ProductKind("Field Guide", _PRINT_BOOKS, "Format", ("Paperback", "Hardcover"), 1, True),
        ProductKind("Novel", _PRINT_BOOKS, "Format", ("Paperback", "Hardcover"), 1, True),
        ProductKind("Travel Atlas", _PRINT_BOOKS, "Title", _SINGLE),
        ProductKind("Journal", "Office Supplies > General Office Supplies > Paper Products > Notebooks & Notepads", "Color",
                    _COLORS[:3]),
    ),
}
CATEGORY_SHARES = {"Apparel": 0.2, "Footwear": 0.12, "Outdoor": 0.14, "Home": 0.14, "Beauty": 0.12, "Electronics": 0.1,
                   "Kids": 0.1, "Books": 0.08}
PRICE_RANGES_USD = {
    "Apparel": (12, 180), "Footwear": (30, 220), "Outdoor": (10, 450), "Home": (8, 160),
    "Beauty": (6, 90), "Electronics": (9, 300), "Kids": (7, 80), "Books": (8, 45),
}
VENDORS = {
    "Apparel": ("Northwind Outfitters", "Fieldhouse Apparel", "Loom & Pine"),
    "Footwear": ("Stride Co.", "Cobble & Last", "Northwind Outfitters"),
    "Outdoor": ("Ridgeline Gear", "Basecamp Supply", "Northwind Outfitters"),
    "Home": ("Hearth & Kiln", "Linden Home", "Oakwright"),
    "Beauty": ("Marigold Apothecary", "Clearwater Botanicals"),
    "Electronics": ("Voltaic", "Lumen Audio", "Parcel Tech"),
    "Kids": ("Little Acorn", "Puddle Jumpers", "Tinker & Tot"),
    "Books": ("Harbor Press", "Wayfarer Books"),
}
# Product lines: a product's title is its line and its noun ("Juniper Hoodie").
SERIES = (
    "Alder", "Aspen", "Basalt", "Birch", "Cascade", "Cedar", "Driftwood", "Dune", "Ember", "Estuary", "Fern", "Fjord",
    "Glacier", "Granite", "Harbor", "Heath", "Isle", "Jasper", "Juniper", "Kestrel", "Lagoon", "Larch", "Meadow", "Moss",
    "Nimbus", "North", "Oak", "Orchard", "Pebble", "Pinecrest", "Quarry", "Quill", "Ridge", "River", "Sage", "Summit",
    "Tide", "Tundra", "Umber", "Upland", "Vale", "Vista", "Willow", "Wren", "Yarrow", "Zephyr",
)
OTHER_TAGS = ("new-arrival", "bestseller", "gift", "eco", "summer", "winter", "limited", "staff-pick")
BLURBS = (
    "Made to be used every day, and to last.",
    'Our customers call it "the one they reach for first".',
    "Designed in-house, tested by our team, built by a supplier we have worked with for years.",
    "Small batch; colours may vary slightly.",
)
# Kinds one purchase leads to: a tent's buyer comes back for a sleeping bag (by kind noun).
COMPLEMENTS: dict[str, tuple[str, ...]] = {
    "Hoodie": ("Beanie", "T-Shirt"), "Rain Jacket": ("Beanie", "Daypack"), "Chinos": ("T-Shirt", "Socks, 3-Pack"),
    "Wool Sweater": ("Beanie", "Socks, 3-Pack"), "Trail Runner": ("Socks, 3-Pack", "Water Bottle"),
    "Leather Boot": ("Socks, 3-Pack", "Wool Sweater"), "Canvas Sneaker": ("Socks, 3-Pack", "T-Shirt"),
    "Tent": ("Sleeping Bag", "Camp Stove", "Headlamp"), "Sleeping Bag": ("Headlamp", "Field Guide"),
    "Camp Stove": ("Water Bottle", "Ceramic Mug"), "Daypack": ("Water Bottle", "Travel Atlas"),
    "Linen Sheets": ("Throw Blanket", "Scented Candle"), "Ceramic Mug": ('Cookbook "Simple Suppers"', "Cutting Board"),
    "Cutting Board": ('Cookbook "Simple Suppers"',), "Face Serum": ("Hand Cream", "Lip Balm"),
    "Shampoo Bar": ("Hand Cream",), "Wireless Earbuds": ("Power Bank", "USB-C Cable"),
    "Power Bank": ("USB-C Cable",), "Bluetooth Speaker": ("USB-C Cable", "Smart Plug"),
    "Puzzle": ("Building Blocks",), "Kids Raincoat": ("Board Book", "Plush Bear"), "Field Guide": ("Daypack", "Headlamp"),
    "Travel Atlas": ("Journal", "Daypack"), "Novel": ("Journal",),
}
# Consumables, re-bought about this many days after the last purchase (by kind noun).
REBUY_DAYS: dict[str, int] = {
    "Scented Candle": 60, "Face Serum": 45, "Lip Balm": 60, "Shampoo Bar": 40, "Hand Cream": 50, "Socks, 3-Pack": 120,
}

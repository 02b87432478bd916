"""The shop's product catalog and discount codes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Zero-party Interests use exactly these names, and people buy mostly from their interests.
CATEGORIES = ("Apparel", "Footwear", "Outdoor", "Home", "Beauty", "Electronics", "Kids", "Books")
_NOUNS = {
    "Apparel": ("Hoodie", "T-Shirt", "Rain Jacket", "Chinos", "Wool Sweater", "Socks, 3-Pack"),
    "Footwear": ("Trail Runner", "Leather Boot", "Canvas Sneaker", "Slipper", "Sandal"),
    "Outdoor": ("Tent", "Sleeping Bag", "Headlamp", "Water Bottle", "Daypack", "Camp Stove"),
    "Home": ("Throw Blanket", "Ceramic Mug", "Scented Candle", "Linen Sheets", "Cutting Board"),
    "Beauty": ("Face Serum", "Lip Balm", "Shampoo Bar", "Hand Cream", "Gift Set, Travel Size"),
    "Electronics": ("Wireless Earbuds", "Power Bank", "Bluetooth Speaker", "USB-C Cable", "Smart Plug"),
    "Kids": ("Puzzle", "Plush Bear", "Building Blocks", "Kids Raincoat", "Board Book"),
    "Books": ('Cookbook "Simple Suppers"', "Field Guide", "Novel", "Travel Atlas", "Journal"),
}
_VARIANTS = ("Navy", "Black", "Sand", "Forest", "Grey", "Red", "Small", "Large")
_PRICE_RANGES_USD = {
    "Apparel": (12, 180), "Footwear": (30, 220), "Outdoor": (10, 450), "Home": (8, 160),
    "Beauty": (6, 90), "Electronics": (9, 300), "Kids": (7, 80), "Books": (8, 45),
}
# (code, percent off, fixed amount off in USD, free shipping)
DISCOUNT_CODES = (
    ("WELCOME10", 10, 0, False),
    ("SPRING15", 15, 0, False),
    ("VIP20", 20, 0, False),
    ("FREESHIP", 0, 0, True),
    ("SAVE5", 0, 5, False),
)


@dataclass(frozen=True)
class Catalog:
    """Products as parallel arrays; prices in USD cents."""

    category: np.ndarray
    name: np.ndarray
    sku: np.ndarray
    price_usd_cents: np.ndarray

    def pick(self, category: np.ndarray, target_cents: np.ndarray) -> np.ndarray:
        """Index of the product of each category whose price is nearest the target."""
        result = np.zeros(len(category), dtype=np.int64)
        for code in range(len(CATEGORIES)):
            rows = np.flatnonzero(category == code)
            products = np.flatnonzero(self.category == code)
            order = np.argsort(self.price_usd_cents[products], kind="stable")
            prices = self.price_usd_cents[products][order]
            slot = np.clip(np.searchsorted(prices, target_cents[rows]), 1, len(prices) - 1)
            lower_is_nearer = target_cents[rows] - prices[slot - 1] < prices[slot] - target_cents[rows]
            result[rows] = products[order][np.where(lower_is_nearer, slot - 1, slot)]
        return result


def build_catalog(rng: np.random.Generator) -> Catalog:
    """Every noun of every category in a few variants, priced log-uniformly in its range."""
    category, names, skus, prices = [], [], [], []
    for code, label in enumerate(CATEGORIES):
        low, high = _PRICE_RANGES_USD[label]
        for noun_index, noun in enumerate(_NOUNS[label]):
            for variant_index in rng.choice(len(_VARIANTS), size=4, replace=False):
                price = np.exp(rng.uniform(np.log(low), np.log(high)))
                category.append(code)
                names.append(f"{noun} - {_VARIANTS[variant_index]}")
                skus.append(f"{label[:3].upper()}-{noun_index:02d}{variant_index:02d}")
                # Shop prices end in .99 or .00.
                prices.append(int(price) * 100 + (99 if rng.random() < 0.7 else 0))
    return Catalog(np.array(category), np.array(names, dtype=object), np.array(skus, dtype=object),
                   np.array(prices, dtype=np.int64))

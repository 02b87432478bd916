"""The shop's product catalog, its products launched and archived over the simulated years, and discount codes."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from dagster_project.demo_exports.catalog_vocabulary import BLURBS, CATEGORY_SHARES, KINDS, OTHER_TAGS, PRICE_RANGES_USD, SERIES, VENDORS, ProductKind
from dagster_project.demo_exports.timeline import Timeline

# Zero-party Interests use exactly these names, and people buy mostly from their interests.
CATEGORIES = ("Apparel", "Footwear", "Outdoor", "Home", "Beauty", "Electronics", "Kids", "Books")
# (code, percent off, fixed amount off in USD, free shipping)
DISCOUNT_CODES = (
    ("WELCOME10", 10, 0, False),
    ("SPRING15", 15, 0, False),
    ("VIP20", 20, 0, False),
    ("FREESHIP", 0, 0, True),
    ("SAVE5", 0, 5, False),
)
DEFAULT_CATALOG_SKUS = 2_000  # variants sold over the simulated years
LAUNCHED_BEFORE_WINDOW = 0.8  # the rest launch evenly over the window and the year after it
MEAN_LIFETIME_DAYS = 4 * 365  # from launch to archive, exponential
UNEXPORTED_SHARE = 0.004  # sold, but never in the products export (a channel it does not cover)
NO_SKU_SHARE = 0.005  # variants without a SKU: never sold by SKU
UNTRACKED_SHARE = 0.07  # products whose inventory is not tracked
HIDDEN_SHARE = 0.02  # active but not published to the online store
_KINDS = [(code, kind) for code, label in enumerate(CATEGORIES) for kind in KINDS[label]]


@dataclass(frozen=True)
class Catalog:
    """Products (one entry per handle) and their variants (one per SKU), as parallel arrays.
    Prices are in USD cents, the shop's currency; days are simulation days."""

    category: np.ndarray
    handle: np.ndarray
    title: np.ndarray
    body_html: np.ndarray
    vendor: np.ndarray
    product_type: np.ndarray
    tags: np.ndarray
    taxonomy: np.ndarray
    option_name: np.ndarray
    popularity: np.ndarray
    created_day: np.ndarray
    """The product is created as a draft this day, and launched (made active) on `launch_day`."""
    launch_day: np.ndarray
    archive_day: np.ndarray
    """Day it is archived; the simulation's length when it never is."""
    is_tracked: np.ndarray
    is_hidden: np.ndarray
    in_export: np.ndarray
    variant_product: np.ndarray
    option_value: np.ndarray
    sku: np.ndarray
    """None for a variant without a SKU."""
    base_price_cents: np.ndarray
    """The variant's price at launch, before any price change or sale."""
    sales_weight: np.ndarray
    """How often the variant is chosen, relative to others (the product's popularity times its share)."""
    kind_noun: np.ndarray
    """Per product, the kind it is (`Tent`): complements and re-buy cycles are per kind."""
    series: np.ndarray
    """Per product, its product line (`Juniper`): products of one line share a style."""

    def line_item_name(self, variant: np.ndarray) -> np.ndarray:
        """Shopify's `Lineitem name`: the title, then the option value unless the product has one variant."""
        product = self.variant_product[variant]
        single = self.option_name[product] == "Title"
        return np.where(single, self.title[product], self.title[product] + " - " + self.option_value[variant])


def skip_former_catalog_draws(rng: np.random.Generator) -> None:
    """Take and drop the draws the catalog made from the main stream before it had a stream of its
    own (42 products of four variants): every seed keeps generating the people, contacts, emails and
    tickets it did before, which tests and the published evaluation figures are calibrated on."""
    for _ in range(42):
        rng.choice(8, size=4, replace=False)
        rng.random(8)


def shop_price(cents: np.ndarray, ends_in_99: np.ndarray) -> np.ndarray:
    """A price as the shop writes it: whole dollars ending in .99 or .00, at least 1.00."""
    dollars = np.maximum(np.floor(np.asarray(cents) / 100), 1).astype(np.int64)
    return dollars * 100 + np.where(ends_in_99, 99, 0)


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def _handles(titles: list[str]) -> list[str]:
    """URL handles, unique as Shopify makes them: a repeated title's handle gets `-2`, `-3`."""
    seen: dict[str, int] = {}
    handles = []
    for title in titles:
        base = _slug(title)
        seen[base] = seen.get(base, 0) + 1
        handles.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return handles


def _describe(kind: ProductKind, code: int, vendor: str, rng: np.random.Generator) -> tuple[str, str, str, str]:
    """Type, tags, taxonomy and body of one product, with the gaps real catalogs have."""
    label = CATEGORIES[code]
    u = rng.random(4)
    product_type = label if u[0] < 0.25 else (re.split(r'[,"]', kind.noun)[0].strip() if u[0] < 0.8 else "")
    tags = list(rng.choice(OTHER_TAGS, size=int(rng.binomial(2, 0.4)), replace=False)) + ([label.lower()] if u[1] < 0.6 else [])
    taxonomy = "" if u[2] < 0.12 else kind.taxonomy
    body = "" if u[3] < 0.15 else f"<p>{BLURBS[int(rng.integers(len(BLURBS)))]}</p>"
    if body and rng.random() < 0.2:
        body += f"\n<ul><li>By {vendor}</li><li>Care: see the label</li></ul>"
    return product_type, ", ".join(rng.permutation(tags)) if tags else "", taxonomy, body


def _kinds_and_variant_counts(skus: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Category, kind and variant count of each product, for `skus` variants in all."""
    shares = np.array([CATEGORY_SHARES[label] for label in CATEGORIES])
    category = rng.choice(len(CATEGORIES), size=skus, p=shares / shares.sum())
    category[: len(CATEGORIES)] = np.arange(len(CATEGORIES))  # every category has products
    first_kind = np.searchsorted([code for code, _ in _KINDS], np.arange(len(CATEGORIES)))
    kind_count = np.bincount([code for code, _ in _KINDS])
    kind = first_kind[category] + (rng.random(skus) * kind_count[category]).astype(np.int64)
    counts = np.array([int(rng.integers(_KINDS[k][1].fewest, len(_KINDS[k][1].values) + 1)) for k in kind])
    n = int(np.searchsorted(np.cumsum(counts), skus)) + 1
    counts = counts[:n]
    counts[-1] -= int(counts.sum()) - skus
    return category[:n], kind[:n], counts


def _lifecycles(n: int, timeline: Timeline, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Day each product is created as a draft, launched, and archived (the simulation's length: never)."""
    launch = np.where(rng.random(n) < LAUNCHED_BEFORE_WINDOW, rng.integers(0, timeline.first_window_day, size=n),
                      rng.integers(timeline.first_window_day, timeline.total_days, size=n))
    archive = np.minimum(launch + np.ceil(rng.exponential(MEAN_LIFETIME_DAYS, size=n)).astype(np.int64), timeline.total_days)
    return np.maximum(launch - rng.integers(2, 15, size=n), 0), launch, archive


def build_catalog(skus: int, timeline: Timeline, rng: np.random.Generator) -> Catalog:
    """Products of every kind until there are `skus` variants, each with a life from draft to archive."""
    if skus < len(CATEGORIES):
        raise ValueError(f"the catalog needs at least one SKU per category ({len(CATEGORIES)}), got {skus}")
    category, kind, counts = _kinds_and_variant_counts(skus, rng)
    n = len(kind)
    series = rng.choice(SERIES, size=n)
    titles = [f"{s} {_KINDS[k][1].noun}" for s, k in zip(series, kind)]
    vendors = [str(rng.choice(VENDORS[CATEGORIES[c]])) for c in category]
    described = [_describe(_KINDS[k][1], c, v, rng) for k, c, v in zip(kind, category, vendors)]
    low, high = np.array([PRICE_RANGES_USD[label] for label in CATEGORIES]).T
    price = np.exp(rng.uniform(np.log(low[category]), np.log(high[category]))) * 100
    ends_in_99 = rng.random(n) < 0.7
    created, launch, archive = _lifecycles(n, timeline, rng)
    popularity = rng.lognormal(0.0, 1.3, size=n)
    # Products of the other channel are niche ones, on sale all along: their lines stay a rare sight.
    niche = np.flatnonzero((launch < timeline.first_window_day) & (archive >= timeline.total_days) & (popularity < np.median(popularity)))
    unexported = rng.choice(niche, size=min(len(niche), max(1, round(UNEXPORTED_SHARE * n))), replace=False)
    in_export = ~np.isin(np.arange(n), unexported)
    variant_product = np.repeat(np.arange(n), counts)
    position = np.arange(len(variant_product)) - np.repeat(np.cumsum(counts) - counts, counts)
    start = np.repeat([int(rng.integers(0, len(_KINDS[k][1].values) - c + 1)) for k, c in zip(kind, counts)], counts)
    kinds = [_KINDS[k][1] for k in kind[variant_product]]
    step = np.array([0.3 if k.priced_by_option else 0.0 for k in kinds]) * position
    width = max(4, len(str(n)))
    sku = np.array([f"{CATEGORIES[category[p]][:3].upper()}-{p + 1:0{width}d}-{j + 1:02d}"
                    for p, j in zip(variant_product, position)], dtype=object)
    sku[(rng.random(len(sku)) < NO_SKU_SHARE) & in_export[variant_product]] = None
    share = rng.gamma(2.0, 1.0, size=len(sku))
    share /= np.bincount(variant_product, weights=share)[variant_product]
    return Catalog(
        category=category, handle=np.array(_handles(titles), dtype=object), title=np.array(titles, dtype=object),
        body_html=np.array([d[3] for d in described], dtype=object), vendor=np.array(vendors, dtype=object),
        product_type=np.array([d[0] for d in described], dtype=object), tags=np.array([d[1] for d in described], dtype=object),
        taxonomy=np.array([d[2] for d in described], dtype=object),
        option_name=np.array([_KINDS[k][1].option for k in kind], dtype=object), popularity=popularity,
        created_day=created, launch_day=launch, archive_day=archive,
        is_tracked=rng.random(n) >= UNTRACKED_SHARE, is_hidden=rng.random(n) < HIDDEN_SHARE, in_export=in_export,
        variant_product=variant_product,
        option_value=np.array([k.values[s + j] for k, s, j in zip(kinds, start, position)], dtype=object), sku=sku,
        base_price_cents=shop_price(price[variant_product] * (1 + step), ends_in_99[variant_product]),
        sales_weight=popularity[variant_product] * share,
        kind_noun=np.array([_KINDS[k][1].noun for k in kind], dtype=object), series=np.asarray(series, dtype=object),
    )

"""Who an order says bought it: email (or none), billing name, address, phone, marketing consent, tags.

Guest and point-of-sale orders have no email and can only be tied to a person through the
billing name, phone and address, which are typed a little differently each time.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from dagster_project.demo_exports.identities import addresses_at
from dagster_project.demo_exports.name_noise import NameNoise, distort_names
from dagster_project.demo_exports.nicknames import NICKNAMES
from dagster_project.demo_exports.record_corruption import RecordCorruption, corrupt_names, corrupt_streets, merge_tags, name_slip_tags

_BILLING_NOISE = NameNoise(typo=0.015, nickname=0.08, accent=0.05, case=0.05, whitespace=0.03)
_STAFF = (("Dana", "Whitfield"), ("Marco", "Lindqvist"), ("Priya", "Natarajan"))
SHOP_DOMAIN = "cxp-demo-shop.com"


def shop_emails(people: pl.DataFrame) -> np.ndarray:
    """Per person, the address they give at checkout."""
    # A fifth of people shop under their other address, consistently.
    uses_alternative = (people["person_index"].to_numpy() * 7919 + 13) % 5 == 0
    return np.where(uses_alternative, people["alternative_email"].to_numpy(), people["email"].to_numpy())


def _emails(people: pl.DataFrame, person: np.ndarray, source: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n = len(person)
    email = shop_emails(people)[np.maximum(person, 0)]
    guest = np.where(source == "pos", rng.random(n) < 0.55, rng.random(n) < 0.04)
    return np.where(guest, "", email)


def attach_buyers(orders: pl.DataFrame, people: pl.DataFrame, rng: np.random.Generator,
                  corruption: RecordCorruption = RecordCorruption(),
                  slip_rng: np.random.Generator | None = None) -> pl.DataFrame:
    """Add the buyer-facing columns to the order headers; `slip_rng` draws the slips of
    `corruption` (names, streets, postcodes), tagged per order in `corruptions`."""
    n = orders.height
    person = orders["person_index"].to_numpy()
    is_test = person < 0
    buyer = np.maximum(person, 0)
    created_at = orders["created_at"].to_numpy()
    source = orders["source"].to_numpy()
    email = _emails(people, person, source, rng)
    staff = rng.integers(0, len(_STAFF), size=n)
    staff_first = np.array([_STAFF[s][0] for s in staff], dtype=object)
    staff_last = np.array([_STAFF[s][1] for s in staff], dtype=object)
    email = np.where(is_test, [f"{f.lower()}@{SHOP_DOMAIN}" for f in staff_first], email)
    true_first, true_last = people["first_name"].to_numpy()[buyer], people["last_name"].to_numpy()[buyer]
    first, last = distort_names(true_first, true_last, _BILLING_NOISE, rng)
    slip_rng = slip_rng or np.random.default_rng(0)
    typed = name_slip_tags(true_first, true_last, first, last, NICKNAMES)
    names = corrupt_names(first, last, corruption, slip_rng)
    first, last = names.first, names.last
    first = np.where(is_test, staff_first, first)
    last = np.where(is_test, staff_last, last)
    name = np.array([f"{given} {family}".strip() for given, family in zip(first, last)], dtype=object)
    card_name = (source == "pos") & (rng.random(n) < 0.4)
    name = np.where(card_name, [s.upper() for s in name], name)
    address = addresses_at(people, buyer, created_at)
    address["street"], address["postcode"], address_tags = corrupt_streets(
        address["street"], address["postcode"], corruption, slip_rng)
    moved_at = people["moved_at"].to_numpy()[buyer]
    # Point-of-sale receipts often skip the address.
    no_address = ((source == "pos") & (rng.random(n) < 0.4)) | is_test
    with_apartment = [f"{s}, {a}" for s, a in zip(address["street"], address["apartment"])]
    street = np.where(address["apartment"] != "", with_apartment, address["street"])
    style = rng.integers(0, 4, size=n)
    phones = np.stack([people[f"phone_style_{k}"].to_numpy()[buyer] for k in range(4)], axis=1)
    phone = np.where((rng.random(n) < 0.35) | is_test, "", phones[np.arange(n), style])
    consent_stops = people["email_opt_out_at"].to_numpy()[buyer]
    consenting = (consent_stops < 0) | (created_at < consent_stops)
    in_crm = people["in_crm"].to_numpy()[buyer]
    accepts = (email != "") & ~is_test & consenting & (rng.random(n) < np.where(in_crm, 0.65, 0.35))
    vip = people["spend_mean_usd"].to_numpy()[buyer] > 150
    tag_draw = rng.random(n)
    tags = np.select(
        [is_test & (tag_draw < 0.5), is_test, vip & (tag_draw < 0.5), tag_draw > 0.97, tag_draw > 0.965],
        ["test", "test, internal", "vip", "gift", "wholesale, net30"], "")

    def blank(values: np.ndarray) -> np.ndarray:
        return np.where(no_address, "", values)

    return orders.with_columns(
        pl.Series("email", email, dtype=pl.String),
        pl.Series("accepts_marketing", accepts),
        pl.Series("billing_name", name, dtype=pl.String),
        pl.Series("billing_street", blank(street), dtype=pl.String),
        pl.Series("billing_city", blank(address["city"]), dtype=pl.String),
        pl.Series("billing_zip", blank(address["postcode"]), dtype=pl.String),
        pl.Series("billing_province", blank(address["province"]), dtype=pl.String),
        pl.Series("billing_country_shown", np.where(no_address & ~is_test, "", orders["billing_country"].to_numpy()),
                  dtype=pl.String),
        pl.Series("billing_phone", phone, dtype=pl.String),
        pl.Series("tags", tags, dtype=pl.String),
        pl.Series("corruptions", np.where(is_test, "", merge_tags(typed, names.tags, [
            t if not blank else set() for t, blank in zip(address_tags, no_address)])), dtype=pl.String),
        pl.Series("shows_new_address", ~is_test & ~no_address & (moved_at >= 0) & (created_at >= moved_at)),
    )

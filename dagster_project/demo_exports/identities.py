"""True identities: names, emails, phones, addresses, households, shared mailboxes and moves."""

from __future__ import annotations

import numpy as np
import polars as pl

from dagster_project.demo_exports.contact_formats import draw_emails, draw_national_numbers, make_unique, phone_variants
from dagster_project.demo_exports.name_pools import COUNTRIES, CountryPool, draw_company_names
from dagster_project.demo_exports.timeline import Timeline

HOUSEHOLD_SHARE = 0.07
SHARED_MAILBOX_SHARE = 0.012
MOVER_SHARE = 0.10
ADDRESS_FIELDS = ("street", "apartment", "city", "province", "postcode")
_MAILBOXES = ("info", "office", "contact", "hello", "admin")


def _draw_addresses(country: np.ndarray, pools: dict[str, CountryPool],
                    rng: np.random.Generator) -> dict[str, np.ndarray]:
    n = len(country)
    out = {field: np.full(n, "", dtype=object) for field in ADDRESS_FIELDS}
    for code in COUNTRIES:
        rows = np.flatnonzero(country == code)
        pool = pools[code]
        number = rng.integers(1, 9999 if code in ("US", "CA") else 180, size=len(rows))
        street = pool.street_names[rng.integers(0, len(pool.street_names), size=len(rows))]
        out["street"][rows] = [f"{s} {k}" if code == "DE" else f"{k} {s}" for s, k in zip(street, number)]
        if len(pool.apartments):
            apartment = pool.apartments[rng.integers(0, len(pool.apartments), size=len(rows))]
            out["apartment"][rows] = np.where(rng.random(len(rows)) < 0.15, apartment, "")
        place = rng.integers(0, len(pool.cities), size=len(rows))
        out["city"][rows] = pool.cities[place]
        out["province"][rows] = pool.provinces[place]
        out["postcode"][rows] = pool.postcodes[place]
    return out


def _form_households(country: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Household head of each person (-1 when living alone); heads point at themselves."""
    n = len(country)
    member = rng.random(n) < HOUSEHOLD_SHARE
    household = np.full(n, -1, dtype=np.int64)
    for code in COUNTRIES:
        members = np.flatnonzero(member & (country == code))
        candidates = np.flatnonzero(~member & (country == code))
        if len(members) == 0 or len(candidates) == 0:
            continue
        heads = candidates[rng.integers(0, len(candidates), size=len(members))]
        household[members] = heads
        household[heads] = heads
    return household


def _share_mailboxes(email: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Groups of two to four colleagues who all write from one generic company address."""
    sharers = np.flatnonzero(rng.random(len(email)) < SHARED_MAILBOX_SHARE)
    sharers = sharers[rng.permutation(len(sharers))]
    sizes = rng.integers(2, 5, size=len(sharers) + 1)
    companies = draw_company_names(len(sizes), rng)
    shared = np.zeros(len(email), dtype=bool)
    start, group = 0, 0
    while start + 1 < len(sharers):
        members = sharers[start : start + sizes[group]]
        company = "".join(ch for ch in companies[group].lower() if ch.isalpha())
        email[members] = f"{_MAILBOXES[group % len(_MAILBOXES)]}@{company}-{group + 1}.com"
        shared[members] = True
        start, group = start + len(members), group + 1
    return shared


def assign_identities(people: pl.DataFrame, pools: dict[str, CountryPool], timeline: Timeline,
                      rng: np.random.Generator) -> pl.DataFrame:
    """Add each person's true name, contact details, household and one possible move."""
    n = people.height
    country = people["country"].to_numpy().astype(object)
    first = np.empty(n, dtype=object)
    last = np.empty(n, dtype=object)
    for code in COUNTRIES:
        rows = np.flatnonzero(country == code)
        first[rows] = pools[code].first_names.draw(rng, len(rows))
        last[rows] = pools[code].last_names.draw(rng, len(rows))
    address = _draw_addresses(country, pools, rng)
    phone = draw_national_numbers(country, rng)
    household = _form_households(country, rng)
    members = np.flatnonzero((household >= 0) & (household != np.arange(n)))
    heads = household[members]
    keeps_name = rng.random(len(members)) < 0.85
    last[members] = np.where(keeps_name, last[heads], last[members])
    for field in ADDRESS_FIELDS:
        address[field][members] = address[field][heads]
    shares_phone = rng.random(len(members)) < 0.5
    phone[members[shares_phone]] = phone[heads[shares_phone]]
    email = make_unique(draw_emails(first, last, country, rng))
    alternative = make_unique(draw_emails(first, last, country, rng), taken=dict.fromkeys(email, 0))
    personal = email.copy()
    shared = _share_mailboxes(email, rng)
    # People behind a shared mailbox still have a personal address for their own sign-ups.
    alternative[shared] = personal[shared]
    acquired_at = people["acquired_at"].to_numpy()
    mover = rng.random(n) < MOVER_SHARE
    moved_at = acquired_at + (rng.random(n) * (timeline.future_end_epoch - acquired_at)).astype(np.int64)
    new_address = _draw_addresses(country, pools, rng)
    written = [phone_variants(number, code) for number, code in zip(phone, country)]
    return people.with_columns(
        pl.Series("first_name", first, dtype=pl.String),
        pl.Series("last_name", last, dtype=pl.String),
        pl.Series("email", email, dtype=pl.String),
        pl.Series("alternative_email", alternative, dtype=pl.String),
        pl.Series("email_is_shared", shared),
        pl.Series("phone_national", phone, dtype=pl.String),
        *(pl.Series(f"phone_style_{k}", [w[k] for w in written], dtype=pl.String) for k in range(4)),
        pl.Series("household_head", household),
        *(pl.Series(field, address[field], dtype=pl.String) for field in ADDRESS_FIELDS),
        pl.Series("moved_at", np.where(mover, moved_at, -1)),
        *(pl.Series(f"new_{field}", new_address[field], dtype=pl.String) for field in ADDRESS_FIELDS),
    )


def addresses_at(people: pl.DataFrame, person: np.ndarray, at: np.ndarray) -> dict[str, np.ndarray]:
    """Each person's address at the given times, after a move if they had moved by then."""
    moved_at = people["moved_at"].to_numpy()[person]
    moved = (moved_at >= 0) & (at >= moved_at)
    return {
        field: np.where(moved, people[f"new_{field}"].to_numpy()[person], people[field].to_numpy()[person])
        for field in ADDRESS_FIELDS
    }

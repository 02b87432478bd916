"""Salesforce contacts: one primary contact per CRM person plus the duplicates real CRMs collect.

About 8% of people get one or two more contacts: a re-sign-up under another address, a row
from a purchased list, or a record typed by hand with a typo. Some duplicates are later
deleted as losers of a manual merge.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from dagster_project.demo_exports.contact_formats import FIRST_INVALID_KIND, distort_email
from dagster_project.demo_exports.name_noise import NameNoise, distort_names, one_character_edit
from dagster_project.demo_exports.nicknames import NICKNAMES
from dagster_project.demo_exports.record_corruption import (
    RecordCorruption,
    corrupt_birthdates,
    corrupt_names,
    corrupt_streets,
    merge_tags,
    name_slip_tags,
)
from dagster_project.demo_exports.timeline import SECONDS_PER_DAY, Timeline

KINDS = ("primary", "resignup", "purchased_list", "typo")
DUPLICATE_SHARE = 0.10
MERGED_SHARE = 0.35
_NOISE = {
    "primary": NameNoise(typo=0.005, accent=0.03, case=0.04, whitespace=0.03),
    "resignup": NameNoise(nickname=0.45, accent=0.1, case=0.05, whitespace=0.05),
    "purchased_list": NameNoise(typo=0.02, case=1.0),
    "typo": NameNoise(typo=1.0, whitespace=0.05),
}


def _days(rng: np.random.Generator, low: float, high: float, size: int) -> np.ndarray:
    return (rng.uniform(low, high, size=size) * SECONDS_PER_DAY).astype(np.int64)


def _contact_people(people: pl.DataFrame, timeline: Timeline, rng: np.random.Generator) -> pl.DataFrame:
    """Person, kind and creation time of every contact created by the end of the window."""
    crm = np.flatnonzero(people["in_crm"].to_numpy())
    acquired_at = people["acquired_at"].to_numpy()
    duplicated = crm[rng.random(len(crm)) < DUPLICATE_SHARE]
    extra = np.repeat(duplicated, 1 + (rng.random(len(duplicated)) < 0.3))
    kind = rng.choice([1, 2, 3], p=[0.45, 0.30, 0.25], size=len(extra))
    span = (timeline.window_end_epoch - timeline.sim_start_epoch) / SECONDS_PER_DAY
    created = np.select(
        [kind == 1, kind == 2],
        [acquired_at[extra] + _days(rng, 20, 500, len(extra)),
         timeline.sim_start_epoch + _days(rng, 0, span, len(extra))],
        acquired_at[extra] + _days(rng, 0.1, 120, len(extra)),
    )
    frame = pl.DataFrame({
        "person_index": np.concatenate([crm, extra]),
        "kind": np.concatenate([np.zeros(len(crm), dtype=np.int64), kind]),
        "created_at": np.concatenate([acquired_at[crm], created]),
    })
    return frame.filter(pl.col("created_at") < timeline.window_end_epoch)


def _emails(kind: np.ndarray, canonical: np.ndarray, alternative: np.ndarray,
            rng: np.random.Generator) -> np.ndarray:
    n = len(kind)
    u = rng.random(n)
    variant = rng.integers(0, 1 << 30, size=n)
    where = rng.random(n)
    email = canonical.copy()
    for i in range(n):
        if kind[i] == 0:
            if u[i] < 0.03:
                email[i] = ""
            elif u[i] < 0.04:
                email[i] = distort_email(canonical[i], FIRST_INVALID_KIND + variant[i] % 4)
            elif u[i] < 0.10:
                email[i] = distort_email(canonical[i], variant[i] % FIRST_INVALID_KIND)
        elif kind[i] == 1:
            email[i] = alternative[i]
        elif kind[i] == 2:
            email[i] = "" if u[i] < 0.3 else (alternative[i] if u[i] < 0.5 else canonical[i].upper())
        else:
            local, _, domain = canonical[i].partition("@")
            typo = one_character_edit(local, int(variant[i] % 4), float(where[i]), int(variant[i] // 4 % 26))
            email[i] = f"{typo}@{domain}"
    return email


def _slips(people: pl.DataFrame, person: np.ndarray, first: np.ndarray, last: np.ndarray,
           corruption: RecordCorruption, slip_rng: np.random.Generator) -> dict[str, np.ndarray | list]:
    """Each contact's names, birthdate and addresses as typed, with the tags of every slip. The
    same slips apply to the address a contact shows before and after its person moves."""
    true_first, true_last = people["first_name"].to_numpy()[person], people["last_name"].to_numpy()[person]
    typed = name_slip_tags(true_first, true_last, first, last, NICKNAMES)
    names = corrupt_names(first, last, corruption, slip_rng)
    birthdate, birthdate_tags = corrupt_birthdates(people["birthdate"].to_numpy()[person], corruption, slip_rng)
    state = slip_rng.bit_generator.state
    street, postcode, address_tags = corrupt_streets(
        people["street"].to_numpy()[person], people["postcode"].to_numpy()[person], corruption, slip_rng)
    after = slip_rng.bit_generator.state
    slip_rng.bit_generator.state = state
    new_street, new_postcode, _ = corrupt_streets(
        people["new_street"].to_numpy()[person], people["new_postcode"].to_numpy()[person], corruption, slip_rng)
    slip_rng.bit_generator.state = after
    return {
        "first_name": names.first, "last_name": names.last, "birthdate_shown": birthdate,
        "street_shown": street, "postcode_shown": postcode, "new_street_shown": new_street,
        "new_postcode_shown": new_postcode, "corruptions": merge_tags(typed, names.tags, birthdate_tags, address_tags),
    }


def build_contacts(people: pl.DataFrame, timeline: Timeline, rng: np.random.Generator,
                   corruption: RecordCorruption = RecordCorruption(),
                   slip_rng: np.random.Generator | None = None) -> pl.DataFrame:
    """Contacts with how each was typed in, and when its consent, merge and preference changes happen.

    `slip_rng` draws the slips of `corruption` apart from `rng`, so their rates can change without
    changing anything else the demo draws."""
    contacts = _contact_people(people, timeline, rng).sort(["created_at", "person_index", "kind"])
    n = contacts.height
    person = contacts["person_index"].to_numpy()
    kind = contacts["kind"].to_numpy()
    created = contacts["created_at"].to_numpy()
    first = np.empty(n, dtype=object)
    last = np.empty(n, dtype=object)
    for code, label in enumerate(KINDS):
        rows = np.flatnonzero(kind == code)
        first[rows], last[rows] = distort_names(people["first_name"].to_numpy()[person[rows]],
                                                people["last_name"].to_numpy()[person[rows]], _NOISE[label], rng)
    slips = _slips(people, person, first, last, corruption, slip_rng or np.random.default_rng(0))
    email = _emails(kind, people["email"].to_numpy()[person], people["alternative_email"].to_numpy()[person], rng)
    primary = kind == 0
    style = rng.integers(0, 4, size=n)
    phones = np.stack([people[f"phone_style_{k}"].to_numpy()[person] for k in range(4)], axis=1)
    no_phone = rng.random(n) < np.where(primary, 0.15, 0.4)
    merged = ~primary & (rng.random(n) < MERGED_SHARE)
    deleted_at = np.where(merged, created + _days(rng, 1, 200, n), -1)
    preference_at = np.where(primary & (rng.random(n) < 0.10), created + _days(rng, 1, 400, n), -1)
    lead = np.select([kind == 1, kind == 2, kind == 3], ["Web", "Purchased List", "Phone Inquiry"],
                     people["lead_source"].to_numpy()[person])
    ids = 1_000_000 + np.cumsum(rng.integers(1, 5000, size=n))
    return contacts.with_columns(
        pl.Series("contact_number", ids),
        pl.Series("first_name", slips.pop("first_name"), dtype=pl.String),
        pl.Series("last_name", slips.pop("last_name"), dtype=pl.String),
        pl.Series("birthdate_shown", slips.pop("birthdate_shown")),
        *(pl.Series(name, values, dtype=pl.String) for name, values in slips.items()),
        pl.Series("email", email, dtype=pl.String),
        pl.Series("phone", np.where(no_phone, "", phones[np.arange(n), style]), dtype=pl.String),
        pl.Series("country_as_code", rng.random(n) < 0.5),
        pl.Series("shows_birthdate", people["birthdate_known"].to_numpy()[person] & (primary | (rng.random(n) < 0.4))),
        pl.Series("lead_source", lead, dtype=pl.String),
        pl.Series("email_opt_out_at", np.where(primary, people["email_opt_out_at"].to_numpy()[person], -1)),
        pl.Series("personalization_opt_out_at",
                  np.where(primary, people["personalization_opt_out_at"].to_numpy()[person], -1)),
        pl.Series("deleted_at", deleted_at),
        pl.Series("preference_change_at", preference_at),
        pl.Series("new_channel", rng.choice(np.array(["Email", "SMS", "Phone", "None"]), size=n), dtype=pl.String),
    )

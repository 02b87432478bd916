"""Salesforce Contacts report rows: a delta of contacts created or modified on each extract day.

The first extract also carries every contact created before the window, as an initial load
would, each in its state at the window start.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from dagster_project.demo_exports.delivery import DeliverySchedule
from dagster_project.demo_exports.formats import salesforce_date, salesforce_time
from dagster_project.demo_exports.identities import addresses_at
from dagster_project.demo_exports.name_pools import COUNTRY_NAMES
from dagster_project.demo_exports.population import interests_text
from dagster_project.demo_exports.timeline import SECONDS_PER_DAY, Timeline

CONTACT_COLUMNS = [
    "Contact ID", "First Name", "Last Name", "Email", "Phone", "Mailing Street", "Mailing City",
    "Mailing State/Province", "Mailing Zip/Postal Code", "Mailing Country", "Birthdate", "Lead Source",
    "Preferred Channel", "Interests", "Email Opt Out", "Personalization Opt Out", "Created Date",
    "Last Modified Date", "Is Deleted",
]
# A column someone added to the report part-way through the window.
EXTRA_COLUMN = "Title"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_CHECKSUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_TITLES = ("", "", "", "", "Owner", "Manager", "Director, Sales", "VP Marketing")


def salesforce_id(number: int) -> str:
    """An 18-character contact id: key prefix 003, a base-62 body, and Salesforce's case checksum."""
    body = ""
    while number:
        number, digit = divmod(number, 62)
        body = _BASE62[digit] + body
    short = "0035g" + body.rjust(10, "0")
    suffix = "".join(
        _CHECKSUM[sum(1 << i for i, char in enumerate(short[start : start + 5]) if char.isupper())]
        for start in (0, 5, 10)
    )
    return short + suffix


def _change_times(contacts: pl.DataFrame, people: pl.DataFrame, timeline: Timeline,
                  rng: np.random.Generator) -> pl.DataFrame:
    """(contact row, time) of creation and of every later modification up to the window end."""
    row = np.arange(contacts.height)
    created = contacts["created_at"].to_numpy()
    moved_at = people["moved_at"].to_numpy()[contacts["person_index"].to_numpy()]
    moves = np.where((contacts["kind"].to_numpy() == 0) & (moved_at > created), moved_at, -1)
    # Edits that touch fields outside the report still bump Last Modified Date.
    years = (timeline.window_end_epoch - created) / (365 * SECONDS_PER_DAY)
    touches = rng.poisson(0.5 * years)
    touch_row = np.repeat(row, touches)
    touch_at = created[touch_row] + (rng.random(len(touch_row)) * (timeline.window_end_epoch - created[touch_row]))
    parts = [(row, created)] + [
        (row[times >= 0], times[times >= 0])
        for times in (contacts[c].to_numpy() for c in
                      ("email_opt_out_at", "personalization_opt_out_at", "deleted_at", "preference_change_at"))
    ] + [(row[moves >= 0], moves[moves >= 0]), (touch_row, touch_at.astype(np.int64))]
    changes = pl.DataFrame({"row": np.concatenate([p[0] for p in parts]), "at": np.concatenate([p[1] for p in parts])})
    return changes.filter(pl.col("at") < timeline.window_end_epoch)


def contact_rows(contacts: pl.DataFrame, people: pl.DataFrame, timeline: Timeline, schedule: DeliverySchedule,
                 erased_at: np.ndarray, rng: np.random.Generator) -> pl.DataFrame:
    """Report rows with their `extract_offset`: each contact's last version of each extract day."""
    changes = _change_times(contacts, people, timeline, rng)
    person_of_row = contacts["person_index"].to_numpy()
    cutoff = erased_at[person_of_row[changes["row"].to_numpy()]]
    changes = changes.filter(pl.Series((cutoff < 0) | (changes["at"].to_numpy() <= cutoff)))
    offsets = schedule.extract_offset("crm", np.maximum(timeline.window_offset(changes["at"].to_numpy()), 0))
    versions = (
        changes.with_columns(pl.Series("extract_offset", offsets))
        .sort(["row", "at"])
        .unique(subset=["row", "extract_offset"], keep="last", maintain_order=True)
    )
    row, at = versions["row"].to_numpy(), versions["at"].to_numpy()
    c = {name: contacts[name].to_numpy()[row] for name in contacts.columns}
    person, primary = c["person_index"], c["kind"] == 0
    address_at = np.where(primary, at, c["created_at"])
    address = addresses_at(people, person, address_at)
    # The contact's own typing of its person's address (see crm_contacts._slips), before or after a move.
    moved_at = people["moved_at"].to_numpy()[person]
    moved = (moved_at >= 0) & (address_at >= moved_at)
    shown_street = np.where(moved, c["new_street_shown"], c["street_shown"])
    address["postcode"] = np.where(moved, c["new_postcode_shown"], c["postcode_shown"])
    street = np.where(address["apartment"] != "",
                      [f"{s}\n{a}" for s, a in zip(shown_street, address["apartment"])], shown_street)
    country = people["country"].to_numpy()[person]
    changed_preferences = (c["preference_change_at"] >= 0) & (at >= c["preference_change_at"])
    states_interests = people["states_interests"].to_numpy()[person] | changed_preferences
    masks = people["stated_interest_mask"].to_numpy()[person]

    def flag(times: np.ndarray) -> np.ndarray:
        return np.where((times >= 0) & (at >= times), "1", "0")

    frame = pl.DataFrame({
        "extract_offset": versions["extract_offset"].to_numpy(), "at": at, "person_index": person,
        "Contact ID": [salesforce_id(int(k)) for k in c["contact_number"]],
        "First Name": c["first_name"], "Last Name": c["last_name"], "Email": c["email"], "Phone": c["phone"],
        "Mailing Street": street, "Mailing City": address["city"], "Mailing State/Province": address["province"],
        "Mailing Zip/Postal Code": address["postcode"],
        "Mailing Country": np.where(c["country_as_code"], country, [COUNTRY_NAMES[k] for k in country]),
        "birthdate": c["birthdate_shown"], "shows_birthdate": c["shows_birthdate"] & ~np.isnat(c["birthdate_shown"]),
        "Lead Source": c["lead_source"],
        "Preferred Channel": np.where(~primary, "", np.where(changed_preferences, c["new_channel"],
                                                              people["preferred_channel"].to_numpy()[person])),
        "Interests": [interests_text(int(m)) if p and s else "" for m, p, s in zip(masks, primary, states_interests)],
        "Email Opt Out": flag(c["email_opt_out_at"]),
        "Personalization Opt Out": flag(c["personalization_opt_out_at"]),
        "created_at": c["created_at"], "Is Deleted": flag(c["deleted_at"]),
        EXTRA_COLUMN: np.array(_TITLES, dtype=object)[c["contact_number"] % len(_TITLES)],
        "corruptions": c["corruptions"], "shows_new_address": moved,
    })
    # Some report runs render the checkbox as true/false instead of 1/0.
    word_days = pl.Series(np.flatnonzero(rng.random(timeline.days) < 0.1))
    return frame.with_columns(
        pl.when(pl.col("extract_offset").is_in(word_days.implode()))
        .then(pl.col("Email Opt Out").replace_strict({"1": "true", "0": "false"}))
        .otherwise(pl.col("Email Opt Out")).alias("Email Opt Out"),
        pl.when(pl.col("shows_birthdate")).then(salesforce_date(pl.col("birthdate"))).otherwise(pl.lit(""))
        .alias("Birthdate"),
        salesforce_time(pl.col("created_at")).alias("Created Date"),
        salesforce_time(pl.col("at")).alias("Last Modified Date"),
    ).sort(["extract_offset", "at", "Contact ID"]).select(
        "extract_offset", "person_index", *CONTACT_COLUMNS, EXTRA_COLUMN, "corruptions", "shows_new_address")

"""Two CRM systems' contact exports of the same people: names, birth dates and addresses only.

The case that broke identity resolution on real data: no email, no phone, each system typing its
people in its own way (slips of `record_corruption`, typos and nicknames of `name_noise`), some
people shown at the address they moved to. Households and namesakes come from the same people
model as the demo, so a test can see both recall and over-merging. Day 1 is system A's export,
day 2 system B's; `_truth/source_records.parquet` is keyed like the demo's.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl

from dagster_project.demo_exports.crm_export import CONTACT_COLUMNS, salesforce_id
from dagster_project.demo_exports.identities import assign_identities
from dagster_project.demo_exports.name_noise import NameNoise, distort_names
from dagster_project.demo_exports.name_pools import COUNTRY_NAMES, build_pools
from dagster_project.demo_exports.nicknames import NICKNAMES
from dagster_project.demo_exports.population import draw_population
from dagster_project.demo_exports.record_corruption import (
    RecordCorruption,
    add_compound_surnames,
    corrupt_birthdates,
    corrupt_names,
    corrupt_streets,
    merge_tags,
    name_slip_tags,
)
from dagster_project.demo_exports.timeline import Timeline
from dagster_project.demo_exports.truth import person_classes
from dagster_project.demo_exports.writers import write_csv

FIRST_EXTRACT_DATE = dt.date(2024, 1, 1)
_TYPING = NameNoise(typo=0.03, nickname=0.05, accent=0.05, case=0.1, whitespace=0.05)
MOVED_IN_SYSTEM_B = 0.08


def write_two_system_contacts(out: Path, people: int = 600, seed: int = 7,
                              corruption: RecordCorruption = RecordCorruption()) -> pl.DataFrame:
    """Write both systems' files under `out/crm/` and the truth; return the truth."""
    rng = np.random.Generator(np.random.PCG64(seed))
    timeline = Timeline(end_date=FIRST_EXTRACT_DATE + dt.timedelta(days=1), days=2)
    population = draw_population(people, timeline, rng)
    per_country = dict(population["country"].value_counts(sort=True).iter_rows())
    population = assign_identities(population, build_pools(per_country, rng), timeline, rng)
    population = population.with_columns(pl.Series("last_name", add_compound_surnames(
        population["last_name"].to_numpy(), population["country"].to_numpy(), 0.03, rng), dtype=pl.String))
    classes = person_classes(population)
    moved = rng.random(people) < MOVED_IN_SYSTEM_B
    truth = []
    for system in (0, 1):
        true_first, true_last = population["first_name"].to_numpy(), population["last_name"].to_numpy()
        first, last = distort_names(true_first, true_last, _TYPING, rng)
        typed = name_slip_tags(true_first, true_last, first, last, NICKNAMES)
        names = corrupt_names(first, last, corruption, rng)
        known = population["birthdate_known"].to_numpy() | (rng.random(people) < 0.5)
        birthdate, birthdate_tags = corrupt_birthdates(population["birthdate"].to_numpy(), corruption, rng)
        shows_new = moved & (system == 1)
        prefix = np.where(shows_new, "new_", "")
        field = {name: np.array([population[f"{p}{name}"][i] for i, p in enumerate(prefix)], dtype=object)
                 for name in ("street", "city", "province", "postcode")}
        street, postcode, address_tags = corrupt_streets(field["street"], field["postcode"], corruption, rng)
        keys = [salesforce_id(2_000_000 + system * 1_000_000 + i) for i in range(people)]
        stamp = f"{FIRST_EXTRACT_DATE + dt.timedelta(days=system)}T09:00:00.000Z"
        rows = [
            {"Contact ID": keys[i], "First Name": names.first[i], "Last Name": names.last[i],
             "Mailing Street": street[i], "Mailing City": field["city"][i], "Mailing State/Province": field["province"][i],
             "Mailing Zip/Postal Code": postcode[i], "Mailing Country": COUNTRY_NAMES[population["country"][i]],
             "Birthdate": "" if not known[i] or np.isnat(birthdate[i]) else _us_date(birthdate[i]),
             "Email Opt Out": "0", "Personalization Opt Out": "0", "Created Date": stamp, "Last Modified Date": stamp,
             "Is Deleted": "0"}
            for i in range(people)
        ]
        write_csv(out / "crm" / f"contacts_{FIRST_EXTRACT_DATE + dt.timedelta(days=system)}.csv", CONTACT_COLUMNS,
                  ([row.get(column, "") for column in CONTACT_COLUMNS] for row in rows))
        slips = merge_tags(typed, names.tags, [t if k else set() for t, k in zip(birthdate_tags, known)], address_tags)
        truth.append(pl.DataFrame({
            "source": "crm_contact", "source_key": keys, "person_id": population["person_id"], "is_shared": False,
            "record_classes": [",".join(sorted({*filter(None, s.split(",")), *(["moved_address"] if n else []),
                                               *filter(None, c.split(","))}))
                               for s, n, c in zip(slips, shows_new, classes)],
        }))
    records = pl.concat(truth)
    (out / "_truth").mkdir(parents=True, exist_ok=True)
    records.write_parquet(out / "_truth" / "source_records.parquet")
    return records


def _us_date(day: np.datetime64) -> str:
    year, month, date = str(day).split("-")
    return f"{int(month)}/{int(date)}/{year}"

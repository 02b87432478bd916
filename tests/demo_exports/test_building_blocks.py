"""Pure pieces of the generator, one behaviour each."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import phonenumbers
import pytest

from dagster_project.demo_exports import GenerationSummary
from dagster_project.demo_exports.contact_formats import distort_email, is_valid_email, phone_variants
from dagster_project.demo_exports.crm_export import salesforce_id
from dagster_project.demo_exports.delivery import DeliverySchedule
from dagster_project.demo_exports.name_noise import one_character_edit, strip_accents, toggle_accent
from dagster_project.demo_exports.record_corruption import BIRTHDATE_ERROR, RecordCorruption, corrupt_birthdates


def test_salesforce_ids_carry_the_case_checksum():
    # The example id of the contract: body 0035g00000AbCdE, checksum AAV.
    body = "0035g00000AbCdE"
    number = 0
    for char in body[5:]:
        number = number * 62 + "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".index(char)
    assert salesforce_id(number) == "0035g00000AbCdEAAV"


@pytest.mark.parametrize("kind", [0, 1, 2, 3])  # substitute, delete, insert, transpose
def test_a_typo_changes_the_name_but_keeps_its_first_letter(kind):
    typo = one_character_edit("Jonathan", kind, 0.5, 3)
    assert typo != "Jonathan" and typo[0] == "J" and abs(len(typo) - len("Jonathan")) <= 1


def test_accents_are_dropped_or_added():
    assert strip_accents("Müller") == "Muller"
    assert toggle_accent("José") == "Jose" and toggle_accent("Jose") == "José"


@pytest.mark.parametrize("national, country", [
    ("4155550132", "US"),  # NANP
    ("7712345678", "GB"),  # UK mobile
    ("2079460132", "GB"),  # London
    ("15112345678", "DE"),  # German mobile
    ("612345678", "FR"),  # French mobile
])
def test_every_phone_style_denotes_the_same_number(national, country):
    numbers = {phonenumbers.format_number(phonenumbers.parse(v, country), phonenumbers.PhoneNumberFormat.E164)
               for v in phone_variants(national, country)}
    assert len(numbers) == 1


def test_case_and_padding_keep_an_email_valid_and_the_other_distortions_break_it():
    assert all(is_valid_email(distort_email("ann.lee@gmail.com", k)) for k in range(4))
    assert not any(is_valid_email(distort_email("ann.lee@gmail.com", k)) for k in range(4, 8))


def test_records_of_a_failed_export_day_arrive_with_the_next_delivered_day():
    schedule = DeliverySchedule(days=6, missing={"email": (2, 3)})
    assert schedule.extract_offset("email", np.array([-1, 1, 2, 3, 4, 6])).tolist() == [-1, 1, 4, 4, 4, -1]


def test_summary_prints_on_two_lines():
    summary = GenerationSummary(Path("out"), dt.date(2024, 1, 1), dt.date(2024, 1, 2), 10, 1, 12,
                                {"crm/contacts": 3}, 0.5)
    assert str(summary).splitlines()[1].strip() == "rows: crm/contacts 3"


def test_some_birthdates_are_another_date_altogether_and_the_others_stay_as_they_were():
    born = np.datetime64("1980-06-15") - (np.arange(20_000) % 15_000).astype("timedelta64[D]")
    slipped = lambda rates: corrupt_birthdates(born, rates, np.random.default_rng(7))  # noqa: E731
    without, _ = slipped(RecordCorruption(birthdate_replaced=0.0))
    with_replacements, tags = slipped(RecordCorruption(birthdate_replaced=0.02))
    changed = np.flatnonzero((with_replacements != without) & ~np.isnat(without))  # NaT != NaT
    # About the rate, each a year or more from the true date (no slip a matcher could forgive), and tagged.
    assert 300 <= len(changed) <= 500
    assert (np.abs((with_replacements[changed] - born[changed]).astype(int)) >= 365).all()
    assert all(BIRTHDATE_ERROR in tags[i] for i in changed)

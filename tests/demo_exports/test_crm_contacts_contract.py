"""crm/contacts files follow the Salesforce Contacts report contract."""

from __future__ import annotations

import datetime as dt

import phonenumbers

from tests.demo_exports.demo_export_contract import (
    BIRTHDATE,
    CONTACT_COLUMNS,
    SALESFORCE_TIME,
    daily_files,
    parse_iso_utc,
    read_csv,
    read_csv_records,
)

CATEGORIES = {"Apparel", "Footwear", "Outdoor", "Home", "Beauty", "Electronics", "Kids", "Books"}
REGION = {"US": "US", "United States": "US", "CA": "CA", "Canada": "CA", "GB": "GB", "United Kingdom": "GB",
          "DE": "DE", "Germany": "DE", "FR": "FR", "France": "FR"}


def _rows(demo_dir):
    for day, path in daily_files(demo_dir, "crm", "contacts").items():
        for row in read_csv_records(path):
            yield day, row


def test_headers_hold_exactly_the_contract_columns_plus_at_most_one_extra(demo_dir):
    extras = set()
    for path in daily_files(demo_dir, "crm", "contacts").values():
        header, rows = read_csv(path)
        assert header[: len(CONTACT_COLUMNS)] == CONTACT_COLUMNS
        extras.update(header[len(CONTACT_COLUMNS) :])
        assert all(len(row) == len(header) for row in rows), path
    assert extras <= {"Title"}


def test_contact_ids_are_18_character_salesforce_ids(demo_dir):
    for _, row in _rows(demo_dir):
        assert len(row["Contact ID"]) == 18 and row["Contact ID"].startswith("003") and row["Contact ID"].isalnum()


def test_dates_and_flags_parse_in_their_contract_formats(demo_dir):
    for day, row in _rows(demo_dir):
        assert SALESFORCE_TIME.match(row["Created Date"]) and SALESFORCE_TIME.match(row["Last Modified Date"])
        created, modified = parse_iso_utc(row["Created Date"]), parse_iso_utc(row["Last Modified Date"])
        assert created <= modified and modified.date() <= day
        assert row["Birthdate"] == "" or BIRTHDATE.match(row["Birthdate"])
        if row["Birthdate"]:
            dt.datetime.strptime(row["Birthdate"], "%m/%d/%Y")
        assert row["Email Opt Out"] in {"1", "0", "true", "false"}
        assert row["Personalization Opt Out"] in {"1", "0"} and row["Is Deleted"] in {"1", "0"}


def test_picklists_hold_only_contract_values(demo_dir):
    for _, row in _rows(demo_dir):
        assert row["Lead Source"] in {"Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other", ""}
        assert row["Preferred Channel"] in {"Email", "SMS", "Phone", "None", ""}
        assert row["Interests"] == "" or set(row["Interests"].split(";")) <= CATEGORIES


def test_phones_are_possible_numbers_of_the_mailing_country(demo_dir):
    for _, row in _rows(demo_dir):
        if row["Phone"]:
            number = phonenumbers.parse(row["Phone"], REGION[row["Mailing Country"]])
            assert phonenumbers.is_valid_number(number), row["Phone"]


def test_the_first_file_is_an_initial_load_and_later_files_are_deltas(demo_dir, window):
    for day, row in _rows(demo_dir):
        if day != window[0]:
            assert parse_iso_utc(row["Last Modified Date"]).date() >= day - dt.timedelta(days=3)


def test_some_fields_need_rfc4180_quoting(demo_dir):
    streets = [row["Mailing Street"] for _, row in _rows(demo_dir)]
    assert any("\n" in street for street in streets)

"""stg_salesforce__contacts through real dbt: current version and identity normalisation."""

import datetime

import pytest

pytestmark = pytest.mark.slow  # each module runs dbt seed + build once

DAY_1 = "crm/contacts_2024-03-04.csv"
DAY_2 = "crm/contacts_2024-03-05.csv"

COUNTRY_ALIASES = {
    # alias as typed in the CRM -> expected ISO code
    "United States": "US",
    "USA": "US",
    "U.S.": "US",
    " u.s.a. ": "US",
    "US": "US",
    "Deutschland": "DE",
    "Germany": "DE",
    "DE": "DE",
    "United Kingdom": "GB",
    "UK": "GB",
    "GB": "GB",
    "Great Britain": "GB",
    "England": "GB",
    "Canada": "CA",
    "France": "FR",
    "Atlantis": None,
}
PHONE_FORMATS = ["(415) 555-0132", "+1 415 555 0132", "415.555.0132", "4155550132"]


def contact(contact_id: str, modified: str = "2024-03-04T10:00:00.000Z", **cells: str) -> dict:
    """A CRM record with its required id and timestamps."""
    return {"Contact ID": contact_id, "Created Date": "2024-01-01T00:00:00.000Z", "Last Modified Date": modified, **cells}


@pytest.fixture(scope="module")
def warehouse(build_staging):
    day_1 = [
        contact("0031", "2024-03-04T10:00:00.000Z", Email="ann@old.example.com"),
        contact("0032", "2024-03-04T12:00:00Z", Email="current@example.com"),
        contact("0033", **{"Is Deleted": "1", "Email": "merged.loser@example.com"}),
        contact("0034", **{"Email": "  Ann.Smith@Example.COM  ", "First Name": "  José   María ",
                           "Last Name": "GARCÍA\u00a0López  ", "Birthdate": "3/5/1980",
                           "Interests": "Shoes; Bags;;Hats", "Email Opt Out": "TRUE",
                           "Personalization Opt Out": "0", "Mailing Zip/Postal Code": "94105-1234",
                           "Mailing Country": "USA"}),
        contact("0035", **{"Phone": "020 7946 0958", "Mailing Country": "United Kingdom",
                           "Mailing Zip/Postal Code": "sw1a 1aa"}),
        contact("0036", Phone="12345", Email="not-an-email"),
        contact("0037", Email="someone@localhost"),
    ]
    day_1 += [contact(f"004{i}", Phone=phone) for i, phone in enumerate(PHONE_FORMATS)]
    day_1 += [contact(f"005{i:02d}", **{"Mailing Country": alias}) for i, alias in enumerate(COUNTRY_ALIASES)]
    day_2 = [
        contact("0031", "2024-03-05T10:00:00.000Z", Email="ann@new.example.com"),
        # A stale re-issue: later file, older modification.
        contact("0032", "2024-03-02T12:00:00Z", Email="stale@example.com"),
    ]
    return build_staging({"crm_contacts": {DAY_1: day_1, DAY_2: day_2}})


def contact_row(warehouse, contact_id: str) -> dict:
    rows = warehouse.rows(f"select * from staging.stg_salesforce__contacts where contact_id = '{contact_id}'")
    assert len(rows) == 1
    return rows[0]


def test_latest_contact_modification_wins(warehouse):
    row = contact_row(warehouse, "0031")
    assert (row["email"], row["source_file"]) == ("ann@new.example.com", DAY_2)


def test_stale_reissue_in_a_later_file_does_not_replace_a_newer_modification(warehouse):
    assert contact_row(warehouse, "0032")["email"] == "current@example.com"


def test_deleted_contacts_are_kept_and_flagged(warehouse):
    assert contact_row(warehouse, "0033")["is_deleted"] is True
    assert contact_row(warehouse, "0031")["is_deleted"] is False


def test_padded_upper_case_email_is_trimmed_and_lower_cased(warehouse):
    row = contact_row(warehouse, "0034")
    assert (row["email_normalized"], row["is_email_valid"]) == ("ann.smith@example.com", True)


@pytest.mark.parametrize("contact_id", [
    "0036",  # no @ at all
    "0037",  # domain without a top-level domain
])
def test_invalid_emails_are_flagged(warehouse, contact_id):
    assert contact_row(warehouse, contact_id)["is_email_valid"] is False


def test_missing_email_is_neither_valid_nor_invalid(warehouse):
    assert contact_row(warehouse, "0035")["is_email_valid"] is None


@pytest.mark.parametrize("contact_id", ["0040", "0041", "0042", "0043"])
def test_phones_in_all_contract_formats_become_the_same_e164(warehouse, contact_id):
    row = contact_row(warehouse, contact_id)
    assert (row["phone_e164"], row["is_phone_valid"]) == ("+14155550132", True)


def test_uk_number_is_read_in_the_region_of_its_mailing_country(warehouse):
    row = contact_row(warehouse, "0035")
    assert (row["country_code"], row["phone_e164"]) == ("GB", "+442079460958")


def test_unparseable_phone_is_null_and_flagged_invalid(warehouse):
    row = contact_row(warehouse, "0036")
    assert (row["phone_e164"], row["is_phone_valid"]) == (None, False)


def test_names_are_trimmed_collapsed_lower_cased_and_stripped_of_accents(warehouse):
    row = contact_row(warehouse, "0034")
    assert (row["first_name_normalized"], row["last_name_normalized"]) == ("jose maria", "garcia lopez")
    assert row["first_name"] == "  José   María "


def test_us_zip_plus_four_becomes_five_digits(warehouse):
    assert contact_row(warehouse, "0034")["postcode_normalized"] == "94105"


def test_postcodes_are_upper_cased_without_spaces(warehouse):
    assert contact_row(warehouse, "0035")["postcode_normalized"] == "SW1A1AA"


@pytest.mark.parametrize(("index", "alias"), list(enumerate(COUNTRY_ALIASES)))
def test_country_aliases_map_to_iso_codes(warehouse, index, alias):
    row = contact_row(warehouse, f"005{index:02d}")
    assert (row["mailing_country"], row["country_code"]) == (alias, COUNTRY_ALIASES[alias])


def test_birthdate_interests_and_opt_outs_are_typed(warehouse):
    row = contact_row(warehouse, "0034")
    assert row["birthdate"] == datetime.date(1980, 3, 5)
    assert row["interests"] == ["Shoes", "Bags", "Hats"]
    assert (row["is_email_opted_out"], row["is_personalization_opted_out"]) == (True, False)


def test_timestamps_are_utc_timestamps(warehouse):
    assert contact_row(warehouse, "0031")["last_modified_at"] == datetime.datetime(2024, 3, 5, 10, 0)

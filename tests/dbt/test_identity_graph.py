"""int_identity_nodes and int_identity_identifiers_assessed through real dbt: invalid addresses
repaired to the one valid address they spell, and shared identifiers judged by names that may be
written with slips (initials, swaps, a surname alone) without trusting a household's phone."""

import pytest

pytestmark = pytest.mark.slow  # each module runs dbt seed + build once

CONTACTS = "crm/contacts_2024-03-04.csv"
EVENTS = "email/events_2024-03-05.jsonl"


def contact(contact_id: str, first: str, last: str, **cells: str) -> dict:
    return {"Contact ID": contact_id, "First Name": first, "Last Name": last, "Created Date": "2024-01-01T00:00:00Z",
            "Last Modified Date": "2024-03-04T10:00:00Z", **cells}


def recipient(event_id: str, email: str) -> dict:
    return {"sg_event_id": event_id, "event": "open", "timestamp": 1709632800, "email": email, "sg_message_id": "m"}


@pytest.fixture(scope="module")
def warehouse(build_staging):
    contacts = [
        # Valid addresses that invalid spellings below point to.
        contact("0031", "Ann", "Lee", Email="ann.lee@mail.com"),
        contact("0032", "Jo", "Ng", Email="jo.ng@mail.com"),
        contact("0033", "Jo", "Ng", Email="jo.ng@mail.net"),
        contact("0034", "Ann", "Lee", Email="ann.lee@@mail.com"),
        # Shared phones: one person written with slips ...
        contact("0041", "Lisa", "Tran", Phone="(415) 555-0101"),
        contact("0042", "Tran", "", Phone="(415) 555-0101"),            # surname alone
        contact("0043", "Tran", "Lisa", Phone="(415) 555-0101"),        # swapped
        contact("0044", "L", "Tran", Phone="(415) 555-0101"),           # initial
        contact("0051", "Nicholas", "Bradley", Phone="(415) 555-0102"),
        contact("0052", "Bradley", "Nick", Phone="(415) 555-0102"),     # swapped, as a nickname
        # ... and households: two people's phone.
        contact("0061", "Melissa", "Sullivan", Phone="(415) 555-0103"),
        contact("0062", "Sullivan", "Garrett", Phone="(415) 555-0103"),  # Garrett Sullivan, swapped
        contact("0071", "John", "Garrett", Phone="(415) 555-0104"),
        contact("0072", "Johnathan", "Benton", Phone="(415) 555-0104"),  # a room-mate, not John's long form
        contact("0081", "Lisa", "Tran", Phone="(415) 555-0105"),
        contact("0082", "M", "Tran", Phone="(415) 555-0105"),
    ]
    events = [
        recipient("e1", "ann.lee@mail"),       # top-level domain missing
        recipient("e2", "ann.lee.mail.com"),   # @ written as a dot
        recipient("e3", "ann.lee @mail.com"),  # a space
        recipient("e4", "jo.ng@mail"),         # .com or .net: could be either
        recipient("e5", "nobody@@nowhere.com"),  # spells no address in the data
    ]
    return build_staging({"crm_contacts": {CONTACTS: contacts}, "email_events": {EVENTS: events}})


def node_email(warehouse, record_id: str) -> str | None:
    rows = warehouse.rows(f"select email from intermediate.int_identity_nodes where record_id = '{record_id}'")
    assert len(rows) == 1, record_id
    return rows[0]["email"]


@pytest.mark.parametrize("record_id", [
    "crm_contact:0034", "sendgrid_recipient:ann.lee@mail", "sendgrid_recipient:ann.lee.mail.com",
    "sendgrid_recipient:ann.lee @mail.com",
])
def test_an_invalid_address_is_the_one_valid_address_it_spells(warehouse, record_id):
    assert node_email(warehouse, record_id) == "ann.lee@mail.com"


@pytest.mark.parametrize("record_id", ["sendgrid_recipient:jo.ng@mail", "sendgrid_recipient:nobody@@nowhere.com"])
def test_an_invalid_address_that_spells_two_addresses_or_none_stays_empty(warehouse, record_id):
    assert node_email(warehouse, record_id) is None


def trust(warehouse, phone: str) -> tuple[bool, str | None]:
    rows = warehouse.rows(
        f"select is_trusted, distrust_reason from intermediate.int_identity_identifiers_assessed where identifier = '{phone}'"
    )
    assert len(rows) == 1, phone
    return rows[0]["is_trusted"], rows[0]["distrust_reason"]


@pytest.mark.parametrize("phone", ["+14155550101", "+14155550102"])
def test_a_phone_of_one_person_written_with_slips_is_trusted(warehouse, phone):
    assert trust(warehouse, phone) == (True, None)


@pytest.mark.parametrize("phone", ["+14155550103", "+14155550104", "+14155550105"])
def test_a_household_phone_is_not_trusted(warehouse, phone):
    assert trust(warehouse, phone) == (False, "records with incompatible first names")

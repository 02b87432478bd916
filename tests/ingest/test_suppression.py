"""Erased people stay out of the raw layer: a re-delivered export loads without their rows, counted."""

from datetime import datetime

import duckdb

from dagster_project.privacy.erasure import add_to_suppression_list, erase_from_warehouse
from dagster_project.privacy.erasure_requests import ErasureRequest
from dagster_project.privacy.erasure_scope import identify_people, register_erasure_keys
from dagster_project.privacy.suppression import create_privacy_tables, read_or_create_salt
from tests.ingest.test_readers import CONTACT_HEADER, GOOD_CONTACT

ERASED = GOOD_CONTACT  # Ann Lee, ann@example.com
KEPT = GOOD_CONTACT.replace("AbCdEAAV", "ZyXwVAAV").replace("Ann,Lee,ann@example.com", "Bo,Kim,bo@example.com")
BROKEN = ",Ann,Lee,ANN@example.com ,,,,,,,,,,,0,0,,2024-03-06T10:15:00.000Z,0"  # no Contact ID: quarantined


def _erase(platform, email: str) -> None:
    salt = read_or_create_salt(platform.warehouse.parent / "privacy" / "suppression_salt")
    with duckdb.connect(str(platform.warehouse)) as connection:
        create_privacy_tables(connection)
        people = identify_people(connection, [ErasureRequest("ER-1", email, None)])
        register_erasure_keys(connection, people, salt)
        add_to_suppression_list(connection, datetime(2024, 3, 7))
        erase_from_warehouse(connection, salt)


def test_an_erased_person_is_kept_out_of_re_delivered_and_new_exports(platform):
    platform.deliver("crm/contacts_2024-03-05.csv", f"{CONTACT_HEADER}\n{ERASED}\n{KEPT}\n")
    assert platform.ingest("2024-03-05", selection="raw/crm_contacts").success
    _erase(platform, "ann@example.com")
    assert platform.query('SELECT "Contact ID" FROM raw.crm_contacts') == [("0035g00000ZyXwVAAV",)]

    # The old export again, and a new day holding the person's contact and a broken row of theirs.
    platform.deliver("crm/contacts_2024-03-05.csv", f"{CONTACT_HEADER}\n{ERASED}\n{KEPT}\n")
    platform.deliver("crm/contacts_2024-03-06.csv", f"{CONTACT_HEADER}\n{ERASED.replace('3/5/1980', '3/6/1980')}\n{BROKEN}\n{KEPT}\n")
    result = platform.ingest("2024-03-05", "2024-03-06", selection="raw/crm_contacts")
    assert result.success
    assert platform.query('SELECT "Contact ID", _extract_date::VARCHAR FROM raw.crm_contacts ORDER BY 2') == [
        ("0035g00000ZyXwVAAV", "2024-03-05"), ("0035g00000ZyXwVAAV", "2024-03-06")]
    assert platform.query("SELECT count(*) FROM raw.quarantine") == [(0,)]
    days = result.asset_materializations_for_node("raw__crm_contacts")
    assert (sum(day.metadata["dagster/row_count"].value for day in days), sum(day.metadata["rows_suppressed"].value for day in days)) == (2, 3)
    # The list holds salted hashes only.
    assert all(len(digest) == 64 and "ann" not in digest for (digest,) in platform.query("SELECT identifier_hash FROM privacy.suppression_list"))


def test_without_erasures_nothing_is_hashed_or_held_back(platform):
    platform.deliver("crm/contacts_2024-03-05.csv", f"{CONTACT_HEADER}\n{ERASED}\n{KEPT}\n")
    result = platform.ingest("2024-03-05", selection="raw/crm_contacts")
    assert platform.query("SELECT count(*) FROM raw.crm_contacts") == [(2,)]
    assert result.asset_materializations_for_node("raw__crm_contacts")[0].metadata["rows_suppressed"].value == 0

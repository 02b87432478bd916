"""Contract enforcement on read: every kind of bad input gets a specific error or a quarantined row."""

from pathlib import Path

import pytest

from dagster_project.ingest.contracts import CRM_CONTACTS, ECOMMERCE_FX_RATES, ECOMMERCE_ORDERS, EMAIL_EVENTS, SUPPORT_TICKETS
from dagster_project.ingest.readers import ContractViolation, read_export

CONTACT_HEADER = ",".join(f'"{c}"' if "/" in c else c for c in CRM_CONTACTS.columns)
GOOD_CONTACT = "0035g00000AbCdEAAV,Ann,Lee,ann@example.com,(415) 555-0132,1 Main St,SF,CA,94105,US,3/5/1980,Web,Email,Shoes,0,0,2024-03-05T10:15:00.000Z,2024-03-05T10:15:00.000Z,0"


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def contacts(tmp_path: Path, *rows: str, header: str = CONTACT_HEADER) -> Path:
    return write(tmp_path, "contacts_2024-03-05.csv", "\n".join([header, *rows]) + "\n")


def test_valid_contact_rows_load_as_text_with_their_line_numbers(tmp_path):
    parsed = read_export(contacts(tmp_path, GOOD_CONTACT, GOOD_CONTACT.replace("AAV", "AAW")), CRM_CONTACTS)
    assert parsed.rows["Contact ID"].to_list() == ["0035g00000AbCdEAAV", "0035g00000AbCdEAAW"]
    assert parsed.rows["_line_number"].to_list() == [2, 3]
    assert parsed.rows["Phone"][0] == "(415) 555-0132"
    assert parsed.quarantine.height == 0


def test_quoted_commas_quotes_and_newlines_stay_in_their_field_and_lines_count_physically(tmp_path):
    tricky = GOOD_CONTACT.replace("1 Main St", '"1 Main St, Apt ""B""\nBack door"')
    parsed = read_export(contacts(tmp_path, tricky, GOOD_CONTACT.replace("AAV", "AAW")), CRM_CONTACTS)
    assert parsed.rows["Mailing Street"][0] == '1 Main St, Apt "B"\nBack door'
    assert parsed.rows["_line_number"].to_list() == [2, 4]


def test_byte_order_mark_and_crlf_line_endings_are_accepted(tmp_path):
    path = write(tmp_path, "contacts_2024-03-05.csv", ("\ufeff" + CONTACT_HEADER + "\r\n" + GOOD_CONTACT + "\r\n").encode("utf-8"))
    parsed = read_export(path, CRM_CONTACTS)
    assert parsed.rows["Contact ID"].to_list() == ["0035g00000AbCdEAAV"]
    assert parsed.rows["Is Deleted"].to_list() == ["0"]


def test_extra_columns_are_ignored(tmp_path):
    parsed = read_export(contacts(tmp_path, GOOD_CONTACT + ",surprise", header=CONTACT_HEADER + ",Account Name"), CRM_CONTACTS)
    assert parsed.rows.columns == [*CRM_CONTACTS.columns, "_line_number"]
    assert parsed.quarantine.height == 0


@pytest.mark.parametrize("content", ["", CONTACT_HEADER + "\n"], ids=["zero-byte file", "header only"])
def test_empty_files_load_no_rows_without_error(tmp_path, content):
    parsed = read_export(write(tmp_path, "contacts_2024-03-05.csv", content), CRM_CONTACTS)
    assert parsed.rows.height == 0 and parsed.quarantine.height == 0


def test_empty_cells_load_as_null(tmp_path):
    parsed = read_export(contacts(tmp_path, GOOD_CONTACT.replace("3/5/1980", "")), CRM_CONTACTS)
    assert parsed.rows["Birthdate"].to_list() == [None]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        # a binary file delivered under a CSV name
        (b"PK\x03\x04\x14\x00\x00\x00binary", "binary content (NUL byte at offset 5)"),
        # Latin-1 bytes: not the UTF-8 the contract requires
        (CONTACT_HEADER.encode() + b"\n0035g00000AbCdEAAV,Jos\xe9", "not UTF-8 text: invalid byte at offset"),
        # the export job died inside a quoted field
        ((CONTACT_HEADER + "\n" + GOOD_CONTACT.replace("1 Main St", '"1 Main')).encode()[:-40], "truncated: the record starting at line 2 ends inside a quoted field"),
        # the export job died mid-row, outside quotes
        ((CONTACT_HEADER + "\n" + GOOD_CONTACT + "\n" + GOOD_CONTACT[:40]).encode(), "truncated: the last record (line 3) has 4 of 19 fields"),
        # a semicolon-delimited export
        ((CONTACT_HEADER.replace(",", ";") + "\n").encode(), "the header looks semicolon-delimited"),
        # a column renamed by someone editing the report
        ((CONTACT_HEADER.replace("Last Modified Date", "Modified") + "\n").encode(), "missing required column(s) 'Last Modified Date'"),
    ],
    ids=["binary", "not utf-8", "truncated in quotes", "truncated mid-row", "wrong delimiter", "renamed header"],
)
def test_a_file_that_breaks_the_contract_is_rejected_whole_with_its_name_and_problem(tmp_path, content, problem):
    path = write(tmp_path, "contacts_2024-03-05.csv", content)
    with pytest.raises(ContractViolation) as raised:
        read_export(path, CRM_CONTACTS)
    assert str(raised.value).startswith(f"{path}: ")
    assert problem in raised.value.problem


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (GOOD_CONTACT.replace("0035g00000AbCdEAAV", ""), "required column 'Contact ID' is missing or empty"),
        (GOOD_CONTACT.replace("3/5/1980", "31/12/1980"), "'Birthdate' value '31/12/1980' is not in the contract format (date as M/D/YYYY)"),
        (GOOD_CONTACT.replace(",0,0,", ",yes,0,"), "'Email Opt Out' value 'yes' is not in the contract format (flag 1/0 or true/false)"),
        (GOOD_CONTACT.replace("2024-03-05T10:15:00.000Z,0", "05/03/2024 10:15,0"), "'Last Modified Date' value '05/03/2024 10:15' is not in the contract format"),
        (GOOD_CONTACT + ",extra", "expected 19 fields, found 20"),
        (GOOD_CONTACT.replace("Ann,", '"Ann"x,'), "malformed CSV record: ',' expected after '\"'"),
    ],
    ids=["empty id", "bad date", "bad flag", "bad timestamp", "too many fields", "stray quote"],
)
def test_a_row_that_cannot_be_parsed_is_quarantined_with_line_reason_and_original_text(tmp_path, row, reason):
    parsed = read_export(contacts(tmp_path, GOOD_CONTACT, row), CRM_CONTACTS)
    assert parsed.rows["_line_number"].to_list() == [2]
    quarantined = parsed.quarantine.row(0, named=True)
    assert quarantined["_line_number"] == 3
    assert reason in quarantined["reason"]
    assert quarantined["record"] == row + "\n"


def test_order_rows_with_blank_order_level_cells_load_and_bad_amounts_are_quarantined(tmp_path):
    header = ",".join(ECOMMERCE_ORDERS.columns)
    first = "1001,#1001,a@b.com,paid,,2024-03-05 10:15:00 -0500,,,yes,USD,80.00,5.00,6.40,91.40,0.00,0.00,,2,Shoes,30.00,SH-1,Ann Lee,,,,,US,,,web"
    second = "1001" + "," * 17 + "1,Bag,20.00,BG-2" + "," * 9
    bad = first.replace("1001", "1002").replace("91.40", "91,40").replace("a@b.com", '"a@b.com"')
    path = write(tmp_path, "orders_2024-03-05.csv", "\n".join([header, first, second, bad.replace("91,40", '"91,40"')]) + "\n")
    parsed = read_export(path, ECOMMERCE_ORDERS)
    assert parsed.rows["Id"].to_list() == ["1001", "1001"]
    assert parsed.rows["Total"].to_list() == ["91.40", None]
    assert parsed.quarantine["reason"].to_list() == ["'Total' value '91,40' is not in the contract format (decimal number)"]


def test_fx_rate_with_missing_rate_is_quarantined(tmp_path):
    path = write(tmp_path, "fx_rates_2024-03-05.csv", "date,currency,usd_per_unit\n2024-03-05,EUR,1.08\n2024-03-05,GBP,\n")
    parsed = read_export(path, ECOMMERCE_FX_RATES)
    assert parsed.rows["currency"].to_list() == ["EUR"]
    assert parsed.quarantine["reason"].to_list() == ["required column 'usd_per_unit' is missing or empty"]


EVENT = '{"email":"a@b.com","timestamp":1709633700,"event":"open","sg_event_id":"e1"}'


def test_jsonl_blank_lines_are_skipped_and_extra_keys_kept(tmp_path):
    extra = EVENT.replace('"e1"', '"e2","tls":1,"nested":{"k":[1,2]}')
    parsed = read_export(write(tmp_path, "events_2024-03-05.jsonl", f"{EVENT}\n\n   \n{extra}\n"), EMAIL_EVENTS)
    assert parsed.rows["_line_number"].to_list() == [1, 4]
    assert parsed.rows["payload"][1] == extra
    assert parsed.quarantine.height == 0


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"email":"a@b.com", "timestamp":', "not valid JSON: Expecting value at column 33"),
        ('["e1", 1709633700]', "a JSON list, not an object"),
        (EVENT.replace('"sg_event_id":"e1"', '"sg_event_id":""'), "required key 'sg_event_id' is missing or empty"),
        (EVENT.replace(',"sg_event_id":"e1"', ""), "required key 'sg_event_id' is missing or empty"),
        (EVENT.replace("1709633700", '"yesterday"'), "'timestamp' value 'yesterday' is not in the contract format (integer Unix seconds)"),
    ],
    ids=["broken json", "not an object", "empty id", "missing id", "bad timestamp"],
)
def test_a_bad_jsonl_line_is_quarantined_with_its_line_number_and_reason(tmp_path, line, reason):
    parsed = read_export(write(tmp_path, "events_2024-03-05.jsonl", f"{EVENT}\n{line}\n"), EMAIL_EVENTS)
    assert parsed.rows.height == 1
    assert parsed.quarantine.row(0, named=True) == {"_line_number": 2, "reason": reason, "record": line}


def test_a_jsonl_file_cut_off_mid_line_is_rejected_as_truncated(tmp_path):
    path = write(tmp_path, "events_2024-03-05.jsonl", f"{EVENT}\n{EVENT[:30]}")
    with pytest.raises(ContractViolation, match=r"truncated: the last line \(2\) is incomplete JSON"):
        read_export(path, EMAIL_EVENTS)


def test_a_csv_delivered_as_jsonl_is_rejected_as_not_json_lines(tmp_path):
    path = write(tmp_path, "tickets_2024-03-05.jsonl", "id,created_at,updated_at\n501,2024-03-05,2024-03-05\n")
    with pytest.raises(ContractViolation, match="not JSON Lines: none of its 2 lines is a valid record"):
        read_export(path, SUPPORT_TICKETS)


def test_ticket_with_non_integer_id_is_quarantined(tmp_path):
    good = '{"id":501,"created_at":"2024-03-05T14:00:00Z","updated_at":"2024-03-05T14:00:00Z"}'
    bad = good.replace("501", '"T-501"')
    parsed = read_export(write(tmp_path, "tickets_2024-03-05.jsonl", f"{good}\n{bad}\n"), SUPPORT_TICKETS)
    assert parsed.quarantine["reason"].to_list() == ["'id' value 'T-501' is not in the contract format (integer)"]


def test_a_duplicated_contract_column_rejects_the_file_instead_of_picking_one(tmp_path):
    header = CONTACT_HEADER + ",Email"
    path = contacts(tmp_path, GOOD_CONTACT + ",someone.else@example.com", header=header)
    with pytest.raises(ContractViolation, match=r"duplicated column name\(s\) in the header: 'Email' at columns 4, 20"):
        read_export(path, CRM_CONTACTS)


def test_a_last_record_the_file_does_not_close_is_quarantined_not_loaded_cut(tmp_path):
    header = ",".join(ECOMMERCE_FX_RATES.columns)
    rows = ["2024-03-05,CAD,0.741230", "2024-03-05,GBP,1.27"]  # the second was 1.271830 before the export died
    path = write(tmp_path, "fx_rates_2024-03-05.csv", header + "\n" + "\n".join(rows))
    parsed = read_export(path, ECOMMERCE_FX_RATES)
    assert parsed.rows.height == 1 and parsed.rows["_line_number"].to_list() == [2]
    assert parsed.quarantine.select("_line_number", "record").rows() == [(3, "2024-03-05,GBP,1.27")]
    assert "without a line break: it may be cut off" in parsed.quarantine["reason"][0]
    # Closed by its line break, the same record loads.
    assert read_export(write(tmp_path, "fx_rates_2024-03-06.csv", header + "\n" + "\n".join(rows) + "\r\n"), ECOMMERCE_FX_RATES).rows.height == 2


def test_a_row_stamped_after_its_files_day_is_quarantined_not_loaded(tmp_path):
    from datetime import datetime

    from dagster_project.ingest.contracts import SUPPORT_TICKETS

    later = '{"id": 502, "created_at": "2024-03-05T09:00:00Z", "updated_at": "2031-01-01T00:00:00Z"}'
    path = write(tmp_path, "tickets_2024-03-05.jsonl", '{"id": 501, "created_at": "2024-03-05T09:00:00Z", "updated_at": "2024-03-06T23:00:00Z"}\n'
                 + later + "\n")
    parsed = read_export(path, SUPPORT_TICKETS, latest_allowed=datetime(2024, 3, 7, 0, 0))
    assert parsed.rows["_line_number"].to_list() == [1]  # the next day's late hours are within the slack
    (reason,) = parsed.quarantine["reason"].to_list()
    assert reason == "'updated_at' value '2031-01-01T00:00:00Z' is after its file's extract day (later than 2024-03-07 00:00 UTC)"
    # Shopify's local times with an offset are compared in UTC.
    header = ",".join(ECOMMERCE_ORDERS.columns)
    order = "1001,#1001,a@b.com,paid,,{},,,yes,USD,80.00,5.00,6.40,91.40,0.00,0.00,,2,Shoes,30.00,SH-1,Ann Lee,,,,,US,,,web"
    orders = write(tmp_path, "orders_2024-03-05.csv", "\n".join([header, order.format("2024-03-06 18:00:00 -0500"),
                                                                  order.replace("1001", "1002").format("2024-03-06 20:00:00 -0500")]) + "\n")
    parsed = read_export(orders, ECOMMERCE_ORDERS, latest_allowed=datetime(2024, 3, 7, 0, 0))
    assert parsed.rows["Id"].to_list() == ["1001"]  # 23:00 UTC; 20:00 -0500 is 01:00 UTC the next day
    assert parsed.quarantine["_line_number"].to_list() == [3]

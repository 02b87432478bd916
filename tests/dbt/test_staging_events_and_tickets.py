"""stg_sendgrid__events, stg_zendesk__tickets and stg_privacy__erasure_requests through real dbt."""

import datetime

import pytest

pytestmark = pytest.mark.slow  # each module runs dbt seed + build once

EVENTS_DAY_1 = "email/events_2024-03-05.jsonl"
EVENTS_DAY_2 = "email/events_2024-03-06.jsonl"
TICKETS_DAY_1 = "support/tickets_2024-03-05.jsonl"
TICKETS_DAY_2 = "support/tickets_2024-03-06.jsonl"
MARCH_5_10AM = 1709632800
MARCH_2_10AM = 1709373600


def event(event_id: str, event_type: str = "open", timestamp: int = MARCH_5_10AM, **keys) -> dict:
    return {"sg_event_id": event_id, "event": event_type, "timestamp": timestamp,
            "email": "reader@example.com", "sg_message_id": "msg-1", **keys}


def ticket(ticket_id: int, updated_at: str, status: str = "open", **keys) -> dict:
    return {"id": ticket_id, "created_at": "2024-03-01T08:00:00Z", "updated_at": updated_at, "status": status,
            "priority": "normal", "type": "question", "via": {"channel": "web"}, "tags": [],
            "requester": {"id": 7, "name": "A Person", "email": "a@example.com", "phone": None},
            "satisfaction_rating": {"score": "unoffered", "comment": None},
            "metrics": {"first_reply_minutes": 5, "full_resolution_minutes": None, "reopens": 0}, **keys}


@pytest.fixture(scope="module")
def warehouse(build_staging):
    events = {
        EVENTS_DAY_1: [
            event("ev1", category="newsletter", sg_machine_open=True),
            event("ev2", category=["promo", "spring"]),
            event("ev3", "delivered", sg_machine_open=False),
            event("ev4", "click", MARCH_2_10AM, email=" Reader@Example.COM ", url="https://example.com/a"),
            event("ev1", category="newsletter", sg_machine_open=True),  # retry in the same file
        ],
        EVENTS_DAY_2: [
            event("ev1", category="newsletter", sg_machine_open=True),  # retry a day later
            event("ev6", "bounce", type="blocked", reason="550 blocked", unknown_vendor_key={"x": 1}),
            event("ev7", "group_unsubscribe", asm_group_id=42),
        ],
    }
    tickets = {
        TICKETS_DAY_1: [
            ticket(501, "2024-03-05T09:00:00Z", "open"),
            ticket(502, "2024-03-05T12:00:00Z", "solved"),
        ],
        TICKETS_DAY_2: [
            ticket(501, "2024-03-06T08:00:00Z", "pending", tags=["vip", "billing"], via={"channel": "email"},
                   requester={"id": 9, "name": "  Élodie   DURAND", "email": "ELODIE@example.fr ",
                              "phone": "(415) 555-0132"},
                   satisfaction_rating={"score": "good", "comment": "Thanks"},
                   metrics={"first_reply_minutes": 12, "full_resolution_minutes": 240, "reopens": 1}),
            ticket(502, "2024-03-04T00:00:00Z", "open"),  # a stale version delivered late
            ticket(503, "2024-03-06T09:00:00Z", requester=None, satisfaction_rating=None, priority=None, type=None),
        ],
    }
    erasure_requests = {
        "privacy/erasure_requests_2024-03-05.csv": [
            {"request_id": "r1", "email": " Gone@Example.com ", "received_at": "2024-03-05T08:00:00Z"}],
        "privacy/erasure_requests_2024-03-06.csv": [
            {"request_id": "r1", "email": " Gone@Example.com ", "received_at": "2024-03-05T08:00:00Z"}],
    }
    return build_staging({
        "email_events": events, "support_tickets": tickets, "privacy_erasure_requests": erasure_requests})


def event_row(warehouse, event_id: str) -> dict:
    rows = warehouse.rows(f"select * from staging.stg_sendgrid__events where event_id = '{event_id}'")
    assert len(rows) == 1
    return rows[0]


def ticket_row(warehouse, ticket_id: int) -> dict:
    rows = warehouse.rows(f"select * from staging.stg_zendesk__tickets where ticket_id = {ticket_id}")
    assert len(rows) == 1
    return rows[0]


def test_duplicate_sg_event_id_across_files_is_counted_once_keeping_the_earliest_copy(warehouse):
    row = event_row(warehouse, "ev1")
    assert (row["source_file"], row["source_line_number"], row["received_date"]) == (
        EVENTS_DAY_1, 1, datetime.date(2024, 3, 5))
    assert warehouse.rows("select count(*) as events from staging.stg_sendgrid__events") == [{"events": 6}]


@pytest.mark.parametrize(("event_id", "is_machine_open"), [
    ("ev1", True),   # sg_machine_open true
    ("ev3", False),  # sg_machine_open false
    ("ev2", False),  # key absent
])
def test_machine_opens_are_flagged(warehouse, event_id, is_machine_open):
    assert event_row(warehouse, event_id)["is_machine_open"] is is_machine_open


@pytest.mark.parametrize(("event_id", "categories"), [
    ("ev1", ["newsletter"]),       # a string
    ("ev2", ["promo", "spring"]),  # a list
    ("ev3", []),                   # absent
])
def test_category_string_or_list_becomes_a_list(warehouse, event_id, categories):
    assert event_row(warehouse, event_id)["categories"] == categories


def test_event_time_is_utc_from_unix_seconds_and_late_arrivals_are_flagged(warehouse):
    late, on_time = event_row(warehouse, "ev4"), event_row(warehouse, "ev2")
    assert late["event_at"] == datetime.datetime(2024, 3, 2, 10, 0)
    assert (late["is_late"], on_time["is_late"]) == (True, False)


def test_event_email_is_normalized(warehouse):
    row = event_row(warehouse, "ev4")
    assert (row["email"], row["email_normalized"], row["is_email_valid"]) == (
        " Reader@Example.COM ", "reader@example.com", True)


def test_bounce_and_unsubscribe_details_are_typed(warehouse):
    bounce, unsubscribe = event_row(warehouse, "ev6"), event_row(warehouse, "ev7")
    assert (bounce["bounce_type"], bounce["reason"]) == ("blocked", "550 blocked")
    assert unsubscribe["asm_group_id"] == 42


def test_latest_ticket_update_wins(warehouse):
    assert ticket_row(warehouse, 501)["status"] == "pending"


def test_stale_ticket_version_delivered_late_does_not_win(warehouse):
    assert ticket_row(warehouse, 502)["status"] == "solved"


def test_ticket_is_flattened_with_a_normalized_requester(warehouse):
    row = ticket_row(warehouse, 501)
    assert (row["channel"], row["tags"], row["satisfaction_score"], row["satisfaction_comment"]) == (
        "email", ["vip", "billing"], "good", "Thanks")
    assert (row["first_reply_minutes"], row["full_resolution_minutes"], row["reopens"]) == (12, 240, 1)
    assert (row["requester_id"], row["requester_name_normalized"], row["requester_email_normalized"]) == (
        9, "elodie durand", "elodie@example.fr")
    assert (row["requester_phone_e164"], row["is_requester_phone_valid"]) == ("+14155550132", True)


def test_ticket_with_null_objects_flattens_to_nulls(warehouse):
    row = ticket_row(warehouse, 503)
    assert (row["requester_id"], row["requester_email"], row["satisfaction_score"], row["priority"]) == (
        None, None, None, None)


def test_erasure_request_delivered_twice_keeps_its_first_copy(warehouse):
    rows = warehouse.rows("select * from staging.stg_privacy__erasure_requests")
    assert [(row["request_id"], row["email_normalized"], row["received_at"], row["extract_date"]) for row in rows] == [
        ("r1", "gone@example.com", datetime.datetime(2024, 3, 5, 8, 0), datetime.date(2024, 3, 5))]

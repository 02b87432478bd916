"""support/tickets follow the Zendesk incremental export contract; privacy files the erasure contract."""

from __future__ import annotations

from tests.demo_exports.demo_export_contract import ERASURE_COLUMNS, ISO_UTC, daily_files, is_int, parse_iso_utc, read_csv, read_jsonl

STATUSES = {"new", "open", "pending", "hold", "solved", "closed", "deleted"}


def _tickets(demo_dir):
    for day, path in daily_files(demo_dir, "support", "tickets").items():
        for ticket in read_jsonl(path):
            yield day, ticket


def test_tickets_have_required_keys_and_types(demo_dir):
    count = 0
    for day, t in _tickets(demo_dir):
        count += 1
        assert is_int(t["id"]) and t["status"] in STATUSES
        assert ISO_UTC.match(t["created_at"]) and ISO_UTC.match(t["updated_at"])
        assert parse_iso_utc(t["created_at"]) <= parse_iso_utc(t["updated_at"])
        assert parse_iso_utc(t["updated_at"]).date() <= day
        assert t["priority"] in {"low", "normal", "high", "urgent", None}
        assert t["type"] in {"question", "incident", "problem", "task", None}
        assert isinstance(t["subject"], str) and isinstance(t["description"], str)
        assert t["via"]["channel"] in {"email", "web", "chat", "voice", "api"}
        assert all(isinstance(tag, str) for tag in t["tags"])
        assert t["satisfaction_rating"]["score"] in {"unoffered", "offered", "good", "bad"}
        metrics = t["metrics"]
        assert is_int(metrics["reopens"])
        assert all(metrics[k] is None or is_int(metrics[k]) for k in ("first_reply_minutes", "full_resolution_minutes"))
    assert count > 0


def test_requesters_are_side_loaded(demo_dir):
    for _, t in _tickets(demo_dir):
        requester = t["requester"]
        assert is_int(requester["id"])
        assert all(requester[k] is None or isinstance(requester[k], str) for k in ("name", "email", "phone"))


def test_tickets_are_updated_across_days_with_later_updated_at(demo_dir):
    versions: dict[int, list[str]] = {}
    for _, t in _tickets(demo_dir):
        versions.setdefault(t["id"], []).append(t["updated_at"])
    assert any(len(v) > 1 for v in versions.values())
    assert all(v == sorted(v) and len(set(v)) == len(v) for v in versions.values())


def test_erasure_request_files_hold_the_contract_columns(demo_dir):
    total = 0
    for day, path in daily_files(demo_dir, "privacy", "erasure_requests").items():
        header, rows = read_csv(path)
        assert header == ERASURE_COLUMNS
        for request_id, email, received_at in rows:
            total += 1
            assert request_id and "@" in email and parse_iso_utc(received_at).date() == day
    assert total >= 1

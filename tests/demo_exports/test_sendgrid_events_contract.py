"""email/events files follow the SendGrid Event Webhook contract."""

from __future__ import annotations

import datetime as dt

from tests.demo_exports.demo_export_contract import EMAIL_EVENTS, daily_files, is_int, read_jsonl


def _events(demo_dir):
    for day, path in daily_files(demo_dir, "email", "events").items():
        for event in read_jsonl(path):
            yield day, event


def test_every_line_is_an_object_with_the_required_keys_and_types(demo_dir):
    count = 0
    for day, event in _events(demo_dir):
        count += 1
        assert isinstance(event, dict)
        assert isinstance(event["email"], str) and event["email"]
        assert is_int(event["timestamp"]) and event["event"] in EMAIL_EVENTS
        assert isinstance(event["sg_event_id"], str) and event["sg_event_id"]
        received = dt.datetime.fromtimestamp(event["timestamp"], dt.UTC).date()
        assert day - dt.timedelta(days=6) <= received <= day
    assert count > 0


def test_optional_keys_have_their_contract_types(demo_dir):
    for _, event in _events(demo_dir):
        category = event.get("category")
        assert category is None or isinstance(category, str) or (
            isinstance(category, list) and all(isinstance(c, str) for c in category))
        if event["event"] == "open":
            assert isinstance(event["sg_machine_open"], bool) and event["useragent"] and event["ip"]
        if event["event"] == "click":
            assert event["url"].startswith("https://")
        if event["event"] in {"bounce", "dropped"}:
            assert isinstance(event["reason"], str)
        if event["event"] == "bounce":
            assert event["type"] in {"bounce", "blocked"}
        if event["event"] in {"group_unsubscribe", "group_resubscribe"}:
            assert is_int(event["asm_group_id"])


def test_category_comes_both_as_a_string_and_as_a_list(demo_dir):
    kinds = {type(event.get("category")).__name__ for _, event in _events(demo_dir)}
    assert {"str", "list"} <= kinds


def test_some_files_contain_blank_lines(demo_dir):
    texts = [p.read_text(encoding="utf-8") for p in (demo_dir / "email").iterdir()]
    assert any("\n\n" in text or text.startswith("\n") for text in texts)

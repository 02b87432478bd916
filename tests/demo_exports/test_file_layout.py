"""Folders, file names per extract day, missing days and byte-order marks."""

from __future__ import annotations

import datetime as dt

from tests.demo_exports.demo_export_contract import FILE_PATTERNS, daily_files

EXPORTS = [("crm", "contacts"), ("ecommerce", "orders"), ("ecommerce", "fx_rates"), ("ecommerce", "products"),
           ("email", "events"), ("support", "tickets"), ("privacy", "erasure_requests"), ("experiments", "assignments")]


def test_every_file_is_named_after_its_export_and_an_extract_date_in_the_window(demo_dir, window):
    for folder, pattern in FILE_PATTERNS.items():
        for path in (demo_dir / folder).iterdir():
            match = pattern.match(path.name)
            assert match, path
            assert dt.date.fromisoformat(match.group(1)) in window, path


def test_only_the_contract_folders_and_truth_are_written(demo_dir):
    assert sorted(p.name for p in demo_dir.iterdir()) == ["_truth", "crm", "ecommerce", "email", "experiments", "privacy",
                                                          "support"]


def test_each_export_misses_at_most_three_days_and_never_the_first_or_last(demo_dir, window):
    for folder, stem in EXPORTS:
        dates = daily_files(demo_dir, folder, stem)
        missing = [d for d in window if d not in dates]
        assert len(missing) <= 3, (folder, stem, missing)
        assert window[0] in dates and window[-1] in dates


def test_some_exports_do_miss_a_day_but_erasure_requests_never_do(demo_dir, window):
    missing = {(folder, stem): len(window) - len(daily_files(demo_dir, folder, stem)) for folder, stem in EXPORTS}
    assert missing[("privacy", "erasure_requests")] == 0
    assert all(missing[key] >= 1 for key in missing if key[0] != "privacy")


def test_crm_files_start_with_a_byte_order_mark_and_fx_files_do_not(demo_dir):
    assert all(p.read_bytes().startswith(b"\xef\xbb\xbf") for p in (demo_dir / "crm").iterdir())
    assert not any(p.read_bytes().startswith(b"\xef\xbb\xbf") for p in (demo_dir / "ecommerce").glob("fx_rates_*"))


def test_every_delivered_jsonl_file_is_utf8(demo_dir):
    for path in [*(demo_dir / "email").iterdir(), *(demo_dir / "support").iterdir()]:
        path.read_bytes().decode("utf-8")

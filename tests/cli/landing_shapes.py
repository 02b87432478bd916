"""Ways to cut a generated landing down to what real businesses deliver, and a run over it."""

import csv
import json
import shutil
from pathlib import Path

import pytest

from dagster_project.cli.run_outcome import PipelineOutcome
from dagster_project.cli.run_pipeline import run_pipeline
from dagster_project.settings import load_settings

ADDRESS_AND_PHONE = ["Billing Street", "Billing City", "Billing Zip", "Billing Province", "Billing Country", "Billing Phone"]


def keep_sources(landing: Path, *sources: str) -> None:
    for folder in landing.iterdir():
        if folder.is_dir() and folder.name not in sources:
            shutil.rmtree(folder)


def blank_columns(landing: Path, pattern: str, columns: list[str]) -> None:
    """Empty the cells of `columns` in every CSV matching `pattern`: present in the header, never filled."""
    for path in landing.glob(pattern):
        with path.open(newline="", encoding="utf-8-sig") as file:
            reader = csv.DictReader(file)
            header, rows = reader.fieldnames, list(reader)
        with path.open("w", newline="", encoding="utf-8") as file:
            writer = csv.DictWriter(file, fieldnames=header)
            writer.writeheader()
            writer.writerows({**row, **dict.fromkeys(columns, "")} for row in rows)


def keep_days(landing: Path, days: int) -> None:
    for folder in landing.iterdir():
        if folder.is_dir() and not folder.name.startswith("_"):
            for path in sorted(folder.iterdir())[days:]:
                path.unlink()


def no_emails(landing: Path) -> None:
    keep_sources(landing, "crm", "ecommerce", "support")  # the email tool knows people only by address
    blank_columns(landing, "crm/*.csv", ["Email"])
    blank_columns(landing, "ecommerce/orders_*.csv", ["Email"])
    for path in landing.glob("support/*.jsonl"):
        tickets = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        for ticket in tickets:
            if ticket.get("requester"):
                ticket["requester"]["email"] = None
        path.write_text("".join(json.dumps(ticket) + "\n" for ticket in tickets), encoding="utf-8")


def ten_records(landing: Path) -> None:
    keep_sources(landing, "crm")
    keep_days(landing, 1)
    (contacts,) = landing.glob("crm/*.csv")
    # Ten records, not ten lines: a quoted field (a description) may hold line breaks.
    lines = [line + "\n" for line in contacts.read_text(encoding="utf-8").split("\n")]
    reader = csv.reader(iter(lines))
    for _ in range(11):  # the header and ten records
        next(reader)
    contacts.write_text("".join(lines[:reader.line_num]), encoding="utf-8")


def empty_last_day(landing: Path) -> None:
    """Three days, the third delivered as header-only CSVs and zero-byte JSONL files."""
    keep_days(landing, 3)
    for folder in landing.iterdir():
        if folder.is_dir() and not folder.name.startswith("_"):
            last = sorted(folder.iterdir())[-1]
            header = last.read_text(encoding="utf-8").splitlines(True)[:1] if last.suffix == ".csv" else []
            last.write_text("".join(header), encoding="utf-8")


def run_shape(landing: Path, monkeypatch: pytest.MonkeyPatch) -> PipelineOutcome:
    """`cxp run`'s pipeline over `landing`; the run must succeed."""
    monkeypatch.setenv("CXP_LANDING", str(landing))
    outcome = run_pipeline(load_settings())
    assert outcome.success, outcome.failed_steps
    return outcome


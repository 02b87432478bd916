"""The extract dates a landing zone holds, and the first one the daily partitions start at."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

from dagster_project.ingest.contracts import SOURCE_CONTRACTS

_FIRST_DATE_FILE = "first_extract_date"


def delivered_dates(landing: Path) -> dict[str, list[date]]:
    """Extract dates present per source kind; kinds with no file are left out."""
    present = {contract.name: sorted(contract.delivered_files(landing)) for contract in SOURCE_CONTRACTS}
    return {name: days for name, days in present.items() if days}


def first_partition_date(landing: Path, state_dir: Path, pinned: date | None = None) -> date:
    """The first day the partitions cover: `pinned` when set (CXP_PARTITION_START), else the first
    extract date ever delivered. That date is remembered in `state_dir`, so history stays in the
    partitions when old files are cleared from the landing zone; with nothing delivered yet, today.

    Partitions from a fixed date years back would show as thousands of "missing" days that no
    export was ever going to fill.
    """
    if pinned is not None:
        return pinned
    remembered_file = state_dir / _FIRST_DATE_FILE
    remembered = date.fromisoformat(remembered_file.read_text().strip()) if remembered_file.exists() else None
    landed = [day for days in delivered_dates(landing).values() for day in days[:1]]
    candidates = [*landed, *([remembered] if remembered else [])]
    if not candidates:
        return datetime.now(timezone.utc).date()
    first = min(candidates)
    if first != remembered:
        state_dir.mkdir(parents=True, exist_ok=True)
        remembered_file.write_text(first.isoformat() + "\n")
    return first

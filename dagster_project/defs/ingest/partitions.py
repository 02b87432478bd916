"""Daily partitions keyed by extract date: the date in an export's file name."""

from __future__ import annotations

from datetime import date

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG


def extract_date_partitions(start: date) -> dg.DailyPartitionsDefinition:
    """One partition per UTC extract date, including today's: an export of today may already have landed."""
    return dg.DailyPartitionsDefinition(start_date=start.isoformat(), timezone="UTC", end_offset=1)


def partition_range_tags(first: date, last: date) -> dict[str, str]:
    """Run tags that make one run cover a range of partitions (assets use a single-run backfill policy)."""
    return {
        ASSET_PARTITION_RANGE_START_TAG: first.isoformat(),
        ASSET_PARTITION_RANGE_END_TAG: last.isoformat(),
    }

"""Entry point: simulate a business and write its demo exports and ground truth."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dagster_project.demo_exports.catalog import DEFAULT_CATALOG_SKUS
from dagster_project.demo_exports.export_files import write_exports
from dagster_project.demo_exports.record_corruption import RecordCorruption
from dagster_project.demo_exports.timeline import Timeline
from dagster_project.demo_exports.truth import write_truth
from dagster_project.demo_exports.world import simulate_world

# Files this generator owns: daily exports by name pattern, and the truth folder's files.
_OWNED_FILES = ("crm/contacts_????-??-??.csv", "ecommerce/orders_????-??-??.csv", "ecommerce/fx_rates_????-??-??.csv",
                "ecommerce/products_????-??-??.csv",
                "email/events_????-??-??.jsonl", "support/tickets_????-??-??.jsonl",
                "privacy/erasure_requests_????-??-??.csv", "experiments/assignments_????-??-??.csv",
                "_truth/*.parquet", "_truth/README.md")
# Fewer, and some day of a long window may find nothing at all on sale.
MIN_CATALOG_SKUS = 40


@dataclass(frozen=True)
class GenerationSummary:
    """What one run wrote."""

    out_dir: Path
    start_date: dt.date
    end_date: dt.date
    customers: int
    seed: int
    files_written: int
    rows_per_source: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def __str__(self) -> str:
        rows = ", ".join(f"{name} {count:,}" for name, count in self.rows_per_source.items())
        return (f"{self.customers:,} customers, {self.start_date} .. {self.end_date}: "
                f"{self.files_written:,} files in {self.out_dir} ({self.seconds:.1f} s)\n  rows: {rows}")


def _clear_previous_run(out_dir: Path) -> None:
    """Remove the files an earlier run wrote, so a shorter rerun leaves no stale days behind.

    Only files named like ours are removed: the folder may be a landing directory that also
    holds real exports of other names.
    """
    for pattern in _OWNED_FILES:
        for path in sorted(out_dir.glob(pattern)):
            path.unlink()


def generate_demo_exports(out_dir: Path, customers: int = 10_000, days: int = 365, seed: int = 42,
                          end_date: dt.date | None = None, corruption_scale: float = 1.0,
                          catalog_skus: int = DEFAULT_CATALOG_SKUS) -> GenerationSummary:
    """Write `days` daily exports ending at `end_date` (default yesterday, UTC) for `customers` people.

    `corruption_scale` multiplies every rate of `RecordCorruption` (the slips of real registries;
    0 turns them off). `catalog_skus` is the number of variants the shop sells over the simulated
    years (launched before, during and after the window)."""
    if customers < 1 or days < 1:
        raise ValueError(f"customers and days must be positive, got customers={customers}, days={days}")
    if catalog_skus < MIN_CATALOG_SKUS:
        raise ValueError(f"catalog_skus must be at least {MIN_CATALOG_SKUS}, got {catalog_skus}")
    started = time.perf_counter()
    if end_date is None:
        end_date = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    out_dir = Path(out_dir)
    _clear_previous_run(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.Generator(np.random.PCG64(seed))
    timeline = Timeline(end_date=end_date, days=days)
    world = simulate_world(customers, timeline, rng, RecordCorruption().scaled(corruption_scale), catalog_skus)
    log, written = write_exports(world, out_dir, rng)
    truth_files = write_truth(world, written, out_dir)
    return GenerationSummary(
        out_dir=out_dir,
        start_date=timeline.window_start,
        end_date=end_date,
        customers=customers,
        seed=seed,
        files_written=log.files + truth_files,
        rows_per_source=dict(log.rows),
        seconds=time.perf_counter() - started,
    )

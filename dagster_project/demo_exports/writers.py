"""Writing daily export files: CSV with RFC 4180 quoting (csv module) and JSON Lines."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from dagster_project.demo_exports.delivery import DeliverySchedule
from dagster_project.demo_exports.timeline import Timeline


@dataclass
class WriteLog:
    """Files and data rows written so far, per export."""

    files: int = 0
    rows: dict[str, int] = field(default_factory=dict)

    def add(self, export: str, rows: int) -> None:
        """Count one written file and its data rows."""
        self.files += 1
        self.rows[export] = self.rows.get(export, 0) + rows


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[str | None]], bom: bool = False) -> None:
    """A header row and data rows; None is written as an empty field."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_jsonl(path: Path, lines: Sequence[str], blank_line_at: int | None = None) -> None:
    """One JSON object per line; optionally an empty line where exporters leave one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = list(lines)
    if blank_line_at is not None:
        lines.insert(min(blank_line_at, len(lines)), "")
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("".join(f"{line}\n" for line in lines))


def export_path(out_dir: Path, export: str, timeline: Timeline, offset: int, suffix: str) -> Path:
    """`<out>/<folder>/<stem>_YYYY-MM-DD.<suffix>` for an export named `folder/stem`."""
    return out_dir / f"{export}_{timeline.window_date(offset).isoformat()}.{suffix}"


def partition_by_offset(frame: pl.DataFrame) -> dict[int, pl.DataFrame]:
    """Rows grouped by `extract_offset`, keeping their order."""
    if frame.is_empty():
        return {}
    parts = frame.partition_by("extract_offset", as_dict=True, maintain_order=True)
    return {int(key[0]): part for key, part in parts.items()}


def write_daily_csv(out_dir: Path, export: str, frame: pl.DataFrame, timeline: Timeline,
                    schedule: DeliverySchedule, source: str, log: WriteLog,
                    columns_for_day: Callable[[int], list[str]],
                    bom_for_day: Callable[[int], bool] = lambda offset: False) -> None:
    """One CSV per delivered extract day, header-only on days without rows."""
    parts = partition_by_offset(frame)
    for offset in range(timeline.days):
        if not schedule.is_delivered(source, offset):
            continue
        columns = columns_for_day(offset)
        part = parts.get(offset)
        rows = part.select(columns).rows() if part is not None else []
        write_csv(export_path(out_dir, export, timeline, offset, "csv"), columns, rows, bom_for_day(offset))
        log.add(export, len(rows))


def blank_line_days(days: int, rng: np.random.Generator) -> dict[int, int]:
    """Extract days whose JSON Lines file gets a stray empty line, and the line it goes before."""
    chosen = np.flatnonzero(rng.random(days) < 0.1)
    return {int(day): int(rng.integers(0, 1000)) for day in chosen}


def write_daily_jsonl(out_dir: Path, export: str, frame: pl.DataFrame, render: Callable[[pl.DataFrame], list[str]],
                      timeline: Timeline, schedule: DeliverySchedule, source: str, log: WriteLog,
                      rng: np.random.Generator) -> None:
    """One JSON Lines file per delivered extract day, rendering each day's rows of `frame` separately."""
    blanks = blank_line_days(timeline.days, rng)
    parts = partition_by_offset(frame)
    for offset in range(timeline.days):
        if not schedule.is_delivered(source, offset):
            continue
        part = parts.get(offset)
        lines = render(part) if part is not None else []
        blank = blanks.get(offset)
        write_jsonl(export_path(out_dir, export, timeline, offset, "jsonl"), lines,
                    None if blank is None or not lines else blank % (len(lines) + 1))
        log.add(export, len(lines))

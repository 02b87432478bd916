"""Keeping the warehouse safe: a snapshot before each run writes, a check that the file opens and
the disk has room before a run starts, and a restore for a file that broke.

A DuckDB file cut short (a full disk, a copy stopped halfway) or garbled cannot be repaired, and
the raw layer it holds is the platform's memory of every export: history a landing zone may no
longer have. `cxp run` copies the file aside before its first write (under the run lock, so no
writer is active), keeps the newest `snapshots_kept`, and refuses to start on a file that will
not open, naming it and the snapshot to go back to.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb

SNAPSHOT_GLOB = "warehouse-*.duckdb"
# Room a run needs beyond the snapshot: dbt rebuilds tables beside the ones they replace.
_HEADROOM_SHARE = 0.5
_MIN_FREE_BYTES = 256 * 1024**2
# DuckDB's file starts with a main header and two database headers of 4 KiB each.
_HEADER_BYTES = 3 * 4096


class WarehouseUnsafe(Exception):
    """The run cannot start safely; the message names the file and what to do."""


@dataclass(frozen=True)
class Snapshot:
    path: Path
    bytes: int
    taken_at: datetime


def check_warehouse_opens(warehouse: Path, snapshots_dir: Path) -> None:
    """Raise WarehouseUnsafe when the warehouse exists but DuckDB cannot open and list it."""
    if not warehouse.exists():
        return
    try:
        with duckdb.connect(str(warehouse), read_only=True) as connection:
            connection.execute("SELECT count(*) FROM duckdb_tables()").fetchall()
            block_size = connection.execute("PRAGMA database_size").fetchall()[0][2]
            last_block = _last_block_holding_data(connection)
        # A file cut short may still open (its catalog sits early): every block a table's data
        # sits in must be there (unless a write-ahead log, replayed on open, holds blocks the file
        # has yet to receive). Not every block the header counts: DuckDB leaves free blocks out of
        # the file's tail, so a healthy file can be shorter than its block count.
        expected = _HEADER_BYTES + (last_block + 1) * int(block_size)
        if warehouse.stat().st_size < expected and not warehouse.with_name(warehouse.name + ".wal").exists():
            raise duckdb.IOException(f"the file is {warehouse.stat().st_size:,} bytes; its tables' data reaches block {last_block}, "
                                     f"{expected:,} bytes")
    except duckdb.IOException as error:
        if "Could not set lock" in str(error):
            raise WarehouseUnsafe(f"The warehouse {warehouse} is open in another process ({str(error).splitlines()[0][:300]}). "
                                  "Close it (a `duckdb` shell, a notebook) and run again.") from error
        _raise_damaged(warehouse, snapshots_dir, error)
    except duckdb.Error as error:
        _raise_damaged(warehouse, snapshots_dir, error)


def _last_block_holding_data(connection: duckdb.DuckDBPyConnection) -> int:
    """The highest block id any table's stored data uses (-1 for none): a look at metadata only."""
    last = -1
    for schema, table in connection.execute("SELECT schema_name, table_name FROM duckdb_tables() WHERE NOT temporary").fetchall():
        row = connection.execute(f"SELECT max(block_id) FROM pragma_storage_info('\"{schema}\".\"{table}\"') WHERE persistent").fetchone()
        assert row is not None  # An aggregate without GROUP BY always returns one row.
        (block,) = row
        last = max(last, -1 if block is None else int(block))
    return last


def _raise_damaged(warehouse: Path, snapshots_dir: Path, error: Exception) -> None:
    latest = latest_snapshot(snapshots_dir)
    advice = (f"`cxp restore` puts back the snapshot of {latest.taken_at:%Y-%m-%d %H:%M} UTC ({latest.path})"
              if latest else "there is no snapshot to restore: move the file aside and `cxp run` rebuilds from the landing zone")
    raise WarehouseUnsafe(f"The warehouse {warehouse} is damaged and was not touched ({str(error).splitlines()[0][:200]}). "
                          f"{advice[0].upper() + advice[1:]}.") from error


def check_free_space(home: Path, warehouse: Path, snapshots_kept: int) -> None:
    """Raise WarehouseUnsafe when the disk holding `home` lacks room for a snapshot and a run."""
    size = warehouse.stat().st_size if warehouse.exists() else 0
    needed = int(size * (_HEADROOM_SHARE + (1 if snapshots_kept else 0))) + _MIN_FREE_BYTES
    home.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(home).free
    if free < needed:
        raise WarehouseUnsafe(f"Only {free / 1024**2:,.0f} MB free on the disk holding {home}; this run needs about "
                              f"{needed / 1024**2:,.0f} MB (the warehouse is {size / 1024**2:,.0f} MB"
                              f"{', plus its snapshot' if snapshots_kept else ''}). Free space (older snapshots are in "
                              f"{home / 'snapshots'}), or set CXP_SNAPSHOTS_KEPT=0, and run again.")


def take_snapshot(warehouse: Path, snapshots_dir: Path, keep: int | None) -> Snapshot | None:
    """Copy the warehouse aside (owner-only), then drop all but the newest `keep` snapshots
    (`None`: drop none; 0 or less: take none)."""
    if (keep is not None and keep <= 0) or not warehouse.exists():
        return None
    snapshots_dir.mkdir(parents=True, exist_ok=True)
    taken_at = datetime.now(timezone.utc)
    target = snapshots_dir / f"warehouse-{taken_at:%Y%m%dT%H%M%S%f}.duckdb"
    partial = target.with_suffix(".partial")
    try:
        shutil.copyfile(warehouse, partial)
        with open(partial, "rb+") as file:
            os.fsync(file.fileno())
        partial.chmod(0o600)
        partial.replace(target)
    except OSError:
        partial.unlink(missing_ok=True)
        raise
    for old in list_snapshots(snapshots_dir)[keep:] if keep is not None else []:
        old.path.unlink()
    return Snapshot(target, target.stat().st_size, taken_at)


def list_snapshots(snapshots_dir: Path) -> list[Snapshot]:
    """Snapshots, newest first."""
    if not snapshots_dir.exists():
        return []
    found = []
    for path in snapshots_dir.glob(SNAPSHOT_GLOB):
        stamp = path.stem.removeprefix("warehouse-")
        try:
            taken_at = datetime.strptime(stamp, "%Y%m%dT%H%M%S%f").replace(tzinfo=timezone.utc)
        except ValueError:
            continue
        found.append(Snapshot(path, path.stat().st_size, taken_at))
    return sorted(found, key=lambda snapshot: snapshot.taken_at, reverse=True)


def latest_snapshot(snapshots_dir: Path) -> Snapshot | None:
    snapshots = list_snapshots(snapshots_dir)
    return snapshots[0] if snapshots else None


def restore_snapshot(warehouse: Path, snapshot: Snapshot) -> Path | None:
    """Put `snapshot` back as the warehouse; the file it replaces is kept beside it, renamed.
    Returns where the replaced file went (None when there was none)."""
    with duckdb.connect(str(snapshot.path), read_only=True) as connection:
        connection.execute("SELECT count(*) FROM duckdb_tables()").fetchall()  # a snapshot that opens
    kept = None
    if warehouse.exists():
        kept = warehouse.with_name(f"{warehouse.name}.replaced-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}")
        warehouse.replace(kept)
        for suffix in (".wal",):
            log = warehouse.with_name(warehouse.name + suffix)
            if log.exists():
                log.replace(kept.with_name(kept.name + suffix))
    partial = warehouse.with_suffix(".restoring")
    shutil.copyfile(snapshot.path, partial)
    partial.chmod(0o600)
    partial.replace(warehouse)
    return kept

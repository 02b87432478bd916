"""Rewriting the warehouse after an erasure: DuckDB leaves deleted rows (and replaced tables) in free
blocks of its file until they are reused, where a byte-level read still finds them. A copy of the
live database holds none of them; it replaces the file.

The copy runs in a child process that attaches the warehouse for writing: DuckDB's file lock then
proves no other connection, in this process or another, has the file open while it is replaced.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb


class CompactionError(Exception):
    """The warehouse could not be rewritten; it is left as it was."""


@dataclass(frozen=True)
class Compaction:
    bytes_before: int
    bytes_after: int


def compact_warehouse(path: Path, timeout_seconds: int = 3600) -> Compaction:
    """Replace the DuckDB file at `path` with a copy of its live data (tables, keys and all)."""
    before = path.stat().st_size
    finished = subprocess.run([sys.executable, "-m", __name__, str(path)], capture_output=True, text=True, timeout=timeout_seconds)
    if finished.returncode != 0:
        raise CompactionError(f"Could not rewrite {path}: {finished.stderr.strip().splitlines()[-1] if finished.stderr.strip() else 'no message'}")
    return Compaction(before, path.stat().st_size)


def _copy_and_replace(path: Path) -> None:
    copy = path.with_name(path.stem + "_compacting" + path.suffix)
    copy.unlink(missing_ok=True)
    copy.with_name(copy.name + ".wal").unlink(missing_ok=True)
    try:
        with duckdb.connect(str(copy)) as connection:
            (target,) = connection.execute("SELECT current_database()").fetchall()[0]
            # Attached for writing: refused while anything else has the file open.
            connection.execute("ATTACH ? AS erased_source", [str(path)])
            connection.execute("CHECKPOINT erased_source")
            connection.execute(f'COPY FROM DATABASE erased_source TO "{target}"')
            connection.execute("DETACH erased_source")
            connection.execute("CHECKPOINT")
        stale_log = path.with_name(path.name + ".wal")
        if stale_log.exists():
            raise CompactionError(f"{stale_log} is still there after a checkpoint; the warehouse is left as it was")
        copy.replace(path)
    finally:
        copy.unlink(missing_ok=True)


if __name__ == "__main__":
    _copy_and_replace(Path(sys.argv[1]))

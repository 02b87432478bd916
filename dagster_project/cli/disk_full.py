"""A disk that fills during a run ends it with one message: which file could not grow, how much room
is left, and how to put the warehouse back. DuckDB, SQLite, dbt and the OS each say it their own way.
"""

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path

from dagster_project.settings import Settings
from dagster_project.warehouse_snapshots import WarehouseUnsafe

# How "the file cannot grow" reads in DuckDB's, SQLite's and the OS's errors (ENOSPC, EFBIG).
_DISK_FULL = ("no space left on device", "database or disk is full", "file too large", "disk quota exceeded")
# SQLite reports a write the OS refused as a plain I/O error: disk-full only when space is short.
_IO_ERROR = "disk i/o error"
_LOW_SPACE_BYTES = 64 * 1024**2


def step_error_says_disk_full(error, home: Path) -> bool:
    """Whether a step's error (Dagster's record of it, or one of its causes) says a file could not grow."""
    messages = []
    while error is not None:
        messages.append(error.message or "")
        error = error.cause or error.context
    return _says_cannot_grow(messages, home)


def _cannot_grow(error: BaseException, home: Path) -> bool:
    """`step_error_says_disk_full` for a Python exception and its chain."""
    messages = []
    while error is not None:
        messages.append(str(error))
        error = error.__cause__ or error.__context__
    return _says_cannot_grow(messages, home)


@contextlib.contextmanager
def disk_full_named(settings: Settings, what: str, snapshot: Path | None = None) -> Iterator[None]:
    """Turn an error that says a file could not grow into the one disk-full message, naming `what`."""
    try:
        yield
    except Exception as error:
        if _cannot_grow(error, settings.home):
            raise WarehouseUnsafe(disk_full_message(settings.home, what, settings.snapshots_dir, snapshot)) from error
        raise


def _says_cannot_grow(messages: list[str], home: Path) -> bool:
    lowered = [message.lower() for message in messages]
    return any(sign in message for message in lowered for sign in _DISK_FULL) or \
        (any(_IO_ERROR in message for message in lowered) and _space_is_short(home))


def _space_is_short(home: Path) -> bool:
    import resource

    limit, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    return limit != resource.RLIM_INFINITY or shutil.disk_usage(home).free < _LOW_SPACE_BYTES


def disk_full_message(home: Path, what: str, snapshots_dir: Path, snapshot: Path | None = None) -> str:
    """The one message a run that ran out of room ends with: where, how much is free, what to do."""
    free = shutil.disk_usage(home).free / 1024**2
    restore = (f"`cxp restore` puts back the warehouse as it was before this run ({snapshot})" if snapshot
               else f"`cxp restore --list` shows the warehouse snapshots in {snapshots_dir}")
    return (f"The disk holding {home} is full ({free:,.0f} MB free), or a file-size limit was hit: {what} could not write. "
            "Each step's writes are one transaction and were rolled back; free space and run again, which replays them. "
            f"Should the warehouse no longer open, {restore}.")

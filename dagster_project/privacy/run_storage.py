"""Erasure in Dagster's own storage: the run history, event logs and asset index under
`$CXP_HOME/dagster` are SQLite files of serialized events, kept for as long as the instance lives.

The platform keeps personal data out of what it hands Dagster (metadata holds counts, ids and
withheld values: see `quality/check_results.py`), but ids are still personal data of the person
they identify, and histories written before that rule may hold more. For an erased person every
text field of every table is searched for their identifiers (emails, source ids, record and
customer ids) as whole tokens, and the line of text holding one (a row of a metadata table, a log
message, a JSON string) is replaced by `[erased]`. Pages are rewritten with `secure_delete` and
the write-ahead log checkpointed, so the old bytes leave the files.

Dagster's storage layout is touched here only (tests/privacy/test_run_storage_scrub.py fails when
it changes): SQLite files with TEXT columns holding JSON, lines inside JSON strings as `\\n`,
and the steps' captured output as text files beside them.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterable
from pathlib import Path

ERASED = "[erased]"
# A token boundary: identifiers are matched whole, never inside a longer id, email or number.
_BEFORE = r"(?<![A-Za-z0-9_@.+\-])"
_AFTER = r"(?![A-Za-z0-9_@\-]|\.[A-Za-z0-9])"
# The text around a match up to the nearest line break (`\\n` as JSON writes it), end of string
# or newline: a whole row of a metadata table, a whole log line. Escapes are taken whole, so the
# JSON around the replacement stays valid.
_SEGMENT = r'(?:[^"\\\n]|\\[^n])*'


def scrub_run_storage(dagster_home: Path, identifiers: Iterable[str], timeout_seconds: float = 60.0) -> dict[str, int]:
    """Replace every line of text holding one of `identifiers` in Dagster's SQLite files under
    `dagster_home`; returns the rows changed per file (relative path), files without any left out."""
    needles = sorted({value.strip() for value in identifiers if value and len(value.strip()) >= 4}, key=len, reverse=True)
    if not needles or not dagster_home.exists():
        return {}
    alternatives = _BEFORE + "(?:" + "|".join(map(re.escape, needles)) + ")" + _AFTER
    pattern = re.compile(r"(?<!\\)" + _SEGMENT + alternatives + _SEGMENT, re.IGNORECASE)
    line = re.compile(r"^.*" + alternatives + r".*$", re.IGNORECASE | re.MULTILINE)
    changed = {}
    for path in sorted(p for p in dagster_home.rglob("*") if p.is_file()):
        if path.suffix == ".db":
            rows = _scrub_file(path, needles, pattern, timeout_seconds)
        elif path.suffix in (".db-wal", ".db-shm", ".db-journal"):
            continue  # checkpointed with their database
        else:
            rows = _scrub_text_file(path, line)
        if rows:
            changed[str(path.relative_to(dagster_home))] = rows
    return changed


def _scrub_text_file(path: Path, line: re.Pattern[str]) -> int:
    """Captured stdout/stderr of steps (compute logs) and other text: each line holding an
    identifier replaced, the file rewritten in place (same inode, then synced)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return 0
    scrubbed, count = line.subn(ERASED, text)
    if count:
        with open(path, "r+", encoding="utf-8") as file:
            file.write(scrubbed)
            file.truncate()
            file.flush()
            os.fsync(file.fileno())
    return count


def _scrub_file(path: Path, needles: list[str], pattern: re.Pattern[str], timeout_seconds: float) -> int:
    try:
        connection = sqlite3.connect(path, timeout=timeout_seconds)
    except sqlite3.Error:
        return 0
    try:
        try:
            tables = [name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        except sqlite3.DatabaseError:  # not a SQLite file
            return 0
        connection.execute("PRAGMA secure_delete = ON")
        changed = 0
        for table in tables:
            columns = [name for _, name, kind, *_ in connection.execute(f'PRAGMA table_info("{table}")')
                       if kind.upper() in ("TEXT", "") or kind.upper().startswith("VARCHAR")]
            for column in columns:
                # LIKE is case-insensitive for ASCII: a cheap first pass; the pattern decides.
                where = " OR ".join(f'"{column}" LIKE ?' for _ in needles)
                candidates = connection.execute(f'SELECT rowid, "{column}" FROM "{table}" WHERE {where}',
                                                [f"%{needle}%" for needle in needles]).fetchall()
                updates = [(scrubbed, rowid) for rowid, text in candidates
                           if isinstance(text, str) and (scrubbed := pattern.sub(ERASED, text)) != text]
                if updates:
                    connection.executemany(f'UPDATE "{table}" SET "{column}" = ? WHERE rowid = ?', updates)
                    changed += len(updates)
        connection.commit()
        if changed:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return changed
    finally:
        connection.close()

"""A search of everything a platform home holds for traces of a person, for the erasure tests:
every table and the bytes of every DuckDB file, every Parquet file, every SQLite database (the
online store, Dagster's run storage), a Redis online store, and every other file (Feast's registry,
the model registry's JSON, cards and models, Great Expectations results, logs)."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb


@dataclass(frozen=True)
class Person:
    """What identifies the person: exact strings (emails, phones, ids) and a name, found when a
    row holds the first and the last name together (a file: the full name as written)."""

    strings: list[str]
    first_name: str
    last_name: str


_TOKENS = "regexp_extract_all(lower({text}), '[^\\s,;:\"''{{}}()\\[\\]<>|=/]+')"


def _row_text_predicate(text_sql: str) -> str:
    """A row holds the person when one of its words is one of their strings, or two are their names.
    Only rows whose text contains one of them as a substring are split into words (DuckDB evaluates
    the second half of an AND on the rows the first half kept): the same answer, several times faster."""
    tokens = _TOKENS.format(text=text_sql)
    return (f"regexp_matches(lower({text_sql}), $candidates) AND "
            f"(list_has_any({tokens}, $needles) OR (list_contains({tokens}, $first) AND list_contains({tokens}, $last)))")


def _parameters(person: Person) -> dict:
    needles = [needle.lower() for needle in person.strings]
    return {"needles": needles, "first": person.first_name.lower(), "last": person.last_name.lower(),
            "candidates": "|".join(re.escape(text) for text in [*needles, person.first_name.lower()] if text)}


def find_traces(home: Path, person: Person, skip: Iterable[str] = ("landing",), redis_port: int | None = None,
                files: bool = True) -> list[str]:
    """`<where>: <count>` for every place under `home` (but the skipped folders) holding the person;
    with `files=False`, in the Redis online store alone."""
    skipped = [home / name for name in skip]
    paths = [path for path in sorted(home.rglob("*")) if path.is_file() and not any(path.is_relative_to(s) for s in skipped)] if files else []
    found: list[str] = []
    parameters = _parameters(person)
    with duckdb.connect() as scanner:
        for path in paths:
            # Databases are read twice: their tables, and their bytes (rows deleted but left in free blocks).
            if path.suffix in (".duckdb", ".db") and _bytes_hold(path.read_bytes(), person, whole_file=True):
                found.append(f"{path.relative_to(home)}: bytes of the file")
            if path.suffix == ".duckdb":
                found += _duckdb_traces(path, parameters)
            elif path.suffix == ".parquet":
                (count,) = scanner.execute(f"SELECT count(*) FROM read_parquet($path) AS t WHERE {_row_text_predicate('CAST(t AS VARCHAR)')}",
                                           {"path": str(path), **parameters}).fetchall()[0]
                if count:
                    found.append(f"{path.relative_to(home)}: {count}")
            elif path.suffix in (".db", ".sqlite") and _is_sqlite(path):
                found += [f"{path.relative_to(home)} {where}" for where in _sqlite_traces(path, person)]
            elif path.suffix != ".db":
                if _bytes_hold(path.read_bytes(), person, whole_file=True):
                    found.append(f"{path.relative_to(home)}: file")
    if redis_port is not None:
        import redis

        client = redis.Redis(port=redis_port)
        for key in client.scan_iter(count=1000):
            # Apart, as SQLite's cells are: a short value ending one field is not glued to the next.
            values = b"\x00".join(client.hgetall(key).values()) if client.type(key) == b"hash" else (client.get(key) or b"")
            if _bytes_hold(key + b"\x00" + values, person):
                found.append(f"redis key {key!r}")
    return found


def _duckdb_traces(path: Path, parameters: dict) -> list[str]:
    found = []
    with duckdb.connect(str(path), read_only=True) as connection:
        tables = connection.execute("SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
                                    "ORDER BY ALL").fetchall()
        for schema, table in tables:
            (count,) = connection.execute(f'SELECT count(*) FROM "{schema}"."{table}" AS t WHERE {_row_text_predicate("CAST(t AS VARCHAR)")}',
                                          parameters).fetchall()[0]
            if count:
                found.append(f"{path.name} {schema}.{table}: {count}")
    return found


def _is_sqlite(path: Path) -> bool:
    with path.open("rb") as file:
        return file.read(16) == b"SQLite format 3\x00"


def _sqlite_traces(path: Path, person: Person) -> list[str]:
    found = []
    with sqlite3.connect(path) as connection:
        tables = [name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            count = sum(_bytes_hold(b"\x00".join(_as_bytes(cell) for cell in row), person)
                        for row in connection.execute(f'SELECT * FROM "{table}"'))
            if count:
                found.append(f"{table}: {count}")
    return found


def _as_bytes(cell: object) -> bytes:
    return cell if isinstance(cell, bytes) else str(cell).encode()


# What a word of serialized text is made of: an email, a phone or an id stays one word, and so
# does a name with letters beyond ASCII (UTF-8's bytes of "ë" are 0x80 or more).
_NOT_A_WORD = re.compile(rb"[^a-z0-9@.+_\x80-\xff-]+")
_WORD_BYTES = frozenset(byte for byte in range(256) if not _NOT_A_WORD.match(bytes([byte])))
_SHORT = 8


def _bytes_hold(data: bytes, person: Person, whole_file: bool = False) -> bool:
    """Serialized cells (protobuf values, JSON) or whole files (model files, logs, a database's
    bytes): a string of 8 characters or more anywhere; a shorter one only as a whole word, as a
    substring it is inside too many bytes by chance. Short numbers (ticket ids) are left to the
    tables' search: even as whole words about 1 in 150 random five-digit numbers is in a warehouse
    file's bytes. Names: in one cell both as words; in a whole file, where any two common names
    turn up somewhere, the full name as written ("ann lee"). A pattern runs only where a plain
    substring search found its text."""
    lowered = data.lower()
    for needle in {text.lower().encode() for text in person.strings}:
        if needle in lowered and (len(needle) >= _SHORT or (not needle.isdigit() and _holds_words(lowered, re.escape(needle)))):
            return True
    first, last = person.first_name.lower().encode(), person.last_name.lower().encode()
    if first not in lowered or last not in lowered:
        return False
    if whole_file:
        return _holds_words(lowered, re.escape(first) + rb" +" + re.escape(last))
    words = set(_NOT_A_WORD.split(lowered))
    return first in words and last in words


def _holds_words(lowered: bytes, pattern: bytes) -> bool:
    """Whether `pattern` (starting with literal text, which keeps the search quick) matches whole
    words: no word character just before or after the match."""
    for match in re.finditer(pattern, lowered):
        start, end = match.span()
        if (start == 0 or lowered[start - 1] not in _WORD_BYTES) and (end == len(lowered) or lowered[end] not in _WORD_BYTES):
            return True
    return False

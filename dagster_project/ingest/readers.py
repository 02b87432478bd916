"""Read one export file into loadable rows and quarantined rows, or reject the file as a whole.

CSV records are tokenised by Python's `csv` module in strict mode: it follows RFC 4180,
reports the physical line each record starts on, and tells a malformed record from a
truncated file, which polars' reader cannot. JSON Lines are split by line. The per-row
checks then run vectorised in polars (`validation.py`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import polars as pl

from dagster_project.ingest.contracts import SourceContract
from dagster_project.ingest.validation import PARSE_PROBLEM, REASON, with_quarantine_reason

LINE_NUMBER = "_line_number"
LINE_END = "_line_end"


class ContractViolation(Exception):
    """A file that breaks the contract as a whole: nothing of it may be loaded."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


@dataclass(frozen=True)
class ParsedExport:
    """The rows of one file that pass the contract, and those quarantined with a reason."""

    rows: pl.DataFrame
    """CSV: the contract columns as text (empty cells null); JSONL: `payload`. Both with `_line_number`."""
    quarantine: pl.DataFrame
    """`_line_number`, `reason`, `record` (the original text of the record, for replay)."""
    file_sha256: str
    file_bytes: int


def read_export(path: Path, contract: SourceContract, latest_allowed: datetime | None = None) -> ParsedExport:
    """Parse one delivered file according to its contract; rows stamped after `latest_allowed`
    are quarantined (see `with_quarantine_reason`)."""
    data = path.read_bytes()
    text = _decode_text(path, data)
    if contract.file_format == "csv":
        lines = io.StringIO(text, newline="").readlines()
        frame = with_quarantine_reason(_read_csv_records(path, text, lines, contract), contract, latest_allowed)
        flagged = frame.filter(pl.col(REASON).is_not_null())
        # The original text of a quarantined record, so a person can see and replay it.
        record = ["".join(lines[start - 1 : end]) for start, end in zip(flagged[LINE_NUMBER], flagged[LINE_END])]
        quarantine = flagged.select(LINE_NUMBER, REASON).with_columns(pl.Series("record", record, dtype=pl.String))
        rows = frame.filter(pl.col(REASON).is_null()).select(*contract.columns, LINE_NUMBER)
    else:
        frame = with_quarantine_reason(_read_jsonl_lines(path, text), contract, latest_allowed)
        quarantine = frame.filter(pl.col(REASON).is_not_null()).select(LINE_NUMBER, REASON, pl.col("payload").alias("record"))
        rows = frame.filter(pl.col(REASON).is_null()).select("payload", LINE_NUMBER)
        if rows.height == 0 and quarantine.height > 0:
            sample = quarantine.row(0, named=True)
            raise ContractViolation(
                path, f"not JSON Lines: none of its {quarantine.height} lines is a valid record "
                f"(line {sample[LINE_NUMBER]}: {sample[REASON]})"
            )
    return ParsedExport(rows=rows, quarantine=quarantine, file_sha256=hashlib.sha256(data).hexdigest(), file_bytes=len(data))


def _decode_text(path: Path, data: bytes) -> str:
    nul = data.find(b"\x00")
    if nul >= 0:
        raise ContractViolation(path, f"binary content (NUL byte at offset {nul}); expected UTF-8 text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ContractViolation(path, f"not UTF-8 text: invalid byte at offset {error.start}") from error


def _read_csv_records(path: Path, text: str, lines: list[str], contract: SourceContract) -> pl.DataFrame:
    reader = csv.reader(lines, strict=True)
    header = _read_header(path, reader, contract)
    positions = {name: index for index, name in enumerate(header)}
    wanted = [positions[column] for column in contract.columns]
    records: list[list[str]] = []
    starts: list[int] = []
    ends: list[int] = []
    problems: list[tuple[int, int, str]] = []
    previous_end = reader.line_num
    while True:
        start = previous_end + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            if str(error) == "unexpected end of data":
                raise ContractViolation(path, f"truncated: the record starting at line {start} ends inside a quoted field") from error
            problems.append((start, reader.line_num, f"malformed CSV record: {error}"))
            previous_end = reader.line_num
            continue
        previous_end = reader.line_num
        if not record:
            continue  # a blank line is not a record
        if len(record) != len(header):
            if reader.line_num == len(lines) and not text.endswith(("\n", "\r")) and len(record) < len(header):
                raise ContractViolation(path, f"truncated: the last record (line {start}) has {len(record)} of {len(header)} fields")
            problems.append((start, reader.line_num, f"expected {len(header)} fields, found {len(record)}"))
            continue
        if reader.line_num == len(lines) and not text.endswith(("\n", "\r")):
            # Every field is there, but the export may have stopped inside the last one (0.662289 cut
            # to 0.66 reads as a valid rate): a record the file does not close is kept out of the load.
            problems.append((start, reader.line_num, "the file ends inside this record, without a line break: it may be "
                                                     "cut off; re-deliver the file to load it"))
            continue
        records.append([record[index] for index in wanted])
        starts.append(start)
        ends.append(reader.line_num)
    frame = pl.DataFrame(records, schema={column: pl.String for column in contract.columns}, orient="row")
    frame = frame.with_columns(
        pl.when(pl.col(column).str.len_bytes() > 0).then(pl.col(column)) for column in contract.columns
    ).with_columns(
        pl.Series(LINE_NUMBER, starts, dtype=pl.Int64),
        pl.Series(LINE_END, ends, dtype=pl.Int64),
        pl.lit(None, pl.String).alias(PARSE_PROBLEM),
    )
    if problems:
        problem_starts, problem_ends, problem_texts = zip(*problems)
        bad = pl.DataFrame(
            {LINE_NUMBER: problem_starts, LINE_END: problem_ends, PARSE_PROBLEM: problem_texts},
            schema={LINE_NUMBER: pl.Int64, LINE_END: pl.Int64, PARSE_PROBLEM: pl.String},
        )
        frame = pl.concat([frame, bad], how="diagonal").sort(LINE_NUMBER)
    return frame


def _read_header(path: Path, reader: Iterator[list[str]], contract: SourceContract) -> list[str]:
    try:
        header = next(reader)
    except StopIteration:
        return list(contract.columns)  # a zero-byte file: a day with nothing to report
    except csv.Error as error:
        raise ContractViolation(path, f"unreadable header row: {error}") from error
    header = [name.strip() for name in header]
    # Two columns of one contract name: which holds the data is anyone's guess (the last would win).
    repeated = [column for column in contract.columns if header.count(column) > 1]
    if repeated:
        where = "; ".join(f"{column!r} at columns {', '.join(str(i + 1) for i, name in enumerate(header) if name == column)}"
                          for column in repeated)
        raise ContractViolation(path, f"duplicated column name(s) in the header: {where}")
    missing = [column for column in contract.columns if column not in header]
    if missing:
        hint = ""
        if len(header) == 1:
            for delimiter, label in ((";", "semicolon"), ("\t", "tab"), ("|", "pipe")):
                if delimiter in header[0]:
                    hint = f"; the header looks {label}-delimited, the contract requires commas"
        raise ContractViolation(
            path, f"missing required column(s) {', '.join(repr(c) for c in missing)}{hint} (header: {', '.join(header)[:300]})"
        )
    return header


def _read_jsonl_lines(path: Path, text: str) -> pl.DataFrame:
    lines = text.split("\n")
    if lines and not text.endswith("\n"):
        last = lines[-1].strip()
        if last:
            try:
                json.loads(last)
            except json.JSONDecodeError as error:
                raise ContractViolation(path, f"truncated: the last line ({len(lines)}) is incomplete JSON: {error.msg}") from error
    frame = pl.DataFrame({"payload": lines, LINE_NUMBER: pl.int_range(1, len(lines) + 1, eager=True)})
    frame = frame.with_columns(pl.col("payload").str.strip_chars_end("\r"))
    return frame.filter(pl.col("payload").str.strip_chars().str.len_bytes() > 0)

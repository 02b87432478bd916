"""The export contract as a document in the repository, written from the contracts the readers
enforce (`contracts.py`), so what a newcomer reads is what cxp checks.

    python -m dagster_project.ingest.contract_document     # rewrites EXPORT_CONTRACT.md

`tests/ingest/test_contract_document.py` fails when the file and the code disagree.
"""

from __future__ import annotations

import sys
from pathlib import Path

from dagster_project.ingest.contracts import SOURCE_CONTRACTS, SourceContract

DOCUMENT = Path(__file__).with_name("EXPORT_CONTRACT.md")

_RULES = """\
## Delivery

- One file per source per day, named `<stem>_YYYY-MM-DD.<csv|jsonl>` in the source's folder of the
  landing directory. The date in the name is the extract date (UTC) and the partition of that file;
  files named otherwise are not read.
- A day may be missing; a source may be missing altogether (its features are null). A file may be
  delivered again for the same day: the re-delivery replaces that day, it never adds to it. A
  header-only CSV empties its day on purpose; a zero-byte re-delivery of a day that holds rows is
  refused.
- CSV: UTF-8 (a byte-order mark is allowed), comma-separated, RFC 4180 quoting (fields may hold
  commas, quotes and line breaks), a header row. Columns are found by name: their order does not
  matter and extra columns are ignored; a missing, renamed or duplicated contract column refuses
  the file.
- JSONL: UTF-8, one JSON object per line; blank lines are skipped; every key is kept in the raw
  payload, the keys listed below are checked.

## Bad input

A file that breaks the contract as a whole (binary, truncated, wrong delimiter, a missing or
duplicated column) fails its partition with a message naming the file and the problem, and loads
nothing of it. A row that breaks it (an empty required value, a value not in its format, a line
that is not JSON, a last record not closed by a line break, a time later than its file's day
allows) goes to `raw.quarantine` with its file, line number, reason and original text; fix the
file and deliver it again to replay the day.
"""


def render_contract() -> str:
    """The whole document, from `SOURCE_CONTRACTS`."""
    layout = "\n".join(f"  {c.folder}/{c.file_stem}_YYYY-MM-DD{c.suffix}" for c in SOURCE_CONTRACTS)
    parts = [
        "# Export contract\n",
        "What cxp ingests: one kind of file per source below, as the tools named export them. Written from\n"
        "`dagster_project/ingest/contracts.py`, which the readers enforce (`python -m\n"
        "dagster_project.ingest.contract_document` rewrites it; a test fails when they disagree).\n",
        f"```\n<landing>/\n{layout}\n```\n",
        _RULES,
        *(_section(contract) for contract in SOURCE_CONTRACTS),
    ]
    return "\n".join(parts)


def _section(contract: SourceContract) -> str:
    lines = [f"## `{contract.folder}/{contract.file_stem}_YYYY-MM-DD{contract.suffix}` ({contract.name})", "", contract.description, ""]
    if contract.file_format == "csv":
        lines += ["| column | required | format |", "|---|---|---|"]
        lines += [f"| `{column}` | {_required(contract, column)} | {_format(contract, column)} |" for column in contract.columns]
    else:
        keyed = [*contract.required, *(key for key in contract.formats if key not in contract.required)]
        lines += ["One JSON object per line. The keys checked on loading (the dbt staging models read the others, where",
                  "present; their YAML under `dbt/models/staging/` says which):", "",
                  "| key | required | format |", "|---|---|---|"]
        lines += [f"| `{key}` | {_required(contract, key)} | {_format(contract, key)} |" for key in keyed]
    return "\n".join(lines) + "\n"


def _required(contract: SourceContract, name: str) -> str:
    return "yes" if name in contract.required else ""


def _format(contract: SourceContract, name: str) -> str:
    return contract.formats[name].value if name in contract.formats else "text"


if __name__ == "__main__":
    DOCUMENT.write_text(render_contract(), encoding="utf-8")
    print(f"wrote {DOCUMENT}", file=sys.stderr)

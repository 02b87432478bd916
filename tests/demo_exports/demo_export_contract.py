"""Readers and cell checks for the export contract (shared/contracts/sources.md), used by the tests."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from pathlib import Path

CONTACT_COLUMNS = [
    "Contact ID", "First Name", "Last Name", "Email", "Phone", "Mailing Street", "Mailing City",
    "Mailing State/Province", "Mailing Zip/Postal Code", "Mailing Country", "Birthdate", "Lead Source",
    "Preferred Channel", "Interests", "Email Opt Out", "Personalization Opt Out", "Created Date",
    "Last Modified Date", "Is Deleted",
]
ORDER_LINE_COLUMNS = ["Id", "Lineitem quantity", "Lineitem name", "Lineitem price", "Lineitem sku"]
ORDER_COLUMNS = [
    "Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Accepts Marketing", "Currency",
    "Subtotal", "Shipping", "Taxes", "Total", "Discount Code", "Discount Amount", "Created at",
    "Lineitem quantity", "Lineitem name", "Lineitem price", "Lineitem sku", "Billing Name", "Billing Street",
    "Billing City", "Billing Zip", "Billing Province", "Billing Country", "Billing Phone", "Cancelled at",
    "Refunded Amount", "Id", "Tags", "Source",
]
FX_COLUMNS = ["date", "currency", "usd_per_unit"]
ERASURE_COLUMNS = ["request_id", "email", "received_at"]
ASSIGNMENT_COLUMNS = ["timestamp", "user_id", "experiment_id", "variation_id", "experiment_name"]
EMAIL_EVENTS = {"processed", "delivered", "deferred", "bounce", "dropped", "open", "click", "spamreport",
                "unsubscribe", "group_unsubscribe", "group_resubscribe"}
FILE_PATTERNS = {
    "crm": re.compile(r"^contacts_(\d{4}-\d{2}-\d{2})\.csv$"),
    "ecommerce": re.compile(r"^(?:orders|fx_rates|products)_(\d{4}-\d{2}-\d{2})\.csv$"),
    "email": re.compile(r"^events_(\d{4}-\d{2}-\d{2})\.jsonl$"),
    "support": re.compile(r"^tickets_(\d{4}-\d{2}-\d{2})\.jsonl$"),
    "privacy": re.compile(r"^erasure_requests_(\d{4}-\d{2}-\d{2})\.csv$"),
    "experiments": re.compile(r"^assignments_(\d{4}-\d{2}-\d{2})\.csv$"),
}
SALESFORCE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
DECIMAL = re.compile(r"^\d+\.\d{2}$")
BIRTHDATE = re.compile(r"^([1-9]|1[0-2])/([1-9]|[12]\d|3[01])/\d{4}$")


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and rows of an export CSV, byte-order mark allowed."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle, strict=True))
    return rows[0], rows[1:]


def read_csv_records(path: Path) -> list[dict[str, str]]:
    """Rows of an export CSV as dicts keyed by header."""
    header, rows = read_csv(path)
    return [dict(zip(header, row)) for row in rows]


def read_jsonl(path: Path) -> list[object]:
    """Parsed JSON values of the non-blank lines of a JSON Lines file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def daily_files(root: Path, folder: str, stem: str) -> dict[dt.date, Path]:
    """Files of one export keyed by extract date."""
    return {dt.date.fromisoformat(p.stem.rsplit("_", 1)[1]): p for p in sorted((root / folder).glob(f"{stem}_*"))}


def parse_shop_time(text: str) -> dt.datetime:
    """Shopify's `2024-03-05 10:15:00 -0500`."""
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S %z")


def parse_iso_utc(text: str) -> dt.datetime:
    """`2024-03-05T10:15:00Z` or with milliseconds."""
    assert ISO_UTC.match(text) or SALESFORCE_TIME.match(text), text
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def cents(text: str) -> int:
    """A two-place decimal as integer cents."""
    assert DECIMAL.match(text), text
    units, hundredths = text.split(".")
    return int(units) * 100 + int(hundredths)


def is_int(value: object) -> bool:
    """A JSON integer (not a boolean)."""
    return isinstance(value, int) and not isinstance(value, bool)

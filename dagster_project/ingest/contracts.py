"""The source export contract expressed as data the readers enforce (EXPORT_CONTRACT.md is written from it)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Literal


class FieldFormat(Enum):
    """How a non-empty value must be written for the row to load; anything else is quarantined."""

    SALESFORCE_TIMESTAMP = "ISO 8601 UTC timestamp like 2024-03-05T10:15:00.000Z"
    US_DATE = "date as M/D/YYYY"
    BOOLEAN_FLAG = "flag 1/0 or true/false"
    TRUE_FALSE = "TRUE or FALSE (any case)"
    SHOPIFY_TIMESTAMP = "local timestamp with offset like 2024-03-05 10:15:00 -0500"
    DECIMAL = "decimal number"
    INTEGER = "integer"
    ISO_DATE = "date as YYYY-MM-DD"
    ISO_UTC_TIMESTAMP = "ISO 8601 UTC timestamp like 2024-03-05T10:15:00Z"
    UNIX_SECONDS = "integer Unix seconds"


@dataclass(frozen=True)
class SourceContract:
    """One kind of export file: where it lands, its shape, and what every row must satisfy."""

    name: str
    """Raw table and asset name, e.g. `crm_contacts`."""
    folder: str
    file_stem: str
    file_format: Literal["csv", "jsonl"]
    description: str
    columns: tuple[str, ...] = ()
    """CSV: the contract's columns, loaded as text in this order (extra columns are ignored)."""
    required: tuple[str, ...] = ()
    """Columns (CSV) or top-level keys (JSONL) that must be present and non-empty on every row."""
    formats: dict[str, FieldFormat] = field(default_factory=dict)
    """Columns or keys whose non-empty values must parse in the given format."""
    shareable: tuple[str, ...] = ()
    """Columns or keys whose values say nothing about who a person is (amounts, statuses, times of
    events): the only values of a row shown in check metadata, which Dagster keeps for as long as
    its run history; every other value is withheld there (names, emails, addresses, ids)."""

    @property
    def suffix(self) -> str:
        return ".csv" if self.file_format == "csv" else ".jsonl"

    @property
    def file_pattern(self) -> re.Pattern[str]:
        return re.compile(rf"^{re.escape(self.file_stem)}_(\d{{4}}-\d{{2}}-\d{{2}}){re.escape(self.suffix)}$")

    def file_path(self, landing: Path, extract_date: date) -> Path:
        """Where the file for one extract date is delivered."""
        return landing / self.folder / f"{self.file_stem}_{extract_date.isoformat()}{self.suffix}"

    def delivered_files(self, landing: Path) -> dict[date, Path]:
        """Every delivered file of this kind, by extract date; names that do not follow the contract are ignored."""
        folder = landing / self.folder
        if not folder.is_dir():
            return {}
        files: dict[date, Path] = {}
        for path in sorted(folder.iterdir()):
            match = self.file_pattern.match(path.name)
            if match and path.is_file():
                files[date.fromisoformat(match.group(1))] = path
        return files


_SALESFORCE = FieldFormat.SALESFORCE_TIMESTAMP
_SHOPIFY = FieldFormat.SHOPIFY_TIMESTAMP

CRM_CONTACTS = SourceContract(
    name="crm_contacts",
    folder="crm",
    file_stem="contacts",
    file_format="csv",
    description="Salesforce Contacts report: contacts created or modified on the extract day.",
    columns=(
        "Contact ID", "First Name", "Last Name", "Email", "Phone",
        "Mailing Street", "Mailing City", "Mailing State/Province", "Mailing Zip/Postal Code", "Mailing Country",
        "Birthdate", "Lead Source", "Preferred Channel", "Interests",
        "Email Opt Out", "Personalization Opt Out", "Created Date", "Last Modified Date", "Is Deleted",
    ),
    required=("Contact ID", "Last Modified Date"),
    formats={
        "Birthdate": FieldFormat.US_DATE,
        "Email Opt Out": FieldFormat.BOOLEAN_FLAG,
        "Personalization Opt Out": FieldFormat.BOOLEAN_FLAG,
        "Is Deleted": FieldFormat.BOOLEAN_FLAG,
        "Created Date": _SALESFORCE,
        "Last Modified Date": _SALESFORCE,
    },
    shareable=("Mailing Country", "Lead Source", "Preferred Channel", "Email Opt Out", "Personalization Opt Out",
               "Created Date", "Last Modified Date", "Is Deleted"),
)

ECOMMERCE_ORDERS = SourceContract(
    name="ecommerce_orders",
    folder="ecommerce",
    file_stem="orders",
    file_format="csv",
    description="Shopify orders export: one row per line item of orders created or changed on the extract day.",
    columns=(
        "Id", "Name", "Email", "Financial Status", "Paid at", "Created at", "Cancelled at",
        "Fulfillment Status", "Accepts Marketing", "Currency",
        "Subtotal", "Shipping", "Taxes", "Total", "Discount Amount", "Refunded Amount", "Discount Code",
        "Lineitem quantity", "Lineitem name", "Lineitem price", "Lineitem sku",
        "Billing Name", "Billing Street", "Billing City", "Billing Zip", "Billing Province",
        "Billing Country", "Billing Phone", "Tags", "Source",
    ),
    required=("Id",),
    formats={
        "Id": FieldFormat.INTEGER,
        "Paid at": _SHOPIFY,
        "Created at": _SHOPIFY,
        "Cancelled at": _SHOPIFY,
        **{column: FieldFormat.DECIMAL for column in (
            "Subtotal", "Shipping", "Taxes", "Total", "Discount Amount", "Refunded Amount", "Lineitem price",
        )},
        "Lineitem quantity": FieldFormat.INTEGER,
    },
    shareable=("Financial Status", "Paid at", "Created at", "Cancelled at", "Fulfillment Status", "Accepts Marketing", "Currency",
               "Subtotal", "Shipping", "Taxes", "Total", "Discount Amount", "Refunded Amount", "Lineitem quantity",
               "Lineitem name", "Lineitem price", "Lineitem sku", "Billing Country", "Source"),
)

ECOMMERCE_FX_RATES = SourceContract(
    name="ecommerce_fx_rates",
    folder="ecommerce",
    file_stem="fx_rates",
    file_format="csv",
    description="Daily currency rates: USD per unit of each currency.",
    columns=("date", "currency", "usd_per_unit"),
    required=("date", "currency", "usd_per_unit"),
    formats={"date": FieldFormat.ISO_DATE, "usd_per_unit": FieldFormat.DECIMAL},
    shareable=("date", "currency", "usd_per_unit"),
)

_PRODUCT_COLUMNS = (
    "Handle", "Title", "Body (HTML)", "Vendor", "Product Category", "Type", "Tags", "Published",
    "Option1 Name", "Option1 Value", "Variant SKU", "Variant Price", "Variant Compare At Price", "Variant Inventory Qty", "Status",
)

ECOMMERCE_PRODUCTS = SourceContract(
    name="ecommerce_products",
    folder="ecommerce",
    file_stem="products",
    file_format="csv",
    description="Shopify products export: one row per variant of products created or changed on the extract day; "
                "product-level columns are filled on a product's first row only.",
    columns=_PRODUCT_COLUMNS,
    required=("Handle",),
    formats={
        "Published": FieldFormat.TRUE_FALSE,
        "Variant Price": FieldFormat.DECIMAL,
        "Variant Compare At Price": FieldFormat.DECIMAL,
        # Negative when oversold; empty when the variant's inventory is not tracked.
        "Variant Inventory Qty": FieldFormat.INTEGER,
    },
    # Nothing in a product says who a person is.
    shareable=_PRODUCT_COLUMNS,
)

EMAIL_EVENTS = SourceContract(
    name="email_events",
    folder="email",
    file_stem="events",
    file_format="jsonl",
    description="SendGrid Event Webhook: events received on the extract day (retries and late events included).",
    required=("sg_event_id", "timestamp", "event"),
    formats={"timestamp": FieldFormat.UNIX_SECONDS},
    shareable=("timestamp", "event", "category", "type", "reason", "status"),
)

SUPPORT_TICKETS = SourceContract(
    name="support_tickets",
    folder="support",
    file_stem="tickets",
    file_format="jsonl",
    description="Zendesk incremental ticket export: tickets created or updated on the extract day.",
    required=("id", "created_at", "updated_at"),
    formats={
        "id": FieldFormat.INTEGER,
        "created_at": FieldFormat.ISO_UTC_TIMESTAMP,
        "updated_at": FieldFormat.ISO_UTC_TIMESTAMP,
    },
    shareable=("created_at", "updated_at", "status", "priority", "type", "channel"),
)

PRIVACY_ERASURE_REQUESTS = SourceContract(
    name="privacy_erasure_requests",
    folder="privacy",
    file_stem="erasure_requests",
    file_format="csv",
    description="Data-subject erasure requests (GDPR Art. 17) received on the extract day.",
    columns=("request_id", "email", "received_at"),
    required=("request_id", "email", "received_at"),
    formats={"received_at": FieldFormat.ISO_UTC_TIMESTAMP},
    shareable=("received_at",),
)

EXPERIMENT_ASSIGNMENTS = SourceContract(
    name="experiment_assignments",
    folder="experiments",
    file_stem="assignments",
    file_format="csv",
    description="Experiment assignment log of an experimentation or email tool: who was put in which arm of "
                "which experiment, received on the extract day; the same person may be logged again.",
    columns=("timestamp", "user_id", "experiment_id", "variation_id", "experiment_name"),
    required=("timestamp", "user_id", "experiment_id", "variation_id"),
    formats={"timestamp": FieldFormat.ISO_UTC_TIMESTAMP},
    shareable=("timestamp", "experiment_id", "variation_id", "experiment_name"),
)

SOURCE_CONTRACTS: tuple[SourceContract, ...] = (
    CRM_CONTACTS,
    ECOMMERCE_ORDERS,
    ECOMMERCE_FX_RATES,
    ECOMMERCE_PRODUCTS,
    EMAIL_EVENTS,
    SUPPORT_TICKETS,
    PRIVACY_ERASURE_REQUESTS,
    EXPERIMENT_ASSIGNMENTS,
)

"""What the raw suites know about each export: ids, timestamps, closed value sets, amounts.

Values are SQL over the raw table (text as delivered; a JSONL row is its `payload`). Rows reach
the raw table only when their formats parse (ingestion quarantines the rest), so the casts here
succeed; `try_` keeps a gate from crashing on what ingestion let through.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from data_quality.rules import Severity


def _text(column: str) -> str:
    return f"nullif(trim(\"{column}\"), '')"


def _json(path: str) -> str:
    """A JSONL key (dotted for nested objects); `json_paths` turns these into one parse per row."""
    return f"nullif(trim({{json:$.{path}}}), '')"


JSON_PATH = re.compile(r"\{json:([^}]+)\}")


def json_paths(expressions: list[str]) -> tuple[list[str], list[str]]:
    """The JSON paths the expressions read, and the expressions reading them from `_json_values`,
    a list that `json_extract_string(payload, [paths])` fills in one parse (3–4× faster than one
    `->>` per key on millions of events)."""
    paths: list[str] = []
    for expression in expressions:
        paths += [path for path in JSON_PATH.findall(expression) if path not in paths]
    rewritten = [JSON_PATH.sub(lambda match: f"_json_values[{paths.index(match.group(1)) + 1}]", e) for e in expressions]
    return paths, rewritten


def _utc_iso(expression: str) -> str:
    """ISO 8601 UTC with `Z` (Salesforce with milliseconds, Zendesk without)."""
    return f"try_cast(replace({expression}, 'Z', '') as timestamp)"


def _shopify(column: str) -> str:
    """Local time with its offset, to UTC."""
    return f"timezone('UTC', try_strptime({_text(column)}, '%Y-%m-%d %H:%M:%S %z'))"


@dataclass(frozen=True)
class ValueSet:
    """A field whose values must come from a closed set (empty values are not judged)."""

    field: str
    expression: str
    values: tuple[str, ...]
    severity: Severity = Severity.BLOCKING
    from_fx_currencies: bool = False
    """The set is USD plus every currency the FX rates export has a rate for."""


@dataclass(frozen=True)
class RawExportSpec:
    """The row-level gates of one export kind."""

    source: str
    ids: dict[str, str]
    timestamps: dict[str, str]
    value_sets: tuple[ValueSet, ...] = ()
    non_negative: dict[str, str] = field(default_factory=dict)
    positive: dict[str, str] = field(default_factory=dict)
    monitored: dict[str, str] = field(default_factory=dict)
    """Fields whose fill rate is watched; for a CSV export, every contract column is."""


_FINANCIAL_STATUSES = ("pending", "authorized", "paid", "partially_paid", "partially_refunded", "refunded", "voided")
_EMAIL_EVENTS = (
    "processed", "delivered", "deferred", "bounce", "dropped", "open", "click", "spamreport",
    "unsubscribe", "group_unsubscribe", "group_resubscribe",
)

RAW_EXPORT_SPECS: dict[str, RawExportSpec] = {spec.source: spec for spec in (
    RawExportSpec(
        source="crm_contacts",
        ids={"contact_id": _text("Contact ID")},
        timestamps={"created_at": _utc_iso(_text("Created Date")), "last_modified_at": _utc_iso(_text("Last Modified Date"))},
        value_sets=(
            ValueSet("lead_source", _text("Lead Source"), ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other"), Severity.WARNING),
            ValueSet("preferred_channel", _text("Preferred Channel"), ("Email", "SMS", "Phone", "None"), Severity.WARNING),
        ),
    ),
    RawExportSpec(
        source="ecommerce_orders",
        ids={"order_id": _text("Id")},
        timestamps={"created_at": _shopify("Created at"), "paid_at": _shopify("Paid at"), "cancelled_at": _shopify("Cancelled at")},
        value_sets=(
            ValueSet("financial_status", _text("Financial Status"), _FINANCIAL_STATUSES),
            ValueSet("fulfillment_status", _text("Fulfillment Status"), ("fulfilled", "partial", "unfulfilled")),
            # Revenue is reported in USD: an order in a currency without a rate would count as nothing.
            ValueSet("currency", _text("Currency"), ("USD",), from_fx_currencies=True),
            ValueSet("source_channel", _text("Source"), ("web", "pos", "iphone", "android", "shopify_draft_order"), Severity.WARNING),
        ),
        non_negative={
            name: f"try_cast({_text(column)} as decimal(18, 4))" for name, column in (
                ("subtotal", "Subtotal"), ("shipping", "Shipping"), ("taxes", "Taxes"), ("total", "Total"),
                ("discount_amount", "Discount Amount"), ("refunded_amount", "Refunded Amount"), ("lineitem_price", "Lineitem price"),
            )
        },
        positive={"lineitem_quantity": f"try_cast({_text('Lineitem quantity')} as integer)"},
    ),
    RawExportSpec(
        source="ecommerce_fx_rates",
        ids={"rate_date": _text("date"), "currency": _text("currency")},
        timestamps={"rate_date_at": f"try_cast({_text('date')} as timestamp)"},
        positive={"usd_per_unit": f"try_cast({_text('usd_per_unit')} as decimal(18, 10))"},
    ),
    RawExportSpec(
        # A products export carries no timestamp; inventory may be negative (oversold), so it is no amount.
        source="ecommerce_products",
        ids={"handle": _text("Handle")},
        timestamps={},
        value_sets=(ValueSet("status", _text("Status"), ("active", "draft", "archived")),),
        non_negative={"variant_price": f"try_cast({_text('Variant Price')} as decimal(18, 4))",
                      "variant_compare_at_price": f"try_cast({_text('Variant Compare At Price')} as decimal(18, 4))"},
    ),
    RawExportSpec(
        source="email_events",
        ids={"sg_event_id": _json("sg_event_id")},
        timestamps={"event_at": f"make_timestamp(try_cast({_json('timestamp')} as bigint) * 1000000)"},
        value_sets=(
            ValueSet("event", _json("event"), _EMAIL_EVENTS),
            ValueSet("bounce_type", f"case when {_json('event')} = 'bounce' then {_json('type')} end", ("bounce", "blocked"), Severity.WARNING),
        ),
        monitored={"email": _json("email"), "sg_message_id": _json("sg_message_id"), "event": _json("event")},
    ),
    RawExportSpec(
        source="support_tickets",
        ids={"ticket_id": _json("id")},
        timestamps={"created_at": _utc_iso(_json("created_at")), "updated_at": _utc_iso(_json("updated_at"))},
        value_sets=(
            ValueSet("status", _json("status"), ("new", "open", "pending", "hold", "solved", "closed", "deleted")),
            ValueSet("priority", _json("priority"), ("low", "normal", "high", "urgent")),
            ValueSet("ticket_type", _json("type"), ("question", "incident", "problem", "task")),
            ValueSet("channel", _json("via.channel"), ("email", "web", "chat", "voice", "api"), Severity.WARNING),
            ValueSet("satisfaction_score", _json("satisfaction_rating.score"), ("unoffered", "offered", "good", "bad")),
        ),
        monitored={
            "requester_id": _json("requester.id"), "requester_email": _json("requester.email"),
            "status": _json("status"), "subject": _json("subject"),
        },
    ),
    RawExportSpec(
        source="privacy_erasure_requests",
        ids={"request_id": _text("request_id"), "email": _text("email")},
        timestamps={"received_at": _utc_iso(_text("received_at"))},
    ),
    RawExportSpec(
        # The arms are each experiment's own; whether they are the configured ones is the lift report's
        # question (it states what it left out), not a gate that would stop the night's pipeline.
        source="experiment_assignments",
        ids={"user_id": _text("user_id"), "experiment_id": _text("experiment_id"), "variation_id": _text("variation_id")},
        timestamps={"assigned_at": _utc_iso(_text("timestamp"))},
    ),
)}

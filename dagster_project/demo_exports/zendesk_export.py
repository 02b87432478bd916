"""Zendesk incremental ticket export lines: each ticket's last version per extract day, requester side-loaded."""

from __future__ import annotations

import json

import polars as pl

from dagster_project.demo_exports.delivery import DeliverySchedule
from dagster_project.demo_exports.formats import iso_utc
from dagster_project.demo_exports.timeline import Timeline

_SUBJECTS = {
    "order_status": ("Where is my order {order}?",
                     "Hi,\nI ordered {order} a while ago and it still hasn't arrived.\nCan you check?"),
    "return_request": ("Return for order {order}",
                       "Hello, I'd like to return an item from {order}, it doesn't fit."),
    "damaged_item": ("Item arrived damaged ({order})",
                     'The box was crushed and the item is "unusable".\nPhotos attached.'),
    "refund": ("Refund not received - {order}", "I returned my items two weeks ago, where is my refund?"),
    "product_question": ("Question about sizing", "Does this run small? I'm usually a medium, sometimes a large."),
    "account_access": ("Can't log in", "Password reset email never arrives.\nPlease help."),
    "billing": ("Charged twice", "My card shows two charges for the same purchase."),
    "feedback": ("Feedback", "Love the new collection, just wanted to say thanks!"),
}
_TYPES = {"order_status": "incident", "return_request": "task", "damaged_item": "problem", "refund": "incident",
          "product_question": "question", "account_access": "problem", "billing": "incident", "feedback": "question"}
_COMMENTS = {"bad": ("Took forever to get an answer.", "Still not sorted, very disappointed.", None),
             "good": ("Quick and helpful, thanks!", None, None)}


def _with_order_names(tickets: pl.DataFrame, orders: pl.DataFrame) -> pl.DataFrame:
    """The buyer's latest exported order before each ticket, for order-related subjects."""
    placed = (orders.filter(~pl.col("is_test"))
              .select("person_index", pl.col("created_at").alias("order_at"), "order_name").sort("order_at"))
    with_names = tickets.sort("created_at").join_asof(
        placed, left_on="created_at", right_on="order_at", by="person_index", strategy="backward",
        check_sortedness=False)
    return with_names.sort("ticket_id")


def ticket_lines(tickets: pl.DataFrame, updates: pl.DataFrame, requesters: pl.DataFrame, orders: pl.DataFrame,
                 timeline: Timeline, schedule: DeliverySchedule) -> pl.DataFrame:
    """JSON lines with their `extract_offset`."""
    offsets = schedule.extract_offset("support", timeline.window_offset(updates["at"].to_numpy()))
    versions = (
        updates.with_columns(pl.Series("extract_offset", offsets))
        .filter(pl.col("extract_offset") >= 0)
        .unique(subset=["ticket_id", "extract_offset"], keep="last", maintain_order=True)
        .join(_with_order_names(tickets, orders), on="ticket_id", how="left")
        .join(requesters.rename({"person_index": "owner", "email": "requester_email"}),
              on="requester_id", how="left")
        .with_columns(iso_utc(pl.col("created_at")).alias("created"), iso_utc(pl.col("at")).alias("updated"))
        .sort(["extract_offset", "at", "ticket_id"])
    )
    lines = []
    for row in versions.iter_rows(named=True):
        order = row["order_name"] or "my last order"
        subject, description = (text.format(order=order) for text in _SUBJECTS[row["topic"]])
        comment = None
        if row["score"] in _COMMENTS:
            comment = _COMMENTS[row["score"]][(row["ticket_id"] * 7) % 3]
        ticket = {
            "url": f"https://cxpdemo.zendesk.com/api/v2/tickets/{row['ticket_id']}.json",
            "id": row["ticket_id"],
            "created_at": row["created"],
            "updated_at": row["updated"],
            "type": None if row["ticket_id"] % 10 == 0 else _TYPES[row["topic"]],
            "subject": subject,
            "description": description,
            "priority": row["priority"] or None,
            "status": row["status"],
            "requester_id": row["requester_id"],
            "assignee_id": 361_000_000_000 + row["ticket_id"] % 7,
            "tags": [row["topic"], *(["order_related"] if row["order_name"] else []), f"via_{row['channel']}"],
            "via": {"channel": row["channel"]},
            "satisfaction_rating": {"score": row["score"], "comment": comment},
            "metrics": {"first_reply_minutes": row["first_reply_minutes"],
                        "full_resolution_minutes": row["full_resolution_minutes"], "reopens": row["reopens"]},
            "requester": {"id": row["requester_id"], "name": row["name"], "email": row["requester_email"],
                          "phone": row["phone"]},
        }
        lines.append(json.dumps(ticket, ensure_ascii=False))
    return versions.select("extract_offset", "ticket_id", "requester_id").with_columns(
        pl.Series("line", lines, dtype=pl.String))


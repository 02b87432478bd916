"""The SendGrid address book: every address the business mails, who owns it, and its list membership.

Addresses are the ones the systems hold (CRM contact emails, order emails), trimmed and
lower-cased as SendGrid stores them, so a person with two CRM contacts gets mail twice and
a typo'd address bounces.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from dagster_project.demo_exports.contact_formats import is_valid_email

NEVER = np.iinfo(np.int64).max
DEAD_MAILBOX_SHARE = 0.015


@dataclass(frozen=True)
class Recipients:
    """Parallel arrays, one entry per distinct address."""

    email: np.ndarray
    person: np.ndarray
    shared: np.ndarray
    valid: np.ndarray
    deliverable: np.ndarray
    marketing_from: np.ndarray
    marketing_until: np.ndarray
    index: dict[str, int]


def build_recipients(contacts: pl.DataFrame, orders: pl.DataFrame, erased_at: np.ndarray,
                     rng: np.random.Generator) -> Recipients:
    """Merge contact and order addresses into one list with each address's marketing span."""
    def stop(*times: pl.Expr) -> pl.Expr:
        return pl.min_horizontal(*(pl.when(t >= 0).then(t).otherwise(NEVER) for t in times))

    from_contacts = contacts.select(
        pl.col("email").str.strip_chars().str.to_lowercase().alias("email"),
        "person_index",
        pl.col("created_at").alias("first_seen"),
        pl.col("created_at").alias("marketing_from"),
        stop(pl.col("email_opt_out_at"), pl.col("deleted_at")).alias("marketing_until"),
        (pl.col("kind") == 3).alias("typo"),
    )
    from_orders = orders.filter(~pl.col("is_test")).select(
        pl.col("email"),
        "person_index",
        pl.col("created_at").alias("first_seen"),
        pl.when(pl.col("accepts_marketing")).then(pl.col("created_at")).otherwise(NEVER).alias("marketing_from"),
        pl.when(pl.col("accepts_marketing")).then(NEVER).otherwise(0).alias("marketing_until"),
        pl.lit(False).alias("typo"),
    )
    entries = pl.concat([from_contacts, from_orders]).filter(pl.col("email") != "")
    entries = entries.with_columns(pl.col("marketing_until").clip(upper_bound=NEVER))
    book = (
        entries.sort(["first_seen", "email", "person_index"])
        .group_by("email", maintain_order=True)
        .agg(
            pl.col("person_index").first().alias("person"),
            (pl.col("person_index").n_unique() > 1).alias("shared"),
            pl.col("marketing_from").min(),
            pl.col("marketing_until").max(),
            pl.col("typo").all(),
        )
    )
    email = book["email"].to_numpy().astype(object)
    person = book["person"].to_numpy()
    erased = erased_at[person]
    until = book["marketing_until"].to_numpy()
    valid = np.array([is_valid_email(e) for e in email], dtype=bool)
    dead = book["typo"].to_numpy() | (rng.random(len(email)) < DEAD_MAILBOX_SHARE)
    return Recipients(
        email=email,
        person=person,
        shared=book["shared"].to_numpy(),
        valid=valid,
        deliverable=valid & ~dead,
        marketing_from=book["marketing_from"].to_numpy(),
        marketing_until=np.where(erased >= 0, np.minimum(until, erased), until),
        index={e: i for i, e in enumerate(email)},
    )

"""Zendesk end users: one per email address (or per phone caller), so one person may be several.

Most people write from their usual address, some from another one now and then, and callers
without an email become phone-only users.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from dagster_project.demo_exports.name_noise import NameNoise, distort_names

_NOISE = NameNoise(nickname=0.1, accent=0.05, case=0.08, whitespace=0.05)
_FIRST_REQUESTER_ID = 360_000_000_000


def assign_requesters(tickets: pl.DataFrame, people: pl.DataFrame,
                      rng: np.random.Generator) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Add `requester_id` to the tickets and return the requesters (id, owner, name, email, phone)."""
    person = tickets["person_index"].to_numpy()
    pick = tickets["email_pick"].to_numpy()
    prefers_other = (person * 31 + 7) % 5 == 0
    use_other = prefers_other ^ (pick < 0.15)
    email = np.where(use_other, people["alternative_email"].to_numpy()[person], people["email"].to_numpy()[person])
    phone_only = (tickets["channel"].to_numpy() == "voice") & (pick > 0.5)
    key = np.where(phone_only, [f"phone:{p}" for p in person], email)
    keyed = pl.DataFrame({"key": key, "person_index": person, "phone_only": phone_only},
                         schema_overrides={"key": pl.String})
    requesters = keyed.group_by("key", maintain_order=True).agg(
        pl.col("person_index").first(),
        (pl.col("person_index").n_unique() > 1).alias("shared"),
        pl.col("phone_only").first(),
    )
    m = requesters.height
    owner = requesters["person_index"].to_numpy()
    first, last = distort_names(people["first_name"].to_numpy()[owner], people["last_name"].to_numpy()[owner],
                                _NOISE, rng)
    only_first = rng.random(m) < 0.1
    name = np.where(only_first, first, [f"{given} {family}" for given, family in zip(first, last)])
    style = rng.integers(0, 4, size=m)
    phones = np.stack([people[f"phone_style_{k}"].to_numpy()[owner] for k in range(4)], axis=1)
    phone_only = requesters["phone_only"].to_numpy()
    has_phone = phone_only | (rng.random(m) < 0.3)
    requesters = requesters.with_columns(
        pl.Series("requester_id", _FIRST_REQUESTER_ID + np.cumsum(rng.integers(1, 90_000, size=m))),
        pl.Series("name", name, dtype=pl.String),
        pl.when(pl.col("phone_only")).then(None).otherwise(pl.col("key")).alias("email"),
        pl.Series("phone", [p if h else None for p, h in zip(phones[np.arange(m), style], has_phone)],
                  dtype=pl.String),
    )
    tickets = tickets.with_columns(pl.Series("key", key, dtype=pl.String)).join(
        requesters.select("key", "requester_id"), on="key", how="left", maintain_order="left").drop("key")
    return tickets, requesters.drop("phone_only")

"""The first name a record's email spells, for records that do not write one out themselves.

A buyer who left the first name empty, or typed only an initial, often still spells it in the
email: `jason_holmes39@…`, `saracrump92@…`, `jhall@…`. At a household's shared address and phone
that is the one fact telling "j holmes" (Jason) from Jessica Holmes, so the household guard reads
it (`EMAIL_NAMES_DIFFER_SQL` in `match_comparisons`). Only a spelling that is a first name in the
data counts, so a local part such as `bluebird77` or `info` spells nothing.
"""

from __future__ import annotations

import polars as pl

# A spelling counts as a first name when at least this many records bear it as theirs.
KNOWN_FIRST_NAME_MIN_RECORDS = 2


def with_first_name_seen(frame: pl.DataFrame) -> pl.DataFrame:
    """Add `first_name_seen`, the record's own first name when it writes one out (two letters or
    more), else the first name or initial its email spells (null when it spells none), and
    `first_name_seen_in_email`, whether it came from the email. An initial the record does write
    must start the email's name, or the email is not read. A record whose only name is a word of its
    email besides a first name (`heath`, `lucy.heath3@…`) wrote its surname there: the email's name counts."""
    known = (
        frame.filter(pl.col("first_name").str.len_chars() > 1).group_by("first_name").len()
        .filter(pl.col("len") >= KNOWN_FIRST_NAME_MIN_RECORDS).select(pl.col("first_name").alias("token"))
    )
    local_words = (pl.col("email").str.to_lowercase().str.split("@").list.first().str.replace_all(r"\d+", " ")
                   .str.replace_all(r"[._+\-\s]+", " ").str.strip_chars().str.split(" "))
    # A surname alone in the first-name field (`heath`, email `lucy.heath3`): the email has it after
    # another word, which the known names below must then confirm as the first name.
    surname_as_first_name = (pl.col("last_name").is_null() & local_words.list.slice(1).list.contains(pl.col("first_name"))
                             & (local_words.list.first() != pl.col("first_name")))
    unnamed = frame.filter(pl.col("email").is_not_null() & (
        pl.col("first_name").is_null() | (pl.col("first_name").str.len_chars() == 1) | surname_as_first_name.fill_null(False)))
    tokens = (
        unnamed.select(
            "record_id", pl.when(pl.col("first_name").str.len_chars() == 1).then(pl.col("first_name")).alias("initial"),
            pl.coalesce("last_name", "first_name", pl.lit("")).alias("last_name"), local_words.alias("token"),
        )
        .explode("token")
        .with_row_index("position")
        .filter(pl.col("token").str.len_chars() > 0, pl.col("token") != pl.col("last_name"))
        # `saracrump`, `jhall`: a first name or an initial run into the last name.
        .with_columns(
            pl.when((pl.col("last_name") != "") & pl.col("token").str.ends_with(pl.col("last_name"))
                    & (pl.col("token").str.len_chars() > pl.col("last_name").str.len_chars()))
            .then(pl.col("token").str.head(pl.col("token").str.len_chars() - pl.col("last_name").str.len_chars()))
            .otherwise(pl.col("token")).alias("token")
        )
    )
    spelled = (
        tokens.join(known.with_columns(pl.lit(True).alias("is_name")), on="token", how="left")
        .filter(pl.col("is_name").fill_null(False) | (pl.col("token").str.len_chars() == 1))
        # A written initial the email's name does not start with: the email is someone else's.
        .filter(pl.col("initial").is_null() | (pl.col("token").str.head(1) == pl.col("initial")))
        .sort("position").group_by("record_id", maintain_order=True).agg(pl.col("token").first().alias("email_first_name"))
    )
    return (
        frame.join(spelled, on="record_id", how="left")
        .with_columns(
            pl.coalesce("email_first_name", pl.when(pl.col("first_name").str.len_chars() > 1).then(pl.col("first_name")))
            .alias("first_name_seen"),
            pl.col("email_first_name").is_not_null().alias("first_name_seen_in_email"),
        )
        .drop("email_first_name")
    )

"""Cell formats of each source system: timestamps, dates and money, as polars expressions."""

from __future__ import annotations

import polars as pl

# The shop exports in its own time zone, with the UTC offset of that moment (DST included).
SHOP_TIME_ZONE = "America/New_York"


def _utc(seconds: pl.Expr) -> pl.Expr:
    return pl.from_epoch(seconds, time_unit="s").dt.replace_time_zone("UTC")


def shop_local_time(seconds: pl.Expr) -> pl.Expr:
    """Shopify: `2024-03-05 10:15:00 -0500`; empty for negative (unset) seconds."""
    text = _utc(seconds).dt.convert_time_zone(SHOP_TIME_ZONE).dt.strftime("%Y-%m-%d %H:%M:%S %z")
    return pl.when(seconds >= 0).then(text)


def salesforce_time(seconds: pl.Expr) -> pl.Expr:
    """Salesforce: `2024-03-05T10:15:00.000Z`."""
    return _utc(seconds).dt.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def iso_utc(seconds: pl.Expr) -> pl.Expr:
    """Zendesk and erasure requests: `2024-03-05T10:15:00Z`."""
    return _utc(seconds).dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def money(cents: pl.Expr) -> pl.Expr:
    """Decimal with two places from integer cents: 1234 -> `12.34`."""
    return pl.concat_str([(cents // 100).cast(pl.String), pl.lit("."),
                          (cents % 100).cast(pl.String).str.zfill(2)])


def salesforce_date(date: pl.Expr) -> pl.Expr:
    """Salesforce report date: `M/D/YYYY` without leading zeros."""
    return pl.concat_str([date.dt.month().cast(pl.String), pl.lit("/"), date.dt.day().cast(pl.String),
                          pl.lit("/"), date.dt.year().cast(pl.String)])

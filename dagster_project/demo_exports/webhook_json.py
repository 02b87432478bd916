"""The JSON lines of SendGrid webhook events, built column-wise with polars.

Every free-text value comes from a small pool JSON-encoded once, so rows only concatenate
pieces and no per-row escaping is needed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import polars as pl

from dagster_project.demo_exports.email_sends import (
    BLOCKED,
    BOUNCE,
    CLICK,
    DEFERRED,
    DELIVERED,
    DROPPED,
    EVENT_NAMES,
    GROUP_RESUBSCRIBE,
    GROUP_UNSUBSCRIBE,
    OPEN,
    PROCESSED,
    REASONS,
)

USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36",
    "Microsoft Outlook 16.0.17126; Microsoft Outlook 16.0.17126; (Windows NT 10.0)",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)",
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
    "Mozilla/5.0",  # Apple Mail Privacy Protection's proxy
)
_TRANSACTIONAL = ',"category":["transactional","order_confirmation"]'


@dataclass(frozen=True)
class JsonPools:
    """Pre-encoded pieces indexed by the event columns."""

    emails: pl.Series
    message_ids: pl.Series
    campaigns: pl.Series  # one fragment per campaign number, then the transactional one
    urls: pl.Series


def make_pools(emails: list[str], message_ids: pl.Series, campaign_fragments: list[str],
               urls: list[str]) -> JsonPools:
    """Encode the pools once."""
    return JsonPools(
        emails=pl.Series([json.dumps(e) for e in emails], dtype=pl.String),
        message_ids=message_ids,
        campaigns=pl.Series([*campaign_fragments, _TRANSACTIONAL], dtype=pl.String),
        urls=pl.Series([json.dumps(u) for u in urls], dtype=pl.String),
    )


def _lookup(values: tuple[str, ...], index: pl.Expr) -> pl.Expr:
    return pl.lit(pl.Series([json.dumps(v) for v in values])).gather(index.clip(lower_bound=0))


def _gathered(part: pl.DataFrame, pools: JsonPools) -> pl.DataFrame:
    """Pool strings of the rows, gathered directly from the (large) pools rather than inside an expression."""
    def gather(pool: pl.Series, column: str, name: str) -> pl.Series:
        return pool.gather(part[column].clip(lower_bound=0)).alias(name)

    return part.with_columns(
        gather(pools.emails, "recipient", "email_json"),
        gather(pools.message_ids, "message", "message_id"),
        gather(pools.campaigns, "campaign", "campaign_json"),
        gather(pools.urls, "url", "url_json"),
    )


def render_event_lines(part: pl.DataFrame, pools: JsonPools) -> pl.Series:
    """One JSON object per event row of `part`."""
    event, message, campaign = pl.col("event"), pl.col("message"), pl.col("campaign")
    ip = pl.col("ip")
    ip_text = pl.concat_str([(ip // 2**24 % 256).cast(pl.String), (ip // 2**16 % 256).cast(pl.String),
                             (ip // 2**8 % 256).cast(pl.String), (ip % 256).cast(pl.String)], separator=".")
    message_id = pl.col("message_id")
    names = pl.Series(list(EVENT_NAMES))
    is_ = event.is_in
    pieces = [
        pl.lit('{"email":'), pl.col("email_json"),
        pl.lit(',"timestamp":'), pl.col("ts").cast(pl.String),
        pl.lit(',"event":"'), pl.lit(names).gather(event.cast(pl.Int64)), pl.lit('"'),
        pl.lit(',"sg_event_id":"'), pl.col("sg_event_id"), pl.lit('"'),
        pl.when(message >= 0).then(pl.concat_str([pl.lit(',"sg_message_id":"'), message_id, pl.lit('"')])),
        pl.when(event == PROCESSED).then(pl.concat_str([pl.lit(',"smtp-id":"<'), message_id,
                                                        pl.lit('@ismtpd0104p1mdw1.sendgrid.net>"')])),
        pl.when(campaign >= 0).then(pl.col("campaign_json"))
        .when(campaign == -1).then(pl.lit(_TRANSACTIONAL)),
        pl.when(is_([OPEN, CLICK])).then(pl.concat_str([pl.lit(',"useragent":'),
                                                        _lookup(USER_AGENTS, pl.col("agent")),
                                                        pl.lit(',"ip":"'), ip_text, pl.lit('"')])),
        pl.when(event == OPEN).then(pl.when(pl.col("machine") == 1).then(pl.lit(',"sg_machine_open":true'))
                                    .otherwise(pl.lit(',"sg_machine_open":false'))),
        pl.when(event == CLICK).then(pl.concat_str([pl.lit(',"url":'), pl.col("url_json"),
                                                    pl.lit(',"url_offset":{"index":0,"type":"html"}')])),
        pl.when(is_([BOUNCE, DROPPED])).then(pl.concat_str([pl.lit(',"reason":'),
                                                            _lookup(REASONS, pl.col("reason"))])),
        pl.when(event == BOUNCE).then(pl.when(pl.col("reason") == BLOCKED)
                                      .then(pl.lit(',"type":"blocked","status":"5.7.1"'))
                                      .otherwise(pl.lit(',"type":"bounce","status":"5.1.1"'))),
        pl.when(event == DEFERRED).then(pl.lit(',"response":"451 4.7.1 Please try again later","attempt":"1"')),
        pl.when(is_([GROUP_UNSUBSCRIBE, GROUP_RESUBSCRIBE])).then(
            pl.concat_str([pl.lit(',"asm_group_id":'), pl.col("asm").cast(pl.String)])),
        # Keys outside the contract turn up now and then and must be tolerated.
        pl.when((event == DELIVERED) & (pl.col("seq") % 37 == 0))
        .then(pl.lit(',"tls":1,"cert_err":0,"pool":{"name":"marketing","id":2701}')),
        pl.lit("}"),
    ]
    return _gathered(part, pools).select(pl.concat_str(pieces, ignore_nulls=True).alias("line"))["line"]

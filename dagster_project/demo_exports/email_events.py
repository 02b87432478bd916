"""SendGrid event simulation: order confirmations and campaigns, day by day, with list hygiene.

Unsubscribes, spam reports and hard bounces are applied as they happen, so later campaigns
skip those addresses, as SendGrid's suppression lists do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from dagster_project.demo_exports.campaigns import NEWSLETTER_GROUP, PROMOTIONS_GROUP, Campaign
from dagster_project.demo_exports.email_recipients import Recipients
from dagster_project.demo_exports.email_sends import (
    EVENT_COLUMNS,
    GROUP_RESUBSCRIBE,
    GROUP_UNSUBSCRIBE,
    SPAMREPORT,
    UNSUBSCRIBE,
    Batch,
    EventLog,
    send_batch,
)
from dagster_project.demo_exports.timeline import Timeline

NO_CAMPAIGN, TRANSACTIONAL = -2, -1


@dataclass(frozen=True)
class EmailOutcome:
    """All events (one row each, unordered) and each address's suppression state at the window end."""

    events: pl.DataFrame
    unsubscribed: np.ndarray
    message_count: int


def simulate_email_events(recipients: Recipients, campaigns: list[Campaign], orders: pl.DataFrame,
                          people: pl.DataFrame, death_day: np.ndarray, timeline: Timeline,
                          rng: np.random.Generator) -> EmailOutcome:
    """Send every order confirmation and campaign of the window and record what SendGrid reports."""
    n = len(recipients.email)
    owner = recipients.person
    engagement = people["email_engagement"].to_numpy()[owner]
    apple = people["apple_mail_privacy"].to_numpy()[owner]
    interests = people["interest_mask"].to_numpy()[owner]
    owner_death = death_day[owner]
    bounced, spam, unsub_all = (np.zeros(n, dtype=bool) for _ in range(3))
    unsub_group = {NEWSLETTER_GROUP: np.zeros(n, dtype=bool), PROMOTIONS_GROUP: np.zeros(n, dtype=bool)}
    left_group_at = {NEWSLETTER_GROUP: np.zeros(n, dtype=np.int64), PROMOTIONS_GROUP: np.zeros(n, dtype=np.int64)}
    log = EventLog()
    confirmations = orders.filter(~pl.col("is_test") & (pl.col("email") != "")
                                  & (pl.col("created_at") < timeline.window_end_epoch))
    confirm_to = np.array([recipients.index[e] for e in confirmations["email"].to_list()], dtype=np.int64)
    confirm_at = confirmations["created_at"].to_numpy() + 60
    confirm_offset = timeline.window_offset(confirm_at)
    messages = 0

    def batch(to: np.ndarray, at: np.ndarray, campaign: int, group: int, url_base: int, appeal: float) -> Batch:
        nonlocal messages
        alive = owner_death[to] > timeline.sim_day_of(at)
        made = Batch(to, at, np.arange(messages, messages + len(to)), campaign, group, engagement[to], alive,
                     apple[to], url_base, appeal)
        messages += len(to)
        return made

    by_day: dict[int, list[tuple[int, Campaign]]] = {}
    for number, campaign in enumerate(campaigns):
        by_day.setdefault(int(timeline.window_offset(campaign.sent_at)), []).append((number, campaign))
    for offset in range(timeline.days):
        today = np.flatnonzero(confirm_offset == offset)
        send_batch(batch(confirm_to[today], confirm_at[today], TRANSACTIONAL, -1, 3 * len(campaigns), 1.0),
                   recipients.valid, recipients.deliverable, bounced, log, rng)
        for number, campaign in by_day.get(offset, []):
            t, group = campaign.sent_at, campaign.asm_group_id
            listed = (recipients.marketing_from <= t) & (t < recipients.marketing_until) & ~spam & ~unsub_all
            # A few people who left a group opt back in (before this send, after they left).
            back = np.flatnonzero(listed & unsub_group[group] & (left_group_at[group] < t - 2 * 3600)
                                  & (rng.random(n) < 0.004))
            rejoined_at = np.maximum(left_group_at[group][back] + 3600, t - rng.integers(3600, 86400, size=len(back)))
            log.add(back, rejoined_at, GROUP_RESUBSCRIBE, campaign=NO_CAMPAIGN, asm=group)
            unsub_group[group][back] = False
            eligible = listed & ~unsub_group[group]
            if campaign.segment >= 0:
                eligible &= ((interests >> campaign.segment) & 1).astype(bool) | (rng.random(n) < 0.25)
            to = np.flatnonzero(eligible)
            sent = batch(to, t + rng.integers(0, 3600, size=len(to)), number, group, 3 * number, campaign.appeal)
            ok = send_batch(sent, recipients.valid, recipients.deliverable, bounced, log, rng)
            got, at, e, alive = to[ok], sent.sent_at[ok], sent.engagement[ok], sent.alive[ok]
            ids = {"message": sent.message[ok], "campaign": number}
            reports = rng.random(len(got)) < 0.0003
            log.add(got[reports], at[reports] + rng.integers(3600, 2 * 86400, size=reports.sum()), SPAMREPORT,
                    **{k: (v[reports] if isinstance(v, np.ndarray) else v) for k, v in ids.items()})
            spam[got[reports]] = True
            leaves = ~reports & (rng.random(len(got)) < 0.0008 + 0.004 * (1 - e) + 0.004 * ~alive)
            just_group = leaves & (rng.random(len(got)) < 0.65)
            left_at = at + rng.integers(600, 3 * 86400, size=len(got))
            for mask, event, extra in ((just_group, GROUP_UNSUBSCRIBE, {"asm": group}),
                                       (leaves & ~just_group, UNSUBSCRIBE, {})):
                log.add(got[mask], left_at[mask], event, message=ids["message"][mask], campaign=number, **extra)
            unsub_group[group][got[just_group]] = True
            left_group_at[group][got[just_group]] = left_at[just_group]
            unsub_all[got[leaves & ~just_group]] = True
    events = pl.DataFrame({name: np.concatenate(log.chunks[name]) for name in EVENT_COLUMNS})
    unsubscribed = unsub_all | spam | unsub_group[NEWSLETTER_GROUP] | unsub_group[PROMOTIONS_GROUP]
    return EmailOutcome(events, unsubscribed, messages)

"""The marketing calendar: which campaigns go out when, to which unsubscribe group and segment."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from dagster_project.demo_exports.catalog import CATEGORIES
from dagster_project.demo_exports.timeline import Timeline

CAMPAIGNS_PER_YEAR = 48
NEWSLETTER_GROUP, PROMOTIONS_GROUP = 101, 102


@dataclass(frozen=True)
class Campaign:
    """One campaign send; the JSON fragment carries its category and campaign keys pre-encoded."""

    campaign_id: int
    name: str
    asm_group_id: int
    sent_at: int
    segment: int  # a product category index, or -1 for the whole list
    appeal: float
    json_fragment: str
    urls: tuple[str, ...]


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")


def schedule_campaigns(timeline: Timeline, shop_domain: str, rng: np.random.Generator) -> list[Campaign]:
    """About CAMPAIGNS_PER_YEAR campaigns spread over the window, sent in the afternoon UTC."""
    campaigns: list[Campaign] = []
    for offset in range(timeline.days):
        if rng.random() >= CAMPAIGNS_PER_YEAR / 365:
            continue
        date = timeline.window_date(offset)
        newsletter = rng.random() < 0.55
        segment = int(rng.integers(0, len(CATEGORIES))) if not newsletter and rng.random() < 0.4 else -1
        if newsletter:
            name = f"{date:%B} Newsletter {date.day:02d}"
        elif segment >= 0:
            name = f"{CATEGORIES[segment]} picks for you"
        else:
            name = f"{('Winter', 'Spring', 'Summer', 'Autumn')[(date.month % 12) // 3]} Sale - {date:%b %d}"
        campaign_id = 20_000 + len(campaigns) + 1
        # SendGrid sends category as a string or a list, depending on how the campaign was set up.
        audience = _slug(CATEGORIES[segment]) if segment >= 0 else "sitewide"
        category = "newsletter" if newsletter else ["promotions", audience]
        fragment = (f',"category":{json.dumps(category)},"marketing_campaign_id":{campaign_id},'
                    f'"marketing_campaign_name":{json.dumps(name)}')
        slug = _slug(name)
        target = _slug(CATEGORIES[segment]) if segment >= 0 else "new-arrivals"
        urls = (f"https://{shop_domain}/collections/{target}?utm_source=sendgrid&utm_campaign={slug}",
                f"https://{shop_domain}/pages/offers?utm_source=sendgrid&utm_campaign={slug}",
                f"https://{shop_domain}/account/preferences")
        sent_at = int(timeline.day_start_epoch(timeline.first_window_day + offset)) + int(rng.integers(13, 18)) * 3600
        campaigns.append(Campaign(campaign_id, name, NEWSLETTER_GROUP if newsletter else PROMOTIONS_GROUP,
                                  sent_at, segment, float(rng.uniform(0.7, 1.3)), fragment, urls))
    return campaigns

"""How a model input reads to a person: a short sentence with the customer's own value and its unit
("last ordered 143 days ago", "spent $1,234 in the last 365 days"), and the signal it measures, so
that two inputs saying the same thing ("has never opened an email", "opened no email in the last
90 days") make one reason, not two.

Inputs not listed here (a feature added later) are still said plainly, from their names."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import SupportsFloat

_WINDOW = re.compile(r"^(?P<base>.+)_(?P<days>\d+)d$")


def count(value: float, one: str, many: str | None = None) -> str:
    """`3 orders`, `1 order`, `no orders`."""
    number = round(value)
    if number == 0:
        return f"no {many or one + 's'}"
    return f"{number:,} {one if number == 1 else many or one + 's'}"


def days(value: float) -> str:
    """A span of days, in months or years once it is long: `12 days`, `about 5 months`, `2.3 years`."""
    if value < 90:
        return count(value, "day") if round(value) else "less than a day"
    if value < 730:
        return f"about {value / 30.44:.0f} months"
    return f"{value / 365.25:.1f} years"


def money(value: float) -> str:
    return f"-${-value:,.0f}" if value < 0 else f"${value:,.0f}"


def share(value: float) -> str:
    return f"{value:.0%}"


def duration_minutes(value: float) -> str:
    if value < 90:
        return count(value, "minute")
    if value < 48 * 60:
        return f"{value / 60:.1f} hours"
    return f"{value / 1440:.1f} days"


@dataclass(frozen=True)
class Phrase:
    """One input's sentence: `say` for a value, `missing` when there is none (nothing of the kind happened)."""

    signal: str
    say: Callable[[float], str]
    missing: str


def _windowed(signal: str, say: Callable[[float, str], str]) -> Callable[[int], Phrase]:
    """Phrases of a count or total over the last N days: the same words for every window."""
    return lambda window: Phrase(signal, lambda v: say(v, f"in the last {window} days"), say(0, f"in the last {window} days"))


_ORDERS = _windowed("recent orders", lambda v, when: f"{count(v, 'order')} {when}")
_SPEND = _windowed("spend", lambda v, when: f"spent {money(v)} {when}" if v else f"no spending {when}")
_DELIVERIES = _windowed("emails received", lambda v, when: f"received {count(v, 'email')} {when}")
_OPENS = _windowed("email opens", lambda v, when: f"opened {count(v, 'email')} {when}" if v else f"opened no email {when}")
_CLICKS = _windowed("email clicks", lambda v, when: f"clicked {count(v, 'email link')} {when}" if v else f"clicked no email link {when}")
_TICKETS = _windowed("support tickets", lambda v, when: f"opened {count(v, 'support ticket')} {when}")


def _since(signal: str, done: str, never: str) -> Phrase:
    return Phrase(signal, lambda v: f"{done} {days(v)} ago" if v >= 1 else f"{done} today", never)


PHRASES: dict[str, Phrase] = {
    **{f"orders_{w}d": _ORDERS(w) for w in (30, 90, 365)},
    **{f"net_revenue_usd_{w}d": _SPEND(w) for w in (30, 90, 365)},
    **{f"deliveries_{w}d": _DELIVERIES(w) for w in (30, 90)},
    **{f"human_opens_{w}d": _OPENS(w) for w in (30, 90)},
    **{f"clicks_{w}d": _CLICKS(w) for w in (30, 90)},
    **{f"tickets_{w}d": _TICKETS(w) for w in (30, 90)},
    "days_since_last_order": _since("recent orders", "last ordered", "has never ordered"),
    "days_since_first_order": _since("tenure", "first ordered", "has never ordered"),
    "tenure_days": Phrase("tenure", lambda v: f"a customer for {days(v)}", "tenure unknown"),
    "days_since_last_human_open": _since("email opens", "last opened an email", "has never opened an email"),
    "days_since_last_click": _since("email clicks", "last clicked an email link", "has never clicked an email link"),
    "days_since_last_ticket": _since("support tickets", "last contacted support", "has never contacted support"),
    "orders_lifetime": Phrase("orders", lambda v: f"{count(v, 'order')} in all", "no orders yet"),
    "net_revenue_usd_lifetime": Phrase("spend", lambda v: f"spent {money(v)} in all (net of refunds)", "no spending yet"),
    "gross_revenue_usd_lifetime": Phrase("spend", lambda v: f"ordered {money(v)} in all (before refunds)", "no spending yet"),
    "average_order_value_usd": Phrase("order value", lambda v: f"average order {money(v)}", "no orders yet"),
    "mean_days_between_orders": Phrase("order cadence", lambda v: f"orders every {days(v)} on average", "has not ordered twice yet"),
    "refunded_usd_lifetime": Phrase("refunds", lambda v: f"{money(v)} refunded in all" if v else "no refunds", "no refunds"),
    "refund_rate": Phrase("refunds", lambda v: f"{share(v)} of order value refunded", "no refunds"),
    "discount_usd_lifetime": Phrase("discounts", lambda v: f"{money(v)} of discounts in all" if v else "no discounts", "no discounts"),
    "discount_rate": Phrase("discounts", lambda v: f"{share(v)} of list price discounted", "no discounts"),
    "web_orders_lifetime": Phrase("web shop", lambda v: f"{count(v, 'order')} on the web shop", "no orders on the web shop"),
    "web_order_share": Phrase("web shop", lambda v: f"{share(v)} of orders on the web shop", "no orders yet"),
    "pos_orders_lifetime": Phrase("in store", lambda v: f"{count(v, 'order')} in store", "no orders in store"),
    "pos_order_share": Phrase("in store", lambda v: f"{share(v)} of orders in store", "no orders yet"),
    "app_orders_lifetime": Phrase("app", lambda v: f"{count(v, 'order')} in the app", "no orders in the app"),
    "app_order_share": Phrase("app", lambda v: f"{share(v)} of orders in the app", "no orders yet"),
    "favorite_category_spend_share": Phrase("favourite category", lambda v: f"{share(v)} of spending in one category", "no purchases yet"),
    "categories_purchased": Phrase("category breadth", lambda v: f"bought from {count(v, 'category', 'categories')}", "no purchases yet"),
    "click_through_rate_90d": Phrase("email clicks", lambda v: f"clicked {share(v)} of emails in the last 90 days", "no emails in the last 90 days"),
    "bounces_90d": Phrase("bounces", lambda v: f"{count(v, 'email')} bounced in the last 90 days", "no email bounced in the last 90 days"),
    "unsubscribes_lifetime": Phrase("unsubscribes", lambda v: f"unsubscribed {count(v, 'time')}" if v else "never unsubscribed", "never unsubscribed"),
    "campaign_deliveries_lifetime": Phrase("emails received", lambda v: f"received {count(v, 'campaign email')} in all", "no campaign email yet"),
    "campaign_human_opens_lifetime": Phrase("email opens", lambda v: f"opened {count(v, 'campaign email')} in all",
                                            "opened no campaign email yet"),
    "campaign_deliveries_since_last_order": Phrase("email since the last order",
                                                   lambda v: f"received {count(v, 'campaign email')} since the last order", "has never ordered"),
    "campaign_human_opens_since_last_order": Phrase("email since the last order",
                                                    lambda v: f"opened {count(v, 'campaign email')} since the last order", "has never ordered"),
    "campaign_open_rate_before_last_order": Phrase("email since the last order",
                                                   lambda v: f"opened {share(v)} of campaign emails before the last order",
                                                   "no campaign email before the last order"),
    "campaign_open_rate_since_last_order": Phrase("email since the last order",
                                                  lambda v: f"opened {share(v)} of campaign emails since the last order",
                                                  "no campaign email since the last order"),
    "campaign_open_rate_change_since_last_order": Phrase(
        "email since the last order", lambda v: f"opens campaign emails at {share(v)} of the rate before the last order since it",
        "no open rate before the last order to compare with"),
    "spam_reports_lifetime": Phrase("spam reports", lambda v: f"reported {count(v, 'email')} as spam", "never reported spam"),
    "tickets_lifetime": Phrase("support tickets", lambda v: f"{count(v, 'support ticket')} in all", "no support tickets"),
    "open_tickets": Phrase("open tickets", lambda v: f"{count(v, 'support ticket')} still open", "no open support tickets"),
    "urgent_tickets_90d": Phrase("urgent tickets", lambda v: f"{count(v, 'urgent ticket')} in the last 90 days", "no urgent tickets in the last 90 days"),
    "bad_ratings_90d": Phrase("bad ratings", lambda v: f"{count(v, 'bad support rating')} in the last 90 days",
                              "no bad support ratings in the last 90 days"),
    "reopens_90d": Phrase("reopens", lambda v: f"{count(v, 'ticket')} reopened in the last 90 days", "no tickets reopened in the last 90 days"),
    "resolved_tickets_lifetime": Phrase("resolution", lambda v: f"{count(v, 'ticket')} resolved in all", "no tickets resolved"),
    "resolution_minutes_lifetime": Phrase("resolution", lambda v: f"{duration_minutes(v)} spent resolving tickets in all", "no tickets resolved"),
    "mean_resolution_minutes": Phrase("resolution", lambda v: f"tickets resolved in {duration_minutes(v)} on average", "no tickets resolved"),
    "source_count": Phrase("sources", lambda v: f"known to {count(v, 'of our systems', 'of our systems')}", "known to none of our systems"),
}

# Category inputs: the customer's own text in a sentence (signal, sentence, without a value).
TEXT_PHRASES: dict[str, tuple[str, str, str]] = {
    "favorite_category": ("favourite category", "buys mostly {}", "no purchases yet"),
    "preferred_channel": ("preferred channel", "prefers to hear from us by {}", "no preferred channel given"),
}


def signal_of(name: str) -> str:
    """What an input measures; inputs of one signal make at most one reason."""
    if name in PHRASES:
        return PHRASES[name].signal
    if name in TEXT_PHRASES:
        return TEXT_PHRASES[name][0]
    window = _WINDOW.match(name)
    return (window["base"] if window else name.removesuffix("_lifetime")).removeprefix("days_since_last_")


def describe_input(name: str, value: object) -> str:
    """A feature and its value in plain language, e.g. `last ordered 143 days ago`."""
    missing = value is None or (isinstance(value, float) and math.isnan(value))
    if name in TEXT_PHRASES:
        _, sentence, without = TEXT_PHRASES[name]
        return without if missing else sentence.format(value)
    if isinstance(value, str) or type(value).__name__ in ("bool", "bool_"):
        return f"{name.replace('_', ' ')}: {value if isinstance(value, str) else 'yes' if value else 'no'}"
    # Model inputs are numbers or category text (see ml.feature_matrix): with text and flags said above, a number is left.
    number = None
    if not missing:
        assert isinstance(value, SupportsFloat), f"{name}: {value!r} is not a number"
        number = float(value)
    if name in PHRASES:
        phrase = PHRASES[name]
        return phrase.missing if number is None else phrase.say(number)
    return _describe_by_name(name, number)


def _describe_by_name(name: str, number: float | None) -> str:
    """An input without a phrase, said from its name: `days_since_`, `_Nd` and `_lifetime` read as such."""
    words = name.replace("_usd", "").replace("_", " ")
    window = _WINDOW.match(name)
    if name.startswith("days_since_"):
        event = words.removeprefix("days since ")
        return f"no {event.removeprefix('last ').removeprefix('first ')} yet" if number is None else f"{days(number)} since the {event}"
    if number is None:
        if window:
            return f"no {window['base'].replace('_usd', '').replace('_', ' ')} in the last {window['days']} days"
        return f"no {words.removesuffix(' lifetime')} yet" if name.endswith("_lifetime") else f"{words}: unknown"
    shown = money(number) if "usd" in name else share(number) if name.endswith(("_rate", "_share")) else f"{number:,.0f}"
    if window:
        return f"{window['base'].replace('_usd', '').replace('_', ' ')} in the last {window['days']} days: {shown}"
    return f"{words.removesuffix(' lifetime')} ever: {shown}" if name.endswith("_lifetime") else f"{words}: {shown}"

"""Features derived at request time: recency from stored timestamps, ratios from stored totals.

Recency changes every day without any event, so storing it would rewrite every customer every
night; the stored `last_*_at` timestamps change only when something happens. Offline, "now" is
each entity row's event_timestamp; online it is the time of the request.

The transformations are Feast "python" mode: an online request pays for them on every call, and in
"pandas" mode Feast's conversions to and from a DataFrame alone cost 3 ms a view (with pandas'
per-step overhead, two views were 12 ms of a 13 ms read). Offline, the DuckDB store hands them NumPy
arrays of only the columns they read (offline_store), so a million-row training set derives in seconds.
"""

from __future__ import annotations

from typing import Any

from feast import FeatureView, Field
from feast.on_demand_feature_view import OnDemandFeatureView, on_demand_feature_view
from feast.types import Float64


# Feast stores each transformation as the source of its function alone and rebuilds it from that
# source, so a transformation can use only what it imports itself: the arithmetic shared by all of
# them is imported from feature_repo.derived_values inside each.
def build_on_demand_views(views: dict[str, FeatureView]) -> list[OnDemandFeatureView]:
    """The derived views over the stored ones (keyed by feature view name)."""
    purchase, email, support, profile = (views[name] for name in
                                         ("customer_purchase", "customer_email", "customer_support", "customer_profile"))

    @on_demand_feature_view(
        sources=[purchase[["orders_lifetime", "first_order_at", "last_order_at", "net_revenue_usd_lifetime", "gross_revenue_usd_lifetime",
                           "refunded_usd_lifetime", "discount_usd_lifetime", "web_orders_lifetime", "pos_orders_lifetime", "app_orders_lifetime"]]],
        schema=[Field(name=name, dtype=Float64) for name in (
            "days_since_last_order", "days_since_first_order", "average_order_value_usd", "mean_days_between_orders",
            "refund_rate", "discount_rate", "web_order_share", "pos_order_share", "app_order_share")],
        description="Recency, average order value, purchase cadence, refund and discount rates and channel mix, derived at request time.",
        owner="growth-analytics@cxp.example", tags={"owner": "growth-analytics@cxp.example"}, mode="python",
    )
    def customer_purchase_derived(inputs: dict[str, Any]) -> dict[str, Any]:
        from feature_repo.derived_values import days_before_now, number, ratio, served

        orders, gross = number(inputs, "orders_lifetime"), number(inputs, "gross_revenue_usd_lifetime")
        since_last, since_first = days_before_now(inputs, "last_order_at"), days_before_now(inputs, "first_order_at")
        return served({
            "days_since_last_order": since_last,
            "days_since_first_order": since_first,
            "average_order_value_usd": ratio(number(inputs, "net_revenue_usd_lifetime"), orders),
            "mean_days_between_orders": ratio(since_first - since_last, orders - 1),
            "refund_rate": ratio(number(inputs, "refunded_usd_lifetime"), gross),
            "discount_rate": ratio(number(inputs, "discount_usd_lifetime"), gross + number(inputs, "discount_usd_lifetime")),
            "web_order_share": ratio(number(inputs, "web_orders_lifetime"), orders),
            "pos_order_share": ratio(number(inputs, "pos_orders_lifetime"), orders),
            "app_order_share": ratio(number(inputs, "app_orders_lifetime"), orders),
        })

    @on_demand_feature_view(
        sources=[email[["clicks_90d", "deliveries_90d", "last_click_at", "last_human_open_at", "campaign_deliveries_lifetime",
                        "campaign_human_opens_lifetime", "campaign_deliveries_since_last_order", "campaign_human_opens_since_last_order"]]],
        schema=[Field(name=name, dtype=Float64) for name in (
            "click_through_rate_90d", "days_since_last_click", "days_since_last_human_open", "campaign_open_rate_before_last_order",
            "campaign_open_rate_since_last_order", "campaign_open_rate_change_since_last_order")],
        description="Click-through rate over 90 days, email recency, and campaign open rates before and since the last order, derived at request time.",
        owner="crm-marketing@cxp.example", tags={"owner": "crm-marketing@cxp.example"}, mode="python",
    )
    def customer_email_derived(inputs: dict[str, Any]) -> dict[str, Any]:
        from feature_repo.derived_values import days_before_now, number, ratio, served

        opens, delivered = number(inputs, "campaign_human_opens_lifetime"), number(inputs, "campaign_deliveries_lifetime")
        opens_since, delivered_since = number(inputs, "campaign_human_opens_since_last_order"), number(inputs, "campaign_deliveries_since_last_order")
        # A lapsed customer stops opening: the rate since the last order against their own rate before it.
        before, since = ratio(opens - opens_since, delivered - delivered_since), ratio(opens_since, delivered_since)
        return served({
            "click_through_rate_90d": ratio(number(inputs, "clicks_90d"), number(inputs, "deliveries_90d")),
            "days_since_last_click": days_before_now(inputs, "last_click_at"),
            "days_since_last_human_open": days_before_now(inputs, "last_human_open_at"),
            "campaign_open_rate_before_last_order": before,
            "campaign_open_rate_since_last_order": since,
            "campaign_open_rate_change_since_last_order": ratio(since, before),
        })

    @on_demand_feature_view(
        sources=[support[["resolution_minutes_lifetime", "resolved_tickets_lifetime", "last_ticket_at"]]],
        schema=[Field(name=name, dtype=Float64) for name in ("mean_resolution_minutes", "days_since_last_ticket")],
        description="Mean time to resolution and support recency, derived at request time.",
        owner="customer-care-analytics@cxp.example", tags={"owner": "customer-care-analytics@cxp.example"}, mode="python",
    )
    def customer_support_derived(inputs: dict[str, Any]) -> dict[str, Any]:
        from feature_repo.derived_values import days_before_now, number, ratio, served

        return served({
            "mean_resolution_minutes": ratio(number(inputs, "resolution_minutes_lifetime"), number(inputs, "resolved_tickets_lifetime")),
            "days_since_last_ticket": days_before_now(inputs, "last_ticket_at"),
        })

    @on_demand_feature_view(
        # Only what it reads: a whole-view source would pull consent and back-dated fields into training sets.
        sources=[profile[["first_seen_at"]]],
        schema=[Field(name="tenure_days", dtype=Float64)],
        description="Days since the customer was first seen, derived at request time.",
        owner="data-platform@cxp.example", tags={"owner": "data-platform@cxp.example"}, mode="python",
    )
    def customer_tenure(inputs: dict[str, Any]) -> dict[str, Any]:
        from feature_repo.derived_values import days_before_now, served

        return served({"tenure_days": days_before_now(inputs, "first_seen_at")})

    return [customer_purchase_derived, customer_email_derived, customer_support_derived, customer_tenure]

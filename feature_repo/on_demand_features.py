"""Features derived at request time: recency from stored timestamps, ratios from stored totals.

Recency changes every day without any event, so storing it would rewrite every customer every
night; the stored `last_*_at` timestamps change only when something happens. Offline, "now" is
each entity row's event_timestamp; online it is the time of the request.
"""

from __future__ import annotations

import pandas as pd
from feast import FeatureView, Field
from feast.on_demand_feature_view import OnDemandFeatureView, on_demand_feature_view
from feast.types import Float64


# Feast stores each transformation as the source of its function alone, so a transformation can
# use only what it defines or imports itself: each one starts with this preamble.
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
        owner="growth-analytics@cxp.example", tags={"owner": "growth-analytics@cxp.example"},
    )
    def customer_purchase_derived(inputs: pd.DataFrame) -> pd.DataFrame:
        import pandas as pd
        as_of = pd.to_datetime(inputs["event_timestamp"], utc=True) if "event_timestamp" in inputs else pd.Timestamp.now(tz="UTC")
        days_since = lambda column: ((as_of - pd.to_datetime(inputs[column], utc=True)).dt.total_seconds() / 86_400).astype("float64")  # noqa: E731
        ratio = lambda a, b: (a.astype("float64") / b.astype("float64").where(b > 0)).astype("float64")  # noqa: E731
        orders = inputs["orders_lifetime"]
        out = pd.DataFrame(index=inputs.index)
        out["days_since_last_order"] = days_since("last_order_at")
        out["days_since_first_order"] = days_since("first_order_at")
        out["average_order_value_usd"] = ratio(inputs["net_revenue_usd_lifetime"], orders)
        span_days = (pd.to_datetime(inputs["last_order_at"], utc=True) - pd.to_datetime(inputs["first_order_at"], utc=True)).dt.total_seconds() / 86_400
        out["mean_days_between_orders"] = ratio(span_days, orders - 1)
        out["refund_rate"] = ratio(inputs["refunded_usd_lifetime"], inputs["gross_revenue_usd_lifetime"])
        out["discount_rate"] = ratio(inputs["discount_usd_lifetime"], inputs["gross_revenue_usd_lifetime"] + inputs["discount_usd_lifetime"])
        for channel in ("web", "pos", "app"):
            out[f"{channel}_order_share"] = ratio(inputs[f"{channel}_orders_lifetime"], orders)
        return out

    @on_demand_feature_view(
        sources=[email[["clicks_90d", "deliveries_90d", "last_click_at", "last_human_open_at"]]],
        schema=[Field(name=name, dtype=Float64) for name in ("click_through_rate_90d", "days_since_last_click", "days_since_last_human_open")],
        description="Click-through rate over 90 days and email recency, derived at request time.",
        owner="crm-marketing@cxp.example", tags={"owner": "crm-marketing@cxp.example"},
    )
    def customer_email_derived(inputs: pd.DataFrame) -> pd.DataFrame:
        import pandas as pd
        as_of = pd.to_datetime(inputs["event_timestamp"], utc=True) if "event_timestamp" in inputs else pd.Timestamp.now(tz="UTC")
        days_since = lambda column: ((as_of - pd.to_datetime(inputs[column], utc=True)).dt.total_seconds() / 86_400).astype("float64")  # noqa: E731
        ratio = lambda a, b: (a.astype("float64") / b.astype("float64").where(b > 0)).astype("float64")  # noqa: E731
        out = pd.DataFrame(index=inputs.index)
        out["click_through_rate_90d"] = ratio(inputs["clicks_90d"], inputs["deliveries_90d"])
        out["days_since_last_click"] = days_since("last_click_at")
        out["days_since_last_human_open"] = days_since("last_human_open_at")
        return out

    @on_demand_feature_view(
        sources=[support[["resolution_minutes_lifetime", "resolved_tickets_lifetime", "last_ticket_at"]]],
        schema=[Field(name=name, dtype=Float64) for name in ("mean_resolution_minutes", "days_since_last_ticket")],
        description="Mean time to resolution and support recency, derived at request time.",
        owner="customer-care-analytics@cxp.example", tags={"owner": "customer-care-analytics@cxp.example"},
    )
    def customer_support_derived(inputs: pd.DataFrame) -> pd.DataFrame:
        import pandas as pd
        as_of = pd.to_datetime(inputs["event_timestamp"], utc=True) if "event_timestamp" in inputs else pd.Timestamp.now(tz="UTC")
        days_since = lambda column: ((as_of - pd.to_datetime(inputs[column], utc=True)).dt.total_seconds() / 86_400).astype("float64")  # noqa: E731
        ratio = lambda a, b: (a.astype("float64") / b.astype("float64").where(b > 0)).astype("float64")  # noqa: E731
        out = pd.DataFrame(index=inputs.index)
        out["mean_resolution_minutes"] = ratio(inputs["resolution_minutes_lifetime"], inputs["resolved_tickets_lifetime"])
        out["days_since_last_ticket"] = days_since("last_ticket_at")
        return out

    @on_demand_feature_view(
        # Only what it reads: a whole-view source would pull consent and back-dated fields into training sets.
        sources=[profile[["first_seen_at"]]],
        schema=[Field(name="tenure_days", dtype=Float64)],
        description="Days since the customer was first seen, derived at request time.",
        owner="data-platform@cxp.example", tags={"owner": "data-platform@cxp.example"},
    )
    def customer_tenure(inputs: pd.DataFrame) -> pd.DataFrame:
        import pandas as pd
        as_of = pd.to_datetime(inputs["event_timestamp"], utc=True) if "event_timestamp" in inputs else pd.Timestamp.now(tz="UTC")
        days_since = lambda column: ((as_of - pd.to_datetime(inputs[column], utc=True)).dt.total_seconds() / 86_400).astype("float64")  # noqa: E731
        ratio = lambda a, b: (a.astype("float64") / b.astype("float64").where(b > 0)).astype("float64")  # noqa: E731
        out = pd.DataFrame(index=inputs.index)
        out["tenure_days"] = days_since("first_seen_at")
        return out

    return [customer_purchase_derived, customer_email_derived, customer_support_derived, customer_tenure]

"""One feature service per consumer: what each model trains and scores on, and what apps read."""

from __future__ import annotations

from feast import FeatureService, FeatureView
from feast.on_demand_feature_view import OnDemandFeatureView

# Profile fields the first build back-dates (see customer_profile_features in dbt) stay out of
# the models: a source that appeared later, or a preference a contact set after the first CRM
# export, would leak into earlier training rows.
_BACKDATED_PROFILE_FIELDS = {"sources", "source_count", "preferred_channel", "interests"}
# Consent is served to apps; models do not learn from it.
_CONSENT_FIELDS = {"email_marketing_consent", "is_email_marketable", "is_personalization_opted_out"}


def build_feature_services(views: dict[str, FeatureView], derived: list[OnDemandFeatureView], scores: FeatureView,
                           recommendations: FeatureView, similar_products: FeatureView, next_best_actions: FeatureView) -> list[FeatureService]:
    purchase, email, support, profile = (views[name] for name in
                                         ("customer_purchase", "customer_email", "customer_support", "customer_profile"))
    derived_by_name = {view.name: view for view in derived}
    model_profile = profile[[field.name for field in profile.features if field.name not in _BACKDATED_PROFILE_FIELDS | _CONSENT_FIELDS]]
    model_inputs = [purchase, email, support, model_profile, *derived_by_name.values()]

    def service(name: str, description: str, features: list, owner: str) -> FeatureService:
        return FeatureService(name=name, features=features, description=description, owner=owner, tags={"owner": owner})

    return [
        service("churn_model", "Inputs of the churn model: behaviour across purchases, email and support.", model_inputs,
                "data-science@cxp.example"),
        service("propensity_model", "Inputs of the 30-day purchase-propensity model.", model_inputs, "data-science@cxp.example"),
        service("clv_model", "Inputs of the 365-day customer-lifetime-value model.",
                [purchase, email, model_profile, derived_by_name["customer_purchase_derived"], derived_by_name["customer_tenure"]],
                "data-science@cxp.example"),
        service("personalization_app", "What apps read online: recency, value, preferences, consent, the models' scores with their "
                "reasons, the customer's recommended products and their next-best action.", [
            purchase[["orders_90d", "orders_lifetime", "net_revenue_usd_365d", "last_order_at", "favorite_category",
                      "favorite_category_spend_share"]],
            email[["clicks_30d", "last_click_at"]],
            support[["open_tickets", "bad_ratings_90d"]],
            profile[["preferred_channel", "interests", "email_marketing_consent", "is_email_marketable", "is_personalization_opted_out"]],
            derived_by_name["customer_purchase_derived"][["days_since_last_order", "average_order_value_usd"]],
            derived_by_name["customer_email_derived"][["days_since_last_click"]],
            scores,
            recommendations,
            next_best_actions,
        ], "apps@cxp.example"),
        service("recommendations", "A customer's recommended products with their titles and reasons, best first.", [recommendations],
                "apps@cxp.example"),
        service("similar_products", "A product's similar products with their titles and reasons, by SKU.", [similar_products],
                "apps@cxp.example"),
    ]

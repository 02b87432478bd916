"""No name, contact detail, address or birthdate reaches the feature store: a scan of every Feast
object the platform registers."""

import re

from dagster_project.settings import load_settings
from feature_repo.definitions import feature_store_objects

# Words that name personal data in a column name (whole words of a snake_case name).
PERSONAL = re.compile(r"(^|_)(name|first|last_name|email_address|email|phone|mobile|street|address|apartment|city|province|"
                      r"postcode|zip|birthdate|birthday|dob|ip)(_|$)")
# Feature names that contain such a word without holding personal data.
NOT_PERSONAL = {"email_marketing_consent", "is_email_marketable", "first_order_at", "last_order_at", "first_seen_at",
                "days_since_first_order", "last_click_at", "last_human_open_at", "last_ticket_at"}


def test_no_feature_view_or_service_carries_personal_data(cxp_home):
    objects = feature_store_objects(load_settings())
    fields = {(type(item).__name__, item.name, field.name)
              for item in objects if hasattr(item, "features") and not hasattr(item, "feature_view_projections")
              for field in item.features}
    assert len(fields) > 60  # every stored and derived feature, the scores included
    personal = {entry for entry in fields if PERSONAL.search(entry[2]) and entry[2] not in NOT_PERSONAL}
    assert not personal
    entity_keys = {item.join_key for item in objects if type(item).__name__ == "Entity"}
    assert entity_keys == {"customer_id", "sku"}

"""Each customer's next-best action as a feature view, served next to their scores.

Written by the next-best-action step of the nightly run (ml.measurement.nightly_actions), one Parquet
file per scoring date.
"""

from __future__ import annotations

from pathlib import Path

from feast import FeatureView
from feast.types import Float64, String

from feature_repo.entities import customer
from feature_repo.nightly_views import ensure_nightly_table_readable, nightly_feature_view, owned_field
from ml.measurement.next_best_action import NEXT_BEST_ACTION_COLUMNS, NEXT_BEST_ACTIONS_TABLE

NEXT_BEST_ACTION_FIELDS = [
    owned_field("next_best_action", String, "The configured action expected to add the most revenue for the customer net of its "
                                            "cost, or `no_action` (nothing adds value, or the holdout, an opt-out, consent, the "
                                            "contact-frequency cap or the budget rules it out)."),
    owned_field("next_best_action_reason", String, "Why, in plain words: the expected value net of cost, or what ruled an action out."),
    owned_field("next_best_action_value_usd", Float64, "Expected incremental revenue (USD) of the action over its experiment's "
                                                       "horizon, net of its cost; 0 for no action."),
    owned_field("next_best_action_model", String, "The uplift model that estimated it and the experiment it learned from; "
                                                  "null for no action."),
]


def ensure_next_best_actions_readable(feature_files_dir: Path) -> None:
    """Before the first night, an empty file with the table's schema (see `ensure_nightly_table_readable`)."""
    ensure_nightly_table_readable(feature_files_dir, NEXT_BEST_ACTIONS_TABLE, NEXT_BEST_ACTION_COLUMNS)


def build_next_best_action_view(feature_files_dir: Path) -> FeatureView:
    """The `next_best_actions` view (customer entity) over the scoring dates' files."""
    return nightly_feature_view(NEXT_BEST_ACTIONS_TABLE, customer, NEXT_BEST_ACTION_FIELDS,
                                "Each customer's next-best action with its reason, chosen nightly from measured uplift.", feature_files_dir)

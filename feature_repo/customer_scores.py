"""The models' nightly scores as a feature view: what apps read next to the customer's features.

Written by the scoring step of the nightly model job (ml.customer_scoring), one Parquet file per
scoring date, not by dbt: the scores are the models' output, not a transformation of the facts.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from feast import FeatureView, Field, FileSource
from feast.types import Bool, Float64, String

from feature_repo.entities import customer

SCORES_TABLE = "customer_scores"
REASONS_PER_MODEL = 3
# A day's scores stop being served after this: a failed night leaves no stale scores for long.
SCORES_TTL = timedelta(days=3)
_OWNER = "data-science@cxp.example"
_ORDINALS = {1: "largest", 2: "second largest", 3: "third largest"}


def _model_fields(model: str, score: str, description: str) -> list[Field]:
    return [
        Field(name=score, dtype=Float64, description=description, tags={"owner": _OWNER}),
        *(Field(name=f"{model}_reason_{rank}", dtype=String, tags={"owner": _OWNER},
                description=f"Reason {rank} of the {model} score in plain words: the input with the "
                            f"{_ORDINALS[rank]} push up of the score, and the customer's value of it.")
          for rank in range(1, REASONS_PER_MODEL + 1)),
        *(Field(name=f"{model}_reason_{rank}_contribution", dtype=Float64, tags={"owner": _OWNER},
                description=f"How far reason {rank} pushed the {model} model's raw score up (log-odds, or log-value for "
                            "lifetime value); null for a baseline's reasons, which have no contributions.")
          for rank in range(1, REASONS_PER_MODEL + 1)),
        Field(name=f"{model}_model_version", dtype=String, tags={"owner": _OWNER},
              description=f"The {model} model that scored: a registry version, or the baseline's name while no model is champion."),
    ]


SCORE_FIELDS: list[Field] = [
    Field(name="personalization_allowed", dtype=Bool, tags={"owner": _OWNER},
          description="False when the customer opted out of personalization: they are not scored, and every score, "
                      "reason and version of theirs is null."),
    *_model_fields("churn", "churn_probability",
                   "Probability that the customer makes no purchase in the next 90 days; null when not active (no purchase in a year)."),
    *_model_fields("propensity", "purchase_probability_30d", "Probability that the customer places an order in the next 30 days."),
    *_model_fields("clv", "expected_value_365d_usd", "Expected net revenue in USD over the next 365 days."),
    Field(name="probability_alive", dtype=Float64, tags={"owner": _OWNER},
          description="BG/NBD probability that the customer is still active; null for customers who never bought."),
]


EMPTY_SCORES_FOLDER = "_empty"


def scores_file_glob(feature_files_dir: Path) -> str:
    return str(feature_files_dir / SCORES_TABLE / "*" / "*.parquet")


def scores_schema() -> pa.Schema:
    """The columns of a scores file."""
    return pa.schema([("customer_id", pa.string()), ("event_timestamp", pa.timestamp("us", tz="UTC")),
                      *((field.name, {Float64: pa.float64(), Bool: pa.bool_()}.get(field.dtype, pa.string())) for field in SCORE_FIELDS)])


def ensure_scores_readable(feature_files_dir: Path) -> None:
    """Before the first scoring run, an empty file with the scores' schema: point-in-time reads of a
    service that includes the view then find no scores rather than no files."""
    path = feature_files_dir / SCORES_TABLE / EMPTY_SCORES_FOLDER / "data_0.parquet"
    # Rewritten when the scores gain a column, so every file of the glob has the same schema.
    if not path.exists() or not pq.read_schema(path).equals(scores_schema()):
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(scores_schema().empty_table(), path)


def build_customer_scores_view(feature_files_dir: Path) -> FeatureView:
    """The `customer_scores` view over the scoring dates' Parquet files."""
    return FeatureView(
        name=SCORES_TABLE,
        entities=[customer],
        ttl=SCORES_TTL,
        schema=SCORE_FIELDS,
        source=FileSource(name=f"{SCORES_TABLE}_files", path=scores_file_glob(feature_files_dir), timestamp_field="event_timestamp",
                          description="Nightly model scores, one Parquet file per scoring date.", tags={"owner": _OWNER}),
        online=True,
        description="Churn, purchase-propensity and lifetime-value scores with their top reasons, and P(alive), scored nightly.",
        owner=_OWNER,
        tags={"owner": _OWNER},
    )

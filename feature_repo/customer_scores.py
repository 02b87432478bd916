"""The models' nightly scores as a feature view: what apps read next to the customer's features.

Written by the scoring step of the nightly model job (ml.customer_scoring), one Parquet file per
scoring date, not by dbt: the scores are the models' output, not a transformation of the facts.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from feast import FeatureView, Field, FileSource
from feast.types import Bool, FeastType, Float64, String

from feature_repo.entities import customer
from ml.model_catalog import MODELS
from ml.score_files import EMPTY_SCORES_FOLDER, REASONS_PER_MODEL, SCORES_TABLE

# A day's scores stop being served after this: a failed night leaves no stale scores for long.
SCORES_TTL = timedelta(days=3)
_OWNER = "data-science@cxp.example"
_ORDINALS = {1: "largest", 2: "second largest", 3: "third largest"}


def _model_fields(model: str, horizon_days: int) -> list[Field]:
    spec = MODELS[model]
    note = ("; for a buyer with no order in `labels.churn.active_days` (365 by default), MBG/NBD's probability of no purchase in the window "
            "(churn_model_version says so); null for customers who never bought") if model == "churn" else ""
    return [
        Field(name=spec.score, dtype=Float64, description=spec.describe(horizon_days).rstrip(".") + note + ".",
              tags={"owner": _OWNER, "horizon_days": str(horizon_days)}),
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


def score_fields(horizon_days: Mapping[str, int]) -> list[Field]:
    """The view's fields; each score's description and `horizon_days` tag say its label window
    (`labels.<model>.horizon_days` of the model settings), while its name stays the same."""
    return [
        Field(name="personalization_allowed", dtype=Bool, tags={"owner": _OWNER},
              description="False when the customer opted out of personalization or is in the measurement holdout: they "
                          "are not scored, and every score, reason and version of theirs is null."),
        Field(name="in_holdout", dtype=Bool, tags={"owner": _OWNER},
              description="True for the global personalization holdout (CXP_EXPERIMENT_SETTINGS `holdout`): kept out of "
                          "every personalization so its effect can be measured; apps show them the default experience."),
        *(field for model in MODELS for field in _model_fields(model, horizon_days[model])),
        Field(name="probability_alive", dtype=Float64, tags={"owner": _OWNER},
              description="MBG/NBD probability that the customer is still active (one-time buyers included); null for customers who never bought."),
    ]


# Names and types only (the files' schema); descriptions come with the configured windows.
SCORE_FIELDS: list[Field] = score_fields(dict.fromkeys(MODELS, 0))

# The score fields' Arrow types other than text (keyed by any Feast type: `Field.dtype` is typed so).
_ARROW_TYPES: dict[FeastType, pa.DataType] = {Float64: pa.float64(), Bool: pa.bool_()}


def scores_file_glob(feature_files_dir: Path) -> str:
    return str(feature_files_dir / SCORES_TABLE / "*" / "*.parquet")


def scores_schema() -> pa.Schema:
    """The columns of a scores file."""
    return pa.schema([("customer_id", pa.string()), ("event_timestamp", pa.timestamp("us", tz="UTC")),
                      *((field.name, _ARROW_TYPES.get(field.dtype, pa.string())) for field in SCORE_FIELDS)])


def ensure_scores_readable(feature_files_dir: Path) -> None:
    """Before the first scoring run, an empty file with the scores' schema: point-in-time reads of a
    service that includes the view then find no scores rather than no files."""
    path = feature_files_dir / SCORES_TABLE / EMPTY_SCORES_FOLDER / "data_0.parquet"
    # Rewritten when the scores gain a column, so every file of the glob has the same schema.
    if not path.exists() or not pq.read_schema(path).equals(scores_schema()):
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(scores_schema().empty_table(), path)


def build_customer_scores_view(feature_files_dir: Path, horizon_days: Mapping[str, int]) -> FeatureView:
    """The `customer_scores` view over the scoring dates' Parquet files, described for the
    configured label windows (model -> days)."""
    return FeatureView(
        name=SCORES_TABLE,
        entities=[customer],
        ttl=SCORES_TTL,
        schema=score_fields(horizon_days),
        source=FileSource(name=f"{SCORES_TABLE}_files", path=scores_file_glob(feature_files_dir), timestamp_field="event_timestamp",
                          description="Nightly model scores, one Parquet file per scoring date.", tags={"owner": _OWNER}),
        online=True,
        description="Churn, purchase-propensity and lifetime-value scores with their top reasons, and P(alive), scored nightly.",
        owner=_OWNER,
        tags={"owner": _OWNER},
    )

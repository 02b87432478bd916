"""From a point-in-time training set to the matrix a model reads, the same way at training and scoring.

Timestamps are not model inputs (their derived recencies are; an absolute date would let a model tell
cutoffs apart rather than customers). Text features become categories fixed at training time, so a
value first seen at scoring is "unknown" rather than a new column; booleans become 0/1.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import polars as pl

# Columns of a training set that are keys or labels, never inputs.
NOT_INPUTS = {"customer_id", "cutoff_date", "event_timestamp", "label"}
# A category seen on fewer training rows than this is folded into "other".
_MIN_CATEGORY_ROWS = 20


@dataclass(frozen=True)
class FeatureMatrixSpec:
    """The model's input columns in order, and the categories of each text column."""

    numeric: list[str]
    categorical: dict[str, list[str]]

    @property
    def columns(self) -> list[str]:
        return [*self.numeric, *self.categorical]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, document: dict) -> FeatureMatrixSpec:
        return cls(numeric=list(document["numeric"]), categorical={k: list(v) for k, v in document["categorical"].items()})


def fit_feature_matrix(training_set: pl.DataFrame, feature_names: list[str]) -> FeatureMatrixSpec:
    """Which of the service's features the model reads, and the categories of the text ones."""
    numeric, categorical = [], {}
    for name in feature_names:
        if name in NOT_INPUTS:
            continue
        dtype = training_set.schema[name]
        if dtype == pl.String:
            counts = training_set[name].drop_nulls().value_counts()
            categorical[name] = sorted(counts.filter(pl.col("count") >= _MIN_CATEGORY_ROWS)[name].to_list())
        elif dtype.is_numeric() or dtype == pl.Boolean:
            numeric.append(name)
        elif not dtype.is_temporal():
            raise TypeError(f"feature {name} has type {dtype}, which no model input is made from")
    return FeatureMatrixSpec(numeric=numeric, categorical=categorical)


def to_feature_matrix(frame: pl.DataFrame, spec: FeatureMatrixSpec) -> pd.DataFrame:
    """The inputs of `spec` from `frame`: float columns, then pandas categoricals (xgboost's native kind)."""
    missing = [name for name in spec.columns if name not in frame.columns]
    if missing:
        raise KeyError(f"the feature set lacks the model's input(s) {', '.join(missing)}")
    matrix = pd.DataFrame({name: frame[name].cast(pl.Float64).to_numpy() for name in spec.numeric})
    for name, categories in spec.categorical.items():
        values = frame[name].to_numpy().astype(object)
        known = pd.Series(values).where(pd.Series(values).isin(categories) | pd.isna(values), "other")
        matrix[name] = pd.Categorical(known, categories=[*categories, "other"])
    return matrix


def matrix_values(frame: pl.DataFrame, spec: FeatureMatrixSpec) -> dict[str, np.ndarray]:
    """Each input's value per row as the model saw it (categories as text), for explanations."""
    return {name: frame[name].to_numpy() for name in spec.columns}

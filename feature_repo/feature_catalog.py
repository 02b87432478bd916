"""The feature tables as dbt documents them: Feast's views are built from the dbt YAML, so every
feature's description and owner are written once, next to the SQL that computes it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import yaml
from feast.types import Array, Bool, FeastType, Float64, Int64, String, UnixTimestamp

FEATURE_MODELS_YAML = Path("models") / "marts" / "features" / "_features__models.yml"
# Columns every snapshot table has that are keys, timestamps or bookkeeping, not features.
NON_FEATURE_COLUMNS = {"customer_id", "snapshot_date", "event_timestamp", "feature_hash"}
_FEAST_TYPES: dict[str, FeastType] = {
    "bigint": Int64, "double": Float64, "varchar": String, "timestamp": UnixTimestamp, "boolean": Bool,
    "varchar[]": Array(String),
}


@dataclass(frozen=True)
class FeatureSpec:
    name: str
    dtype: FeastType
    description: str
    owner: str


@dataclass(frozen=True)
class FeatureTableSpec:
    """One dbt feature snapshot model and the Feast feature view over it."""

    table: str
    feature_view: str
    description: str
    owner: str
    ttl: timedelta
    features: tuple[FeatureSpec, ...]


def load_feature_tables(dbt_project_dir: Path) -> list[FeatureTableSpec]:
    """Every model in the feature marts' YAML, with its features in column order."""
    document = yaml.safe_load((dbt_project_dir / FEATURE_MODELS_YAML).read_text())
    tables = []
    for model in document["models"]:
        meta = model["config"]["meta"]
        owner = meta["owner"]
        features = []
        for column in model["columns"]:
            if column["name"] in NON_FEATURE_COLUMNS:
                continue
            data_type = column["data_type"]
            if data_type not in _FEAST_TYPES:
                raise ValueError(f"{model['name']}.{column['name']}: no Feast type for dbt data_type {data_type!r}")
            features.append(FeatureSpec(
                name=column["name"], dtype=_FEAST_TYPES[data_type], description=" ".join(column["description"].split()),
                owner=column.get("meta", {}).get("owner", owner),
            ))
        tables.append(FeatureTableSpec(
            table=model["name"], feature_view=meta["feast"]["feature_view"], description=" ".join(model["description"].split()),
            owner=owner, ttl=timedelta(days=meta["feast"]["ttl_days"]), features=tuple(features),
        ))
    return tables

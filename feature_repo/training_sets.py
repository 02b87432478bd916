"""Point-in-time training sets from a feature service, kept as Feast saved datasets.

An entity file names the customers and the moments their features are wanted (`customer_id`,
`event_timestamp`, plus any label columns, which pass through). Each row gets every feature of the
service as it was known at that moment, never later. The result is written as Parquet and
registered in the Feast registry (`feast saved-datasets list`), so every training set the platform
made can be found again: to reproduce a model, or to erase a person from it.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
from feast import FeatureStore
from feast.infra.offline_stores.file_source import SavedDatasetFileStorage
from feast.saved_dataset import SavedDataset

ENTITY_COLUMNS = ("customer_id", "event_timestamp")


class EntityFileError(ValueError):
    """The entity file cannot be used as it is."""


def read_entity_rows(path: Path) -> pd.DataFrame:
    """The entity rows of a CSV or Parquet file, timestamps in UTC (naive ones are taken as UTC)."""
    if path.suffix.lower() == ".parquet":
        rows = pd.read_parquet(path)
    elif path.suffix.lower() == ".csv":
        rows = pd.read_csv(path, dtype={"customer_id": "string"})
    else:
        raise EntityFileError(f"{path}: entity files are .csv or .parquet")
    missing = [column for column in ENTITY_COLUMNS if column not in rows.columns]
    if missing:
        raise EntityFileError(f"{path}: missing column(s) {', '.join(missing)}; found {', '.join(map(str, rows.columns))}")
    if rows.empty:
        raise EntityFileError(f"{path}: no entity rows")
    blank = rows.index[rows["customer_id"].isna() | (rows["customer_id"].astype("string").str.strip() == "")]
    if len(blank):
        raise EntityFileError(f"{path}: customer_id is empty on {len(blank)} row(s), the first at row {blank[0] + 1}")
    timestamps = pd.to_datetime(rows["event_timestamp"], utc=True, errors="coerce", format="mixed")
    bad = rows.index[timestamps.isna()]
    if len(bad):
        raise EntityFileError(f"{path}: event_timestamp {rows['event_timestamp'].iloc[bad[0]]!r} on row {bad[0] + 1} is not a timestamp")
    return rows.assign(customer_id=rows["customer_id"].astype(str), event_timestamp=timestamps)


def save_training_set(store: FeatureStore, entity_rows: pd.DataFrame, service_name: str, out: Path,
                      name: str | None = None, allow_overwrite: bool = False) -> SavedDataset:
    """Retrieve the service's features for the entity rows and keep them as a saved dataset at `out`."""
    if out.suffix.lower() != ".parquet":
        raise ValueError(f"{out}: training sets are written as Parquet (.parquet)")
    service = store.get_feature_service(service_name)
    job = store.get_historical_features(entity_df=entity_rows, features=service)
    name = name or f"{service_name}_{out.stem}_{datetime.now(timezone.utc):%Y%m%dT%H%M%S}"
    return store.create_saved_dataset(
        from_=job, name=name, storage=SavedDatasetFileStorage(path=str(out.resolve())), feature_service=service,
        tags={"entity_rows": str(len(entity_rows))}, allow_overwrite=allow_overwrite,
    )

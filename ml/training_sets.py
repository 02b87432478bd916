"""Training sets through Feast: the entity rows (customer × cutoff, label riding along) get exactly
the features the model's feature service serves, as they were known at each cutoff."""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl
from feast import FeatureStore

from feature_repo.training_sets import save_training_set


def service_feature_names(store: FeatureStore, service_name: str) -> list[str]:
    """The features of a service, in its order (without view prefixes)."""
    service = store.get_feature_service(service_name)
    return [feature.name for projection in service.feature_view_projections for feature in projection.features]


def retrieve_training_set(store: FeatureStore, entity_rows: pl.DataFrame, service_name: str, out: Path,
                          name: str) -> pl.DataFrame:
    """Point-in-time features for the entity rows, kept as a Feast saved dataset at `out` (so every
    set a model was trained on can be found again, to reproduce it or to erase a person from it)."""
    if entity_rows.is_empty():
        raise ValueError(f"no entity rows to build the {service_name} training set from")
    out.parent.mkdir(parents=True, exist_ok=True)
    save_training_set(store, entity_rows.to_pandas(), service_name, out, name=name, allow_overwrite=True)
    # The entity columns come back through pandas (dates as datetimes): restore their types. Feast
    # returns rows in no particular order; sort so that a set's hash and samples are stable.
    frame = pl.read_parquet(out).with_columns(pl.col(name).cast(dtype) for name, dtype in entity_rows.schema.items())
    return frame.sort(*(name for name in ("cutoff_date", "customer_id") if name in frame.columns))


def frame_digest(frame: pl.DataFrame) -> str:
    """A digest of a frame's content, independent of row order."""
    hashes = frame.hash_rows(seed=0).sort()
    digest = hashlib.sha256(hashes.to_numpy().tobytes())
    digest.update(",".join(f"{name}:{dtype}" for name, dtype in frame.schema.items()).encode())
    return digest.hexdigest()

"""The nightly models as Dagster assets: thin wrappers around the `ml` library."""

"""Ingestion: raw assets, their resources and the landing sensor."""

from __future__ import annotations

import dagster as dg

from dagster_project.defs.ingest.assets import build_raw_assets
from dagster_project.defs.ingest.resources import LandingZone, WarehouseResource
from dagster_project.defs.privacy.resources import SuppressionSalt
from dagster_project.settings import Settings


def ingest_definitions(settings: Settings, partitions_def: dg.PartitionsDefinition) -> dg.Definitions:
    return dg.Definitions(
        assets=build_raw_assets(partitions_def),
        resources={
            "warehouse": WarehouseResource(database=str(settings.warehouse_path)),
            "landing": LandingZone(path=str(settings.landing)),
            "suppression_salt": SuppressionSalt(path=str(settings.suppression_salt_path)),
        },
    )

"""Privacy: the erasure step (its resources come from the ingest and feature store stages)."""

from __future__ import annotations

import dagster as dg

from dagster_project.defs.privacy.assets import erasures


def privacy_definitions() -> dg.Definitions:
    return dg.Definitions(assets=[erasures])

"""dbt: every model as an asset, built by `dbt build`."""

from __future__ import annotations

import dagster as dg

from dagster_project.defs.dbt.assets import build_dbt_assets
from dagster_project.defs.dbt.resources import cxp_dbt_project, ensure_manifest, in_process_dbt
from dagster_project.defs.identity.assets import build_identity_assets
from dagster_project.settings import Settings


def dbt_definitions(settings: Settings) -> dg.Definitions:
    """The dbt models, and the Python identity stage that sits between their layers."""
    project = cxp_dbt_project(settings)
    ensure_manifest(project, settings.dbt_log_dir)
    dbt_models, customer_360_models, feature_models = build_dbt_assets(project)
    return dg.Definitions(
        assets=[dbt_models, *build_identity_assets(dbt_models, settings), customer_360_models, feature_models],
        resources={"dbt": in_process_dbt(project, settings.dbt_log_dir)},
    )

"""Every dbt model, seed and test as Dagster assets and checks, grouped by layer."""


from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from dagster_project.defs.ingest.assets import WAREHOUSE_POOL


class LayeredDbtTranslator(DagsterDbtTranslator):
    """Groups are our stages: a model's `meta.dagster.group` (e.g. `identity`), else its dbt folder."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        configured = super().get_group_name(dbt_resource_props)
        if configured:
            return configured
        if dbt_resource_props["resource_type"] == "seed":
            return "staging"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else None


def build_dbt_assets(project: DbtProject) -> dg.AssetsDefinition:
    """One multi-asset running `dbt build` for the selected models; dbt tests become asset checks."""

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=LayeredDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)),
        pool=WAREHOUSE_POOL,
    )
    def cxp_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
        """Build the selected models and run their tests."""
        # The manifest's own target directory keeps dbt's partial-parse cache warm (a cold parse
        # costs ~7 s a run); warehouse steps never overlap, so runs cannot collide in it.
        yield from dbt.cli(["build"], context=context, target_path=project.target_path).stream()

    return cxp_dbt_models

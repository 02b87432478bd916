"""Every dbt model, seed and test as Dagster assets and checks, grouped by layer."""


import contextlib
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtProject, dbt_assets
from dagster_dbt.asset_utils import default_description_fn
from dagster_duckdb import DuckDBResource

from dagster_project.defs.dbt.resources import InProcessDbt
from dagster_project.defs.dbt.row_counts import with_row_counts
from dagster_project.defs.ingest.assets import WAREHOUSE_POOL
from dagster_project.defs.privacy.assets import ERASURES
from dagster_project.incremental_models import incremental_models, prepare_for_build, record_built
from dagster_project.step_progress import StepProgress


class LayeredDbtTranslator(DagsterDbtTranslator):
    """Groups are our stages: a model's `meta.dagster.group` (e.g. `identity`), else its dbt folder.
    Models built on the resolved identities read them only after the night's erasures have run
    (which follow the resolution: see privacy/assets.py)."""

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        reads_identities = any(node.startswith(f"source.{props['package_name']}.identity.") for node in props.get("depends_on", {}).get("nodes", []))
        if props["resource_type"] == "model" and reads_identities:
            return spec.merge_attributes(deps=[ERASURES])
        return spec

    def get_description(self, dbt_resource_props: Mapping[str, Any]) -> str:
        """The model's own description; its SQL goes to the `dbt/sql` metadata, not under a heading."""
        return default_description_fn(dbt_resource_props, display_raw_sql=False)

    def get_metadata(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, Any]:
        """dagster-dbt's metadata, with a seed's column types (its `column_types` config) in the
        column schema and a model's SQL as a code block."""
        column_types = dbt_resource_props.get("config", {}).get("column_types") or {}
        if column_types:
            dbt_resource_props = {**dbt_resource_props, "columns": {
                name: {**column, "data_type": column.get("data_type") or column_types.get(name)}
                for name, column in dbt_resource_props.get("columns", {}).items()}}
        metadata = dict(super().get_metadata(dbt_resource_props))
        code = dbt_resource_props.get("raw_code")
        if dbt_resource_props["resource_type"] == "model" and code:
            metadata["dbt/sql"] = dg.MetadataValue.md(f"```sql\n{code.strip()}\n```")
        return metadata

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        configured = super().get_group_name(dbt_resource_props)
        if configured:
            return configured
        if dbt_resource_props["resource_type"] == "seed":
            return "staging"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else None


# Models built on resolved identities run after the identity stage's Python assets; the rest
# (seeds, staging, the identity graph) before it. Two multi-assets keep that order explicit.
CUSTOMER_360_SELECTION = "source:identity+"
# The feature snapshots build in a step of their own, after the marts' quality gates have passed:
# a blocking check on a mart stops them.
FEATURE_SELECTION = "path:models/intermediate/features path:models/marts/features"


def build_dbt_assets(project: DbtProject) -> tuple[dg.AssetsDefinition, dg.AssetsDefinition, dg.AssetsDefinition]:
    """The models before the identity stage, the customer 360 models after it, and the feature
    snapshots after the 360's gates.

    Each is one multi-asset running `dbt build` on its selected models; dbt tests become asset checks.
    """
    return (
        _dbt_build_assets(project, "cxp_dbt_models", exclude=f"{CUSTOMER_360_SELECTION} {FEATURE_SELECTION}"),
        _dbt_build_assets(project, "cxp_customer_360_models", select=CUSTOMER_360_SELECTION, exclude=FEATURE_SELECTION),
        _dbt_build_assets(project, "cxp_feature_models", select=FEATURE_SELECTION),
    )


def _dbt_build_assets(project: DbtProject, name: str, select: str = "fqn:*", exclude: str = "") -> dg.AssetsDefinition:
    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        name=name,
        select=select,
        exclude=exclude,
        dagster_dbt_translator=LayeredDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)),
        pool=WAREHOUSE_POOL,
    )
    def dbt_models(context: dg.AssetExecutionContext, dbt: InProcessDbt, warehouse: DuckDBResource):
        """Build the selected models and run their tests; incremental models an earlier definition
        built are rebuilt from history first (see dagster_project/incremental_models.py)."""
        invocation = dbt.build(context)
        selected = invocation.selected_nodes()
        incremental = incremental_models(invocation.manifest, selected)
        changes = []
        if incremental:
            with warehouse.get_connection() as connection:
                # Upstream tables this build makes before the marts count as current.
                changes = prepare_for_build(connection, incremental, building=set(selected) - {model.unique_id for model in incremental})
            for change in changes:
                context.log.warning(change.message)
        progress = StepProgress(context.log, len(context.selected_asset_keys), "models")
        try:
            # Closed on the way out: a step that fails while dbt runs (its progress could not be stored)
            # stops the build and frees the warehouse then, not whenever the stream is collected.
            with contextlib.closing(invocation.stream()) as events:
                yield from with_row_counts(events, invocation.manifest, warehouse.get_connection, progress)
        finally:
            # What did build is recorded even when another node failed: it need not be rebuilt again.
            if invocation.built:
                try:
                    with warehouse.get_connection() as connection:
                        record_built(connection, invocation.manifest, invocation.built, changes)
                except Exception as error:  # the build's own outcome comes first; an unrecorded mart is rebuilt next time
                    context.log.warning(f"could not record the definitions dbt just built ({error}); the next build redoes them")

    return dbt_models

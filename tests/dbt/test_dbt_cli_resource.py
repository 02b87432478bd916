"""The two dagster-dbt hooks cxp's dbt resource overrides (see `LocalDbtCliResource`): they must
still exist, with the shape and the call site the overrides rely on, or the savings silently stop."""

import ast
import inspect

from dagster_dbt import DbtCliResource
from dagster_dbt.core import dbt_cli_invocation, dbt_event_iterator

from dagster_project.defs.dbt.resources import LocalDbtCliResource


def test_the_hooks_it_overrides_are_still_dagster_dbts():
    assert isinstance(inspect.getattr_static(DbtCliResource, "_cli_version"), type(inspect.getattr_static(LocalDbtCliResource, "_cli_version")))
    assert list(inspect.signature(DbtCliResource._initialize_dbt_core_adapter).parameters) == ["self", "args"]
    cli = inspect.getsource(DbtCliResource.cli)
    assert "self._cli_version" in cli and "self._initialize_dbt_core_adapter(args)" in cli


def _functions_reading_the_adapter(module) -> set[str]:
    return {node.name for node in ast.walk(ast.parse(inspect.getsource(module))) if isinstance(node, ast.FunctionDef)
            and any(isinstance(inner, ast.Attribute) and inner.attr == "adapter" for inner in ast.walk(node))}


def test_only_the_fetchers_cxp_does_not_use_read_the_adapter():
    # The adapter reaches dbt events only through the row-count and column-metadata fetchers.
    assert _functions_reading_the_adapter(dbt_event_iterator) == {"_attach_metadata", "_fetch_column_metadata", "_fetch_row_count_metadata"}
    assert _functions_reading_the_adapter(dbt_cli_invocation) == set()


def test_the_version_comes_from_the_installed_dbt_without_a_subprocess(cxp_home):
    from dbt.version import __version__

    from dagster_project.defs.dbt.resources import cxp_dbt_project, dbt_cli_resource
    from dagster_project.settings import load_settings

    resource = dbt_cli_resource(cxp_dbt_project(load_settings()))
    assert str(resource._cli_version) == __version__
    assert resource._initialize_dbt_core_adapter(["build"]) is None

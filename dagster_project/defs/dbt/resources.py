"""The dbt project, pointed at exactly once, and the CLI resource that runs it."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from dagster_dbt import DbtCliResource, DbtProject
from packaging import version

from dagster_project.settings import Settings


def cxp_dbt_project(settings: Settings) -> DbtProject:
    """The repository's dbt project, compiling into the platform's home rather than the source tree."""
    return DbtProject(project_dir=settings.dbt_project_dir, target_path=settings.dbt_target_dir)


def ensure_manifest(project: DbtProject) -> Path:
    """Parse the project when its manifest is missing or older than any file of the project.

    Asset definitions are built from the manifest, so a stale one would hide model changes
    from `cxp run` and the UI; dagster-dbt only re-parses under `dagster dev`. dbt runs
    in-process here, which skips the `dbt --version` subprocess dagster-dbt's preparer
    starts first (several seconds on every load).
    """
    manifest = project.manifest_path
    sources = [
        path for path in project.project_dir.rglob("*")
        if path.is_file() and path.suffix in {".sql", ".yml", ".yaml", ".csv", ".py"}
        and "target" not in path.relative_to(project.project_dir).parts[:1]
    ]
    newest = max((path.stat().st_mtime for path in sources), default=0.0)
    if not manifest.exists() or manifest.stat().st_mtime < newest:
        from dbt.cli.main import dbtRunner

        result = dbtRunner().invoke([
            "parse", "--quiet", "--project-dir", str(project.project_dir),
            "--profiles-dir", str(project.profiles_dir), "--target-path", str(manifest.parent),
        ])
        if not result.success:
            raise RuntimeError(f"dbt parse failed for {project.project_dir}: {result.exception}")
    return manifest


class LocalDbtCliResource(DbtCliResource):
    """dbt-core installed in this environment, so its version is known without asking the executable.

    dagster-dbt runs `dbt --version` before every invocation, and that command looks up the
    latest release on PyPI: 9 s per run on our machines. And before each `dbt build` it loads the
    project's profile and parses its 400 macros in-process, to hand an adapter to the row-count and
    column-metadata fetchers, which cxp does not use: 1.4 s per build, three builds a run. This
    overrides two private hooks of dagster-dbt (`_cli_version`, `_initialize_dbt_core_adapter`);
    tests/dbt/test_dbt_cli_resource.py fails when either stops applying.
    """

    @cached_property
    def _cli_version(self) -> version.Version:
        from dbt.version import __version__

        return version.parse(__version__)

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> Any:
        # No adapter: `fetch_row_counts()` / `fetch_column_metadata()` would then yield nothing extra.
        return None


def dbt_cli_resource(project: DbtProject) -> DbtCliResource:
    """dbt from this environment, whether or not its bin directory is on PATH."""
    return LocalDbtCliResource(
        project_dir=project, profiles_dir=str(project.profiles_dir), dbt_executable=str(Path(sys.executable).with_name("dbt"))
    )

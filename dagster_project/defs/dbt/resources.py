"""The dbt project, pointed at exactly once, and the resource that builds it."""

from pathlib import Path

import dagster as dg
from dagster_dbt import DbtProject

from dagster_project.defs.dbt.in_process_build import DbtPaths, InProcessDbtBuild, parsed_manifest, project_files_digest
from dagster_project.settings import Settings

# Beside the manifest: the digest of the project files it was parsed from.
MANIFEST_SOURCE = "manifest_source.txt"


def cxp_dbt_project(settings: Settings) -> DbtProject:
    """The repository's dbt project, compiling into the platform's home rather than the source tree."""
    return DbtProject(project_dir=settings.dbt_project_dir, target_path=settings.dbt_target_dir)


def ensure_manifest(project: DbtProject, log_dir: Path) -> Path:
    """Write the project's manifest when it is missing or was parsed from other project files.

    Asset definitions are built from the manifest, so a stale one would hide model changes
    from `cxp run` and the UI; dagster-dbt only re-parses under `dagster dev`. Files are compared
    by place and content (`MANIFEST_SOURCE` beside the manifest), not by time: an upgrade can
    install files older than the manifest an earlier version wrote. The manifest is the one this
    process's builds use (`parsed_manifest`): parsed in-process once, then written for every home
    whose warehouse has the same file name, without parsing again.
    """
    manifest = project.manifest_path
    source = manifest.with_name(MANIFEST_SOURCE)
    digest = project_files_digest(project.project_dir)
    if not manifest.exists() or not source.exists() or source.read_text() != digest:
        parsed = parsed_manifest(DbtPaths(project.project_dir, project.profiles_dir, manifest.parent, log_dir))
        manifest.parent.mkdir(parents=True, exist_ok=True)
        parsed.write(str(manifest))
        source.write_text(digest)
    return manifest


class InProcessDbt(dg.ConfigurableResource):
    """dbt-core, run inside the step's process rather than as a `dbt` subprocess (see in_process_build.py)."""

    project_dir: str
    profiles_dir: str
    target_path: str
    """dbt's artifacts, and its partial-parse cache, in the platform's home."""
    log_path: str
    """Where dbt writes its debug log, `dbt.log`."""

    def build(self, context: dg.AssetExecutionContext) -> InProcessDbtBuild:
        """`dbt build` of the models and tests the step's subset selects; `.stream()` runs it."""
        paths = DbtPaths(Path(self.project_dir), Path(self.profiles_dir), Path(self.target_path), Path(self.log_path))
        return InProcessDbtBuild(context, paths)


def in_process_dbt(project: DbtProject, log_dir: Path) -> InProcessDbt:
    """The `dbt` resource of the dbt multi-assets."""
    return InProcessDbt(project_dir=str(project.project_dir), profiles_dir=str(project.profiles_dir),
                        target_path=str(project.target_path), log_path=str(log_dir))

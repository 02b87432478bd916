"""dbt's documentation as one page that opens offline: `dbt docs generate --static`, in-process.

dbt-core ≥1.7 writes `static_index.html` with the manifest and the catalog inlined, so the page
needs neither a server of dbt's nor the JSON files beside it. It loads nothing from the network
but Snowplow's tracker (`sp.js` from a CDN), and that only when the manifest says usage statistics
are on: generation always turns them off. The catalog (column types, table sizes) is read from
the warehouse that `CXP_WAREHOUSE_PATH` names (profiles.yml), so the caller generates while no
run writes to it. Artifacts go to a folder of their own, apart from the runs' manifest.
"""

from __future__ import annotations

from pathlib import Path

_SOURCE_SUFFIXES = {".sql", ".yml", ".yaml", ".csv", ".py", ".md"}


def dbt_docs_page(target_dir: Path) -> Path:
    """The static docs page, in its own folder under dbt's target directory."""
    return target_dir / "docs" / "static_index.html"


def dbt_docs_stale(page: Path, project_dir: Path, warehouse: Path) -> bool:
    """Missing, or older than the warehouse (a run changed the catalog) or any file of the project."""
    if not page.is_file():
        return True
    sources = (path for path in project_dir.rglob("*")
               if path.suffix in _SOURCE_SUFFIXES and path.relative_to(project_dir).parts[0] not in ("target", "logs", "dbt_packages"))
    newest = max([warehouse.stat().st_mtime if warehouse.exists() else 0.0, *(path.stat().st_mtime for path in sources)])
    return page.stat().st_mtime < newest


def generate_dbt_docs(project_dir: Path, target_dir: Path, log_dir: Path) -> Path:
    """Generate the docs of the project (profiles.yml beside it) and return the static page;
    `RuntimeError` with dbt's reason when generation fails (a warehouse locked by a writer)."""
    from dbt.cli.main import dbtRunner

    from dagster_project.dbt_duckdb_database import release_warehouse

    page = dbt_docs_page(target_dir)
    try:
        result = dbtRunner().invoke([
            "--no-send-anonymous-usage-stats", "--quiet", "docs", "generate", "--static",
            "--project-dir", str(project_dir), "--profiles-dir", str(project_dir),
            "--target-path", str(page.parent), "--log-path", str(log_dir),
        ])
    finally:
        # The docs server lives on: it must not hold the warehouse that the next run writes.
        release_warehouse()
    if not result.success or not page.is_file():
        raise RuntimeError(f"dbt docs generate failed for {project_dir}: {result.exception or 'see ' + str(log_dir / 'dbt.log')}")
    return page

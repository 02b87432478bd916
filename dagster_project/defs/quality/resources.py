"""The quality gates' resource: where Great Expectations keeps its project, the thresholds, and
where `cxp docs` serves the reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from dagster_project.docs_site.server import DEFAULT_DOCS_PORT, quality_page_url
from data_quality.data_docs import site_dir
from data_quality.thresholds import QualityThresholds, load_quality_thresholds


@dataclass(frozen=True)
class QualityGates:
    """The Great Expectations project (suites, results per run, Data Docs) and this environment's
    thresholds, read once with the run's settings (checks take it as `dg.ResourceParam[QualityGates]`)."""

    project_path: Path
    thresholds: QualityThresholds = field(default_factory=load_quality_thresholds)
    docs_port: int = DEFAULT_DOCS_PORT
    """The port `cxp docs` serves the Data Docs on (CXP_DOCS_PORT)."""

    def docs_links(self, page: str) -> dict[str, dg.MetadataValue]:
        """A check's links to its Data Docs page (a path in the site): as `cxp docs` serves it,
        which a browser opens from the Dagster UI, and the file, for whoever has no server running."""
        return {"validation_result": dg.MetadataValue.url(quality_page_url(page, self.docs_port)),
                "validation_result_file": dg.MetadataValue.path(str(site_dir(self.project_path) / page))}


QualityGatesParam = dg.ResourceParam[QualityGates]

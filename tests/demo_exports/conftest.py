"""Small generated export trees shared by the demo export tests (300 people x 30 days)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from dagster_project.demo_exports import GenerationSummary, generate_demo_exports

END_DATE = dt.date(2024, 3, 31)
SMALL = {"customers": 300, "days": 30}


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> GenerationSummary:
    """One generated tree, read by the conformance, truth and behaviour tests."""
    return generate_demo_exports(tmp_path_factory.mktemp("demo"), seed=7, end_date=END_DATE, **SMALL)


@pytest.fixture(scope="session")
def window() -> list[dt.date]:
    """Extract dates of the shared tree, oldest first."""
    return [END_DATE - dt.timedelta(days=k) for k in range(SMALL["days"] - 1, -1, -1)]


@pytest.fixture(scope="session")
def demo_dir(demo_run: GenerationSummary) -> Path:
    """Root folder of the shared generated tree."""
    return demo_run.out_dir


@pytest.fixture(scope="session")
def generate_into(tmp_path_factory: pytest.TempPathFactory):
    """Generate a small tree with the given seed and end date into a fresh folder."""
    def generate(seed: int, end_date: dt.date = END_DATE) -> Path:
        return generate_demo_exports(tmp_path_factory.mktemp("run"), seed=seed, end_date=end_date, **SMALL).out_dir
    return generate

"""`cxp run` as a user runs it, for the public-data benches: in its own CXP_HOME, with the bench's
model settings and quality thresholds, its output kept in `<home>/cxp_run.log`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path


def run_cxp(landing: Path, home: Path, first_day: str, model_settings: str,
            quality_thresholds: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Run the whole pipeline on `landing`; the seconds it took and the finished process."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "models.yml").write_text(model_settings)
    (home / "thresholds.yml").write_text(quality_thresholds)
    environment = {**os.environ, "CXP_HOME": str(home), "CXP_PARTITION_START": first_day,
                   "CXP_MODEL_SETTINGS": str(home / "models.yml"), "CXP_QUALITY_THRESHOLDS": str(home / "thresholds.yml")}
    started = time.perf_counter()
    result = subprocess.run([str(Path(sys.executable).with_name("cxp")), "run", "--landing", str(landing)],
                            env=environment, capture_output=True, text=True)
    (home / "cxp_run.log").write_text(result.stdout + result.stderr)
    return time.perf_counter() - started, result

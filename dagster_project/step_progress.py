"""A long step's progress, as run-log lines that `cxp run` draws as a bar on a terminal.

The lines go through the step's Dagster log (the UI's run log shows them too), so the terminal
learns of them the way it learns of everything else in a run; they come at most once a second.
"""

from __future__ import annotations

import re
import time
from logging import Logger
from typing import Any

PROGRESS_PREFIX = "progress: "
_PROGRESS = re.compile(rf"^{PROGRESS_PREFIX}(\d+)/(\d+) (.+)$")


class StepProgress:
    """Counts what a step has done out of `total` and logs it now and then."""

    def __init__(self, log: Logger | Any, total: int, unit: str, every_seconds: float = 1.0) -> None:
        self.log, self.total, self.unit, self.every = log, total, unit, every_seconds
        self.done = 0
        self._last = time.monotonic()

    def advance(self, count: int = 1) -> None:
        """`count` more done; logged when a second has passed since the last line, and at the end."""
        self.done += count
        now = time.monotonic()
        if now - self._last >= self.every or self.done == self.total:
            self._last = now
            self.log.info(f"{PROGRESS_PREFIX}{self.done}/{self.total} {self.unit}")


def parse_progress(message: str) -> tuple[int, int, str] | None:
    """(done, total, unit) of a progress line; None for any other message."""
    match = _PROGRESS.match(message)
    return (int(match[1]), int(match[2]), match[3]) if match else None

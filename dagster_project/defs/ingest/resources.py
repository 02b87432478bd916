"""Where exports are delivered."""

from __future__ import annotations

from pathlib import Path

import dagster as dg


class LandingZone(dg.ConfigurableResource):
    """The landing directory that follows the source export contract."""

    path: str

    @property
    def root(self) -> Path:
        return Path(self.path)

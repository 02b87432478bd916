"""The secret the erasure suppression list is salted with."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from dagster_project.privacy.suppression import read_or_create_salt


class SuppressionSalt(dg.ConfigurableResource):
    """Where the suppression list's salt is kept: a path, so the secret never shows in run config."""

    path: str

    def read(self) -> str:
        return read_or_create_salt(Path(self.path))

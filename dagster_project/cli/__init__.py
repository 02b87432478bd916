"""The `cxp` command line."""

from dagster_project.cli.commands import main

__all__ = ["main"]

"""The cxp code location: the one `Definitions` object that `dagster dev` and `workspace.yaml` load."""

from dagster_project.defs.platform import build_definitions

defs = build_definitions()

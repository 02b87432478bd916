"""The cxp code location: the one `Definitions` object that `dagster dev` and `workspace.yaml` load."""

import warnings

from dagster_project.defs.platform import build_definitions

defs = build_definitions()

# Dagster reads this deprecated property of every schedule itself, each time it snapshots the
# location (about once a minute under `dagster dev`): a warning no cxp user can act on. Set after
# the imports above, as Feast resets the warning filters when it is imported.
warnings.filterwarnings("ignore", message="Property `ScheduleDefinition.environment_vars` is deprecated", category=DeprecationWarning)

"""The `cxp` command line."""

import os
import sys
import warnings

# sqlglot (Splink's SQL layer, installed with its `rs` extra by Dagster's tooling) imports the
# deprecated sqlglotrs when present, which warns on every command that touches Splink: nothing a
# user of cxp can act on. Imported once here, quietly; Feast resets the warning filters on import,
# so a filter alone would not hold.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="sqlglotrs is deprecated", category=DeprecationWarning)
    import sqlglot  # noqa: F401

from dagster_project.cli.commands import main  # noqa: E402
from dagster_project.yaml_overrides import SettingsError  # noqa: E402

__all__ = ["main", "run_cli"]


def run_cli() -> None:
    """The `cxp` executable: the click group, then an exit that skips interpreter finalization.

    DuckDB objects live on in module-level caches (dbt-duckdb's, Splink's); at finalization DuckDB's
    bindings report each as a leak, dozens of lines that bury the run's summary. Once every line is
    written there is nothing left to finalize.
    """
    # Everything cxp writes (warehouse, Dagster's storage, logs, models, exports) may hold personal
    # data: readable by its owner alone, whatever the shell's umask.
    os.umask(0o077)
    try:
        main()
        code = 0
    except SystemExit as exit:
        code = exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 1)
        if not isinstance(exit.code, (int, type(None))):
            print(exit.code, file=sys.stderr)
    except SettingsError as error:  # the user's to fix: what and where, without a traceback
        print(f"cxp: the configuration is not valid:\n{error}", file=sys.stderr)
        code = 2
    except Exception:  # a bug: its traceback, without the leak report finalization would add
        import traceback

        traceback.print_exc()
        code = 1
    # What cxp started and left running: a run that ended outside its steps (its event storage
    # could not write) leaves a dbt build going, holding the warehouse's lock.
    from dagster_project.cli.child_processes import stop_children

    stop_children()
    # The one part of finalization that matters: multiprocessing's finalizers unlink the semaphores
    # Dagster created, which the resource tracker would otherwise report as leaked.
    from multiprocessing import util

    util._exit_function()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)

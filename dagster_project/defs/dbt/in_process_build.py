"""`dbt build` in the Dagster step's own process, with dbt's events turned into Dagster events by dagster-dbt.

dagster-dbt runs dbt in a subprocess: every step paid ~3 s of imports and a (partial) parse, three dbt
steps a run. Here dbt runs in a thread of the step's process, on a Manifest parsed once while the
project, its profile and the environment they read stay the same. Each event dbt fires is serialised
as its `--log-format json` log would write it and handed to dagster-dbt's own conversion, so
materializations, asset checks (blocking ones included) and their metadata are dagster-dbt's.

Third-party internals are used here only; tests/dbt/test_in_process_build.py fails when one changes:
dbt's `dbtRunner(manifest=...)`, `Manifest.env_vars`, `msg_to_dict` (its JSON log's serialisation) and
its adapters' `cancel_open_connections()`; dagster-dbt's `DbtCoreCliEventMessage`,
`get_subset_selection_for_context` and the op tags holding a multi-asset's dbt selection. dbt-duckdb's
process-wide database, released after each build, is touched in dagster_project/dbt_duckdb_database.py.
"""

import contextlib
import ctypes
import hashlib
import os
import queue
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import dagster as dg
from dagster_dbt import DagsterDbtCliRuntimeError
from dagster_dbt.asset_utils import (
    DAGSTER_DBT_EXCLUDE_METADATA_KEY,
    DAGSTER_DBT_SELECT_METADATA_KEY,
    DAGSTER_DBT_SELECTOR_METADATA_KEY,
    DBT_INDIRECT_SELECTION_ENV,
    get_manifest_and_translator_from_dbt_assets,
    get_subset_selection_for_context,
)
from dagster_dbt.core.dbt_cli_event import DbtCoreCliEventMessage
from dbt_common.events.functions import msg_to_dict

from dagster_project.dbt_duckdb_database import release_warehouse

if TYPE_CHECKING:
    from dbt.contracts.graph.manifest import Manifest

# dbt's flags, event manager and adapters, and dbt-duckdb's database, are process-wide: one dbt at a time.
_DBT_LOCK = threading.RLock()
# As long as dagster-dbt gives an interrupted dbt subprocess to stop.
STOP_TIMEOUT_SECONDS = 25.0
_ENV_VAR = re.compile(r"""env_var\(\s*['"]([^'"]+)['"]""")
# dbt's variables naming where it writes artifacts and logs (each home has its own): not what a parse reads.
_WHERE_DBT_WRITES = {"DBT_TARGET_PATH", "DBT_LOG_PATH"}
# A DuckDB profile's `path:` set by a variable: dbt-duckdb names the database after the file's stem.
_DATABASE_PATH_VAR = re.compile(r"""^\s*path:\s*["']?\{\{\s*env_var\(\s*['"]([^'"]+)['"]""", re.MULTILINE)


def project_files_digest(project_dir: Path) -> str:
    """A digest of where the dbt project is and what its files hold: unlike their times, it tells a
    manifest of other files apart even when an upgrade installed files older than the manifest."""
    digest = hashlib.sha256(str(project_dir.resolve()).encode())
    files = sorted(path for path in project_dir.rglob("*") if path.is_file() and path.suffix in {".sql", ".yml", ".yaml", ".csv", ".py", ".md"}
                   and "target" not in path.relative_to(project_dir).parts[:1])  # dbt's artifacts when target/ is inside
    for path in files:
        digest.update(str(path.relative_to(project_dir)).encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


@dataclass(frozen=True)
class DbtPaths:
    """Where dbt reads the project and profile, and writes its artifacts and its log."""

    project_dir: Path
    profiles_dir: Path
    target_path: Path
    log_path: Path

    def arguments(self) -> list[str]:
        """These paths as dbt's command-line options."""
        return ["--project-dir", str(self.project_dir), "--profiles-dir", str(self.profiles_dir),
                "--target-path", str(self.target_path), "--log-path", str(self.log_path)]


@dataclass
class _ParsedManifest:
    state: tuple[Any, ...]
    manifest: "Manifest"
    env: dict[str, str | None]


_parsed: _ParsedManifest | None = None


def _project_state(paths: DbtPaths) -> tuple[Any, ...]:
    """What a parse depends on besides the variables the models read: the project's files and where
    they are, the variables the profile and dbt_project.yml read, and dbt's own.

    The warehouse's path reaches the Manifest only as its database name, the file's stem (every node's
    `database` and `relation_name`): homes whose warehouses share a file name share a parse (each test
    home, each nightly run), and another file name is parsed again. The target and log paths are where
    a build writes, not what the parse read."""
    profile_files = [paths.profiles_dir / "profiles.yml", paths.project_dir / "dbt_project.yml"]
    texts = [file.read_text() for file in profile_files if file.exists()]
    names = sorted({name for text in texts for name in _ENV_VAR.findall(text)})
    database_paths = {name for text in texts for name in _DATABASE_PATH_VAR.findall(text)}
    variables = tuple((name, _database_name(os.environ.get(name)) if name in database_paths else os.environ.get(name)) for name in names)
    dbt_variables = sorted((name, value) for name, value in os.environ.items() if name.startswith("DBT_") and name not in _WHERE_DBT_WRITES)
    return paths.project_dir, paths.profiles_dir, project_files_digest(paths.project_dir), tuple(texts), variables, tuple(dbt_variables)


def _database_name(path: str | None) -> str | None:
    """The database dbt-duckdb names after a warehouse file: its stem."""
    return Path(path).stem if path else path


def parsed_manifest(paths: DbtPaths) -> "Manifest":
    """The project's Manifest, parsed again only when a file, a path or a variable it was parsed with has changed."""
    global _parsed
    from dbt.cli.main import dbtRunner

    with _DBT_LOCK:
        state = _project_state(paths)
        if _parsed is None or _parsed.state != state or any(os.environ.get(name) != value for name, value in _parsed.env.items()):
            result = dbtRunner().invoke(["parse", "--quiet", "--no-send-anonymous-usage-stats", *paths.arguments()])
            if not result.success:
                raise DagsterDbtCliRuntimeError(description=f"dbt parse failed for {paths.project_dir}: {result.exception}")
            manifest = cast("Manifest", result.result)
            # The variables the models and their YAML read, as dbt recorded them.
            _parsed = _ParsedManifest(state, manifest, {name: os.environ.get(name) for name in manifest.env_vars})
        return _parsed.manifest


@dataclass
class InProcessDbtBuild:
    """`dbt build` of a dbt multi-asset's selected subset, run in this process when streamed."""

    context: dg.AssetExecutionContext
    paths: DbtPaths

    def __post_init__(self) -> None:
        self.manifest, self.translator, self.project = get_manifest_and_translator_from_dbt_assets([self.context.assets_def])
        self.built: set[str] = set()
        """The models and seeds the streamed build has finished successfully so far."""

    def selection_arguments(self) -> list[str]:
        """The --select/--exclude (and --indirect-selection) dagster-dbt would pass for the step's subset."""
        tags = self.context.op.tags
        arguments, indirect_selection = get_subset_selection_for_context(
            context=self.context, manifest=self.manifest, select=tags.get(DAGSTER_DBT_SELECT_METADATA_KEY),
            exclude=tags.get(DAGSTER_DBT_EXCLUDE_METADATA_KEY), selector=tags.get(DAGSTER_DBT_SELECTOR_METADATA_KEY),
            dagster_dbt_translator=self.translator, current_dbt_indirect_selection_env=os.getenv(DBT_INDIRECT_SELECTION_ENV))
        return [*arguments, *(["--indirect-selection", indirect_selection] if indirect_selection else [])]

    def selected_nodes(self) -> list[str]:
        """The unique ids of the dbt models and seeds the step's subset selects."""
        selected = self.context.selected_asset_keys
        return [unique_id for unique_id, node in self.manifest["nodes"].items() if node["resource_type"] in ("model", "seed")
                and self.translator.get_asset_spec(self.manifest, unique_id, self.project).key in selected]

    def stream(self) -> Iterator[Any]:
        """dagster-dbt's events for each node as dbt finishes it; raises, naming the failed nodes,
        when a model or an error-severity test failed. The warehouse is released before it returns."""
        from dbt.cli.main import dbtRunner

        # dbt's unit tests check the models' SQL, not the night's data: dbt advises running them in
        # development and CI, not in production builds (tests/cli/test_cxp_run.py runs them).
        command = ["build", *self.selection_arguments(), "--exclude-resource-type", "unit_test"]
        events: queue.Queue[dict[str, Any] | None] = queue.Queue()
        outcome: list[Any] = []
        errors: list[str] = []
        failed: list[str] = []
        with _DBT_LOCK:
            runner = dbtRunner(manifest=parsed_manifest(self.paths), callbacks=[lambda message: _forward(message, events)])

            def build() -> None:
                try:
                    # Plain lines on stdout, as the run log and the compute log showed dagster-dbt's echo of them.
                    outcome.append(runner.invoke([*command, "--no-use-colors", "--no-send-anonymous-usage-stats", *self.paths.arguments()]))
                finally:
                    events.put(None)

            self.context.log.info(f"Running `dbt {' '.join(command)}` in this process.")
            thread = threading.Thread(target=build, name="dbt build", daemon=True)
            thread.start()
            try:
                while (raw_event := events.get()) is not None:
                    if raw_event["info"]["level"] == "error":
                        errors.append(raw_event["info"]["msg"])
                    node = raw_event["data"].get("node_info", {})
                    if node.get("node_status") == "success" and str(node.get("unique_id")).split(".")[0] in ("model", "seed"):
                        self.built.add(node["unique_id"])
                    if node.get("node_status") in ("error", "fail") and node.get("unique_id") not in failed:
                        failed.append(node.get("unique_id"))
                    yield from DbtCoreCliEventMessage(raw_event=raw_event, event_history_metadata={}).to_default_asset_events(
                        manifest=self.manifest, dagster_dbt_translator=self.translator, context=self.context,
                        target_path=self.paths.target_path, project=self.project)
            finally:
                # Reached early when the step is interrupted or its consumer stops: dbt must not go on writing.
                if thread.is_alive():
                    _stop(thread, self.manifest["metadata"]["adapter_type"], self.context.log)
                if not thread.is_alive():
                    release_warehouse()
        result = outcome[0] if outcome else None
        if result is None or not result.success:
            raise DagsterDbtCliRuntimeError(description=_failure(command, failed, errors, result and result.exception, self.paths.log_path))


def _forward(message: Any, events: "queue.Queue[dict[str, Any] | None]") -> None:
    # Runs in dbt's threads. The JSON log on stdout, which dagster-dbt reads, has no debug events either.
    if message.info.level != "debug":
        events.put(msg_to_dict(message))


def _failure(command: list[str], failed: list[str], errors: list[str], exception: BaseException | None, log_path: Path) -> str:
    nodes = f" on {len(failed)} node(s): {', '.join(failed)}" if failed else ""
    return "\n\n".join([f"`dbt {' '.join(command)}` failed{nodes}.", *([f"dbt raised: {exception!r}"] if exception else []),
                         *(["Errors from dbt's log:", *errors] if errors else []), f"dbt's debug log: {log_path / 'dbt.log'}"])


def _stop(thread: threading.Thread, adapter_type: str, log: Any) -> None:
    """Stop dbt as Ctrl-C stops the CLI: a KeyboardInterrupt in its thread, which it sees once the
    queries it waits for end, so those are cancelled too."""
    from dbt.adapters.factory import get_adapter_by_type

    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident or 0), ctypes.py_object(KeyboardInterrupt))
    with contextlib.suppress(Exception):  # no adapter yet, or no connection left to cancel
        get_adapter_by_type(adapter_type).cancel_open_connections()
    thread.join(STOP_TIMEOUT_SECONDS)
    if thread.is_alive():
        log.warning(f"dbt did not stop within {STOP_TIMEOUT_SECONDS:.0f} s; it holds the warehouse until it ends.")

"""`cxp run`: materialize the whole pipeline in-process for every extract date in the landing zone."""

import contextlib
import logging
import shutil
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import TextIO

import dagster as dg
import duckdb

from dagster_project.cli.child_processes import child_pids, stop_children
from dagster_project.cli.dagster_instance import prepare_dagster_home
from dagster_project.cli.progress import build_progress_logger
from dagster_project.cli.run_lock import exclusive_run, foreign_slot_holders, release_abandoned_runs, run_tags
from dagster_project.defs.ingest.assets import WAREHOUSE_POOL, raw_asset_key
from dagster_project.defs.ingest.partitions import partition_range_tags
from dagster_project.ingest.contracts import SOURCE_CONTRACTS
from dagster_project.settings import Settings
from dagster_project.warehouse import table_exists
from dagster_project.warehouse_snapshots import WarehouseUnsafe, check_free_space, check_warehouse_opens, take_snapshot

MODEL_SCHEMAS = ("staging", "intermediate", "identity", "marts", "features")


class LandingError(Exception):
    """The landing directory cannot be run as it is."""


@dataclass(frozen=True)
class CheckOutcome:
    """One asset check evaluated in the run."""

    asset: str
    check: str
    passed: bool
    severity: str
    """ERROR (a blocking rule or an error-severity dbt test) or WARN."""
    metadata: dict


@dataclass
class PipelineOutcome:
    """What a run did, for the closing summary."""

    run_id: str
    success: bool
    first_date: date
    last_date: date
    files_per_source: dict[str, int]
    log_file: Path
    table_rows: dict[str, int] = field(default_factory=dict)
    quarantined_per_source: dict[str, int] = field(default_factory=dict)
    failed_steps: list[str] = field(default_factory=list)
    materialized: set[str] = field(default_factory=set)
    """Assets (`group/name` keys) materialized by the run."""
    checks: list[CheckOutcome] = field(default_factory=list)
    model_notes: list[str] = field(default_factory=list)
    """One line per model: trained or why not, and the champion decision."""
    erasure_note: str | None = None
    """What the run's erasure step did, when it had requests to carry out."""
    identity_note: str | None = None
    """How identities were resolved: a trained model, or deterministic rules only and why."""
    absent_sources: list[str] = field(default_factory=list)
    """Sources of the contract that delivered no file: their features are null."""
    interrupted: bool = False
    """Stopped by Ctrl-C or SIGTERM."""
    released_runs: list[str] = field(default_factory=list)
    """Runs a `cxp run` that died left unfinished, released by this run (which replays their work)."""
    disk_full_steps: list[str] = field(default_factory=list)
    """Steps that failed because a file could not grow: the disk is full, or a file-size limit was hit."""
    snapshot: Path | None = None
    """The warehouse snapshot taken before this run wrote."""

    @property
    def failed_checks(self) -> list[CheckOutcome]:
        return [check for check in self.checks if not check.passed]


# Libraries that talk on their own loggers: their notes belong in the run log, not on the terminal.
THIRD_PARTY_LOGGERS = ("splink", "py.warnings")


@contextlib.contextmanager
def third_party_output_to(stream: TextIO) -> Iterator[None]:
    """Send third-party log records (Splink's "level not observed, unable to train m value") and
    Python warnings (deprecations inside Dagster) to `stream` for the duration."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    loggers = [logging.getLogger(name) for name in THIRD_PARTY_LOGGERS]
    saved = [(logger.propagate, logger.level) for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.propagate = False
        logger.setLevel(logging.INFO)
    logging.captureWarnings(True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            yield
    finally:
        logging.captureWarnings(False)
        for logger, (propagate, level) in zip(loggers, saved):
            logger.removeHandler(handler)
            logger.propagate, logger.level = propagate, level


def delivered_dates(landing: Path) -> dict[str, list[date]]:
    """Extract dates present per source kind; kinds with no file are left out."""
    present = {contract.name: sorted(contract.delivered_files(landing)) for contract in SOURCE_CONTRACTS}
    return {name: days for name, days in present.items() if days}


def run_pipeline(settings: Settings, extract_date: date | None = None) -> PipelineOutcome:
    """Load every delivered file and build every model, in one Dagster run over the dates present;
    given an extract date, load that day's files only, as the nightly schedule does."""
    present = delivered_dates(settings.landing)
    if not present:
        raise LandingError(
            f"No export files in {settings.landing}: expected files such as crm/contacts_YYYY-MM-DD.csv "
            "(see shared/contracts/sources.md), or run `cxp generate` first."
        )
    first = min(day for days in present.values() for day in days)
    last = max(day for days in present.values() for day in days)
    if first < settings.partition_start:
        raise LandingError(f"Files dated {first} predate the first partition {settings.partition_start}; set CXP_PARTITION_START.")
    latest_possible = datetime.now(timezone.utc).date() + timedelta(days=1)
    if extract_date is not None:
        # One day's run reads that day's files alone: a misdated file elsewhere is no reason to refuse it.
        if extract_date > latest_possible:
            raise LandingError(f"{extract_date} is in the future: extract dates are UTC days that have begun.")
        if not any(extract_date in days for days in present.values()):
            raise LandingError(f"No export file in {settings.landing} is dated {extract_date}.")
        first = last = extract_date
    elif last > latest_possible:
        future = [contract.delivered_files(settings.landing)[day].relative_to(settings.landing).as_posix()
                  for contract in SOURCE_CONTRACTS for day in present.get(contract.name, []) if day > latest_possible]
        raise LandingError(
            f"{len(future)} file(s) in {settings.landing} are dated after {latest_possible}, and extract dates are UTC days "
            f"that have begun: {', '.join(future[:5])}{', …' if len(future) > 5 else ''}. Move them out of the landing "
            "directory (or fix their names), or load one day with --date.")

    prepare_dagster_home(settings)
    with exclusive_run(settings.home):
        # Before anything writes: a file that will not open stops the run untouched, a disk
        # without room stops it before it fills, and the warehouse is copied aside.
        check_warehouse_opens(settings.warehouse_path, settings.snapshots_dir)
        check_free_space(settings.home, settings.warehouse_path, settings.snapshots_kept)
        try:
            snapshot = take_snapshot(settings.warehouse_path, settings.snapshots_dir, settings.snapshots_kept)
        except OSError as error:
            raise WarehouseUnsafe(f"Could not copy the warehouse to {settings.snapshots_dir} before the run ({error}); nothing "
                                  "was written. Free space, or set CXP_SNAPSHOTS_KEPT=0, and run again.") from error
        log_file = settings.dbt_log_dir / f"cxp-run-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}.log"
        log_file.parent.mkdir(parents=True, exist_ok=True)
        log = open(log_file, "w", encoding="utf-8")
        try:
            with third_party_output_to(log):
                outcome = _run(settings, present, first, last, log_file, log)
        except BaseException:
            # A log that cannot take its last lines must not hide why the run ended.
            with contextlib.suppress(OSError):
                log.close()
            raise
        with _disk_full_named(settings, f"the run's log {log_file}", snapshot.path if snapshot else None):
            log.close()
        outcome.snapshot = snapshot.path if snapshot else None
        return outcome


def _run(settings: Settings, present: dict[str, list[date]], first: date, last: date, log_file: Path, log: TextIO) -> PipelineOutcome:
    from dagster_project.defs.platform import build_definitions  # heavy: dbt parse and Dagster imports

    progress = build_progress_logger(sys.stdout)
    # The first build in a home parses the dbt project into its target folder.
    with _disk_full_named(settings, f"dbt's parse into {settings.dbt_target_dir}"):
        built = build_definitions(settings)
    definitions = dg.Definitions.merge(built, dg.Definitions(loggers={"progress": progress}))
    job = definitions.resolve_job_def("cxp_pipeline")
    raw_keys = {raw_asset_key(contract) for contract in SOURCE_CONTRACTS}
    # Sources that never delivered stay unmaterialized rather than showing empty partitions.
    selection = [key for key in definitions.resolve_asset_graph().get_all_asset_keys() if key not in raw_keys]
    selection += [raw_asset_key(contract) for contract in SOURCE_CONTRACTS if contract.name in present]
    # dagster-dbt echoes every dbt event to stdout: keep it, but in a file rather than on the terminal.
    with dg.DagsterInstance.get() as instance:
        released = release_abandoned_runs(instance)
        for run in released:
            print(f"Released run {run.run_id}: a cxp run (process {run.pid}) died and left it {run.status}; "
                  "this run replays its work.", flush=True)
        for run_id in foreign_slot_holders(instance, WAREHOUSE_POOL):
            print(f"Run {run_id}, started outside cxp run (UI or schedule), holds or awaits the warehouse slot: this run "
                  f"waits for it. If it is dead: dagster run delete -f {run_id}", flush=True)
        already_running = child_pids()
        try:
            # Dagster's own storage failing to grow ends the run outside any step.
            with contextlib.redirect_stdout(log), _disk_full_named(settings, "Dagster's run storage"):
                result = job.execute_in_process(
                    instance=instance, asset_selection=selection, tags={**partition_range_tags(first, last), **run_tags()},
                    run_config={"loggers": {"progress": {}}}, raise_on_error=False,
                )
        finally:
            # A step that failed early (its events could not be stored) may leave its dbt build
            # running, holding the warehouse the summary below reads.
            stop_children(spare=already_running)
    outcome = PipelineOutcome(
        run_id=result.run_id, success=result.success, first_date=first, last_date=last, log_file=log_file,
        files_per_source={name: len(days) for name, days in present.items()},
        failed_steps=[event.step_key for event in result.all_events if event.event_type_value == "STEP_FAILURE"],
        disk_full_steps=[event.step_key for event in result.all_events if event.event_type_value == "STEP_FAILURE"
                         and _is_disk_full(event.step_failure_data.error, settings.home)],
        interrupted=any(event.event_type_value == "STEP_FAILURE" and event.step_failure_data.error is not None
                        and event.step_failure_data.error.cls_name == "DagsterExecutionInterruptedError" for event in result.all_events),
        materialized={event.asset_key.to_user_string() for event in result.get_asset_materialization_events()},
        checks=[
            CheckOutcome(
                asset=evaluation.asset_key.to_user_string(), check=evaluation.check_name, passed=evaluation.passed,
                severity=evaluation.severity.value, metadata={key: value.value for key, value in evaluation.metadata.items()},
            )
            for evaluation in (event.event_specific_data for event in result.all_events if event.event_type_value == "ASSET_CHECK_EVALUATION")
        ],
    )
    outcome.released_runs = [run.run_id for run in released]
    outcome.model_notes = _model_notes(result.get_asset_materialization_events())
    outcome.erasure_note = _erasure_note(result.get_asset_materialization_events())
    outcome.identity_note = _identity_note(result.get_asset_materialization_events())
    outcome.absent_sources = [contract.name for contract in SOURCE_CONTRACTS if contract.name not in present]
    if settings.warehouse_path.exists():
        _count_rows(settings.warehouse_path, outcome)
    return outcome


# How "the file cannot grow" reads in DuckDB's, SQLite's and the OS's errors (ENOSPC, EFBIG).
_DISK_FULL = ("no space left on device", "database or disk is full", "file too large", "disk quota exceeded")
# SQLite reports a write the OS refused as a plain I/O error: disk-full only when space is short.
_IO_ERROR = "disk i/o error"
_LOW_SPACE_BYTES = 64 * 1024**2


def _is_disk_full(error, home: Path) -> bool:
    """Whether a step's error (Dagster's record of it, or one of its causes) says a file could not grow."""
    messages = []
    while error is not None:
        messages.append(error.message or "")
        error = error.cause or error.context
    return _says_cannot_grow(messages, home)


def _cannot_grow(error: BaseException, home: Path) -> bool:
    """`_is_disk_full` for a Python exception and its chain."""
    messages = []
    while error is not None:
        messages.append(str(error))
        error = error.__cause__ or error.__context__
    return _says_cannot_grow(messages, home)


@contextlib.contextmanager
def _disk_full_named(settings: Settings, what: str, snapshot: Path | None = None) -> Iterator[None]:
    """Turn an error that says a file could not grow into the one disk-full message, naming `what`."""
    try:
        yield
    except Exception as error:
        if _cannot_grow(error, settings.home):
            raise WarehouseUnsafe(disk_full_message(settings.home, what, settings.snapshots_dir, snapshot)) from error
        raise


def _says_cannot_grow(messages: list[str], home: Path) -> bool:
    lowered = [message.lower() for message in messages]
    return any(sign in message for message in lowered for sign in _DISK_FULL) or \
        (any(_IO_ERROR in message for message in lowered) and _space_is_short(home))


def _space_is_short(home: Path) -> bool:
    import resource

    limit, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    return limit != resource.RLIM_INFINITY or shutil.disk_usage(home).free < _LOW_SPACE_BYTES


def disk_full_message(home: Path, what: str, snapshots_dir: Path, snapshot: Path | None = None) -> str:
    """The one message a run that ran out of room ends with: where, how much is free, what to do."""
    free = shutil.disk_usage(home).free / 1024**2
    restore = (f"`cxp restore` puts back the warehouse as it was before this run ({snapshot})" if snapshot
               else f"`cxp restore --list` shows the warehouse snapshots in {snapshots_dir}")
    return (f"The disk holding {home} is full ({free:,.0f} MB free), or a file-size limit was hit: {what} could not write. "
            "Each step's writes are one transaction and were rolled back; free space and run again, which replays them. "
            f"Should the warehouse no longer open, {restore}.")


def _model_notes(events) -> list[str]:
    """`churn: ...` lines from the challenger and champion assets' metadata."""
    metadata = {event.asset_key.path[-1]: {k: v.value for k, v in event.step_materialization_data.materialization.metadata.items()}
                for event in events if event.asset_key.path[0] == "ml"}
    notes = []
    for name in ("churn", "propensity", "clv"):
        challenger, champion = metadata.get(f"{name}_challenger"), metadata.get(f"{name}_champion", {})
        if challenger is None:
            continue
        if not challenger.get("trained"):
            notes.append(f"{name}: not trained: {challenger.get('reason')}")
            continue
        scores = ", ".join(f"{key.removesuffix('_challenger')} {value:.3f}" for key, value in challenger.items() if key.endswith("_challenger"))
        notes.append(f"{name}: version {challenger['version']} ({scores}); {champion.get('decision', '?')}: {champion.get('reason', '')}")
    return notes


def _identity_note(events) -> str | None:
    """`deterministic rules only: <why>`, or the model's scope and the comparisons the data cannot feed."""
    for event in events:
        if event.asset_key.to_user_string() == "identity/probabilistic_match_pairs":
            metadata = {k: v.value for k, v in event.step_materialization_data.materialization.metadata.items()}
            if not metadata.get("trained"):
                return f"deterministic rules only (shared emails and phones): {metadata.get('deterministic_only_because', '')}"
            note = f"Splink model trained on {metadata['identity_nodes']:,} records, {metadata['accepted_pairs']:,} pairs accepted"
            if metadata.get("comparisons_without_data"):
                note += f"; no {metadata['comparisons_without_data']} in the data, so those weigh nothing"
            return note
    return None


def _erasure_note(events) -> str | None:
    for event in events:
        if event.asset_key.to_user_string() == "privacy/erasures":
            metadata = {k: v.value for k, v in event.step_materialization_data.materialization.metadata.items()}
            if metadata.get("requests_processed"):
                partial = metadata.get("requests_completed_next_run", 0)
                later = f"; {partial} in part, along shared emails and ids, to be completed by the next run" if partial else ""
                return (f"{metadata['requests_processed']} erasure request(s) carried out, {metadata['rows_deleted']:,} rows deleted"
                        f"{later} (`cxp erasures` shows the audit log)")
    return None


def _count_rows(warehouse: Path, outcome: PipelineOutcome) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        tables = connection.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema IN (SELECT unnest(?::VARCHAR[])) "
            "ORDER BY table_schema, table_name", [list(MODEL_SCHEMAS)],
        ).fetchall()
        for schema, table in tables:
            (count,) = connection.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()
            outcome.table_rows[f"{schema}.{table}"] = count
        if table_exists(connection, "raw.quarantine"):
            outcome.quarantined_per_source = dict(
                connection.execute("SELECT source, count(*) FROM raw.quarantine GROUP BY source ORDER BY source").fetchall()
            )

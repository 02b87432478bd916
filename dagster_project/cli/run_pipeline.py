"""`cxp run`: materialize the whole pipeline in-process for every extract date in the landing zone."""

import contextlib
import logging
import sys
import warnings
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import TextIO

import dagster as dg

from dagster_project.cli.child_processes import child_pids, stop_children
from dagster_project.cli.dagster_instance import prepare_dagster_home
from dagster_project.cli.disk_full import disk_full_named, step_error_says_disk_full
from dagster_project.cli.located_run import execute_as_location_run, workspace_job_origin
from dagster_project.cli.progress import build_progress_logger
from dagster_project.cli.run_lock import exclusive_run, foreign_slot_holders, release_abandoned_runs, run_tags
from dagster_project.cli.run_outcome import CheckOutcome, PipelineOutcome, count_rows, erasure_note_from, identity_note_from, model_notes_from
from dagster_project.defs.ingest.assets import WAREHOUSE_POOL, raw_asset_key
from dagster_project.defs.ingest.partitions import partition_range_tags
from dagster_project.ingest.contracts import SOURCE_CONTRACTS
from dagster_project.ingest.extract_dates import delivered_dates
from dagster_project.settings import REPO_ROOT, Settings
from dagster_project.warehouse_snapshots import WarehouseUnsafe, check_free_space, check_warehouse_opens, take_snapshot


class LandingError(Exception):
    """The landing directory cannot be run as it is."""


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


def run_pipeline(settings: Settings, extract_date: date | None = None) -> PipelineOutcome:
    """Load every delivered file and build every model, in one Dagster run over the dates present;
    given an extract date, load that day's files only, as the nightly schedule does."""
    present = delivered_dates(settings.landing)
    if not present:
        raise LandingError(
            f"No export files in {settings.landing}: expected files such as crm/contacts_YYYY-MM-DD.csv "
            "(see dagster_project/ingest/EXPORT_CONTRACT.md), or run `cxp generate` first."
        )
    first = min(day for days in present.values() for day in days)
    last = max(day for days in present.values() for day in days)
    if settings.partition_start is not None and first < settings.partition_start:
        raise LandingError(f"Files dated {first} predate the first partition {settings.partition_start} (CXP_PARTITION_START).")
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
        with disk_full_named(settings, f"the run's log {log_file}", snapshot.path if snapshot else None):
            log.close()
        outcome.snapshot = snapshot.path if snapshot else None
        return outcome


def _run(settings: Settings, present: dict[str, list[date]], first: date, last: date, log_file: Path, log: TextIO) -> PipelineOutcome:
    from dagster_project.defs.platform import build_definitions  # heavy: dbt parse and Dagster imports

    not_executed: list[str] = []
    progress = build_progress_logger(sys.stdout, not_executed)
    # The first build in a home parses the dbt project into its target folder.
    with disk_full_named(settings, f"dbt's parse into {settings.dbt_target_dir}"):
        built = build_definitions(settings)
    definitions = dg.Definitions.merge(built, dg.Definitions(loggers={"progress": progress}))
    job = definitions.resolve_job_def("cxp_pipeline")
    raw_keys = {raw_asset_key(contract) for contract in SOURCE_CONTRACTS}
    # Sources that never delivered stay unmaterialized rather than showing empty partitions.
    selection = [key for key in definitions.resolve_asset_graph().get_all_asset_keys() if key not in raw_keys]
    selection += [raw_asset_key(contract) for contract in SOURCE_CONTRACTS if contract.name in present]
    # dbt writes a line per event to stdout: keep them, but in a file rather than on the terminal.
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
            with contextlib.redirect_stdout(log), disk_full_named(settings, "Dagster's run storage"):
                result = execute_as_location_run(
                    job, instance, workspace_job_origin(REPO_ROOT / "workspace.yaml", job.name), asset_selection=selection,
                    tags={**partition_range_tags(first, last), **run_tags()}, run_config={"loggers": {"progress": {}}},
                )
        finally:
            # A step that failed early (its events could not be stored) may leave a process it
            # started running, holding the warehouse the summary below reads.
            stop_children(spare=already_running)
    outcome = PipelineOutcome(
        run_id=result.run_id, success=result.success, first_date=first, last_date=last, log_file=log_file,
        files_per_source={name: len(days) for name, days in present.items()},
        failed_steps=[event.step_key for event in result.all_events if event.event_type_value == "STEP_FAILURE"],
        not_executed=not_executed,
        disk_full_steps=[event.step_key for event in result.all_events if event.event_type_value == "STEP_FAILURE"
                         and step_error_says_disk_full(event.step_failure_data.error, settings.home)],
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
    outcome.model_notes = model_notes_from(result.get_asset_materialization_events())
    outcome.erasure_note = erasure_note_from(result.get_asset_materialization_events())
    outcome.identity_note = identity_note_from(result.get_asset_materialization_events())
    outcome.absent_sources = [contract.name for contract in SOURCE_CONTRACTS if contract.name not in present]
    if settings.warehouse_path.exists():
        count_rows(settings.warehouse_path, outcome)
    return outcome

"""The `cxp` command line: generate demo exports, run the pipeline, open the UI (serving: feature_store_commands, docs_commands)."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import click

from dagster_project.cli.docs_commands import docs
from dagster_project.cli.evaluation_commands import evaluate
from dagster_project.cli.explain_commands import explain, read_warehouse
from dagster_project.cli.feature_store_commands import feast, serve, training_set
from dagster_project.settings import REPO_ROOT, load_settings
from dagster_project.warehouse import schema_exists


@click.group()
def main() -> None:
    """cxp: customer-experience data platform."""


main.add_command(serve)
main.add_command(training_set)
main.add_command(feast)
main.add_command(evaluate)
main.add_command(explain)
main.add_command(docs)


@main.command()
@click.option("--customers", default=10_000, show_default=True, type=click.IntRange(min=1), help="People in the simulated business.")
@click.option("--days", default=365, show_default=True, type=click.IntRange(min=1), help="Days of daily exports.")
@click.option("--seed", default=42, show_default=True, help="Random seed; the same arguments give the same files.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Landing directory to write [default: CXP_LANDING].")
@click.option("--end-date", type=click.DateTime(["%Y-%m-%d"]), help="Last extract date [default: yesterday, UTC].")
@click.option("--corruption-scale", default=1.0, show_default=True, type=click.FloatRange(min=0),
              help="Multiplies the rate of every record slip (missing or swapped names, birth-date and address errors); 0 turns them off.")
@click.option("--catalog-skus", type=click.IntRange(min=1),
              help="Product variants the shop sells over the simulated years [default: the generator's catalog size].")
def generate(customers: int, days: int, seed: int, out: Path | None, end_date, corruption_scale: float, catalog_skus: int | None) -> None:
    """Write demo exports that follow the source contract, with ground truth in `_truth/`."""
    from dagster_project.demo_exports import generate_demo_exports
    from dagster_project.demo_exports.generate import MIN_CATALOG_SKUS

    if catalog_skus is not None and catalog_skus < MIN_CATALOG_SKUS:
        raise click.BadParameter(f"at least {MIN_CATALOG_SKUS}: every category needs products", param_hint="'--catalog-skus'")
    out = out or load_settings().landing
    click.echo(f"Generating {customers:,} people over {days} days into {out} …")
    summary = generate_demo_exports(
        out_dir=out, customers=customers, days=days, seed=seed, end_date=end_date.date() if end_date else None,
        corruption_scale=corruption_scale, **({"catalog_skus": catalog_skus} if catalog_skus is not None else {}),
    )
    click.echo(str(summary))


@main.command()
@click.option("--landing", type=click.Path(exists=True, file_okay=False, path_type=Path), help="Landing directory [default: CXP_LANDING].")
@click.option("--date", "extract_date", type=click.DateTime(["%Y-%m-%d"]),
              help="Load only this extract date's files (as the nightly run does), e.g. to replay a fixed day.")
def run(landing: Path | None, extract_date) -> None:
    """Ingest every delivered export and build every model, in-process through Dagster."""
    from dagster_project.cli.run_lock import RunInProgress
    from dagster_project.cli.run_pipeline import LandingError, run_pipeline
    from dagster_project.cli.run_summary import summary_lines
    from dagster_project.warehouse_snapshots import WarehouseUnsafe

    settings = load_settings()
    if landing is not None:
        settings = settings.model_copy(update={"landing": landing.resolve()})
    click.echo(f"Landing:   {settings.landing}\nWarehouse: {settings.warehouse_path}")
    # SIGTERM (a service manager, `kill`) stops a run as Ctrl-C does: the step in flight is
    # interrupted, the run is marked failed and its warehouse slot freed.
    signal.signal(signal.SIGTERM, lambda signum, frame: os.kill(os.getpid(), signal.SIGINT))
    try:
        outcome = run_pipeline(settings, extract_date.date() if extract_date else None)
    except (LandingError, RunInProgress, WarehouseUnsafe) as error:
        raise click.ClickException(str(error)) from error
    for line in summary_lines(outcome, settings):
        click.echo(line)
    if outcome.interrupted:
        raise click.ClickException(f"Run {outcome.run_id} was stopped (Ctrl-C or SIGTERM) in: {', '.join(outcome.failed_steps)}; "
                                   "its warehouse slot is free, and the next cxp run replays its work")
    if outcome.disk_full_steps:
        from dagster_project.cli.disk_full import disk_full_message

        raise click.ClickException(disk_full_message(settings.home, ", ".join(outcome.disk_full_steps), settings.snapshots_dir,
                                                     outcome.snapshot))
    if not outcome.success:
        raise click.ClickException(f"Run {outcome.run_id} failed in: {', '.join(outcome.failed_steps) or 'see the log above'}")
    click.echo("\nDone. Open the Dagster UI with `cxp ui` to browse runs, assets and checks.")


@main.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Folder to write the copy to [default: $CXP_HOME/snapshots].")
def backup(out: Path | None) -> None:
    """Copy the warehouse aside now (`cxp run` also takes one before each run writes)."""
    from dagster_project.cli.run_lock import RunInProgress, exclusive_run
    from dagster_project.warehouse_snapshots import WarehouseUnsafe, check_warehouse_opens, take_snapshot

    settings = load_settings()
    if not settings.warehouse_path.exists():
        raise click.ClickException(f"No warehouse at {settings.warehouse_path} yet: `cxp run` makes it.")
    try:
        with exclusive_run(settings.home):  # no run writes while the file is copied
            check_warehouse_opens(settings.warehouse_path, settings.snapshots_dir)
            snapshot = take_snapshot(settings.warehouse_path, out or settings.snapshots_dir, keep=None if out else max(settings.snapshots_kept, 1))
    except (RunInProgress, WarehouseUnsafe) as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"{snapshot.path} ({snapshot.bytes / 1024**2:,.1f} MB)")


@main.command()
@click.argument("snapshot_file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--list", "list_only", is_flag=True, help="List the snapshots, newest first, and restore nothing.")
def restore(snapshot_file: Path | None, list_only: bool) -> None:
    """Put a warehouse snapshot back [default: the newest in $CXP_HOME/snapshots]; the file it
    replaces is kept beside it. Runs after the snapshot are replayed by the next `cxp run`."""
    from datetime import datetime, timezone

    import duckdb

    from dagster_project.cli.run_lock import RunInProgress, exclusive_run
    from dagster_project.warehouse_snapshots import Snapshot, list_snapshots, restore_snapshot

    settings = load_settings()
    snapshots = list_snapshots(settings.snapshots_dir)
    if list_only:
        for snapshot in snapshots:
            click.echo(f"{snapshot.taken_at:%Y-%m-%d %H:%M:%S} UTC  {snapshot.bytes / 1024**2:>10,.1f} MB  {snapshot.path}")
        return
    if snapshot_file is not None:
        chosen = Snapshot(snapshot_file, snapshot_file.stat().st_size, datetime.fromtimestamp(snapshot_file.stat().st_mtime, timezone.utc))
    elif snapshots:
        chosen = snapshots[0]
    else:
        raise click.ClickException(f"No snapshot in {settings.snapshots_dir}: `cxp run` takes one before each run writes.")
    try:
        with exclusive_run(settings.home):
            kept = restore_snapshot(settings.warehouse_path, chosen)
    except RunInProgress as error:
        raise click.ClickException(str(error)) from error
    except duckdb.Error as error:
        raise click.ClickException(f"{chosen.path} does not open as a DuckDB file ({error}); nothing was changed.") from error
    click.echo(f"Restored {settings.warehouse_path} from {chosen.path}" + (f"; the replaced file is {kept}" if kept else ""))
    click.echo("The load ledger is the snapshot's: `cxp run` loads again every file delivered since.")


@main.command(name="erasures")
def erasures_command() -> None:
    """The erasure audit log: each processed request, when, its outcome, and the rows deleted where (no personal data)."""
    import polars as pl

    from dagster_project.privacy.audit_log import read_audit_log

    with read_warehouse() as connection:
        log = read_audit_log(connection) if schema_exists(connection, "privacy") else None
    if log is None or log.is_empty():
        click.echo("No erasure request has been processed.")
        return
    for (request_id,), lines in log.group_by("request_id", maintain_order=True):
        first = lines.row(0, named=True)
        click.echo(f"{request_id}: received {first['received_at']}, processed {first['processed_at']:%Y-%m-%d %H:%M} UTC: {first['outcome']}")
        for line in lines.filter(pl.col("store").is_not_null()).iter_rows(named=True):
            click.echo(f"  {line['store']:<15} {line['location']:<45} {line['rows_deleted']:>8,} rows")


@main.command()
@click.option("--port", default=3000, show_default=True, type=click.IntRange(1, 65535))
def ui(port: int) -> None:
    """Open the Dagster UI (`dagster dev -w workspace.yaml`) on this platform's instance."""
    from dagster_project.cli.dagster_instance import prepare_dagster_home

    settings = load_settings()
    settings.ensure_directories()
    prepare_dagster_home(settings)
    dagster = Path(sys.executable).with_name("dagster")  # the one installed beside this interpreter
    command = [str(dagster), "dev", "-w", str(REPO_ROOT / "workspace.yaml"), "-p", str(port)]
    click.echo(f"DAGSTER_HOME={os.environ['DAGSTER_HOME']} dagster dev -w workspace.yaml -p {port}")
    os.chdir(REPO_ROOT)
    # Dagster's notes to its own developers (`dagster dev` is superseded by the `dg` CLI, which cxp
    # does not install; a schedule property Dagster itself reads) are nothing a cxp user can act on.
    os.environ["PYTHONWARNINGS"] = ",".join(filter(None, [os.environ.get("PYTHONWARNINGS"), *_DAGSTER_DEV_NOTES]))
    # Become dagster dev rather than wrap it: signals then reach it, and no orphan outlives cxp.
    os.execv(command[0], command)


_DAGSTER_DEV_NOTES = ("ignore:Function `dev_command` is superseded:FutureWarning",
                      "ignore:Property `ScheduleDefinition.environment_vars` is deprecated:DeprecationWarning")

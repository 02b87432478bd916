"""`cxp serve` and `cxp training-set`: the feature store for apps and for data scientists."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from dagster_project.settings import load_settings


def _require_registry():
    settings = load_settings()
    if not (settings.feature_store_dir / "registry.db").exists():
        raise click.ClickException(f"No Feast registry in {settings.feature_store_dir}: run `cxp run` first.")
    settings.export_environment()
    return settings


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to listen on. The server also accepts writes (/push, /materialize): keep it off public interfaces.")
@click.option("--port", type=int, help="Port [default: CXP_FEATURE_SERVER_PORT, else 6566].")
@click.option("--workers", default=1, show_default=True, help="Server processes (each one answers requests on its own).")
def serve(host: str, port: int | None, workers: int) -> None:
    """Start the Feast feature server (`feast serve`): online features over HTTP for apps."""
    settings = _require_registry()
    port = port or settings.feature_server_port
    # feast's CLI under `python -O`: Feast type-checks every registry object it builds (typeguard),
    # 1.4 ms of each request for a feature service; -O turns those checks (and asserts) off.
    command = [
        sys.executable, "-O", "-c", "from feast.cli.cli import cli; cli(prog_name='feast')",
        "-c", str(settings.feature_repo_dir), "-f", str(settings.feature_store_yaml), "serve",
        "--host", host, "--port", str(port), "--workers", str(workers), "--no-access-log",
        # gunicorn recycles a worker every 1,000 requests by default: with one worker, p99 becomes ~1 s.
        "--max-requests", "0",
    ]
    click.echo(f"Feature server on http://{host}:{port} (online store: {settings.online_store}); "
               f"try: curl -s -X POST http://{host}:{port}/get-online-features -H 'Content-Type: application/json' -d "
               """'{"feature_service": "personalization_app", "entities": {"customer_id": ["<id>"]}}'""", err=True)
    # Become the server rather than wrap it: signals reach it, and no orphan outlives cxp.
    os.execv(command[0], command)


@click.command(name="training-set")
@click.option("--entities", "entities_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="CSV or Parquet with customer_id and event_timestamp (other columns, e.g. labels, pass through).")
@click.option("--service", required=True, help="Feature service, e.g. churn_model.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Parquet file to write.")
@click.option("--name", help="Name of the saved dataset in the Feast registry [default: from the service, file and time].")
@click.option("--overwrite", is_flag=True, help="Replace an existing file.")
def training_set(entities_file: Path, service: str, out: Path, name: str | None, overwrite: bool) -> None:
    """A point-in-time training set: every feature of SERVICE as known at each entity row's timestamp."""
    from feast.errors import FeatureServiceNotFoundException, SavedDatasetLocationAlreadyExists

    from feature_repo.definitions import open_feature_store
    from feature_repo.training_sets import EntityFileError, read_entity_rows, save_training_set

    settings = _require_registry()
    try:
        entity_rows = read_entity_rows(entities_file)
    except EntityFileError as error:
        raise click.ClickException(str(error)) from error
    store = open_feature_store(settings)
    try:
        dataset = save_training_set(store, entity_rows, service, out, name=name, allow_overwrite=overwrite)
    except FeatureServiceNotFoundException as error:
        services = ", ".join(sorted(s.name for s in store.list_feature_services()))
        raise click.ClickException(f"No feature service {service!r}; there are: {services}") from error
    except SavedDatasetLocationAlreadyExists as error:
        raise click.ClickException(f"{out} exists; pass --overwrite to replace it.") from error
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"{len(entity_rows):,} entity rows × {len(dataset.features)} features of {service} "
               f"({dataset.min_event_timestamp:%Y-%m-%d} … {dataset.max_event_timestamp:%Y-%m-%d}) → {out}")
    click.echo(f"Registered as saved dataset {dataset.name!r} (feast saved-datasets describe {dataset.name}).")

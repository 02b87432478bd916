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


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to listen on. Any other than loopback needs a token (CXP_FEATURE_SERVER_TOKEN), Feast's `auth:`, or --no-auth.")
@click.option("--port", type=click.IntRange(1, 65535), help="Port [default: CXP_FEATURE_SERVER_PORT, else 6566].")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1), help="Server processes (each one answers requests on its own).")
@click.option("--allow-writes", is_flag=True,
              help="Also serve Feast's write routes (/push, /write-to-online-store, /materialize) and its others; off by default.")
@click.option("--no-auth", is_flag=True, help="Listen on a non-loopback interface without any authentication.")
def serve(host: str, port: int | None, workers: int, allow_writes: bool, no_auth: bool) -> None:
    """Start the feature server: Feast's, behind a gate (feature_repo/feature_server.py) that checks
    the bearer token, serves reads only unless --allow-writes, bounds request size and entity
    count, and answers client mistakes with 4xx and a message."""
    from feast.repo_config import load_repo_config

    settings = _require_registry()
    port = port or settings.feature_server_port
    feast_auth = load_repo_config(settings.feature_repo_dir, settings.feature_store_yaml).auth_config.type
    if settings.feature_server_token and feast_auth != "no_auth":
        raise click.ClickException(f"Both CXP_FEATURE_SERVER_TOKEN and Feast's `auth: {feast_auth}` are set: they would both "
                                   "claim the Authorization header. Keep one.")
    if host not in LOOPBACK_HOSTS and not settings.feature_server_token and feast_auth == "no_auth" and not no_auth:
        raise click.ClickException(f"Refusing to serve on {host} without authentication: set CXP_FEATURE_SERVER_TOKEN "
                                   "(apps send `Authorization: Bearer <token>`), configure Feast's `auth:`, or pass --no-auth.")
    # Under `python -O`: Feast type-checks every registry object it builds (typeguard), 1.4 ms of
    # each request for a feature service; -O turns those checks (and asserts) off.
    command = [
        sys.executable, "-O", "-m", "feature_repo.feature_server", "--repo", str(settings.feature_repo_dir),
        "--config", str(settings.feature_store_yaml), "--host", host, "--port", str(port), "--workers", str(workers),
        "--max-entities", str(settings.feature_server_max_entities), "--max-body-bytes", str(settings.feature_server_max_body_bytes),
        *(["--allow-writes"] if allow_writes else []),
    ]
    token_header = " -H 'Authorization: Bearer $CXP_FEATURE_SERVER_TOKEN'" if settings.feature_server_token else ""
    click.echo(f"Feature server on http://{host}:{port} (online store: {settings.online_store}; "
               f"{'token required' if settings.feature_server_token else 'Feast auth: ' + feast_auth}; "
               f"{'writes allowed' if allow_writes else 'reads only'}); "
               f"try: curl -s -X POST http://{host}:{port}/get-online-features -H 'Content-Type: application/json'{token_header} -d "
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

    if out.exists() and not overwrite:  # before the registry is read and any feature retrieved
        raise click.ClickException(f"{out} exists; pass --overwrite to replace it.")
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
    click.echo(f"Registered as saved dataset {dataset.name!r} (cxp feast saved-datasets describe {dataset.name}).")


# Feast's console script, with sqlglot imported quietly first (see dagster_project/cli/__init__.py):
# otherwise every Feast command that touches its SQL layer warns that sqlglotrs is deprecated.
_FEAST_CLI = ("import sys, warnings\n"
              "with warnings.catch_warnings():\n"
              "    warnings.filterwarnings('ignore', message='sqlglotrs is deprecated', category=DeprecationWarning)\n"
              "    import sqlglot\n"
              "from feast.cli.cli import cli\n"
              "sys.exit(cli(prog_name='feast'))\n")
# `feast apply` scans the repository's files for objects; cxp builds them from the dbt YAML and the
# settings (`cxp run` registers them), so from here it would find none and delete every one.
_REGISTERED_BY_CXP = ("apply", "teardown")


@click.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False, "help_option_names": []})
@click.argument("arguments", nargs=-1, type=click.UNPROCESSED)
def feast(arguments: tuple[str, ...]) -> None:
    """Feast's own CLI on this home's feature store, e.g. `cxp feast saved-datasets list`,
    `cxp feast feature-views list`, `cxp feast ui` (its web UI on http://localhost:8888)."""
    if arguments and arguments[0] in _REGISTERED_BY_CXP:
        raise click.ClickException(f"`feast {arguments[0]}` is not run from here: `cxp run` registers the feature store's "
                                   "objects, which are built from the dbt models' YAML rather than found in the repository's files.")
    if arguments and arguments[0] == "serve":
        raise click.ClickException("`cxp serve` starts Feast's feature server behind cxp's gate (token, read-only, request limits); "
                                   "`feast serve` would start it without.")
    settings = _require_registry()  # also sets the paths feature_store.yaml reads
    if arguments and arguments[0] == "ui" and not {"--host", "-h"} & set(arguments):
        arguments = (*arguments, "--host", "127.0.0.1")  # Feast's default is every interface, with the registry open to all
    # The process becomes Feast's CLI: its output, exit code and Ctrl-C are Feast's own.
    os.execv(sys.executable, [sys.executable, "-c", _FEAST_CLI, "--chdir", str(settings.feature_repo_dir),
                              "--feature-store-yaml", str(settings.feature_store_yaml), *arguments])

"""`cxp docs`: the quality reports and the dbt docs in a browser, from this machine only, offline."""

from __future__ import annotations

import signal
from pathlib import Path

import click

from dagster_project.settings import Settings, load_settings


@click.command()
@click.option("--port", type=click.IntRange(1, 65535), help="Port [default: CXP_DOCS_PORT, else 3100]; the checks' links use CXP_DOCS_PORT.")
@click.option("--skip-dbt-docs", is_flag=True, help="Serve the dbt docs as they are, even when missing or older than the warehouse.")
def docs(port: int | None, skip_dbt_docs: bool) -> None:
    """Serve the Great Expectations Data Docs (/quality/) and the dbt docs (/dbt/) on
    http://127.0.0.1:PORT, where the Dagster checks' `validation_result` links point; the dbt docs
    are generated first when missing or older than the warehouse. Ctrl-C stops it."""
    from dagster_project.docs_site.server import DocsSites, make_docs_server
    from data_quality.data_docs import localize_site, site_dir

    settings = load_settings()
    settings.export_environment()
    port = port or settings.docs_port
    if port != settings.docs_port:
        click.echo(f"Note: the checks link to port {settings.docs_port} (CXP_DOCS_PORT), not {port}.", err=True)
    quality_site = site_dir(settings.quality_dir)
    localize_site(quality_site)  # pages built before the assets were bundled
    dbt_page, dbt_note = _dbt_docs(settings, refresh=not skip_dbt_docs)
    try:
        server = make_docs_server(DocsSites(quality_site, dbt_page, dbt_note), port)
    except OSError as error:
        raise click.ClickException(f"Cannot listen on 127.0.0.1:{port} ({error.strerror}): pass --port, or stop what holds it.") from error
    # SIGTERM (a service manager, `kill`) stops it as Ctrl-C does; and Ctrl-C itself even where the
    # shell that started it ignores SIGINT for its background jobs (Python then installs no handler).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    click.echo(f"Docs on http://127.0.0.1:{port}/ (quality reports: /quality/, dbt docs: /dbt/); Ctrl-C stops.")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("Stopped.")
    finally:
        server.server_close()


def _dbt_docs(settings: Settings, refresh: bool) -> tuple[Path, str]:
    """The dbt docs page, generated first when missing or stale, and a note when it could not be."""
    from dagster_project.cli.run_lock import RunInProgress, exclusive_run
    from dagster_project.docs_site.dbt_docs import dbt_docs_page, dbt_docs_stale, generate_dbt_docs

    page = dbt_docs_page(settings.dbt_target_dir)
    if not refresh or not dbt_docs_stale(page, settings.dbt_project_dir, settings.warehouse_path):
        return page, ""
    if not settings.warehouse_path.exists():
        return page, "No warehouse yet: `cxp run` builds it, then `cxp docs` documents it."
    click.echo("Generating the dbt docs (dbt docs generate --static) …", err=True)
    try:
        with exclusive_run(settings.home):  # the catalog reads the warehouse, which a run holds
            return generate_dbt_docs(settings.dbt_project_dir, settings.dbt_target_dir, settings.dbt_log_dir), ""
    except (RunInProgress, RuntimeError) as error:
        click.echo(f"dbt docs not generated: {error}", err=True)
        shown = "those of an earlier generation are shown" if page.is_file() else "restart `cxp docs` once it can"
        return page, f"The dbt docs could not be generated ({error}); {shown}."

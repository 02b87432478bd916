"""`cxp explain`: why a customer got their scores, and why records were joined into one customer."""

from __future__ import annotations

import click

from dagster_project.settings import load_settings


class _ScoresByDefault(click.Group):
    """`cxp explain <customer_id>` explains the scores; a known word (`customer`, `records`) picks a subcommand."""

    def resolve_command(self, ctx: click.Context, args: list[str]):
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            return "scores", self.commands["scores"], args
        return super().resolve_command(ctx, args)


@click.group(cls=_ScoresByDefault)
def explain() -> None:
    """Why a customer got their scores (`cxp explain <customer_id>`), and why records were joined into one customer."""


@explain.command(name="scores")
@click.argument("customer_id")
def explain_scores_command(customer_id: str) -> None:
    """Each model's score of the customer, the reasons served with it, how far each pushed the score, and the data behind them."""
    from dagster_project.cli.explain_output import render_scores
    from ml.score_explanation import ScoreExplanationError, explain_scores

    try:
        settings = load_settings()
        click.echo(render_scores(explain_scores(settings.feature_files_dir, customer_id, settings.model_settings.labels)))
    except ScoreExplanationError as error:
        raise click.ClickException(str(error)) from error


@explain.command(name="customer")
@click.argument("customer_id")
def explain_customer_command(customer_id: str) -> None:
    """A customer's records, every accepted link between them, and the id's merge/split history."""
    from dagster_project.cli.explain_output import render_customer
    from dagster_project.identity.link_explanation import explain_customer

    with read_warehouse() as connection:
        click.echo(render_customer(_explained(explain_customer, connection, customer_id)))


@explain.command(name="records")
@click.argument("record_a")
@click.argument("record_b")
def explain_records_command(record_a: str, record_b: str) -> None:
    """Whether two records (<source>:<key>) are one customer, the links joining them, and the pair's own evidence."""
    from dagster_project.cli.explain_output import render_record_pair
    from dagster_project.identity.link_explanation import explain_record_pair

    with read_warehouse() as connection:
        click.echo(render_record_pair(_explained(explain_record_pair, connection, record_a, record_b)))


def read_warehouse():
    """The warehouse, read-only, or a message that no run has built it yet."""
    import duckdb

    settings = load_settings()
    if not settings.warehouse_path.exists():
        raise click.ClickException(f"No warehouse at {settings.warehouse_path}: run `cxp run` first.")
    return duckdb.connect(str(settings.warehouse_path), read_only=True)


def _explained(explain, *args):
    from dagster_project.identity.link_explanation import ExplanationError

    try:
        return explain(*args)
    except ExplanationError as error:
        raise click.ClickException(str(error)) from error

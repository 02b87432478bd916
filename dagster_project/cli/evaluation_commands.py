"""`cxp eval`: identity resolution and the models measured against the demo generator's ground truth."""

from __future__ import annotations

from pathlib import Path

import click

from dagster_project.settings import load_settings


@click.group(name="eval")
def evaluate() -> None:
    """Measure results against the demo generator's ground truth."""


@evaluate.command(name="identity")
@click.option("--truth", type=click.Path(exists=True, file_okay=False, path_type=Path), help="Truth folder [default: CXP_LANDING/_truth].")
def evaluate_identity(truth: Path | None) -> None:
    """Pairwise and B-cubed precision/recall of customer ids, and over- and under-merged people.

    The same scores for the deterministic rules alone follow, so that the probabilistic layer's
    gain in recall (and any cost in precision) is measured on every evaluation.
    """
    import duckdb
    import polars as pl

    from dagster_project.identity.evaluation import (
        evidence_free_records,
        measure_blocking,
        read_deterministic_only_customers,
        read_resolved_customers,
        read_truth,
        score_by_record_class,
        score_identity_resolution,
    )
    from dagster_project.identity.identity_state import NODES_TABLE

    settings = load_settings()
    truth = truth or settings.landing / "_truth"
    if not (truth / "source_records.parquet").exists():
        raise click.ClickException(f"No ground truth in {truth}: it exists only for data made by `cxp generate`.")
    if not settings.warehouse_path.exists():
        raise click.ClickException(f"No warehouse at {settings.warehouse_path}: run `cxp run` first.")
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
        try:
            resolved = read_resolved_customers(connection)
            deterministic_only = read_deterministic_only_customers(connection)
            people = read_truth(truth)
            blocking = measure_blocking(connection, people)
            evidence_free = evidence_free_records(connection.sql(f"SELECT * FROM {NODES_TABLE}").pl(), people)
        except duckdb.CatalogException as error:
            raise click.ClickException(f"Identities are not resolved in {settings.warehouse_path} yet: run `cxp run`.") from error
    click.echo("Resolved customers (deterministic rules + Splink):")
    click.echo(str(score_identity_resolution(resolved, people)))
    placeable = resolved.join(evidence_free, on="record_id", how="anti")
    click.echo(f"\nWithout the {evidence_free.height:,} records nothing in the data can place (no address or birthdate, an "
               "email or phone no other record carries, and at most a first name or a full name another person writes too):")
    click.echo(str(score_identity_resolution(placeable, people)))
    click.echo("\nDeterministic rules only (same identity graph, no probabilistic edges):")
    click.echo(str(score_identity_resolution(deterministic_only, people)))
    by_class = score_by_record_class(resolved, people).join(
        score_by_record_class(placeable, people).select("record_class", pl.col("recall").alias("placeable_recall")),
        on="record_class", how="left",
    )
    if by_class.height:
        click.echo("\nBy record class (pairs touching a record of the class; the last column without the records nothing can place):")
        click.echo(f"  {'class':18} {'records':>9} {'true pairs':>11} {'precision':>9} {'recall':>7} {'recall*':>8}")
        for row in by_class.iter_rows(named=True):
            click.echo(f"  {row['record_class']:18} {row['records']:9,} {row['true_pairs']:11,} "
                       f"{row['precision']:9.4f} {row['recall']:7.4f} {row['placeable_recall'] or 1.0:8.4f}")
    click.echo("\nCandidate pairs (Splink's blocking rules on the identity nodes):")
    click.echo(str(blocking))


@evaluate.command(name="models")
@click.option("--truth", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Truth folder for the oracle [default: CXP_LANDING/_truth, when it exists].")
def evaluate_models(truth: Path | None) -> None:
    """Each model's newest version out of time: champion, challenger, baseline and (on generated data) oracle."""
    from ml.model_catalog import MODELS
    from ml.model_registry import ModelRegistry
    from ml.model_report import build_model_report, render_model_report

    settings = load_settings()
    truth = truth or settings.landing / "_truth"
    persons = people = None
    if (truth / "people.parquet").exists():
        import duckdb
        import polars as pl

        from dagster_project.identity.evaluation import read_resolved_customers, read_truth
        from ml.oracle import customer_persons

        with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
            persons = customer_persons(read_resolved_customers(connection), read_truth(truth))
        people = pl.read_parquet(truth / "people.parquet")
    else:
        click.echo(f"No ground truth in {truth}: the oracle column needs data made by `cxp generate`.\n")
    registry = ModelRegistry(settings.models_dir)
    for name in MODELS:
        horizon_days = settings.model_settings.labels.horizon_days(name)
        click.echo(render_model_report(build_model_report(registry, name, horizon_days, persons, people)))


@evaluate.command(name="recommendations")
@click.option("--truth", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Truth folder [default: CXP_LANDING/_truth, when it exists].")
def evaluate_recommendations(truth: Path | None) -> None:
    """Every recommender, the hybrid and the champion: precision, recall, NDCG, MAP, hit rate at 10,
    coverage and novelty, out of time and (on generated data) against what people bought next."""
    import duckdb
    import polars as pl

    from ml.labels import cutoff_timestamp, read_data_span
    from ml.model_registry import ModelRegistry
    from ml.recommendations.recommendation_report import future_relevant, render_report
    from ml.recommendations.warehouse_inputs import read_inputs

    settings = load_settings()
    if not settings.warehouse_path.exists():
        raise click.ClickException(f"No warehouse at {settings.warehouse_path}: run `cxp run` first.")
    truth = truth or settings.landing / "_truth"
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
        inputs = read_inputs(connection, cutoff_timestamp(read_data_span(connection).last_date))
        relevant = None
        if (truth / "future_purchases.parquet").exists():
            from dagster_project.identity.evaluation import read_resolved_customers, read_truth
            from ml.oracle import customer_persons

            persons = customer_persons(read_resolved_customers(connection), read_truth(truth))
            relevant = future_relevant(pl.read_parquet(truth / "future_purchases.parquet"), persons)
        else:
            click.echo(f"No ground truth in {truth}: judged out of time only.\n")
    if inputs.purchases.is_empty():
        raise click.ClickException("No purchases in the warehouse: nothing to recommend from.")
    from ml.nightly_files import latest_scoring_date
    from ml.recommendations.recommendation_files import RECOMMENDATIONS_TABLE

    served_on = latest_scoring_date(settings.feature_files_dir, RECOMMENDATIONS_TABLE)
    served = (pl.read_parquet(settings.feature_files_dir / RECOMMENDATIONS_TABLE / served_on.isoformat() / "data_0.parquet")
              if served_on else None)
    click.echo(render_report(inputs, ModelRegistry(settings.models_dir), relevant, served))


@evaluate.command(name="lift")
@click.option("--experiment", "experiment_ids", multiple=True, help="Only this experiment id (repeatable) [default: every experiment].")
@click.option("--truth", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Truth folder [default: CXP_LANDING/_truth, when it exists].")
def evaluate_lift(experiment_ids: tuple[str, ...], truth: Path | None) -> None:
    """Each experiment's lift per arm and metric, with 95% intervals, p-values, CUPED, the sample-ratio
    check and an A/A split; on generated data, next to the true effect planted by `cxp generate`."""
    import duckdb
    import polars as pl

    from ml.measurement.experiment_reports import build_lift_reports
    from ml.measurement.lift_text import render_lift_report, render_truth_comparison
    from ml.model_catalog import MODELS
    from ml.nightly_files import latest_scoring_date
    from ml.score_files import SCORES_TABLE

    settings = load_settings()
    if not settings.warehouse_path.exists():
        raise click.ClickException(f"No warehouse at {settings.warehouse_path}: run `cxp run` first.")
    from feature_repo.definitions import open_feature_store

    settings.export_environment()
    scored_on = latest_scoring_date(settings.feature_files_dir, SCORES_TABLE)
    scores = settings.feature_files_dir / SCORES_TABLE / scored_on.isoformat() / "data_0.parquet" if scored_on else None
    store = open_feature_store(settings) if (settings.feature_store_dir / "registry.db").exists() else None
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
        reports = build_lift_reports(connection, settings.measurement_settings, store, scores, MODELS["clv"].score)
    if experiment_ids:
        unknown = sorted(set(experiment_ids) - {report.experiment_id for report in reports})
        if unknown:
            raise click.ClickException(f"No assignment log names experiment(s) {', '.join(unknown)}; logged: "
                                       f"{', '.join(report.experiment_id for report in reports) or 'none'}")
        reports = [report for report in reports if report.experiment_id in experiment_ids]
    if not reports:
        click.echo("No experiment assignment log is loaded (experiments/assignments_YYYY-MM-DD.csv): nothing to measure.")
        return
    if store is None:
        click.echo(f"No feature store registry in {settings.feature_store_dir}: CUPED needs `cxp run` to have published features.\n")
    truth = truth or settings.landing / "_truth"
    effects = pl.read_parquet(truth / "experiment_effects.parquet") if (truth / "experiment_effects.parquet").exists() else None
    for report in reports:
        click.echo(render_lift_report(report))
        if effects is not None:
            click.echo(render_truth_comparison(report, effects))


@evaluate.command(name="uplift")
@click.option("--truth", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Truth folder [default: CXP_LANDING/_truth, when it exists].")
def evaluate_uplift(truth: Path | None) -> None:
    """The last night's next-best actions and the uplift models they rest on, with each learner's
    cross-fitted Qini; on generated data, the Qini against the oracle's and each policy's true
    incremental value (next-best action, the best single action for everyone, the oracle)."""
    import json

    import duckdb
    import polars as pl

    from ml.measurement.action_text import render_action_truth, render_actions_report
    from ml.measurement.action_truth import compare_action_with_truth, true_effects
    from ml.measurement.nightly_actions import CROSS_FITTED_FILE

    settings = load_settings()
    folder = settings.measurement_dir / "next_best_actions"
    if not (folder / "report.json").exists():
        raise click.ClickException(f"No next-best actions in {folder}: run `cxp run` first.")
    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    click.echo(render_actions_report(report))
    truth = truth or settings.landing / "_truth"
    if not (truth / "experiment_assignments.parquet").exists() or not report["learned"]:
        return
    from dagster_project.identity.evaluation import read_resolved_customers, read_truth
    from ml.oracle import customer_persons

    with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
        persons = customer_persons(read_resolved_customers(connection), read_truth(truth))
    assignments, people = pl.read_parquet(truth / "experiment_assignments.parquet"), pl.read_parquet(truth / "people.parquet")
    actions = settings.measurement_settings.next_best_action.actions
    for action, learned in report["learned"].items():
        effects = true_effects(assignments, people, persons, learned["experiment_id"])
        if effects.is_empty() or action not in actions:
            click.echo(f"(no planted effect recorded for {learned['experiment_id']})")
            continue
        cross_fitted = pl.read_parquet(folder / CROSS_FITTED_FILE.format(action=action))
        compared = compare_action_with_truth(action, cross_fitted, effects, actions[action].cost_usd, learned["learner"],
                                             learned["targets"], learned["held_out_policies"]["average_effect_usd"])
        click.echo(render_action_truth(compared, learned["learner"]))

"""The nightly models through the real pipeline on generated exports: labels, Feast training sets,
xgboost challengers, baselines, promotion, scoring, the online store over HTTP, and `cxp eval models`.

Six months of exports are short for the production label windows (90/30/365 days), so the test
configures 30/14/30-day windows and 30 days of minimum history: three or more monthly cutoffs each.
"""

import datetime as dt
import itertools
import json
import re
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest
from click.testing import CliRunner

from dagster_project.cli import main
from dagster_project.cli.run_pipeline import run_pipeline
from dagster_project.defs.ml.assets import challenger_key, champion_key
from dagster_project.demo_exports import generate_demo_exports
from dagster_project.settings import load_settings
from ml.customer_scoring import LAPSED_SCORER
from ml.measurement.assignment_ledger import holdout_customers
from ml.model_catalog import MODELS
from ml.model_registry import ModelRegistry
from tests.features.feature_server import online_features, running_feature_server
from tests.features.test_pii_minimization import NOT_PERSONAL, PERSONAL
from tests.quality.test_quality_gates import TEST_THRESHOLDS, point_platform_at

pytestmark = pytest.mark.slow(minutes=2)

LAST_DAY = dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=1)
HORIZONS = {"churn": 30, "propensity": 14, "clv": 30}
MODEL_SETTINGS = """
labels:
  churn: {horizon_days: 30, active_days: 120}
  propensity: {horizon_days: 14}
  clv: {horizon_days: 30}
training: {min_history_days: 30, max_cutoffs: 6}
"""
# A cheap offer: the small world's experiment estimates a few dollars of lift, so the night gives it
# to someone whichever policy its held-out check picks.
EXPERIMENT_SETTINGS = """
next_best_action:
  actions:
    discount_15: {description: the 15% reactivation discount, cost_usd: 0.5, channel: email}
"""


def generated_model_home(home: Path, customers: int, days: int, seed: int, end_date: dt.date) -> Path:
    """A home with generated exports, the test quality thresholds, the short label windows and a cheap offer."""
    (home / "thresholds.yml").write_text(TEST_THRESHOLDS)
    (home / "models.yml").write_text(MODEL_SETTINGS)
    (home / "experiments.yml").write_text(EXPERIMENT_SETTINGS)
    generate_demo_exports(home / "landing", customers=customers, days=days, seed=seed, end_date=end_date)
    return home


def point_models_at(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    point_platform_at(home, monkeypatch)
    monkeypatch.setenv("CXP_MODEL_SETTINGS", str(home / "models.yml"))
    monkeypatch.setenv("CXP_EXPERIMENT_SETTINGS", str(home / "experiments.yml"))


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    """3,000 generated people over 180 days, loaded and modelled by one run of the whole pipeline."""
    home = generated_model_home(tmp_path_factory.mktemp("models"), customers=3000, days=180, seed=23, end_date=LAST_DAY)
    with pytest.MonkeyPatch.context() as monkeypatch:
        point_models_at(home, monkeypatch)
        outcome = run_pipeline(load_settings())
        yield home, outcome, ModelRegistry(load_settings().models_dir), monkeypatch


def test_the_nightly_run_trains_evaluates_and_scores_every_model(platform):
    home, outcome, registry, _ = platform
    assert outcome.success, outcome.failed_steps
    for name in MODELS:
        assert {f"ml/{name}_challenger", f"ml/{name}_champion"} <= outcome.materialized
        (version,) = registry.versions(name)
        record = registry.read_version(name, version)
        assert set(record["metrics"]) == {"challenger", "baseline"}  # no champion existed yet
        assert (registry.version_dir(name, version) / "MODEL_CARD.md").exists()
        assert registry.decisions(name)[-1]["version"] == version
    # cxp run's summary: each model's version, its scores, and the champion decision.
    assert [note.split(":")[0] for note in outcome.model_notes] == [*MODELS, "recommender"]
    assert all(registry.versions(note.split(":")[0])[0] in note for note in outcome.model_notes)
    scores = pl.read_parquet(next((home / "features" / "customer_scores").glob("2*/data_0.parquet")))
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as connection:
        customers = connection.execute("SELECT count(DISTINCT customer_id) FROM features.customer_profile_features").fetchall()[0][0]
    assert scores.height == customers == scores["customer_id"].n_unique()
    # Customers who opted out of personalization, and the measurement holdout, are not scored; everyone else is.
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as connection:
        opted_out = set(connection.sql("SELECT customer_id FROM marts.dim_customers WHERE is_personalization_opted_out").pl()["customer_id"])
        held_out = holdout_customers(connection)
    assert opted_out and 0.03 < len(held_out) / scores.height < 0.07
    assert set(scores.filter(~pl.col("personalization_allowed"))["customer_id"]) == opted_out | held_out
    assert set(scores.filter(pl.col("in_holdout"))["customer_id"]) == held_out
    withheld = scores.filter(~pl.col("personalization_allowed"))
    assert withheld.select(pl.all().exclude("customer_id", "event_timestamp", "personalization_allowed", "in_holdout").is_null().all()).row(0) == (
        (True,) * (scores.width - 4))
    allowed = scores.filter(pl.col("personalization_allowed"))
    assert allowed["purchase_probability"].is_not_null().all()
    assert scores["purchase_probability"].drop_nulls().is_between(0, 1).all()
    assert scores["expected_value_usd"].min() >= 0
    # Predicted value is evaluated as it is served: its total set by the BG/NBD + Gamma-Gamma forecast.
    clv = registry.read_version("clv", registry.versions("clv")[0])
    assert clv["value_level"].startswith("total set by the BG/NBD + Gamma-Gamma forecast")
    assert clv["metrics"]["challenger"]["total_ratio"] == pytest.approx(clv["metrics"]["baseline"]["total_ratio"])
    # Churn is defined for every buyer: those without a purchase in a year get MBG/NBD's figure, and say so.
    lapsed = allowed.filter(pl.col("churn_model_version") == LAPSED_SCORER)
    assert lapsed.height > 0 and lapsed["churn_probability"].is_between(0, 1).all()
    assert lapsed["churn_reason_1"].str.starts_with("last ordered").all()


def test_training_labels_never_overlap_the_features_time(platform):
    home, _, registry, _ = platform
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as connection:
        orders = connection.sql("SELECT customer_id, created_at, is_cancelled, net_amount_usd FROM marts.fct_orders").pl()
    orders = orders.with_columns(pl.col("created_at").dt.replace_time_zone("UTC"))
    for name in MODELS:
        folder = registry.version_dir(name, registry.versions(name)[-1])
        record = registry.read_version(name, registry.versions(name)[-1])
        # Feature timestamps are stored as naive UTC.
        rows = pl.read_parquet(folder / "training_set.parquet").with_columns(
            pl.col(pl.Datetime(time_zone=None)).dt.replace_time_zone("UTC"))
        # Every timestamp a feature carries is at or before the moment the row's features are taken.
        for column, dtype in rows.schema.items():
            if column != "event_timestamp" and dtype.is_temporal() and dtype != pl.Date:
                assert (rows[column].is_null() | (rows[column] <= rows["event_timestamp"])).all(), (name, column)
        # The label is recomputed from the orders placed in the window that opens at that moment.
        horizon = dt.timedelta(days=HORIZONS[name])
        window = rows.select("customer_id", "event_timestamp", "label").join(orders, on="customer_id", how="left").with_columns(
            in_window=(pl.col("created_at") >= pl.col("event_timestamp")) & (pl.col("created_at") < pl.col("event_timestamp") + horizon)
            & ~pl.col("is_cancelled"))
        recomputed = window.group_by("customer_id", "event_timestamp").agg(
            pl.col("label").first(), pl.col("in_window").sum().alias("orders"),
            pl.col("net_amount_usd").filter(pl.col("in_window")).sum().cast(pl.Float64).alias("value"))
        expected = {"churn": (pl.col("orders") == 0).cast(pl.Float64), "propensity": (pl.col("orders") > 0).cast(pl.Float64),
                    "clv": pl.col("value")}[name]
        mismatched = recomputed.filter((pl.col("label") - expected).abs() > 1e-6)
        assert mismatched.is_empty(), (name, mismatched.head())
        # Out of time: every training label window closed before the evaluation cutoff.
        evaluation = dt.date.fromisoformat(record["cutoffs"]["evaluation"][0])
        for cutoff in [*record["cutoffs"]["train"], *record["cutoffs"]["holdout"]]:
            assert dt.date.fromisoformat(cutoff) + horizon <= evaluation


def test_promotion_refuses_a_worse_model_and_keeps_the_champion(platform, tmp_path, monkeypatch):
    from dagster_project.defs.platform import build_definitions

    # On a copy of the home: the shared registry and run history stay as the nightly run left them.
    home = tmp_path / "home"
    shutil.copytree(platform[0], home, ignore=shutil.ignore_patterns("landing"))
    point_models_at(home, monkeypatch)
    registry = ModelRegistry(load_settings().models_dir)
    name = "propensity"
    champion = registry.champion(name)
    assert champion is not None, "the first propensity model should beat its baseline on this data"
    # One shallow tree: a challenger that cannot match the champion.
    (tmp_path / "worse.yml").write_text(MODEL_SETTINGS + "xgboost: {n_estimators: 1, max_depth: 1, early_stopping_rounds: 1}\n")
    monkeypatch.setenv("CXP_MODEL_SETTINGS", str(tmp_path / "worse.yml"))
    job = build_definitions(load_settings()).resolve_job_def("cxp_models")
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(instance=instance, asset_selection=[challenger_key(name), champion_key(name)])
    assert result.success
    worse = registry.versions(name)[-1]
    decision = registry.decisions(name)[-1]
    assert decision["version"] == worse != champion and not decision["promoted"]
    assert decision["challenger"] < decision["champion"] and "champion stays" in decision["reason"]
    assert registry.champion(name) == champion
    metadata = result.asset_materializations_for_node(f"ml__{name}_champion")[0].metadata
    assert metadata["decision"].value == "not promoted" and metadata["champion"].value == champion


def test_scores_and_their_reasons_are_read_online_over_http(platform, tmp_path):
    home, _, _, _ = platform
    scores = pl.read_parquet(next((home / "features" / "customer_scores").glob("2*/data_0.parquet")))
    sample = pl.concat([scores.filter(pl.col("churn_probability").is_not_null()).sort("customer_id").head(5),
                        scores.filter(~pl.col("personalization_allowed") & ~pl.col("in_holdout")).sort("customer_id").head(1)])
    with running_feature_server(tmp_path) as url:
        served = online_features(url, "personalization_app", sample["customer_id"].to_list())
    for column in ("personalization_allowed", "churn_probability", "churn_reason_1", "churn_reason_2", "churn_reason_3",
                   "churn_model_version", "purchase_probability", "propensity_reason_1", "expected_value_usd",
                   "probability_alive"):
        assert served[column] == sample[column].to_list(), column
    assert all(served["churn_reason_1"][:5]) and served["personalization_allowed"] == [True] * 5 + [False]
    assert served["churn_probability"][5] is None and served["propensity_reason_1"][5] is None  # opted out: nothing served


def test_cxp_explain_prints_the_reasons_apps_are_served(platform, tmp_path):
    home, _, _, _ = platform
    scores = pl.read_parquet(next((home / "features" / "customer_scores").glob("2*/data_0.parquet")))
    # A customer every model gave reasons (churn two or more): a model that serves none fails here.
    with_reasons = pl.all_horizontal(pl.col(f"{name}_reason_1").is_not_null() for name in MODELS) & pl.col("churn_reason_2").is_not_null()
    candidates = scores.filter(with_reasons).sort("customer_id")["customer_id"]
    assert not candidates.is_empty(), "no customer was served reasons by every model"
    scored = candidates[0]
    opted_out = scores.filter(~pl.col("personalization_allowed") & ~pl.col("in_holdout")).sort("customer_id")["customer_id"][0]
    held_out = scores.filter(pl.col("in_holdout")).sort("customer_id")["customer_id"][0]
    with running_feature_server(tmp_path) as url:
        served = online_features(url, "personalization_app", [scored])
    output = CliRunner().invoke(main, ["explain", scored], catch_exceptions=False).output
    lines = output.splitlines()
    for name, spec in MODELS.items():
        header = next(index for index, line in enumerate(lines) if line.startswith(f"{name}: "))
        score = served[spec.score][0]
        assert (f"{score:.1%}" if spec.kind == "classifier" else f"${score:,.2f}") in lines[header]
        assert f"scored by {served[f'{name}_model_version'][0]}" in lines[header]
        reasons = [(served[f"{name}_reason_{rank}"][0], served[f"{name}_reason_{rank}_contribution"][0]) for rank in (1, 2, 3)]
        # Served from the first rank on, without gaps (fewer than three when fewer inputs pushed the score up).
        present = [reason for reason, _ in reasons if reason is not None]
        assert present and [reason for reason, _ in reasons[:len(present)]] == present, (name, reasons)
        expected = [f"{rank}. {reason}" + ("" if contribution is None else f"  (+{contribution:.3f} {'log-value' if name == 'clv' else 'log-odds'})")
                    for rank, (reason, contribution) in enumerate(reasons, start=1) if reason is not None]
        section = list(itertools.takewhile(bool, lines[header + 1:]))  # up to the blank line before the next model
        assert [line.strip() for line in section if re.match(r"  \d\. ", line)] == expected, name
    assert served["churn_reason_1_contribution"][0] >= served["churn_reason_2_contribution"][0] > 0
    refused = CliRunner().invoke(main, ["explain", opted_out], catch_exceptions=False).output
    assert "Opted out of personalization" in refused and "churn:" not in refused
    held = CliRunner().invoke(main, ["explain", held_out], catch_exceptions=False).output
    assert "In the personalization holdout" in held and "churn:" not in held
    unknown = CliRunner().invoke(main, ["explain", "nobody"])
    assert unknown.exit_code == 1 and "nobody was not scored" in unknown.output


def test_eval_models_prints_champion_challenger_baseline_and_oracle(platform):
    result = CliRunner().invoke(main, ["eval", "models"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    for name in MODELS:
        assert f"{name}: " in result.output
    header = next(line for line in result.output.splitlines() if line.strip().startswith("metric"))
    assert header.split()[1:] == ["champion", "challenger", "baseline", "oracle"]
    assert "of the oracle's" in result.output


def test_the_dagster_ui_shows_metrics_and_plots_of_each_challenger(platform):
    with dg.DagsterInstance.get() as instance:
        for name in MODELS:
            event = instance.get_latest_materialization_event(challenger_key(name))
            metadata = event.asset_materialization.metadata
            assert metadata["trained"].value is True
            assert "| metric |" in metadata["evaluation"].value
            plots = [key for key in metadata if key.endswith("_plot")]
            assert {"calibration_plot", "lift_plot", "feature_importance_plot"} <= set(plots)
            assert all(metadata[key].value.startswith("![") and "data:image/png;base64," in metadata[key].value for key in plots)


def test_every_promoted_version_has_a_bias_audit_by_country_age_and_acquisition(platform):
    _, _, registry, _ = platform
    promoted = [(name, decision["version"]) for name in MODELS for decision in registry.decisions(name) if decision["promoted"]]
    assert promoted, "no version was promoted on this data"
    for name, version in promoted:
        folder = registry.version_dir(name, version)
        audit = json.loads((folder / "bias_audit.json").read_text())
        dimensions = {segment["dimension"] for segment in audit["segments"]}
        assert dimensions == {"all", "country", "age_band", "acquisition_source"}, (name, dimensions)
        everyone = audit["segments"][0]
        assert everyone["rows"] == registry.read_version(name, version)["rows"]["evaluation"]
        assert sum(s["rows"] for s in audit["segments"] if s["dimension"] == "country") == everyone["rows"]
        assert any(s["judged"] and s["ratios"] for s in audit["segments"])
        assert "## Bias audit" in (folder / "MODEL_CARD.md").read_text() and "| country=" in (folder / "MODEL_CARD.md").read_text()
        assert registry.read_version(name, version)["bias_flags"] == audit["flagged"]
    with dg.DagsterInstance.get() as instance:
        for name in MODELS:
            metadata = instance.get_latest_materialization_event(challenger_key(name)).asset_materialization.metadata
            assert "| age_band=" in metadata["bias_audit"].value and metadata["bias_flags"].value >= 0


def test_saved_training_sets_hold_no_personal_data(platform):
    home, _, registry, _ = platform
    people = pl.read_parquet(home / "landing" / "_truth" / "people.parquet")
    personal = {value for column in ("first_name", "last_name", "email", "alternative_email", "phone_e164", "street", "postcode")
                for value in people[column].drop_nulls().cast(pl.String).to_list()}
    sets = list(registry.root.glob("*/*/training_set.parquet"))
    assert len(sets) >= 3
    for path in sets:
        rows = pl.read_parquet(path)
        assert not [name for name in rows.columns if PERSONAL.search(name) and name not in NOT_PERSONAL], path
        texts = {value for name, dtype in rows.schema.items() if dtype == pl.String for value in rows[name].drop_nulls().unique().to_list()}
        assert not texts & personal and not any("@" in text for text in texts), path
        assert "birthdate" not in rows.columns and "country" not in rows.columns


def test_the_nightly_run_lists_products_for_every_customer_and_similar_products_per_sku(platform):
    home, outcome, registry, _ = platform
    assert "ml/product_recommendations" in outcome.materialized
    lists = pl.read_parquet(next((home / "features" / "customer_recommendations").glob("2*/data_0.parquet")))
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as connection:
        customers = connection.sql("SELECT customer_id, is_personalization_opted_out FROM marts.dim_customers").pl()
        unsellable = set(connection.sql("SELECT sku FROM marts.dim_products WHERE is_archived OR NOT is_published "
                                        "OR NOT coalesce(is_in_stock, true)").pl()["sku"])
    assert set(lists["customer_id"]) == set(customers["customer_id"])
    opted_out = set(customers.filter(pl.col("is_personalization_opted_out"))["customer_id"])
    assert set(lists.filter(~pl.col("recommendations_personalized"))["customer_id"]) >= opted_out
    # Never an archived, unpublished or sold-out product (SKUs missing from the products export count as on sale).
    assert not set(lists["recommended_skus"].explode().drop_nulls()) & unsellable
    assert (lists["recommended_skus"].list.len() == lists["recommendation_reasons"].list.len()).all()
    similar = pl.read_parquet(next((home / "features" / "similar_products").glob("2*/data_0.parquet")))
    assert similar.height > 0 and not similar.filter(pl.col("similar_skus").list.contains(pl.col("sku"))).height
    (version,) = registry.versions("recommender")
    assert (registry.version_dir("recommender", version) / "MODEL_CARD.md").exists()
    with dg.DagsterInstance.get() as instance:
        metadata = instance.get_latest_materialization_event(
            dg.AssetKey(["ml", "product_recommendations"])).asset_materialization.metadata
    assert "| hybrid |" in metadata["evaluation"].value
    assert metadata["ndcg_plot"].value.startswith("![") and metadata["customers"].value == lists.height


def test_eval_recommendations_compares_every_method_out_of_time_and_against_truth(platform):
    result = CliRunner().invoke(main, ["eval", "recommendations"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    for method in ("collaborative", "co_purchase", "content", "buy_again", "popularity", "hybrid"):
        assert f"| {method} |" in result.output
    assert "out of time" in result.output and "Against truth" in result.output
    assert re.search(r"hybrid: NDCG@10 [0-9.]+ = [0-9.]+x popularity", result.output)


def test_the_lift_report_measures_each_customer_of_the_generated_experiment_as_the_truth_saw_them(platform):
    from dagster_project.identity.evaluation import read_resolved_customers, read_truth
    from ml.labels import cutoff_timestamp, read_data_span
    from ml.measurement.experiment_reports import read_assignments, read_orders
    from ml.measurement.lift_report import customer_outcomes
    from ml.oracle import customer_persons

    home, outcome, _, monkeypatch = platform
    assert "measurement/experiment_lift" in outcome.materialized
    truth = pl.read_parquet(home / "landing" / "_truth" / "experiment_assignments.parquet")
    (experiment_id,) = truth["experiment_id"].unique().to_list()
    report = json.loads((home / "measurement" / experiment_id / "report.json").read_text())
    analyzable = truth.filter(pl.col("is_analyzable"))
    # Nearly everyone the truth can analyse is analysed (a few ids no record carries, shared inboxes).
    assert sum(report["customers_per_arm"].values()) >= 0.95 * analyzable.height
    assert report["left_out"]["customers logged in more than one arm"] == truth["in_two_arms"].sum()
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as connection:
        persons = customer_persons(read_resolved_customers(connection), read_truth(home / "landing" / "_truth"))
        as_of = cutoff_timestamp(read_data_span(connection).last_date).replace(tzinfo=None)
        outcomes = customer_outcomes(read_assignments(connection, experiment_id), read_orders(connection, experiment_id),
                                     report["horizon_days"], as_of)
    control = pl.col("arm") == "control"
    realized = analyzable.select("person_id", pl.col("arm").alias("true_arm"),
                                 pl.when(control).then("orders_if_control").otherwise("orders_if_treated").alias("true_orders"),
                                 pl.when(control).then("revenue_if_control_usd").otherwise("revenue_if_treated_usd").alias("true_revenue"))
    joined = outcomes.join(persons, on="customer_id").join(realized, on="person_id")
    assert joined.height >= 0.95 * analyzable.height
    # The arm, the orders and the net revenue of each customer's own 60 days, as the generator made them.
    assert (joined["arm"] == joined["true_arm"]).mean() > 0.99
    assert (joined["orders_in_horizon"] == joined["true_orders"]).mean() > 0.97
    assert ((joined["revenue_in_horizon"] - joined["true_revenue"]).abs() < 0.02).mean() > 0.97
    # cxp eval lift prints the report and, on generated data, the planted effect next to each estimate.
    shown = CliRunner().invoke(main, ["eval", "lift"], catch_exceptions=False).output
    assert f"Experiment {experiment_id}" in shown and "Against the planted effect" in shown
    assert all(re.search(rf"discount_15 +{metric} ", shown) for metric in ("conversion", "revenue_per_customer", "clv_realized"))
    # The asset's page in the Dagster UI: the table and the forest plot of the relative lifts.
    with dg.DagsterInstance.get() as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey(["measurement", "experiment_lift"]))
        page = event.asset_materialization.metadata[f"experiment {experiment_id}"].value
    assert "| discount_15 | conversion |" in page and "data:image/png;base64," in page


def test_the_holdout_is_served_nothing_personal_over_http(platform, tmp_path):
    home, _, _, _ = platform
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as connection:
        held_out = sorted(holdout_customers(connection))[:3]
    scored = pl.read_parquet(next((home / "features" / "customer_scores").glob("2*/data_0.parquet")))
    personalized = scored.filter(pl.col("personalization_allowed") & pl.col("churn_probability").is_not_null()).sort("customer_id")["customer_id"][0]
    with running_feature_server(tmp_path) as url:
        served = online_features(url, "personalization_app", [*held_out, personalized])
    assert served["in_holdout"] == [True, True, True, False]
    assert served["personalization_allowed"] == [False, False, False, True]
    for column in ("churn_probability", "purchase_probability", "expected_value_usd", "propensity_reason_1", "probability_alive"):
        assert served[column][:3] == [None, None, None], column
    # Their lists are the shop's, the same for all three, never personal.
    assert served["recommendations_personalized"][:3] == [False, False, False]
    assert served["recommended_skus"][0] == served["recommended_skus"][1] == served["recommended_skus"][2]


def test_next_best_actions_are_learned_from_the_experiment_and_served_with_their_reason(platform, tmp_path):
    home, outcome, _, _ = platform
    assert "measurement/next_best_actions" in outcome.materialized
    report = json.loads((home / "measurement" / "next_best_actions" / "report.json").read_text())
    (experiment_id,) = pl.read_parquet(home / "landing" / "_truth" / "experiment_assignments.parquet")["experiment_id"].unique()
    learned = report["learned"]["discount_15"]
    assert learned["experiment_id"] == experiment_id and learned["control"] == "control"
    assert min(learned["customers"].values()) >= 100 and set(learned["cross_fitted_qini_usd"]) == {"t_learner", "x_learner"}
    actions = pl.read_parquet(next((home / "features" / "next_best_actions").glob("2*/data_0.parquet")))
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as connection:
        held_out = holdout_customers(connection)
        state = connection.sql("""
            SELECT customer_id, is_email_marketable, is_personalization_opted_out FROM features.customer_profile_features
            QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY snapshot_date DESC) = 1""").pl()
    scores = pl.read_parquet(next((home / "features" / "customer_scores").glob("2*/data_0.parquet")))
    assert actions.height == scores.height and set(actions["customer_id"]) == set(scores["customer_id"])
    chosen = actions.join(state, on="customer_id", how="left")
    # The night applies the policy its held-out check chose: the model's targeting, or the average effect for everyone eligible.
    policy = learned["held_out_policies"]
    assert learned["targets"] == (policy["targeted_value_usd"] > max(policy["everyone_value_usd"], 0)
                                  and policy["gain_lower_bound_usd"] > 0)
    given = chosen.filter(pl.col("next_best_action") == "discount_15")
    # The discount goes by email: only to customers who may be emailed, never to the holdout or an opt-out.
    assert given.height > 0 and given["is_email_marketable"].all() and not given["is_personalization_opted_out"].any()
    assert not set(given["customer_id"]) & held_out
    assert (given["next_best_action_value_usd"] > 0).all() and given["next_best_action_model"].is_not_null().all()
    assert given["next_best_action_reason"].str.starts_with("the 15% reactivation discount is expected to add $").all()
    held = chosen.filter(pl.col("customer_id").is_in(list(held_out)))
    assert (held["next_best_action"] == "no_action").all() and (held["next_best_action_reason"] == "in the measurement holdout").all()
    # Apps read it online next to the scores, over HTTP.
    one_given, one_held = given["customer_id"][0], held["customer_id"][0]
    with running_feature_server(tmp_path) as url:
        served = online_features(url, "personalization_app", [one_given, one_held])
    assert served["next_best_action"] == ["discount_15", "no_action"]
    assert served["next_best_action_reason"][1] == "in the measurement holdout"
    explained = CliRunner().invoke(main, ["explain", one_given], catch_exceptions=False).output
    assert f"Next-best action: discount_15: {given['next_best_action_reason'][0]}" in explained
    # cxp eval uplift: what the night rests on and, on generated data, the policies against the planted effects.
    shown = CliRunner().invoke(main, ["eval", "uplift"], catch_exceptions=False).output
    assert f"discount_15: learned from {experiment_id}" in shown and "on held-out customers" in shown
    assert "Against the planted effects" in shown and re.search(r"Qini t_learner.*vs oracle", shown)
    assert re.search(r"next-best action \(as served\) +[0-9,]+ +\$", shown)

"""The models on a real shop nobody here wrote: CDNOW through `cxp run`, next to plain `lifetimes`.

CDNOW ships inside the `lifetimes` package: 69,659 purchases by 23,570 customers of a CD retailer,
January 1997 to June 1998. The bench writes them as daily Shopify order exports with a name and an
email per buyer and no billing address or phone
(`dagster_project/demo_exports/public_shop_history.py`), runs the whole pipeline with `cxp run`
(90-day churn and propensity windows, 180-day value, as the shop's 18 months allow; the 1997 dates
admitted by `raw.oldest_plausible_timestamp`), and in the same run fits `lifetimes`' BG/NBD and
Gamma-Gamma, used plainly, on the very rows and purchase histories each model was evaluated on.

    uv run python bench/public_shop_history.py [--workdir DIR] [--customers N]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import polars as pl
from cxp_subprocess import run_cxp  # bench/ is the script's directory, hence on sys.path
from sklearn.metrics import average_precision_score, roc_auc_score

from dagster_project.demo_exports.public_shop_history import write_cdnow_landing
from ml.btyd_baseline import purchase_history
from ml.model_evaluation import regression_metrics
from ml.model_registry import ModelRegistry

HORIZONS = {"churn": 90, "propensity": 90, "clv": 180}
MODEL_SETTINGS = f"""
labels:
  churn: {{horizon_days: {HORIZONS['churn']}}}
  propensity: {{horizon_days: {HORIZONS['propensity']}}}
  clv: {{horizon_days: {HORIZONS['clv']}}}
"""
# 1997 is older than the default floor, and the history ends long before today. CDNOW is one cohort
# (first purchases in 1997's first quarter only): its daily orders fall 5-8x within days when that
# quarter ends, and slow days after hold a tenth of the weeks before; the default volume gate (0.2x
# the trailing median) stops such a run, as it should stop a broken export.
QUALITY_THRESHOLDS = """
raw:
  oldest_plausible_timestamp: "1990-01-01"
  max_partition_age_days: 100000
  sources:
    ecommerce_orders: {min_volume_ratio: 0.02}
"""


def run_pipeline(landing: Path, home: Path, first_day: str) -> float:
    """`cxp run` on the landing folder in its own CXP_HOME; returns the seconds it took."""
    seconds, result = run_cxp(landing, home, first_day, MODEL_SETTINGS, QUALITY_THRESHOLDS)
    if result.returncode != 0:
        raise SystemExit(f"cxp run failed (log: {home / 'cxp_run.log'}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return seconds


def evaluated_rows(registry: ModelRegistry, model: str) -> tuple[dict, pl.DataFrame]:
    """The newest version's record, and its evaluation rows (features, label, every scorer's prediction)."""
    version = registry.versions(model)[-1]
    folder = registry.version_dir(model, version)
    record = registry.read_version(model, version)
    evaluation_cutoff = record["cutoffs"]["evaluation"][0][:10]
    features = pl.read_parquet(folder / "training_set.parquet").filter(
        pl.col("cutoff_date").dt.date().cast(pl.String) == evaluation_cutoff)
    scored = pl.read_parquet(folder / "evaluation.parquet").drop("label", "cutoff_date")
    return record, features.join(scored, on="customer_id", how="inner", maintain_order="left")


class PlainLifetimes:
    """`lifetimes`' BG/NBD (and Gamma-Gamma for value) fitted as its documentation does, on the
    purchase histories of one evaluation cutoff (days; repeat orders, as cxp's baseline counts them)."""

    def __init__(self, rows: pl.DataFrame, with_value: bool):
        from lifetimes import BetaGeoFitter, GammaGammaFitter

        history = purchase_history(rows)
        bought = history.bought
        # lifetimes checks its inputs with pandas semantics that numpy arrays pass and Series named T do not.
        self.bg_nbd = BetaGeoFitter(penalizer_coef=0.0).fit(history.frequency[bought], history.recency[bought], history.age[bought])
        self.gamma_gamma = None
        if with_value:
            repeat = bought & (history.frequency > 0) & (history.mean_order_value > 0)
            self.gamma_gamma = GammaGammaFitter(penalizer_coef=0.0).fit(history.frequency[repeat], history.mean_order_value[repeat])

    def expected_purchases(self, rows: pl.DataFrame, days: int) -> np.ndarray:
        """Conditional expected purchases in the next `days`; 0 for customers who never bought."""
        history = purchase_history(rows)
        expected = np.zeros(rows.height)
        b = history.bought
        expected[b] = self.bg_nbd.conditional_expected_number_of_purchases_up_to_time(
            days, history.frequency[b], history.recency[b], history.age[b])
        return expected

    def expected_value(self, rows: pl.DataFrame, days: int) -> np.ndarray:
        history = purchase_history(rows)
        spend = np.asarray(self.gamma_gamma.conditional_expected_average_profit(history.frequency, history.mean_order_value), dtype=float)
        return np.where(history.bought, self.expected_purchases(rows, days) * spend, 0.0)


def ranking_metrics(label: np.ndarray, score: np.ndarray) -> dict[str, float]:
    return {"roc_auc": float(roc_auc_score(label, score)), "pr_auc": float(average_precision_score(label, score))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, help="Where the landing and CXP_HOME go [default: a temporary folder].")
    parser.add_argument("--customers", type=int, help="Only CDNOW's first N customers.")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="cxp-cdnow-"))
    landing, home = workdir / "landing", workdir / "home"
    written = write_cdnow_landing(landing, args.customers)
    print(f"CDNOW as Shopify orders: {written.orders:,} orders of {written.customers:,} customers, "
          f"{written.first_day} .. {written.last_day}, {written.revenue_usd:,.0f} USD; no billing address or phone")
    seconds = run_pipeline(landing, home, written.first_day.isoformat())
    print(f"cxp run: {seconds:.0f} s (log: {home / 'cxp_run.log'})")
    registry = ModelRegistry(home / "models")

    print(f"\n{'model':11} {'metric':9} {'cxp challenger':>14} {'cxp baseline':>12} {'plain lifetimes':>15}  rows, cutoff, decision")
    records = {model: evaluated_rows(registry, model) for model in HORIZONS if registry.versions(model)}
    for model, (record, rows) in records.items():
        label = rows["label"].to_numpy()
        days = HORIZONS[model]
        # Churn rows are the active customers alone: lifetimes is fitted on every customer of the same
        # cutoff (the propensity rows) when there is one, as BG/NBD is meant to be.
        population = rows
        if model == "churn" and "propensity" in records and records["propensity"][0]["cutoffs"]["evaluation"] == record["cutoffs"]["evaluation"]:
            population = records["propensity"][1]
        plain = PlainLifetimes(population, with_value=model == "clv")
        if model == "clv":
            predicted = plain.expected_value(rows, days)
            ours = {name: regression_metrics(label, rows[name].to_numpy()) for name in ("challenger", "baseline") if name in rows.columns}
            theirs = regression_metrics(label, predicted)
            figures = [("spearman", "spearman"), ("total", "total_ratio"), ("mae", "mae")]
        else:
            # lifetimes' BG/NBD gives no conditional P(a purchase in the window): users rank by the
            # expected purchases it does give, so the classifiers are compared on ranking alone.
            expected = plain.expected_purchases(rows, days)
            predicted = -expected if model == "churn" else expected
            ours = {name: ranking_metrics(label, rows[name].to_numpy()) for name in ("challenger", "baseline") if name in rows.columns}
            theirs = ranking_metrics(label, predicted)
            figures = [("roc_auc", "roc_auc"), ("pr_auc", "pr_auc")]
        decision = registry.decisions(model)[-1]
        for index, (shown, key) in enumerate(figures):
            cells = [f"{ours[name][key]:.4f}" if name in ours else "—" for name in ("challenger", "baseline")]
            note = (f"{rows.height:,} rows, {record['cutoffs']['evaluation'][0][:10]}, "
                    f"{'promoted' if decision['promoted'] else 'not promoted'}: {decision['reason']}") if index == 0 else ""
            print(f"{model if index == 0 else '':11} {shown:9} {cells[0]:>14} {cells[1]:>12} {theirs[key]:15.4f}  {note}")
    missing = [model for model in HORIZONS if model not in records]
    if missing:
        print(f"\nno version trained for: {', '.join(missing)} (see {home / 'cxp_run.log'})")


if __name__ == "__main__":
    main()

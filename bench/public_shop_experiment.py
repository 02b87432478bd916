"""The lift report on a real shop nobody here wrote: a random A/A split of CDNOW's buyers through
`cxp run`, next to plain statsmodels on the same customers, in the same run.

CDNOW (inside the `lifetimes` package) is written as daily Shopify order exports, as
`bench/public_shop_history.py` does, and its buyers are split 50/50 at random in the first week of
`--start` by an experiment tool whose log is delivered as `experiments/assignments` exports
(`dagster_project/demo_exports/public_shop_experiment.py`). The true effect is nil, so the bench
shows, on real purchases:

1. cxp's lift report (from `cxp run`: identity resolution joins the log's emails to customers, the
   CUPED covariates come from Feast at each assignment), metric by metric;
2. plain statsmodels on the raw CDNOW file and the tool's split: the difference in means, and the
   regression-adjusted difference (Lin 2013: the outcome on the arm and the centred pre-period
   covariate, HC2 errors), which is what CUPED estimates;
3. the same engine cxp's report uses, over `--splits` fresh random splits of the same customers'
   real outcomes: how often an interval excludes the nil effect (the A/A false-positive rate, 5%
   if calibrated), and how much CUPED narrows revenue's interval on a real shop.

    uv run python bench/public_shop_experiment.py [--workdir DIR] [--start 1998-03-01] [--splits 1000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import statsmodels.formula.api as smf
from public_shop_history import run_pipeline  # bench/ is the script's directory, hence on sys.path

from dagster_project.demo_exports.public_shop_experiment import PlaceboExperiment, write_placebo_assignments
from dagster_project.demo_exports.public_shop_history import ORDER_TIME, read_cdnow, write_cdnow_landing
from ml.measurement.cuped import cuped_comparison
from ml.measurement.lift_report import CUPED_COVARIATES
from ml.measurement.lift_text import MONEY_METRICS

# The defaults of `logged_experiments` (ml/measurement/experiment_settings.yml) measure the log.
HORIZON_DAYS = 60
# (metric in the lift report, plain outcome column, plain covariate column)
COMPARED = [("conversion", "converted", "orders_365d"), ("revenue_per_customer", "revenue", "revenue_365d")]


def plain_outcomes(purchases: pl.DataFrame, experiment: PlaceboExperiment) -> pl.DataFrame:
    """Per split customer, from the raw CDNOW file: `arm`, `converted` and `revenue` in the
    `HORIZON_DAYS` from their exposure, and `orders_365d` and `revenue_365d` in the year before it.
    A purchase happens at noon shop time on its day, as the order exports say (`ORDER_TIME`)."""
    placed = purchases.select("customer_id", "value_usd", pl.concat_str(pl.col("purchased_on").cast(pl.String), pl.lit(" " + ORDER_TIME))
                              .str.strptime(pl.Datetime("us", "UTC"), "%Y-%m-%d %H:%M:%S %z").alias("placed_at"))
    joined = experiment.assignments.join(placed, on="customer_id", how="left")
    after = (pl.col("placed_at") >= pl.col("assigned_at")) & (pl.col("placed_at") < pl.col("assigned_at") + pl.duration(days=HORIZON_DAYS))
    before = (pl.col("placed_at") < pl.col("assigned_at")) & (pl.col("placed_at") >= pl.col("assigned_at") - pl.duration(days=365))
    return joined.group_by("customer_id", "arm").agg(
        (after.sum() > 0).cast(pl.Float64).alias("converted"),
        pl.col("value_usd").filter(after).sum().alias("revenue"),
        before.sum().cast(pl.Float64).alias("orders_365d"),
        pl.col("value_usd").filter(before).sum().alias("revenue_365d"),
    ).with_columns(pl.col("revenue", "revenue_365d").fill_null(0.0), (pl.col("arm") == "treatment").cast(pl.Int8).alias("treated")).sort("customer_id")


def statsmodels_lift(frame: pl.DataFrame, outcome: str, covariate: str) -> dict[str, float]:
    """Plain statsmodels: the difference and its 95% interval without and with the centred covariate."""
    data = frame.select(pl.col(outcome).alias("y"), "treated", (pl.col(covariate) - pl.col(covariate).mean()).alias("x")).to_pandas()
    plain = smf.ols("y ~ treated", data).fit(cov_type="HC2")
    adjusted = smf.ols("y ~ treated + x", data).fit(cov_type="HC2")
    (low, high), (a_low, a_high) = plain.conf_int().loc["treated"], adjusted.conf_int().loc["treated"]
    return {"difference": plain.params["treated"], "low": low, "high": high, "p": plain.pvalues["treated"],
            "adjusted": adjusted.params["treated"], "a_low": a_low, "a_high": a_high,
            "narrowing": 1 - (a_high - a_low) / (high - low)}


def resplit(frame: pl.DataFrame, splits: int, seed: int) -> dict[str, dict[str, float]]:
    """cxp's CUPED comparison over `splits` random 50/50 splits of the same customers' real outcomes."""
    rng = np.random.default_rng(seed)
    figures: dict[str, dict[str, float]] = {}
    for metric, outcome, covariate in COMPARED:
        y, x = frame[outcome].to_numpy(), frame[covariate].to_numpy()
        flagged = flagged_cuped = 0
        narrowing = []
        for _ in range(splits):
            arm = np.where(rng.random(y.size) < 0.5, "treatment", "control")
            result = cuped_comparison(y, x, arm)
            flagged += result.unadjusted.p_value < 0.05
            flagged_cuped += result.adjusted.p_value < 0.05
            narrowing.append(result.ci_narrowing)
        figures[metric] = {"flagged": flagged / splits, "flagged_cuped": flagged_cuped / splits,
                           "narrowing": float(np.mean(narrowing)), "narrowing_p10": float(np.quantile(narrowing, 0.1)),
                           "narrowing_p90": float(np.quantile(narrowing, 0.9))}
    return figures


def interval(low: float, high: float, money: bool) -> str:
    """A dollar interval, or a proportion's in percentage points."""
    return f"[{low:+.2f}, {high:+.2f}]" if money else f"[{100 * low:+.2f}, {100 * high:+.2f}]pp"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, help="Where the landing and CXP_HOME go [default: a temporary folder].")
    parser.add_argument("--start", type=date.fromisoformat, default=date(1998, 3, 1),
                        help="First day of the split's week of exposures (its 60-day horizon must end by 1998-06-30).")
    parser.add_argument("--splits", type=int, default=1000, help="Random re-splits for the false-positive rate.")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="cxp-cdnow-aa-"))
    landing, home = workdir / "landing", workdir / "home"
    purchases = read_cdnow()
    written = write_cdnow_landing(landing, purchases=purchases)
    experiment = write_placebo_assignments(landing, written.buyers, purchases, args.start)
    arms = experiment.assignments["arm"].value_counts().sort("arm")
    print(f"CDNOW as Shopify orders: {written.orders:,} orders of {written.customers:,} customers; "
          f"{experiment.assignments.height:,} split at random from {args.start} "
          f"({', '.join(f'{arm} {count:,}' for arm, count in arms.iter_rows())}): the true effect is nil")
    seconds = run_pipeline(landing, home, written.first_day.isoformat())
    print(f"cxp run: {seconds:.0f} s (log: {home / 'cxp_run.log'})")

    folder = home / "measurement" / experiment.experiment_id
    report = json.loads((folder / "report.json").read_text())
    lift = pl.read_csv(folder / "lift.csv")
    print(f"\ncxp's lift report: {report['customers_per_arm']}; {report['sample_ratio']}; A/A split of control p = {report['aa_p_value']:.2f}")
    print(f"{'metric':22} {'difference [95% CI]':>34} {'p':>6} {'CUPED difference [95% CI]':>34} {'narrower':>8}  covariate")
    for row in lift.iter_rows(named=True):
        money = row["metric"] in MONEY_METRICS
        scale = 1 if money else 100
        plain = f"{scale * row['difference']:+.2f} {interval(row['ci_low'], row['ci_high'], money)}" if row["ci_low"] is not None else "—"
        cuped = (f"{scale * row['cuped_difference']:+.2f} {interval(row['cuped_ci_low'], row['cuped_ci_high'], money)}"
                 if row["cuped_ci_low"] is not None else "—")
        narrower = f"{100 * row['ci_narrowing']:.1f}%" if row["ci_narrowing"] is not None else "—"
        p = f"{row['p_value']:.2f}" if row["p_value"] is not None else "—"
        print(f"{row['metric']:22} {plain:>34} {p:>6} {cuped:>34} {narrower:>8}  {CUPED_COVARIATES.get(row['metric'], '')}")

    frame = plain_outcomes(purchases, experiment)
    print(f"\nplain statsmodels (OLS, HC2) on the raw CDNOW file and the tool's split, {frame.height:,} customers:")
    for metric, outcome, covariate in COMPARED:
        figures = statsmodels_lift(frame, outcome, covariate)
        money = metric in MONEY_METRICS
        scale = 1 if money else 100
        print(f"{metric:22} {scale * figures['difference']:+.2f} {interval(figures['low'], figures['high'], money):>24} "
              f"{figures['p']:6.2f} {scale * figures['adjusted']:+.2f} {interval(figures['a_low'], figures['a_high'], money):>24} "
              f"{100 * figures['narrowing']:7.1f}%  {covariate}")

    print(f"\ncxp's CUPED engine over {args.splits:,} fresh random splits of the same customers' real outcomes:")
    for metric, figures in resplit(frame, args.splits, seed=7).items():
        print(f"{metric:22} intervals excluding the nil effect: {100 * figures['flagged']:.1f}% plain, "
              f"{100 * figures['flagged_cuped']:.1f}% with CUPED (95% calibrated: 5%); CUPED narrows by "
              f"{100 * figures['narrowing']:.1f}% (10th-90th percentile {100 * figures['narrowing_p10']:.1f}-{100 * figures['narrowing_p90']:.1f}%)")


if __name__ == "__main__":
    main()

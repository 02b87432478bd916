"""Out-of-time evaluation metrics against hand-computed values, their input checks, and the PNG charts."""

import base64
import io
import math
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import polars as pl
import pytest
from PIL import Image

from ml.evaluation_plots import calibration_png, feature_importance_png, lift_png, png_markdown, roc_curves_png
from ml.model_evaluation import CalibrationBin, calibration_by_decile, classifier_metrics, cumulative_gains, regression_metrics

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_PNG_BYTES = 60_000


# --- classifier_metrics ----------------------------------------------------------------------------


def test_perfect_ranking_gives_auc_1_and_lift_of_one_over_the_positive_rate():
    # 3 positives in 10 rows, ranked above every negative. The top 10% is one row, a positive:
    # rate 1 in the top over 0.3 overall.
    labels = [0] * 7 + [1] * 3
    probability = np.linspace(0.05, 0.95, 10)
    result = classifier_metrics(labels, probability)
    assert result["roc_auc"] == 1.0
    assert result["pr_auc"] == 1.0
    assert result["lift_top_10pct"] == pytest.approx(1 / 0.3)
    assert result["positive_rate"] == pytest.approx(0.3)
    assert result["rows"] == 10


def test_lift_is_capped_at_10_when_all_positives_fit_in_the_top_10pct():
    # 5 positives in 100 rows: the top 10 rows hold all of them, rate 0.5 over 0.05 overall = 10.
    labels = np.r_[np.zeros(95), np.ones(5)]
    result = classifier_metrics(labels, np.linspace(0, 1, 100))
    assert result["lift_top_10pct"] == pytest.approx(10.0)


def test_lift_by_hand_and_with_ties_at_the_cut_off():
    # 20 rows, 4 positives (rate 0.2); the top 10% (2 rows) holds one positive: 0.5 / 0.2 = 2.5.
    labels = np.array([1, 0] + [1, 1, 1] + [0] * 15)
    probability = np.array([0.9, 0.8] + [0.5] * 3 + [0.1] * 15)
    assert classifier_metrics(labels, probability)["lift_top_10pct"] == pytest.approx(2.5)
    # Every row tied: the top 10% is a random 10%, so lift 1, however the rows are ordered.
    for order in (labels, np.sort(labels), np.sort(labels)[::-1]):
        assert classifier_metrics(order, np.full(20, 0.3))["lift_top_10pct"] == pytest.approx(1.0)
    # Two positives tied with two negatives across the cut-off of the top 2 rows: that group
    # fills the top at its average rate 0.5, so 0.5 / (2 / 20) = 5.
    tied = np.array([0, 1, 0, 1] + [0] * 16)
    assert classifier_metrics(tied, np.r_[np.full(4, 0.9), np.full(16, 0.1)])["lift_top_10pct"] == pytest.approx(5.0)


def test_brier_auc_and_average_precision_by_hand():
    labels = [0, 0, 1, 1]
    probability = [0.1, 0.4, 0.35, 0.8]
    result = classifier_metrics(labels, probability)
    # (0.1² + 0.4² + 0.65² + 0.2²) / 4
    assert result["brier"] == pytest.approx((0.01 + 0.16 + 0.4225 + 0.04) / 4)
    # Positive/negative pairs ordered right: (0.35 > 0.1), (0.8 > 0.1), (0.8 > 0.4); wrong: (0.35 < 0.4).
    assert result["roc_auc"] == pytest.approx(0.75)
    # Precision at each positive, best first: 1/1 at 0.8, 2/3 at 0.35.
    assert result["pr_auc"] == pytest.approx((1 + 2 / 3) / 2)


def test_numpy_lists_polars_and_booleans_give_the_same_metrics():
    rng = np.random.default_rng(1)
    probability = rng.random(500)
    labels = rng.random(500) < probability
    expected = classifier_metrics(labels.astype(int), probability)
    assert classifier_metrics(list(labels), list(probability)) == expected
    assert classifier_metrics(pl.Series(labels), pl.Series(probability)) == expected
    assert all(type(value) in (float, int) for value in expected.values())


# --- regression_metrics ----------------------------------------------------------------------------


def test_regression_errors_by_hand():
    result = regression_metrics([1.0, 2.0, 3.0, 4.0], [2.0, 2.0, 3.0, 5.0])
    assert result["mae"] == pytest.approx(0.5)  # (1 + 0 + 0 + 1) / 4
    assert result["rmse"] == pytest.approx(math.sqrt(0.5))  # sqrt((1 + 0 + 0 + 1) / 4)
    assert result["mean_actual"] == pytest.approx(2.5)
    assert result["mean_predicted"] == pytest.approx(3.0)
    assert result["rows"] == 4


def test_top_20pct_value_share_by_hand():
    # 10 customers worth 200 in total; the two with the highest predictions are worth 100 and 50.
    actual = [100, 0, 50, 0, 10, 10, 10, 10, 5, 5]
    prediction = [9, 1, 8, 2, 3, 3, 3, 3, 3, 3]
    assert regression_metrics(actual, prediction)["top_20pct_value_share"] == pytest.approx(150 / 200)
    # The cut-off falls inside a tie: 9 first (100), then one of the six tied at 3 (average 50 / 6).
    tied = [9, 1, 2, 2, 3, 3, 3, 3, 3, 3]
    assert regression_metrics(actual, tied)["top_20pct_value_share"] == pytest.approx((100 + 50 / 6) / 200)
    # A constant prediction captures 20% of the value in expectation.
    assert regression_metrics(actual, [1.0] * 10)["top_20pct_value_share"] == pytest.approx(0.2)


def test_spearman_of_a_monotone_transform_is_1():
    actual = np.random.default_rng(2).lognormal(size=1000)
    assert regression_metrics(actual, np.log(actual))["spearman"] == pytest.approx(1.0)
    assert regression_metrics(actual, -(actual**3))["spearman"] == pytest.approx(-1.0)


def test_undefined_regression_figures():
    # A constant (mean-only) prediction ranks nobody: correlation 0 rather than scipy's NaN.
    constant = regression_metrics([1.0, 2.0, 3.0], [2.0, 2.0, 2.0])
    assert constant["spearman"] == 0.0
    # Nobody spent anything: there is no value to share out.
    assert math.isnan(regression_metrics([0.0, 0.0, 0.0], [1.0, 2.0, 3.0])["top_20pct_value_share"])


# --- calibration_by_decile -------------------------------------------------------------------------


def test_calibration_of_a_perfectly_calibrated_sample_is_on_the_diagonal():
    rng = np.random.default_rng(3)
    probability = rng.random(200_000)
    labels = rng.random(200_000) < probability
    bins = calibration_by_decile(labels, probability)
    assert [bin_.decile for bin_ in bins] == list(range(1, 11))
    assert [bin_.count for bin_ in bins] == [20_000] * 10
    for bin_ in bins:
        assert bin_.mean_predicted == pytest.approx((bin_.decile - 0.5) / 10, abs=0.005)
        assert bin_.mean_observed == pytest.approx(bin_.mean_predicted, abs=0.015)


def test_calibration_keeps_ties_together():
    # Three distinct predictions for 100 rows: three bins, each at the decile of its middle row.
    prediction = [0.0] * 50 + [0.5] * 30 + [1.0] * 20
    labels = [0] * 40 + [1] * 10 + [1] * 15 + [0] * 15 + [1] * 20
    assert calibration_by_decile(labels, prediction) == [
        CalibrationBin(decile=3, count=50, mean_predicted=0.0, mean_observed=0.2),
        CalibrationBin(decile=7, count=30, mean_predicted=0.5, mean_observed=0.5),
        CalibrationBin(decile=10, count=20, mean_predicted=1.0, mean_observed=1.0),
    ]
    # Shuffling the rows changes nothing.
    order = np.random.default_rng(4).permutation(100)
    assert calibration_by_decile(np.array(labels)[order], np.array(prediction)[order]) == calibration_by_decile(labels, prediction)


def test_calibration_with_few_rows_and_of_values():
    assert [bin_.count for bin_ in calibration_by_decile([1, 2, 3, 4], [4.0, 3.0, 2.0, 1.0])] == [1, 1, 1, 1]
    assert len(calibration_by_decile([5.0] * 7, [1.0] * 7)) == 1
    # CLV under-predicted by half everywhere: each decile observes twice what it predicts.
    prediction = np.random.default_rng(5).lognormal(size=1000)
    for bin_ in calibration_by_decile(2 * prediction, prediction):
        assert bin_.mean_observed == pytest.approx(2 * bin_.mean_predicted)
        assert bin_.count == 100


# --- cumulative_gains ------------------------------------------------------------------------------


def test_cumulative_gains_of_labels_and_values():
    labels = [0] * 7 + [1] * 3
    targeted, captured = cumulative_gains(labels, np.arange(10), points=10)
    np.testing.assert_allclose(targeted, np.linspace(0, 1, 11))
    np.testing.assert_allclose(captured, [0, 1 / 3, 2 / 3, 1, 1, 1, 1, 1, 1, 1, 1])
    targeted, captured = cumulative_gains([10.0, 30.0, 60.0, 0.0], [3, 2, 1, 0], points=4)
    np.testing.assert_allclose(captured, [0, 0.1, 0.4, 1.0, 1.0])
    # The default grid steps by 1%; the top 10% is at index 10.
    targeted, captured = cumulative_gains(np.r_[np.zeros(95), np.ones(5)], np.arange(100))
    assert len(targeted) == 101 and targeted[10] == pytest.approx(0.1) and captured[10] == pytest.approx(1.0)


def test_cumulative_gains_needs_something_to_capture():
    with pytest.raises(ValueError, match="positive total"):
        cumulative_gains([0, 0, 0], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="points"):
        cumulative_gains([0, 1], [0.1, 0.2], points=0)


# --- input checks ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("y_true", "prediction", "message"),
    [
        ([0, 1, 1], [0.2, 0.8], "length mismatch: y_true has 3 rows but probability has 2"),
        ([], [], "y_true is empty"),
        ([0, 1], [0.2, float("nan")], "probability contains 1 NaN"),
        (pl.Series([0, 1]), pl.Series([0.2, None]), "probability contains 1 NaN \\(or null\\)"),
        ([0, 1], [0.2, float("inf")], "probability contains 1 infinite"),
        ([1, 1, 1], [0.2, 0.5, 0.8], "single class, only 1 .* ROC AUC and average precision are undefined"),
        ([0, 0], [0.2, 0.5], "single class, only 0"),
        ([0, 2], [0.2, 0.5], "binary labels"),
        ([0, 1], [-0.2, 1.5], "must lie in \\[0, 1\\]"),
        ([0, 1], [[0.8, 0.2], [0.3, 0.7]], "one-dimensional.*predict_proba"),
        ([0, 1], ["a", "b"], "probability must be numeric"),
    ],
)
def test_classifier_metrics_rejects_bad_input(y_true, prediction, message):
    with pytest.raises(ValueError, match=message):
        classifier_metrics(y_true, prediction)


@pytest.mark.parametrize("function", [regression_metrics, calibration_by_decile, cumulative_gains])
def test_value_functions_reject_bad_input(function):
    with pytest.raises(ValueError, match="length mismatch"):
        function([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="y_true is empty"):
        function([], [])
    with pytest.raises(ValueError, match="prediction contains 1 NaN|score contains 1 NaN"):
        function([1.0, 2.0], [1.0, float("nan")])
    with pytest.raises(ValueError, match="y_true contains 1 NaN"):
        function([1.0, float("nan")], [1.0, 2.0])


# --- plots -----------------------------------------------------------------------------------------


def assert_png(png: bytes) -> Image.Image:
    assert png.startswith(PNG_SIGNATURE)
    assert len(png) < MAX_PNG_BYTES
    image = Image.open(io.BytesIO(png))
    image.load()  # decodes every row: a truncated or corrupt file fails here
    return image


@pytest.fixture(scope="module")
def million_customers() -> dict[str, object]:
    rng = np.random.default_rng(6)
    rows = 1_000_000
    latent = rng.normal(size=rows)
    churned = rng.random(rows) < 1 / (1 + np.exp(-(2 * latent - 2)))
    value = rng.lognormal(size=rows)
    return {
        "labels": churned.astype(np.int8),
        "probabilities": {
            "challenger": 1 / (1 + np.exp(-(2 * latent - 2 + rng.normal(scale=0.5, size=rows)))),
            "champion": 1 / (1 + np.exp(-(1.5 * latent - 2 + rng.normal(size=rows)))),
            "baseline": np.full(rows, churned.mean()),
        },
        "value": value,
        "value_predictions": {"challenger": value * rng.lognormal(sigma=0.5, size=rows), "baseline": np.full(rows, value.mean())},
    }


def test_plots_of_a_million_customers_are_small_valid_pngs(million_customers):
    data = million_customers
    charts = {
        "roc": lambda: roc_curves_png(data["labels"], data["probabilities"], "Churn: ROC out of time"),
        "calibration": lambda: calibration_png(data["labels"], data["probabilities"], "Churn: calibration"),
        "calibration of values": lambda: calibration_png(data["value"], data["value_predictions"], "CLV: calibration"),
        "gains": lambda: lift_png(data["labels"], data["probabilities"], "Churn: cumulative gains"),
        "gains of value": lambda: lift_png(data["value"], data["value_predictions"], "CLV: cumulative gains"),
    }
    for name, draw in charts.items():
        image = assert_png(draw())
        assert image.size == (480, 320), name


def test_feature_importance_png():
    names = [f"orders_{days}d_{kind}" for days in (7, 30, 90, 365) for kind in ("count", "amount", "refunds", "tickets", "opens")]
    image = assert_png(feature_importance_png(names, list(np.random.default_rng(7).random(len(names))), "Churn: importance"))
    assert image.width == 480
    assert_png(feature_importance_png(["a very " * 20 + "long name", "b"], [0.4, -0.1], "Two features", top=50))
    with pytest.raises(ValueError, match="length mismatch"):
        feature_importance_png(["a", "b"], [0.5], "Mismatch")
    with pytest.raises(ValueError, match="importances is empty"):
        feature_importance_png([], [], "Nothing")
    with pytest.raises(ValueError, match="top must be a positive integer"):
        feature_importance_png(["a"], [0.5], "Top", top=0)


def test_plots_reject_bad_input():
    with pytest.raises(ValueError, match="no models to plot"):
        roc_curves_png([0, 1], {}, "Empty")
    with pytest.raises(ValueError, match="single class"):
        roc_curves_png([1, 1], {"challenger": [0.2, 0.4]}, "One class")
    with pytest.raises(ValueError, match=r"length mismatch: y_true has 2 rows but scores\['champion'\] has 3"):
        lift_png([0, 1], {"champion": [0.1, 0.2, 0.3]}, "Mismatch")
    with pytest.raises(ValueError, match=r"predictions\['baseline'\] contains 1 NaN"):
        calibration_png([0, 1], {"baseline": [0.1, float("nan")]}, "NaN")


def test_png_markdown_embeds_the_image_inline():
    png = roc_curves_png([0, 1, 0, 1], {"challenger": [0.1, 0.9, 0.3, 0.6]}, "Tiny")
    markdown = png_markdown(png, "ROC [churn]\nout of time")
    prefix = "![ROC \\[churn\\] out of time](data:image/png;base64,"
    assert markdown.startswith(prefix) and markdown.endswith(")")
    assert base64.b64decode(markdown[len(prefix) : -1]) == png
    with pytest.raises(ValueError, match="PNG"):
        png_markdown(b"GIF89a", "not a png")


def test_charts_are_deterministic_and_can_be_drawn_from_threads():
    rng = np.random.default_rng(8)
    labels = rng.random(2000) < 0.3
    scores = {"challenger": rng.random(2000), "baseline": rng.random(2000)}
    draws = [
        lambda: roc_curves_png(labels, scores, "ROC"),
        lambda: calibration_png(labels, scores, "Calibration"),
        lambda: lift_png(labels, scores, "Gains"),
        lambda: feature_importance_png(["a", "b", "c"], [3.0, 1.0, 2.0], "Importance"),
    ]
    one_by_one = [draw() for draw in draws]
    with ThreadPoolExecutor(max_workers=4) as pool:
        concurrently = list(pool.map(lambda draw: draw(), draws))
    assert concurrently == one_by_one


def test_importing_the_plots_leaves_pyplot_and_the_backend_alone():
    code = (
        "import sys, matplotlib; backend = dict.__getitem__(matplotlib.rcParams, 'backend');"
        "import ml.evaluation_plots;"
        "ml.evaluation_plots.lift_png([0, 1, 1], {'m': [0.2, 0.9, 0.5]}, 'Gains');"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported';"
        "assert dict.__getitem__(matplotlib.rcParams, 'backend') == backend, 'backend changed'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)

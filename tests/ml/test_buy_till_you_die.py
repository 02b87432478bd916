"""BG/NBD and Gamma-Gamma: the published CDNOW fits, behaviour users rely on, recovery from simulation, input checks."""

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import hyp2f1

from ml.buy_till_you_die import BetaGeometricNBD, GammaGamma, ModifiedBetaGeometricNBD, expected_revenue, fit_bg_nbd, fit_gamma_gamma, fit_mbg_nbd
from ml.likelihood_fitting import log_hyp2f1_positive

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "cdnow_customers_summary.csv")


@pytest.fixture(scope="module")
def cdnow_model(cdnow: pd.DataFrame) -> BetaGeometricNBD:
    return fit_bg_nbd(cdnow["frequency"], cdnow["recency"], cdnow["T"])


def test_bg_nbd_reproduces_the_published_cdnow_fit(cdnow: pd.DataFrame, cdnow_model: BetaGeometricNBD) -> None:
    # Fader, Hardie & Lee (2005), section 5: r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4.
    for name, published in {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}.items():
        assert getattr(cdnow_model, name) == pytest.approx(published, rel=0.02), name
    log_likelihood = cdnow_model.log_likelihood(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    assert log_likelihood == pytest.approx(-9582.4, rel=1e-3)


def test_conditional_expectation_matches_hardies_worked_example(cdnow_model: BetaGeometricNBD) -> None:
    # Hardie's BG/NBD spreadsheet: 2 repeat purchases, the last at week 30.43, observed for 38.86 weeks,
    # is expected to make 1.226 repeat purchases in the next 39 weeks.
    assert float(cdnow_model.expected_purchases(39, 2, 30.43, 38.86)) == pytest.approx(1.226, abs=1e-3)


def test_gamma_gamma_reproduces_the_published_cdnow_fit() -> None:
    spend = pd.read_csv(FIXTURES / "cdnow_customers_summary_with_transactions.csv")
    model = fit_gamma_gamma(spend["x"], spend["zbar"])
    # Fader & Hardie (2013), fitted on the 946 repeat buyers: p = 6.25, q = 3.74, gamma = 15.44.
    assert model.p == pytest.approx(6.25, rel=0.02)
    assert model.q == pytest.approx(3.74, rel=0.02)
    assert model.gamma == pytest.approx(15.44, rel=0.02)
    # The 1,411 customers without a repeat purchase (zbar = 0) carry no spend information and are left out.
    repeat = spend[spend["x"] > 0]
    assert fit_gamma_gamma(repeat["x"], repeat["zbar"]) == model


def test_probability_alive_is_one_without_repeat_purchases_and_falls_with_older_recency(
        cdnow_model: BetaGeometricNBD) -> None:
    assert np.array_equal(cdnow_model.probability_alive([0, 0, 0], [0, 0, 0], [1, 38.86, 500]), [1.0, 1.0, 1.0])
    recency = np.linspace(38, 1, 20)  # from "just bought" back to "last bought long ago"
    alive = cdnow_model.probability_alive(4, recency, 38.86)
    assert np.all(np.diff(alive) < 0)
    assert 0 < alive[-1] < alive[0] < 1


def test_expected_purchases_start_at_zero_and_grow_with_the_horizon(cdnow_model: BetaGeometricNBD) -> None:
    horizons = np.array([0, 1, 4, 13, 26, 52, 104])
    for frequency, recency in [(0, 0.0), (3, 20.0), (12, 38.0)]:
        expected = cdnow_model.expected_purchases(horizons, frequency, recency, 38.86)
        assert expected[0] == 0
        assert np.all(np.diff(expected) > 0)


def test_heavy_buyers_and_degenerate_parameters_stay_finite() -> None:
    model = BetaGeometricNBD(r=0.9, alpha=10.0, a=1.2, b=7.0)
    # 10,000 purchases in ten years: (alpha + T)^(r + x) alone would overflow a float.
    assert np.isfinite(model.log_likelihood(10_000, 3640, 3650))
    assert 0.99 < float(model.probability_alive(10_000, 3650, 3650)) <= 1
    assert float(model.probability_alive(10_000, 3000, 3650)) == pytest.approx(0, abs=1e-12)
    assert np.isfinite(model.expected_purchases(3650, 10_000, 3650, 3650))
    # r - a an integer makes c - a - b of the hypergeometric an integer, where scipy's hyp2f1 returns nan;
    # the reference value is the series summed to 40 significant digits.
    assert float(BetaGeometricNBD(2.0, 0.5, 3.0, 0.4).expected_purchases(3650, 20_000, 365, 365)) == pytest.approx(
        9916.848903031325, rel=1e-9)
    # a = 1 is a removable singularity of the closed form: the value there sits between its neighbours.
    at_one, below, above = (float(BetaGeometricNBD(0.5, 10, a, 3).expected_purchases(50, 3, 20, 40))
                            for a in (1.0, 0.999, 1.001))
    assert above < at_one < below
    assert at_one == pytest.approx((below + above) / 2, rel=1e-5)


@pytest.mark.parametrize("model", [BetaGeometricNBD, ModifiedBetaGeometricNBD])
def test_a_tight_drop_out_prior_gives_finite_expected_purchases_that_converge(model) -> None:
    # Seen on a generated night: a = 11,698, b = 89,165, a drop-out chance of 0.116 known almost exactly.
    # (1-z)^(a-1) 2F1(...) overflowed for 1,765 of 2,963 customers and CLV was served to no one.
    frequency, recency, age = np.array([0, 1, 3, 8]), np.array([0, 20, 90, 170]), np.array([40, 60, 120, 180])
    by_scale = {scale: model(r=0.78, alpha=73.5, a=0.116 * scale, b=0.884 * scale).expected_purchases(30, frequency, recency, age)
                for scale in (1e2, 1e3, 1e4, 1e5, 1e6)}
    assert all(np.isfinite(value).all() and (value > 0).all() for value in by_scale.values()), by_scale
    # As the prior tightens, the model nears one with a fixed drop-out chance: each step moves the values ten times less.
    steps = [np.abs(by_scale[scale * 10] - by_scale[scale]).max() for scale in (1e2, 1e3, 1e4, 1e5)]
    assert all(later < earlier / 5 for earlier, later in itertools.pairwise(steps)), steps


def test_the_log_space_hypergeometric_matches_scipy_where_scipy_is_finite_and_goes_on_where_it_overflows() -> None:
    a, b, c, z = np.array([1.5, 100.0, 2.0, 0.8, 40.0]), np.array([2.5, 3.0, 89_165.0, 0.4, 900.0]), \
        np.array([4.0, 7.0, 100_861.0, 3.0, 905.0]), np.array([0.3, 0.9, 0.2, 0.99, 0.5])
    assert log_hyp2f1_positive(a, b, c, z) == pytest.approx(np.log(hyp2f1(a, b, c, z)), rel=1e-12)
    # 2F1(a, b; b; z) = (1 - z)^-a, far past a float: log 2F1 = -a log(1 - z).
    assert log_hyp2f1_positive(5_000.0, 7.0, 7.0, 0.5) == pytest.approx(5_000 * np.log(2), rel=1e-12)
    assert np.isinf(hyp2f1(5_000.0, 7.0, 7.0, 0.5))


def _simulate(rng: np.random.Generator, n: int, r: float, alpha: float, a: float, b: float, T: np.ndarray,
              horizon: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Draw BG/NBD customers: (frequency, recency, alive at T, repeat purchases in (T, T + horizon])."""
    rate = rng.gamma(r, 1 / alpha, n)
    drop = rng.beta(a, b, n)
    last_purchase = rng.geometric(drop)  # the repeat purchase right after which the customer drops out
    poisson_count = rng.poisson(rate * T)  # purchases an immortal customer would have made by T
    frequency = np.minimum(poisson_count, last_purchase)
    # Given n Poisson arrivals in [0, T], the k-th is T times the k-th order statistic of n uniforms.
    recency = np.where(frequency > 0, T * rng.beta(np.maximum(frequency, 1), poisson_count - frequency + 1), 0.0)
    alive = poisson_count < last_purchase
    future = np.where(alive, np.minimum(rng.poisson(rate * horizon), last_purchase - poisson_count), 0)
    return frequency, recency, alive, future


TRUE = {"r": 0.9, "alpha": 10.0, "a": 1.2, "b": 7.0}  # alpha in days
HORIZON = 180.0


@pytest.fixture(scope="module")
def simulated() -> dict:
    rng = np.random.default_rng(20240611)
    T = rng.integers(200, 401, 50_000).astype(float)  # weekly cohorts over ~400 days
    frequency, recency, alive, future = _simulate(rng, T.size, **TRUE, T=T, horizon=HORIZON)
    return {"frequency": frequency, "recency": recency, "T": T, "alive": alive, "future": future,
            "model": fit_bg_nbd(frequency, recency, T)}


def test_fit_recovers_simulated_parameters(simulated: dict) -> None:
    for name, true in TRUE.items():
        assert getattr(simulated["model"], name) == pytest.approx(true, rel=0.10), name


def test_predictions_match_what_simulated_customers_do_next(simulated: dict) -> None:
    model, history = simulated["model"], (simulated["frequency"], simulated["recency"], simulated["T"])
    predicted = model.expected_purchases(HORIZON, *history).sum()
    assert predicted == pytest.approx(simulated["future"].sum(), rel=0.05)
    assert model.probability_alive(*history).sum() == pytest.approx(simulated["alive"].sum(), rel=0.05)
    # And not only in aggregate: the heaviest quarter of buyers, who carry most of the revenue.
    heavy = simulated["frequency"] >= np.quantile(simulated["frequency"], 0.75)
    heavy_predicted = model.expected_purchases(HORIZON, *(column[heavy] for column in history)).sum()
    assert heavy_predicted == pytest.approx(simulated["future"][heavy].sum(), rel=0.05)


def test_conditional_spend_shrinks_a_customers_mean_towards_the_population_mean() -> None:
    model = GammaGamma(p=6.25, q=3.74, gamma=15.44)
    population_mean = 6.25 * 15.44 / (3.74 - 1)
    # Without repeat purchases there is no own mean: the monetary value is ignored, even when missing.
    assert np.allclose(model.conditional_expected_spend([0, 0], [np.nan, 99.0]), population_mean)
    own_means = np.array([5.0, 5.0, 5.0, 200.0, 200.0, 200.0])
    spend = model.conditional_expected_spend([1, 5, 50, 1, 5, 50], own_means)
    assert np.all((spend > np.minimum(own_means, population_mean)) & (spend < np.maximum(own_means, population_mean)))
    # More purchases, more weight on the customer's own mean.
    assert spend[0] > spend[1] > spend[2] and spend[3] < spend[4] < spend[5]


def test_expected_revenue_is_expected_purchases_times_expected_spend(cdnow_model: BetaGeometricNBD) -> None:
    spend_model = GammaGamma(p=6.25, q=3.74, gamma=15.44)
    frequency, recency, T, monetary = [0, 2, 7], [0.0, 30.43, 35.71], [38.86, 38.86, 38.86], [np.nan, 22.35, 40.0]
    revenue = expected_revenue(cdnow_model, spend_model, 52, frequency, recency, T, monetary)
    expected = (cdnow_model.expected_purchases(52, frequency, recency, T)
                * spend_model.conditional_expected_spend(frequency, monetary))
    assert np.all(np.isfinite(revenue)) and np.allclose(revenue, expected)
    assert revenue[0] == pytest.approx(float(cdnow_model.expected_purchases(52, 0, 0, 38.86)) * 6.25 * 15.44 / 2.74)


@pytest.mark.parametrize(("frequency", "recency", "T", "message"), [
    ([1, 2], [5, 12], [10, 10], "recency must not exceed T"),
    ([-1, 2], [0, 5], [10, 10], "frequency must be a whole number"),
    ([1.5, 2], [3, 5], [10, 10], "frequency must be a whole number"),
    ([1, 2], [-1, 5], [10, 10], "recency must be >= 0"),
    ([0, 2], [3, 5], [10, 10], "recency must be 0 for customers with frequency 0"),
    ([1, np.nan], [3, 5], [10, 10], "finite"),
])
def test_inconsistent_rfm_rows_are_rejected(frequency, recency, T, message: str) -> None:
    model = BetaGeometricNBD(r=0.9, alpha=10.0, a=1.2, b=7.0)
    for call in (lambda: fit_bg_nbd(frequency, recency, T), lambda: model.probability_alive(frequency, recency, T),
                 lambda: model.expected_purchases(5, frequency, recency, T)):
        with pytest.raises(ValueError, match=message):
            call()


def test_repeat_purchases_on_the_first_day_are_accepted() -> None:
    # frequency > 0 with recency 0: repeat purchases on the day of the first one, in daily data.
    model = fit_bg_nbd([0, 1, 2, 3, 1], [0, 0, 4, 9, 2], [10, 10, 10, 12, 5])
    assert 0 < float(model.probability_alive(1, 0, 10)) < 1


def test_other_invalid_inputs_are_rejected() -> None:
    model = BetaGeometricNBD(r=0.9, alpha=10.0, a=1.2, b=7.0)
    with pytest.raises(ValueError, match="at least one customer with a repeat purchase"):
        fit_bg_nbd([0, 0], [0, 0], [10, 20])
    with pytest.raises(ValueError, match="horizon"):
        model.expected_purchases(-1, 1, 5, 10)
    with pytest.raises(ValueError, match="alpha must be a positive"):
        BetaGeometricNBD(r=0.9, alpha=0.0, a=1.2, b=7.0)
    with pytest.raises(ValueError, match="at least one customer with a repeat purchase"):
        fit_gamma_gamma([0, 0], [0.0, 0.0])
    with pytest.raises(ValueError, match="positive finite mean spend"):
        fit_gamma_gamma([1, 2], [10.0, -3.0])
    with pytest.raises(ValueError, match="population mean spend is infinite"):
        GammaGamma(p=2.0, q=0.8, gamma=10.0).conditional_expected_spend([1], [10.0])


def test_mbg_nbd_reproduces_the_published_cdnow_fit(cdnow: pd.DataFrame) -> None:
    """BTYDplus's MBG/NBD estimates on the CDNOW summary: r 0.525, alpha 6.183, a 0.891, b 1.614."""
    model = fit_mbg_nbd(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    np.testing.assert_allclose([model.r, model.alpha, model.a, model.b], [0.525, 6.183, 0.891, 1.614], atol=2e-3)


def test_mbg_nbd_lets_a_one_time_buyer_seen_long_ago_be_gone(cdnow: pd.DataFrame, cdnow_model: BetaGeometricNBD) -> None:
    model = fit_mbg_nbd(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    one_time = model.probability_alive([0, 0, 0], [0, 0, 0], [1.0, 20.0, 60.0])
    assert (one_time < 1).all() and one_time[0] > one_time[1] > one_time[2]
    assert cdnow_model.probability_alive([0], [0], [60.0])[0] == 1.0  # what BG/NBD says instead
    # Repeat buyers behave as under BG/NBD: a recent repeat keeps them alive.
    assert model.probability_alive([3], [50.0], [52.0])[0] > model.probability_alive([3], [5.0], [52.0])[0]
    expected = model.expected_purchases(52.0, cdnow["frequency"], cdnow["recency"], cdnow["T"])
    assert np.isfinite(expected).all() and (expected >= 0).all()


def test_the_served_probability_alive_of_one_time_buyers_falls_with_time_since_their_order(cdnow: pd.DataFrame) -> None:
    """The baseline behind `probability_alive`: a one-time buyer of a year ago is not as alive as
    one of last week (BG/NBD said 1.0 for both)."""
    import polars as pl

    from ml.btyd_baseline import BuyTillYouDieBaseline, fit_btyd_baseline

    orders = cdnow["frequency"] + 1
    frame = pl.DataFrame({
        "orders_lifetime": orders, "days_since_first_order": cdnow["T"] * 7,
        "days_since_last_order": (cdnow["T"] - cdnow["recency"]) * 7, "net_revenue_usd_lifetime": orders * 20.0,
    })
    baseline = fit_btyd_baseline(frame)
    one_time = pl.DataFrame({"orders_lifetime": [1, 1], "days_since_first_order": [7, 365], "days_since_last_order": [7, 365],
                             "net_revenue_usd_lifetime": [20.0, 20.0]})
    recent, old = baseline.probability_alive(one_time)
    assert 1 > recent > old
    # Saved and read back, it says the same; a baseline saved before MBG/NBD still reads.
    assert BuyTillYouDieBaseline.from_dict(baseline.to_dict()).probability_alive(one_time).tolist() == [recent, old]
    legacy = {key: value for key, value in baseline.to_dict().items() if key != "mbg_nbd"}
    assert BuyTillYouDieBaseline.from_dict(legacy).probability_alive(one_time).tolist() == [1.0, 1.0]


def test_mbg_nbd_probability_of_no_purchase_matches_its_expected_purchases_at_the_extremes(cdnow: pd.DataFrame) -> None:
    model = fit_mbg_nbd(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    x, t_x, T = [0, 2, 5], [0.0, 30.0, 10.0], [60.0, 38.0, 60.0]
    assert np.allclose(model.probability_no_purchase(0.0, x, t_x, T), 1.0)  # an empty window holds no purchase
    quiet = model.probability_no_purchase(26.0, x, t_x, T)
    assert ((quiet > 1 - model.probability_alive(x, t_x, T)) & (quiet < 1)).all()  # gone, or alive and quiet
    # The active repeat buyer is the least likely to stay quiet.
    assert quiet[1] == quiet.min()

"""Sample-ratio mismatch: arms whose sizes are off from the configured split mean something broke.

A 50/50 experiment that ends 55/45 lost customers from one arm (a redirect that fails, logging that
drops one variant, bots filtered in one arm only), and those are rarely lost at random, so its lift
cannot be trusted. The usual threshold is p < 0.001: at millions of customers an honest split still
drifts by chance, and a false alarm stops a good experiment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from scipy import stats

from ml.measurement.assignment import validate_shares

SRM_THRESHOLD = 0.001


@dataclass(frozen=True)
class SampleRatioCheck:
    """Observed against expected customers per arm, the chi-square p-value and the verdict."""

    observed: dict[str, int]
    expected: dict[str, float]
    p_value: float | None
    mismatch: bool
    message: str


def check_sample_ratio(observed: Mapping[str, int], shares: Mapping[str, float], *, threshold: float = SRM_THRESHOLD) -> SampleRatioCheck:
    """Chi-square goodness of fit of the customers counted per arm against the configured `shares`;
    a mismatch when p < `threshold`. Arms configured but absent from `observed` count as 0."""
    shares = validate_shares(shares)
    unknown = sorted(set(observed) - set(shares))
    if unknown:
        raise ValueError(f"customers counted in arms that are not configured: {unknown}")
    counts = {arm: int(observed.get(arm, 0)) for arm in shares}
    total = sum(counts.values())
    # Normalised: shares summing to 1 only within the tolerance would trip chisquare's check that totals agree.
    expected = {arm: total * share / sum(shares.values()) for arm, share in shares.items()}
    if total == 0:
        return SampleRatioCheck(counts, expected, None, False, "no customers counted yet: nothing to check")
    # An arm configured at 0% has nothing to test unless it has customers, which is a mismatch outright.
    leaked = [arm for arm in shares if shares[arm] == 0 and counts[arm] > 0]
    tested = [arm for arm in shares if shares[arm] > 0]
    p_value = 0.0 if leaked else _chi_square_p([counts[arm] for arm in tested], [expected[arm] for arm in tested])
    mismatch = p_value < threshold
    detail = "; ".join(f"{arm} {counts[arm]:,} observed vs {expected[arm]:,.0f} expected" for arm in shares)
    if mismatch:
        message = (f"sample ratio mismatch (p = {p_value:.2g} < {threshold:g}): {detail}. "
                   "Customers were lost or added unevenly between arms; do not trust this experiment's lift until the cause is found.")
    else:
        message = f"arm sizes match the expected split (p = {p_value:.2g}): {detail}"
    return SampleRatioCheck(counts, expected, p_value, mismatch, message)


def _chi_square_p(counts: list[int], expected: list[float]) -> float:
    if len(counts) < 2:
        return 1.0  # one arm takes everyone: nothing can be off
    return float(stats.chisquare(counts, expected).pvalue)

"""The one place cxp reaches into Splink's internals: its exception type and a floor under the m
probabilities its EM estimates. `tests/identity/test_splink_internals.py` fails when either changes.

Why a floor: EM drives the m probability of a level it never sees among matches toward zero, by
orders of magnitude each iteration (a birthdate "same year, another date" at 1e-152 after eight
iterations on the 10,000-person demo). Such a level then vetoes a pair whatever else agrees, the
single-field veto the model is meant not to have; and once a value passes 1e-300, Splink 5 refuses
it (`ValueError: m_probability value 3.5e-323 is below the minimum allowed value`) and the night's
whole model is lost (a 1,500-person demo fell back to deterministic rules every night). Splink
offers no floor of its own: an m probability can be fixed, not bounded.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import splink.internals.expectation_maximisation as _expectation_maximisation
from splink.internals.exceptions import SplinkException

__all__ = ["SplinkException", "m_probability_floor"]

_PRIOR_RECORD = "_probability_two_random_records_match"
_patching = threading.Lock()


@contextmanager
def m_probability_floor(floor: float) -> Iterator[None]:
    """While open, every m probability Splink's EM estimates is at least `floor`: a level never seen
    among matches weighs at most log2(floor / u) against a pair, strong but not absolute evidence.

    Wraps `splink.internals.expectation_maximisation.maximisation_step`, which the EM loop calls by
    its module name with the estimated `param_records`. One training at a time per process.
    """
    with _patching:
        original = _expectation_maximisation.maximisation_step

        def floored_maximisation_step(training_fixed_probabilities: set[str], core_model_settings: Any,
                                      param_records: list[dict[str, Any]]) -> Any:
            records = [
                record if record["output_column_name"] == _PRIOR_RECORD or not record["m_probability"] < floor
                else {**record, "m_probability": floor}
                for record in param_records
            ]
            return original(training_fixed_probabilities, core_model_settings, records)

        _expectation_maximisation.maximisation_step = floored_maximisation_step
        try:
            yield
        finally:
            _expectation_maximisation.maximisation_step = original

"""The Splink internals cxp relies on (`dagster_project/identity/splink_internals.py`): these fail when
Splink changes under us (its exception type by this file's import of the adapter), and say whether the
EM floor is still needed."""

import contextlib

import duckdb
import polars as pl
import pytest
import splink.comparison_level_library as cll
import splink.comparison_library as cl
import splink.internals.expectation_maximisation as expectation_maximisation
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

from dagster_project.identity.splink_internals import m_probability_floor

FLOOR = 1e-4


def _people() -> pl.DataFrame:
    """300 people, each twice, alike in everything; ten surnames, so blocking on the surname pairs
    each record with its twin and with ~60 strangers, who differ in first name and birthdate and
    often share a city's first letter, a level no matching pair ever shows."""
    rows = []
    for person in range(300):
        for copy in range(2):
            rows.append({"unique_id": f"{person}-{copy}", "first_name": f"f{person}", "surname": f"s{person % 10}",
                         "city": f"{'abcdefgh'[person * 7 % 8]}{person % 6}",
                         "dob": f"19{50 + person % 40}-0{1 + person % 9}-1{person % 10}"})
    return pl.DataFrame(rows)


def _train(floor: float | None) -> dict[tuple[str, str], float | None]:
    """EM blocked on surname, run for 60 iterations (no convergence stop); the trained m probabilities by level."""
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.ExactMatch("first_name"),
            cl.ExactMatch("dob"),
            cl.CustomComparison(output_column_name="city", comparison_levels=[
                cll.NullLevel("city"), cll.ExactMatchLevel("city"),
                {"sql_condition": "substr(city_l, 1, 1) = substr(city_r, 1, 1)", "label_for_charts": "same first letter"},
                cll.ElseLevel(),
            ]),
        ],
        blocking_rules_to_generate_predictions=[block_on("surname")],
        max_iterations=60, em_convergence=0,
    )
    with duckdb.connect() as connection:
        connection.register("people_frame", _people().to_arrow())
        connection.execute("create table people as select * from people_frame")
        linker = Linker(DuckDBAPI(connection).register("people"), settings, log_level=None)
        linker.training.estimate_u_using_random_sampling(max_pairs=1e5, seed=1)
        with contextlib.nullcontext() if floor is None else m_probability_floor(floor):
            linker.training.estimate_parameters_using_expectation_maximisation("l.surname = r.surname")
        model = linker.misc.save_model_to_json()
    return {(comparison["output_column_name"], level["label_for_charts"]): level.get("m_probability")
            for comparison in model["comparisons"] for level in comparison["comparison_levels"]}


def test_without_a_floor_splink_em_refuses_a_level_it_drives_to_zero():
    # Splink 5.0's behaviour, the reason for the floor: if this stops raising, Splink bounds m itself.
    with pytest.raises(ValueError, match="below the minimum allowed value"):
        _train(floor=None)


def test_with_the_floor_em_trains_and_no_level_weighs_more_than_the_floor_allows():
    trained = _train(FLOOR)
    assert trained[("city", "same first letter")] == FLOOR
    assert trained[("first_name", "All other comparisons")] == FLOOR
    assert trained[("city", "Exact match on city")] > 0.99
    assert all(m is None or m >= FLOOR for m in trained.values())
    # Splink's own step is back in place once training is over.
    assert expectation_maximisation.maximisation_step.__name__ == "maximisation_step"


"""The demo's US names come at census frequencies, so namesakes are as common as in reality."""

import numpy as np
import polars as pl
import pytest

from dagster_project.demo_exports.census_names import census_first_names, census_last_names
from dagster_project.demo_exports.name_pools import build_pools


def test_the_names_package_still_ships_the_1990_census_lists() -> None:
    last, first = census_last_names(), census_first_names()
    assert len(last.names) == 88_799 and last.names[0] == "Smith"
    # SMITH 1.006% of all people; the list covers 79.59% of them.
    assert last.probabilities[0] == pytest.approx(1.006 / 79.59, rel=1e-3)
    assert {"McDonald", "Johnson", "Nguyen"} <= set(last.names)
    assert {"James", "Mary", "Jennifer"} <= set(first.names) and len(first.names) > 5_000
    for frequencies in (last, first):
        assert frequencies.probabilities.sum() == pytest.approx(1.0)
        assert len(set(frequencies.names)) == len(frequencies.names)


def test_a_hundred_thousand_us_people_share_full_names_as_often_as_census_names_do() -> None:
    # Drawn from the census lists, about 15% of 100,000 people share their full name with someone
    # else (10% if the fifth of people outside the surname list had names of their own); Faker's
    # short lists made it 42%, namesakes no real customer base has.
    rng = np.random.default_rng(3)
    pool = build_pools({"US": 100_000}, rng)["US"]
    people = pl.DataFrame({"first": pool.first_names.draw(rng, 100_000), "last": pool.last_names.draw(rng, 100_000)})
    sharing = people.select(pl.struct("first", "last").is_duplicated().mean()).item()
    assert 0.10 < sharing < 0.20, sharing

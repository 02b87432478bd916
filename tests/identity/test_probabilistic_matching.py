"""Splink matching on hand-made pairs, trained (u by sampling, m by EM) on a seeded synthetic crowd."""

import random
from datetime import date, timedelta

import polars as pl
import pytest

from dagster_project.defs.identity.probabilistic_matching import (
    MatchingSettings,
    score_record_pairs,
    select_match_edges,
)

FIRST_NAMES = (
    "james mary robert patricia michael linda william elizabeth david barbara richard susan joseph jessica "
    "thomas sarah charles karen christopher nancy daniel lisa matthew betty anthony margaret mark sandra "
    "donald ashley steven kimberly paul emily andrew donna joshua michelle kenneth carol kevin amanda brian "
    "melissa george deborah timothy stephanie ronald rebecca edward sharon jason laura jeffrey cynthia"
).split()
LAST_NAMES = (
    "smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez gonzalez "
    "wilson anderson thomas taylor moore jackson martin lee perez thompson white harris sanchez clark "
    "ramirez lewis robinson walker young allen king wright scott torres nguyen hill flores green adams "
    "nelson baker hall rivera campbell mitchell carter roberts gomez phillips evans turner diaz parker "
    "cruz edwards collins reyes stewart morris morales murphy cook rogers gutierrez ortiz morgan cooper"
).split()
STREETS = "oak pine maple cedar elm view washington lake hill park main church willow river spring".split()
SUFFIXES = ("st", "ave", "rd", "dr", "ln", "ct")
CITIES = "springfield riverside franklin greenville bristol clinton fairview salem madison georgetown".split()
COLUMNS = ("record_id", "first_name", "last_name", "email", "phone_e164", "street", "postcode", "city", "birthdate")


def typo(name: str, rng: random.Random) -> str:
    """One swapped pair of neighbouring letters."""
    i = rng.randrange(1, len(name) - 1)
    return name[:i] + name[i + 1] + name[i] + name[i + 2:]


def synthetic_crowd(people: int, seed: int) -> list[dict]:
    """Records of `people` seeded people, one to four each, with the gaps and slips of real sources."""
    rng = random.Random(seed)
    records = []
    for person in range(people):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        truth = {
            "first_name": first, "last_name": last,
            "email": f"{first}.{last}{person}@example.com",
            "phone_e164": f"+1555{rng.randrange(10**7):07d}",
            "street": f"{rng.randrange(1, 9999)} {rng.choice(STREETS)} {rng.choice(SUFFIXES)}",
            "postcode": f"{rng.randrange(10**5):05d}", "city": rng.choice(CITIES),
            "birthdate": date(1940, 1, 1) + timedelta(days=rng.randrange(60 * 365)),
        }
        for copy in range(rng.choice((1, 2, 2, 3, 4))):
            record = dict(truth, record_id=f"synthetic:{person}-{copy}")
            for column, missing in (("email", 0.3), ("phone_e164", 0.4), ("birthdate", 0.5), ("street", 0.1)):
                if rng.random() < missing:
                    record[column] = None
            if rng.random() < 0.05:
                record.update(street=None, postcode=None, city=None)
            if rng.random() < 0.05:
                record["first_name"] = typo(first, rng)
            records.append(record)
    return records


# Hand-made records, names kept out of the crowd's pools so that only the intended pairs can meet.
HAND_MADE = [
    # A typo in the first name, same birthdate and postcode; the street is known on one side only.
    dict(record_id="typo:a", first_name="marjorie", last_name="fitzwilliam", email="marjorie.f@example.org",
         phone_e164=None, street="12 peachtree st", postcode="30309", city="atlanta", birthdate=date(1961, 3, 14)),
    dict(record_id="typo:b", first_name="marjroie", last_name="fitzwilliam", email=None,
         phone_e164=None, street=None, postcode="30309", city="atlanta", birthdate=date(1961, 3, 14)),
    # Two John Smiths: same common name, nothing else in common.
    dict(record_id="namesake:a", first_name="john", last_name="smith", email="john.smith@example.org",
         phone_e164="+15550000001", street="1 first ave", postcode="10001", city="new york", birthdate=date(1970, 1, 1)),
    dict(record_id="namesake:b", first_name="john", last_name="smith", email="jsmith@example.net",
         phone_e164="+15550000002", street="99 bay rd", postcode="94110", city="san francisco", birthdate=date(1988, 7, 30)),
    # No email or phone on either side: name, birthdate and address only.
    dict(record_id="no_contact:a", first_name="cornelius", last_name="vanderbeek", email=None,
         phone_e164=None, street="400 harbor dr", postcode="02110", city="boston", birthdate=date(1955, 11, 2)),
    dict(record_id="no_contact:b", first_name="cornelius", last_name="vanderbeek", email=None,
         phone_e164=None, street="400 harbor dr", postcode="02110", city="boston", birthdate=date(1955, 11, 2)),
]


@pytest.fixture(scope="module")
def scored_pairs() -> pl.DataFrame:
    """Pairs scored by a model trained on 300 synthetic people plus the hand-made records."""
    nodes = pl.DataFrame(synthetic_crowd(300, seed=11) + HAND_MADE, schema={
        "record_id": pl.String, "first_name": pl.String, "last_name": pl.String, "email": pl.String,
        "phone_e164": pl.String, "street": pl.String, "postcode": pl.String, "city": pl.String, "birthdate": pl.Date,
    })
    return score_record_pairs(nodes, MatchingSettings(max_pairs_for_u_estimation=2e6))


def is_edge(pairs: pl.DataFrame, left: str, right: str) -> bool:
    edges = select_match_edges(pairs)
    return edges.filter(
        ((pl.col("record_id_l") == left) & (pl.col("record_id_r") == right))
        | ((pl.col("record_id_l") == right) & (pl.col("record_id_r") == left))
    ).height == 1


def test_name_typo_with_same_birthdate_and_postcode_is_a_match(scored_pairs: pl.DataFrame) -> None:
    assert is_edge(scored_pairs, "typo:a", "typo:b")


def test_same_common_name_with_nothing_else_in_common_is_not_a_match(scored_pairs: pl.DataFrame) -> None:
    assert not is_edge(scored_pairs, "namesake:a", "namesake:b")


def test_records_without_email_or_phone_match_on_name_birthdate_and_address(scored_pairs: pl.DataFrame) -> None:
    assert is_edge(scored_pairs, "no_contact:a", "no_contact:b")


def test_synthetic_duplicates_are_found_with_few_false_matches(scored_pairs: pl.DataFrame) -> None:
    edges = select_match_edges(scored_pairs).filter(pl.col("record_id_l").str.starts_with("synthetic:"))
    same_person = edges.select(
        pl.col("record_id_l").str.extract(r"(\d+)-") == pl.col("record_id_r").str.extract(r"(\d+)-")
    ).to_series()
    assert same_person.mean() >= 0.98
    assert same_person.sum() >= 300


def test_each_comparison_keeps_its_match_weight(scored_pairs: pl.DataFrame) -> None:
    weights = [column for column in scored_pairs.columns if column.endswith("_match_weight")]
    assert weights == [f"{name}_match_weight" for name in
                       ("first_name", "last_name", "birthdate", "address", "phone", "email")]
    assert scored_pairs["match_probability"].min() >= MatchingSettings().score_floor


def test_scoring_is_reproducible() -> None:
    nodes = pl.DataFrame(synthetic_crowd(150, seed=3), schema_overrides={"birthdate": pl.Date})
    settings = MatchingSettings(max_pairs_for_u_estimation=1e5)
    first, second = (score_record_pairs(nodes, settings).sort("record_id_l", "record_id_r") for _ in range(2))
    assert first.equals(second)

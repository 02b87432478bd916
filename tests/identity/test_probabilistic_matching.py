"""Splink matching on hand-made pairs, trained (u by sampling, m by EM) on a seeded synthetic crowd;
the cluster-level closure edges on hand-made scored pairs."""

import random
from dataclasses import replace
from datetime import date, datetime, timedelta

import polars as pl
import pytest

from dagster_project.identity.identity_graph import graph_edges
from dagster_project.identity.match_comparisons import COMPARISONS, SURNAME_IN_PLACE_LABEL
from dagster_project.identity.match_model import MatchingSettings, TooLittleEvidence, read_nickname_seed
from dagster_project.identity.match_selection import label_match_decisions, select_match_edges
from dagster_project.identity.pair_scoring import comparisons_without_data, matching_input, score_record_pairs
from dagster_project.settings import load_settings

# The nickname list the pipeline uses: the dbt seed.
NICKNAMES = read_nickname_seed(load_settings().dbt_project_dir / "seeds" / "first_name_nicknames.csv")

SCHEMA = {
    "record_id": pl.String, "first_name": pl.String, "last_name": pl.String, "email": pl.String,
    "phone_e164": pl.String, "street": pl.String, "postcode": pl.String, "city": pl.String, "birthdate": pl.Date,
}

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
            day = record["birthdate"].day if record["birthdate"] else 30
            if day != 30 and rng.random() < 0.05:  # the day's last digit typed wrong
                record["birthdate"] = record["birthdate"].replace(day=day - 1 if day % 10 == 9 or day >= 28 else day + 1)
            if rng.random() < 0.1:  # moved house
                record.update(street=f"{rng.randrange(1, 9999)} {rng.choice(STREETS)} {rng.choice(SUFFIXES)}",
                              postcode=f"{rng.randrange(10**5):05d}", city=rng.choice(CITIES))
            records.append(record)
    return records


def one_address_no_birthdates(case: str, phone: str, address: tuple[str, str, str],
                              *names: tuple[str | None, str | None, str | None]) -> list[dict]:
    """Records `<case>:a`, `<case>:b`, … sharing a phone and an address (street, postcode, city),
    with no birthdate; each given its (first name, last name, email)."""
    street, postcode, city = address
    return [dict(record_id=f"{case}:{suffix}", first_name=first, last_name=last, email=email, phone_e164=phone,
                 street=street, postcode=postcode, city=city, birthdate=None)
            for suffix, (first, last, email) in zip("abcdefgh", names)]


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
    # The first name left empty on one side; last name, birthdate and address agree.
    dict(record_id="missing_first:a", first_name="philippa", last_name="oyelaran", email=None,
         phone_e164=None, street="8 quarry ln", postcode="55401", city="minneapolis", birthdate=date(1979, 6, 21)),
    dict(record_id="missing_first:b", first_name=None, last_name="oyelaran", email=None,
         phone_e164=None, street="8 quarry ln", postcode="55401", city="minneapolis", birthdate=date(1979, 6, 21)),
    # First and last name swapped; birthdate agrees, no address on one side.
    dict(record_id="swapped:a", first_name="ignatius", last_name="okonkwo", email=None,
         phone_e164=None, street="71 delta st", postcode="73301", city="austin", birthdate=date(1966, 2, 9)),
    dict(record_id="swapped:b", first_name="okonkwo", last_name="ignatius", email=None,
         phone_e164=None, street=None, postcode=None, city=None, birthdate=date(1966, 2, 9)),
    # One digit of the birthdate typed wrong; name agrees, no address on one side.
    dict(record_id="birthdate_digit:a", first_name="evangeline", last_name="thistlewood", email=None,
         phone_e164=None, street="5 crane ct", postcode="80202", city="denver", birthdate=date(1984, 7, 16)),
    dict(record_id="birthdate_digit:b", first_name="evangeline", last_name="thistlewood", email=None,
         phone_e164=None, street=None, postcode=None, city=None, birthdate=date(1984, 7, 19)),
    # Moved house: name and birthdate agree, the address is another one altogether.
    dict(record_id="moved:a", first_name="bartholomew", last_name="quennell", email=None,
         phone_e164=None, street="19 birch rd", postcode="97201", city="portland", birthdate=date(1971, 12, 3)),
    dict(record_id="moved:b", first_name="bartholomew", last_name="quennell", email=None,
         phone_e164=None, street="640 canal st", postcode="70130", city="new orleans", birthdate=date(1971, 12, 3)),
    # A building line on one record only and the postcode's digits transposed (FEBRL's slips): the
    # first name left out on that record; the birthdate agrees.
    dict(record_id="building_line:a", first_name="rosalind", last_name="ekwueme", email=None, phone_e164=None,
         street="7 ruthven st walnut grove estate", postcode="57230", city="mount barker", birthdate=date(1962, 8, 5)),
    dict(record_id="building_line:b", first_name=None, last_name="ekwueme", email=None, phone_e164=None,
         street="7 ruthven st", postcode="57320", city="mt barker", birthdate=date(1962, 8, 5)),
    # A typo in the street and one in the postcode; another last name (married), the birthdate agrees.
    dict(record_id="street_and_postcode_typos:a", first_name="jessamy", last_name="claffington", email=None, phone_e164=None,
         street="102 aronson crescent", postcode="20890", city="lamington", birthdate=date(1943, 11, 26)),
    dict(record_id="street_and_postcode_typos:b", first_name="jessamy", last_name="whitcombe", email=None, phone_e164=None,
         street="102 aronsom crescent", postcode="20809", city="lamingtom", birthdate=date(1943, 11, 26)),
    # A household: same surname, address and phone; different first names and birthdates.
    dict(record_id="household:a", first_name="winifred", last_name="ashdown", email=None,
         phone_e164="+15557770123", street="3 juniper way", postcode="64105", city="kansas city", birthdate=date(1958, 4, 30)),
    dict(record_id="household:b", first_name="leopold", last_name="ashdown", email=None,
         phone_e164="+15557770123", street="3 juniper way", postcode="64105", city="kansas city", birthdate=date(1987, 10, 12)),
    # First and last name swapped, the first name written as a nickname; no birthdate on either side.
    dict(record_id="swapped_nickname:a", first_name="nicholas", last_name="bradshaw", email=None,
         phone_e164="+15553330147", street="27 elm row", postcode="60614", city="chicago", birthdate=None),
    dict(record_id="swapped_nickname:b", first_name="bradshaw", last_name="nick", email=None,
         phone_e164="+15553330147", street="27 elm row", postcode="60614", city="chicago", birthdate=None),
    # Swapped, the first name as a nickname with another initial ("hinton betty" for "elizabeth hinton");
    # the same email and address, no birthdate.
    dict(record_id="swapped_formal_nickname:a", first_name="margaret", last_name="pennywhistle", email="mpw@example.org",
         phone_e164=None, street="9 lark hill", postcode="43215", city="columbus", birthdate=None),
    dict(record_id="swapped_formal_nickname:b", first_name="pennywhistle", last_name="peggy", email="mpw@example.org",
         phone_e164=None, street="9 lark hill", postcode="43215", city="columbus", birthdate=None),
    # A nickname on one record, the formal name with a typo on the other ("lizzie" and "elkizabeth").
    dict(record_id="nickname_typo:a", first_name="peggy", last_name="quartermaine", email=None,
         phone_e164=None, street="14 alder ct", postcode="53703", city="madison", birthdate=None),
    dict(record_id="nickname_typo:b", first_name="margarret", last_name="quartermaine", email=None,
         phone_e164=None, street="14 alder ct", postcode="53703", city="madison", birthdate=None),
    # No first name, the compound surname split across both fields; the same email and address.
    dict(record_id="compound_split:a", first_name="imogen", last_name="holloway brandt", email="ihb@example.org",
         phone_e164=None, street="52 fenwick rd", postcode="27601", city="raleigh", birthdate=None),
    dict(record_id="compound_split:b", first_name="holloway", last_name="brandt", email="ihb@example.org",
         phone_e164=None, street="52 fenwick rd", postcode="27601", city="raleigh", birthdate=None),
    # A household whose second member's names are swapped: "sullivan" stands in Garrett's last
    # name's place, yet Garrett is not Melissa. No birthdates.
    dict(record_id="household_swapped:a", first_name="melissa", last_name="sullivan", email=None,
         phone_e164="+15554440188", street="3671 devin trace", postcode="30303", city="atlanta", birthdate=None),
    dict(record_id="household_swapped:b", first_name="sullivan", last_name="garrett", email=None,
         phone_e164="+15554440188", street="3671 devin trace", postcode="30303", city="atlanta", birthdate=None),
    # The same household on two orders, which carry no birthdate: only the guard can tell them apart.
    dict(record_id="household_order:a", first_name="winifred", last_name="ashdown", email=None,
         phone_e164="+15557770123", street="3 juniper way", postcode="64105", city="kansas city", birthdate=None),
    dict(record_id="household_order:b", first_name="leopold", last_name="ashdown", email=None,
         phone_e164="+15557770123", street="3 juniper way", postcode="64105", city="kansas city", birthdate=None),
    # A household of Mary and Mark: two names alike (Jaro-Winkler 0.88) that many records bear, so no
    # typo of each other.
    *one_address_no_birthdates("household_alike_names", "+15556660190", ("88 tamarack dr", "84101", "salt lake city"),
                               ("mary", "quillfeather", None), ("mark", "quillfeather", None)),
    # A household member who left the first name out of the order, but whose email spells it (Kevin, not Donna).
    *one_address_no_birthdates("household_email_name", "+15556660191", ("5 sorrel ct", "37203", "nashville"),
                               ("donna", "brackenbury", None), (None, "brackenbury", "kevin_brackenbury41@example.net")),
    # The same, when the email spells the first name the other record writes: one person.
    *one_address_no_birthdates("email_name_agrees", "+15556660192", ("61 heron st", "37204", "nashville"),
                               ("donna", "fairweather", None), (None, "fairweather", "donna.fairweather7@example.net")),
    # The household of Donna and Kevin Brackenbury again, both writing from Kevin's mailbox: the
    # email is the rule's to judge, not evidence of another first name.
    *one_address_no_birthdates("household_one_email", "+15556660194", ("9 wren ct", "37205", "nashville"),
                               ("donna", "marchetti", "kevin.marchetti@example.net"), (None, "marchetti", "kevin.marchetti@example.net")),
    # A household member with the names swapped whose first name only shares the other's initial:
    # "marchbank susanne" is not "stephen marchbank".
    *one_address_no_birthdates("household_swapped_initial", "+15556660193", ("17 osprey ln", "43201", "columbus"),
                               ("stephen", "marchbank", None), ("marchbank", "susanne", None)),
]


@pytest.fixture(scope="module")
def scored_pairs() -> pl.DataFrame:
    """Pairs scored by a model trained on 300 synthetic people plus the hand-made records."""
    nodes = pl.DataFrame(synthetic_crowd(300, seed=11) + HAND_MADE, schema=SCHEMA)
    return score_record_pairs(nodes, MatchingSettings(max_pairs_for_u_estimation=2e6, nicknames=NICKNAMES))


def is_edge(pairs: pl.DataFrame, left: str, right: str, nodes: pl.DataFrame | None = None) -> bool:
    edges = select_match_edges(pairs, MatchingSettings(nicknames=NICKNAMES), nodes)
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


def same_person_share(edges: pl.DataFrame) -> pl.Series:
    """Per synthetic edge, whether both records belong to one generated person."""
    return edges.filter(pl.col("record_id_l").str.starts_with("synthetic:")).select(
        pl.col("record_id_l").str.extract(r"(\d+)-") == pl.col("record_id_r").str.extract(r"(\d+)-")
    ).to_series()


def test_synthetic_duplicates_are_found_with_few_false_matches(scored_pairs: pl.DataFrame) -> None:
    same_person = same_person_share(select_match_edges(scored_pairs))
    assert same_person.mean() >= 0.98
    assert same_person.sum() >= 300


def test_records_without_any_email_or_phone_are_matched() -> None:
    """A source with names, birthdates and addresses only: the prior rules that use email find
    nothing, and the model must still be trained and find the duplicates."""
    records = [dict(record, email=None, phone_e164=None) for record in synthetic_crowd(300, seed=5)]
    nodes = pl.DataFrame(records, schema=SCHEMA)
    pairs = score_record_pairs(nodes, MatchingSettings(max_pairs_for_u_estimation=2e6, nicknames=NICKNAMES))
    same_person = same_person_share(select_match_edges(pairs))
    assert same_person.mean() >= 0.98
    assert same_person.sum() >= 200


@pytest.mark.parametrize("left, right, level", [
    # Each pair is held by one level of the model; without it the pair is no match.
    ("missing_first:a", "missing_first:b", "one name missing, the other alike"),
    ("swapped:a", "swapped:b", "first and last name swapped"),
    ("birthdate_digit:a", "birthdate_digit:b", "one digit apart"),
    # No address level opposes it strongly enough to outweigh a name and birthdate that agree.
    ("moved:a", "moved:b", "different"),
    ("building_line:a", "building_line:b", "same number, street words shared"),
    ("street_and_postcode_typos:a", "street_and_postcode_typos:b", "street and postcode each with a typo"),
])
def test_a_garbled_record_joins_its_person(scored_pairs: pl.DataFrame, left: str, right: str, level: str) -> None:
    assert is_edge(scored_pairs, left, right)
    pair = scored_pairs.filter(pl.col("record_id_l").is_in([left, right]), pl.col("record_id_r").is_in([left, right]))
    assert level in pair.select("name_level", "birthdate_level", "address_level").row(0)


def test_a_household_stays_apart(scored_pairs: pl.DataFrame) -> None:
    assert not is_edge(scored_pairs, "household:a", "household:b")
    assert not is_edge(scored_pairs, "household_order:a", "household_order:b")
    assert not is_edge(scored_pairs, "household_swapped:a", "household_swapped:b")


@pytest.mark.parametrize("name, decision", [
    ("household_alike_names", "kept apart: first name different, birthdate missing, the shared phone is the household's"),
    ("household_email_name", "kept apart: first name in the email different, birthdate missing, the shared phone is the household's"),
    # Not the "swapped, first name cut short" level any more, so the pair score itself is low; the
    # guard still judges the phone they share.
    ("household_swapped_initial", "kept apart: whole name different, birthdate missing, the shared phone is the household's"),
])
def test_household_members_with_names_a_typo_could_not_explain_stay_apart(scored_pairs: pl.DataFrame, name: str, decision: str) -> None:
    decided = label_match_decisions(scored_pairs, MatchingSettings(nicknames=NICKNAMES)).filter(
        pl.col("record_id_l").str.starts_with(f"{name}:"), pl.col("record_id_r").str.starts_with(f"{name}:"))
    assert decided["decision"].to_list() == [decision]
    assert not is_edge(scored_pairs, f"{name}:a", f"{name}:b")


def test_a_shared_phone_the_household_guard_keeps_apart_joins_no_one(scored_pairs: pl.DataFrame) -> None:
    """The deterministic rule's edge on a household's phone does not stand once the guard sees two
    people (the email of Kevin, the order signed "Brackenbury" only); one person's phone, and a
    mailbox both records write from, still link."""
    settings = MatchingSettings(nicknames=NICKNAMES)
    rule_edges = pl.DataFrame([
        ("household_email_name:a", "household_email_name:b", "phone"),
        ("email_name_agrees:a", "email_name_agrees:b", "phone"),
        ("household_one_email:a", "household_one_email:b", "phone"),
        ("household_one_email:a", "household_one_email:b", "email"),
    ], schema=["record_id_l", "record_id_r", "match_type"], orient="row")

    def linked(pairs: pl.DataFrame) -> set[str]:
        edges = graph_edges(rule_edges, pairs).filter(pl.col("kind") != "probabilistic")
        return set(edges["record_id_l"].str.split(":").list.first())

    decided = label_match_decisions(scored_pairs, settings)
    assert linked(decided) == {"email_name_agrees", "household_one_email"}
    unguarded = label_match_decisions(scored_pairs, replace(settings, household_guard=False))
    assert linked(unguarded) == {"household_email_name", "email_name_agrees", "household_one_email"}


def test_a_first_name_the_email_spells_as_the_other_record_writes_it_joins_them(scored_pairs: pl.DataFrame) -> None:
    pair = scored_pairs.filter(pl.col("record_id_l").str.starts_with("email_name_agrees:"), pl.col("record_id_r").str.starts_with("email_name_agrees:"))
    assert not pair["email_names_differ"].item()
    assert is_edge(scored_pairs, "email_name_agrees:a", "email_name_agrees:b")


@pytest.mark.parametrize("name, level", [
    ("swapped_nickname", "swapped, first name cut short or a nickname"),
    ("swapped_formal_nickname", "swapped, first name cut short or a nickname"),
    ("compound_split", "the whole name is the other's compound last name"),
    ("nickname_typo", "same last name, nickname of the same first name"),
])
def test_a_name_written_another_way_is_one_person_to_the_household_guard(scored_pairs: pl.DataFrame, name: str, level: str) -> None:
    pair = scored_pairs.filter(pl.col("record_id_l").str.starts_with(f"{name}:"), pl.col("record_id_r").str.starts_with(f"{name}:"))
    assert not pair["first_names_differ"].item()
    assert pair["name_level"].item() == level
    assert is_edge(scored_pairs, f"{name}:a", f"{name}:b")


def test_the_household_guard_is_what_keeps_members_without_birthdates_apart(scored_pairs: pl.DataFrame) -> None:
    settings = MatchingSettings(nicknames=NICKNAMES)
    decided = label_match_decisions(scored_pairs, settings).filter(
        pl.col("record_id_l").str.starts_with("household_order:"), pl.col("record_id_r").str.starts_with("household_order:")
    )
    assert decided["decision"].to_list() == ["kept apart: first name different, birthdate missing, the shared phone is the household's"]
    unguarded = select_match_edges(decided.drop("is_accepted", "decision"), replace(settings, household_guard=False))
    assert unguarded.height == 1


def test_the_address_rounds_em_blocks_keep_a_record_with_its_swapped_and_surname_alone_copies() -> None:
    """EM estimates the name comparison in the address round, on whichever of its blocks fits
    `max_pairs_for_em` (the narrower one at a million records). A block that splits a record from
    its copy with the names swapped, or with the surname alone in the first-name field, hides those
    levels' matches from EM, and their weight falls to the floor (the last name's initial did:
    the swap weighed +1.2 at a million records against +10.6 at 100,000)."""
    address = {"street": "753 smith neck", "postcode": "34735", "city": "hamilton"}
    nodes = pl.DataFrame([
        node("crm:1", "ana", "dowd", **address), node("order:1", "dowd", "ana", **address), node("order:2", "dowd", None, **address),
    ], schema=SCHEMA)
    prepared = matching_input(nodes, MatchingSettings(nicknames=NICKNAMES))
    address_round = next(keys for keys in MatchingSettings().training_rounds if ("postcode",) in keys)
    for key in address_round:
        assert prepared.select(*key).n_unique() == 1, key


def test_each_comparison_keeps_its_match_weight_and_level(scored_pairs: pl.DataFrame) -> None:
    comparisons = ("name", "birthdate", "address", "phone", "email")
    weights = [column for column in scored_pairs.columns if column.endswith("_match_weight")]
    assert weights == [f"{name}_match_weight" for name in comparisons]
    assert [column for column in scored_pairs.columns if column.endswith("_level")] == [f"{name}_level" for name in comparisons]
    levels = {comparison.name: {level.label for level in comparison.levels} | {"missing", "different"} for comparison in COMPARISONS}
    for name in comparisons:
        assert set(scored_pairs[f"{name}_level"].unique()) <= levels[name]
    assert scored_pairs["match_probability"].min() >= MatchingSettings().score_floor


def test_scoring_is_reproducible() -> None:
    nodes = pl.DataFrame(synthetic_crowd(150, seed=3), schema_overrides={"birthdate": pl.Date})
    settings = MatchingSettings(max_pairs_for_u_estimation=1e5, nicknames=NICKNAMES)
    first, second = (score_record_pairs(nodes, settings).sort("record_id_l", "record_id_r") for _ in range(2))
    assert first.equals(second)


# Closure edges: hand-made scored pairs, as score_record_pairs returns them (weights made up).
WEIGHTS = ("name", "birthdate", "address", "phone", "email")


def scored(*rows: tuple) -> pl.DataFrame:
    """Pairs (left, right, probability, {comparison: weight}[, first names differ]); unnamed
    comparisons weigh 0 (null), birthdates are missing, and the name level is `different` where
    the name weighs against."""
    return pl.DataFrame(
        [
            {"record_id_l": left, "record_id_r": right, "match_probability": probability, "match_weight": 0.0,
             **{f"{name}_match_weight": weights.get(name, 0.0) for name in WEIGHTS},
             "name_level": "different" if weights.get("name", 0.0) < 0 else "exact",
             "address_level": "same street and postcode" if weights.get("address", 0.0) > 0 else level(weights.get("address", 0.0)),
             **{f"{name}_level": level(weights.get(name, 0.0)) for name in ("phone", "email")},
             "birthdate_level": "missing", "first_names_differ": bool(differ and differ[0]), "email_names_differ": False}
            for left, right, probability, weights, *differ in rows
        ]
    )


def level(weight: float) -> str:
    """An identifier comparison's level from its made-up weight (its one level above null is `exact`)."""
    return "exact" if weight > 0 else "different" if weight < 0 else "missing"


def node(record_id: str, first: str | None = None, last: str | None = None, **attributes) -> dict:
    return {column: None for column in SCHEMA} | {"record_id": record_id, "first_name": first, "last_name": last} | attributes


def edge_set(pairs: pl.DataFrame, nodes: list[dict]) -> set[tuple[str, str]]:
    edges = select_match_edges(pairs, MatchingSettings(nicknames=NICKNAMES), pl.DataFrame(nodes, schema=SCHEMA))
    return set(edges.iter_rows())


def test_nameless_record_joins_the_one_cluster_holding_its_email() -> None:
    """A SendGrid recipient (an email, nothing else) and two orders of one person with that email."""
    nodes = [
        node("sendgrid:a", email="rw@example.com"),
        node("order:1", "rebecca", "wilson", email="rw@example.com", postcode="27746"),
        node("order:2", "becca", "wilson", email="rw@example.com", postcode="27746"),
    ]
    pairs = scored(
        ("order:1", "order:2", 0.99, {"name": 11.0, "email": 15.0, "address": 5.0}),
        ("order:1", "sendgrid:a", 0.3, {"email": 15.0}),
        ("order:2", "sendgrid:a", 0.3, {"email": 15.0}),
    )
    assert edge_set(pairs, nodes) == {("order:1", "order:2"), ("order:1", "sendgrid:a"), ("order:2", "sendgrid:a")}


def test_nameless_record_of_a_mailbox_two_people_share_stays_apart() -> None:
    nodes = [
        node("sendgrid:info", email="info@acme.com"),
        node("crm:1", "alice", "meyer", email="info@acme.com"),
        node("crm:2", "bruno", "lang", email="info@acme.com"),
    ]
    pairs = scored(
        ("crm:1", "crm:2", 0.4, {"name": -13.0, "email": 15.0}, True),
        ("crm:1", "sendgrid:info", 0.3, {"email": 15.0}),
        ("crm:2", "sendgrid:info", 0.3, {"email": 15.0}),
    )
    assert edge_set(pairs, nodes) == set()


def surname_alone_at(street: str, *people: tuple[str, str]) -> tuple[list[dict], pl.DataFrame]:
    """A guest order signed with a surname alone ("delarosa") at `street`, and a CRM contact per
    (first name, last name) living there, each scored against the order at the pair score such
    pairs get (below the threshold); contacts with different first names are kept apart."""
    nodes = [node("order:1", "delarosa", None, street=street, postcode="72865")] + [
        node(f"crm:{first}", first, last, street=street, postcode="72865") for first, last in people
    ]
    rows = [(f"crm:{first}", "order:1", 0.75, {"name": 2.0, "address": 9.0}) for first, _ in people]
    rows += [(f"crm:{a}", f"crm:{b}", 0.95, {"name": 2.0, "address": 9.0}, True)
             for i, (a, _) in enumerate(people) for b, _ in people[i + 1:]]
    pairs = scored(*rows).with_columns(
        pl.when(pl.col("record_id_r") == "order:1").then(pl.lit(SURNAME_IN_PLACE_LABEL)).otherwise(pl.col("name_level")).alias("name_level"))
    return nodes, pairs


def test_a_surname_alone_at_an_address_joins_the_one_person_of_that_surname_living_there() -> None:
    nodes, pairs = surname_alone_at("32 tammy rue", ("felica", "delarosa"))
    assert edge_set(pairs, nodes) == {("crm:felica", "order:1")}
    # Not where the address differs: the surname alone says nothing more.
    nodes, pairs = surname_alone_at("32 tammy rue", ("felica", "delarosa"))
    assert edge_set(pairs.with_columns(pl.lit("same city").alias("address_level")), nodes) == set()


def test_a_surname_alone_at_a_households_address_stays_apart() -> None:
    nodes, pairs = surname_alone_at("32 tammy rue", ("felica", "delarosa"), ("hector", "delarosa"))
    assert edge_set(pairs, nodes) == set()


def thin_and_full(*others: dict) -> tuple[list[dict], pl.DataFrame]:
    """A support requester (name and an email seen nowhere else) and a CRM contact of that name,
    plus `others`, each scored against the requester on the name alone."""
    nodes = [
        node("zendesk:1", "bob", "quimby", email="bq77@example.net"),
        node("crm:1", "robert", "quimby", email="robert.quimby@example.com", postcode="02110", birthdate=date(1960, 5, 1)),
        *others,
    ]
    pairs = scored(*(
        (other["record_id"], "zendesk:1", 0.2, {"name": 16.0, "email": -2.0}) for other in nodes[1:]
    ))
    return nodes, pairs


def test_thin_record_joins_the_only_other_cluster_with_its_full_name() -> None:
    nodes, pairs = thin_and_full()
    assert edge_set(pairs, nodes) == {("crm:1", "zendesk:1")}


def test_a_thin_record_with_only_an_initial_is_no_full_name_to_join_by() -> None:
    """"m lewis" on a guest order and on one order of Meredith Lewis: any M. Lewis could have placed it."""
    nodes = [node("order:1", "m", "lewis"), node("order:2", "m", "lewis", email="meredith.lewis@example.com", postcode="02110"),
             node("crm:1", "meredith", "lewis", email="meredith.lewis@example.com", postcode="02110")]
    pairs = scored(("order:1", "order:2", 0.5, {"name": 8.0}), ("crm:1", "order:2", 0.999, {"name": 4.0, "email": 9.0, "address": 9.0}))
    assert edge_set(pairs, nodes) == {("crm:1", "order:2")}


def test_thin_record_stays_apart_when_namesakes_are_several() -> None:
    namesake = node("crm:2", "robert", "quimby", postcode="94110", birthdate=date(1984, 9, 9))
    nodes, pairs = thin_and_full(namesake)
    assert edge_set(pairs, nodes) == set()


def test_several_thin_records_join_the_one_cluster_with_substance_bearing_their_name() -> None:
    """Two requesters and a guest order without address, each known by the name and an email
    seen nowhere else, and the one contact of that name with a postcode and birthdate."""
    thin = [node("zendesk:2", "robert", "quimby", email="rq@example.org"), node("order:1", "robert", "quimby")]
    nodes, pairs = thin_and_full(*thin)
    assert edge_set(pairs, nodes) == {("crm:1", "zendesk:1"), ("order:1", "zendesk:1"), ("zendesk:2", "zendesk:1")}


def test_two_full_clusters_with_one_name_are_not_joined_by_the_name() -> None:
    """Both carry an address: their disagreement is evidence, and the pair score has weighed it."""
    nodes = [
        node("crm:1", "robert", "quimby", postcode="02110"),
        node("crm:2", "robert", "quimby", postcode="94110"),
    ]
    pairs = scored(("crm:1", "crm:2", 0.2, {"name": 16.0, "address": -3.0}))
    assert edge_set(pairs, nodes) == set()


def test_every_scored_pair_records_why_it_is_or_is_not_an_edge() -> None:
    pairs = pl.DataFrame({
        "record_id_l": ["a", "c", "e", "g", "i"], "record_id_r": ["b", "d", "f", "h", "j"],
        "match_probability": [0.99, 0.999, 0.5, 0.999, 0.999],
        "name_match_weight": [3.0, -2.5, 1.0, -2.5, -5.0], "birthdate_match_weight": [0.0, -4.0, 0.0, 6.0, 4.0],
        "name_level": ["exact", "same last name, another first name", "exact", "same last name, another first name", "different"],
        "birthdate_level": ["missing", "different", "missing", "exact", "one digit apart"],
        "first_names_differ": [False, True, False, True, True], "email_names_differ": [False] * 5,
        "phone_level": ["missing"] * 5, "email_level": ["missing"] * 5,
    })
    decided = label_match_decisions(pairs, MatchingSettings(match_threshold=0.88, nicknames=NICKNAMES))
    assert decided.select("record_id_l", "is_accepted", "decision").rows() == [
        ("a", True, "accepted"),
        # Two pieces of evidence against: another first name and another birthdate.
        ("c", False, "kept apart: first name different, birthdate different"),
        ("e", False, "below threshold"),
        # Another first name alone is not enough when the birthdate agrees.
        ("g", True, "accepted"),
        # A whole other name (a household's two members born on one day of different years) is:
        # a birthdate one slip apart vouches only for a name that agrees in part.
        ("i", False, "kept apart: whole name different, birthdate one digit apart"),
    ]


def test_a_record_without_a_full_name_does_not_join_two_people_of_a_household() -> None:
    """"T. Morales" at the Morales' address matches Teresa and Tina alike; the two are kept apart."""
    nodes = [
        node("crm:teresa", "teresa", "morales", street="6 joseph st", postcode="78960", birthdate=date(1957, 6, 19)),
        node("crm:tina", "tina", "morales", street="6 joseph st", postcode="78960", birthdate=date(1969, 12, 10)),
        node("order:t", "t", "morales", street="6 joseph st", postcode="78960"),
        node("order:teresa", "teresa", "morales", street="6 joseph st", postcode="78960"),
    ]
    pairs = scored(
        ("crm:teresa", "order:t", 0.99, {"name": 6.0, "address": 9.0}),
        ("crm:tina", "order:t", 0.99, {"name": 6.0, "address": 9.0}),
        ("crm:teresa", "order:teresa", 0.999, {"name": 9.0, "address": 9.0}),
        ("crm:teresa", "crm:tina", 0.95, {"name": 4.0, "address": 9.0, "birthdate": -8.0}, True),
    ).with_columns(
        pl.when(pl.col("record_id_r") == "crm:tina").then(pl.lit("different")).otherwise(pl.col("birthdate_level"))
        .alias("birthdate_level")
    )
    assert edge_set(pairs, nodes) == {("crm:teresa", "order:teresa")}
    decided = label_match_decisions(pairs, MatchingSettings(nicknames=NICKNAMES), pl.DataFrame(nodes, schema=SCHEMA))
    assert set(decided.filter(pl.col("record_id_r") == "order:t")["decision"]) == {"left apart: no full name, between two people"}


def test_a_record_without_a_full_name_whose_birthdate_is_one_household_members_joins_that_one() -> None:
    """"Morales", born 1957-06-19, at the Morales' address: Teresa's birthdate, not Tina's."""
    nodes = [
        node("crm:teresa", "teresa", "morales", street="6 joseph st", postcode="78960", birthdate=date(1957, 6, 19)),
        node("crm:tina", "tina", "morales", street="6 joseph st", postcode="78960", birthdate=date(1969, 12, 10)),
        node("crm:morales", None, "morales", street="6 joseph st", postcode="78960", birthdate=date(1957, 6, 19)),
    ]
    levels = {"crm:teresa": "exact", "crm:tina": "different"}
    pairs = scored(
        ("crm:teresa", "crm:morales", 0.999, {"name": 4.0, "address": 9.0, "birthdate": 8.0}),
        ("crm:tina", "crm:morales", 0.99, {"name": 4.0, "address": 9.0, "birthdate": -3.0}),
    ).with_columns(pl.col("record_id_l").replace_strict(levels).alias("birthdate_level"))
    assert edge_set(pairs, nodes) == {("crm:teresa", "crm:morales")}
    # Without a birthdate on Tina's side, nothing says which of the two it is.
    unknown = pairs.with_columns(pl.when(pl.col("record_id_l") == "crm:tina").then(pl.lit("missing"))
                                 .otherwise(pl.col("birthdate_level")).alias("birthdate_level"))
    assert edge_set(unknown, nodes) == set()


def test_a_record_without_a_full_name_joins_the_one_person_it_reaches() -> None:
    nodes = [
        node("crm:teresa", "teresa", "morales", street="6 joseph st", postcode="78960", birthdate=date(1957, 6, 19)),
        node("order:t", "t", "morales", street="6 joseph st", postcode="78960"),
    ]
    pairs = scored(("crm:teresa", "order:t", 0.99, {"name": 6.0, "address": 9.0}))
    assert edge_set(pairs, nodes) == {("crm:teresa", "order:t")}


def moved_or_namesake(first: tuple[int, int], second: tuple[int, int], others: int = 1000, sharing: int = 4
                      ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Two Robert Quimbys, each a CRM contact and an order at one address (a birthdate on one side
    only), last seen in the given months of 2024, among `others` contacts of whom `sharing` are
    other Roberts and `sharing` other Quimbys. By default the name is neither rare (another Robert
    Quimby is expected 0.06 times, above `max_expected_namesakes`) nor common."""
    schema = SCHEMA | {"last_seen_at": pl.Datetime("us")}
    records = [
        node(f"{kind}:{person}", "robert", "quimby", street=street, postcode=postcode,
             birthdate=date(1960, 5, 1) if kind == "crm" and person == 1 else None)
        | {"last_seen_at": datetime(2024, month, 1)}
        for person, street, postcode, months in ((1, "1 elm st", "02110", first), (2, "9 bay rd", "94110", second))
        for kind, month in zip(("crm", "order"), months)
    ]
    names = [("robert", f"x{k}") if k < sharing else (f"y{k}", "quimby") if k < 2 * sharing else (f"y{k}", f"x{k}") for k in range(others)]
    records += [node(f"crm:x{k}", first_name, last_name, postcode=f"{k:05d}") | {"last_seen_at": datetime(2024, 1, 1)}
                for k, (first_name, last_name) in enumerate(names)]
    pairs = scored(
        ("crm:1", "order:1", 0.999, {"name": 9.0, "address": 9.0}),
        ("crm:2", "order:2", 0.999, {"name": 9.0, "address": 9.0}),
        ("crm:1", "crm:2", 0.03, {"name": 9.0, "address": -4.0}),
    )
    return pl.DataFrame(records, schema=schema), pairs


def test_two_bearers_of_a_name_seen_one_after_the_other_at_two_addresses_are_one_mover() -> None:
    nodes, pairs = moved_or_namesake(first=(1, 3), second=(6, 9))
    edges = set(select_match_edges(pairs, MatchingSettings(nicknames=NICKNAMES), nodes).iter_rows())
    assert ("crm:1", "crm:2") in edges


def test_two_bearers_of_a_common_name_seen_one_after_the_other_stay_two_people() -> None:
    # Half of twenty others are Roberts, half Quimbys: two Robert Quimbys are no surprise.
    nodes, pairs = moved_or_namesake(first=(1, 3), second=(6, 9), others=20, sharing=10)
    edges = set(select_match_edges(pairs, MatchingSettings(nicknames=NICKNAMES), nodes).iter_rows())
    assert edges == {("crm:1", "order:1"), ("crm:2", "order:2")}


def test_two_bearers_of_a_name_seen_side_by_side_stay_two_people() -> None:
    nodes, pairs = moved_or_namesake(first=(1, 9), second=(3, 6))
    edges = set(select_match_edges(pairs, MatchingSettings(nicknames=NICKNAMES), nodes).iter_rows())
    assert edges == {("crm:1", "order:1"), ("crm:2", "order:2")}


@pytest.mark.parametrize("absent", [
    ("street", "postcode", "city"),
    ("birthdate",),
    ("email", "phone_e164"),
    ("street", "postcode", "city", "birthdate", "phone_e164"),  # a shop export: names and emails
])
def test_the_model_trains_on_whatever_the_exports_carry(absent: tuple[str, ...]) -> None:
    nodes = pl.DataFrame(synthetic_crowd(450, seed=3), schema=SCHEMA)
    nodes = nodes.with_columns(pl.lit(None, dtype=nodes.schema[column]).alias(column) for column in absent)
    pairs = score_record_pairs(nodes, MatchingSettings(max_pairs_for_u_estimation=2e6, nicknames=NICKNAMES))
    edges = select_match_edges(pairs, MatchingSettings(nicknames=NICKNAMES))
    assert edges.height > 100
    assert same_person_share(edges).mean() > 0.95


def test_names_alone_are_too_little_evidence_to_train_and_say_so() -> None:
    nodes = pl.DataFrame(synthetic_crowd(450, seed=3), schema=SCHEMA)
    nodes = nodes.with_columns(
        pl.lit(None, dtype=nodes.schema[c]).alias(c) for c in ("street", "postcode", "city", "birthdate", "phone_e164", "email")
    )
    assert comparisons_without_data(nodes) == ["birthdate", "address", "phone", "email"]
    with pytest.raises(TooLittleEvidence, match="carry name only"):
        score_record_pairs(nodes, MatchingSettings(nicknames=NICKNAMES))

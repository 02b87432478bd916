"""The probabilistic match model's definition: its settings, the blocking and training rules, the
Splink settings built from them, and the name forms (nicknames) the rules and comparisons read.

Plain functions, no Dagster: the identity assets wrap them.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
from splink import SettingsCreator
from splink.blocking_rule_library import CustomRule

from dagster_project.identity.match_comparisons import COMPARISONS


def read_nickname_seed(path: Path) -> tuple[tuple[str, str], ...]:
    """(first_name, nickname) rows of the dbt seed `first_name_nicknames.csv`, for callers outside
    the pipeline (which reads the loaded seed table): one nickname list for rules and matcher."""
    with path.open(encoding="utf-8", newline="") as seed:
        return tuple((row["first_name"], row["nickname"]) for row in csv.DictReader(seed))


class TooLittleEvidence(Exception):
    """The data cannot train a match model (the message says why): only deterministic rules apply."""


# Each rule is cheap (an equi-join on a selective key); together they find nearly every true pair,
# also where one field is garbled: a typo in the name leaves the birthdate or the street, a move
# leaves the name and birthdate, swapped first and last names meet each other. Blocking recall
# against the demo's and FEBRL's truth is measured by `cxp eval identity` and bench/.
PREDICTION_BLOCKING_RULES = (
    "l.email = r.email",
    "l.phone_e164 = r.phone_e164",
    "l.postcode = r.postcode and l.last_name_initial = r.last_name_initial",
    "l.postcode = r.postcode and l.formal_first_name = r.formal_first_name",
    "l.birthdate = r.birthdate",
    "l.last_name = r.last_name and l.city = r.city",
    "l.formal_first_name = r.formal_first_name and l.last_name = r.last_name",
    "l.first_name = r.last_name and l.last_name = r.first_name",
    "l.first_name = r.last_name and l.postcode = r.postcode",
    "l.last_name = r.first_name and l.postcode = r.postcode",
    "l.street = r.street",
    "l.street_name = r.street_name and l.city = r.city",
    "l.postcode = r.postcode and l.birth_year = r.birth_year",
    "l.formal_first_name = r.formal_first_name and l.city = r.city",
)


# EM rounds: each leaves out the comparisons its blocking columns use, so together they estimate
# all. A round lists its blocking keys from the widest to the narrowest and trains on the widest
# that yields at most `max_pairs_for_em` pairs: "same postcode" is quadratic in the records per
# postcode (71M pairs, 573 s of EM at 1M records). The narrower key adds the street's name, which
# only the address comparison reads (left out of this round anyway); on small data the narrow
# block is too thin to observe every level. It used to add the last name's initial, which kept
# swapped names and a surname in the first-name field out of EM: their levels' m fell toward the
# floor (the swap weighed +1.2 at a million records against +10.6 at 100,000, and swapped records'
# recall fell to 0.94).
TRAINING_ROUNDS: tuple[tuple[tuple[str, ...], ...], ...] = (
    (("postcode",), ("postcode", "street_name")),
    (("formal_first_name", "last_name"),),
)


# Near-certain rules for the prior (share of record pairs that match), with their assumed recall.
PRIOR_RULES = (
    "l.email = r.email and l.formal_first_name = r.formal_first_name",
    "l.first_name = r.first_name and l.last_name = r.last_name and l.postcode = r.postcode",
)


@dataclass(frozen=True)
class MatchingSettings:
    """How pairs are generated, how the model is trained, and where a pair counts as a match."""

    match_threshold: float = 0.88
    """Match probability at or above which a scored pair is an edge of the identity graph."""
    household_guard: bool = True
    """Guard against households (same surname, address and phone, different people): a pair whose
    first names are clearly different (not a typo, nickname, initial or swap) and whose birthdates do
    not agree (missing, or not the same date written with a slip) is never an edge, whatever else
    agrees. One noisy field alone never keeps a pair apart: the model's weights judge it."""
    score_floor: float = 0.01
    """Pairs below this match probability are not returned at all."""
    blocking_rules: tuple[str, ...] = PREDICTION_BLOCKING_RULES
    """Candidate pairs: the union of these equi-joins (Splink SQL, `l.`/`r.` columns)."""
    training_rounds: tuple[tuple[tuple[str, ...], ...], ...] = TRAINING_ROUNDS
    """One EM session per round, in order; each on the widest of its blocking keys within `max_pairs_for_em`."""
    max_pairs_for_em: float = 5e6
    min_m_probability: float = 1e-4
    """Floor under every m probability EM estimates: a level never seen among matches (EM drives
    its m toward zero) weighs at most log2(floor / u) against a pair, never an outright veto."""
    prior_rules: tuple[str, ...] = PRIOR_RULES
    prior_rules_recall: float = 0.6
    """Assumed share of all true pairs that `prior_rules` find; sets the prior match probability."""
    max_pairs_for_u_estimation: float = 1e7
    seed: int = 42
    """Seed of u sampling; EM is deterministic given its blocked pairs, so the model is reproducible."""
    nicknames: tuple[tuple[str, str], ...] = ()
    """(first_name, nickname) rows, lower case, as in the dbt seed `first_name_nicknames`: given-name
    variants a typo distance cannot see (Bob/Robert). A nickname may stand for several names (chris)."""
    max_expected_namesakes: float = 0.02
    """Name closure between two clusters that both carry an address (see `_closure_edges`) only when
    another person with the name is this unlikely: clusters × share of its first name × share of its
    last name in the data."""
    max_expected_namesakes_mover: float = 0.1
    """Name closure of two clusters seen one after the other (a move) only when another person with
    the name is this unlikely, reckoned as for `max_expected_namesakes`."""
    closure_rules: bool = True
    """Whether `select_match_edges`, given the nodes, adds the cluster-level edges of `_closure_edges`."""


def build_splink_settings(settings: MatchingSettings) -> SettingsCreator:
    """The Splink model: dedupe across all sources, record_id as key, per-comparison weights kept."""
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        comparisons=[comparison.splink() for comparison in COMPARISONS],
        # Wrapped as Splink would wrap the SQL strings itself (its annotation admits creators only).
        blocking_rules_to_generate_predictions=[CustomRule(rule) for rule in settings.blocking_rules],
        # The comparison vector values (`gamma_*`) come only with the matching columns; they name each level.
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=True,
        # Read by the household guard's name tests (FIRST_NAMES_DIFFER_SQL, EMAIL_NAMES_DIFFER_SQL), not by a comparison.
        additional_columns_to_retain=["first_name_records", "first_name_seen", "first_name_seen_in_email", "first_name_seen_forms"],
    )


def with_name_forms(frame: pl.DataFrame, nicknames: tuple[tuple[str, str], ...], column: str = "first_name") -> pl.DataFrame:
    """Add `<column>_forms` (the name and every formal name it is a nickname of) and
    `formal_<column>` (one of those forms, the same for a nickname and its formal name: a
    blocking and grouping key; an ambiguous nickname takes the alphabetically first). The column is
    the first name, or the last name when a first name may have landed there (names swapped)."""
    formal_names = (
        pl.DataFrame(list(nicknames), schema={"formal_name": pl.String, column: pl.String}, orient="row")
        .group_by(column)
        .agg(pl.col("formal_name").unique().sort().alias("formal_names"))
    )
    return (
        frame.join(formal_names, on=column, how="left")
        .with_columns(
            pl.when(pl.col(column).is_not_null())
            .then(pl.concat_list(pl.col(column), pl.col("formal_names").fill_null([])).list.unique().list.sort())
            .alias(f"{column}_forms"),
            pl.coalesce(pl.col("formal_names").list.first(), pl.col(column)).alias(f"formal_{column}"),
        )
        .drop("formal_names")
    )


def as_node_frame(nodes: pl.DataFrame | duckdb.DuckDBPyRelation) -> pl.DataFrame:
    return nodes.pl() if isinstance(nodes, duckdb.DuckDBPyRelation) else nodes

"""Probabilistic record matching with Splink on DuckDB: train a Fellegi-Sunter model on the
identity nodes and score candidate pairs, keeping each comparison's match weight.

Plain functions, no Dagster: the identity assets wrap them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import polars as pl
from splink import DuckDBAPI, Linker, SettingsCreator
from splink import comparison_level_library as cll
from splink import comparison_library as cl

# Given-name variants that a typo distance cannot see (Bob/Robert); the formal name is compared.
NICKNAMES: dict[str, str] = {
    "bob": "robert", "bobby": "robert", "rob": "robert", "robbie": "robert",
    "bill": "william", "billy": "william", "will": "william", "willy": "william", "liam": "william",
    "liz": "elizabeth", "lizzie": "elizabeth", "beth": "elizabeth", "betty": "elizabeth", "eliza": "elizabeth",
    "jim": "james", "jimmy": "james", "jamie": "james",
    "jack": "john", "johnny": "john",
    "rick": "richard", "rich": "richard", "dick": "richard", "richie": "richard",
    "mike": "michael", "mikey": "michael", "chris": "christopher",
    "jen": "jennifer", "jenny": "jennifer",
    "kate": "katherine", "kathy": "katherine", "katie": "katherine", "cathy": "catherine",
    "maggie": "margaret", "peggy": "margaret", "meg": "margaret",
    "tom": "thomas", "tommy": "thomas", "joe": "joseph", "joey": "joseph",
    "dan": "daniel", "danny": "daniel", "matt": "matthew", "tony": "anthony",
    "pat": "patricia", "patty": "patricia", "trish": "patricia",
    "sue": "susan", "susie": "susan", "debbie": "deborah", "deb": "deborah",
    "jess": "jessica", "jessie": "jessica", "nick": "nicholas", "alex": "alexander",
    "sam": "samuel", "ben": "benjamin", "andy": "andrew", "drew": "andrew",
    "ed": "edward", "ted": "edward", "eddie": "edward", "charlie": "charles", "chuck": "charles",
    "dave": "david", "steve": "steven", "stephen": "steven", "tim": "timothy",
    "ken": "kenneth", "kenny": "kenneth", "don": "donald", "ron": "ronald",
    "becky": "rebecca", "becca": "rebecca", "vicky": "victoria", "tori": "victoria",
    "abby": "abigail", "zach": "zachary", "greg": "gregory", "jon": "jonathan",
    "pam": "pamela", "kim": "kimberly", "jackie": "jacqueline", "larry": "lawrence",
    "jerry": "gerald", "ray": "raymond", "fred": "frederick", "doug": "douglas",
    "phil": "phillip", "philip": "phillip", "pete": "peter", "cindy": "cynthia",
    "sandy": "sandra", "barb": "barbara", "jeff": "jeffrey", "josh": "joshua",
    "hans": "johannes", "fritz": "friedrich", "kathi": "katharina",
}

# Each rule is cheap (an equi-join on a selective key); together they find nearly every true pair.
PREDICTION_BLOCKING_RULES = (
    "l.email = r.email",
    "l.phone_e164 = r.phone_e164",
    "l.postcode = r.postcode and l.last_name_initial = r.last_name_initial",
    "l.postcode = r.postcode and l.formal_first_name = r.formal_first_name",
    "l.birthdate = r.birthdate and l.last_name_initial = r.last_name_initial",
    "l.last_name = r.last_name and l.city = r.city",
    "l.formal_first_name = r.formal_first_name and l.last_name = r.last_name",
)

# EM rounds: each leaves out the comparisons its blocking columns use, so together they estimate all.
TRAINING_BLOCKING_RULES = (
    "l.postcode = r.postcode",
    "l.formal_first_name = r.formal_first_name and l.last_name = r.last_name",
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
    vetoing_comparisons: tuple[str, ...] = ("first_name", "birthdate")
    """Guard against households (same address, phone and surname): a pair for which one of these
    comparisons is evidence against a match (negative weight) is never an edge, whatever else agrees."""
    score_floor: float = 0.01
    """Pairs below this match probability are not returned at all."""
    blocking_rules: tuple[str, ...] = PREDICTION_BLOCKING_RULES
    """Candidate pairs: the union of these equi-joins (Splink SQL, `l.`/`r.` columns)."""
    training_blocking_rules: tuple[str, ...] = TRAINING_BLOCKING_RULES
    """One EM session per rule, in order."""
    prior_rules: tuple[str, ...] = PRIOR_RULES
    prior_rules_recall: float = 0.6
    """Assumed share of all true pairs that `prior_rules` find; sets the prior match probability."""
    max_pairs_for_u_estimation: float = 1e7
    seed: int = 42
    """Seed of u sampling; EM is deterministic given its blocked pairs, so the model is reproducible."""
    nicknames: dict[str, str] = field(default_factory=lambda: dict(NICKNAMES))


def _name_comparison(column: str, *formal_name_level: cll.ComparisonLevelCreator) -> cl.CustomComparison:
    """Exact (term-frequency adjusted), [formal name,] one typo, similar, different."""
    return cl.CustomComparison(
        output_column_name=column,
        comparison_levels=[
            cll.NullLevel(column),
            cll.ExactMatchLevel(column).configure(tf_adjustment_column=column),
            *formal_name_level,
            cll.DamerauLevenshteinLevel(column, 1),
            cll.JaroWinklerLevel(column, 0.92),
            cll.JaroWinklerLevel(column, 0.8),
            cll.ElseLevel(),
        ],
    )


def _comparisons() -> list:
    """Per-attribute comparisons, most specific level first."""
    return [
        _name_comparison(
            "first_name",
            cll.ExactMatchLevel("formal_first_name").configure(label_for_charts="Same formal name (nickname)"),
        ),
        _name_comparison("last_name"),
        cl.CustomComparison(
            output_column_name="birthdate",
            comparison_levels=[
                cll.NullLevel("birthdate"),
                cll.ExactMatchLevel("birthdate"),
                cll.CustomLevel(
                    "levenshtein(cast(birthdate_l as varchar), cast(birthdate_r as varchar)) <= 1",
                    label_for_charts="One character apart",
                ),
                cll.CustomLevel("year(birthdate_l) = year(birthdate_r)", label_for_charts="Same year"),
                cll.ElseLevel(),
            ],
        ),
        # One address comparison rather than street, postcode and city apart: the three agree or
        # disagree together, and scoring them separately would count one fact three times.
        cl.CustomComparison(
            output_column_name="address",
            comparison_levels=[
                cll.CustomLevel(
                    "(postcode_l is null or postcode_r is null) and (street_l is null or street_r is null)"
                ).configure(is_null_level=True),
                cll.CustomLevel("street_l = street_r and postcode_l = postcode_r", label_for_charts="Same street and postcode"),
                cll.CustomLevel(
                    "jaro_winkler_similarity(street_l, street_r) >= 0.9 and postcode_l = postcode_r",
                    label_for_charts="Similar street, same postcode",
                ),
                cll.CustomLevel("street_l = street_r and city_l = city_r", label_for_charts="Same street and city"),
                cll.CustomLevel(
                    "postcode_l = postcode_r and (street_l is null or street_r is null)",
                    label_for_charts="Same postcode, street unknown",
                ),
                cll.CustomLevel("postcode_l = postcode_r", label_for_charts="Same postcode, different street"),
                cll.ElseLevel(),
            ],
        ),
        cl.CustomComparison(
            output_column_name="phone",
            comparison_levels=[
                cll.NullLevel("phone_e164"),
                cll.ExactMatchLevel("phone_e164").configure(tf_adjustment_column="phone_e164"),
                cll.ElseLevel(),
            ],
        ),
        # Exact only: addresses are built from names, so a similar address mostly repeats the name
        # evidence (john.fernandez@ vs john.fernandez3@ are often two John Fernandezes).
        cl.CustomComparison(
            output_column_name="email",
            comparison_levels=[
                cll.NullLevel("email"),
                cll.ExactMatchLevel("email").configure(tf_adjustment_column="email"),
                cll.ElseLevel(),
            ],
        ),
    ]


def build_splink_settings(settings: MatchingSettings) -> SettingsCreator:
    """The Splink model: dedupe across all sources, record_id as key, per-comparison weights kept."""
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        comparisons=_comparisons(),
        blocking_rules_to_generate_predictions=list(settings.blocking_rules),
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=True,
    )


def _register_matching_input(
    connection: duckdb.DuckDBPyConnection, nodes: pl.DataFrame | duckdb.DuckDBPyRelation, settings: MatchingSettings
) -> str:
    """Nodes plus the derived columns blocking and comparisons use, as a table on `connection`."""
    frame = nodes.pl() if isinstance(nodes, duckdb.DuckDBPyRelation) else nodes
    nicknames = pl.DataFrame({"nickname": list(settings.nicknames), "formal_name": list(settings.nicknames.values())})
    prepared = (
        frame.select("record_id", "first_name", "last_name", "email", "phone_e164", "street", "postcode", "city", "birthdate")
        .join(nicknames, left_on="first_name", right_on="nickname", how="left")
        .with_columns(
            pl.coalesce("formal_name", "first_name").alias("formal_first_name"),
            pl.col("last_name").str.slice(0, 1).alias("last_name_initial"),
        )
        .drop("formal_name")
    )
    # A temporary table: nothing is left in a warehouse connection that is passed in.
    connection.register("identity_matching_input_frame", prepared)
    connection.execute("create or replace temp table identity_matching_input as select * from identity_matching_input_frame")
    connection.unregister("identity_matching_input_frame")
    return "identity_matching_input"


def train_linker(linker: Linker, settings: MatchingSettings) -> None:
    """Estimate the prior from near-certain rules, u by seeded random sampling, m by EM."""
    linker.training.estimate_probability_two_random_records_match(
        list(settings.prior_rules), recall=settings.prior_rules_recall
    )
    linker.training.estimate_u_using_random_sampling(
        max_pairs=settings.max_pairs_for_u_estimation, seed=settings.seed
    )
    for rule in settings.training_blocking_rules:
        linker.training.estimate_parameters_using_expectation_maximisation(rule)


def _scored_pairs_sql(predictions_table: str, columns: list[str]) -> str:
    """Readable columns: ids, probability, total weight and each comparison's weight (TF included).

    Splink 5 writes `mw_<comparison>` and, with term frequencies, `mw_tf_adj_<comparison>`.
    """
    comparison_weights = [
        f"{column}{f' + mw_tf_adj_{column[3:]}' if f'mw_tf_adj_{column[3:]}' in columns else ''}"
        f" as {column[3:]}_match_weight"
        for column in columns
        if column.startswith("mw_") and not column.startswith("mw_tf_adj_")
    ]
    return f"""
        select
            record_id_l,
            record_id_r,
            match_probability,
            match_weight,
            {", ".join(comparison_weights)}
        from {predictions_table}
    """


def score_record_pairs(
    nodes: pl.DataFrame | duckdb.DuckDBPyRelation,
    settings: MatchingSettings = MatchingSettings(),
    connection: duckdb.DuckDBPyConnection | None = None,
) -> pl.DataFrame:
    """Train the model on `nodes` and return every candidate pair scored at or above the floor.

    Columns: record_id_l, record_id_r, match_probability, match_weight (prior + the comparisons'
    weights) and `<comparison>_match_weight` for first_name, last_name, birthdate, address, phone
    and email, term-frequency adjustments included. Runs on `connection` (e.g. the warehouse's)
    or an in-memory DuckDB, and removes its working tables afterwards.
    """
    connection = connection or duckdb.connect()
    table = _register_matching_input(connection, nodes, settings)
    # log_level=None: leave logging to the application (Dagster) instead of Splink's own handler.
    linker = Linker(DuckDBAPI(connection).register(table), build_splink_settings(settings), log_level=None)
    try:
        train_linker(linker, settings)
        predictions = linker.inference.predict(threshold_match_probability=settings.score_floor, warning_mode="never")
        columns = connection.sql(f"select * from {predictions.physical_name} limit 0").columns
        return connection.sql(_scored_pairs_sql(predictions.physical_name, columns)).pl()
    finally:
        linker.table_management.delete_tables_created_by_splink_from_db()
        connection.execute(f"drop table if exists {table}")


def select_match_edges(pairs: pl.DataFrame, settings: MatchingSettings = MatchingSettings()) -> pl.DataFrame:
    """The scored pairs that are edges of the identity graph: at or above the threshold, and no vetoing comparison against."""
    return pairs.filter(
        pl.col("match_probability") >= settings.match_threshold,
        *(pl.col(f"{comparison}_match_weight") >= 0 for comparison in settings.vetoing_comparisons),
    ).select("record_id_l", "record_id_r")

"""Probabilistic record matching with Splink on DuckDB: train a Fellegi-Sunter model on the
identity nodes and score candidate pairs, keeping each comparison's match weight.

Plain functions, no Dagster: the identity assets wrap them.
"""

from __future__ import annotations

import duckdb
import polars as pl
from splink import DuckDBAPI, Linker

from dagster_project.identity.email_names import with_first_name_seen
from dagster_project.identity.match_comparisons import COMPARISONS, EMAIL_NAMES_DIFFER_SQL, FIRST_NAMES_DIFFER_SQL
from dagster_project.identity.match_model import MatchingSettings, TooLittleEvidence, as_node_frame, build_splink_settings, with_name_forms
from dagster_project.identity.splink_internals import SplinkException, m_probability_floor
from dagster_project.warehouse import frames_registered

# The node columns each comparison reads.
_COMPARISON_COLUMNS = {
    "name": ("first_name", "last_name"), "birthdate": ("birthdate",), "address": ("street", "postcode", "city"),
    "phone": ("phone_e164",), "email": ("email",),
}


def comparisons_without_data(nodes: pl.DataFrame | duckdb.DuckDBPyRelation) -> list[str]:
    """Comparisons whose columns hold a value on fewer than two records: they can weigh nothing."""
    frame = as_node_frame(nodes)
    return [
        name for name, columns in _COMPARISON_COLUMNS.items()
        if all(frame.height - frame[column].null_count() < 2 for column in columns)
    ]


def matching_input(nodes: pl.DataFrame | duckdb.DuckDBPyRelation, settings: MatchingSettings) -> pl.DataFrame:
    """Nodes plus the derived columns blocking, EM training and comparisons use."""
    named = with_name_forms(
        as_node_frame(nodes).select(
            "record_id", "first_name", "last_name", "email", "phone_e164", "street", "postcode", "city", "birthdate"
        ),
        settings.nicknames,
    )
    # The forms of the last name too: with the names swapped, a nickname sits in the last-name field.
    # And of the first name the record shows, in its own field or only in its email.
    named = with_name_forms(with_first_name_seen(named), settings.nicknames, "first_name_seen").drop("formal_first_name_seen")
    prepared = with_name_forms(named, settings.nicknames, "last_name").drop("formal_last_name").with_columns(
        pl.concat_str("first_name", "last_name", separator=" ").alias("full_name"),
        pl.col("first_name").str.slice(0, 1).alias("first_name_initial"),
        pl.col("last_name").str.slice(0, 1).alias("last_name_initial"),
        # The parts of a compound or hyphenated surname (garcia-lopez, van der berg): two letters or more.
        pl.col("last_name").str.replace_all(r"[\s\-']+", " ").str.split(" ").list.eval(
            pl.element().filter(pl.element().str.len_chars() > 1)
        ).alias("last_name_parts"),
        # The street without house or unit numbers: a number typed wrong or left out.
        pl.col("street").str.replace_all(r"\b\w*\d\w*\b", " ").str.replace_all(r"\s+", " ").str.strip_chars()
        .alias("street_name"),
        pl.col("birthdate").dt.year().alias("birth_year"),
        # How many records bear the first name: a spelling many share is a name, not a slip (FIRST_NAMES_DIFFER_SQL).
        pl.when(pl.col("first_name").is_not_null()).then(pl.len().over("first_name")).alias("first_name_records"),
        # The street's number and its words (no digits), for addresses whose lines differ in order or extent.
        pl.col("street").str.extract(r"^\s*(\d+)", 1).alias("house_number"),
        pl.col("street").str.split(" ").list.eval(pl.element().filter(pl.element().str.contains(r"^[^\d]{2,}$"))).list.unique()
        .alias("street_words"),
    ).with_columns(pl.when(pl.col("street_name") != "").then(pl.col("street_name")).alias("street_name"))
    return prepared


def _register_matching_input(
    connection: duckdb.DuckDBPyConnection, nodes: pl.DataFrame | duckdb.DuckDBPyRelation, settings: MatchingSettings
) -> str:
    """`matching_input` as a table on `connection`."""
    prepared = matching_input(nodes, settings)
    # A temporary table: nothing is left in a warehouse connection that is passed in.
    with frames_registered(connection, identity_matching_input_frame=prepared):
        connection.execute("create or replace temp table identity_matching_input as select * from identity_matching_input_frame")
    return "identity_matching_input"


def candidate_pairs(
    connection: duckdb.DuckDBPyConnection, nodes: pl.DataFrame | duckdb.DuckDBPyRelation, settings: MatchingSettings
) -> pl.DataFrame:
    """Every distinct pair (`record_id_l` < `record_id_r`) that a blocking rule generates, as Splink
    generates them for a dedupe: each rule's pairs less those of the rules before it."""
    table = _register_matching_input(connection, nodes, settings)
    try:
        parts = []
        for position, rule in enumerate(settings.blocking_rules):
            earlier = " or ".join(f"({before})" for before in settings.blocking_rules[:position]) or "false"
            parts.append(
                f"select l.record_id as record_id_l, r.record_id as record_id_r from {table} l join {table} r "
                f"on {rule} and l.record_id < r.record_id where not coalesce({earlier}, false)"
            )
        return connection.sql(" union all ".join(parts)).pl()
    finally:
        connection.execute(f"drop table if exists {table}")


def train_linker(linker: Linker, settings: MatchingSettings, connection: duckdb.DuckDBPyConnection, table: str) -> None:
    """Estimate the prior from near-certain rules, u by seeded random sampling, m by EM."""
    linker.training.estimate_probability_two_random_records_match(
        list(settings.prior_rules), recall=settings.prior_rules_recall
    )
    linker.training.estimate_u_using_random_sampling(
        max_pairs=settings.max_pairs_for_u_estimation, seed=settings.seed
    )
    for keys in settings.training_rounds:
        # The widest key within the cap that pairs any records at all: an export without addresses
        # gives "same postcode" no pairs, and EM on no pairs fails.
        counts = {key: _blocked_pairs(connection, table, key) for key in keys}
        usable = [key for key in keys if counts[key] > 0]
        if not usable:
            continue
        chosen = next((key for key in usable if counts[key] <= settings.max_pairs_for_em), usable[-1])
        with m_probability_floor(settings.min_m_probability):
            linker.training.estimate_parameters_using_expectation_maximisation(" and ".join(f"l.{c} = r.{c}" for c in chosen))


def _blocked_pairs(connection: duckdb.DuckDBPyConnection, table: str, columns: tuple[str, ...]) -> int:
    """Record pairs that agree on every column (none of them null)."""
    present = " and ".join(f"{column} is not null" for column in columns)
    (pairs,) = connection.execute(
        f"select coalesce(sum(n * (n - 1) // 2), 0) from "
        f"(select count(*) as n from {table} where {present} group by {', '.join(columns)})"
    ).fetchall()[0]
    return int(pairs)


def _scored_pairs_sql(predictions_table: str, columns: list[str]) -> str:
    """Readable columns: ids, probability, total weight, each comparison's weight (TF included) and level.

    Splink 5 writes `mw_<comparison>`, with term frequencies `mw_tf_adj_<comparison>`, and the
    comparison vector value `gamma_<comparison>`, which `level_label_sql` names.
    """
    comparison_weights = [
        f"mw_{c.name}{f' + mw_tf_adj_{c.name}' if f'mw_tf_adj_{c.name}' in columns else ''} as {c.name}_match_weight"
        for c in COMPARISONS
    ]
    comparison_levels = [f"{c.level_label_sql()} as {c.name}_level" for c in COMPARISONS]
    return f"""
        select
            record_id_l,
            record_id_r,
            match_probability,
            match_weight,
            {", ".join(comparison_weights)},
            {", ".join(comparison_levels)},
            coalesce({FIRST_NAMES_DIFFER_SQL}, false) as first_names_differ,
            coalesce({EMAIL_NAMES_DIFFER_SQL}, false) as email_names_differ
        from {predictions_table}
    """


def score_record_pairs(
    nodes: pl.DataFrame | duckdb.DuckDBPyRelation,
    settings: MatchingSettings = MatchingSettings(),
    connection: duckdb.DuckDBPyConnection | None = None,
) -> pl.DataFrame:
    """Train the model on `nodes` and return every candidate pair scored at or above the floor.

    Columns: record_id_l, record_id_r, match_probability, match_weight (prior + the comparisons'
    weights) and, for name, birthdate, address, phone and email, `<comparison>_match_weight` (term-
    frequency adjustments included) and `<comparison>_level` (the level's label); `first_names_differ` and `email_names_differ` (the household guard's name tests). Runs on `connection` (e.g. the warehouse's) or an
    in-memory DuckDB, and removes its working tables afterwards.

    Raises `TooLittleEvidence` when the nodes carry names alone (or no names), or when training
    fails on them, so that the caller falls back to deterministic rules and says why.
    """
    missing = comparisons_without_data(nodes)
    if "name" in missing or len(_COMPARISON_COLUMNS) - len(missing) < 2:
        present = [name for name in _COMPARISON_COLUMNS if name not in missing]
        raise TooLittleEvidence(
            f"the records carry {' and '.join(present) or 'nothing to compare'} only; a match model needs names and "
            "at least one of birthdate, address, phone or email to learn what agreement is worth"
        )
    connection = connection or duckdb.connect()
    table = _register_matching_input(connection, nodes, settings)
    # log_level=None: leave logging to the application (Dagster) instead of Splink's own handler.
    linker = Linker(DuckDBAPI(connection).register(table), build_splink_settings(settings), log_level=None)
    try:
        try:
            train_linker(linker, settings, connection, table)
        except (SplinkException, ValueError, ZeroDivisionError) as error:
            # EM collapses (a prior or an m probability of 0 or 1) when the data cannot tell matches apart.
            raise TooLittleEvidence(f"Splink could not estimate match weights on these records ({type(error).__name__}: {error})") from error
        predictions = linker.inference.predict(threshold_match_probability=settings.score_floor, warning_mode="never")
        columns = connection.sql(f"select * from {predictions.physical_name} limit 0").columns
        return connection.sql(_scored_pairs_sql(predictions.physical_name, columns)).pl()
    finally:
        linker.table_management.delete_tables_created_by_splink_from_db()
        connection.execute(f"drop table if exists {table}")

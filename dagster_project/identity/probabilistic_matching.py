"""Probabilistic record matching with Splink on DuckDB: train a Fellegi-Sunter model on the
identity nodes and score candidate pairs, keeping each comparison's match weight.

Pairwise scores alone cannot link a record whose only evidence is a name or a single identifier:
the prior odds of a match between two random records outweigh it. `select_match_edges` adds
cluster-level evidence for those records (see `_closure_edges`).

Plain functions, no Dagster: the identity assets wrap them.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
from splink import DuckDBAPI, Linker, SettingsCreator
# Splink publishes no exceptions module; this is the one place that reaches into its internals for them.
from splink.internals.exceptions import SplinkException

from dagster_project.identity.customer_ids import find_clusters
from dagster_project.identity.match_comparisons import (
    AGREEING_BIRTHDATE_LEVELS, COMPARISONS, DIFFERENT_LABEL, FIRST_NAMES_DIFFER_SQL,
)

def read_nickname_seed(path: Path) -> tuple[tuple[str, str], ...]:
    """(first_name, nickname) rows of the dbt seed `first_name_nicknames.csv`, for callers outside
    the pipeline (which reads the loaded seed table): one nickname list for rules and matcher."""
    with path.open(encoding="utf-8", newline="") as seed:
        return tuple((row["first_name"], row["nickname"]) for row in csv.DictReader(seed))


# A cluster holding none of these is "thin": nothing in it could contradict a namesake.
_DISTINGUISHING_COLUMNS = ("phone_e164", "street", "postcode", "birthdate")
# Facts that, known on both sides and different, say two bearers of one name are two people.
_CONTRADICTING_COLUMNS = ("birthdate", "phone_e164")
# Identifiers a nameless record (a SendGrid recipient) can be tied to its person by.
_IDENTIFIER_COMPARISONS = {"email": "email", "phone_e164": "phone"}
# The node columns each comparison reads.
_COMPARISON_COLUMNS = {
    "name": ("first_name", "last_name"), "birthdate": ("birthdate",), "address": ("street", "postcode", "city"),
    "phone": ("phone_e164",), "email": ("email",),
}


class TooLittleEvidence(Exception):
    """The data cannot train a match model (the message says why): only deterministic rules apply."""


def comparisons_without_data(nodes: pl.DataFrame | duckdb.DuckDBPyRelation) -> list[str]:
    """Comparisons whose columns hold a value on fewer than two records: they can weigh nothing."""
    frame = _as_frame(nodes)
    return [
        name for name, columns in _COMPARISON_COLUMNS.items()
        if all(frame.height - frame[column].null_count() < 2 for column in columns)
    ]

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
# postcode (71M pairs, 573 s of EM at 1M records), and its last-name initial cuts that 13-fold
# while barely constraining the name comparisons; on small data the narrow block is too thin to
# observe every level.
TRAINING_ROUNDS: tuple[tuple[tuple[str, ...], ...], ...] = (
    (("postcode",), ("postcode", "last_name_initial")),
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
    closure_rules: bool = True
    """Whether `select_match_edges`, given the nodes, adds the cluster-level edges of `_closure_edges`."""


def build_splink_settings(settings: MatchingSettings) -> SettingsCreator:
    """The Splink model: dedupe across all sources, record_id as key, per-comparison weights kept."""
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        comparisons=[comparison.splink() for comparison in COMPARISONS],
        blocking_rules_to_generate_predictions=list(settings.blocking_rules),
        # The comparison vector values (`gamma_*`) come only with the matching columns; they name each level.
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=True,
    )


def _with_name_forms(frame: pl.DataFrame, nicknames: tuple[tuple[str, str], ...]) -> pl.DataFrame:
    """Add `first_name_forms` (the name and every formal name it is a nickname of) and
    `formal_first_name` (one of those forms, the same for a nickname and its formal name: a
    blocking and grouping key; an ambiguous nickname takes the alphabetically first)."""
    formal_names = (
        pl.DataFrame(list(nicknames), schema={"formal_name": pl.String, "first_name": pl.String}, orient="row")
        .group_by("first_name")
        .agg(pl.col("formal_name").unique().sort().alias("formal_names"))
    )
    return (
        frame.join(formal_names, on="first_name", how="left")
        .with_columns(
            pl.when(pl.col("first_name").is_not_null())
            .then(pl.concat_list(pl.col("first_name"), pl.col("formal_names").fill_null([])).list.unique().list.sort())
            .alias("first_name_forms"),
            pl.coalesce(pl.col("formal_names").list.first(), pl.col("first_name")).alias("formal_first_name"),
        )
        .drop("formal_names")
    )


def _as_frame(nodes: pl.DataFrame | duckdb.DuckDBPyRelation) -> pl.DataFrame:
    return nodes.pl() if isinstance(nodes, duckdb.DuckDBPyRelation) else nodes


def _register_matching_input(
    connection: duckdb.DuckDBPyConnection, nodes: pl.DataFrame | duckdb.DuckDBPyRelation, settings: MatchingSettings
) -> str:
    """Nodes plus the derived columns blocking and comparisons use, as a table on `connection`."""
    prepared = _with_name_forms(
        _as_frame(nodes).select(
            "record_id", "first_name", "last_name", "email", "phone_e164", "street", "postcode", "city", "birthdate"
        ),
        settings.nicknames,
    ).with_columns(
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
    ).with_columns(pl.when(pl.col("street_name") != "").then(pl.col("street_name")).alias("street_name"))
    # A temporary table: nothing is left in a warehouse connection that is passed in.
    connection.register("identity_matching_input_frame", prepared)
    connection.execute("create or replace temp table identity_matching_input as select * from identity_matching_input_frame")
    connection.unregister("identity_matching_input_frame")
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
            coalesce({FIRST_NAMES_DIFFER_SQL}, false) as first_names_differ
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
    frequency adjustments included) and `<comparison>_level` (the level's label); `first_names_differ`. Runs on `connection` (e.g. the warehouse's) or an
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


def _kept_apart(settings: MatchingSettings) -> pl.Expr:
    """The evidence says two people (see `MatchingSettings.household_guard`)."""
    if not settings.household_guard:
        return pl.lit(False)
    # A birthdate one slip apart is no alibi for a whole name that differs (a household's two
    # members born on the same day of different years).
    birthdates_agree = pl.col("birthdate_level").is_in(AGREEING_BIRTHDATE_LEVELS) & (
        (pl.col("name_level") != DIFFERENT_LABEL) | (pl.col("birthdate_level") == "exact")
    )
    return pl.col("first_names_differ") & ~birthdates_agree


def _closure_edges(
    pairs: pl.DataFrame, edges: pl.DataFrame, nodes: pl.DataFrame, settings: MatchingSettings
) -> pl.DataFrame:
    """Scored pairs that cluster-level evidence accepts, for records a pair score cannot place.

    Provisional clusters are the named records connected by `edges` or by a shared email or phone
    that the household guard does not keep apart (what the deterministic rules would mostly trust). Then:

    - identifier closure: a nameless record (a SendGrid recipient: an email and nothing else)
      joins the named records with its email or phone when they all lie in one provisional
      cluster; a mailbox of two people (kept apart by the guard) stays unlinked;
    - name closure: two provisional clusters that are the only ones in the data with a full name
      (formal first name + last name) are one person when at least one of them is thin (carries no
      phone, address or birthdate that could tell namesakes apart), or when nothing but the address
      tells them apart (no birthdate or phone known on both sides and different: people move) and
      either the name is rare (`max_expected_namesakes`) or every record of one cluster was last
      seen before every record of the other, as a move leaves them (namesakes live side by side). A
      pair score cannot see that a name is unique in the data, only how common its parts are.
      A name held by one cluster with a phone, address or birthdate and several thin ones joins
      them all.

    Only scored pairs the guard does not keep apart are returned, so that the accepted pairs are a subset of the
    scored ones.
    """
    candidates = pairs.filter(~_kept_apart(settings)).select("record_id_l", "record_id_r", *(
        f"{comparison}_match_weight" for comparison in _IDENTIFIER_COMPARISONS.values()
    ))
    columns = dict.fromkeys(("record_id", "first_name", "last_name", *_IDENTIFIER_COMPARISONS, *_DISTINGUISHING_COLUMNS))
    seen = pl.col("last_seen_at") if "last_seen_at" in nodes.columns else pl.lit(None, dtype=pl.Datetime("us"))
    records = _with_name_forms(nodes.select(*columns, seen.alias("last_seen_at")), settings.nicknames)
    is_named = pl.col("first_name").is_not_null() | pl.col("last_name").is_not_null()
    named = records.filter(is_named)
    named_ids = named.select("record_id")
    # The identifier comparisons have one level above null, the exact one, so a positive weight means equal values.
    same_identifier = pl.any_horizontal(pl.col(f"{c}_match_weight") > 0 for c in _IDENTIFIER_COMPARISONS.values())
    provisional_edges = pl.concat([edges, candidates.filter(same_identifier).select("record_id_l", "record_id_r")])
    provisional_edges = provisional_edges.join(named_ids, left_on="record_id_l", right_on="record_id", how="semi").join(
        named_ids, left_on="record_id_r", right_on="record_id", how="semi"
    )
    named = named.join(find_clusters(named["record_id"], provisional_edges), on="record_id")

    accepted = []
    nameless = records.filter(~is_named)
    for column in _IDENTIFIER_COMPARISONS:
        holders = named.filter(pl.col(column).is_not_null())
        one_cluster = holders.group_by(column).agg(pl.col("cluster").n_unique().alias("clusters")).filter(pl.col("clusters") == 1)
        tied = nameless.join(one_cluster, on=column, how="semi").select("record_id", column)
        links = tied.join(holders.select(pl.col("record_id").alias("holder"), column), on=column)
        accepted.append(links.select("record_id", "holder"))

    full_name = pl.col("formal_first_name") + " " + pl.col("last_name")
    cluster_is_thin = pl.all_horizontal(pl.col(c).is_null().all() for c in _DISTINGUISHING_COLUMNS).over("cluster")
    keyed = named.with_columns(cluster_is_thin.alias("is_thin"), full_name.alias("full_name")).filter(
        pl.col("full_name").is_not_null()
    )
    # What could tell two bearers of one name apart besides an address (people move): birthdates
    # or phones known on both sides with none in common.
    facts = named.group_by("cluster").agg(
        *(pl.col(column).drop_nulls().unique().alias(column) for column in _CONTRADICTING_COLUMNS),
        pl.col("last_seen_at").min().alias("first_seen"), pl.col("last_seen_at").max().alias("last_seen"),
    )
    two_bearers = (
        keyed.group_by("full_name")
        .agg(pl.col("cluster").unique().sort().alias("clusters"), pl.col("is_thin").any())
        .filter(pl.col("clusters").list.len() == 2)
        .with_columns(pl.col("clusters").list.first().alias("cluster"), pl.col("clusters").list.last().alias("cluster_other"))
        .join(facts, on="cluster")
        .join(facts, left_on="cluster_other", right_on="cluster", suffix="_other")
    )
    contradicted = pl.any_horizontal(
        (pl.col(c).list.len() > 0) & (pl.col(f"{c}_other").list.len() > 0)
        & (pl.col(c).list.set_intersection(pl.col(f"{c}_other")).list.len() == 0)
        for c in _CONTRADICTING_COLUMNS
    )
    # How many people would carry the name by chance, from the frequencies of its parts here.
    share = {
        column: keyed.group_by(column).len().with_columns((pl.col("len") / keyed.height).alias(f"{column}_share"))
        for column in ("formal_first_name", "last_name")
    }
    name_parts = keyed.select("full_name", "formal_first_name", "last_name").unique("full_name")
    for column, frequencies in share.items():
        name_parts = name_parts.join(frequencies.select(column, f"{column}_share"), on=column)
    rare = name_parts.filter(
        named["cluster"].n_unique() * pl.col("formal_first_name_share") * pl.col("last_name_share")
        < settings.max_expected_namesakes
    ).select("full_name")
    # One cluster's records all older than the other's: what a move leaves behind; namesakes live side by side.
    one_after_the_other = (pl.col("last_seen") <= pl.col("first_seen_other")) | (pl.col("last_seen_other") <= pl.col("first_seen"))
    # A name on one cluster with substance and several thin ones (a requester known by name and a
    # one-off email, a guest order without address), as with two bearers of whom one is thin.
    one_with_substance = (
        keyed.group_by("full_name")
        .agg(pl.col("cluster").n_unique().alias("clusters"), pl.col("cluster").filter(~pl.col("is_thin")).n_unique().alias("substantial"))
        .filter(pl.col("clusters") > 2, pl.col("substantial") == 1)
        .select("full_name")
    )
    unique_names = pl.concat([
        one_with_substance,
        two_bearers.filter(pl.col("is_thin")).select("full_name"),
        two_bearers.filter(~contradicted, one_after_the_other.fill_null(False)).select("full_name"),
        two_bearers.filter(~contradicted).join(rare, on="full_name", how="semi").select("full_name"),
    ]).unique()
    bearers = keyed.join(unique_names, on="full_name", how="semi").select("record_id", "full_name", "cluster")
    accepted.append(
        bearers.join(bearers, on="full_name", suffix="_other")
        .filter(pl.col("cluster") != pl.col("cluster_other"))
        .select("record_id", pl.col("record_id_other").alias("holder"))
    )

    links = pl.concat(accepted)
    # Either orientation of a scored pair.
    return pl.concat([
        candidates.join(links, left_on=["record_id_l", "record_id_r"], right_on=["record_id", "holder"], how="semi"),
        candidates.join(links, left_on=["record_id_r", "record_id_l"], right_on=["record_id", "holder"], how="semi"),
    ]).select("record_id_l", "record_id_r").unique(maintain_order=True)


def select_match_edges(
    pairs: pl.DataFrame,
    settings: MatchingSettings = MatchingSettings(),
    nodes: pl.DataFrame | duckdb.DuckDBPyRelation | None = None,
) -> pl.DataFrame:
    """The scored pairs that are edges of the identity graph.

    A pair is an edge at or above the threshold unless the household guard keeps it apart. Given the
    nodes that were scored (and `settings.closure_rules`), the pairs that cluster-level evidence
    accepts are edges too (`_closure_edges`), and a record without a full name loses its edges
    where they would join two people (`_bridges`).
    """
    edges = pairs.filter(pl.col("match_probability") >= settings.match_threshold, ~_kept_apart(settings)).select(
        "record_id_l", "record_id_r"
    )
    if nodes is None or not settings.closure_rules:
        return edges
    frame = _as_frame(nodes)
    edges = pl.concat([edges, _closure_edges(pairs, edges, frame, settings)]).unique(maintain_order=True)
    bridges = _bridges(pairs, edges, frame, settings)
    return edges.filter(~pl.col("record_id_l").is_in(bridges.implode()), ~pl.col("record_id_r").is_in(bridges.implode()))


def _bridges(pairs: pl.DataFrame, edges: pl.DataFrame, nodes: pl.DataFrame, settings: MatchingSettings) -> pl.Series:
    """Records without a full name (a first name missing or cut to an initial, or no last name)
    whose accepted pairs reach two people: "T. Morales" or "Morales" at the Morales' address
    links to Teresa and to Tina alike, and must not make them one customer. The people are the
    clusters the other records form without such records, or two records of one cluster that the
    household guard keeps apart. A bridge is left on its own rather than given to either."""
    if edges.is_empty():
        return pl.Series("record_id", [], dtype=pl.String)
    short = (pl.col("first_name").is_null() | (pl.col("first_name").str.len_chars() <= 1) | pl.col("last_name").is_null())
    ambiguous = nodes.filter(short).select("record_id")
    ends = ("record_id_l", "record_id_r")
    anchored = edges.join(ambiguous, left_on="record_id_l", right_on="record_id", how="anti").join(
        ambiguous, left_on="record_id_r", right_on="record_id", how="anti")
    anchors = find_clusters(pl.concat([edges[end] for end in ends]), anchored)
    # Records the guard keeps apart are two people even inside one anchor cluster.
    apart = pairs.filter(_kept_apart(settings)).select(*ends)
    reached = pl.concat([
        edges.join(ambiguous, left_on=near, right_on="record_id", how="semi").select(
            pl.col(near).alias("record_id"), pl.col(far).alias("neighbour"))
        for near, far in (ends, ends[::-1])
    ]).join(ambiguous, left_on="neighbour", right_on="record_id", how="anti").join(
        anchors.rename({"record_id": "neighbour"}), on="neighbour")
    to_two_clusters = reached.group_by("record_id").agg(pl.col("cluster").n_unique().alias("people")).filter(pl.col("people") > 1)
    to_two_apart = reached.join(reached, on="record_id", suffix="_other").join(
        apart, left_on=["neighbour", "neighbour_other"], right_on=list(ends), how="semi")
    return pl.concat([to_two_clusters["record_id"], to_two_apart["record_id"]]).unique()


def label_match_decisions(
    pairs: pl.DataFrame, settings: MatchingSettings, nodes: pl.DataFrame | duckdb.DuckDBPyRelation | None = None
) -> pl.DataFrame:
    """The scored pairs with `is_accepted` and the `decision` behind it, for explaining any pair.

    `accepted` (pair score at or above the threshold, not kept apart), `accepted: cluster evidence`
    (see `_closure_edges`), `kept apart: first name different, birthdate <level>` (the household
    guard; `whole name different` where last names differ too), `left apart: no full name, between two people` (see `_bridges`), or `below threshold`.
    """
    edge_keys = ["record_id_l", "record_id_r"]
    above = (pl.col("match_probability") >= settings.match_threshold) & ~_kept_apart(settings)
    accepted = select_match_edges(pairs, settings, nodes).with_columns(pl.lit(True).alias("is_accepted"))
    kept_apart = pl.when(_kept_apart(settings)).then(
        pl.concat_str(
            pl.lit("kept apart: "),
            pl.when(pl.col("name_level") == DIFFERENT_LABEL).then(pl.lit("whole name")).otherwise(pl.lit("first name")),
            pl.lit(" different, birthdate "), pl.col("birthdate_level"),
        )
    )
    return (
        pairs.join(accepted, on=edge_keys, how="left")
        .with_columns(pl.col("is_accepted").fill_null(False))
        .with_columns(
            pl.when(pl.col("is_accepted") & above).then(pl.lit("accepted"))
            .when(pl.col("is_accepted")).then(pl.lit("accepted: cluster evidence"))
            .when(above).then(pl.lit("left apart: no full name, between two people"))
            .when(pl.col("match_probability") >= settings.match_threshold).then(kept_apart)
            .otherwise(pl.lit("below threshold"))
            .alias("decision")
        )
    )

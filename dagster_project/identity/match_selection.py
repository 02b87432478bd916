"""From scored pairs to the identity graph's edges: the threshold, the household guard, and the
cluster-level evidence that links records whose only clue is a name or a single identifier
(pairwise scores alone cannot: the prior odds of a match between two random records outweigh it;
see `_closure_edges`). Every decision is labelled for the explain command.

Plain functions, no Dagster: the identity assets wrap them.
"""

from __future__ import annotations

import duckdb
import polars as pl

from dagster_project.identity.customer_ids import find_clusters
from dagster_project.identity.household_guard import household_bridges, kept_apart, overrules_shared_phone
from dagster_project.identity.match_comparisons import ADDRESS, DIFFERENT_LABEL, SURNAME_IN_PLACE_LABEL
from dagster_project.identity.match_model import MatchingSettings, as_node_frame, with_name_forms

# A cluster holding none of these is "thin": nothing in it could contradict a namesake.
_DISTINGUISHING_COLUMNS = ("phone_e164", "street", "postcode", "birthdate")


# Facts that, known on both sides and different, say two bearers of one name are two people.
_CONTRADICTING_COLUMNS = ("birthdate", "phone_e164")


# The address level at which a surname alone joins its one bearer there (`_surname_alone_links`).
_SAME_ADDRESS_LABEL = ADDRESS.levels[0].label

# Identifiers a nameless record (a SendGrid recipient) can be tied to its person by.
_IDENTIFIER_COMPARISONS = {"email": "email", "phone_e164": "phone"}


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
      seen before every record of the other, as a move leaves them (namesakes live side by side),
      and the name is not common (`max_expected_namesakes_mover`: two James Lees one after the
      other are as likely two people). A full name writes the first name out ("m lewis" may be
      any M. Lewis). A pair score cannot see that a name is unique in the data, only how common
      its parts are.
      A name held by one cluster with a phone, address or birthdate and several thin ones joins
      them all;
    - surname closure: a surname alone at an address joins the one cluster of that surname there
      (`_surname_alone_links`).

    Only scored pairs the guard does not keep apart are returned, so that the accepted pairs are a subset of the
    scored ones.
    """
    candidates = pairs.filter(~kept_apart(settings)).select("record_id_l", "record_id_r", *(
        f"{comparison}_match_weight" for comparison in _IDENTIFIER_COMPARISONS.values()
    ))
    columns = dict.fromkeys(("record_id", "first_name", "last_name", *_IDENTIFIER_COMPARISONS, *_DISTINGUISHING_COLUMNS))
    seen = pl.col("last_seen_at") if "last_seen_at" in nodes.columns else pl.lit(None, dtype=pl.Datetime("us"))
    records = with_name_forms(nodes.select(*columns, seen.alias("last_seen_at")), settings.nicknames)
    is_named = pl.col("first_name").is_not_null() | pl.col("last_name").is_not_null()
    named = records.filter(is_named)
    named_ids = named.select("record_id")
    # The identifier comparisons have one level above null, the exact one, so a positive weight means equal values.
    same_identifier = pl.any_horizontal(pl.col(f"{c}_match_weight") > 0 for c in _IDENTIFIER_COMPARISONS.values())
    # Without the edges of records that would bridge two people ("payne" at the Paynes' address):
    # through them one person's cluster would carry another's birthdate.
    unbridged = edges.join(household_bridges(pairs, edges, nodes, settings), on=["record_id_l", "record_id_r"], how="anti")
    provisional_edges = pl.concat([unbridged, candidates.filter(same_identifier).select("record_id_l", "record_id_r")])
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
    # A full name writes the first name out: "m lewis" may be any M. Lewis.
    keyed = named.with_columns(cluster_is_thin.alias("is_thin"), full_name.alias("full_name")).filter(
        pl.col("full_name").is_not_null(), pl.col("first_name").str.len_chars() > 1
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
    expected_namesakes = named["cluster"].n_unique() * pl.col("formal_first_name_share") * pl.col("last_name_share")
    rare = name_parts.filter(expected_namesakes < settings.max_expected_namesakes).select("full_name")
    # Two James Lees seen one after the other are as likely two people as one who moved.
    mover_may_join = name_parts.filter(expected_namesakes < settings.max_expected_namesakes_mover).select("full_name")
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
        two_bearers.filter(~contradicted, one_after_the_other.fill_null(False)).join(mover_may_join, on="full_name", how="semi")
        .select("full_name"),
        two_bearers.filter(~contradicted).join(rare, on="full_name", how="semi").select("full_name"),
    ]).unique()
    bearers = keyed.join(unique_names, on="full_name", how="semi").select("record_id", "full_name", "cluster")
    accepted.append(
        bearers.join(bearers, on="full_name", suffix="_other")
        .filter(pl.col("cluster") != pl.col("cluster_other"))
        .select("record_id", pl.col("record_id_other").alias("holder"))
    )

    accepted.append(_surname_alone_links(pairs, named, settings))
    links = pl.concat(accepted)
    # Either orientation of a scored pair.
    return pl.concat([
        candidates.join(links, left_on=["record_id_l", "record_id_r"], right_on=["record_id", "holder"], how="semi"),
        candidates.join(links, left_on=["record_id_r", "record_id_l"], right_on=["record_id", "holder"], how="semi"),
    ]).select("record_id_l", "record_id_r").unique(maintain_order=True)


def _surname_alone_links(pairs: pl.DataFrame, named: pl.DataFrame, settings: MatchingSettings) -> pl.DataFrame:
    """A surname alone in the first-name field ("delarosa" on a guest order) at an address joins the
    one provisional cluster bearing that surname at that very address (street and postcode); where
    two do (a household), it stays apart. Its pair score cannot tell the two cases apart."""
    ends = ("record_id_l", "record_id_r")
    in_place = pairs.filter(
        ~kept_apart(settings), pl.col("name_level") == SURNAME_IN_PLACE_LABEL, pl.col("address_level") == _SAME_ADDRESS_LABEL
    ).select(*ends)
    sides = pl.concat([in_place.select(pl.col(near).alias("record_id"), pl.col(far).alias("holder")) for near, far in (ends, ends[::-1])])
    surname_alone = named.filter(pl.col("first_name").is_not_null(), pl.col("last_name").is_null()).select("record_id")
    sides = (
        sides.join(surname_alone, on="record_id", how="semi")
        .join(surname_alone, left_on="holder", right_on="record_id", how="anti")
        .join(named.select(pl.col("record_id").alias("holder"), "cluster"), on="holder")
    )
    one_cluster = sides.group_by("record_id").agg(pl.col("cluster").n_unique().alias("clusters")).filter(pl.col("clusters") == 1)
    return sides.join(one_cluster, on="record_id", how="semi").select("record_id", "holder")


def select_match_edges(
    pairs: pl.DataFrame,
    settings: MatchingSettings = MatchingSettings(),
    nodes: pl.DataFrame | duckdb.DuckDBPyRelation | None = None,
) -> pl.DataFrame:
    """The scored pairs that are edges of the identity graph.

    A pair is an edge at or above the threshold unless the household guard keeps it apart. Given the
    nodes that were scored (and `settings.closure_rules`), the pairs that cluster-level evidence
    accepts are edges too (`_closure_edges`), and a record without a full name loses its edges
    where they would join two people (`household_bridges`).
    """
    edges = pairs.filter(pl.col("match_probability") >= settings.match_threshold, ~kept_apart(settings)).select(
        "record_id_l", "record_id_r"
    )
    if nodes is None or not settings.closure_rules:
        return edges
    frame = as_node_frame(nodes)
    edges = pl.concat([edges, _closure_edges(pairs, edges, frame, settings)]).unique(maintain_order=True)
    return edges.join(household_bridges(pairs, edges, frame, settings), on=["record_id_l", "record_id_r"], how="anti")


def label_match_decisions(
    pairs: pl.DataFrame, settings: MatchingSettings, nodes: pl.DataFrame | duckdb.DuckDBPyRelation | None = None
) -> pl.DataFrame:
    """The scored pairs with `is_accepted` and the `decision` behind it, for explaining any pair.

    `accepted` (pair score at or above the threshold, not kept apart), `accepted: cluster evidence`
    (see `_closure_edges`), `kept apart: first name different, birthdate <level>` (the household
    guard; `whole name different` where last names differ too; `…, the shared phone is the
    household's` where the pair shares a phone, at any score), `left apart: no full name, between two
    people` (see `household_bridges`), or `below threshold`. `overrules_shared_phone` marks the
    pairs whose deterministic phone edge does not stand (`graph_edges`).
    """
    edge_keys = ["record_id_l", "record_id_r"]
    above = (pl.col("match_probability") >= settings.match_threshold) & ~kept_apart(settings)
    accepted = select_match_edges(pairs, settings, nodes).with_columns(pl.lit(True).alias("is_accepted"))
    apart_decision = pl.concat_str(
        pl.lit("kept apart: "),
        pl.when(pl.col("name_level") == DIFFERENT_LABEL).then(pl.lit("whole name"))
        .when(pl.col("first_names_differ")).then(pl.lit("first name"))
        .otherwise(pl.lit("first name in the email")),
        pl.lit(" different, birthdate "), pl.col("birthdate_level"),
    )
    return (
        pairs.join(accepted, on=edge_keys, how="left")
        .with_columns(pl.col("is_accepted").fill_null(False), overrules_shared_phone(settings).alias("overrules_shared_phone"))
        .with_columns(
            pl.when(pl.col("is_accepted") & above).then(pl.lit("accepted"))
            .when(pl.col("is_accepted")).then(pl.lit("accepted: cluster evidence"))
            .when(above).then(pl.lit("left apart: no full name, between two people"))
            .when(pl.col("overrules_shared_phone")).then(pl.concat_str(apart_decision, pl.lit(", the shared phone is the household's")))
            .when((pl.col("match_probability") >= settings.match_threshold) & kept_apart(settings)).then(apart_decision)
            .otherwise(pl.lit("below threshold"))
            .alias("decision")
        )
    )

"""The household guard: when the evidence says two records are two people of one household (first
names that cannot be one name written another way, and birthdates that do not agree), and which
edges of a record without a full name would join two such people.

Plain functions, no Dagster: `match_selection` applies them.
"""

from __future__ import annotations

import polars as pl

from dagster_project.identity.customer_ids import find_clusters
from dagster_project.identity.match_comparisons import AGREEING_BIRTHDATE_LEVELS, DIFFERENT_LABEL
from dagster_project.identity.match_model import MatchingSettings


def kept_apart(settings: MatchingSettings) -> pl.Expr:
    """The evidence says two people (see `MatchingSettings.household_guard`)."""
    if not settings.household_guard:
        return pl.lit(False)
    # A birthdate one slip apart is no alibi for a whole name that differs (a household's two
    # members born on the same day of different years).
    birthdates_agree = pl.col("birthdate_level").is_in(AGREEING_BIRTHDATE_LEVELS) & (
        (pl.col("name_level") != DIFFERENT_LABEL) | (pl.col("birthdate_level") == "exact")
    )
    return (pl.col("first_names_differ") | pl.col("email_names_differ")) & ~birthdates_agree


def overrules_shared_phone(settings: MatchingSettings) -> pl.Expr:
    """The guard keeps apart two records that share a phone and no email: the phone is the
    household's (Kate and Jeannette Worthy's landline, the second record signed only "Worthy" with
    `jeannetteworthy84@…`), so the deterministic rule's edge on it does not stand either. Two
    records with one email are left to the rule: the email is then no evidence of another first
    name, and dbt's identifier assessment already judged the names of all its holders."""
    return kept_apart(settings) & (pl.col("phone_level") == "exact") & (pl.col("email_level") != "exact")


def household_bridges(pairs: pl.DataFrame, edges: pl.DataFrame, nodes: pl.DataFrame, settings: MatchingSettings) -> pl.DataFrame:
    """The edges to drop for records without a full name (a first name missing or cut to an
    initial, or no last name) whose accepted pairs reach two people: "T. Morales" or "Morales" at
    the Morales' address links to Teresa and to Tina alike, and must not make them one customer.
    The people are the clusters the other records form without such records, or two records of
    one cluster that the household guard keeps apart. Such a bridge is left on its own rather than
    given to either (all its edges), unless its birthdate settles it: it agrees with one person's
    and differs from every other's, and then only its edges to the others go."""
    ends = ("record_id_l", "record_id_r")
    if edges.is_empty():
        return edges.select(*ends)
    short = (pl.col("first_name").is_null() | (pl.col("first_name").str.len_chars() <= 1) | pl.col("last_name").is_null())
    ambiguous = nodes.filter(short).select("record_id")
    anchored = edges.join(ambiguous, left_on="record_id_l", right_on="record_id", how="anti").join(
        ambiguous, left_on="record_id_r", right_on="record_id", how="anti")
    anchors = find_clusters(pl.concat([edges[end] for end in ends]), anchored)
    # Records the guard keeps apart are two people even inside one anchor cluster.
    apart = pairs.filter(kept_apart(settings)).select(*ends)
    birthdates = pairs.select(*ends, pl.col("birthdate_level").is_in(AGREEING_BIRTHDATE_LEVELS).alias("birthdate_agrees"),
                              (pl.col("birthdate_level") == "different").alias("birthdate_differs"))
    edge_facts = edges.select(*ends).join(birthdates, on=list(ends), how="left").with_columns(
        pl.col("birthdate_agrees").fill_null(False), pl.col("birthdate_differs").fill_null(False))
    reached = pl.concat([
        edge_facts.join(ambiguous, left_on=near, right_on="record_id", how="semi").select(
            pl.col(near).alias("record_id"), pl.col(far).alias("neighbour"), "birthdate_agrees", "birthdate_differs")
        for near, far in (ends, ends[::-1])
    ]).join(ambiguous, left_on="neighbour", right_on="record_id", how="anti").join(
        anchors.rename({"record_id": "neighbour"}), on="neighbour")
    # A person whose known birthdate differs (on any record it reaches there) is not this one.
    per_person = reached.group_by("record_id", "cluster").agg(pl.col("birthdate_agrees").any(), pl.col("birthdate_differs").any())
    to_two_clusters = per_person.group_by("record_id").agg(
        pl.len().alias("people"), pl.col("birthdate_agrees").sum().alias("agreeing"),
        (pl.col("birthdate_agrees") | pl.col("birthdate_differs")).all().alias("all_judged"),
    ).filter(pl.col("people") > 1)
    settled = to_two_clusters.filter(pl.col("agreeing") == 1, pl.col("all_judged"))
    # Two people inside one cluster (in two clusters, to_two_clusters has them).
    to_two_apart = reached.join(reached, on="record_id", suffix="_other").filter(pl.col("cluster") == pl.col("cluster_other")).join(
        apart, left_on=["neighbour", "neighbour_other"], right_on=list(ends), how="semi")
    left_alone = pl.concat([to_two_clusters.join(settled, on="record_id", how="anti")["record_id"], to_two_apart["record_id"]]).unique()
    # A settled record keeps only its edges to the person whose birthdate it shares (not those to
    # the others, nor to records without a full name, which could lead to them).
    chosen = per_person.join(settled.select("record_id"), on="record_id", how="semi").filter(pl.col("birthdate_agrees")).join(
        left_alone.to_frame(), on="record_id", how="anti").select("record_id", pl.col("cluster").alias("chosen"))
    to_others = pl.concat([
        edges.select(pl.col(near).alias("record_id"), pl.col(far).alias("neighbour")) for near, far in (ends, ends[::-1])
    ]).join(chosen, on="record_id").join(anchors.rename({"record_id": "neighbour"}), on="neighbour", how="left").filter(
        pl.col("cluster").is_null() | (pl.col("cluster") != pl.col("chosen")))
    return pl.concat([
        edges.filter(pl.col("record_id_l").is_in(left_alone.implode()) | pl.col("record_id_r").is_in(left_alone.implode())).select(*ends),
        edges.join(to_others, left_on=list(ends), right_on=["record_id", "neighbour"], how="semi").select(*ends),
        edges.join(to_others, left_on=list(ends), right_on=["neighbour", "record_id"], how="semi").select(*ends),
    ]).unique()

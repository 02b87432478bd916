"""How well resolved customers match the true people: pairwise and B-cubed scores, over- and under-merges.

Everything is computed from the contingency table of (customer, person) record counts, so a
million records never means enumerating their pairs.
"""

from dataclasses import dataclass

import duckdb
import polars as pl

from dagster_project.identity.customer_ids import find_clusters
from dagster_project.identity.identity_state import ASSIGNMENTS_TABLE, DETERMINISTIC_EDGES_TABLE, NODES_TABLE
from dagster_project.identity.match_model import MatchingSettings
from dagster_project.identity.pair_scoring import candidate_pairs


@dataclass(frozen=True)
class IdentityScores:
    """Agreement between predicted customers and true people over the records both know."""

    records: int
    people: int
    customers: int
    pairwise_precision: float
    pairwise_recall: float
    pairwise_f1: float
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float
    over_merged_customers: int
    """Customers whose records belong to more than one person."""
    people_in_over_merged_customers: int
    under_merged_people: int
    """People whose records are spread over more than one customer."""

    def __str__(self) -> str:
        return "\n".join([
            f"records {self.records:,}  people {self.people:,}  customers {self.customers:,}",
            f"pairwise  precision {self.pairwise_precision:.4f}  recall {self.pairwise_recall:.4f}  F1 {self.pairwise_f1:.4f}",
            f"B-cubed   precision {self.bcubed_precision:.4f}  recall {self.bcubed_recall:.4f}  F1 {self.bcubed_f1:.4f}",
            f"over-merged customers {self.over_merged_customers:,} (holding {self.people_in_over_merged_customers:,} people)",
            f"under-merged people {self.under_merged_people:,}",
        ])


def _pairs(counts: pl.Expr) -> pl.Expr:
    return (counts * (counts - 1) / 2).sum()


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def score_identity_resolution(assignments: pl.DataFrame, truth: pl.DataFrame) -> IdentityScores:
    """Compare `record_id → customer_id` with `record_id → person_id` on the records in both."""
    joined = assignments.select("record_id", "customer_id").join(truth.select("record_id", "person_id"), on="record_id")
    cells = joined.group_by("customer_id", "person_id").len("n")
    per_customer = cells.group_by("customer_id").agg(pl.col("n").sum(), pl.len().alias("people"))
    per_person = cells.group_by("person_id").agg(pl.col("n").sum(), pl.len().alias("customers"))
    true_positive = cells.select(_pairs(pl.col("n"))).item()
    predicted = per_customer.select(_pairs(pl.col("n"))).item()
    actual = per_person.select(_pairs(pl.col("n"))).item()
    # B-cubed: each record's share of its customer that is its person, and of its person that is its customer.
    records = joined.height
    with_sizes = cells.join(per_customer.select("customer_id", pl.col("n").alias("customer_n")), on="customer_id").join(
        per_person.select("person_id", pl.col("n").alias("person_n")), on="person_id"
    )
    bcubed_precision = with_sizes.select((pl.col("n") ** 2 / pl.col("customer_n")).sum()).item() / records if records else 1.0
    bcubed_recall = with_sizes.select((pl.col("n") ** 2 / pl.col("person_n")).sum()).item() / records if records else 1.0
    precision = true_positive / predicted if predicted else 1.0
    recall = true_positive / actual if actual else 1.0
    over = per_customer.filter(pl.col("people") > 1)
    return IdentityScores(
        records=records,
        people=per_person.height,
        customers=per_customer.height,
        pairwise_precision=precision,
        pairwise_recall=recall,
        pairwise_f1=_f1(precision, recall),
        bcubed_precision=bcubed_precision,
        bcubed_recall=bcubed_recall,
        bcubed_f1=_f1(bcubed_precision, bcubed_recall),
        over_merged_customers=over.height,
        people_in_over_merged_customers=int(over["people"].sum() or 0),
        under_merged_people=per_person.filter(pl.col("customers") > 1).height,
    )


def _without_distinguishing_facts(nodes: pl.DataFrame) -> pl.DataFrame:
    """Records with no street, postcode or birthdate, and an email and phone (where they have one)
    that no other record carries: only their name could place them."""
    shared = [
        nodes.group_by(column).agg(pl.len().alias("carriers")).filter(pl.col(column).is_not_null(), pl.col("carriers") > 1)
        .select(column)
        for column in ("email", "phone_e164")
    ]
    return (
        nodes.filter(pl.all_horizontal(pl.col(c).is_null() for c in ("street", "postcode", "birthdate")))
        .join(shared[0], on="email", how="anti")
        .join(shared[1], on="phone_e164", how="anti")
    )


def evidence_free_records(nodes: pl.DataFrame, truth: pl.DataFrame | None = None) -> pl.DataFrame:
    """Records nothing in the data can place: no street, postcode or birthdate, an email and phone
    (where they have one) that no other record carries, and at most a first name, or (given the
    `truth`) a first and last name that another person writes exactly so too.

    A support requester who signed "Holly" from an address used nowhere else, or a recipient
    address of the email tool seen in no other system; a requester "Mary Navarro" writing from an
    address used nowhere else when two Mary Navarros buy, between whom a matcher can only guess.
    The truth knows whose they are; no matcher can, so `cxp eval identity` also scores the pairs
    among the other records, as the ceiling that real-world exports set."""
    candidates = _without_distinguishing_facts(nodes)
    first_name_at_most = candidates.filter(pl.col("last_name").is_null()).select("record_id")
    if truth is None:
        return first_name_at_most
    full_name = pl.concat_str("first_name", "last_name", separator=" ")
    people_per_name = (
        nodes.join(truth.select("record_id", "person_id"), on="record_id")
        .group_by(full_name.alias("full_name")).agg(pl.col("person_id").n_unique().alias("people"))
    )
    namesakes = candidates.with_columns(full_name.alias("full_name")).join(people_per_name.filter(pl.col("people") > 1), on="full_name", how="semi")
    return pl.concat([first_name_at_most, namesakes.select("record_id")]).unique()


def read_resolved_customers(connection: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """`record_id → customer_id` as the pipeline resolved it (deterministic rules and Splink)."""
    return connection.sql(f"SELECT record_id, customer_id FROM {ASSIGNMENTS_TABLE}").pl()


def read_deterministic_only_customers(connection: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """`record_id → customer_id` had only the deterministic rules run: the baseline Splink must beat."""
    record_ids = connection.sql(f"SELECT record_id FROM {NODES_TABLE}").pl()["record_id"]
    edges = connection.sql(f"SELECT record_id_l, record_id_r FROM {DETERMINISTIC_EDGES_TABLE}").pl()
    return find_clusters(record_ids, edges).select("record_id", pl.col("cluster").cast(pl.String).alias("customer_id"))


def read_truth(truth_dir) -> pl.DataFrame:
    """The generator's record → person truth, keyed like identity nodes (`source:source_key`), with
    each record's `record_classes` (comma-separated; empty where the truth has none)."""
    records = pl.read_parquet(truth_dir / "source_records.parquet")
    classes = pl.col("record_classes") if "record_classes" in records.columns else pl.lit("")
    return records.filter(pl.col("person_id").is_not_null()).select(
        pl.concat_str("source", pl.lit(":"), "source_key").alias("record_id"), pl.col("person_id").cast(pl.String),
        classes.fill_null("").cast(pl.String).alias("record_classes"),
    )


def score_by_record_class(assignments: pl.DataFrame, truth: pl.DataFrame) -> pl.DataFrame:
    """Pairwise precision and recall over the pairs touching a record of each class (a slip such as
    `swap`, or `household` / `namesake`): one row per class with records, true and linked pairs.

    Counted from (customer, person, has the class) cells, so no pair is enumerated: the pairs
    touching a class are all pairs less those between records without it."""
    joined = assignments.select("record_id", "customer_id").join(
        truth.select("record_id", "person_id", "record_classes"), on="record_id"
    )
    classes = sorted(set(joined["record_classes"].str.split(",").explode().drop_nulls().to_list()) - {""})
    rows = []
    for record_class in classes:
        tagged = joined.with_columns(pl.col("record_classes").str.split(",").list.contains(record_class).alias("tagged"))

        def touching(*keys: str) -> int:
            cells = tagged.group_by(*keys).agg(pl.len().alias("n"), (~pl.col("tagged")).sum().alias("clean"))
            return int(cells.select(_pairs(pl.col("n")) - _pairs(pl.col("clean"))).item() or 0)

        true_pairs, linked, both = touching("person_id"), touching("customer_id"), touching("customer_id", "person_id")
        rows.append({
            "record_class": record_class, "records": int(tagged["tagged"].sum()), "true_pairs": true_pairs,
            "linked_pairs": linked, "precision": both / linked if linked else 1.0,
            "recall": both / true_pairs if true_pairs else 1.0,
        })
    return pl.DataFrame(rows, schema={"record_class": pl.String, "records": pl.Int64, "true_pairs": pl.Int64,
                                      "linked_pairs": pl.Int64, "precision": pl.Float64, "recall": pl.Float64})


@dataclass(frozen=True)
class BlockingScores:
    """How many true pairs the blocking rules hand to the scorer, and at what cost."""

    records: int
    compared_pairs: int
    """Distinct candidate pairs the rules generate: what Splink scores."""
    true_pairs: int
    blocked_true_pairs: int
    connected_true_pairs: int
    """True pairs joined by a chain of blocked true pairs: the most clustering could recover."""

    @property
    def recall(self) -> float:
        return self.blocked_true_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def connected_recall(self) -> float:
        return self.connected_true_pairs / self.true_pairs if self.true_pairs else 1.0

    def __str__(self) -> str:
        return (f"blocking recall {self.recall:.4f} ({self.blocked_true_pairs:,} of {self.true_pairs:,} true pairs; "
                f"{self.connected_recall:.4f} joined through other blocked pairs); "
                f"{self.compared_pairs:,} compared pairs for {self.records:,} records "
                f"({self.compared_pairs / max(self.records, 1):.1f} per record)")


def measure_blocking(connection: duckdb.DuckDBPyConnection, truth: pl.DataFrame,
                     settings: MatchingSettings | None = None) -> BlockingScores:
    """Blocking recall of the pipeline's rules on the warehouse's identity nodes against the truth."""
    nodes = connection.sql(f"SELECT * FROM {NODES_TABLE}").pl()
    if settings is None:
        nicknames = tuple(connection.sql("SELECT first_name, nickname FROM seeds.first_name_nicknames").fetchall())
        settings = MatchingSettings(nicknames=nicknames)
    known = truth.join(nodes.select("record_id"), on="record_id")
    with duckdb.connect() as session:
        candidates = candidate_pairs(session, nodes, settings)
    true_pairs = known.select(_pairs(pl.col("person_id").value_counts().struct.field("count"))).item()
    people = known.select("record_id", "person_id")
    blocked = (
        candidates.join(people, left_on="record_id_l", right_on="record_id")
        .join(people, left_on="record_id_r", right_on="record_id", suffix="_r")
        .filter(pl.col("person_id") == pl.col("person_id_r"))
    )
    connected = find_clusters(known["record_id"], blocked).join(people, on="record_id")
    return BlockingScores(
        records=nodes.height,
        compared_pairs=candidates.height,
        true_pairs=int(true_pairs or 0),
        blocked_true_pairs=blocked.height,
        connected_true_pairs=int(connected.group_by("cluster", "person_id").len().select(_pairs(pl.col("len"))).item() or 0),
    )

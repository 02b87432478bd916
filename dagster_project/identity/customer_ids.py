"""Stable customer ids: clusters of source records keep their id from run to run.

A person keeps their id when new records join them. When clusters merge, the oldest id
survives and the others are retired with a mapping to it; when a cluster splits, the part
holding most of its records keeps the id and the rest get new ones. Every change is an
event, so nothing downstream sees an id vanish without a mapping.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import polars as pl

# Instances (`pl.String()`, which pl.Schema makes of `pl.String` anyway) in a pl.Schema: typed for both `schema=` and `cast`.
ASSIGNMENT_SCHEMA = pl.Schema({"record_id": pl.String(), "customer_id": pl.String(), "customer_created_at": pl.Datetime("us")})
EVENT_SCHEMA = pl.Schema({
    "event_type": pl.String(), "customer_id": pl.String(), "related_customer_id": pl.String(),
    "record_count": pl.Int64(), "happened_at": pl.Datetime("us"),
})
RETIRED_SCHEMA = pl.Schema({"retired_customer_id": pl.String(), "current_customer_id": pl.String(), "retired_at": pl.Datetime("us")})


def find_clusters(record_ids: pl.Series, edges: pl.DataFrame) -> pl.DataFrame:
    """Connected components over accepted edges (`record_id_l`, `record_id_r`): one row per record."""
    # Imported here: the id tables' readers (`cxp explain`) import this module for its schemas and
    # should not pay for SciPy's import.
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    index = pl.DataFrame({"record_id": record_ids.unique().sort()}).with_row_index("node")
    pairs = (
        edges.select("record_id_l", "record_id_r")
        .join(index.rename({"record_id": "record_id_l", "node": "left"}), on="record_id_l")
        .join(index.rename({"record_id": "record_id_r", "node": "right"}), on="record_id_r")
    )
    size = index.height
    graph = coo_matrix(
        (np.ones(pairs.height, dtype=np.int8), (pairs["left"].to_numpy(), pairs["right"].to_numpy())), shape=(size, size)
    )
    _, labels = connected_components(graph, directed=False)
    return index.select("record_id", pl.Series("cluster", labels, dtype=pl.Int64))


@dataclass(frozen=True)
class CustomerIdAssignment:
    """The outcome of one run: ids per record, what changed, and where retired ids now point."""

    assignments: pl.DataFrame
    """`record_id`, `customer_id`, `customer_created_at`."""
    events: pl.DataFrame
    """`event_type` (created, merged, split), `customer_id`, `related_customer_id`, `record_count`, `happened_at`."""
    retired: pl.DataFrame
    """Every id ever retired, mapped to the live id that carries its records now."""


def assign_customer_ids(
    clusters: pl.DataFrame, previous: pl.DataFrame, previously_retired: pl.DataFrame, run_at: datetime
) -> CustomerIdAssignment:
    """Give each cluster an id, keeping the ids of the previous run wherever the records allow."""
    claims = _claims(clusters, previous)
    home = _home_clusters(claims)
    taken = set(previous["customer_id"].to_list()) | set(previously_retired["retired_customer_id"].to_list())
    # Python lists, not polars Series: iterating a Series element by element is ~20x slower (1M records).
    first_seen = previous.select("customer_id", "customer_created_at").unique("customer_id")
    created_at = dict(zip(first_seen["customer_id"].to_list(), first_seen["customer_created_at"].to_list()))
    ids: dict[int, tuple[str, datetime]] = {}
    events: list[tuple] = []
    retired: list[tuple[str, str]] = []
    clusters_by_id = clusters.group_by("cluster").agg(pl.col("record_id").min().alias("first_record"), pl.len().alias("size"))
    homes_by_cluster = home.group_by("cluster").agg(pl.col("customer_id"))
    homes = dict(zip(homes_by_cluster["cluster"].to_list(), homes_by_cluster["customer_id"].to_list()))
    known_before = set(claims["cluster"].to_list())
    for cluster, first_record, size in clusters_by_id.sort("cluster").iter_rows():
        candidates = sorted(homes.get(cluster, []), key=lambda customer: (created_at[customer], customer))
        if candidates:
            survivor = candidates[0]
            ids[cluster] = (survivor, created_at[survivor])
            for other in candidates[1:]:
                events.append(("merged", other, survivor, size, run_at))
                retired.append((other, survivor))
            continue
        customer = _new_customer_id(first_record, taken)
        taken.add(customer)
        ids[cluster] = (customer, run_at)
        if cluster not in known_before:  # a part split off a known customer is recorded as that split
            events.append(("created", customer, None, size, run_at))
    events += _split_events(claims, home, ids, run_at)
    lookup = pl.DataFrame(
        {"cluster": list(ids), "customer_id": [v[0] for v in ids.values()], "customer_created_at": [v[1] for v in ids.values()]},
        schema={"cluster": pl.Int64, "customer_id": pl.String, "customer_created_at": pl.Datetime("us")},
    )
    assignments = clusters.join(lookup, on="cluster").select(list(ASSIGNMENT_SCHEMA)).sort("record_id")
    return CustomerIdAssignment(
        assignments=assignments,
        events=pl.DataFrame(events, schema=EVENT_SCHEMA, orient="row"),
        retired=_flatten_retired(previously_retired, retired, run_at),
    )


def _claims(clusters: pl.DataFrame, previous: pl.DataFrame) -> pl.DataFrame:
    """How many records of each previous customer sit in each new cluster."""
    return (
        clusters.join(previous.select("record_id", "customer_id"), on="record_id")
        .group_by("customer_id", "cluster")
        .agg(pl.len().alias("records"), pl.col("record_id").min().alias("first_record"))
    )


def _home_clusters(claims: pl.DataFrame) -> pl.DataFrame:
    """Each previous id stays with the cluster holding most of its records (ties: the earliest record)."""
    return claims.sort(["customer_id", "records", "first_record"], descending=[False, True, False]).unique(
        "customer_id", keep="first", maintain_order=True
    )


def _split_events(claims: pl.DataFrame, home: pl.DataFrame, ids: dict, run_at: datetime) -> list[tuple]:
    """A previous id whose records now also sit outside its home cluster was split."""
    away = claims.join(home.select("customer_id", pl.col("cluster").alias("home")), on="customer_id").filter(
        pl.col("cluster") != pl.col("home")
    )
    return [
        ("split", customer, ids[cluster][0], records, run_at)
        for customer, cluster, records in away.select("customer_id", "cluster", "records").sort("customer_id", "cluster").iter_rows()
    ]


def _new_customer_id(first_record: str, taken: set[str]) -> str:
    """Derived from the cluster's first record, so a rebuild from scratch gives the same ids."""
    attempt = 0
    while True:
        seed = first_record if attempt == 0 else f"{first_record}#{attempt}"
        customer = "cus_" + hashlib.sha256(seed.encode()).hexdigest()[:16]
        if customer not in taken:
            return customer
        attempt += 1


def _flatten_retired(previously_retired: pl.DataFrame, retired_now: list[tuple[str, str]], run_at: datetime) -> pl.DataFrame:
    """Point every retired id at a live id, also when its survivor was itself retired in this run."""
    now = dict(retired_now)

    def live(customer: str) -> str:
        while customer in now:
            customer = now[customer]
        return customer

    earlier = [(old, live(current), at) for old, current, at in previously_retired.iter_rows()]
    fresh = [(old, live(old), run_at) for old in now]
    return pl.DataFrame(earlier + fresh, schema=RETIRED_SCHEMA, orient="row").sort("retired_customer_id")

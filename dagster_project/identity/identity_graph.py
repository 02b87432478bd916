"""The identity graph's edges: what the deterministic rules and Splink's accepted pairs join, less
the rules' edges that the scored evidence overrules.

Polars only (no Splink, no Dagster), so that `cxp explain` reads the graph as the pipeline builds it
without loading the matcher.
"""

import polars as pl


def graph_edges(deterministic: pl.DataFrame, pairs: pl.DataFrame) -> pl.DataFrame:
    """The identity graph's edges: the deterministic rules' (`record_id_l`, `record_id_r`,
    `match_type`) but a shared phone whose pair the household guard keeps apart (the pairs'
    `overrules_shared_phone`, see `label_match_decisions`), and the accepted scored pairs, as
    `record_id_l`, `record_id_r`, `kind` (`email`, `phone` or `probabilistic`)."""
    ends = ["record_id_l", "record_id_r"]
    overruling = (
        pairs.filter(pl.col("overrules_shared_phone")).select(*ends) if "overrules_shared_phone" in pairs.columns
        else pl.DataFrame(schema=dict.fromkeys(ends, pl.String))
    )
    # Either orientation: the rules anchor an identifier's records on its first, Splink orders its own way.
    overruled = pl.concat([overruling, overruling.select(pl.col("record_id_r").alias("record_id_l"), pl.col("record_id_l").alias("record_id_r"))])
    standing = pl.concat([
        deterministic.filter(pl.col("match_type") != "phone"),
        deterministic.filter(pl.col("match_type") == "phone").join(overruled, on=ends, how="anti"),
    ])
    return pl.concat([
        standing.select(*ends, pl.col("match_type").alias("kind")),
        pairs.filter(pl.col("is_accepted")).select(*ends, pl.lit("probabilistic").alias("kind")),
    ])

"""Asset metadata that explains the identity stage in the Dagster UI: why pairs were accepted or
not, which links are the weakest, how large customers grew, and the `cxp explain` command for each."""

import dagster as dg
import polars as pl

_SHOWN = 5


def match_decision_metadata(pairs: pl.DataFrame) -> dict[str, dg.MetadataValue]:
    """Pairs per decision, and the accepted pairs with the least evidence, weight by weight."""
    if pairs.is_empty():
        return {}
    decisions = pairs.group_by("decision").len().sort("len", descending=True)
    weight_columns = [c for c in pairs.columns if c.endswith("_match_weight")]
    weakest = pairs.filter(pl.col("is_accepted")).sort("match_probability", "record_id_l", "record_id_r").head(_SHOWN)
    header = ["pair", "probability", "decision", *(c.removesuffix("_match_weight") for c in weight_columns)]
    rows = [
        [f"`cxp explain records {row['record_id_l']} {row['record_id_r']}`", f"{row['match_probability']:.3f}", row["decision"],
         *(f"{row[c]:+.1f}" if row[c] is not None else "" for c in weight_columns)]
        for row in weakest.iter_rows(named=True)
    ]
    return {
        "pairs_by_decision": dg.MetadataValue.md(_table(["decision", "pairs"], decisions.rows())),
        "weakest_accepted_pairs": dg.MetadataValue.md(_table(header, rows)),
    }


def customer_size_metadata(assignments: pl.DataFrame) -> dict[str, dg.MetadataValue]:
    """How many customers hold 1, 2, … records, and the largest customers to look at first."""
    sizes = assignments.group_by("customer_id").len("records")
    bands = sizes.with_columns(
        pl.when(pl.col("records") <= 5).then(pl.col("records").cast(pl.String))
        .when(pl.col("records") <= 10).then(pl.lit("6-10"))
        .when(pl.col("records") <= 50).then(pl.lit("11-50"))
        .otherwise(pl.lit("over 50")).alias("records_per_customer"),
        pl.col("records").alias("order_key"),
    ).group_by("records_per_customer").agg(pl.len().alias("customers"), pl.col("order_key").min()).sort("order_key")
    largest = sizes.sort(["records", "customer_id"], descending=[True, False]).head(_SHOWN)
    return {
        "customers_by_size": dg.MetadataValue.md(_table(["records per customer", "customers"], bands.select("records_per_customer", "customers").rows())),
        "largest_customers": dg.MetadataValue.md(_table(
            ["customer", "records"], [(f"`cxp explain customer {c}`", n) for c, n in largest.iter_rows()]
        )),
    }


def _table(header: list[str], rows: list) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)

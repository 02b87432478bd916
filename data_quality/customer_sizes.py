"""The suite on identity resolution's output: the distribution of customer sizes.

A customer holding hundreds of source records is almost never one person: it is a shared
identifier or a bad probabilistic link fusing clusters. It blocks the customer 360, which would
otherwise hand every feature and model one giant pseudo-customer.
"""

from __future__ import annotations

import duckdb

from data_quality.rules import Batch, Rule, Severity, Suite
from data_quality.thresholds import IdentityThresholds

ASSIGNMENTS_TABLE = "identity.customer_id_assignments"


def customer_size_suite(t: IdentityThresholds) -> Suite:
    """Rules on records per customer."""
    return Suite(name="identity_customer_sizes", rules=(
        Rule("no_giant_customer", Severity.BLOCKING,
             f"No customer holds more than {t.max_records_per_customer} source records (an over-merge).",
             "customers", lambda gxe: [gxe.ExpectColumnValuesToBeBetween(column="records", max_value=t.max_records_per_customer)]),
        Rule("large_customers_rare", Severity.WARNING,
             f"At most {t.max_share_of_large_customers:.2%} of customers hold more than {t.large_customer_records} records.",
             "customers", lambda gxe: [gxe.ExpectColumnValuesToBeBetween(
                 column="records", max_value=t.large_customer_records, mostly=1 - t.max_share_of_large_customers)]),
    ))


def build_customer_size_batches(connection: duckdb.DuckDBPyConnection) -> dict[str, Batch]:
    """One row per customer with its record count."""
    customers = connection.execute(
        f"SELECT customer_id, count(*) AS records FROM {ASSIGNMENTS_TABLE} GROUP BY 1 ORDER BY 2 DESC, 1"
    ).df()
    return {"customers": Batch(customers, ("customer_id",))}

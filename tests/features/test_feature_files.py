"""The Parquet files Feast reads follow the feature table, including when its columns change."""

import duckdb
import pyarrow.parquet as pq

from feature_repo.feature_files import export_feature_table


def _table(connection: duckdb.DuckDBPyConnection, interests_sql: str) -> None:
    connection.execute(f"""
        CREATE OR REPLACE TABLE features.customer_profile_features AS
        SELECT 'cus_' || range AS customer_id, DATE '2026-01-01' + range::int AS snapshot_date,
               md5(range::varchar) AS feature_hash, {interests_sql} AS interests
        FROM range(3)""")


def test_a_column_that_changes_type_rewrites_every_date_and_the_schema_stays_one(tmp_path):
    with duckdb.connect() as connection:
        connection.execute("CREATE SCHEMA features")
        _table(connection, "'Books;Home'")
        first = export_feature_table(connection, "customer_profile_features", tmp_path)
        assert len(first.dates_written) == 3
        # The same rows, hashes unchanged: nothing is written again.
        assert export_feature_table(connection, "customer_profile_features", tmp_path).dates_written == []
        # The column becomes a list (as an upgrade of cxp does): every date is rewritten in the new type.
        connection.execute("ALTER TABLE features.customer_profile_features ALTER interests SET DATA TYPE varchar[] "
                           "USING string_split(interests, ';')")
        assert len(export_feature_table(connection, "customer_profile_features", tmp_path).dates_written) == 3
    types = {str(pq.read_schema(path).field("interests").type) for path in tmp_path.glob("customer_profile_features/*/*.parquet")}
    assert types == {"list<element: string>"}

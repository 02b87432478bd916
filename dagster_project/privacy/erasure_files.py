"""Right to erasure outside the warehouse: Parquet files (feature snapshots, nightly scores, the
saved training sets and evaluation rows of every model version) and the Feast online store."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from dagster_project.privacy.erasure_requests import Deletion


def erase_from_parquet_files(root: Path, store: str, owners: dict[str, str]) -> dict[str, list[Deletion]]:
    """Rewrite every Parquet file under `root` that holds a row of these customers (customer id ->
    the request erasing them), without those rows; per request, a line per folder (a feature
    table, a model) with its files and rows."""
    files = [str(path) for path in sorted(root.rglob("*.parquet")) if "customer_id" in pq.read_schema(path).names] if root.exists() else []
    if not files or not owners:
        return {}
    # One scan of the customer_id columns finds the files to rewrite; the others are left untouched.
    with duckdb.connect() as connection:
        held = connection.execute(
            "SELECT filename, customer_id, count(*) FROM read_parquet($files, filename = true, union_by_name = true) "
            "WHERE customer_id IN (SELECT unnest($ids::VARCHAR[])) GROUP BY ALL ORDER BY ALL",
            {"files": files, "ids": sorted(owners)},
        ).fetchall()
    rows_removed: dict[tuple[str, str], int] = defaultdict(int)
    files_touched: dict[tuple[str, str], set[str]] = defaultdict(set)
    for filename, customer, rows in held:
        key = (owners[customer], Path(filename).relative_to(root).parts[0])
        rows_removed[key] += rows
        files_touched[key].add(filename)
    erased = pa.array(sorted(owners), pa.string())
    for filename in sorted({filename for filename, _, _ in held}):
        path = Path(filename)
        table = pq.read_table(path)
        temporary = path.with_name(path.name + ".erasing")
        pq.write_table(table.filter(pc.invert(pc.is_in(table["customer_id"], value_set=erased))), temporary)
        temporary.replace(path)
    deletions: dict[str, list[Deletion]] = defaultdict(list)
    for (request, folder), rows in sorted(rows_removed.items()):
        touched = len(files_touched[(request, folder)])
        deletions[request].append(Deletion(store, f"{folder} ({touched} file{'s' if touched > 1 else ''})", rows))
    return dict(deletions)

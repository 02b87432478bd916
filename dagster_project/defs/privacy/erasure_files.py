"""Right to erasure outside the warehouse: Parquet files (feature snapshots, nightly scores, the
saved training sets and evaluation rows of every model version) and the Feast online store."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from dagster_project.defs.privacy.erasure import Deletion


def erase_from_parquet_files(root: Path, store: str, customer_ids: set[str]) -> list[Deletion]:
    """Rewrite every Parquet file under `root` that holds a row of these customers, without those rows."""
    files = sorted(str(path) for path in root.rglob("*.parquet")) if root.exists() else []
    if not files or not customer_ids:
        return []
    # One scan of the customer_id column finds the files to rewrite; the others are left untouched.
    with duckdb.connect() as connection:
        holding = connection.execute(
            "SELECT filename, count(*) FROM read_parquet($files, filename = true, union_by_name = true) "
            "WHERE customer_id IN (SELECT unnest($ids::VARCHAR[])) GROUP BY filename ORDER BY filename",
            {"files": files, "ids": sorted(customer_ids)},
        ).fetchall() if any("customer_id" in pq.read_schema(path).names for path in files) else []
    # The audit log gets a line per folder (a feature table, a model): "<folder> (<n> files)".
    removed: dict[str, tuple[int, int]] = {}
    for filename, _ in holding:
        path = Path(filename)
        table = pq.read_table(path)
        kept = table.filter(pc.invert(pc.is_in(table["customer_id"], value_set=pa.array(sorted(customer_ids), pa.string()))))
        temporary = path.with_name(path.name + ".erasing")
        pq.write_table(kept, temporary)
        temporary.replace(path)
        folder = path.relative_to(root).parts[0]
        files, rows = removed.get(folder, (0, 0))
        removed[folder] = (files + 1, rows + table.num_rows - kept.num_rows)
    return [Deletion(store, f"{folder} ({files} file{'s' if files > 1 else ''})", rows) for folder, (files, rows) in sorted(removed.items())]

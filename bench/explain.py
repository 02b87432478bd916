"""`cxp explain customer` and `cxp explain records`: wall-clock time of each, as a user runs it.

Each command runs as its own process (the `cxp` beside this interpreter) against a home a
`cxp run` has built, `--repeats` times; the line printed is the median, with the fastest and
slowest run. Unless given, the ids are picked from the warehouse (read-only): the customer with the
most records, the slowest to explain, and two of its records, which a chain of links joins.

    CXP_HOME=/tmp/explain-home uv run python bench/explain.py [--home DIR] [--repeats 3]
        [--customer ID] [--records A B]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb

CXP = str(Path(sys.executable).with_name("cxp"))


def pick_ids(warehouse: Path) -> tuple[str, tuple[str, str]]:
    """The customer with the most records, and its first and last record."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        largest = connection.execute(
            """SELECT customer_id, min(record_id), max(record_id) FROM identity.customer_id_assignments
               GROUP BY customer_id ORDER BY count(*) DESC, customer_id LIMIT 1"""
        ).fetchone()
    if largest is None:
        sys.exit(f"No customer in {warehouse}: has `cxp run` resolved identities?")
    customer, first, last = largest
    return customer, (first, last)


def time_command(arguments: list[str], home: Path, repeats: int) -> list[float]:
    """Seconds of each of `repeats` runs of `cxp <arguments>`; a failing run stops the bench."""
    environment = {**os.environ, "CXP_HOME": str(home), "DAGSTER_HOME": str(home / "dagster")}
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        finished = subprocess.run([CXP, *arguments], env=environment, capture_output=True, text=True)
        seconds.append(time.perf_counter() - started)
        if finished.returncode != 0:
            sys.exit(f"cxp {' '.join(arguments)} failed ({finished.returncode}):\n{finished.stderr or finished.stdout}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=os.environ.get("CXP_HOME"), help="A home `cxp run` has built [default: CXP_HOME].")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--customer", help="Customer id [default: the one with the most records].")
    parser.add_argument("--records", nargs=2, metavar=("A", "B"), help="Two record ids [default: two of that customer's].")
    options = parser.parse_args()
    if options.home is None:
        parser.error("no home: pass --home or set CXP_HOME")
    home = options.home.resolve()
    warehouse = home / "warehouse.duckdb"
    if not warehouse.exists():
        sys.exit(f"No warehouse at {warehouse}: run `cxp run` with CXP_HOME={home} first.")
    customer, records = pick_ids(warehouse)
    commands = [["explain", "customer", options.customer or customer], ["explain", "records", *(options.records or records)]]
    print(f"home {home}, {options.repeats} run(s) each")
    for arguments in commands:
        seconds = time_command(arguments, home, options.repeats)
        print(f"cxp {' '.join(arguments)}: median {statistics.median(seconds):.2f} s "
              f"(min {min(seconds):.2f}, max {max(seconds):.2f})")


if __name__ == "__main__":
    main()

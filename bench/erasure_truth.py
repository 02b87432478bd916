"""Erasure against the generator's truth: after `cxp run`, is anything left of the people who asked?

For a home a `cxp run` finished on, over a landing written by `cxp generate`, every erasure
request the generator's truth holds (`_truth/erasure_requests.parquet`) is looked up in the audit
log, and everything under the home but the landing zone (every warehouse table and the file's
bytes, Parquet feature files, the online store, Dagster's run storage, logs, models) is searched
for the requester's identifiers *as the truth knows them*: both their email addresses, their
phone, and the ids of every source record the truth assigns to them (CRM contact, Shopify
orders, Zendesk requester and tickets). A record the identity resolution did not link to the
requester is one an erasure misses; this is where it shows. Names are not searched: the demo has
namesakes, and a name alone does not say whose record a row is; nor are an email or a phone the
truth gives to someone else too (a household's landline, a shared family address): rows with them
may be the other person's, whom the request does not cover.

    uv run python bench/erasure_truth.py --customers 10000 --days 365 [--workdir DIR]
    uv run python bench/erasure_truth.py --home /path/to/home     # a home already run
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the trace search the erasure tests use
from tests.privacy.traces import Person, find_traces  # noqa: E402

CXP = str(Path(sys.executable).with_name("cxp"))
_UNMATCHABLE = "\x00"  # a "name" no word equals: names are not searched (see the docstring)


def requesters(landing: Path, controls: int = 0) -> pl.DataFrame:
    """Per truth request: the person's emails, phone and source-record ids; with `controls`, as
    many people who did not ask (with the most records) follow, without a request id."""
    truth = landing / "_truth"
    requests = pl.read_parquet(truth / "erasure_requests.parquet")
    if controls:
        bystanders = (pl.read_parquet(truth / "source_records.parquet").group_by("person_id").len()
                      .filter(~pl.col("person_id").is_in(requests["person_id"].implode())).sort(["len", "person_id"], descending=[True, False])
                      .head(controls))
        requests = pl.concat([requests, bystanders.select("person_id").with_columns(
            pl.lit(None, pl.String).alias("request_id"), pl.lit(None, requests.schema["received_at"]).alias("received_at"))], how="diagonal")
    people = pl.read_parquet(truth / "people.parquet").select("person_id", "email", "alternative_email", "phone_e164", "street")
    # Contact points more than one person holds belong to no one request: set them aside.
    holders = pl.concat([people.select("person_id", pl.col(column).alias("value"))
                         for column in ("email", "alternative_email", "phone_e164")]).drop_nulls().unique()
    shared = holders.group_by("value").agg(pl.col("person_id").n_unique().alias("holders")).filter(pl.col("holders") > 1)["value"]
    people = people.with_columns(
        pl.concat_list([pl.col(column) for column in ("email", "alternative_email", "phone_e164")]).list.eval(
            pl.element().filter(pl.element().is_in(shared.implode()))).alias("shared_contact_points"),
        *[pl.when(pl.col(column).is_in(shared.implode())).then(None).otherwise(pl.col(column)).alias(column)
          for column in ("email", "alternative_email", "phone_e164")])
    records = (pl.read_parquet(truth / "source_records.parquet").filter(pl.col("source") != "sendgrid_recipient")
               .group_by("person_id").agg(pl.col("source_key").alias("source_keys"), pl.col("source").alias("sources")))
    return (requests.select("request_id", "person_id", "received_at")
            .join(people, on="person_id", how="left").join(records, on="person_id", how="left").sort("received_at"))


def audit_outcomes(warehouse: Path) -> dict[str, str]:
    """The audit log's outcome per request id."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        exists = connection.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'privacy' "
                                    "AND table_name = 'erasure_requests_processed'").fetchone()[0]
        if not exists:
            return {}
        return dict(connection.execute("SELECT request_id, outcome FROM privacy.erasure_requests_processed").fetchall())


def ticket_rows(warehouse: Path, ticket_ids: list[str]) -> int:
    """Raw ticket rows with these ids (ticket ids are short numbers: searched by their field, not as words)."""
    if not ticket_ids:
        return 0
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute("SELECT count(*) FROM raw.support_tickets WHERE json_extract_string(payload, '$.id') "
                                  "IN (SELECT unnest($ids::VARCHAR[]))", {"ids": ticket_ids}).fetchone()[0]


def _identifiers(request: dict) -> tuple[list[str], list[str]]:
    """The strings searched for (ids of 8 characters or more) and the ticket ids."""
    keys = request["source_keys"] or []
    tickets = [key for key, source in zip(keys, request["sources"] or []) if source == "zendesk_ticket"]
    strings = [s for s in (request["email"], request["alternative_email"], request["phone_e164"], *keys) if s and len(s) >= 8]
    return strings, tickets


def report(home: Path, landing: Path) -> int:
    """Print one line per request and a total; the number of requests with traces left. The home is
    searched once for every requester's identifiers together (a search reads every file), then
    again per requester only when that finds something."""
    warehouse = home / "warehouse.duckdb"
    outcomes = audit_outcomes(warehouse)
    requests = requesters(landing).to_dicts()
    everyone = [string for request in requests for string in _identifiers(request)[0]]
    anything = find_traces(home, Person(everyone, _UNMATCHABLE, _UNMATCHABLE))
    left = 0
    for request in requests:
        strings, tickets = _identifiers(request)
        traces = find_traces(home, Person(strings, _UNMATCHABLE, _UNMATCHABLE)) if anything else []
        tickets_left = ticket_rows(warehouse, tickets)
        if tickets_left:
            traces.append(f"raw.support_tickets by ticket id: {tickets_left}")
        left += bool(traces)
        print(f"{request['request_id']} ({request['person_id']}, received {request['received_at']:%Y-%m-%d}, "
              f"{len(request['source_keys'] or [])} truth records, {len(strings)} identifiers searched"
              + (f", {len(request['shared_contact_points'])} shared with others not searched" if request["shared_contact_points"] else "")
              + "): audit outcome "
              f"{outcomes.get(request['request_id'], 'not processed')}; " + ("no trace" if not traces else "TRACES: " + "; ".join(traces)),
              flush=True)
    print(f"\n{len(requests) - left} of {len(requests)} requests leave no trace of any record the truth assigns to the person.")
    # The control: the same search finds people who did not ask (else "no trace" would prove nothing).
    controls = [request for request in requesters(landing, controls=1).to_dicts() if request["request_id"] is None]
    found = sum(bool(find_traces(home, Person(_identifiers(c)[0], _UNMATCHABLE, _UNMATCHABLE))) for c in controls)
    print(f"Control: the search finds {found} of {len(controls)} people who did not ask to be erased.")
    return left


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="A home `cxp run` finished on (its landing at <home>/landing, or --landing).")
    parser.add_argument("--landing", type=Path, help="The landing the home was run over [default: <home>/landing].")
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, help="Where a fresh home goes [default: the system temp dir].")
    args = parser.parse_args()
    home = args.home
    if home is None:
        home = Path(tempfile.mkdtemp(prefix="cxp-erasure-truth-", dir=args.workdir))
        env = {name: value for name, value in os.environ.items() if not name.startswith(("CXP_", "DBT_")) and name != "DAGSTER_HOME"}
        env |= {"CXP_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
        started = time.monotonic()
        subprocess.run([CXP, "generate", "--customers", str(args.customers), "--days", str(args.days), "--seed", str(args.seed)],
                       env=env, check=True, stdout=subprocess.DEVNULL)
        subprocess.run([CXP, "run"], env=env, check=True, stdout=subprocess.DEVNULL)
        print(f"{args.customers:,} people x {args.days} days: generated and run in {time.monotonic() - started:,.0f} s (home {home})")
    sys.exit(1 if report(home, args.landing or home / "landing") else 0)


if __name__ == "__main__":
    main()

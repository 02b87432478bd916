"""What a `cxp run` did, read from the Dagster run's events and the warehouse: steps, checks,
models, identity and erasure notes, row counts, for the closing summary.
"""

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from dagster_project.warehouse import table_exists

MODEL_SCHEMAS = ("staging", "intermediate", "identity", "marts", "features")


@dataclass(frozen=True)
class CheckOutcome:
    """One asset check evaluated in the run."""

    asset: str
    check: str
    passed: bool
    severity: str
    """ERROR (a blocking rule or an error-severity dbt test) or WARN."""
    metadata: dict


@dataclass
class PipelineOutcome:
    """What a run did, for the closing summary."""

    run_id: str
    success: bool
    first_date: date
    last_date: date
    files_per_source: dict[str, int]
    log_file: Path
    table_rows: dict[str, int] = field(default_factory=dict)
    quarantined_per_source: dict[str, int] = field(default_factory=dict)
    failed_steps: list[str] = field(default_factory=list)
    not_executed: list[str] = field(default_factory=list)
    """Steps Dagster did not run because a step before them failed."""
    materialized: set[str] = field(default_factory=set)
    """Assets (`group/name` keys) materialized by the run."""
    checks: list[CheckOutcome] = field(default_factory=list)
    model_notes: list[str] = field(default_factory=list)
    """One line per model: trained or why not, and the champion decision."""
    erasure_note: str | None = None
    """What the run's erasure step did, when it had requests to carry out."""
    identity_note: str | None = None
    """How identities were resolved: a trained model, or deterministic rules only and why."""
    absent_sources: list[str] = field(default_factory=list)
    """Sources of the contract that delivered no file: their features are null."""
    interrupted: bool = False
    """Stopped by Ctrl-C or SIGTERM."""
    released_runs: list[str] = field(default_factory=list)
    """Runs a `cxp run` that died left unfinished, released by this run (which replays their work)."""
    disk_full_steps: list[str] = field(default_factory=list)
    """Steps that failed because a file could not grow: the disk is full, or a file-size limit was hit."""
    snapshot: Path | None = None
    """The warehouse snapshot taken before this run wrote."""

    @property
    def failed_checks(self) -> list[CheckOutcome]:
        return [check for check in self.checks if not check.passed]


def model_notes_from(events) -> list[str]:
    """`churn: ...` lines from the challenger and champion assets' metadata, a `scores:` line naming
    each score no customer is served tonight and why, and the recommender's line."""
    metadata = {event.asset_key.path[-1]: {k: v.value for k, v in event.step_materialization_data.materialization.metadata.items()}
                for event in events if event.asset_key.path[0] == "ml"}
    notes = []
    for name in ("churn", "propensity", "clv"):
        challenger, champion = metadata.get(f"{name}_challenger"), metadata.get(f"{name}_champion", {})
        if challenger is None:
            continue
        if not challenger.get("trained"):
            notes.append(f"{name}: not trained: {challenger.get('reason')}")
            continue
        scores = ", ".join(f"{key.removesuffix('_challenger')} {value:.3f}" for key, value in challenger.items() if key.endswith("_challenger"))
        notes.append(f"{name}: version {challenger['version']} ({scores}); {champion.get('decision', '?')}: {champion.get('reason', '')}")
    not_served = metadata.get("customer_scores", {}).get("not_served")
    if not_served:
        notes.append("scores: served to no customer tonight: " + "; ".join(f"{column} ({reason})" for column, reason in not_served.items()))
    recommendations = metadata.get("product_recommendations")
    if recommendations is not None:
        judged = ", ".join(f"{key.removeprefix('ndcg_at_10_')} {value:.3f}" for key, value in recommendations.items()
                           if key.startswith("ndcg_at_10_") and key.removeprefix("ndcg_at_10_") in ("hybrid", "champion", "popularity"))
        notes.append(f"recommender: version {recommendations['version']} (NDCG@10 {judged or 'not judged'}); "
                     f"{recommendations['decision']}; lists by {recommendations['scorer']} for {recommendations['customers']:,} "
                     f"customers ({recommendations['not_personalized']:,} not personalized)")
    return notes


def identity_note_from(events) -> str | None:
    """`deterministic rules only: <why>`, or the model's scope and the comparisons the data cannot feed."""
    for event in events:
        if event.asset_key.to_user_string() == "identity/probabilistic_match_pairs":
            metadata = {k: v.value for k, v in event.step_materialization_data.materialization.metadata.items()}
            if not metadata.get("trained"):
                return f"deterministic rules only (shared emails and phones): {metadata.get('deterministic_only_because', '')}"
            note = f"Splink model trained on {metadata['identity_nodes']:,} records, {metadata['accepted_pairs']:,} pairs accepted"
            if metadata.get("comparisons_without_data"):
                note += f"; no {metadata['comparisons_without_data']} in the data, so those weigh nothing"
            return note
    return None


def erasure_note_from(events) -> str | None:
    for event in events:
        if event.asset_key.to_user_string() == "privacy/erasures":
            metadata = {k: v.value for k, v in event.step_materialization_data.materialization.metadata.items()}
            if metadata.get("requests_processed"):
                partial = metadata.get("requests_completed_next_run", 0)
                later = f"; {partial} in part, along shared emails and ids, to be completed by the next run" if partial else ""
                return (f"{metadata['requests_processed']} erasure request(s) carried out, {metadata['rows_deleted']:,} rows deleted"
                        f"{later} (`cxp erasures` shows the audit log)")
    return None


def count_rows(warehouse: Path, outcome: PipelineOutcome) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        tables = connection.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema IN (SELECT unnest(?::VARCHAR[])) "
            "ORDER BY table_schema, table_name", [list(MODEL_SCHEMAS)],
        ).fetchall()
        for schema, table in tables:
            (count,) = connection.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()
            outcome.table_rows[f"{schema}.{table}"] = count
        if table_exists(connection, "raw.quarantine"):
            outcome.quarantined_per_source = dict(
                connection.execute("SELECT source, count(*) FROM raw.quarantine GROUP BY source ORDER BY source").fetchall()
            )

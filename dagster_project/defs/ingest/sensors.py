"""Start a run when files land: new days, and corrected re-deliveries of old ones."""


import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import dagster as dg
import duckdb
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition
from dagster_duckdb import DuckDBResource

from dagster_project.defs.ingest.assets import raw_asset_key
from dagster_project.defs.ingest.partitions import partition_range_tags
from dagster_project.defs.ingest.resources import LandingZone
from dagster_project.ingest.contracts import SOURCE_CONTRACTS, SourceContract
from dagster_project.ingest.raw_tables import load_times


@dataclass(frozen=True)
class LandedFile:
    contract: SourceContract
    extract_date: date
    signature: str
    """Size and modification time: a re-delivery changes it."""
    modified_at: datetime
    """Modification time, naive UTC like the load ledger."""


def landed_files(landing: LandingZone) -> dict[str, LandedFile]:
    """Every contract file in the landing zone, by path relative to it."""
    files: dict[str, LandedFile] = {}
    for contract in SOURCE_CONTRACTS:
        for day, path in contract.delivered_files(landing.root).items():
            stat = path.stat()
            relative = path.relative_to(landing.root).as_posix()
            modified_at = datetime.fromtimestamp(stat.st_mtime, timezone.utc).replace(tzinfo=None)
            files[relative] = LandedFile(contract, day, f"{stat.st_size}:{stat.st_mtime_ns}", modified_at)
    return files


class WarehouseBusy(Exception):
    """A run holds the warehouse's write lock; the ledger can be read on a later tick."""


def already_loaded(warehouse: Path, files: dict[str, LandedFile]) -> set[str]:
    """Files the warehouse loaded after they last changed (by `cxp run`, a backfill or an earlier tick)."""
    if not warehouse.exists():
        return set()
    try:
        with duckdb.connect(str(warehouse), read_only=True) as connection:
            loaded = load_times(connection)
    except duckdb.IOException as error:
        raise WarehouseBusy(str(error)) from error
    return {
        path for path, landed in files.items()
        if (at := loaded.get((landed.contract.name, landed.extract_date))) is not None and at >= landed.modified_at
    }


def build_landing_sensor(job: UnresolvedAssetJobDefinition, partitions_def: dg.TimeWindowPartitionsDefinition) -> dg.SensorDefinition:
    """One run per sensor tick that loads every new or changed file, then rebuilds what depends on them."""

    @dg.sensor(job=job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
    def landing_files_sensor(context: dg.SensorEvaluationContext, landing: LandingZone, warehouse: DuckDBResource):
        """Load new and re-delivered export files."""
        seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
        files = landed_files(landing)
        changed = {path: landed.signature for path, landed in files.items() if seen.get(path) != landed.signature}
        try:
            for path in already_loaded(Path(warehouse.database), {p: files[p] for p in changed}):
                del changed[path]
        except WarehouseBusy:
            return dg.SkipReason("The warehouse is busy with a run; landed files are checked again next tick")
        if not changed:
            context.update_cursor(json.dumps({path: landed.signature for path, landed in files.items()}, sort_keys=True))
            return dg.SkipReason(f"No new or changed files among {len(files)} in {landing.root}")
        valid_keys = set(partitions_def.get_partition_keys())
        by_source: dict[dg.AssetKey, list[date]] = {}
        for path in changed:
            landed = files[path]
            if landed.extract_date.isoformat() not in valid_keys:
                context.log.warning(f"{path} is dated outside the partitions ({partitions_def.start:%Y-%m-%d} to today); not loaded. "
                                   "Partitions start at the first extract date delivered when the code location loaded: "
                                   "reload it (or run `cxp run`) to load an earlier file")
                continue
            by_source.setdefault(raw_asset_key(landed.contract), []).append(landed.extract_date)
        context.update_cursor(json.dumps({path: landed.signature for path, landed in files.items()}, sort_keys=True))
        if not by_source:
            return dg.SkipReason("Changed files are all outside the partition range")
        days = [day for source_days in by_source.values() for day in source_days]
        graph = context.repository_def.asset_graph
        selection = dg.AssetSelection.assets(*by_source).downstream().resolve(graph)
        run_key = hashlib.sha256(json.dumps(changed, sort_keys=True).encode()).hexdigest()[:16]
        return dg.RunRequest(run_key=run_key, asset_selection=sorted(selection), tags=partition_range_tags(min(days), max(days)))

    return landing_files_sensor

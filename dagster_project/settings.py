"""The one settings object: every path and threshold the platform uses, with environment overrides.

The environment is read when `load_settings()` is called, never at import, so tests and the
CLI can point a fresh process-wide configuration at a temporary directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from data_quality.thresholds import QualityThresholds
    from ml.model_settings import ModelSettings

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """Where cxp reads from and writes to, and the knobs of a run."""

    home: Path
    """Directory holding everything the platform writes (CXP_HOME)."""
    landing: Path
    """Directory the source exports are delivered to (CXP_LANDING)."""
    partition_start: date
    """First extract date the daily partitions cover (CXP_PARTITION_START)."""
    dbt_project_dir: Path
    """The dbt project (CXP_DBT_PROJECT_DIR); defaults to the repository's `dbt/`."""
    quality_thresholds_file: Path | None = None
    """This environment's overrides of the quality-gate thresholds (CXP_QUALITY_THRESHOLDS), a YAML
    file shaped like `data_quality/thresholds.yml`; unset, the defaults apply."""
    feature_repo_dir: Path = REPO_ROOT / "feature_repo"
    """The Feast repository (CXP_FEATURE_REPO); defaults to the repository's `feature_repo/`."""
    online_store: str = "sqlite"
    """Feast online store (CXP_ONLINE_STORE): `sqlite` (embedded, the default) or `redis`."""
    redis_connection_string: str = "localhost:6379"
    """Redis to serve from when `online_store` is `redis` (CXP_REDIS), Feast's `host:port,db=0` form."""
    feature_server_port: int = 6566
    """Port of the HTTP feature server `cxp serve` starts (CXP_FEATURE_SERVER_PORT)."""
    feature_server_token: str | None = field(default=None, repr=False)
    """The bearer token apps must send to `cxp serve` (CXP_FEATURE_SERVER_TOKEN): `Authorization:
    Bearer <token>` on every request but `/health`. Unset, the server only listens on loopback
    unless told otherwise (or Feast's own `auth:` in feature_store.yaml checks requests)."""
    feature_server_max_entities: int = 1000
    """Most entity rows one `/get-online-features` request may ask for (CXP_FEATURE_SERVER_MAX_ENTITIES)."""
    feature_server_max_body_bytes: int = 1_048_576
    """Largest request body `cxp serve` accepts, in bytes (CXP_FEATURE_SERVER_MAX_BODY_BYTES)."""
    model_settings_file: Path | None = None
    """This environment's overrides of the model settings (CXP_MODEL_SETTINGS), a YAML file shaped
    like `ml/model_settings.yml`; unset, the defaults apply."""
    snapshots_kept: int = 1
    """Warehouse snapshots `cxp run` keeps, taken before each run writes (CXP_SNAPSHOTS_KEPT); 0
    takes none. `cxp restore` puts the newest back."""
    suppression_salt_file: Path | None = None
    """The secret salt of the erasure suppression list (CXP_SUPPRESSION_SALT_FILE), e.g. a mounted
    secret; unset, one is generated on first use at `<home>/privacy/suppression_salt`."""

    @property
    def warehouse_path(self) -> Path:
        """The DuckDB warehouse file: raw tables, quarantine, dbt models."""
        return self.home / "warehouse.duckdb"

    @property
    def dbt_target_dir(self) -> Path:
        """dbt's compiled artifacts live with the data, not in the source tree."""
        return self.home / "dbt" / "target"

    @property
    def dbt_log_dir(self) -> Path:
        return self.home / "dbt" / "logs"

    @property
    def dagster_home(self) -> Path:
        """Dagster's instance: run history shared by `cxp run` and `dagster dev`."""
        return self.home / "dagster"

    @property
    def quality_dir(self) -> Path:
        """The Great Expectations project: suites as run, validation results per run, Data Docs."""
        return self.home / "quality"

    @property
    def feature_files_dir(self) -> Path:
        """Feature snapshots as Parquet, one folder per feature table and one file per snapshot
        date: Feast's offline store reads them."""
        return self.home / "features"

    @property
    def snapshots_dir(self) -> Path:
        """Copies of the warehouse taken before each run's writes."""
        return self.home / "snapshots"

    @property
    def feature_store_dir(self) -> Path:
        """Feast's registry and, with the embedded default, its SQLite online store."""
        return self.home / "feature_store"

    @property
    def sqlite_online_store_path(self) -> Path:
        """The embedded SQLite online store (feature_store.yaml reads it from CXP_SQLITE_ONLINE_STORE)."""
        return self.feature_store_dir / "online_store.db"

    @property
    def feature_store_yaml(self) -> Path:
        """The `feature_store.yaml` of the configured online store."""
        name = "feature_store.yaml" if self.online_store == "sqlite" else f"feature_store.{self.online_store}.yaml"
        return self.feature_repo_dir / name

    @property
    def models_dir(self) -> Path:
        """The model registry: one folder per model, one per version, and the champion of each."""
        return self.home / "models"

    @property
    def privacy_dir(self) -> Path:
        """The erasure suppression list's salt, unless it is kept elsewhere."""
        return self.home / "privacy"

    @property
    def suppression_salt_path(self) -> Path:
        return self.suppression_salt_file or self.privacy_dir / "suppression_salt"

    def model_settings(self) -> ModelSettings:
        """Label windows, training, promotion and scoring settings of this environment."""
        from ml.model_settings import load_model_settings

        return load_model_settings(self.model_settings_file)

    def quality_thresholds(self) -> QualityThresholds:
        """The quality-gate thresholds of this environment: the defaults with its overrides."""
        from data_quality.thresholds import load_quality_thresholds

        return load_quality_thresholds(self.quality_thresholds_file)

    def ensure_directories(self) -> None:
        """Create the directories the platform writes into."""
        for directory in (self.home, self.landing, self.dbt_target_dir, self.dbt_log_dir, self.dagster_home, self.quality_dir,
                          self.feature_files_dir, self.feature_store_dir, self.models_dir, self.privacy_dir):
            directory.mkdir(parents=True, exist_ok=True)

    def export_environment(self) -> None:
        """Publish the derived paths to child processes (dbt reads CXP_WAREHOUSE_PATH in profiles.yml)."""
        os.environ["CXP_HOME"] = str(self.home)
        os.environ["CXP_LANDING"] = str(self.landing)
        os.environ["CXP_WAREHOUSE_PATH"] = str(self.warehouse_path)
        # Without internet, dbt's usage tracking adds ~5 s to every invocation.
        os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
        os.environ["DBT_TARGET_PATH"] = str(self.dbt_target_dir)
        os.environ["DBT_LOG_PATH"] = str(self.dbt_log_dir)
        # feature_store.yaml expands these (Feast reads it with os.path.expandvars).
        os.environ["CXP_FEATURE_STORE_DIR"] = str(self.feature_store_dir)
        os.environ["CXP_SQLITE_ONLINE_STORE"] = str(self.sqlite_online_store_path)
        os.environ["CXP_FEATURE_FILES_DIR"] = str(self.feature_files_dir)
        os.environ["CXP_REDIS"] = self.redis_connection_string


def load_settings() -> Settings:
    """Build the settings from the environment, falling back to per-user defaults."""
    home = Path(os.environ.get("CXP_HOME") or Path.home() / ".cxp").expanduser().resolve()
    landing = Path(os.environ.get("CXP_LANDING") or home / "landing").expanduser().resolve()
    partition_start = date.fromisoformat(os.environ.get("CXP_PARTITION_START", "2020-01-01"))
    dbt_project_dir = Path(os.environ.get("CXP_DBT_PROJECT_DIR") or REPO_ROOT / "dbt").expanduser().resolve()
    thresholds = os.environ.get("CXP_QUALITY_THRESHOLDS")
    model_settings = os.environ.get("CXP_MODEL_SETTINGS")
    salt_file = os.environ.get("CXP_SUPPRESSION_SALT_FILE")
    online_store = os.environ.get("CXP_ONLINE_STORE", "sqlite").lower()
    if online_store not in ("sqlite", "redis"):
        raise ValueError(f"CXP_ONLINE_STORE must be 'sqlite' or 'redis', not {online_store!r}")
    return Settings(
        home=home, landing=landing, partition_start=partition_start, dbt_project_dir=dbt_project_dir,
        quality_thresholds_file=Path(thresholds).expanduser().resolve() if thresholds else None,
        feature_repo_dir=Path(os.environ.get("CXP_FEATURE_REPO") or REPO_ROOT / "feature_repo").expanduser().resolve(),
        online_store=online_store,
        redis_connection_string=os.environ.get("CXP_REDIS", "localhost:6379"),
        feature_server_port=int(os.environ.get("CXP_FEATURE_SERVER_PORT", "6566")),
        feature_server_token=os.environ.get("CXP_FEATURE_SERVER_TOKEN") or None,
        feature_server_max_entities=int(os.environ.get("CXP_FEATURE_SERVER_MAX_ENTITIES", "1000")),
        feature_server_max_body_bytes=int(os.environ.get("CXP_FEATURE_SERVER_MAX_BODY_BYTES", "1048576")),
        model_settings_file=Path(model_settings).expanduser().resolve() if model_settings else None,
        suppression_salt_file=Path(salt_file).expanduser().resolve() if salt_file else None,
        snapshots_kept=int(os.environ.get("CXP_SNAPSHOTS_KEPT", "1")),
    )

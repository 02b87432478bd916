"""The one settings object: every path and knob the platform uses, from the environment, with the
quality thresholds and model settings of its files, validated once per run.

The environment is read when `load_settings()` is called, never at import, so tests and the
CLI can point a fresh process-wide configuration at a temporary directory. A `CXP_` variable cxp
does not know is an error naming it, as is an unknown key in a thresholds or model-settings file.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import Field, NonNegativeInt, PositiveInt, ValidationError, field_validator

from dagster_project.docs_site.server import DEFAULT_DOCS_PORT
from dagster_project.yaml_overrides import SettingsError, StrictSettings
from data_quality.thresholds import QualityThresholds, load_quality_thresholds
from ml.measurement.experiment_settings import MeasurementSettings, load_measurement_settings
from ml.model_settings import ModelSettings, load_model_settings

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(StrictSettings):
    """Where cxp reads from and writes to, and the knobs of a run."""

    home: Path
    """Directory holding everything the platform writes (CXP_HOME)."""
    landing: Path
    """Directory the source exports are delivered to (CXP_LANDING)."""
    partition_start: date | None = None
    """First extract date the daily partitions cover (CXP_PARTITION_START); unset, the first extract
    date delivered to the landing zone (see `first_partition_date`)."""
    dbt_project_dir: Path
    """The dbt project (CXP_DBT_PROJECT_DIR); defaults to the repository's `dbt/`."""
    quality_thresholds_file: Path | None = None
    """This environment's overrides of the quality-gate thresholds (CXP_QUALITY_THRESHOLDS), a YAML
    file shaped like `data_quality/thresholds.yml`; unset, the defaults apply."""
    feature_repo_dir: Path = REPO_ROOT / "feature_repo"
    """The Feast repository (CXP_FEATURE_REPO); defaults to the repository's `feature_repo/`."""
    online_store: Literal["sqlite", "redis"] = "sqlite"
    """Feast online store (CXP_ONLINE_STORE): `sqlite` (embedded, the default) or `redis`."""
    redis_connection_string: str = "localhost:6379"
    """Redis to serve from when `online_store` is `redis` (CXP_REDIS), Feast's `host:port,db=0` form."""
    feature_server_port: PositiveInt = 6566
    """Port of the HTTP feature server `cxp serve` starts (CXP_FEATURE_SERVER_PORT)."""
    docs_port: PositiveInt = DEFAULT_DOCS_PORT
    """Port of the docs server `cxp docs` starts on 127.0.0.1 (CXP_DOCS_PORT): the quality reports the
    Dagster checks link to, and the dbt docs."""
    feature_server_token: str | None = Field(default=None, repr=False)
    """The bearer token apps must send to `cxp serve` (CXP_FEATURE_SERVER_TOKEN): `Authorization:
    Bearer <token>` on every request but `/health`. Unset, the server only listens on loopback
    unless told otherwise (or Feast's own `auth:` in feature_store.yaml checks requests)."""
    feature_server_max_entities: PositiveInt = 1000
    """Most entity rows one `/get-online-features` request may ask for (CXP_FEATURE_SERVER_MAX_ENTITIES)."""
    feature_server_max_body_bytes: PositiveInt = 1_048_576
    """Largest request body `cxp serve` accepts, in bytes (CXP_FEATURE_SERVER_MAX_BODY_BYTES)."""
    model_settings_file: Path | None = None
    """This environment's overrides of the model settings (CXP_MODEL_SETTINGS), a YAML file shaped
    like `ml/model_settings.yml`; unset, the defaults apply."""
    experiment_settings_file: Path | None = None
    """This environment's overrides of the measurement settings (CXP_EXPERIMENT_SETTINGS): the
    global holdout and the experiments, a YAML file shaped like `ml/measurement/experiment_settings.yml`."""
    identity_u_sample_pairs: PositiveInt = 10_000_000
    """Random record pairs Splink compares each night to learn how often strangers agree, level by
    level (CXP_IDENTITY_U_SAMPLE_PAIRS). More measures rare levels better and costs time in
    proportion: about 1.7 s per million pairs on 2 cores."""
    snapshots_kept: NonNegativeInt = 1
    """Warehouse snapshots `cxp run` keeps, taken before each run writes (CXP_SNAPSHOTS_KEPT); 0
    takes none. `cxp restore` puts the newest back."""
    suppression_salt_file: Path | None = None
    """The secret salt of the erasure suppression list (CXP_SUPPRESSION_SALT_FILE), e.g. a mounted
    secret; unset, one is generated on first use at `<home>/privacy/suppression_salt`."""
    quality_thresholds: QualityThresholds = Field(default_factory=load_quality_thresholds, repr=False)
    """The quality-gate thresholds of this environment: the defaults with its overrides, read once."""
    model_settings: ModelSettings = Field(default_factory=load_model_settings, repr=False)
    """Label windows, training, promotion and scoring settings of this environment, read once."""
    measurement_settings: MeasurementSettings = Field(default_factory=load_measurement_settings, repr=False)
    """The holdout and the experiments of this environment, read once."""

    @field_validator("home", "landing", "dbt_project_dir", "feature_repo_dir", "quality_thresholds_file", "model_settings_file",
                     "experiment_settings_file", "suppression_salt_file")
    @classmethod
    def _absolute(cls, path: Path | None) -> Path | None:
        return path.expanduser().resolve() if path is not None else None

    @field_validator("online_store", mode="before")
    @classmethod
    def _lower_case(cls, name: object) -> object:
        return name.lower() if isinstance(name, str) else name

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
    def measurement_dir(self) -> Path:
        """Experiment lift reports (one folder per experiment) and audience files."""
        return self.home / "measurement"

    @property
    def privacy_dir(self) -> Path:
        """The erasure suppression list's salt, unless it is kept elsewhere."""
        return self.home / "privacy"

    @property
    def suppression_salt_path(self) -> Path:
        return self.suppression_salt_file or self.privacy_dir / "suppression_salt"

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


# The environment variable of each setting.
ENVIRONMENT = {
    "CXP_HOME": "home", "CXP_LANDING": "landing", "CXP_PARTITION_START": "partition_start", "CXP_DBT_PROJECT_DIR": "dbt_project_dir",
    "CXP_QUALITY_THRESHOLDS": "quality_thresholds_file", "CXP_FEATURE_REPO": "feature_repo_dir", "CXP_ONLINE_STORE": "online_store",
    "CXP_REDIS": "redis_connection_string", "CXP_FEATURE_SERVER_PORT": "feature_server_port",
    "CXP_FEATURE_SERVER_TOKEN": "feature_server_token", "CXP_FEATURE_SERVER_MAX_ENTITIES": "feature_server_max_entities",
    "CXP_FEATURE_SERVER_MAX_BODY_BYTES": "feature_server_max_body_bytes", "CXP_MODEL_SETTINGS": "model_settings_file",
    "CXP_EXPERIMENT_SETTINGS": "experiment_settings_file",
    "CXP_SNAPSHOTS_KEPT": "snapshots_kept", "CXP_IDENTITY_U_SAMPLE_PAIRS": "identity_u_sample_pairs", "CXP_SUPPRESSION_SALT_FILE": "suppression_salt_file", "CXP_DOCS_PORT": "docs_port",
}
# Variables that are not settings: those `export_environment` publishes for dbt and Feast, and the
# test and bench harnesses' own.
NOT_SETTINGS = {"CXP_WAREHOUSE_PATH", "CXP_FEATURE_STORE_DIR", "CXP_SQLITE_ONLINE_STORE", "CXP_FEATURE_FILES_DIR",
                "CXP_REQUIRE_REDIS", "CXP_REQUIRE_BROWSER", "CXP_UI_SCREENSHOTS", "CXP_BENCH_LOG"}


def load_settings(environment: Mapping[str, str] | None = None) -> Settings:
    """The settings of the environment (`os.environ` unless given), falling back to per-user defaults,
    with the thresholds and model-settings files it names read and validated."""
    environment = os.environ if environment is None else environment
    unknown = sorted(name for name in environment if name.startswith("CXP_") and name not in ENVIRONMENT and name not in NOT_SETTINGS)
    if unknown:
        raise SettingsError("; ".join(_unknown_variable(name) for name in unknown))
    values: dict[str, object] = {field: environment[name] for name, field in ENVIRONMENT.items() if environment.get(name)}
    home = Path(str(values.setdefault("home", Path.home() / ".cxp")))
    values.setdefault("landing", home / "landing")
    values.setdefault("dbt_project_dir", REPO_ROOT / "dbt")
    try:
        settings = Settings.model_validate(values)
    except ValidationError as error:
        variables = {field: name for name, field in ENVIRONMENT.items()}
        raise SettingsError("\n".join(f"environment: {variables.get(str(problem['loc'][0]), problem['loc'][0])}: {problem['msg']} "
                                      f"(got {problem['input']!r})" for problem in error.errors())) from None
    return settings.model_copy(update={"quality_thresholds": load_quality_thresholds(settings.quality_thresholds_file),
                                       "model_settings": load_model_settings(settings.model_settings_file),
                                       "measurement_settings": load_measurement_settings(settings.experiment_settings_file)})


def _unknown_variable(name: str) -> str:
    close = difflib.get_close_matches(name, list(ENVIRONMENT), n=1)
    return f"environment: {name} is not a cxp setting" + (f" (did you mean {close[0]}?)" if close else "")

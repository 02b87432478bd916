"""The consistent stores, the atomic registry and the publishing engine selected by
feature_store.yaml, and the registry's whole-file replacement (the hooks they override are checked
in test_feast_internals.py)."""

import inspect
import stat
import threading

from feast.infra.compute_engines.local.compute import LocalComputeEngine
from feast.infra.online_stores.redis import RedisOnlineStore
from feast.infra.online_stores.sqlite import SqliteOnlineStore
from feast.infra.registry.file import FileRegistryStore
from feast.protos.feast.core.Registry_pb2 import Registry as RegistryProto
from feast.repo_config import RegistryConfig, load_repo_config

from feature_repo.atomic_registry_store import REGISTRY_STORE_TYPE, AtomicFileRegistryStore, set_aside_unreadable_registry
from feature_repo.consistent_online_stores import REDIS_TYPE, SQLITE_TYPE, ConsistentRedisOnlineStore, ConsistentSqliteOnlineStore
from feature_repo.materialization_engine import CxpMaterializationEngine


def test_feature_store_yaml_selects_the_consistent_stores_and_atomic_registry(tmp_path, monkeypatch, caplog):
    from dagster_project.settings import load_settings

    monkeypatch.setenv("CXP_HOME", str(tmp_path))
    settings = load_settings()
    settings.export_environment()
    for yaml, store_type in (("feature_store.yaml", SQLITE_TYPE), ("feature_store.redis.yaml", REDIS_TYPE)):
        config = load_repo_config(settings.feature_repo_dir, settings.feature_repo_dir / yaml)
        assert config.online_store.type == store_type
        assert config.registry.registry_store_type == REGISTRY_STORE_TYPE
        assert config.registry.serve_features_while_materializing
        assert config.batch_engine.type == "feature_repo.materialization_engine.CxpMaterializationEngine"
    assert issubclass(ConsistentSqliteOnlineStore, SqliteOnlineStore) and issubclass(ConsistentRedisOnlineStore, RedisOnlineStore)
    # Feast's note that the flag "typically has no effect" on a file registry is filtered: it has.
    assert "serve_features_while_materializing" not in caplog.text
    assert issubclass(CxpMaterializationEngine, LocalComputeEngine)


def test_a_registry_being_rewritten_is_read_whole_and_private(tmp_path):
    path = tmp_path / "registry.db"
    store = AtomicFileRegistryStore(RegistryConfig(registry_type="file", path=str(path)), tmp_path)
    # Big enough that a rewrite in place takes several writes of the OS's buffer.
    proto = RegistryProto(registry_schema_version="1", projects=[])
    proto.project_metadata.add(project="cxp", project_uuid="x" * 2_000_000)
    store.update_registry_proto(proto)
    failures, reads = [], 0
    done = threading.Event()

    def reader():
        nonlocal reads
        while not done.is_set():
            try:
                assert len(store.get_registry_proto().project_metadata[0].project_uuid) == 2_000_000
            except Exception as error:  # a torn read, whatever its form
                failures.append(repr(error))
            reads += 1

    thread = threading.Thread(target=reader)
    thread.start()
    for _ in range(40):
        store.update_registry_proto(proto)
    done.set()
    thread.join()
    assert reads > 0 and not failures, failures[:3]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["registry.db"]


def test_feasts_own_file_registry_is_still_rewritten_in_place():
    """Why the atomic store exists: if Feast's own store starts replacing the file whole, it can go."""
    source = inspect.getsource(FileRegistryStore)
    assert 'open(self._filepath, mode="wb"' in source and "os.replace" not in source


def test_only_a_registry_that_does_not_parse_is_set_aside(tmp_path):
    path = tmp_path / "registry.db"
    assert set_aside_unreadable_registry(path) is None  # none yet: nothing to do
    AtomicFileRegistryStore(RegistryConfig(registry_type="file", path=str(path)), tmp_path).update_registry_proto(
        RegistryProto(registry_schema_version="1"))
    whole = path.read_bytes()
    assert set_aside_unreadable_registry(path) is None and path.read_bytes() == whole
    for damaged in (b"", b"\xff\xfe garbage", whole[: len(whole) // 2]):
        path.write_bytes(damaged)
        aside = set_aside_unreadable_registry(path)
        assert aside is not None and not path.exists() and aside.read_bytes() == damaged
        aside.unlink()

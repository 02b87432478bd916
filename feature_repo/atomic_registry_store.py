"""Feast's file registry, replaced in one step instead of rewritten in place.

Feast's `FileRegistryStore` truncates `registry.db` and writes the new bytes into it. A feature
server refreshing its registry cache at that moment reads a half-written file: a parse error or a
registry missing views, answered as HTTP 500s. The nightly write commits the registry several
times (a view's state, then its materialized interval). Here the new registry is written beside
the old one, synced, and renamed over it: a reader sees the old file or the new one, whole.
"""

from __future__ import annotations

import os
import tempfile
import uuid

from feast.infra.registry.file import FileRegistryStore
from feast.protos.feast.core.Registry_pb2 import Registry as RegistryProto
from feast.utils import _utc_now

REGISTRY_STORE_TYPE = "feature_repo.atomic_registry_store.AtomicFileRegistryStore"


class AtomicFileRegistryStore(FileRegistryStore):
    """`registry_store_type` of a `file` registry whose readers must never see a partial write."""

    def update_registry_proto(self, registry_proto: RegistryProto) -> None:
        registry_proto.version_id = str(uuid.uuid4())
        registry_proto.last_updated.FromDatetime(_utc_now())
        folder = self._filepath.parent
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{self._filepath.name}.", dir=folder)
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(registry_proto.SerializeToString())
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self._filepath)
        except BaseException:
            os.unlink(temporary)
            raise

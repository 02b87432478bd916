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
from datetime import datetime, timezone
from pathlib import Path

from feast.infra.registry.file import FileRegistryStore
from feast.protos.feast.core.Registry_pb2 import Registry as RegistryProto
from google.protobuf.message import DecodeError

REGISTRY_STORE_TYPE = "feature_repo.atomic_registry_store.AtomicFileRegistryStore"


class AtomicFileRegistryStore(FileRegistryStore):
    """`registry_store_type` of a `file` registry whose readers must never see a partial write."""

    def update_registry_proto(self, registry_proto: RegistryProto) -> None:
        registry_proto.version_id = str(uuid.uuid4())
        registry_proto.last_updated.FromDatetime(datetime.now(timezone.utc))
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


def set_aside_unreadable_registry(path: Path) -> Path | None:
    """Rename a registry file that does not parse as a Feast registry to `<name>.unreadable-<UTC
    time>` and return its new path (None when the file is missing or reads). The registry holds only
    definitions cxp applies from code (the materialized windows live in the online store), so the
    next apply rebuilds it whole; the bad file is kept for whoever wants to look at it."""
    if not path.exists():
        return None
    try:
        # A cut or garbled file rarely fails to parse as *some* protobuf; Feast stamps the schema version.
        readable = bool(RegistryProto.FromString(path.read_bytes()).registry_schema_version)
    except DecodeError:
        readable = False
    if readable:
        return None
    aside = path.with_name(f"{path.name}.unreadable-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}")
    os.replace(path, aside)
    return aside

"""An erased value must leave the SQLite online store's file, not only its tables: in WAL mode the
old page stays in the database file until a checkpoint writes the zeroed one back."""

import sqlite3

from feature_repo.online_store import _checkpoint


def test_a_checkpoint_after_a_secure_delete_removes_the_value_from_the_file_while_a_reader_is_open(tmp_path):
    path = tmp_path / "online_store.db"
    writer = sqlite3.connect(path)
    writer.execute("PRAGMA journal_mode = WAL")
    writer.execute("CREATE TABLE features (entity_key BLOB, value BLOB)")
    writer.executemany("INSERT INTO features VALUES (?, ?)", [(i, b"x" * 100) for i in range(50)] + [(999, b"erased-person@example.com")])
    writer.commit()
    writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    reader = sqlite3.connect(path)  # an idle connection, as the feature server keeps one
    reader.execute("SELECT count(*) FROM features").fetchall()
    writer.execute("PRAGMA secure_delete = ON")
    writer.execute("DELETE FROM features WHERE entity_key = 999")
    writer.commit()
    assert b"erased-person@example.com" in path.read_bytes()  # why the checkpoint is needed
    _checkpoint(writer)
    assert b"erased-person@example.com" not in path.read_bytes()
    assert not (tmp_path / "online_store.db-wal").exists() or b"erased-person" not in (tmp_path / "online_store.db-wal").read_bytes()
    reader.close()
    writer.close()

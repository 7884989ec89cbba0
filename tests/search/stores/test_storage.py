"""The default SQLite stores: created on first use, in WAL mode, without an fsync per commit."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy

from search.stores._storage import ensure_parent, open_storage, sqlite_path
from search.stores._tracking import connect
from tests.conftest import Stores


def _pragma(engine: sqlalchemy.engine.Engine, name: str) -> object:
    with engine.connect() as connection:
        return connection.exec_driver_sql(f"PRAGMA {name}").scalar()


def test_a_store_folder_is_created_and_the_database_is_in_wal_mode(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'deep' / 'er' / 'optuna.db'}"
    ensure_parent(url)
    engine = sqlalchemy.create_engine(url)
    try:
        assert sqlite_path(url) == tmp_path / "deep" / "er" / "optuna.db"
        assert _pragma(engine, "journal_mode") == "wal"
    finally:
        engine.dispose()


def test_optuna_and_mlflow_connections_skip_the_fsync_per_commit(stores: Stores) -> None:
    storage = open_storage(stores.storage)
    connect(stores.tracking_uri)
    fresh = sqlalchemy.create_engine(stores.tracking_uri)
    try:
        # 1 is NORMAL; SQLite's default, FULL (2), syncs the log on every commit.
        assert _pragma(storage.engine, "synchronous") == 1
        assert _pragma(fresh, "synchronous") == 1
    finally:
        fresh.dispose()
        storage.engine.dispose()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "postgresql://h/db"])
def test_urls_without_a_file_have_no_path(url: str) -> None:
    assert sqlite_path(url) is None

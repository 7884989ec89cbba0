"""Several `tune run` starting at the same moment on a fresh store all succeed, in one study.

Creating a store is not safe to race: Optuna creates its tables and MLflow runs its schema
migrations on first use, and a second process doing the same at once fails ("table studies
already exists", "duplicate column name", an alembic version row not found). On one machine,
the processes opening a SQLite store take turns through a lock on the store's folder; against
a database server, a process that loses the race waits for the winner and tries again, and
then finds the tables made.

Opening one study is not safe to race either: two processes that both find a new study
would both enqueue its textbook trial. They take turns through `study_turn`: the folder lock
for SQLite, a session-level advisory lock for PostgreSQL.
"""

from __future__ import annotations

import fcntl
import os
import re
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import sqlalchemy

T = TypeVar("T")

# What a process sees when another one is creating the same tables at the same moment.
RACE = re.compile(
    r"already exists|duplicate|alembic_version|online migration|unique|deadlock|locked",
    re.IGNORECASE,
)
ATTEMPTS = 5
WAIT_S = 1.0


@contextmanager
def store_lock(path: Path | None) -> Iterator[None]:
    """Hold a lock on a SQLite store's folder; `path` None (a database server) locks nothing.

    The lock is the folder itself, so nothing is left behind; it is released when the
    process dies, so a killed `tune run` never blocks the next.
    """
    if path is None or not path.parent.is_dir():
        yield
        return
    handle = os.open(path.parent, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # closing releases the lock


@contextmanager
def study_turn(engine: sqlalchemy.Engine, path: Path | None, name: str) -> Iterator[None]:
    """Take turns with the other processes opening study `name` in the same store.

    Args:
        engine: The Optuna storage's engine.
        path: The SQLite database file, or None for a database server.

    On PostgreSQL the lock belongs to a connection, so a killed process releases it. Other
    servers (MySQL) are not locked.
    """
    if engine.dialect.name != "postgresql":
        with store_lock(path):
            yield
        return
    key = {"key": zlib.crc32(f"tune.study:{name}".encode())}
    with engine.connect() as connection:
        connection.execute(sqlalchemy.text("SELECT pg_advisory_lock(:key)"), key)
        try:
            yield
        finally:
            connection.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:key)"), key)


def open_once(path: Path | None, opener: Callable[[], T]) -> T:
    """`opener()`, taking turns with other processes opening the same store for the first time.

    Args:
        path: The SQLite database file, or None for a database server.

    Errors that are not a lost race (a refused connection, a bad URL) are raised at once.
    """
    for attempt in range(ATTEMPTS):
        try:
            with store_lock(path):
                return opener()
        except Exception as exc:
            if attempt == ATTEMPTS - 1 or not RACE.search(str(exc)):
                raise
            time.sleep(WAIT_S * (attempt + 1))
    raise AssertionError("unreachable")  # the loop returns or raises

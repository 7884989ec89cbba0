"""The default SQLite stores: created on first use, in WAL mode, without an fsync per commit."""

from __future__ import annotations

import time
from pathlib import Path

import optuna
import pytest
import sqlalchemy

from search.stores._storage import ensure_parent, open_storage, sqlite_path
from search.stores._tracking import connect
from tests.conftest import Stores
from tests.search.stores.together import at_once


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


def _pop_at_once(studies: list[optuna.Study]) -> list[int | None]:
    """Every study pops a waiting trial at the same instant, each in a thread of its own."""
    won: list[int | None] = []
    at_once(lambda study: won.append(study._pop_waiting_trial_id()), studies)
    return won


def test_a_waiting_trial_is_popped_by_exactly_one_of_several_racing_storages(
    stores: Stores,
) -> None:
    # Each racer has a storage (an engine) of its own, as each worker process has; without
    # BEGIN IMMEDIATE two of them took the same trial within a few rounds.
    racers = [open_storage(stores.storage) for _ in range(6)]
    study = optuna.create_study(study_name="race", storage=racers[0])
    studies = [optuna.load_study(study_name="race", storage=s) for s in racers]
    for round_ in range(15):
        study.enqueue_trial({"x": round_})
        won = _pop_at_once(studies)
        assert sum(w is not None for w in won) == 1, f"round {round_}: {won}"


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
def test_a_trial_beats_from_the_moment_it_runs(stores: Stores) -> None:
    # Killed between `ask` and Optuna's first heartbeat, a trial never beat, so it was never
    # taken for stale; here it beats at once, and is failed once the grace period is over.
    storage = open_storage(stores.storage, heartbeat_interval=1, grace_period=1)
    study = optuna.create_study(study_name="beats", storage=storage)
    asked = study.ask()  # no heartbeat thread: as if the process died right here
    study.enqueue_trial({"x": 1.0})
    popped = study.ask()
    time.sleep(2.5)
    optuna.storages.fail_stale_trials(study)
    states = {t.number: t.state for t in study.get_trials()}
    assert states[asked.number] == states[popped.number] == optuna.trial.TrialState.FAIL

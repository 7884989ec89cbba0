"""Several `tune run` started at the same instant on a fresh store: all succeed, one study."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import optuna
import pytest
import sqlalchemy
from mlflow import MlflowClient

from search.stores._first_open import open_once, store_lock, study_turn

RUNS = 4
TRIALS = 2


def _start_together(work: Path, config: Path, storage: str, tracking: str) -> list[str]:
    """RUNS `tune run` processes started at once; returns what each printed on failure."""
    args = [sys.executable, "-m", "search", "run", "--config", str(config), "--trials",
            str(TRIALS), "--quiet", "--no-report", "--no-refit", "--storage", storage,
            "--tracking-uri", tracking]  # fmt: skip
    processes = [
        subprocess.Popen(args, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for _ in range(RUNS)
    ]
    outputs = [p.communicate(timeout=300)[0].decode() for p in processes]
    return [out for p, out in zip(processes, outputs, strict=True) if p.returncode != 0]


def _check_one_study(storage: str, tracking: str) -> None:
    study = optuna.load_study(study_name="iris", storage=storage)
    assert [t.state.name for t in study.trials] == ["COMPLETE"] * RUNS * TRIALS
    assert sum(1 for t in study.trials if t.user_attrs.get("baseline")) == 1
    client = MlflowClient(tracking_uri=tracking)
    experiment = client.get_experiment_by_name("iris")
    runs = client.search_runs([experiment.experiment_id])
    roles = sorted(r.data.tags["tune.role"] for r in runs)
    assert roles == ["study"] * RUNS + ["trial"] * (RUNS * TRIALS)
    assert all(r.info.status == "FINISHED" for r in runs)


@pytest.mark.slow
@pytest.mark.processes
def test_concurrent_first_starts_on_a_fresh_sqlite_folder(tmp_path: Path, tiny_config) -> None:
    root = tmp_path / "fresh"  # not even the folder exists yet
    storage, tracking = f"sqlite:///{root}/optuna.db", f"sqlite:///{root}/mlflow.db"

    failed = _start_together(tmp_path, tiny_config, storage, tracking)

    assert not failed, "\n---\n".join(failed)
    _check_one_study(storage, tracking)


@pytest.mark.slow
@pytest.mark.processes
@pytest.mark.postgres
def test_concurrent_first_starts_on_a_fresh_postgresql_database(
    tmp_path: Path, tiny_config, postgres_databases
) -> None:
    storage, tracking = postgres_databases

    failed = _start_together(tmp_path, tiny_config, storage, tracking)

    assert not failed, "\n---\n".join(failed)
    _check_one_study(storage, tracking)


def test_a_lost_race_is_tried_again_and_other_errors_are_not(monkeypatch) -> None:
    monkeypatch.setattr("search.stores._first_open.WAIT_S", 0.01)
    attempts: list[int] = []

    def loses_once() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("(sqlite3.OperationalError) table studies already exists")
        return "opened"

    def refused() -> str:
        attempts.append(1)
        raise RuntimeError("connection refused")

    assert open_once(None, loses_once) == "opened" and len(attempts) == 2
    attempts.clear()
    with pytest.raises(RuntimeError, match="refused"):
        open_once(None, refused)
    assert len(attempts) == 1


def test_the_lock_is_the_folder_and_leaves_nothing(tmp_path: Path) -> None:
    with store_lock(tmp_path / "optuna.db"):
        pass

    assert list(tmp_path.iterdir()) == []


def _second_waits_for_first(engine: sqlalchemy.Engine, path: Path | None) -> None:
    """While one holder has study 'iris''s turn, a second waits, and enters once it is freed."""
    events: list[str] = []
    holding = threading.Event()

    def second() -> None:
        holding.wait()
        with study_turn(engine, path, "iris"):
            events.append("second in")

    thread = threading.Thread(target=second)
    thread.start()
    with study_turn(engine, path, "iris"):
        holding.set()
        time.sleep(0.5)
        events.append("first out")
    thread.join(timeout=30)

    assert events == ["first out", "second in"]


def test_openers_of_one_study_take_turns_on_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "optuna.db"
    _second_waits_for_first(sqlalchemy.create_engine(f"sqlite:///{path}"), path)


@pytest.mark.postgres
def test_openers_of_one_study_take_turns_on_postgresql(postgres_databases) -> None:
    engine = sqlalchemy.create_engine(postgres_databases[0])
    try:
        _second_waits_for_first(engine, None)
        with engine.connect() as connection:  # the lock was given back, not left held
            held = (
                "SELECT count(*) FROM pg_locks JOIN pg_database d ON d.oid = pg_locks.database "
                "WHERE locktype = 'advisory' AND d.datname = current_database()"
            )
            assert connection.execute(sqlalchemy.text(held)).scalar() == 0
    finally:
        engine.dispose()

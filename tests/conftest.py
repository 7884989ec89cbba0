"""Shared fixtures: quiet libraries, a seed, per-test SQLite stores and a CLI runner."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from search._quiet import load_quietly

load_quietly()


@dataclass(frozen=True)
class Stores:
    """A private Optuna and MLflow store for one test."""

    root: Path
    storage: str
    tracking_uri: str

    def flags(self) -> list[str]:
        """The CLI flags that point a command at these stores."""
        return ["--storage", self.storage, "--tracking-uri", self.tracking_uri]


@pytest.fixture(scope="session")
def migrated_mlflow_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One MLflow SQLite store migrated once; its migrations take about two seconds."""
    from mlflow import MlflowClient

    path = tmp_path_factory.mktemp("template") / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{path}").search_experiments()
    return path


@pytest.fixture
def stores(tmp_path: Path, migrated_mlflow_db: Path, monkeypatch: pytest.MonkeyPatch) -> Stores:
    """Fresh stores under tmp_path (never the real mlruns/), with tmp_path as working dir."""
    root = tmp_path / "mlruns"
    root.mkdir()
    shutil.copy(migrated_mlflow_db, root / "mlflow.db")
    monkeypatch.chdir(tmp_path)
    return Stores(root, f"sqlite:///{root / 'optuna.db'}", f"sqlite:///{root / 'mlflow.db'}")


@pytest.fixture
def seed() -> int:
    """A fixed seed for Keras, NumPy and Python."""
    import keras

    keras.utils.set_random_seed(0)
    return 0


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def tune(capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[..., CliResult]]:
    """Run `tune ARGS` in-process and assert its exit code, showing the output on failure."""
    from search.cli import main

    def invoke(*args: str, code: int = 0) -> CliResult:
        capsys.readouterr()
        actual = main(list(args))
        captured = capsys.readouterr()
        result = CliResult(actual, captured.out, captured.err)
        assert actual == code, (
            f"exit {actual} != {code}\nstdout:\n{result.out}\nstderr:\n{result.err}"
        )
        return result

    yield invoke

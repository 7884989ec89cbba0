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


def _one_thread_per_test_process() -> None:
    # Under pytest-xdist two test processes share the two cores with the worker processes
    # some tests start; TensorFlow's default pools (as wide as the machine, spinning while
    # idle) would make them fight for cores. Set before TensorFlow runs its first operation.
    if os.environ.get("PYTEST_XDIST_WORKER"):
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)


_one_thread_per_test_process()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the tests that start processes first.

    They take most of the suite's time; started first, they overlap with the many small
    tests on the other pytest-xdist worker instead of running alone at the end.
    """
    items.sort(key=lambda item: item.get_closest_marker("processes") is None)


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


def obeying_file_modes() -> list[str]:
    """A command prefix under which the process obeys file modes, even as root (as in CI).

    Root reads a file whatever its mode through two capabilities; util-linux's setpriv
    drops them from the child process, which is otherwise root as before.
    """
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return []
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]


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


TINY_SPACE = """
[study]
data = "iris"
pruner = "none"

[space]
n_layers = [1, 1]
units = [8, 16]
epochs = [1, 1]
batch_sizes = [128]
"""


@pytest.fixture
def tiny_config(tmp_path: Path) -> Path:
    """A study file whose trials take well under a second: iris, one layer, one epoch."""
    path = tmp_path / "tiny.toml"
    path.write_text(TINY_SPACE)
    return path


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """The URL of a real PostgreSQL server (`.ci/run` starts one and sets it).

    Skips with the reason shown when none is configured, except where TUNE_REQUIRE_POSTGRES
    is set (as in CI): there a missing server is a failure.
    """
    url = os.environ.get("TUNE_TEST_POSTGRES_URL")
    if not url:
        reason = "PostgreSQL not available: set TUNE_TEST_POSTGRES_URL (bash .ci/run starts one)"
        if os.environ.get("TUNE_REQUIRE_POSTGRES"):
            pytest.fail(reason)
        pytest.skip(reason)
    return url


@pytest.fixture
def postgres_databases(postgres_admin_url: str) -> Iterator[tuple[str, str]]:
    """Two fresh databases for one test: (Optuna storage URL, MLflow tracking URL)."""
    import uuid

    import sqlalchemy

    engine = sqlalchemy.create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    names = [f"tune_{kind}_{uuid.uuid4().hex[:8]}" for kind in ("optuna", "mlflow")]
    base = postgres_admin_url.rsplit("/", 1)[0]
    with engine.connect() as connection:
        for name in names:
            connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{base}/{names[0]}", f"{base}/{names[1]}"
    finally:
        with engine.connect() as connection:
            for name in names:
                connection.execute(
                    sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                )
        engine.dispose()

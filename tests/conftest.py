"""Shared fixtures: quiet libraries, a seed, per-test SQLite stores and a CLI runner."""

from __future__ import annotations

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def _ctrl_c_as_a_terminal_sends_it() -> None:
    # Started as a background job (`make test &`), pytest inherits SIGINT ignored, and Python
    # then installs no KeyboardInterrupt handler: the Ctrl-C tests would fail, and every
    # `tune run` they start would ignore the signal too. A handled signal is reset on exec.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


_ctrl_c_as_a_terminal_sends_it()


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
    import sqlalchemy

    names = _database_names()
    base = postgres_admin_url.rsplit("/", 1)[0]
    with _dropped_after(postgres_admin_url, names) as engine, engine.connect() as connection:
        for name in names:
            connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
        yield f"{base}/{names[0]}", f"{base}/{names[1]}"


def _database_names() -> list[str]:
    import uuid

    return [f"tune_{kind}_{uuid.uuid4().hex[:8]}" for kind in ("optuna", "mlflow")]


@contextmanager
def _dropped_after(admin_url: str, names: list[str]) -> Iterator[Any]:
    """An engine on the admin database; the databases `names` are dropped on the way out."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        yield engine
    finally:
        with engine.connect() as connection:
            for name in names:
                _drop(connection, name)
        engine.dispose()


DROP_ATTEMPTS = 20


def _drop(connection: Any, name: str) -> None:
    """Drop a test database. FORCE ends the test's own sessions, but the test role may not end
    an autovacuum worker (a superuser's) busy on the fresh database: CI's teardown failed so
    once. That worker finishes in moments, so the drop is tried again."""
    import sqlalchemy

    for attempt in range(DROP_ATTEMPTS):
        try:
            connection.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except sqlalchemy.exc.ProgrammingError as exc:
            if (
                "InsufficientPrivilege" not in type(exc.orig).__name__
                or attempt == DROP_ATTEMPTS - 1
            ):
                raise
            time.sleep(0.25)


DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


@dataclass(frozen=True)
class Deployment:
    """deploy/'s recipe on this machine: what a worker machine is given to join the study."""

    storage: str
    tracking_uri: str
    env: dict[str, str]  # TUNE_STORAGE, TUNE_TRACKING_URI and, with auth, the credentials
    server_log: Path

    def start(
        self, name: str, work: Path, *args: str, host: bool = False
    ) -> subprocess.Popen[bytes]:
        """`deploy/worker.sh ARGS` as a process group of its own, in `work`, logging to
        `work/NAME.log`; with `host`, under a host name of its own (`NAME`), so that no
        other "machine" can tell its processes' fate from their pids.
        """
        work.mkdir(parents=True, exist_ok=True)
        command = ["bash", str(DEPLOY / "worker.sh"), *args]
        if host:
            # A UTS namespace of its own; without root, a user namespace grants the right.
            unshare = ["unshare", "--uts"] if os.geteuid() == 0 else ["unshare", "-r", "--uts"]
            command = [*unshare, "sh", "-c", 'hostname "$0" && exec "$@"', name, *command]
        with (work / f"{name}.log").open("wb") as log:
            return subprocess.Popen(
                command, cwd=work, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip


@pytest.fixture
def deployment(
    postgres_admin_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., Deployment]]:
    """Starts deploy/'s recipe as the README gives it: deploy/databases.sh makes two fresh
    databases, deploy/start-mlflow.sh an MLflow server over HTTP on one of them (with its
    basic auth when asked). Call it once per test; everything goes when the test ends.
    """
    from sqlalchemy.engine import make_url

    from tests.search.stores.test_server import ADMIN_PASSWORD, _free_port, _wait_healthy

    admin = make_url(postgres_admin_url)
    names = _database_names()
    root = tmp_path_factory.mktemp("deployment")
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"  # tune, mlflow
    psql = {"PGHOST": str(admin.host), "PGPORT": str(admin.port or 5432), "PGUSER": str(admin.username),
            "PGPASSWORD": str(admin.password), "PGDATABASE": str(admin.database)}  # fmt: skip
    with _dropped_after(postgres_admin_url, names), ExitStack() as servers:

        def deploy(auth: bool = False) -> Deployment:
            subprocess.run(["bash", str(DEPLOY / "databases.sh"), *names], check=True,
                           env={**os.environ, **psql}, capture_output=True)  # fmt: skip
            port = _free_port()
            env = {**os.environ, "PATH": path, "TUNE_MLFLOW_HOST": "127.0.0.1",
                   "TUNE_MLFLOW_PORT": str(port), "TUNE_MLFLOW_WORKERS": "1",
                   "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
                   "MLFLOW_BACKEND_STORE_URI": admin.set(database=names[1]).render_as_string(False)}  # fmt: skip
            if auth:
                env.update(TUNE_MLFLOW_AUTH="1", MLFLOW_AUTH_ADMIN_PASSWORD=ADMIN_PASSWORD)
                env["MLFLOW_FLASK_SERVER_SECRET_KEY"] = "test-key"
            log = servers.enter_context((root / "server.log").open("wb"))
            server = subprocess.Popen(
                ["bash", str(DEPLOY / "start-mlflow.sh"), str(root / "artifacts")], cwd=root,
                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
            servers.callback(_stop, server)
            url = f"http://127.0.0.1:{port}"
            _wait_healthy(url, server, root / "server.log")
            storage = admin.set(database=names[0]).render_as_string(False)
            worker = {**os.environ, "PATH": path, "TUNE_STORAGE": storage, "TUNE_TRACKING_URI": url}
            if auth:
                worker.update(
                    MLFLOW_TRACKING_USERNAME="admin", MLFLOW_TRACKING_PASSWORD=ADMIN_PASSWORD
                )
            return Deployment(storage, url, worker, root / "server.log")

        yield deploy


def _stop(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)

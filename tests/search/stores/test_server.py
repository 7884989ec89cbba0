"""`tune` against a real MLflow tracking server over HTTP, with and without its basic auth.

Artifacts (models, plots) go through the server, as they do for workers on other machines.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from mlflow import MlflowClient

pytestmark = [pytest.mark.slow, pytest.mark.processes]

ADMIN_PASSWORD = "adm1n-s3cret"
TINY = ("--trials", "2", "--quiet", "--no-report")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def mlflow_server(root: Path, auth: bool) -> Iterator[str]:
    """`mlflow server` on a SQLite backend under `root`, serving artifacts; yields its URL."""
    port = _free_port()
    command = [sys.executable, "-m", "mlflow", "server",
               "--backend-store-uri", f"sqlite:///{root / 'server.db'}",
               "--artifacts-destination", str(root / "artifacts"),
               "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]  # fmt: skip
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    if auth:
        command[4:4] = ["--app-name", "basic-auth"]
        # MLflow 3.17 ships no admin password: one must be set before the first start.
        env.update(MLFLOW_AUTH_ADMIN_PASSWORD=ADMIN_PASSWORD, MLFLOW_FLASK_SERVER_SECRET_KEY="k")
        env["MLFLOW_AUTH_CONFIG_PATH"] = str(_auth_config(root))
    log = (root / "server.log").open("w")
    process = subprocess.Popen(
        command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process, root / "server.log")
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()


def _auth_config(root: Path) -> Path:
    # Its own user database, beside the server's, so tests never share one.
    path = root / "basic_auth.ini"
    path.write_text(
        "[mlflow]\ndefault_permission = READ\n"
        f"database_uri = sqlite:///{root / 'auth.db'}\n"
        f"admin_username = admin\nadmin_password = {ADMIN_PASSWORD}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
    )
    return path


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"the MLflow server did not start:\n{log.read_text()}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with mlflow_server(tmp_path_factory.mktemp("server"), auth=False) as url:
        yield url


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with mlflow_server(tmp_path_factory.mktemp("auth-server"), auth=True) as url:
        yield url


def test_run_export_predict_report_and_ui_through_a_tracking_server(
    tune, tiny_config, tmp_path, monkeypatch, server
) -> None:
    monkeypatch.chdir(tmp_path)
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    stores = ("--storage", storage, "--tracking-uri", server)
    tune("run", "--config", str(tiny_config), *TINY, *stores)

    out = tune(
        "export", "iris", "--out", str(tmp_path / "x"), "--register", "iris-model", *stores
    ).out
    rows = tmp_path / "rows.csv"
    rows.write_text("sepal length (cm),sepal width (cm),petal length (cm),petal width (cm)\n"
                    "5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n")  # fmt: skip
    predicted = tune("predict", "models:/iris-model@champion", "--data", str(rows),
                     "--tracking-uri", server).out  # fmt: skip
    report = tune("report", "iris", "--out", str(tmp_path / "r.html"), "--log", *stores).out
    ui = tune("ui", "--tracking-uri", server).out

    assert "Registered iris-model version 1" in out
    assert predicted.splitlines()[0].startswith("target,proba_0")
    assert len(predicted.strip().splitlines()) == 3
    assert "Logged the plots to run" in report
    client = MlflowClient(tracking_uri=server)
    experiment = client.get_experiment_by_name("iris")
    assert experiment.artifact_location.startswith("mlflow-artifacts:")  # through the server
    parent = client.search_runs([experiment.experiment_id], "tags.`tune.role` = 'study'")[0]
    plots = {f.path for f in client.list_artifacts(parent.info.run_id, "plots")}
    assert plots  # the report's files went through the server too
    assert f"MLflow UI: {server}   (the tracking server)" in ui
    assert f"study iris: {server}/#/experiments/{experiment.experiment_id}/runs?" in ui
    assert not (tmp_path / "mlruns").exists()  # nothing local but the Optuna store


@pytest.mark.parametrize(
    "credentials",
    [{}, {"MLFLOW_TRACKING_USERNAME": "admin", "MLFLOW_TRACKING_PASSWORD": "wrong"}],
    ids=["missing", "wrong"],
)
def test_refused_credentials_are_one_line_and_leave_nothing(
    tune, tiny_config, tmp_path, monkeypatch, auth_server, credentials
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_USERNAME", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_PASSWORD", raising=False)
    for key, value in credentials.items():
        monkeypatch.setenv(key, value)

    err = tune("run", "--config", str(tiny_config), *TINY, "--tracking-uri", auth_server,
               code=2).err  # fmt: skip

    assert err.strip() == (
        f"error: the tracking server at {auth_server} refused tune (HTTP 401); set "
        "MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD to a user it knows."
    )
    assert not (tmp_path / "mlruns").exists()
    admin = {"MLFLOW_TRACKING_USERNAME": "admin", "MLFLOW_TRACKING_PASSWORD": ADMIN_PASSWORD}
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", admin["MLFLOW_TRACKING_USERNAME"])
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", admin["MLFLOW_TRACKING_PASSWORD"])
    assert MlflowClient(tracking_uri=auth_server).get_experiment_by_name("iris") is None


def test_a_known_user_runs_a_study_on_an_auth_server(
    tune, tiny_config, tmp_path, monkeypatch, auth_server
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "admin")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", ADMIN_PASSWORD)

    out = tune("run", "--config", str(tiny_config), *TINY, "--study", "authed",
               "--tracking-uri", auth_server).out  # fmt: skip

    assert "Study 'authed': 2 trials" in out
    assert ADMIN_PASSWORD not in out
    client = MlflowClient(tracking_uri=auth_server)
    experiment = client.get_experiment_by_name("authed")
    runs = client.search_runs([experiment.experiment_id])
    assert sorted(r.data.tags["tune.role"] for r in runs) == ["study", "trial", "trial"]
    assert json.loads(json.dumps([r.info.status for r in runs])) == ["FINISHED"] * 3

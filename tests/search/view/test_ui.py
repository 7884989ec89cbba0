"""tune ui: a real `mlflow server` subprocess on the study's store, checked over HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from mlflow import MlflowClient

from search.stores._names import EXPERIMENT_KIND
from search.view._ui import (
    VIEW_NAME,
    VIEW_TAG,
    is_loopback,
    plan_ui,
    trials_link,
    trials_view,
    wait_until_healthy,
)
from tests.conftest import Stores
from tests.search.built import built_study

STARTUP_S = 120


@pytest.fixture(scope="module")
def iris(tmp_path_factory: pytest.TempPathFactory, migrated_mlflow_db: Path) -> Iterator[Stores]:
    with built_study(tmp_path_factory, migrated_mlflow_db, "--data", "iris") as stores:
        yield stores


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _post(url: str, body: dict) -> dict:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)  # tune stops its server's process group
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


@contextmanager
def tune_server(args: list[str], cwd: Path, ready_url: str) -> Iterator[Path]:
    """Run `tune ARGS` (a command that serves) as a process until `ready_url` answers.

    Yields the file that collects its output; SIGTERM stops it (and its server) on the way out.
    """
    log_path = cwd / "server.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "search", *args],
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            deadline = time.monotonic() + STARTUP_S
            while not _answers(ready_url):
                assert process.poll() is None, f"tune exited early:\n{log_path.read_text()}"
                assert time.monotonic() < deadline, f"no answer:\n{log_path.read_text()}"
                time.sleep(0.5)
            yield log_path
        finally:
            _stop(process)


@pytest.mark.slow
@pytest.mark.processes
def test_ui_serves_the_study_runs_over_http(iris, tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    experiment_id = (
        MlflowClient(tracking_uri=iris.tracking_uri).get_experiment_by_name("iris").experiment_id
    )
    args = ["ui", "--port", str(port), "--tracking-uri", iris.tracking_uri]
    with tune_server(args, tmp_path, f"{url}/health") as log:
        with urllib.request.urlopen(f"{url}/health", timeout=10) as answer:
            assert answer.read().decode().strip() == "OK"
        runs = _post(
            f"{url}/api/2.0/mlflow/runs/search",
            {"experiment_ids": [experiment_id], "max_results": 100},
        )["runs"]
        tags = [{t["key"]: t["value"] for t in run["data"]["tags"]} for run in runs]
        parents = [
            run for run, tag in zip(runs, tags, strict=True) if tag.get("tune.role") == "study"
        ]
        assert len(parents) == 1
        parent_id = parents[0]["info"]["run_id"]
        children = [tag for tag in tags if tag.get("tune.role") == "trial"]
        assert sorted(int(tag["tune.trial"]) for tag in children) == [0, 1, 2]
        assert all(tag["mlflow.parentRunId"] == parent_id for tag in children)
        assert f"study iris: {trials_link(url, experiment_id)}" in log.read_text()
    with pytest.raises(urllib.error.URLError):  # the server went away with tune ui
        urllib.request.urlopen(f"{url}/health", timeout=2)


@pytest.mark.slow
def test_plan_links_the_study_and_tags_its_experiment(iris) -> None:
    port = free_port()
    plan = plan_ui(iris.tracking_uri, "127.0.0.1", port, "iris")
    client = MlflowClient(tracking_uri=iris.tracking_uri)
    experiment = client.get_experiment_by_name("iris")
    link = (
        f"http://127.0.0.1:{port}/#/experiments/{experiment.experiment_id}/runs"
        "?workflowType=machine_learning&compareRunsMode=TABLE&viewStateShareKey=tune-trials"
    )
    assert plan.links == {"iris": link}
    assert plan.open_url == link
    assert EXPERIMENT_KIND.items() <= experiment.tags.items()
    view = json.loads(experiment.tags[VIEW_TAG])
    assert view["name"] == VIEW_NAME
    assert json.loads(view["state"]) == {
        "searchFilter": "tags.`tune.role` = 'trial'",
        "orderByKey": "metrics.`value`",
        "orderByAsc": False,  # iris maximizes accuracy: the highest value first
        "selectedColumns": ["metrics.`value`"],
    }
    assert plan.command[plan.command.index("--port") + 1] == str(port)
    assert "--serve-artifacts" in plan.command
    assert plan.warnings == ()


@pytest.mark.slow
def test_the_saved_view_is_restored_and_otherwise_left_alone(iris) -> None:
    client = MlflowClient(tracking_uri=iris.tracking_uri)
    experiment_id = client.get_experiment_by_name("iris").experiment_id
    client.set_experiment_tag(experiment_id, VIEW_TAG, "edited by hand")
    plan_ui(iris.tracking_uri, "127.0.0.1", free_port(), "iris")
    restored = client.get_experiment(experiment_id).tags[VIEW_TAG]
    assert json.loads(restored)["name"] == VIEW_NAME
    plan_ui(iris.tracking_uri, "127.0.0.1", free_port(), "iris")
    assert client.get_experiment(experiment_id).tags[VIEW_TAG] == restored  # not rewritten


@pytest.mark.parametrize(("direction", "ascending"), [("maximize", False), ("minimize", True)])
def test_the_view_puts_the_best_trial_first(direction: str, ascending: bool) -> None:
    view = trials_view(direction)
    assert view["orderByKey"] == "metrics.`value`"
    assert view["orderByAsc"] is ascending


@pytest.mark.slow
def test_a_port_in_use_is_refused(tune, iris) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        err = tune("ui", "--port", str(port), "--tracking-uri", iris.tracking_uri, code=2).err
    assert err.strip().startswith(f"error: port {port} on 127.0.0.1 is already in use;")
    assert len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_an_unknown_study_is_refused(tune, iris) -> None:
    err = tune("ui", "--study", "nope", "--tracking-uri", iris.tracking_uri, code=2).err
    assert err.strip().startswith("error: unknown study 'nope'.")
    assert "iris" in err


@pytest.mark.slow
def test_a_non_loopback_host_warns(iris) -> None:
    plan = plan_ui(iris.tracking_uri, "0.0.0.0", free_port())
    assert any("reachable from other machines" in w for w in plan.warnings)
    assert plan.url.startswith("http://127.0.0.1:")


def test_a_missing_store_is_refused_and_not_created(tune, tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"
    err = tune("ui", "--tracking-uri", uri, code=2).err
    assert err.strip() == (
        f"error: no tracking store at '{tmp_path / 'mlruns' / 'mlflow.db'}' yet; "
        "run `tune run` first, or pass --tracking-uri."
    )
    assert not (tmp_path / "mlruns").exists()


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("0.0.0.0", False),
        ("10.1.2.3", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_wait_until_healthy_gives_up_when_the_server_exits() -> None:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    started = time.monotonic()
    assert not wait_until_healthy(f"http://127.0.0.1:{free_port()}", process)
    assert time.monotonic() - started < 5

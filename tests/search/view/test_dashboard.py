"""tune dashboard: a real optuna-dashboard server on a built study, checked over its HTTP API."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from search.view._dashboard import MISSING
from tests.conftest import Stores
from tests.search.built import built_study
from tests.search.stores_view import trials
from tests.search.view.test_ui import free_port, tune_server


@pytest.fixture(scope="module")
def iris(tmp_path_factory: pytest.TempPathFactory, migrated_mlflow_db: Path) -> Iterator[Stores]:
    with built_study(tmp_path_factory, migrated_mlflow_db, "--data", "iris") as stores:
        yield stores


@pytest.fixture
def dashboard_installed() -> None:
    """Skips where optuna-dashboard is missing, unless TUNE_REQUIRE_DASHBOARD is set (CI)."""
    if importlib.util.find_spec("optuna_dashboard") is None:
        reason = "optuna-dashboard is not installed: pip install -e '.[dashboard]'"
        if os.environ.get("TUNE_REQUIRE_DASHBOARD"):
            pytest.fail(reason)
        pytest.skip(reason)


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return json.loads(answer.read())


@pytest.mark.slow
@pytest.mark.processes
def test_dashboard_serves_the_study_and_its_trials(
    dashboard_installed: None, iris, tmp_path: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = ["dashboard", "iris", "--port", str(port), "--storage", iris.storage]
    with tune_server(args, tmp_path, f"{url}/api/studies") as log:
        studies = {
            s["study_name"]: s["study_id"] for s in _get(f"{url}/api/studies")["study_summaries"]
        }
        assert list(studies) == ["iris"]
        study_id = studies["iris"]
        assert f"study iris: {url}/dashboard/studies/{study_id}" in log.read_text()
        served = _get(f"{url}/api/studies/{study_id}")["trials"]
        with urllib.request.urlopen(f"{url}/dashboard/studies/{study_id}", timeout=10) as page:
            assert page.status == 200  # the page the printed link names
    expected = trials(iris.storage, "iris")
    assert len(expected) == 3
    assert sorted((t["number"], t["state"]) for t in served) == [
        (t.number, t.state.name.capitalize()) for t in expected
    ]


@pytest.mark.slow
def test_an_unknown_study_is_refused(tune, iris, dashboard_installed: None) -> None:
    err = tune("dashboard", "nope", "--storage", iris.storage, code=2).err
    assert err.strip().startswith("error: unknown study 'nope'.")
    assert "iris" in err


@pytest.mark.slow
def test_a_port_in_use_is_refused(tune, iris, dashboard_installed: None) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        err = tune("dashboard", "iris", "--port", str(port), "--storage", iris.storage, code=2).err
    assert err.strip().startswith(f"error: port {port} on 127.0.0.1 is already in use;")


def test_a_missing_extra_is_one_line_and_exit_2() -> None:
    # The import is blocked in a fresh interpreter, so this works whether or not it is installed.
    script = (
        "import sys; sys.modules['optuna_dashboard'] = None; "
        "from search.cli import main; sys.exit(main(['dashboard', 'any']))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 2, done.stderr
    assert done.stderr == f"error: {MISSING}\n"
    assert MISSING == "optuna-dashboard is not installed; run pip install -e '.[dashboard]'"

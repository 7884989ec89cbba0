"""Load: four `tune run` of 25 trials each at once on PostgreSQL and an MLflow server over HTTP.

The stores are started by deploy/ as the README says, and every process by deploy/worker.sh.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import optuna
import pytest
from mlflow import MlflowClient

from tests.conftest import Deployment

RUNS = 4
TRIALS = 25
LOG_TAIL = 2000
STUDY = """
[study]
data = "iris"
pruner = "none"
cv = 1
refit = false  # the load is the trials'; a refit is one process's work at its end

[space]
n_layers = [1, 1]
units = [8, 16]
epochs = [1, 2]
batch_sizes = [64]
"""
# What a store under load says when it loses: locks, deadlocks, dropped or refused connections.
TROUBLE = re.compile(
    r"lock|OperationalError|connection|Traceback|HTTP 5\d\d|timed? ?out", re.IGNORECASE
)
# The server logs every request ("POST ... HTTP/1.1" 200 OK): only failures count there.
SERVER_TROUBLE = re.compile(r'HTTP/1.1" 5\d\d|Traceback|OperationalError|deadlock', re.IGNORECASE)


@pytest.mark.slow
@pytest.mark.processes
@pytest.mark.postgres
def test_four_runs_of_25_trials_on_postgresql_and_a_tracking_server(
    deployment: Callable[..., Deployment], tmp_path: Path
) -> None:
    deployed = deployment()
    config = tmp_path / "study.toml"
    config.write_text(STUDY)
    args = ("--config", str(config), "--study", "load", "--trials", str(TRIALS), "--quiet",
            "--no-report", "--workers", "1")  # fmt: skip
    runs = [deployed.start(f"run-{i}", tmp_path / f"run-{i}", *args) for i in range(RUNS)]
    codes = [run.wait(timeout=300) for run in runs]

    logs = {i: (tmp_path / f"run-{i}" / f"run-{i}.log").read_text() for i in range(RUNS)}
    # Only the runs in question, and their ends: pytest cuts a long message in its middle.
    assert codes == [0] * RUNS, {i: logs[i][-LOG_TAIL:] for i, code in enumerate(codes) if code}
    troubles = {i: TROUBLE.findall(log) for i, log in logs.items()}
    assert not any(troubles.values()), {i: logs[i][-LOG_TAIL:] for i in troubles if troubles[i]}
    served = deployed.server_log.read_text()
    assert not SERVER_TROUBLE.findall(served), served
    trials = optuna.load_study(study_name="load", storage=deployed.storage).get_trials()
    assert [t.state.name for t in trials] == ["COMPLETE"] * RUNS * TRIALS
    client = MlflowClient(tracking_uri=deployed.tracking_uri)
    experiment = client.get_experiment_by_name("load")
    assert experiment is not None
    found = client.search_runs([experiment.experiment_id], max_results=1000)
    roles = sorted(r.data.tags["tune.role"] for r in found)
    assert roles == ["study"] * RUNS + ["trial"] * RUNS * TRIALS
    assert {r.info.status for r in found} == {"FINISHED"}
    numbers = sorted(int(r.data.tags["tune.trial"]) for r in found if "tune.trial" in r.data.tags)
    assert numbers == list(range(RUNS * TRIALS))  # one child run per trial

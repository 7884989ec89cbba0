"""Kill -9 during a trial, run the same command again: the study goes on, nothing stays open."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import optuna
import pytest
from mlflow.entities import Run

from search.stores._names import OWNER_ATTR
from search.stores._recovery import DEAD_REASON
from tests.search import stores_view

pytestmark = [pytest.mark.slow, pytest.mark.processes]

# Trials of a few seconds, so the kill lands inside one.
SLOW_SPACE = """
[study]
data = "iris"
pruner = "none"
refit = false  # a refit of these 40 epochs, three times, would add seconds to every run

[space]
n_layers = [1, 1]
units = [8, 8]
epochs = [40, 40]
batch_sizes = [16]
"""


def _wait_for(predicate, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting for the study to reach the expected state")


def _runs_by_trial(tracking_uri: str) -> dict[int, Run]:
    try:
        children = stores_view.runs(tracking_uri, "iris", "trial")
    except AssertionError:  # no experiment yet
        return {}
    return {int(run.data.tags["tune.trial"]): run for run in children}


def _running_after_a_complete(
    stores, not_of_pid: int | None = None
) -> optuna.trial.FrozenTrial | None:
    try:
        trials = stores_view.trials(stores.storage, "iris")
    except KeyError:  # the study does not exist yet
        return None
    done = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    # Recovery knows a trial's process by its owner, set as the trial starts.
    running = [
        t
        for t in trials
        if t.state == optuna.trial.TrialState.RUNNING
        and OWNER_ATTR in t.user_attrs
        and _owner_pid(t) != not_of_pid
    ]
    if not (done and running):
        return None
    # Only a trial whose run is open: the signal must leave something for recovery to close,
    # and must not land as the study ends (nor, in a last trial, as it shuts down).
    runs = _runs_by_trial(stores.tracking_uri)
    opened = {n for n, run in runs.items() if run.info.status == "RUNNING"}
    running = [t for t in running if t.number in opened]
    if not running:
        return None
    # The trial started last has the most time left: the kill or Ctrl-C lands inside it, not
    # after the end of a trial that was about to finish (under --workers 2 one often is).
    return max(running, key=lambda t: t.datetime_start or datetime.min)


def _owner_pid(trial: optuna.trial.FrozenTrial) -> int:
    return int(trial.user_attrs[OWNER_ATTR].split(":")[1])


def _config(tmp_path: Path) -> str:
    path = tmp_path / "slow.toml"
    path.write_text(SLOW_SPACE)
    return str(path)


def test_kill_then_rerun_resumes(tune, stores, tmp_path) -> None:
    args = ["run", "--config", _config(tmp_path), "--quiet", "--no-report", *stores.flags()]
    process = subprocess.Popen([sys.executable, "-m", "search", *args, "--trials", "5"])
    try:
        _wait_for(lambda: _running_after_a_complete(stores) is not None)
        victim = _running_after_a_complete(stores)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert victim is not None

    result = tune(*args, "--trials", "1")
    assert "Resumed: 1 trial(s)" in result.out

    trials = {t.number: t for t in stores_view.trials(stores.storage, "iris")}
    killed = trials[victim.number]
    assert killed.state == optuna.trial.TrialState.FAIL
    assert killed.user_attrs["fail_reason"] == DEAD_REASON
    assert trials[0].state == optuna.trial.TrialState.COMPLETE  # completed trials are kept
    retried = [t for t in trials.values() if t.system_attrs.get("failed_trial") == victim.number]
    assert len(retried) == 1 and retried[0].params == killed.params

    assert _runs_by_trial(stores.tracking_uri)[victim.number].info.status == "KILLED"
    parents = stores_view.runs(stores.tracking_uri, "iris", "study")
    assert sorted(r.info.status for r in parents) == ["FINISHED", "KILLED"]
    stores_view.assert_consistent(stores.storage, stores.tracking_uri, "iris")


def test_a_killed_worker_is_replaced_and_its_trial_retried(tune, stores, tmp_path) -> None:
    args = [
        "run",
        "--config",
        _config(tmp_path),
        "--quiet",
        "--no-report",
        "--workers",
        "2",
        "--trials",
        "30",  # enough that the helper still has trials to run once it has started
    ]
    process = subprocess.Popen([sys.executable, "-m", "search", *args, *stores.flags()])
    try:
        # A helper's trial: the launching process runs trials too, and must survive.
        _wait_for(lambda: _running_after_a_complete(stores, process.pid) is not None)
        victim = _running_after_a_complete(stores, process.pid)
        assert victim is not None
        worker_pid = _owner_pid(victim)
        os.kill(worker_pid, signal.SIGKILL)
        assert process.wait(timeout=300) == 0  # the launcher finishes the run by itself
    finally:
        if process.poll() is None:
            process.kill()

    trials = {t.number: t for t in stores_view.trials(stores.storage, "iris")}
    assert trials[victim.number].state == optuna.trial.TrialState.FAIL
    assert any(t.system_attrs.get("failed_trial") == victim.number for t in trials.values())
    assert stores_view.states(list(trials.values())) == {"COMPLETE": 30, "FAIL": 1}
    parents = stores_view.runs(stores.tracking_uri, "iris", "study")
    assert [r.info.status for r in parents] == ["FINISHED"]
    stores_view.assert_consistent(stores.storage, stores.tracking_uri, "iris")


def test_ctrl_c_fails_the_current_trial_closes_the_runs_and_says_how_to_resume(
    stores, tmp_path
) -> None:
    args = ["run", "--config", _config(tmp_path), "--quiet", "--no-report", *stores.flags()]
    process = subprocess.Popen(
        [sys.executable, "-m", "search", *args, "--trials", "5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(lambda: _running_after_a_complete(stores) is not None)
        victim = _running_after_a_complete(stores)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert victim is not None
    assert process.returncode == 130, (victim.number, err)
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("error: interrupted")
    assert "Run the same command again to resume" in err

    trials = {t.number: t for t in stores_view.trials(stores.storage, "iris")}
    assert trials[victim.number].state == optuna.trial.TrialState.FAIL
    assert "interrupted" in trials[victim.number].user_attrs["fail_reason"]
    assert trials[0].state == optuna.trial.TrialState.COMPLETE
    parents = stores_view.runs(stores.tracking_uri, "iris", "study")
    assert [r.info.status for r in parents] == ["KILLED"]
    stores_view.assert_consistent(stores.storage, stores.tracking_uri, "iris")


def test_ctrl_c_under_workers_stops_every_process_and_closes_the_runs(stores, tmp_path) -> None:
    args = ["run", "--config", _config(tmp_path), "--quiet", "--no-report", *stores.flags()]
    # A session of its own, so the signal reaches every process as a terminal's Ctrl-C does.
    process = subprocess.Popen(
        [sys.executable, "-m", "search", *args, "--trials", "40", "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        _wait_for(lambda: _running_after_a_complete(stores, process.pid) is not None)
        os.killpg(process.pid, signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("error: interrupted")
    # Multiprocessing's resource tracker ends a moment after the process that started it.
    _wait_for(
        lambda: (
            subprocess.run(["pgrep", "-s", str(process.pid)], capture_output=True).returncode == 1
        ),
        10,
    )

    trials = stores_view.trials(stores.storage, "iris")
    states = stores_view.states(trials)
    assert "RUNNING" not in states and states.get("FAIL", 0) >= 1, states
    assert len(trials) < 40  # no process went on after the Ctrl-C
    parents = stores_view.runs(stores.tracking_uri, "iris", "study")
    assert [r.info.status for r in parents] == ["KILLED"]
    stores_view.assert_consistent(stores.storage, stores.tracking_uri, "iris")

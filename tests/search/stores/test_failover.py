"""Fail-over for real: two machines on one study, one killed with SIGKILL in the middle of it.

Each "machine" is a process group of its own, in its own working directory and under a host
name of its own (a UTS namespace), so the survivor cannot tell the other's fate from its
pids: only Optuna's heartbeat can. Both run deploy/worker.sh against a real PostgreSQL and an
MLflow server over HTTP with basic auth, started by deploy/ as the README says.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import optuna
import pytest
from mlflow import MlflowClient
from mlflow.entities import Run
from optuna.distributions import FloatDistribution
from optuna.trial import FrozenTrial, TrialState

from search.stores._names import OWNER_ATTR
from search.stores._recovery import StaleTrialHandler
from search.stores._storage import open_storage
from search.stores._tracking import StudyRun, connect, ensure_experiment
from tests.conftest import Deployment

# The victim creates the study with this file; the survivor joins it by name and takes the
# heartbeat settings from the [study] table alone (they are per run, not the study's).
EPOCHS = 8
# No refit at the end: what is tested is over once the survivor has ended its trials.
BEAT = "heartbeat_interval = 1\ngrace_period = 3\nrefit = false\n"
STUDY = f"""
[study]
data = "iris"
pruner = "none"
{BEAT}
[space]
n_layers = [1, 1]
units = [8, 16]
epochs = [{EPOCHS}, {EPOCHS}]
batch_sizes = [16]
"""
# Generous: a wait ends as soon as the machines get there, and a loaded 2-core CI machine
# can take three times as long as a quiet one.
WAIT_S = 240
ENDED = (TrialState.COMPLETE, TrialState.PRUNED)


def _trials(storage: str) -> list[FrozenTrial]:
    try:
        return optuna.load_study(study_name="failover", storage=storage).get_trials()
    except KeyError:  # not created yet
        return []


def _on(machine: str, trial: FrozenTrial) -> bool:
    return str(trial.user_attrs.get(OWNER_ATTR, "")).startswith(f"{machine}:")


def _trained(trial: FrozenTrial) -> bool:
    return bool(trial.intermediate_values)  # at least one epoch reported


def _wait(
    storage: str, machines: list[subprocess.Popen[bytes]], ready: Callable[..., bool]
) -> None:
    deadline = time.monotonic() + WAIT_S
    while not ready(_trials(storage)):
        assert all(m.poll() is None for m in machines), "a machine ended early"
        assert time.monotonic() < deadline, "the machines did not get that far in time"
        time.sleep(0.3)


@pytest.mark.slow
@pytest.mark.processes
@pytest.mark.postgres
def test_a_machine_killed_mid_study_is_failed_over_by_the_survivor(
    deployment: Callable[..., Deployment], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deployed = deployment(auth=True)
    for key, value in deployed.env.items():
        monkeypatch.setenv(key, value)  # the server's credentials, for the checks here
    client = MlflowClient(tracking_uri=deployed.tracking_uri)
    (tmp_path / "study.toml").write_text(STUDY)
    (tmp_path / "beat.toml").write_text(f"[study]\n{BEAT}")
    # B, the victim, starts the study, with deploy/worker.sh's one worker per core. (With
    # `--workers 1` on both machines, one try in four left B's killed trial RUNNING: A had
    # spent its quota before the grace period ran out.)
    victim = deployed.start("machine-b", tmp_path / "b", "--config", str(tmp_path / "study.toml"),
                            "--study", "failover", "--trials", "100", "--quiet", "--no-report",
                            host=True)  # fmt: skip
    machines = [victim]
    try:
        # A joins by the study's name alone, once B has ended a trial, so that A has most
        # of its quota ahead when B dies. A quota of trials, not a timeout, keeps A going
        # past the grace period and the retries however slow the machine: each takes > 0.5 s.
        _wait(deployed.storage, machines, lambda ts: any(t.state in ENDED for t in ts))
        survivor = deployed.start("machine-a", tmp_path / "a", "--config", str(tmp_path / "beat.toml"),
                                  "--study", "failover", "--trials", "15", "--quiet", "--no-report",
                                  host=True)  # fmt: skip
        machines.append(survivor)
        # B is killed in the middle of a trial, once it has finished one and A trains too.
        _wait(deployed.storage, machines, lambda ts: any(_on("machine-a", t) for t in ts)
              and any(_on("machine-b", t) and t.state in ENDED for t in ts)
              and _mid_trial(client, [t for t in ts if _on("machine-b", t)]))  # fmt: skip
        os.killpg(victim.pid, signal.SIGKILL)  # the whole machine: tune run and its writer
        assert survivor.wait(timeout=WAIT_S) == 0, (tmp_path / "a" / "machine-a.log").read_text()
    finally:
        for machine in machines:
            if machine.poll() is None:
                os.killpg(machine.pid, signal.SIGKILL)

    _check_failed_over(_trials(deployed.storage), client)


def _mid_trial(client: MlflowClient, trials: list[FrozenTrial]) -> bool:
    """Whether a trial is training and its run is open: its writer has applied every
    earlier write (it works in order), so what B leaves open is that trial's alone."""
    # In its first half: killed at its very end, B could be between trials, with none to fail.
    training = [
        t
        for t in trials
        if t.state == TrialState.RUNNING and 1 <= len(t.intermediate_values) <= EPOCHS // 2
    ]
    if not training:
        return False
    experiment = client.get_experiment_by_name("failover")
    assert experiment is not None
    opened = client.search_runs(
        [experiment.experiment_id], f"tags.`tune.trial` = '{training[0].number}'"
    )
    return bool(opened)


def _check_failed_over(trials: list[FrozenTrial], client: MlflowClient) -> None:
    states = [t.state for t in trials]
    timeline = [(t.number, t.state.name, t.user_attrs.get(OWNER_ATTR, "?").split(":")[0],
                 f"{t.datetime_start:%H:%M:%S.%f}" if t.datetime_start else None,
                 f"{t.datetime_complete:%H:%M:%S.%f}" if t.datetime_complete else None)
                for t in trials]  # fmt: skip
    assert set(states) <= {*ENDED, TrialState.FAIL}, timeline  # none RUNNING, none WAITING
    failed = [t for t in trials if t.state == TrialState.FAIL]
    # B's, or a trial B had only just asked for when it died, before it named its owner.
    assert failed and not any(_on("machine-a", t) for t in failed)
    retries = {t.system_attrs.get("failed_trial"): t for t in trials}
    assert all(retries[t.number].state in ENDED for t in failed)

    experiment = client.get_experiment_by_name("failover")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id], max_results=1000)
    assert [r.info.run_name for r in runs if r.info.status == "RUNNING"] == []
    parents = {_host(r): r for r in runs if r.data.tags["tune.role"] == "study"}
    assert sorted(parents) == ["machine-a", "machine-b"]
    assert parents["machine-a"].info.status == "FINISHED"
    assert parents["machine-b"].info.status == "KILLED"  # closed for it by the survivor
    children: dict[int, list[Run]] = {}
    for run in runs:
        if run.data.tags["tune.role"] == "trial":
            children.setdefault(int(run.data.tags["tune.trial"]), []).append(run)
    for trial in trials:
        mine = children.get(trial.number, [])
        assert len(mine) <= 1 and (len(mine) == 1 or not _trained(trial)), trial.number
        machine = str(trial.user_attrs.get(OWNER_ATTR, "")).split(":")[0]
        for run in mine:  # (a trial killed before it named its owner cannot be placed)
            if machine:
                assert run.data.tags["mlflow.parentRunId"] == parents[machine].info.run_id
            assert run.info.status == ("KILLED" if trial.state == TrialState.FAIL else "FINISHED")


def _host(run: Run) -> str:
    return run.data.tags["tune.owner"].split(":")[0]


@pytest.mark.filterwarnings("ignore:Heartbeat of storage:UserWarning")  # trials told by hand
def test_a_parent_run_is_closed_with_the_last_of_its_trials(stores) -> None:
    study = optuna.create_study(study_name="s", storage=open_storage(stores.storage))
    client = connect(stores.tracking_uri)
    experiment_id = ensure_experiment(client, "s", stores.tracking_uri)
    # A remote `tune run --workers 3`: its trials are owned by its workers, not by it.
    parent = StudyRun.start(client, experiment_id, "s", {"tune.owner": "remote:9:0"})
    trials = [study.ask({"x": FloatDistribution(0, 1)}) for _ in range(3)]
    runs = [parent.start_trial(t.number).run_id for t in trials]
    for worker, trial in enumerate(trials):
        trial.set_user_attr(OWNER_ATTR, f"remote:{worker}:0")
    study.tell(trials[0], 0.5)  # ended, but its worker died before its run's last write
    handler = StaleTrialHandler(stores.tracking_uri)

    def goes_stale(trial: optuna.Trial) -> None:
        study._storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL)
        handler(study, study._storage.get_trial(trial._trial_id))

    goes_stale(trials[1])
    assert client.get_run(parent.run_id).info.status == "RUNNING"  # trial 2 still beats
    goes_stale(trials[2])

    assert client.get_run(parent.run_id).info.status == "KILLED"
    assert [client.get_run(r).info.status for r in runs] == ["KILLED"] * 3
    assert client.get_run(runs[0]).data.tags["tune.state"] == "COMPLETE"

"""Closing what dead workers left open, without touching the trials of live ones."""

from __future__ import annotations

import optuna
import pytest
from mlflow import MlflowClient
from mlflow.entities import Run
from optuna.trial import TrialState

from search.stores._names import OWNER_ATTR, RUN_ID_ATTR
from search.stores._recovery import (
    DEAD_REASON,
    STALE_REASON,
    StaleTrialHandler,
    is_dead,
    owner_tag,
    recover,
)
from search.stores._storage import open_storage
from search.stores._tracking import StudyRun, connect, ensure_experiment

# Trials are driven by hand here, not by optimize(), which is what Optuna warns about.
pytestmark = pytest.mark.filterwarnings("ignore:Heartbeat of storage:UserWarning")


def _running_trial(stores, owner: str, linked: bool = True) -> tuple[optuna.Study, StudyRun, str]:
    """A study with one running trial and its open run; `linked`: the trial knows the run's id
    (as once it ends), else only the run's `tune.trial` tag ties them (as while it runs)."""
    study = optuna.create_study(study_name="s", storage=open_storage(stores.storage))
    client = connect(stores.tracking_uri)
    experiment_id = ensure_experiment(client, "s", stores.tracking_uri)
    parent = StudyRun.start(client, experiment_id, "s", {})
    trial = study.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
    run_id = parent.start_trial(trial.number).run_id
    if linked:
        trial.set_user_attr(RUN_ID_ATTR, run_id)
    trial.set_user_attr(OWNER_ATTR, owner)
    return study, parent, experiment_id


def _only_trial_run(stores) -> Run:
    client = MlflowClient(tracking_uri=stores.tracking_uri)
    experiment = client.get_experiment_by_name("s")
    assert experiment is not None
    (run,) = client.search_runs([experiment.experiment_id], "tags.`tune.role` = 'trial'")
    return run


def test_this_process_is_alive_and_a_gone_pid_is_dead() -> None:
    assert not is_dead(owner_tag())
    host, pid, started = owner_tag().split(":")
    assert is_dead(f"{host}:{pid}:{int(started) - 1000}")  # same pid, other start: reused
    assert is_dead(f"{host}:999999999:0")
    assert not is_dead(f"another-host:{pid}:{started}")  # only the heartbeat can tell


def test_recover_fails_and_retries_the_trial_of_a_dead_local_process(stores) -> None:
    host = owner_tag().split(":")[0]
    study, parent, experiment_id = _running_trial(stores, f"{host}:999999999:0")
    assert recover(study, parent.client, experiment_id) == 1
    trials = study.get_trials()
    assert trials[0].state == TrialState.FAIL
    assert trials[1].state == TrialState.WAITING and trials[1].params == trials[0].params
    run = parent.client.get_run(trials[0].user_attrs[RUN_ID_ATTR])
    assert run.info.status == "KILLED" and run.data.tags["tune.state"] == "FAIL"


def test_recover_leaves_the_trials_of_live_or_remote_processes_alone(stores) -> None:
    study, parent, experiment_id = _running_trial(stores, "another-host:1:0")
    assert recover(study, parent.client, experiment_id) == 0
    assert [t.state for t in study.get_trials()] == [TrialState.RUNNING]
    run_id = study.get_trials()[0].user_attrs[RUN_ID_ATTR]
    assert parent.client.get_run(run_id).info.status == "RUNNING"


def test_the_heartbeat_callback_closes_the_run_and_retries_once(stores) -> None:
    study, _, _ = _running_trial(stores, "another-host:1:0")
    trial = study.get_trials()[0]
    study._storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL)
    handler = StaleTrialHandler(stores.tracking_uri)
    handler(study, study._storage.get_trial(trial._trial_id))
    run = MlflowClient(tracking_uri=stores.tracking_uri).get_run(trial.user_attrs[RUN_ID_ATTR])
    assert run.info.status == "KILLED"
    assert run.data.tags["tune.fail_reason"] == STALE_REASON
    retried = [t for t in study.get_trials() if t.state == TrialState.WAITING]
    assert len(retried) == 1 and retried[0].system_attrs["failed_trial"] == trial.number
    # A retried trial that goes stale too is not retried a second time.
    study._storage.set_trial_state_values(retried[0]._trial_id, state=TrialState.RUNNING)
    study._storage.set_trial_state_values(retried[0]._trial_id, state=TrialState.FAIL)
    handler(study, study._storage.get_trial(retried[0]._trial_id))
    assert not [t for t in study.get_trials() if t.state == TrialState.WAITING]


@pytest.mark.parametrize("linked", [True, False], ids=["linked", "by-number"])
def test_the_run_of_a_dead_trial_is_closed_whether_or_not_it_knew_its_id(
    stores, linked: bool
) -> None:
    host = owner_tag().split(":")[0]
    study, parent, _ = _running_trial(stores, f"{host}:999999999:0", linked=linked)
    # No experiment id: only the trial's own lookup can find its run.
    assert recover(study, parent.client, None) == 1
    run = _only_trial_run(stores)
    assert run.info.status == "KILLED" and run.data.tags["tune.state"] == "FAIL"


def test_the_heartbeat_callback_finds_the_run_of_an_unlinked_trial(stores) -> None:
    study, _, _ = _running_trial(stores, "another-host:1:0", linked=False)
    trial = study.get_trials()[0]
    study._storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL)
    StaleTrialHandler(stores.tracking_uri)(study, study._storage.get_trial(trial._trial_id))
    run = _only_trial_run(stores)
    assert run.info.status == "KILLED"
    assert run.data.tags["tune.fail_reason"] == STALE_REASON


def test_orphan_runs_are_told_from_live_ones_by_trial_number(stores) -> None:
    # A live trial's run is open before the trial learns its id: it is not an orphan.
    study, parent, experiment_id = _running_trial(stores, owner_tag(), linked=False)
    recover(study, parent.client, experiment_id)
    assert _only_trial_run(stores).info.status == "RUNNING"
    # Once its trial has ended and its process died before closing the run, it is one.
    trial = study.get_trials()[0]
    host = owner_tag().split(":")[0]
    study._storage.set_trial_user_attr(trial._trial_id, OWNER_ATTR, f"{host}:999999999:0")
    study._storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL)
    recover(study, parent.client, experiment_id)
    run = _only_trial_run(stores)
    assert run.info.status == "KILLED"
    assert run.data.tags["tune.fail_reason"] == DEAD_REASON


def test_a_just_finished_trials_run_stays_open_for_its_live_owners_writer(stores) -> None:
    # The trial has been told COMPLETE; its run's last write is still in its writer's queue.
    study, parent, experiment_id = _running_trial(stores, owner_tag(), linked=False)
    trial = study.get_trials()[0]
    study._storage.set_trial_state_values(trial._trial_id, state=TrialState.COMPLETE, values=[1])

    recover(study, parent.client, experiment_id)

    assert _only_trial_run(stores).info.status == "RUNNING"


@pytest.mark.parametrize("state", [TrialState.RUNNING, TrialState.COMPLETE])
def test_runs_of_another_machines_trials_are_never_taken(stores, state) -> None:
    study, parent, experiment_id = _running_trial(stores, "another-host:4242:0", linked=False)
    trial = study.get_trials()[0]
    if state != TrialState.RUNNING:
        study._storage.set_trial_state_values(trial._trial_id, state=state, values=[1])

    assert recover(study, parent.client, experiment_id) == 0

    assert _only_trial_run(stores).info.status == "RUNNING"

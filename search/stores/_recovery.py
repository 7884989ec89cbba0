"""Resume after a crash: trials and runs that a dead process left RUNNING are closed.

A process is known dead when it ran on this host and its pid is gone (or reused). Trials of
other hosts are left to Optuna's heartbeat, whose stale-trial callback is `StaleTrialHandler`;
it also closes the parent run of a `tune run` whose trials have all stopped beating.

A trial learns its run's id only as it ends (the writer opens the run, search/stores/_tracking.py),
so the run of a trial that is still running, or died, is found by its `tune.trial` tag.
"""

from __future__ import annotations

import contextlib
import os
import socket
from functools import cache

import optuna
import psutil
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from optuna.trial import FrozenTrial, TrialState

from search.stores._names import FAIL_REASON_ATTR, OWNER_ATTR, RUN_ID_ATTR
from search.stores._records import TrialOutcome, end_run
from search.stores._storage import retry_once

DEAD_REASON = "the worker running this trial died (killed or crashed)"
STALE_REASON = "the worker running this trial stopped sending heartbeats"
SILENT_REASON = "every worker of this run stopped sending heartbeats"


@cache
def owner_tag() -> str:
    """This process as `host:pid:start-time`, which a reused pid cannot match."""
    me = psutil.Process(os.getpid())
    return f"{socket.gethostname()}:{me.pid}:{me.create_time():.0f}"


def is_dead(owner: str) -> bool:
    """Whether the process an owner tag names is known to be gone."""
    host, _, rest = owner.partition(":")
    pid_text, _, started = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        return f"{psutil.Process(int(pid_text)).create_time():.0f}" != started
    except psutil.NoSuchProcess:
        return True
    except psutil.Error:
        return False


class StaleTrialHandler:
    """Heartbeat callback: close the stale trial's MLflow run, then retry the trial once.

    Its parent run is closed too once none of its trials still runs: a remote machine that
    stops beating leaves its `tune run`'s run to whoever notices (see `_close_if_silent`).
    """

    def __init__(self, tracking_uri: str) -> None:
        self.tracking_uri = tracking_uri
        self.retry = retry_once()

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        client = MlflowClient(tracking_uri=self.tracking_uri)
        parents: set[str] = set()
        for run_id in _runs_of(client, study.study_name, trial):
            parents.update(_parent_of(client, run_id))
            _close_run(client, run_id, STALE_REASON)
        self.retry(study, trial)
        for parent in parents:
            _close_if_silent(client, study, parent)


def recover(study: optuna.Study, client: MlflowClient, experiment_id: str | None) -> int:
    """Fail the trials of dead local processes and close every run they left open.

    Returns:
        How many trials were failed (each is retried once).
    """
    failed = 0
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        owner = trial.user_attrs.get(OWNER_ATTR)
        if owner and is_dead(owner):
            failed += _fail_trial(study, trial, client)
    if experiment_id is not None:
        _close_orphan_runs(study, client, experiment_id)
    return failed


def _fail_trial(study: optuna.Study, trial: FrozenTrial, client: MlflowClient) -> int:
    storage = study._storage
    try:
        storage.set_trial_user_attr(trial._trial_id, FAIL_REASON_ATTR, DEAD_REASON)
        if not storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL):
            return 0
    except optuna.exceptions.UpdateFinishedTrialError:
        return 0  # another process got there first
    for run_id in _runs_of(client, study.study_name, trial):
        _close_run(client, run_id, DEAD_REASON)
    retry_once()(study, storage.get_trial(trial._trial_id))
    return 1


def _runs_of(client: MlflowClient, study_name: str, trial: FrozenTrial) -> list[str]:
    """The open child runs of a trial: by the id it recorded, else by its number."""
    run_id = trial.user_attrs.get(RUN_ID_ATTR)
    if run_id:
        return [run_id]
    with contextlib.suppress(MlflowException):  # a store out of reach leaves nothing to close
        experiment = client.get_experiment_by_name(study_name)
        if experiment is not None:
            found = client.search_runs(
                [experiment.experiment_id],
                filter_string=f"tags.`tune.trial` = '{trial.number}' "
                "and tags.`tune.role` = 'trial' and attributes.status = 'RUNNING'",
            )
            return [run.info.run_id for run in found]
    return []


def _close_orphan_runs(study: optuna.Study, client: MlflowClient, experiment_id: str) -> None:
    running = client.search_runs(
        [experiment_id], filter_string="attributes.status = 'RUNNING'", max_results=5000
    )
    trials = {str(t.number): t for t in study.get_trials(deepcopy=False)}
    for run in running:
        tags = run.data.tags
        if tags.get("tune.role") == "trial" and is_abandoned(
            trials.get(tags.get("tune.trial", ""))
        ):
            _close_run(client, run.info.run_id, DEAD_REASON)
        elif tags.get("tune.role") == "study" and is_dead(tags.get("tune.owner", "")):
            client.set_terminated(run.info.run_id, "KILLED")


def is_abandoned(trial: FrozenTrial | None) -> bool:
    """Whether nobody will close the MLflow run of `trial`, so recovery may.

    The ownership rule: a trial's run belongs to the process that ran the trial (its
    `owner`). While the trial runs, the run is its owner's, or once the owner stops
    beating, the heartbeat handler's. After the trial ends, the owner's writer may still
    hold the run's last write, so only a dead owner on this host gives the run up. A
    process on another host cannot be seen from here: its runs are never taken.
    """
    if trial is None or trial.state == TrialState.RUNNING:
        return False
    owner = trial.user_attrs.get(OWNER_ATTR)
    return owner is None or is_dead(owner)  # a trial of a tune before owners: nobody left


def _parent_of(client: MlflowClient, run_id: str) -> list[str]:
    """The parent run of a run, if it has one and the store answers."""
    with contextlib.suppress(MlflowException):
        parent = client.get_run(run_id).data.tags.get("mlflow.parentRunId")
        return [parent] if parent else []
    return []


def _close_if_silent(client: MlflowClient, study: optuna.Study, parent_id: str) -> None:
    """Close a `tune run`'s parent run, and what it left open, once none of its trials runs.

    Called after one of its trials went stale. A live `tune run` fails its own crashed
    workers' trials at once (`recover`), so a trial left to the heartbeat means its machine
    stopped, unless the run has other trials still beating. Should the run be alive after
    all (a machine cut off, then back), it sets its own status again as it ends.
    """
    with contextlib.suppress(MlflowException):  # a store out of reach leaves nothing to close
        parent = client.get_run(parent_id)
        if parent.info.status != "RUNNING" or parent.data.tags.get("tune.role") != "study":
            return
        children = client.search_runs(
            [parent.info.experiment_id],
            filter_string=f"tags.`mlflow.parentRunId` = '{parent_id}' "
            "and attributes.status = 'RUNNING'",
            max_results=5000,
        )
        trials = {str(t.number): t for t in study.get_trials(deepcopy=False)}
        pairs = [(run, trials.get(run.data.tags.get("tune.trial", ""))) for run in children]
        ended = [(run, t) for run, t in pairs if t is not None and t.state.is_finished()]
        if len(ended) < len(pairs):
            return  # a trial of that run still runs (or is not ours to judge): it is alive
        for run, trial in ended:
            # The trial ended, but its run's last write died with its writer.
            outcome = TrialOutcome(trial.state.name, trial.value, reason=SILENT_REASON)
            end_run(client, run.info.run_id, outcome, status="KILLED")
        client.set_tag(parent_id, "tune.fail_reason", SILENT_REASON)
        client.set_terminated(parent_id, "KILLED")


def _close_run(client: MlflowClient, run_id: str, reason: str) -> None:
    # A run that is gone, or a store out of reach, leaves nothing to close.
    with contextlib.suppress(MlflowException):
        end_run(client, run_id, TrialOutcome("FAIL", reason=reason), status="KILLED")

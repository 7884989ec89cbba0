"""Read-only views of what a study left in the Optuna and MLflow stores, for assertions."""

from __future__ import annotations

import collections

import optuna
from mlflow import MlflowClient
from mlflow.entities import Run


def trials(storage: str, study: str) -> list[optuna.trial.FrozenTrial]:
    """All trials of a study."""
    return optuna.load_study(study_name=study, storage=storage).get_trials(deepcopy=False)


def runs(tracking_uri: str, study: str, role: str) -> list[Run]:
    """The study's runs of one role: 'study' (parents) or 'trial' (children)."""
    client = MlflowClient(tracking_uri=tracking_uri)
    experiment = client.get_experiment_by_name(study)
    assert experiment is not None, f"no MLflow experiment named {study!r}"
    return client.search_runs(
        [experiment.experiment_id],
        filter_string=f"tags.`tune.role` = '{role}'",
        max_results=5000,
    )


def states(items: list[optuna.trial.FrozenTrial]) -> dict[str, int]:
    """Trial count per state name."""
    return dict(collections.Counter(t.state.name for t in items))


def assert_consistent(storage: str, tracking_uri: str, study: str) -> None:
    """Every trial has exactly one closed child run, under a parent run, and vice versa."""
    all_trials = trials(storage, study)
    children = runs(tracking_uri, study, "trial")
    parents = {run.info.run_id for run in runs(tracking_uri, study, "study")}
    numbers = [run.data.tags["tune.trial"] for run in children]
    assert len(numbers) == len(set(numbers)), "a trial was logged twice"
    assert sorted(int(n) for n in numbers) == sorted(t.number for t in all_trials)
    for run in children:
        assert run.data.tags["mlflow.parentRunId"] in parents
        assert run.info.status != "RUNNING", f"run of trial {run.data.tags['tune.trial']} left open"

"""A stored study looked up: open it, find its best trial, its baseline and its latest run.

Every command that reads a study after its run (tables, report, export) goes through here,
and so does the runner's summary. Nothing here imports TensorFlow or creates a store.
"""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING, Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from search.stores._names import (
    BASELINE_ATTR,
    FOLD_SCORES_ATTR,
    KEPT_EPOCHS_ATTR,
    PARAMS_ATTR,
)
from search.stores._storage import mask_url, open_storage, reach, sqlite_path
from spaces import ConfigError, TuneError

if TYPE_CHECKING:
    from mlflow.entities import Run


def open_existing(storage_url: str) -> optuna.storages.BaseStorage:
    """An Optuna storage that must already exist: inspecting never creates a store.

    Raises:
        ConfigError: A SQLite store's file is missing, or the database cannot be opened.
    """
    path = sqlite_path(storage_url)
    if path is not None and not path.is_file():
        raise ConfigError(
            f"no study store at '{path}' yet; run `tune run` first, or pass --storage."
        )
    return open_storage(storage_url)


def peek_study_attrs(storage_url: str, name: str) -> dict[str, Any] | None:
    """The user attributes of an existing study, or None where there is no such study.

    Reads only: a missing SQLite file is not created, nor are an empty database's tables,
    and a store that cannot be opened counts as none here (opening it properly says why).

    Raises:
        ConfigError: The storage's server does not answer.
    """
    path = sqlite_path(storage_url)
    if path is not None and not path.is_file():
        return None
    reach(storage_url, "--storage")  # a silent server would hang the driver here
    try:
        storage = optuna.storages.RDBStorage(
            storage_url, skip_compatibility_check=True, skip_table_creation=True
        )
        attrs = storage.get_study_user_attrs(storage.get_study_id_from_name(name))
    except Exception:  # no such study or tables, or an unreachable server
        return None
    return dict(attrs)


def load_study(storage: optuna.storages.BaseStorage, name: str, storage_url: str) -> optuna.Study:
    """A stored study by name; an unknown name lists the studies that exist."""
    names = sorted(optuna.get_all_study_names(storage))
    if name not in names:
        where = mask_url(storage_url)
        listed = ", ".join(names) if names else "none yet"
        raise ConfigError(f"unknown study '{name}'. Studies in {where}: {listed}.")
    return optuna.load_study(study_name=name, storage=storage)


def require_best(study: optuna.Study) -> FrozenTrial:
    """The best complete trial.

    Raises:
        TuneError: No trial of the study completed.
    """
    best = best_trial(study)
    if best is None:
        states = _state_counts(study.get_trials(deepcopy=False)) or "no trials"
        raise TuneError(
            f"study '{study.study_name}' has no complete trial yet ({states}); "
            f"run `tune run --study {study.study_name}` with the study's data to add trials."
        )
    return best


def best_trial(study: optuna.Study) -> FrozenTrial | None:
    """The best complete trial, or None when no trial completed."""
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    return study.best_trial if complete else None


def fold_spread(trial: FrozenTrial) -> float | None:
    """The standard deviation of a cross-validated trial's fold scores, if it has several."""
    scores = trial.user_attrs.get(FOLD_SCORES_ATTR) or []
    return statistics.pstdev(scores) if len(scores) > 1 else None


def real_params(trial: FrozenTrial) -> dict[str, Any]:
    """The parameters a model was built from (units_0=64), not the sampled ones (log2_units_0)."""
    return dict(trial.user_attrs.get(PARAMS_ATTR, trial.params))


def trained_params(trial: FrozenTrial) -> dict[str, Any]:
    """`real_params` with the epochs that trained the weights the trial kept: what a refit
    or a replay trains for (a trial that kept its best epoch may have trained for more)."""
    params = real_params(trial)
    kept = trial.user_attrs.get(KEPT_EPOCHS_ATTR)
    return {**params, "epochs": int(kept)} if kept else params


def refit_draws(record: dict[str, Any]) -> int:
    """How many draws a stored refit record averages (records made before refits were
    averaged have no count: they are one draw)."""
    return int(record.get("draws", 1))


def refit_mean(record: dict[str, Any]) -> str:
    """The words that say a refit record is a mean, for the lines that describe it."""
    draws = refit_draws(record)
    return f", the mean of {draws} draws" if draws > 1 else ""


def find_baseline(study: optuna.Study) -> FrozenTrial | None:
    """The enqueued textbook trial, if the study has one."""
    for trial in study.get_trials(deepcopy=False):
        if trial.user_attrs.get(BASELINE_ATTR):
            return trial
    return None


def latest_parent_run(study_name: str, tracking_uri: str) -> Run | None:
    """The most recent finished `tune run` parent run of a study, if any."""
    from search.stores._tracking import tracking_client  # MLflow only where a run is read

    client = tracking_client(tracking_uri)
    experiment = client.get_experiment_by_name(study_name) if client else None
    if client is None or experiment is None:
        return None
    runs = client.search_runs(
        [experiment.experiment_id],
        filter_string="tags.`tune.role` = 'study' and attributes.status = 'FINISHED'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    return runs[0] if runs else None


def _state_counts(trials: list[FrozenTrial]) -> str:
    counts: dict[str, int] = {}
    for trial in trials:
        counts[trial.state.name.lower()] = counts.get(trial.state.name.lower(), 0) + 1
    return ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))

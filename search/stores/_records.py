"""What a trial's MLflow child run records, as MLflow entities, and the calls that write it.

Free of Keras and TensorFlow: the writer process (search/stores/_writer.py) imports this module to
apply the writes, and should start in seconds, not load TensorFlow.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mlflow import MlflowClient
from mlflow.entities import DatasetInput, Metric, Param, RunTag
from mlflow.exceptions import MlflowException

from search.stores._first_open import RACE

MAX_PARAM_LENGTH = 6000
MAX_REASON_LENGTH = 5000
STATES_TO_STATUS = {"COMPLETE": "FINISHED", "PRUNED": "FINISHED", "FAIL": "FAILED"}
INPUT_ATTEMPTS = 3


@dataclass(frozen=True)
class TrialOutcome:
    """How a trial ended, as MLflow records it."""

    state: str
    value: float | None = None
    reason: str | None = None
    duration_s: float = 0.0
    n_params: int | None = None
    fit_s: float | None = None
    rss_mb: float | None = None
    kept_epochs: int | None = None


def open_trial_run(
    client: MlflowClient,
    experiment_id: str,
    parent_run_id: str,
    number: int,
    inputs: Sequence[DatasetInput] = (),
) -> str:
    """Open a trial's child run under the study's run, with the data it trains on as input.

    Returns:
        The new run's id.
    """
    run = client.create_run(
        experiment_id,
        run_name=f"trial-{number:04d}",
        tags={"mlflow.parentRunId": parent_run_id, "tune.role": "trial", "tune.trial": str(number)},
    )
    log_inputs(client, run.info.run_id, inputs)
    return str(run.info.run_id)


def log_inputs(client: MlflowClient, run_id: str, inputs: Sequence[DatasetInput]) -> None:
    """Log the data as the run's input, even when other runs log the same new dataset at once.

    MLflow's SQL store looks the dataset up and then inserts it, so of several runs that
    start together on a new dataset (workers joining one study) all but one fail on its key.
    Tried again, they find the winner's row and only link to it.
    """
    if not inputs:
        return
    for attempt in range(INPUT_ATTEMPTS):
        try:
            client.log_inputs(run_id, datasets=list(inputs))
            return
        except MlflowException as exc:
            if attempt == INPUT_ATTEMPTS - 1 or not RACE.search(str(exc)):
                raise


def log_records(
    client: MlflowClient,
    run_id: str,
    metrics: Sequence[Metric] = (),
    params: Sequence[Param] = (),
) -> None:
    """Write metrics and parameters to a run in one batch."""
    client.log_batch(run_id, metrics=list(metrics), params=list(params))


def end_run(
    client: MlflowClient,
    run_id: str,
    outcome: TrialOutcome,
    status: str | None = None,
    epochs: Sequence[Metric] = (),
) -> None:
    """Log a trial's outcome on its child run and close the run (FINISHED, FAILED or KILLED).

    `epochs` are per-epoch metrics not written yet; they share the outcome's write.
    """
    values = {
        "duration_s": outcome.duration_s,
        "value": outcome.value,
        "n_params": outcome.n_params,
        "fit_s": outcome.fit_s,
        "rss_mb": outcome.rss_mb,
        "kept_epochs": outcome.kept_epochs,
    }
    tags = {"tune.state": outcome.state}
    if outcome.reason:
        tags["tune.fail_reason"] = outcome.reason[:MAX_REASON_LENGTH]
    known = {key: float(value) for key, value in values.items() if value is not None}
    client.log_batch(run_id, metrics=[*epochs, *metrics_of(known)], tags=tags_of(tags))
    client.set_terminated(run_id, status or STATES_TO_STATUS.get(outcome.state, "KILLED"))


def params_of(values: dict[str, Any]) -> list[Param]:
    """MLflow parameters, values as text cut to what every store accepts."""
    return [Param(k, str(v)[:MAX_PARAM_LENGTH]) for k, v in values.items()]


def metrics_of(values: dict[str, float], step: int = 0) -> list[Metric]:
    """MLflow metrics stamped now."""
    stamp = int(time.time() * 1000)
    return [Metric(k, float(v), stamp, step) for k, v in values.items()]


def tags_of(values: dict[str, str]) -> list[RunTag]:
    """MLflow tags."""
    return [RunTag(k, v) for k, v in values.items()]

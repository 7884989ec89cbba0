"""MLflow tracking: one parent run per `tune run`, one child run per trial.

Every call names its run explicitly (MlflowClient, `mlflow.parentRunId`), so workers in
other threads or processes attach their trials to the right parent. A trial's records go
through the run's writer (search/stores/_writer.py), which may apply them in another process.

Free of Keras: the inspection commands open stores through `tracking_client`, and what a
trial logs from Keras (its epochs, its model) lives in search/run/.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import mlflow
from mlflow import MlflowClient
from mlflow.entities import DatasetInput, Metric
from mlflow.exceptions import MlflowException

from search.stores._ahead import adopt
from search.stores._first_open import open_once
from search.stores._names import EXPERIMENT_KIND
from search.stores._records import (
    TrialOutcome,
    end_run,
    log_inputs,
    log_records,
    metrics_of,
    open_trial_run,
    params_of,
    tags_of,
)
from search.stores._storage import (
    artifact_root,
    ensure_parent,
    mask_text,
    mask_url,
    reach,
    sqlite_path,
)
from search.stores._writer import InlineWriter, Saved, Writer, result
from spaces import ConfigError, first_line


def connect(tracking_uri: str) -> MlflowClient:
    """A client for the store, creating a local SQLite store's folder if needed.

    Raises:
        ConfigError: The store cannot be reached (checked quickly: MLflow itself retries an
            unreachable database for over a minute before it gives up).
    """
    adopt(tracking_uri)  # a new store the writer process made while Keras imported
    ensure_parent(tracking_uri)
    reach(tracking_uri, "--tracking-uri")
    # The first client of a new store runs MLflow's migrations: other processes wait.
    client = open_once(sqlite_path(tracking_uri), lambda: _open_client(tracking_uri))
    mlflow.set_tracking_uri(tracking_uri)
    return client


def tracking_client(tracking_uri: str) -> MlflowClient | None:
    """A client for an existing tracking store, or None where a SQLite store is missing.

    Unlike `connect`, it creates nothing (no mlruns/ folder, no database) and does not
    probe a server first: inspecting must leave the disk as it was.

    Raises:
        ConfigError: The store exists but cannot be opened.
    """
    path = sqlite_path(tracking_uri)
    if path is not None and not path.is_file():
        return None
    return _open_client(tracking_uri)


def probe(tracking_uri: str) -> None:
    """Check a tracking server answers and lets tune in, creating nothing.

    A local store needs no check: opening it creates it.

    Raises:
        ConfigError: The server is down, silent, or refuses tune's credentials.
    """
    reach(tracking_uri, "--tracking-uri")
    if is_server(tracking_uri):
        _open_client(tracking_uri)


def is_server(tracking_uri: str) -> bool:
    """Whether the URI names an MLflow tracking server (over HTTP)."""
    return tracking_uri.startswith(("http://", "https://"))


# An MLflow server started with its basic-auth app answers these without the right user.
DENIED = re.compile(r"error code (401|403)\b")


def _open_client(tracking_uri: str) -> MlflowClient:
    try:
        client = MlflowClient(tracking_uri=tracking_uri)
        client.search_experiments(max_results=1)
    except Exception as exc:  # MLflow raises many types for unreachable or bad stores
        denied = DENIED.search(str(exc))
        if denied:
            raise ConfigError(
                f"the tracking server at {mask_url(tracking_uri)} refused tune (HTTP "
                f"{denied.group(1)}); set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD "
                "to a user it knows."
            ) from exc
        message = mask_text(first_line(exc), tracking_uri)
        raise ConfigError(f"cannot open tracking store: {message}. Check --tracking-uri.") from exc
    return client


def ensure_experiment(client: MlflowClient, name: str, tracking_uri: str) -> str:
    """The experiment named after the study, created (and tagged for the UI) if new."""
    found = client.get_experiment_by_name(name)
    if found is not None:
        return str(found.experiment_id)
    try:
        return str(
            client.create_experiment(
                name, artifact_location=artifact_root(tracking_uri), tags=EXPERIMENT_KIND
            )
        )
    except MlflowException:  # another worker created it first
        found = client.get_experiment_by_name(name)
        if found is None:
            raise
        return str(found.experiment_id)


@dataclass(frozen=True)
class TrialRun:
    """A trial's child run, which the writer opens: later writes name it by `ref`."""

    ref: Saved
    opened: Future[Any]

    @property
    def run_id(self) -> str:
        """The run's id, waiting for the writer to open it if need be.

        Raises:
            StoreError: The run could not be opened.
        """
        return str(result(self.opened))


class StudyRun:
    """The parent run of one `tune run`, and the child runs of its trials.

    Opening and closing the parent run and logging a model happen now. A trial's child
    run is opened, and its parameters, epochs and outcome are written, through `writer`;
    `drain()` waits for them.
    """

    def __init__(
        self,
        client: MlflowClient,
        experiment_id: str,
        run_id: str,
        writer: Writer | None = None,
        inputs: Sequence[DatasetInput] = (),
    ) -> None:
        self.client = client
        self.experiment_id = experiment_id
        self.run_id = run_id
        self.writer = writer or InlineWriter(client)
        self.inputs = tuple(inputs)  # the data, logged as every trial run's input

    @classmethod
    def start(
        cls,
        client: MlflowClient,
        experiment_id: str,
        name: str,
        tags: dict[str, Any],
        writer: Writer | None = None,
        inputs: Sequence[DatasetInput] = (),
    ) -> StudyRun:
        """Open the parent run, with the data the study trains on as its input."""
        tags = {"tune.role": "study", **{k: str(v) for k, v in tags.items()}}
        run = client.create_run(experiment_id, tags=tags, run_name=name)
        log_inputs(client, run.info.run_id, inputs)
        return cls(client, experiment_id, run.info.run_id, writer, inputs)

    def start_trial(self, number: int) -> TrialRun:
        """Have the writer open a trial's child run under the parent run.

        The trial goes on at once: it needs the run's id only to keep a model, and creating
        a run is one of the costlier store transactions.
        """
        ref = Saved(f"{self.run_id}/{number}")  # one trial number per study run
        opened = self.writer.submit(
            open_trial_run, self.experiment_id, self.run_id, number, self.inputs, save_as=ref.key
        )
        return TrialRun(ref, opened)

    def log_params(self, trial: TrialRun, params: dict[str, Any]) -> None:
        """Record a trial's parameters on its child run."""
        self.writer.submit(log_records, trial.ref, (), params_of(params))

    def end_trial(self, trial: TrialRun, outcome: TrialOutcome, epochs: list[Metric]) -> None:
        """Record a trial's last epochs, result and state, then close its child run."""
        self.writer.submit(end_run, trial.ref, outcome, None, epochs)

    def drain(self, strict: bool = True) -> None:
        """Wait until every trial record given so far is in the store (see Writer.drain)."""
        self.writer.drain(strict)

    def finish(
        self,
        metrics: dict[str, float],
        params: dict[str, Any] | None = None,
        tags: dict[str, Any] | None = None,
        status: str = "FINISHED",
    ) -> None:
        """Log the study's outcome on the parent run and close it."""
        self.client.log_batch(
            self.run_id,
            metrics=metrics_of(metrics),
            params=params_of({f"best.{k}": v for k, v in (params or {}).items()}),
            tags=tags_of({k: str(v) for k, v in (tags or {}).items()}),
        )
        self.client.set_terminated(self.run_id, status)

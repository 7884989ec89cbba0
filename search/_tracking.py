"""MLflow logging: one parent run per `tune run`, one child run per trial.

Every call names its run explicitly (MlflowClient, `mlflow.parentRunId`), so workers in
other threads or processes attach their trials to the right parent. A trial's records go
through the run's writer (search/_writer.py), which may apply them in another process.
"""

from __future__ import annotations

import time
import urllib.request
from concurrent.futures import Future
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import keras
import mlflow
import numpy as np
import sqlalchemy
from mlflow import MlflowClient
from mlflow.entities import Metric
from mlflow.exceptions import MlflowException
from mlflow.models import Model, infer_signature

from search._names import EXPERIMENT_KIND
from search._records import (
    TrialOutcome,
    end_run,
    log_records,
    metrics_of,
    open_trial_run,
    params_of,
    tags_of,
)
from search._storage import artifact_root, ensure_parent, mask_text
from search._writer import InlineWriter, Saved, Writer, result
from spaces import ConfigError

# Epoch metrics are buffered and written at most this often, so logging stays a small
# fraction of a trial while a long trial still shows progress in the UI.
FLUSH_EVERY_S = 5.0
REACH_TIMEOUT_S = 10


def connect(tracking_uri: str) -> MlflowClient:
    """A client for the store, creating a local SQLite store's folder if needed.

    Raises:
        ConfigError: The store cannot be reached (checked quickly: MLflow itself retries an
            unreachable database for over a minute before it gives up).
    """
    ensure_parent(tracking_uri)
    try:
        _reach(tracking_uri)
        mlflow.set_tracking_uri(tracking_uri)
        client = MlflowClient(tracking_uri=tracking_uri)
        client.search_experiments(max_results=1)
    except Exception as exc:  # MLflow raises many types for unreachable or bad stores
        text = str(exc).strip()
        message = mask_text(text.splitlines()[0] if text else repr(exc), tracking_uri)
        raise ConfigError(f"cannot open tracking store: {message}. Check --tracking-uri.") from exc
    return client


def _reach(tracking_uri: str) -> None:
    if tracking_uri.startswith(("http://", "https://")):
        with urllib.request.urlopen(f"{tracking_uri.rstrip('/')}/health", timeout=REACH_TIMEOUT_S):
            return
    if "://" in tracking_uri and not tracking_uri.startswith(("sqlite:", "file:", "databricks")):
        args = {"connect_timeout": REACH_TIMEOUT_S} if tracking_uri.startswith("postgres") else {}
        engine = sqlalchemy.create_engine(tracking_uri, connect_args=args)
        try:
            engine.connect().close()
        finally:
            engine.dispose()


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
    ) -> None:
        self.client = client
        self.experiment_id = experiment_id
        self.run_id = run_id
        self.writer = writer or InlineWriter(client)

    @classmethod
    def start(
        cls,
        client: MlflowClient,
        experiment_id: str,
        name: str,
        tags: dict[str, Any],
        writer: Writer | None = None,
    ) -> StudyRun:
        """Open the parent run."""
        tags = {"tune.role": "study", **{k: str(v) for k, v in tags.items()}}
        run = client.create_run(experiment_id, tags=tags, run_name=name)
        return cls(client, experiment_id, run.info.run_id, writer)

    def start_trial(self, number: int) -> TrialRun:
        """Have the writer open a trial's child run under the parent run.

        The trial goes on at once: it needs the run's id only to keep a model, and creating
        a run is one of the costlier store transactions.
        """
        ref = Saved(f"{self.run_id}/{number}")  # one trial number per study run
        opened = self.writer.submit(
            open_trial_run, self.experiment_id, self.run_id, number, save_as=ref.key
        )
        return TrialRun(ref, opened)

    def log_params(self, trial: TrialRun, params: dict[str, Any]) -> None:
        """Record a trial's parameters on its child run."""
        self.writer.submit(log_records, trial.ref, (), params_of(params))

    def epoch_logger(self, trial: TrialRun) -> EpochLogger:
        """A Keras callback that records loss, val_loss and the metric per epoch.

        It writes every few seconds; what it holds at the end of training (`take()`) goes
        out with the trial's outcome, in the same write (see end_trial).
        """
        return EpochLogger(self.writer, trial.ref)

    def end_trial(self, trial: TrialRun, outcome: TrialOutcome, epochs: list[Metric]) -> None:
        """Record a trial's last epochs, result and state, then close its child run."""
        self.writer.submit(end_run, trial.ref, outcome, None, epochs)

    def drain(self, strict: bool = True) -> None:
        """Wait until every trial record given so far is in the store (see Writer.drain)."""
        self.writer.drain(strict)

    def log_model(self, run_id: str, model: keras.Model, sample: np.ndarray) -> str:
        """Keep a trained model as an MLflow model of the trial's run; returns its URI.

        Args:
            run_id: The trial's child run.
            model: The trained model.
            sample: A few preprocessed input rows, to record the model's signature.
        """
        signature = infer_signature(sample, np.asarray(model(sample, training=False)))
        # What mlflow.keras.log_model does, but for a named run: no fluent start_run and
        # end_run around it, each several store round trips.
        info = Model.log(
            artifact_path=None,
            name="model",
            flavor=mlflow.keras,
            run_id=run_id,
            model=model,
            pip_requirements=_requirements(),
            signature=signature,
        )
        return str(info.model_uri)

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


class EpochLogger(keras.callbacks.Callback):
    """Buffers per-epoch metrics and writes them in batches (step = epoch)."""

    def __init__(self, writer: Writer, run: str | Saved) -> None:
        super().__init__()
        self.writer = writer
        self.run = run
        self.pending: list[Metric] = []
        self.last_flush = time.monotonic()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        stamp = int(time.time() * 1000)
        for key, value in (logs or {}).items():
            self.pending.append(Metric(key, float(value), stamp, epoch))
        if time.monotonic() - self.last_flush > FLUSH_EVERY_S:
            self.flush()

    def flush(self) -> None:
        """Write what is buffered."""
        if self.pending:
            self.writer.submit(log_records, self.run, self.take())
        self.last_flush = time.monotonic()

    def take(self) -> list[Metric]:
        """What is buffered, which the caller now writes."""
        pending, self.pending = self.pending, []
        return pending


def warm_up_model_logging() -> None:
    """Pay MLflow's one-time cost of logging a model before the trials, not inside one.

    The first `log_model` of a process maps every installed module to its package (about
    1.5 s) to check the model's requirements; the map is cached for later calls.
    """
    try:
        from mlflow.utils import requirements_utils

        requirements_utils._init_modules_to_packages_map()
    except (ImportError, AttributeError):  # a private helper: absent in another MLflow
        pass


def _requirements() -> list[str]:
    wanted = [f"keras=={keras.__version__}"]
    for name in ("tensorflow", "tensorflow-cpu"):
        try:
            wanted.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return wanted

"""The Keras callback that records a trial's per-epoch metrics on its MLflow run."""

from __future__ import annotations

import time
from typing import Any

import keras
from mlflow.entities import Metric

from search.stores._records import log_records
from search.stores._writer import Saved, Writer

# Epoch metrics are buffered and written at most this often, so logging stays a small
# fraction of a trial while a long trial still shows progress in the UI.
FLUSH_EVERY_S = 5.0


class EpochLogger(keras.callbacks.Callback):
    """Buffers per-epoch metrics and writes them in batches (step = epoch).

    It writes every few seconds; what it holds at the end of training (`take()`) goes out
    with the trial's outcome, in the same write (see StudyRun.end_trial).
    """

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

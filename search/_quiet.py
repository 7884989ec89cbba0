"""Keeps TensorFlow's and the libraries' start-up chatter off the user's terminal."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager


def quiet_environment() -> None:
    """Environment defaults for a quiet CLI; set before TensorFlow or MLflow load."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("DO_NOT_TRACK", "true")


@contextmanager
def stderr_silenced() -> Iterator[None]:
    """Silence file descriptor 2, where TensorFlow's C++ logs go before they can be configured."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def load_quietly() -> None:
    """Import Keras (and its backend) without the start-up banners, and mute library loggers."""
    with stderr_silenced():
        import keras  # noqa: F401

    import mlflow.keras  # noqa: F401  (first: it configures its loggers on import)
    import optuna

    # Failed trials are reported by the progress bar and recorded in MLflow; Optuna's
    # warning repeats each one with a traceback.
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    for name in ("mlflow", "alembic", "absl", "tensorflow", "py.warnings"):
        logging.getLogger(name).setLevel(logging.ERROR)

"""An export as an MLflow pyfunc model, registered under a name with the alias `champion`.

`mlflow.pyfunc.load_model("models:/NAME@champion").predict(raw_frame)` then predicts raw rows
in the training file's format. Loading it needs `tune` installed: the wrapper class below is
stored by reference, not by value.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.pyfunc import PythonModel

from search.ship._predict import META_FILE, MODEL_FILE, Predictor
from search.ship._signature import input_example, raw_signature

CHAMPION = "champion"
ARTIFACT_NAME = "tune_model"
_REQUIREMENTS = ("keras", "tensorflow", "tensorflow-cpu", "pandas", "numpy", "scikit-learn")


class TuneModel(PythonModel):
    """Raw rows in, labels and probabilities (or numbers) out: model.keras plus tune.json."""

    def load_context(self, context: Any) -> None:
        """Load the Keras model (safe mode) and the preprocessing from the model's artifacts."""
        self._predictor = Predictor.from_files(
            Path(context.artifacts["model"]), Path(context.artifacts["meta"])
        )

    # `model_input` has no annotation on purpose: MLflow reads one as a schema of its own,
    # and warns on every load that it cannot; the signature logged with the model checks it.
    def predict(  # type: ignore[no-untyped-def]
        self,
        context: Any,
        model_input,
        params: dict[str, Any] | None = None,
    ) -> pd.DataFrame:
        """Predict raw rows: a DataFrame, or for images a (N, height, width, channels) array."""
        predictions, notes = self._predictor.predict(self._predictor.as_rows(model_input))
        for note in notes:
            warnings.warn(note, stacklevel=2)
        return predictions


@dataclass(frozen=True)
class Registered:
    """Where an export went in the Model Registry."""

    name: str
    version: int
    model_uri: str

    @property
    def champion_uri(self) -> str:
        """The URI that always names the current champion."""
        return f"models:/{self.name}@{CHAMPION}"


def register(
    folder: Path,
    name: str,
    experiment_id: str,
    source_run_id: str | None,
    tags: dict[str, str],
    example: pd.DataFrame,
) -> Registered:
    """Log an export as a pyfunc model of the study's experiment, register it, make it champion.

    The model carries a signature in the training file's columns and `example` (a few raw
    training rows) as its input example. It is linked to the best trial's run as its
    source, without reopening that run.
    """
    meta = Predictor.from_files(folder / MODEL_FILE, folder / META_FILE).meta
    client = mlflow.MlflowClient()
    logged = client.create_logged_model(
        experiment_id, name=ARTIFACT_NAME, source_run_id=source_run_id, tags=tags
    )
    info = mlflow.pyfunc.log_model(
        name=ARTIFACT_NAME,
        python_model=TuneModel(),
        artifacts={"model": str(folder / MODEL_FILE), "meta": str(folder / META_FILE)},
        pip_requirements=_requirements(),
        model_id=logged.model_id,
        signature=raw_signature(meta),
        input_example=input_example(meta, example),
    )
    # The client API rather than mlflow.register_model, which prints to stderr.
    try:
        client.get_registered_model(name)
    except MlflowException:  # not registered yet
        client.create_registered_model(name)
    version = client.create_model_version(
        name, info.model_uri, run_id=source_run_id, tags=tags, model_id=logged.model_id
    )
    client.set_registered_model_alias(name, CHAMPION, version.version)
    return Registered(name, int(version.version), str(info.model_uri))


def _requirements() -> list[str]:
    # Pinned from this environment: inference without them runs, but may not reproduce.
    found = []
    for package in _REQUIREMENTS:
        try:
            found.append(f"{package}=={metadata.version(package)}")
        except metadata.PackageNotFoundError:
            continue
    return found

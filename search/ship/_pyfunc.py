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

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        """Predict a DataFrame (or anything pandas can turn into one) of raw rows."""
        predictions, notes = self._predictor.predict(pd.DataFrame(model_input))
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
    folder: Path, name: str, experiment_id: str, source_run_id: str | None, tags: dict[str, str]
) -> Registered:
    """Log an export as a pyfunc model of the study's experiment, register it, make it champion.

    The model is linked to the best trial's run as its source, without reopening that run.
    """
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

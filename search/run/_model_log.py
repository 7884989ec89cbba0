"""Keeping a trial's trained Keras model as an MLflow model of its run."""

from __future__ import annotations

from importlib import metadata

import keras
import mlflow
import numpy as np
from mlflow.models import Model, infer_signature

from search.stores._ahead import modules_to_packages


def log_model(run_id: str, model: keras.Model, sample: np.ndarray) -> str:
    """Keep a trained model as an MLflow model of the trial's run; returns its URI.

    Args:
        run_id: The trial's child run.
        model: The trained model.
        sample: A few preprocessed input rows, to record the model's signature.
    """
    # convert_to_numpy, not np.asarray: PyTorch's outputs carry gradients NumPy refuses.
    outputs = keras.ops.convert_to_numpy(model(sample, training=False))
    signature = infer_signature(sample, outputs)
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


def load_logged(uri: str) -> keras.Model:
    """A model this run's store logged (a trial's, or a refit)."""
    return mlflow.keras.load_model(uri)


def warm_up_model_logging() -> None:
    """Pay MLflow's one-time cost of logging a model before the trials, not inside one.

    The first `log_model` of a process maps every installed module to its package (about
    1.5 s) to check the model's requirements; the map is cached for later calls. Where the
    writer process made it during the head start (search/stores/_ahead.py), it is taken over.
    """
    try:
        from mlflow.utils import requirements_utils

        if requirements_utils._MODULES_TO_PACKAGES is None:
            # MLflow declares it as None, the value before its first use.
            requirements_utils._MODULES_TO_PACKAGES = modules_to_packages()  # type: ignore[assignment]
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

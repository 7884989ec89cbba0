"""The fixed space that KerasTuner and the hand-written Optuna loop search, and their data.

1-3 Dense layers of {16..256} units, relu/tanh/elu, three initializers, one dropout rate in
0-0.5, Adam with a log-uniform learning rate in 1e-4..1e-1, 30 epochs of batch 32; the output
and loss follow the task. Inputs are standardised on the pool, and so is a regression target
(its predictions are mapped back before scoring): what a careful user would do by hand.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from contenders.datasets import TARGET, Split

UNITS = (16, 32, 64, 128, 256)
ACTIVATIONS = ("relu", "tanh", "elu")
INITIALIZERS = ("glorot_uniform", "he_normal", "lecun_normal")
EPOCHS = 30
BATCH = 32
VALIDATION_SPLIT = 0.2


@dataclass(frozen=True)
class Arrays:
    """The pool as model inputs, and how to turn the holdout into the same."""

    x: np.ndarray
    y: np.ndarray
    task: str
    n_outputs: int
    x_mean: np.ndarray
    x_scale: np.ndarray
    y_mean: float = 0.0
    y_scale: float = 1.0

    def inputs(self, frame: pd.DataFrame) -> np.ndarray:
        x = frame.drop(columns=[TARGET]).to_numpy(np.float32)
        return ((x - self.x_mean) / self.x_scale).astype(np.float32)


def load_pool(split: Split) -> Arrays:
    """The pool, standardised, in a shuffled order (Keras's validation split takes the tail)."""
    frame = pd.read_csv(split.pool)
    x = frame.drop(columns=[TARGET]).to_numpy(np.float32)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    y = frame[TARGET].to_numpy()
    regression = split.task == "regression"
    y_mean = float(y.mean()) if regression else 0.0
    y_scale = float(y.std()) if regression else 1.0
    target = ((y - y_mean) / y_scale).astype(np.float32) if regression else y.astype(np.int64)
    outputs = 1 if split.task in ("binary", "regression") else int(y.max()) + 1
    xs = ((x - mean) / scale).astype(np.float32)
    return Arrays(xs, target, split.task, outputs, mean, scale, y_mean, y_scale)


def build(params: dict[str, Any], arrays: Arrays) -> Any:
    """A compiled model of the fixed space from plain parameters."""
    import keras

    model = keras.Sequential([keras.Input((arrays.x.shape[1],))])
    for i in range(int(params["layers"])):
        model.add(
            keras.layers.Dense(
                int(params[f"units_{i}"]),
                activation=params["activation"],
                kernel_initializer=params["initializer"],
            )
        )
        model.add(keras.layers.Dropout(float(params["dropout"])))
    output, loss = {
        "binary": ("sigmoid", "binary_crossentropy"),
        "multiclass": ("softmax", "sparse_categorical_crossentropy"),
        "regression": ("linear", "mse"),
    }[arrays.task]
    model.add(keras.layers.Dense(arrays.n_outputs, activation=output))
    metrics = [] if arrays.task == "regression" else ["accuracy"]
    model.compile(keras.optimizers.Adam(float(params["learning_rate"])), loss, metrics=metrics)
    return model


def objective_name(task: str) -> tuple[str, str]:
    """The monitored validation metric and its direction."""
    return ("val_loss", "min") if task == "regression" else ("val_accuracy", "max")


def holdout_score(model: Any, split: Split, arrays: Arrays) -> float:
    """Accuracy, or RMSE in the target's units, on the holdout."""
    frame = pd.read_csv(split.holdout)
    out = np.asarray(model.predict(arrays.inputs(frame), verbose=0))
    y = frame[TARGET].to_numpy()
    if arrays.task == "regression":
        predicted = out[:, 0] * arrays.y_scale + arrays.y_mean
        return float(np.sqrt(np.mean((predicted - y) ** 2)))
    labels = (out[:, 0] >= 0.5).astype(int) if arrays.task == "binary" else out.argmax(axis=1)
    return float(np.mean(labels == y))


class Improvements:
    """Each model that improved on the contender's best, saved when it did, scored later.

    Saving costs the search a little time, as logging the model costs `tune`; scoring waits
    until the search is over, so the holdout never costs a contender its budget.
    """

    def __init__(self, folder: Path, direction: str) -> None:
        self.folder = folder
        self.sign = 1.0 if direction == "max" else -1.0
        self.best = -np.inf
        self.saved: list[tuple[float, Path]] = []

    def offer(self, value: float | None, model: Any) -> None:
        if value is None or not np.isfinite(value) or self.sign * value <= self.best:
            return
        self.best = self.sign * value
        path = self.folder / f"model-{len(self.saved)}.keras"
        model.save(path)
        self.saved.append((time.time(), path))


def finish(
    out: Path, improvements: Improvements, split: Split, arrays: Arrays, **facts: Any
) -> None:
    """Score the saved models on the holdout; write the contender's result for compare.py."""
    import keras

    curve = [
        [stamp, holdout_score(keras.saving.load_model(path), split, arrays)]
        for stamp, path in improvements.saved
    ]
    out.write_text(json.dumps({"curve": curve, **facts}))

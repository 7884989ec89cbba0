"""Training and scoring of a built model; nothing here knows about Optuna or MLflow."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import keras
import numpy as np

from objectives._backend import uses_tensorflow
from objectives._data import Splits
from objectives._metrics import Metric
from objectives._transfer import fine_tune, phases
from objectives._validation import EpochValidation
from spaces import TrialFailed

if TYPE_CHECKING:  # TensorFlow loads only where it trains: 5-7 s of start-up otherwise
    import tensorflow as tf

PREDICT_BATCH = 4096
EAGER_MAX_STEPS = 20
# Training steps per call of the traced train step, on TensorFlow. Small data makes each step
# short, so the per-call cost (Python, callbacks, the function call) weighs as much as the
# step; batching 16 calls into one trains the same model, batch for batch, in about 0.6-0.7
# of the time (bench/fit_knobs.py). PyTorch allows only 1; on JAX, 16 gained less (0.85-0.92x
# on digits, nothing on breast_cancer), so it keeps 1 there too.
STEPS_PER_EXECUTION = 16
# Up to this many training rows a trial trains from training_batches; above it, from the
# arrays through Keras's adapter, which shuffles indices in one vectorised op where the
# dataset shuffles row by row in a buffer holding a copy of the split. bench/train_input.py
# --rows, two epochs of 256, arrays against dataset: 20,000 rows 747 against 644 ms, 50,000
# rows 826 against 1259 ms.
DATASET_MAX_ROWS = 20_000


@dataclass(frozen=True)
class Trained:
    """What a training leaves besides the model's weights: Keras's history, and which epoch's
    weights the model holds (0-based)."""

    history: dict[str, list[float]]
    kept: int

    def at_kept(self, key: str) -> float:
        """The value of `key` (such as `val_accuracy`) at the kept epoch."""
        return float(self.history[key][self.kept])


class StopOnNaN(keras.callbacks.Callback):
    """Stops training at the first non-finite batch loss.

    Keras's TerminateOnNaN does the same but prints a line, which would break the progress bar.
    """

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.model.stop_training = True


def train_model(
    model: keras.Model,
    splits: Splits,
    params: dict[str, Any],
    callbacks: list[keras.callbacks.Callback] | None = None,
    *,
    metric: Metric | None = None,
    task: str | None = None,
    keep: str = "last",
) -> Trained:
    """Fit on the training split, validating each epoch; returns Keras's history and the
    kept epoch.

    With `metric` and `task`, validation runs eagerly after each epoch and logs the exact
    `val_<metric>` (see EpochValidation); without them, Keras validates as usual. A split
    with no validation rows (a refit on every row outside the test split) is not validated.
    With `keep="best"` and the metric, the model ends with the weights of the epoch that
    scored best on validation (the first, on a tie); a transfer model that fine-tunes keeps
    its last epoch, because its epochs are split between two phases that a replay with
    fewer epochs would split differently.

    Raises:
        TrialFailed: The loss became NaN or infinite.
    """
    validation = []
    if metric is not None and task is not None:
        validation = [EpochValidation(splits.x_val, splits.y_val, metric, task)]
    fits = phases(params)
    best = None
    if keep == "best" and metric is not None and validation and len(fits) == 1:
        best = keep_best(metric, params["epochs"])
    steps = params["epochs"] * math.ceil(len(splits.x_train) / params["batch_size"])
    history: dict[str, list[float]] = {}
    for first, end, tuning in fits:
        if tuning:
            fine_tune(model, params)
        # Tracing the train step costs a few hundred ms a model; up to EAGER_MAX_STEPS
        # steps, running eagerly is faster (bench/train_input.py).
        model.run_eagerly = steps <= EAGER_MAX_STEPS
        model.steps_per_execution = steps_per_execution(model.run_eagerly)
        fitted = model.fit(
            **_training_inputs(splits, params["batch_size"]),
            validation_data=None
            if validation or not len(splits.x_val)
            else (splits.x_val, splits.y_val),
            initial_epoch=first,
            epochs=end,
            # The keeper after the validation, which writes the score it reads.
            callbacks=[StopOnNaN(), *validation, *filter(None, [best]), *(callbacks or [])],
            verbose=0,
        )
        for key, values in fitted.history.items():
            history.setdefault(key, []).extend(values)
        _check_finite(history.get("loss", []))
    kept = len(history.get("loss", [])) - 1
    if best is not None and best.best_weights is not None:
        kept = best.best_epoch
    return Trained(history, max(kept, 0))


def steps_per_execution(eager: bool) -> int:
    """How many steps each call of the train step runs: STEPS_PER_EXECUTION where it is
    traced on TensorFlow, else one."""
    return STEPS_PER_EXECUTION if uses_tensorflow() and not eager else 1


def keep_best(metric: Metric, epochs: int) -> keras.callbacks.EarlyStopping:
    """Keras's own keeper of the best epoch's weights, told never to stop early."""
    return keras.callbacks.EarlyStopping(
        monitor=f"val_{metric.name}",
        mode="max" if metric.direction == "maximize" else "min",
        patience=epochs + 1,
        restore_best_weights=True,
    )


def _check_finite(losses: list[float]) -> None:
    for epoch, loss in enumerate(losses):
        if not math.isfinite(loss):
            raise TrialFailed(f"loss became {loss} at epoch {epoch}; training diverged")


def _training_inputs(splits: Splits, batch_size: int) -> dict[str, Any]:
    """`fit`'s data arguments: shuffled batches, every epoch in a new order.

    On JAX and PyTorch the arrays go straight to Keras: a tf.data dataset would load
    TensorFlow into the process only to hand its batches over as NumPy again. Keras shuffles
    them with NumPy's global generator, which `fresh_session` seeds.
    """
    x, y = splits.x_train, splits.y_train
    if not uses_tensorflow() or len(x) > DATASET_MAX_ROWS:
        return {"x": x, "y": y, "batch_size": batch_size, "shuffle": True}
    # The dataset reshuffles itself; Keras's shuffle flag would only warn.
    return {"x": training_batches(x, y, batch_size), "shuffle": False}


def training_batches(
    x: np.ndarray, y: np.ndarray, batch_size: int, seed: int | None = None
) -> tf.data.Dataset:
    """The training split in batches, in a new random order every epoch.

    Fed small NumPy arrays, Keras's adapter costs tens of ms an epoch more than this dataset:
    on the default study's textbook model, traced, 110 steps took 915 ms that way and 581 ms
    this way, 330 steps 1803 and 805 ms (bench/train_input.py, medians of 5).

    Args:
        seed: The shuffle's seed; by default drawn from NumPy's global generator, which
            `fresh_session` seeds, so a trial's seed fixes its batches too.
    """
    import tensorflow as tf

    if seed is None:
        seed = int(np.random.randint(0, 2**31 - 1))
    rows = tf.data.Dataset.from_tensor_slices((x, y))
    return rows.shuffle(len(x), seed=seed, reshuffle_each_iteration=True).batch(batch_size)


def predict(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """Model outputs as a float64 array.

    Calls the model eagerly in chunks: `model.predict` would trace a new function for
    every model, which costs more than the prediction itself on tabular data.
    """
    chunks = [
        keras.ops.convert_to_numpy(model(x[start : start + PREDICT_BATCH], training=False))
        for start in range(0, len(x), PREDICT_BATCH)
    ]
    if not chunks:
        return np.zeros((0, model.output_shape[-1]))
    return np.concatenate(chunks).astype(np.float64)


def score(model: keras.Model, x: np.ndarray, y: np.ndarray, metric: Metric, task: str) -> float:
    """The exact objective value of `model` on one split."""
    outputs = predict(model, x)
    if not np.all(np.isfinite(outputs)):
        raise TrialFailed("the model predicts NaN or infinite values")
    return metric.score(y.astype(np.float64), outputs, task)

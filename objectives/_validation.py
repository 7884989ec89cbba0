"""Per-epoch validation computed eagerly, with the exact objective metric.

Keras's own validation builds a dataset iterator and traces a test function for every
model, which costs more than the validation itself on tabular data; scoring the (small)
validation split with one eager call is faster and gives the exact metric (Keras's AUC
is an approximation), so the value reported for pruning is the value the trial returns.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from objectives._metrics import Metric


class EpochValidation(keras.callbacks.Callback):
    """Adds `val_loss` and `val_<metric>` to each epoch's logs, before later callbacks run."""

    def __init__(self, x: np.ndarray, y: np.ndarray, metric: Metric, task: str) -> None:
        super().__init__()
        self.loss_weight = 1.0
        self.x = x
        self.y = y.astype(np.float64)
        self.metric = metric
        self.task = task

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        # The training loss is weighted (see objectives._build.loss_weight); so is val_loss.
        weight = (self.model.get_compile_config() or {}).get("loss_weights")
        self.loss_weight = float(weight) if isinstance(weight, int | float) else 1.0

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs is None:
            return
        outputs = keras.ops.convert_to_numpy(self.model(self.x, training=False))
        outputs = outputs.astype(np.float64)
        loss = self.model.loss
        loss_fn = keras.losses.get(loss) if isinstance(loss, str) else loss
        value = np.mean(keras.ops.convert_to_numpy(loss_fn(self.y, outputs)))
        logs["val_loss"] = float(value) * self.loss_weight
        finite = bool(np.all(np.isfinite(outputs)))
        score = self.metric.score(self.y, outputs, self.task) if finite else float("nan")
        logs[f"val_{self.metric.name}"] = score

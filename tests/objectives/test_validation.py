"""Per-epoch validation computed eagerly with the exact objective metric."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from objectives import Splits, build_model, get_metric, score, train_model
from objectives._validation import EpochValidation
from spaces import Problem


def _splits() -> Splits:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(40, 3)).astype("float32")
    labels = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0).astype(int)  # 0, 1 or 2
    y = np.eye(3, dtype="float32")[labels]
    return Splits(x[:24], y[:24], x[24:32], y[24:32], x[32:], y[32:])


PARAMS = {
    "n_layers": 1,
    "units_0": 8,
    "initializer": "glorot_uniform",
    "activation": "tanh",
    "dropout": 0.0,
    "optimizer": "adam",
    "learning_rate": 0.05,
    "batch_size": 8,
    "epochs": 2,
    "loss": "categorical_crossentropy",
}


def test_the_value_reported_each_epoch_is_the_exact_metric(seed: int) -> None:
    splits, metric = _splits(), get_metric("auc", "multiclass")
    model = build_model(PARAMS, Problem("multiclass", 3, 3), metric)
    history = train_model(model, splits, PARAMS, metric=metric, task="multiclass").history
    assert len(history["val_auc"]) == len(history["val_loss"]) == 2
    # What pruning saw at the last epoch is what the trial returns (Keras's AUC is binned).
    assert history["val_auc"][-1] == score(model, splits.x_val, splits.y_val, metric, "multiclass")
    outputs = keras.ops.convert_to_numpy(model(splits.x_val, training=False)).astype(np.float64)
    expected = keras.losses.categorical_crossentropy(splits.y_val.astype(np.float64), outputs)
    assert history["val_loss"][-1] == pytest.approx(float(np.mean(expected)), rel=1e-6)


def test_nan_outputs_report_nan_rather_than_raise() -> None:
    splits, metric = _splits(), get_metric("accuracy", "multiclass")
    model = build_model(PARAMS, Problem("multiclass", 3, 3), metric)
    output = model.get_layer("output")
    output.kernel.assign(np.full(output.kernel.shape, np.nan, "float32"))
    callback = EpochValidation(splits.x_val, splits.y_val, metric, "multiclass")
    callback.set_model(model)
    logs: dict[str, float] = {}
    callback.on_epoch_end(0, logs)
    assert np.isnan(logs["val_accuracy"])
    assert set(logs) == {"val_loss", "val_accuracy"}

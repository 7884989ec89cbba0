"""A fresh session makes a trial depend only on its seed, not on what ran before it."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from objectives import Splits, build_model, fresh_session, train_model
from objectives import _session as session_module
from spaces import Problem

PARAMS = {
    "n_layers": 2,
    "units_0": 16,
    "units_1": 8,
    "initializer": "he_normal",
    "activation": "relu",
    "dropout": 0.3,
    "optimizer": "adam",
    "learning_rate": 0.01,
    "batch_size": 8,
    "loss": "binary_crossentropy",
}


def _splits(n: int = 96) -> Splits:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = (x[:, :1] - x[:, 1:2] > 0).astype("float32")
    return Splits(x[:64], y[:64], x[64:80], y[64:80], x[80:], y[80:])


def _trained_weights(seed: int, epochs: int, keep_kernels: bool = True) -> list[np.ndarray]:
    fresh_session(seed, keep_kernels)
    model = build_model({**PARAMS, "epochs": epochs}, Problem("binary", 4, 1))
    train_model(model, _splits(), {**PARAMS, "epochs": epochs})
    return [np.asarray(w) for w in model.get_weights()]


# 2 epochs of 8 steps run eagerly, 6 epochs run as a traced graph (see train_model).
@pytest.mark.parametrize("epochs", [2, 6])
def test_a_trial_depends_only_on_its_seed(epochs: int) -> None:
    first = _trained_weights(1, epochs)
    other = _trained_weights(2, epochs)
    again = _trained_weights(1, epochs)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(first, other, strict=True))


def test_keeping_or_flushing_the_kernel_cache_gives_the_same_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kept = _trained_weights(3, 2)
    flushed = _trained_weights(3, 2, keep_kernels=False)
    # Where Keras's private state has moved, the public calls are used instead.
    monkeypatch.setattr(session_module, "_reset_keeping_kernels", lambda seed: False)
    fallback = _trained_weights(3, 2)
    for a, b, c in zip(kept, flushed, fallback, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


def test_names_and_unseeded_draws_restart_in_each_session() -> None:
    fresh_session(0)
    name, draw = keras.layers.Dense(1).name, np.asarray(keras.random.uniform((3,)))
    fresh_session(0)
    assert keras.layers.Dense(1).name == name
    np.testing.assert_array_equal(np.asarray(keras.random.uniform((3,))), draw)

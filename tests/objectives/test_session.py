"""A fresh session makes a trial depend only on its seed, not on what ran before it."""

from __future__ import annotations

import gc

import keras
import numpy as np
import pytest

from objectives import Splits, build_model, forget_traced_gradients, fresh_session, train_model
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


def _live_train_graphs() -> int:
    from tensorflow.python.framework.func_graph import FuncGraph

    gc.collect()
    return sum(1 for o in gc.get_objects() if type(o) is FuncGraph)


def test_a_traced_trial_leaves_no_graph_behind_once_its_gradients_are_forgotten() -> None:
    forget_traced_gradients()  # whatever earlier tests traced
    baseline = _live_train_graphs()
    for seed in range(3):
        _trained_weights(seed, epochs=6)  # traced: 48 steps
    # TensorFlow's custom-gradient registry holds every traced train step ...
    assert _live_train_graphs() > baseline
    # ... until the gradients are forgotten; then a collection frees the graphs.
    assert forget_traced_gradients() >= 3
    assert _live_train_graphs() <= baseline


def test_custom_gradients_registered_before_the_first_call_are_kept(monkeypatch) -> None:
    monkeypatch.setattr(session_module, "_FOREIGN_GRADIENTS", None)
    from tensorflow.python.framework import ops

    registry = ops._gradient_registry._registry
    monkeypatch.setitem(registry, "CustomGradient-foreign", {"type": lambda: None})
    forget_traced_gradients()  # the first call only takes note of what is there
    _trained_weights(0, epochs=6)
    assert forget_traced_gradients() >= 1
    assert "CustomGradient-foreign" in registry
    foreign = session_module._FOREIGN_GRADIENTS or set()
    left = [n for n in registry if n.startswith("CustomGradient-") and n not in foreign]
    assert left == []

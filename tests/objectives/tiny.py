"""Tiny data for the objectives tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from objectives import Splits

# The `write` fixture: a frame, text or bytes in, the path of the file written out.
Write = Callable[..., str]


def tiny_frame(n: int = 40, task: str = "binary", seed: int = 0) -> pd.DataFrame:
    """Two numeric inputs, one text input and a target (two 0/1 columns for multilabel)."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "x0": rng.normal(size=n),
            "x1": rng.uniform(0, 10, size=n),
            "colour": rng.choice(["red", "green", "blue"], size=n),
        }
    )
    if task == "binary":
        frame["label"] = np.arange(n) % 2
    elif task == "multiclass":
        frame["label"] = np.array(["cat", "dog", "eel"])[np.arange(n) % 3]
    elif task == "regression":
        frame["label"] = 3.0 * frame["x0"] + 5.0 + rng.normal(size=n) * 0.1
    else:
        frame["a"] = np.arange(n) % 2
        frame["b"] = (np.arange(n) // 2) % 2
    return frame


def dense_params(**overrides: Any) -> dict[str, Any]:
    """A small dense binary configuration, with `overrides`."""
    params = {
        "n_layers": 1,
        "units_0": 8,
        "initializer": "glorot_uniform",
        "activation": "relu",
        "dropout": 0.0,
        "optimizer": "adam",
        "learning_rate": 0.01,
        "batch_size": 16,
        "epochs": 2,
        "loss": "binary_crossentropy",
    }
    return {**params, **overrides}


def binary_splits(n: int = 48) -> Splits:
    """Three features and a binary target, split half / quarter / quarter."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 3)).astype("float32")
    y = (x[:, :1] + x[:, 1:2] > 0).astype("float32")
    cut, end = n // 2, 3 * n // 4
    return Splits(x[:cut], y[:cut], x[cut:end], y[cut:end], x[end:], y[end:])

"""Tiny data for the objectives tests."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

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

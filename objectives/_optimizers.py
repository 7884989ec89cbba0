"""The optimizers a space may choose, by name."""

from __future__ import annotations

from collections.abc import Callable

import keras

from spaces import check_choice

OPTIMIZERS: dict[str, Callable[[float], keras.optimizers.Optimizer]] = {
    "adam": lambda lr: keras.optimizers.Adam(learning_rate=lr),
    "adamw": lambda lr: keras.optimizers.AdamW(learning_rate=lr),
    # Plain SGD stalls on most of this space; the lecture's SGD has momentum.
    "sgd": lambda lr: keras.optimizers.SGD(learning_rate=lr, momentum=0.9),
    "rmsprop": lambda lr: keras.optimizers.RMSprop(learning_rate=lr),
    "nadam": lambda lr: keras.optimizers.Nadam(learning_rate=lr),
}


def make_optimizer(name: str, learning_rate: float) -> keras.optimizers.Optimizer:
    """An optimizer by name; an unknown name fails with the list of valid ones."""
    check_choice("optimizer", name, OPTIMIZERS)
    return OPTIMIZERS[name](learning_rate)

"""Small data and models for the family tests: sequences, image arrays and a base model."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.objectives.images import digit_images


def sequences_npz(path: Path, n: int = 60, steps: int = 6, features: int = 2) -> Path:
    """Sequences labelled 1 or 2 by whether they rise or fall: the order of steps decides."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, steps, features)).astype("float32")
    rising = x[:, steps // 2 :, 0].mean(axis=1) > x[:, : steps // 2, 0].mean(axis=1)
    np.savez(path, x=x, y=np.where(rising, 2, 1))
    return path


def images_npz(path: Path, per_class: int = 20) -> Path:
    """Digits as an (N, 8, 8, 1) array: four dimensions, so `--space auto` picks cnn."""
    images, labels = digit_images(classes=3, per_class=per_class)
    np.savez(path, x=images[..., None], y=labels)
    return path


def base_model(path: Path, input_shape: tuple[int, ...]) -> Path:
    """A tiny trained model over `input_shape`, saved as .keras, to transfer from."""
    import keras

    keras.utils.set_random_seed(0)
    hidden: list[keras.layers.Layer]
    if len(input_shape) == 3:
        hidden = [keras.layers.Conv2D(4, 3, activation="relu"), keras.layers.Flatten()]
    else:
        hidden = [keras.layers.GRU(4)]
    head = [keras.layers.Dense(8, activation="relu"), keras.layers.Dense(3, activation="softmax")]
    model = keras.Sequential([keras.Input(input_shape), *hidden, *head])
    model.compile("adam", "sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, *input_shape)).astype("float32")
    model.fit(x, rng.integers(0, 3, 16), epochs=1, verbose=0)
    model.save(path)
    return path

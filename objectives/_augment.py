"""The augmentation layers a cnn trial's parameters ask for (see spaces/_augment.py).

They sit right after the image is folded back from its row, act only in training, and are
saved with the model; at prediction Keras makes each of them the identity.
"""

from __future__ import annotations

from typing import Any

import keras

# Pixels arrive standardised (zero mean, unit variance per pixel), not in 0..255; RandomContrast
# clips to its value range, which must therefore not cut them.
STANDARD_RANGE = (-1e6, 1e6)


def augment_layers(params: dict[str, Any]) -> list[keras.layers.Layer]:
    """One layer for each augmentation the parameters switch on."""
    layers: list[keras.layers.Layer] = []
    if params.get("augment_flip"):
        layers.append(keras.layers.RandomFlip(params["flip_mode"], name="flip"))
    if params.get("augment_rotation"):
        layers.append(keras.layers.RandomRotation(params["rotation_factor"], name="rotation"))
    if params.get("augment_zoom"):
        layers.append(keras.layers.RandomZoom(params["zoom_factor"], name="zoom"))
    if params.get("augment_translation"):
        factor = params["translation_factor"]
        layers.append(keras.layers.RandomTranslation(factor, factor, name="translation"))
    if params.get("augment_contrast"):
        layers.append(
            keras.layers.RandomContrast(
                params["contrast_factor"], value_range=STANDARD_RANGE, name="contrast"
            )
        )
    return layers

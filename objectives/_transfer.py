"""A user's base model: loaded safely, checked against the data, frozen, then fine-tuned.

The base is every layer of the user's model up to its last hidden one (the output layer is
dropped); the search puts a new dense head on it. Nothing is downloaded: the base is the
user's own `.keras` file, loaded with `safe_mode=True`, so no code from it runs.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import keras

from objectives._optimizers import make_optimizer
from spaces import BaseModel, ConfigError, Problem, first_line

BASE_NAME = "base"


def load_base(path: str) -> BaseModel:
    """Describe the base model at `path`: its input shape and how many layers it keeps.

    Raises:
        ConfigError: The file is missing, is not a Keras model, or has no hidden layer.
    """
    file = Path(path)
    if not file.is_file():
        raise ConfigError(
            f"base model '{path}' does not exist; give a .keras file saved with model.save()."
        )
    base = base_layers(str(file.resolve()))
    shape = tuple(int(d) for d in base.input_shape[1:])
    return BaseModel(str(file.resolve()), shape, len(_layers(base)))


def check_fits(base: BaseModel, problem: Problem) -> None:
    """Refuse a base whose input shape is not the data's, as the family feeds it.

    Raises:
        ConfigError: The shapes differ.
    """
    data = problem.image_shape if len(base.input_shape) == 3 else problem.sequence_shape
    if data != base.input_shape:
        raise ConfigError(
            f"base model '{base.path}' takes inputs of shape {base.input_shape}, but the data "
            f"gives {data or 'rows'}; use a base trained on inputs of the data's shape."
        )


def base_layers(path: str) -> keras.Model:
    """The user's model up to its last hidden layer, frozen, as one layer named `base`."""
    try:
        model = keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:  # Keras raises many types for foreign or corrupt files
        raise ConfigError(
            f"cannot load base model '{path}': {first_line(exc)}. Give a .keras file saved "
            "with model.save()."
        ) from exc
    hidden = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    if len(hidden) < 2 or len(model.inputs) != 1:
        raise ConfigError(
            f"base model '{path}' needs one input and at least one hidden layer before its "
            "output layer; give a model such as Input -> Conv2D -> ... -> Dense."
        )
    base = keras.Model(model.inputs, hidden[-2].output, name=BASE_NAME)
    base.trainable = False
    return base


def fine_tune(model: keras.Model, params: dict[str, Any]) -> None:
    """Unfreeze the base's top `unfreeze` layers and recompile with the fine-tuning rate.

    Recompiling keeps the loss and its weight, and starts a fresh optimizer: its state was
    for the head alone.
    """
    base = model.get_layer(BASE_NAME)
    base.trainable = True
    layers = _layers(base)
    for layer in layers[: len(layers) - params["unfreeze"]]:
        layer.trainable = False
    config = model.get_compile_config()
    optimizer = make_optimizer(params["optimizer"], params["fine_tune_learning_rate"])
    config["optimizer"] = keras.optimizers.serialize(optimizer)
    model.compile_from_config(config)


def phases(params: dict[str, Any]) -> list[tuple[int, int, bool]]:
    """The fits of a training: (first epoch, end epoch, fine-tune?) each.

    With layers to unfreeze, the head trains alone for the first half of the epochs (a new
    head's large gradients would wreck the base's weights), then the unfrozen layers join.
    """
    epochs = params["epochs"]
    head = math.ceil(epochs / 2)
    if not params.get("unfreeze") or head >= epochs:
        return [(0, epochs, False)]
    return [(0, head, False), (head, epochs, True)]


def _layers(base: keras.Model) -> list[keras.layers.Layer]:
    return [layer for layer in base.layers if not isinstance(layer, keras.layers.InputLayer)]

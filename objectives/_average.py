"""One Keras model whose output is the mean of several trained models' outputs.

A refit is several draws of one configuration (search/run/_refit.py); averaging them cancels
part of the luck of any one draw (bench/ensemble.md). The result is a plain functional model
of built-in layers, so it saves, loads in safe mode and exports like any other.
"""

from __future__ import annotations

import keras


def average_models(models: list[keras.Model], name: str = "average") -> keras.Model:
    """A model computing the mean output of `models`, which share their input and output
    shapes (probabilities for classification, predictions for regression); one model is
    returned as it is."""
    if not models:
        raise ValueError("average_models needs at least one model")
    if len(models) == 1:
        return models[0]
    inputs = keras.Input(shape=models[0].input_shape[1:], name="features")
    outputs = [_draw(model, k)(inputs) for k, model in enumerate(models)]
    return keras.Model(inputs, keras.layers.Average(name="mean")(outputs), name=name)


def _draw(model: keras.Model, k: int) -> keras.Model:
    # An uncompiled copy: each draw's optimizer state is of no use to a trained model, and a
    # nested one makes loading warn about optimizer variables it skips.
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    copy.name = f"draw_{k}"  # nested models must have distinct names
    return copy

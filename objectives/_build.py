"""Keras model building from a parameter dict; no training happens here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras

from objectives._augment import augment_layers
from objectives._metrics import Metric
from objectives._optimizers import OPTIMIZERS, make_optimizer
from objectives._recurrent import recurrent_layers
from objectives._transfer import base_layers
from spaces import TASK_TABLE, ConfigError, Problem, check_choice

__all__ = ["BUILDERS", "OPTIMIZERS", "build_model", "loss_weight", "make_optimizer"]


def build_dense(params: dict[str, Any], problem: Problem) -> keras.Sequential:
    """An MLP whose output layer follows the lecture's task table."""
    return keras.Sequential([keras.Input(shape=(problem.n_inputs,)), *_head(params, problem)])


def build_cnn(params: dict[str, Any], problem: Problem) -> keras.Sequential:
    """Convolution blocks (or the base model) over the image the flat inputs hold, after the
    augmentation, then the dense family's head.

    The model takes the same flat rows as the dense family (and so the same preprocessing,
    exports and predictions); its first layer folds each row back into its image.
    """
    if problem.image_shape is None:
        raise ConfigError("the cnn family needs images; use the dense family.")
    layers = [*_folded(problem, problem.image_shape, "image"), *augment_layers(params)]
    if problem.base is not None:
        layers.append(base_layers(problem.base.path))
    else:
        layers += _conv_blocks(params)
    return keras.Sequential(
        [*layers, keras.layers.Flatten(name="flatten"), *_head(params, problem)]
    )


def build_rnn(params: dict[str, Any], problem: Problem) -> keras.Sequential:
    """Recurrent layers (or the base model) over the sequence the flat inputs hold, then the
    dense family's head."""
    if problem.sequence_shape is None:
        raise ConfigError("the rnn family needs sequences; use the dense family.")
    layers = _folded(problem, problem.sequence_shape, "sequence")
    if problem.base is not None:
        layers += [base_layers(problem.base.path), keras.layers.Flatten(name="flatten")]
    else:
        layers += recurrent_layers(params)
    return keras.Sequential([*layers, *_head(params, problem)])


def _folded(problem: Problem, shape: tuple[int, ...], name: str) -> list[keras.layers.Layer]:
    """The flat row in, folded back into its image or sequence."""
    return [keras.Input(shape=(problem.n_inputs,)), keras.layers.Reshape(shape, name=name)]


def _conv_blocks(params: dict[str, Any]) -> list[keras.layers.Layer]:
    layers: list[keras.layers.Layer] = []
    for i in range(params["conv_layers"]):
        layers += [
            keras.layers.Conv2D(
                params[f"filters_{i}"],
                params["kernel_size"],
                padding="same",
                activation=params["activation"],
                kernel_initializer=params["initializer"],
                name=f"conv_{i}",
            ),
            keras.layers.MaxPooling2D(2, padding="same", name=f"pool_{i}"),
        ]
    return layers


def _head(params: dict[str, Any], problem: Problem) -> list[keras.layers.Layer]:
    """The hidden Dense layers (none for a perceptron), the output layer the task table
    prescribes, and for a standardised regression target the fixed layer back to its units."""
    layers: list[keras.layers.Layer] = []
    for i in range(params["n_layers"]):
        layers.append(
            keras.layers.Dense(
                params[f"units_{i}"],
                activation=params["activation"],
                kernel_initializer=params["initializer"],
                name=f"hidden_{i}",
            )
        )
        if params.get("dropout", 0.0) > 0:
            layers.append(keras.layers.Dropout(params["dropout"], name=f"dropout_{i}"))
    output = TASK_TABLE[problem.task].output_activation
    layers.append(
        keras.layers.Dense(
            problem.n_outputs,
            activation=output,
            kernel_initializer=params["initializer"],
            name="output",
        )
    )
    if _standardises(problem):
        # The network predicts a standardised target; this fixed layer (no weights) maps
        # it back, so the model, its exports and every metric are in the target's units.
        layers.append(
            keras.layers.Rescaling(
                problem.target_scale, offset=problem.target_center, name="target_units"
            )
        )
    return layers


def _standardises(problem: Problem) -> bool:
    identity = problem.target_center == 0.0 and problem.target_scale == 1.0
    return problem.task == "regression" and not identity


# How each regression loss grows with the target's scale s: errors are s times larger in
# the target's units, so MSE is s**2 times larger, MAPE not at all, and the rest about s
# times (Huber and log-cosh are linear for errors of more than about one unit).
LOSS_POWER_OF_SCALE = {"mse": 2.0, "mape": 0.0}


def loss_weight(loss: str, problem: Problem) -> float:
    """The weight that makes a regression loss in target units train like one on standardised
    values: same gradients, whatever the scale (plain SGD would otherwise diverge on large
    targets)."""
    if not _standardises(problem):
        return 1.0
    return float(problem.target_scale ** -LOSS_POWER_OF_SCALE.get(loss, 1.0))


BUILDERS: dict[str, Callable[[dict[str, Any], Problem], keras.Model]] = {
    "dense": build_dense,
    "cnn": build_cnn,
    "rnn": build_rnn,
}


def build_model(
    params: dict[str, Any], problem: Problem, metric: Metric | None = None, family: str = "dense"
) -> keras.Model:
    """Build and compile the model that `params` describe.

    Args:
        params: A space's output (see spaces.dense_space).
        problem: Input and output widths and the task.
        metric: Compiled in so that Keras's own validation reports `val_<metric>`. Trials
            leave it out: their validation is exact and eager (see train_model), and a
            compiled metric would only add variables to build and work to every batch.
        family: Which builder to use; the keys of BUILDERS.
    """
    check_choice("model family", family, BUILDERS)
    model = BUILDERS[family](params, problem)
    model.compile(
        optimizer=make_optimizer(params["optimizer"], params["learning_rate"]),
        loss=params["loss"],
        loss_weights=loss_weight(params["loss"], problem),
        metrics=None if metric is None else [metric.keras(problem.task)],
    )
    return model

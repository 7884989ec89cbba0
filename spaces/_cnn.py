"""The cnn family: convolution blocks over an image's pixels, then the dense family's head.

Each block is a Conv2D (same padding) and a 2x2 max-pooling; the head, the training
settings and the loss are sampled exactly as in the dense family, so the two share their
parameter names and the lecture's output rules.
"""

from __future__ import annotations

import math
from typing import Any

import optuna

from spaces._config import SpaceConfig
from spaces._dense import dense_baseline, dense_space
from spaces._errors import ConfigError
from spaces._problem import Problem

# The textbook block widths: 32 filters, doubling with each block.
BASELINE_FILTERS = 32


def cnn_space(
    trial: optuna.trial.BaseTrial, problem: Problem, config: SpaceConfig
) -> dict[str, Any]:
    """Sample one CNN: conv_layers, filters_{i} (sampled as log2_filters_{i}) and
    kernel_size, then the dense head and training settings of `dense_space`.

    Raises:
        ConfigError: The inputs are not images.
    """
    _check_images(problem)
    low, high = _log2_filter_bounds(config)
    conv_layers = trial.suggest_int("conv_layers", *config.conv_layers)
    params: dict[str, Any] = {"conv_layers": conv_layers}
    for i in range(conv_layers):
        params[f"filters_{i}"] = 2 ** trial.suggest_int(f"log2_filters_{i}", low, high)
    params["kernel_size"] = trial.suggest_categorical("kernel_size", config.kernel_sizes)
    return {**params, **dense_space(trial, problem, config)}


def cnn_baseline(problem: Problem, config: SpaceConfig) -> dict[str, Any]:
    """The textbook CNN as Optuna parameters: two 3x3 blocks of 32 and 64 filters, then
    the dense baseline's head and training; values the config excludes are clamped into it."""
    _check_images(problem)
    low, high = _log2_filter_bounds(config)
    conv_layers = min(max(2, config.conv_layers[0]), config.conv_layers[1])
    first = int(math.log2(BASELINE_FILTERS))
    return {
        "conv_layers": conv_layers,
        **{f"log2_filters_{i}": min(max(first + i, low), high) for i in range(conv_layers)},
        "kernel_size": 3 if 3 in config.kernel_sizes else config.kernel_sizes[0],
        **dense_baseline(problem, config),
    }


def _check_images(problem: Problem) -> None:
    if problem.image_shape is None:
        raise ConfigError(
            "the cnn space needs images: give a folder of images (one subfolder per class) "
            "or an .npz file whose x holds images, or use --space dense."
        )


def _log2_filter_bounds(config: SpaceConfig) -> tuple[int, int]:
    low, high = config.filters
    return int(math.log2(low)), int(math.log2(high))

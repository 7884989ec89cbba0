"""The cnn family: convolution blocks over an image's pixels, then the dense family's head.

Each block is a Conv2D (same padding) and a 2x2 max-pooling; with a base model the base
takes the blocks' place. Augmentation comes first, then the head and the training settings
are sampled exactly as in the dense family, so the families share their parameter names
and the lecture's output rules.
"""

from __future__ import annotations

import math
from typing import Any

import optuna

from spaces._augment import augment_baseline, augment_space
from spaces._config import SpaceConfig
from spaces._dense import (
    clamp,
    head_baseline,
    head_space,
    prefer,
    training_baseline,
    training_space,
)
from spaces._errors import ConfigError
from spaces._problem import Problem
from spaces._transfer import transfer_baseline, transfer_space

# The textbook block widths: 32 filters, doubling with each block.
BASELINE_FILTERS = 32


def cnn_space(
    trial: optuna.trial.BaseTrial, problem: Problem, config: SpaceConfig
) -> dict[str, Any]:
    """Sample one CNN: conv_layers, filters_{i} (sampled as log2_filters_{i}), kernel_size
    and the activation (or, with a base model, what of it to fine-tune), the augmentation,
    then the dense head and training settings.

    Raises:
        ConfigError: The inputs are not images.
    """
    _check_images(problem)
    if problem.base is not None:
        params = transfer_space(trial, problem.base, config.transfer)
    else:
        params = _blocks(trial, config)
    params.update(augment_space(trial, config.augment))
    params.update(head_space(trial, problem, config, has_activation="activation" in params))
    return {**params, **training_space(trial, problem, config)}


def cnn_baseline(problem: Problem, config: SpaceConfig) -> dict[str, Any]:
    """The textbook CNN as Optuna parameters: two 3x3 blocks of 32 and 64 filters (or the
    frozen base), no augmentation, then the dense baseline's head and training; values the
    config excludes are clamped into it."""
    _check_images(problem)
    if problem.base is not None:
        params = transfer_baseline(problem.base, config.transfer)
    else:
        low, high = _log2_filter_bounds(config)
        conv_layers = clamp(2, config.cnn.conv_layers)
        first = int(math.log2(BASELINE_FILTERS))
        params = {
            "conv_layers": conv_layers,
            **{f"log2_filters_{i}": min(max(first + i, low), high) for i in range(conv_layers)},
            "kernel_size": prefer(3, config.cnn.kernel_sizes),
            "activation": prefer("relu", config.activations),
        }
    params.update(augment_baseline(config.augment))
    params.update(head_baseline(problem, config, has_activation="activation" in params))
    return {**params, **training_baseline(problem, config)}


def _blocks(trial: optuna.trial.BaseTrial, config: SpaceConfig) -> dict[str, Any]:
    low, high = _log2_filter_bounds(config)
    conv_layers = trial.suggest_int("conv_layers", *config.cnn.conv_layers)
    params: dict[str, Any] = {"conv_layers": conv_layers}
    for i in range(conv_layers):
        params[f"filters_{i}"] = 2 ** trial.suggest_int(f"log2_filters_{i}", low, high)
    params["kernel_size"] = trial.suggest_categorical("kernel_size", config.cnn.kernel_sizes)
    # The convolutions use it, so it is sampled even for a head without hidden layers.
    params["activation"] = trial.suggest_categorical("activation", config.activations)
    return params


def _check_images(problem: Problem) -> None:
    if problem.image_shape is None:
        raise ConfigError(
            "the cnn space needs images: give a folder of images (one subfolder per class) "
            "or an .npz file whose x holds images, or use --space dense."
        )


def _log2_filter_bounds(config: SpaceConfig) -> tuple[int, int]:
    low, high = config.cnn.filters
    return int(math.log2(low)), int(math.log2(high))

"""The dense (MLP) family, and the head and training choices every family shares.

A trial samples only what its model uses: without hidden layers (a perceptron: the output
layer straight on the inputs) there are no widths, no dropout and no hidden activation.
"""

from __future__ import annotations

import math
from typing import Any

import optuna

from spaces._config import DEFAULT_EPOCHS, SpaceConfig
from spaces._errors import ConfigError
from spaces._problem import Problem
from spaces._rules import TASK_TABLE, units_range, valid_losses


def dense_space(
    trial: optuna.trial.BaseTrial, problem: Problem, config: SpaceConfig
) -> dict[str, Any]:
    """Sample one MLP configuration: the head, then the training choices.

    Widths are sampled as exponents (`log2_units_{i}`) because Optuna cannot combine a log
    scale with a step; the real width is returned as `units_{i}`.

    Returns:
        A dict with n_layers, units_{i}, activation and dropout (with hidden layers only),
        initializer, optimizer, learning_rate, batch_size, epochs and loss.
    """
    return {**head_space(trial, problem, config), **training_space(trial, problem, config)}


def dense_baseline(problem: Problem, config: SpaceConfig) -> dict[str, Any]:
    """The textbook configuration as Optuna parameters, for `study.enqueue_trial`.

    Two layers of n0 neurons, relu, glorot_uniform, adam at 1e-3 and the task's canonical
    loss. Values the config excludes are clamped into it, so the baseline is always a point
    of the searched space.
    """
    return {**head_baseline(problem, config), **training_baseline(problem, config)}


def head_space(
    trial: optuna.trial.BaseTrial,
    problem: Problem,
    config: SpaceConfig,
    *,
    has_activation: bool = False,
) -> dict[str, Any]:
    """The hidden Dense layers before the output layer: n_layers (0 is allowed), widths,
    and, with hidden layers, the dropout and (unless the family sampled it) the activation."""
    low, high = _log2_units_bounds(problem, config)
    n_layers = trial.suggest_int("n_layers", *config.n_layers)
    params: dict[str, Any] = {"n_layers": n_layers}
    for i in range(n_layers):
        params[f"units_{i}"] = 2 ** trial.suggest_int(f"log2_units_{i}", low, high)
    if n_layers:
        if not has_activation:
            params["activation"] = trial.suggest_categorical("activation", config.activations)
        params["dropout"] = trial.suggest_float("dropout", *config.dropout)
    return params


def training_space(
    trial: optuna.trial.BaseTrial,
    problem: Problem,
    config: SpaceConfig,
    epochs: tuple[int, int] = DEFAULT_EPOCHS,
) -> dict[str, Any]:
    """The choices every model trains with: initializer, optimizer, learning rate, batch
    size, epochs (the family's `epochs` unless the config sets them) and a task's loss."""
    return {
        "initializer": trial.suggest_categorical("initializer", config.initializers),
        "optimizer": trial.suggest_categorical("optimizer", config.optimizers),
        "learning_rate": trial.suggest_float("learning_rate", *config.learning_rate, log=True),
        "batch_size": trial.suggest_categorical("batch_size", config.batch_sizes),
        "epochs": trial.suggest_int("epochs", *config.epoch_range(epochs)),
        "loss": trial.suggest_categorical("loss", task_losses(problem, config)),
    }


def head_baseline(
    problem: Problem, config: SpaceConfig, *, has_activation: bool = False
) -> dict[str, Any]:
    """The textbook head as Optuna parameters: two layers of n0 (clamped into the config)."""
    low, high = _log2_units_bounds(problem, config)
    log2_n0 = min(max(int(math.log2(problem.n0)), low), high)
    n_layers = clamp(2, config.n_layers)
    # Only the layers that exist: a width for a missing layer is no point of the space.
    params: dict[str, Any] = {"n_layers": n_layers}
    params.update({f"log2_units_{i}": log2_n0 for i in range(n_layers)})
    if n_layers:
        if not has_activation:
            params["activation"] = prefer("relu", config.activations)
        params["dropout"] = config.dropout[0]
    return params


def training_baseline(
    problem: Problem, config: SpaceConfig, epochs: tuple[int, int] = DEFAULT_EPOCHS
) -> dict[str, Any]:
    """The textbook training: glorot_uniform, adam at 1e-3, batches of 32, the most epochs
    and the task's canonical loss."""
    canonical = TASK_TABLE[problem.task].loss
    return {
        "initializer": prefer("glorot_uniform", config.initializers),
        "optimizer": prefer("adam", config.optimizers),
        "learning_rate": min(max(1e-3, config.learning_rate[0]), config.learning_rate[1]),
        "batch_size": prefer(32, config.batch_sizes),
        "epochs": config.epoch_range(epochs)[1],
        "loss": prefer(canonical, task_losses(problem, config)),
    }


def task_losses(problem: Problem, config: SpaceConfig) -> tuple[str, ...]:
    """The configured losses that are valid for the problem's task, canonical loss first."""
    valid = valid_losses(problem.task, problem.min_abs_target)
    if config.losses is None:
        return valid
    chosen = tuple(loss for loss in valid if loss in config.losses)
    if not chosen:
        raise ConfigError(
            f"none of the configured losses {list(config.losses)} is valid for task "
            f"'{problem.task}'. Use some of: {', '.join(valid)}."
        )
    return chosen


def clamp(value: int, bounds: tuple[int, int]) -> int:
    """`value` moved into [low, high]."""
    return min(max(value, bounds[0]), bounds[1])


def prefer(value: Any, choices: tuple[Any, ...]) -> Any:
    """`value` if the choices hold it, else the first choice."""
    return value if value in choices else choices[0]


def _log2_units_bounds(problem: Problem, config: SpaceConfig) -> tuple[int, int]:
    low, high = config.units or units_range(problem.n0)
    return int(math.log2(low)), int(math.log2(high))

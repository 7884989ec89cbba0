"""The dense (MLP) family: a trial and a problem in, a plain dict of parameters out."""

from __future__ import annotations

import math
from typing import Any

import optuna

from spaces._config import SpaceConfig
from spaces._errors import ConfigError
from spaces._problem import Problem
from spaces._rules import TASK_TABLE, units_range, valid_losses


def dense_space(
    trial: optuna.trial.BaseTrial, problem: Problem, config: SpaceConfig
) -> dict[str, Any]:
    """Sample one MLP configuration.

    Widths are sampled as exponents (`log2_units_{i}`) because Optuna cannot combine a log
    scale with a step; the real width is returned as `units_{i}`.

    Returns:
        A dict with n_layers, units_{i}, initializer, activation, dropout, optimizer,
        learning_rate, batch_size, epochs and loss.
    """
    low, high = _log2_units_bounds(problem, config)
    n_layers = trial.suggest_int("n_layers", *config.n_layers)
    params: dict[str, Any] = {"n_layers": n_layers}
    for i in range(n_layers):
        params[f"units_{i}"] = 2 ** trial.suggest_int(f"log2_units_{i}", low, high)
    params["initializer"] = trial.suggest_categorical("initializer", config.initializers)
    params["activation"] = trial.suggest_categorical("activation", config.activations)
    params["dropout"] = trial.suggest_float("dropout", *config.dropout)
    params["optimizer"] = trial.suggest_categorical("optimizer", config.optimizers)
    params["learning_rate"] = trial.suggest_float("learning_rate", *config.learning_rate, log=True)
    params["batch_size"] = trial.suggest_categorical("batch_size", config.batch_sizes)
    params["epochs"] = trial.suggest_int("epochs", *config.epochs)
    params["loss"] = trial.suggest_categorical("loss", task_losses(problem, config))
    return params


def dense_baseline(problem: Problem, config: SpaceConfig) -> dict[str, Any]:
    """The textbook configuration as Optuna parameters, for `study.enqueue_trial`.

    Two layers of n0 neurons, relu, glorot_uniform, adam at 1e-3 and the task's canonical
    loss. Values the config excludes are clamped into it, so the baseline is always a point
    of the searched space.
    """
    low, high = _log2_units_bounds(problem, config)
    log2_n0 = min(max(int(math.log2(problem.n0)), low), high)
    losses = task_losses(problem, config)
    canonical = TASK_TABLE[problem.task].loss
    n_layers = min(max(2, config.n_layers[0]), config.n_layers[1])
    return {
        "n_layers": n_layers,
        # Only the layers that exist: a width for a missing layer is no point of the space.
        **{f"log2_units_{i}": log2_n0 for i in range(n_layers)},
        "initializer": _prefer("glorot_uniform", config.initializers),
        "activation": _prefer("relu", config.activations),
        "dropout": config.dropout[0],
        "optimizer": _prefer("adam", config.optimizers),
        "learning_rate": min(max(1e-3, config.learning_rate[0]), config.learning_rate[1]),
        "batch_size": _prefer(32, config.batch_sizes),
        "epochs": config.epochs[1],
        "loss": _prefer(canonical, losses),
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


def _log2_units_bounds(problem: Problem, config: SpaceConfig) -> tuple[int, int]:
    low, high = config.units or units_range(problem.n0)
    return int(math.log2(low)), int(math.log2(high))


def _prefer(value: Any, choices: tuple[Any, ...]) -> Any:
    return value if value in choices else choices[0]
